#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/demo.sh BUILD_DIR: `make demo`. Shows hmacd at work, end to end, on this machine: a private
# system bus, the daemon running as its own unprivileged user, and the CLI creating a key, computing
# a MAC, verifying it, and refusing a tampered message. Must run as root; the host is not changed
# (private mount namespace, temporary users and files, every process stopped by PID at the end).

set -u

HMACD_PROG=demo
src=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$src/tests/lib.sh"

# tests/demo.sh --steps BUILD_DIR is the second half, run by tests/tools/hmacd-harness while the bus and
# the daemon it started are up.
steps=
if [ "${1:-}" = --steps ]; then
        steps=1
        shift
fi
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
hmacd_require_root "$0" "$@"
hmacd_enter_namespace "$0" "$@"

build=$(readlink -f "$1")
for f in hmacd hmacctl; do
        [ -x "$build/$f" ] || hmacd_die "$build/$f is missing; run make first"
done
hmacctl=$build/hmacctl
hmacd_use_build_library "$build"
unexpected=0

if [ -z "$steps" ]; then
        trap hmacd_cleanup EXIT
fi
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -t 1 ]; then
        bold=$'\033[1m' green=$'\033[32m' red=$'\033[31m' plain=$'\033[0m'
else
        bold='' green='' red='' plain=''
fi

step() {
        printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"
}

explain() {
        printf '    %s\n' "$@"
}

# show CMD...: prints the command line, runs it, prints its output indented; sets rc, out, err.
show() {
        local q
        printf '    $'
        for q in "$@"; do
                case "$q" in
                *[!A-Za-z0-9,._/:=@%+-]* | '') printf " '%s'" "${q//\'/\'\\\'\'}" ;;
                *) printf ' %s' "$q" ;;
                esac
        done
        printf '\n'
        out=$("$@" 2>"$TMPDIR/demo-stderr")
        rc=$?
        err=$(cat "$TMPDIR/demo-stderr")
        [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    | /'
        [ -z "$err" ] || printf '%s\n' "$err" | sed 's/^/    ! /'
        printf '    (exit code %s)\n' "$rc"
}

ok() {
        printf '    %sOK:%s %s\n' "$green" "$plain" "$*"
}

unexpected() {
        printf '    %sUNEXPECTED:%s %s\n' "$red" "$plain" "$*"
        unexpected=$((unexpected + 1))
}

# json_string NAME: the first "NAME": "value" in $out (no jq needed).
json_string() {
        printf '%s\n' "$out" | grep -o "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" | head -n 1 |
                sed 's/.*"\([^"]*\)"$/\1/'
}

if [ -z "$steps" ]; then
        step "Preparing a private world"
        explain "A private mount namespace with temporary copies of /etc/passwd and /etc/group that add the" \
                "system user '$HMACD_DAEMON_USER' for the daemon; polkit's folders get the project's policy." \
                "Nothing on the host changes."
        hmacd_make_scratch
        hmacd_setup_users
        hmacd_setup_polkit "$src"
        explain "user: $(getent passwd "$HMACD_DAEMON_USER")"

        step "Starting a private system bus and the daemon as user '$HMACD_DAEMON_USER'"
        explain "tests/tools/hmacd-harness starts them as the tests do (tests/harness.c): dbus-daemon with a" \
                "config of type 'system' (tests/bus.conf.in) that includes the project's bus policy" \
                "dbus/io.hmacd.Kms1.conf (only user '$HMACD_DAEMON_USER' may own io.hmacd.Kms1), then" \
                "$build/hmacd --state-dir=... --log-target=stderr as '$HMACD_DAEMON_USER'; it is ready when it" \
                "owns io.hmacd.Kms1. The rest of the demo runs meanwhile; then both are stopped by PID."
        HMACD_BUILD_DIR=$build HMACD_SOURCE_DIR=$src "$build/tests/tools/hmacd-harness" run -- "$0" --steps "$build"
        status=$?

        step "Shut down"
        if [ "$status" = 0 ]; then
                printf '\nDemo finished: every step behaved as expected.\n'
        else
                printf '\nDemo finished: something did not behave as expected (status %s).\n' "$status"
                exit 1
        fi
        exit 0
fi

# ---- the second half: the bus and the daemon are up (tests/tools/hmacd-harness) ----

show ps -o user,pid,args -p "$HMACD_DAEMON_PID"
explain "bus PID $HMACD_BUS_PID, DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS"

step "Creating an HMAC_256 key"
explain "Run as root, which hmacd allows everything without asking polkit (API.md, section 7)."
show "$hmacctl" create-key --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC --description "demo key"
key_id=$(json_string KeyId)
if [ "$rc" = 0 ] && [ -n "$key_id" ]; then
        ok "key $key_id"
else
        unexpected "create-key failed; the demo cannot go on"
        exit 1
fi

message=$(printf '%s' "Transfer 100 EUR to Alice" | base64)
step "Computing a MAC over a message"
explain "As in AWS CLI v2, --message is base64: here of \"Transfer 100 EUR to Alice\"."
show "$hmacctl" generate-mac --key-id "$key_id" --message "$message" --mac-algorithm HMAC_SHA_256
mac=$(json_string Mac)
if [ "$rc" = 0 ] && [ -n "$mac" ]; then
        ok "the MAC (base64) is $mac"
else
        unexpected "generate-mac failed; the demo cannot go on"
        exit 1
fi

step "Verifying the MAC"
show "$hmacctl" verify-mac --key-id "$key_id" --message "$message" --mac-algorithm HMAC_SHA_256 --mac "$mac"
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q '"MacValid"[[:space:]]*:[[:space:]]*true'; then
        ok "MacValid is true"
else
        unexpected "verify-mac did not report MacValid true"
fi

step "Describing the key directly over D-Bus"
explain "The same service without the CLI: busctl calls DescribeKey, which returns the metadata as a{sv}."
show busctl --system call io.hmacd.Kms1 /io/hmacd/Kms1 io.hmacd.Kms1 DescribeKey s "$key_id"
if [ "$rc" = 0 ]; then
        ok "DescribeKey answered"
else
        unexpected "DescribeKey failed"
fi

step "The idiom of AWS's documentation: only the MAC, with --query and --output text"
explain "--query is JMESPath; the text output of a string is the string alone."
show "$hmacctl" generate-mac --key-id "$key_id" --message "$message" --mac-algorithm HMAC_SHA_256 \
        --query Mac --output text
if [ "$rc" = 0 ] && [ "$out" = "$mac" ]; then
        ok "the same MAC, alone on its line"
else
        unexpected "expected the MAC alone"
fi

step "Verifying a tampered message"
explain "Same MAC, one word changed: the service must refuse it with KMSInvalidMacException, which" \
        "the CLI reports with exit code 254 (the service returned an error). That is the expected outcome."
show "$hmacctl" verify-mac --key-id "$key_id" --message "$(printf '%s' "Transfer 900 EUR to Alice" | base64)" \
        --mac-algorithm HMAC_SHA_256 --mac "$mac"
if [ "$rc" = 254 ] && printf '%s\n' "$err" | grep -q KMSInvalidMacException; then
        ok "refused with KMSInvalidMacException, exit code 254, as it should be"
else
        unexpected "expected exit code 254 and KMSInvalidMacException"
fi

step "The daemon's confinement"
explain "It runs as its own unprivileged user and is not dumpable. Seccomp 2 means its seccomp" \
        "allowlist is installed, NoNewPrivs 1 that it cannot gain privileges."
show grep -E '^(Uid|NoNewPrivs|Seccomp|Seccomp_filters):' "/proc/$HMACD_DAEMON_PID/status"
if printf '%s\n' "$out" | grep -qx 'Seccomp:[[:space:]]*2' &&
        printf '%s\n' "$out" | grep -qx 'NoNewPrivs:[[:space:]]*1'; then
        ok "confined by a seccomp filter, with no_new_privs"
else
        unexpected "the daemon should run with its seccomp filter (Seccomp 2) and NoNewPrivs 1"
fi

step "The daemon's log"
explain "Its audit trail on standard error (the journal, where there is one): operation, key, caller," \
        "result; never the message or key material."
sed 's/^/    | /' "$HMACD_DAEMON_LOG"

step "Shutting down"
explain "hmacd-harness now sends SIGTERM to the daemon (PID $HMACD_DAEMON_PID), which must exit with" \
        "status 0, and stops the bus (PID $HMACD_BUS_PID)."
[ "$unexpected" = 0 ] || exit 1
exit 0
