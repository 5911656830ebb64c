# SPDX-License-Identifier: LGPL-2.1-or-later
# Shell helpers shared by tests/run-tests and tests/demo.sh (bash; sourced, not run).
#
# Both scripts need the same private world: a mount namespace of their own, in which temporary
# copies of /etc/passwd, /etc/group (and the shadow files) carrying the users "hmacd" and
# "hmacdtest" are bind-mounted over the real ones, and temporary copies of polkit's action and rule
# folders carrying the project's dbus/*.policy and dbus/*.rules over polkit's. The host's files are
# never changed; the copies vanish with the namespace and the scratch directory.
#
# Conventions: functions are prefixed hmacd_; state goes into HMACD_* variables; every process
# started here is recorded by PID and stopped by PID in hmacd_cleanup (never by name).

HMACD_DAEMON_USER=hmacd
HMACD_TEST_USER=hmacdtest
HMACD_BUS_NAME=io.hmacd.Kms1

HMACD_SCRATCH=
HMACD_MOUNTS=()         # mount points to undo, in order
HMACD_PIDS=()           # "pid:name" of everything started, in order

hmacd_log() {
        printf '%s: %s\n' "${HMACD_PROG:-hmacd}" "$*" >&2
}

hmacd_die() {
        hmacd_log "$*"
        exit 1
}

hmacd_require_root() {
        if [ "$(id -u)" != 0 ]; then
                hmacd_die "must be run as root: it uses a private mount namespace, adds the users" \
                        "'$HMACD_DAEMON_USER' and '$HMACD_TEST_USER' there and starts the daemon as" \
                        "'$HMACD_DAEMON_USER' (the host is not changed). Try: sudo $*"
        fi
}

# hmacd_enter_namespace SCRIPT ARGS...: re-executes SCRIPT in a private mount namespace unless this
# process already runs in one made for it. Returns only inside the namespace.
hmacd_enter_namespace() {
        local script here
        script=$(readlink -f "$1")
        shift
        here=$(readlink /proc/self/ns/mnt)
        if [ -n "${HMACD_OUTER_MNT_NS:-}" ] && [ "$HMACD_OUTER_MNT_NS" != "$here" ]; then
                return 0
        fi
        command -v unshare >/dev/null || hmacd_die "unshare (util-linux) is needed"
        # shellcheck disable=SC2093 # the next line runs only if exec fails
        HMACD_OUTER_MNT_NS=$here exec unshare --mount --propagation private -- "$script" "$@"
        hmacd_die "cannot enter a private mount namespace (unshare -m failed)"
}

# hmacd_use_build_library BUILD_DIR: lets the programs of the build directory find the libhmacd
# built beside them. hmacctl carries no RUNPATH (`make install` copies it as built, and an installed
# program must not look for libraries next to itself), so from the build tree it needs this.
hmacd_use_build_library() {
        export LD_LIBRARY_PATH="$1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

# hmacd_make_scratch: a scratch directory (0711: other users reach what is below it, but cannot list
# it) with a world-writable tmp/ inside, exported as TMPDIR; removed by hmacd_cleanup.
hmacd_make_scratch() {
        HMACD_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/hmacd-run.XXXXXX") || hmacd_die "mktemp failed"
        chmod 0711 "$HMACD_SCRATCH"
        mkdir -m 1777 "$HMACD_SCRATCH/tmp"
        chmod 1777 "$HMACD_SCRATCH/tmp"
        export TMPDIR=$HMACD_SCRATCH/tmp
}

# hmacd_track PID NAME: remember a process for hmacd_cleanup.
hmacd_track() {
        HMACD_PIDS+=("$1:$2")
}

# hmacd_untrack PID: forget a process stopped by other means.
hmacd_untrack() {
        local i
        for i in "${!HMACD_PIDS[@]}"; do
                [ "${HMACD_PIDS[i]%%:*}" = "$1" ] && unset "HMACD_PIDS[i]"
        done
        HMACD_PIDS=("${HMACD_PIDS[@]}")
}

# hmacd_stop_pid PID NAME [SECONDS]: SIGTERM, wait (SIGKILL after SECONDS, default 10); prints the
# exit status if it was not 0. Works for children of this shell and for other processes.
hmacd_stop_pid() {
        local pid=$1 name=$2 secs=${3:-10} i=0 rc=0
        if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null
                rc=$?
                [ "$rc" = 127 ] && rc=0
                return "$rc"
        fi
        kill -TERM "$pid" 2>/dev/null
        while kill -0 "$pid" 2>/dev/null; do
                # A zombie child of ours stays "alive" for kill -0 until reaped.
                if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
                        break
                fi
                if [ "$i" -ge $((secs * 20)) ]; then
                        hmacd_log "$name (PID $pid) did not exit within ${secs}s; killing it"
                        kill -KILL "$pid" 2>/dev/null
                        break
                fi
                sleep 0.05
                i=$((i + 1))
        done
        wait "$pid" 2>/dev/null
        rc=$?
        # Not our child: wait fails with 127 and there is no status to report.
        if [ "$rc" != 0 ] && [ "$rc" != 127 ]; then
                return "$rc"
        fi
        return 0
}

# hmacd_cleanup: stops everything hmacd_track recorded (newest first), undoes the bind mounts and
# removes the scratch directory. Meant for "trap hmacd_cleanup EXIT".
hmacd_cleanup() {
        local i entry
        for ((i = ${#HMACD_PIDS[@]} - 1; i >= 0; i--)); do
                entry=${HMACD_PIDS[i]}
                hmacd_stop_pid "${entry%%:*}" "${entry#*:}" || true
        done
        HMACD_PIDS=()
        for ((i = ${#HMACD_MOUNTS[@]} - 1; i >= 0; i--)); do
                umount "${HMACD_MOUNTS[i]}" 2>/dev/null || true
        done
        HMACD_MOUNTS=()
        if [ -n "$HMACD_SCRATCH" ] && [ -d "$HMACD_SCRATCH" ]; then
                if [ -n "${HMACD_TEST_KEEP:-}" ]; then
                        hmacd_log "keeping $HMACD_SCRATCH"
                else
                        rm -rf --one-file-system "$HMACD_SCRATCH"
                fi
        fi
}

hmacd_bind() {
        mount --bind "$1" "$2" || hmacd_die "cannot bind-mount $1 over $2"
        HMACD_MOUNTS+=("$2")
}

# hmacd_free_id FROM STEP TO: the first number from FROM towards TO that is neither a UID nor a GID.
hmacd_free_id() {
        local id=$1
        while [ "$id" != "$3" ]; do
                if ! getent passwd "$id" >/dev/null && ! getent group "$id" >/dev/null; then
                        echo "$id"
                        return 0
                fi
                id=$((id + $2))
        done
        return 1
}

# hmacd_add_user NAME ID HOME SHELL GECOS: appends a user and its group (same number) to the copies.
hmacd_add_user() {
        local dir=$HMACD_SCRATCH/etc
        printf '%s:x:%s:%s:%s:%s:%s\n' "$1" "$2" "$2" "$5" "$3" "$4" >>"$dir/passwd"
        printf '%s:x:%s:\n' "$1" "$2" >>"$dir/group"
        [ -f "$dir/shadow" ] && printf '%s:!*:%s::::::\n' "$1" "$(($(date +%s) / 86400))" >>"$dir/shadow"
        [ -f "$dir/gshadow" ] && printf '%s:!::\n' "$1" >>"$dir/gshadow"
}

# hmacd_setup_users: copies of the account files with the system user "hmacd" (a free number below
# 1000) and the normal user "hmacdtest" (a free number from 1000 up) where the host lacks them,
# bind-mounted over the originals. Exports HMACD_TEST_HOME, hmacdtest's (temporary) home.
hmacd_setup_users() {
        local dir=$HMACD_SCRATCH/etc f id
        mkdir -p "$dir"
        for f in passwd group shadow gshadow; do
                [ -f "/etc/$f" ] && cp -p "/etc/$f" "$dir/$f"
        done

        if ! getent passwd "$HMACD_DAEMON_USER" >/dev/null; then
                id=$(hmacd_free_id 999 -1 99) || hmacd_die "no free system UID/GID for $HMACD_DAEMON_USER"
                hmacd_add_user "$HMACD_DAEMON_USER" "$id" /nonexistent /usr/sbin/nologin "hmacd key service"
        fi
        HMACD_TEST_HOME=$HMACD_SCRATCH/home/$HMACD_TEST_USER
        if ! getent passwd "$HMACD_TEST_USER" >/dev/null; then
                id=$(hmacd_free_id 1000 1 60000) || hmacd_die "no free UID/GID for $HMACD_TEST_USER"
                hmacd_add_user "$HMACD_TEST_USER" "$id" "$HMACD_TEST_HOME" /bin/sh "hmacd test user"
        fi
        export HMACD_TEST_HOME

        for f in passwd group shadow gshadow; do
                [ -f "$dir/$f" ] && hmacd_bind "$dir/$f" "/etc/$f"
        done
        getent passwd "$HMACD_DAEMON_USER" >/dev/null || hmacd_die "user $HMACD_DAEMON_USER did not appear"
        getent passwd "$HMACD_TEST_USER" >/dev/null || hmacd_die "user $HMACD_TEST_USER did not appear"

        mkdir -p "$HMACD_TEST_HOME"
        chown "$HMACD_TEST_USER:" "$HMACD_TEST_HOME"
        chmod 0700 "$HMACD_TEST_HOME"
}

# hmacd_setup_polkit SRCDIR: temporary copies of polkit's actions and rules folders, with the
# project's dbus/*.policy added to the actions and dbus/*.rules to /usr/share/polkit-1/rules.d,
# bind-mounted over the originals (which must exist: nothing is created on the host).
hmacd_setup_polkit() {
        local src=$1 dir=$HMACD_SCRATCH/polkit f
        mkdir -p "$dir"
        hmacd_copy_over /usr/share/polkit-1/actions "$dir/actions" "$src"/dbus/*.policy
        hmacd_copy_over /etc/polkit-1/rules.d "$dir/etc-rules.d"
        hmacd_copy_over /usr/share/polkit-1/rules.d "$dir/usr-rules.d" "$src"/dbus/*.rules
}

# hmacd_copy_over ORIG COPY [FILES...]: copy ORIG to COPY (keeping owners and modes), add FILES
# (mode 0644), bind COPY over ORIG.
hmacd_copy_over() {
        local orig=$1 copy=$2 f
        shift 2
        if [ ! -d "$orig" ]; then
                hmacd_log "note: $orig does not exist; not replacing it"
                return 0
        fi
        cp -a "$orig" "$copy"
        for f in "$@"; do
                [ -f "$f" ] || continue # an unmatched glob
                install -m 0644 "$f" "$copy/"
        done
        hmacd_bind "$copy" "$orig"
}

