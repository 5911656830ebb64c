/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host integration files, checked with the tools that consume them: the systemd unit
 * (systemd-analyze verify and security, and its system call filter against what the daemon really
 * calls, under strace), sysusers.d, the D-Bus activation file and the introspection XML (against the
 * running daemon), and `make install` into a temporary root: the layout, links and modes, binaries
 * identical to the ones the tests run, a program built against the installed header, library and
 * pkg-config file, ELF files without RUNPATH, XML that parses, man pages that render and a bash
 * completion that matches hmacctl. Nothing outside the per-test temporary directory is changed. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "harness.h"

#define UNIT_NAME "hmacd.service"
#define EXPOSURE_MAX 1.0

/* ---- small helpers ---- */

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

static char *xasprintf(const char *fmt, ...) _printf_(1, 2);
static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        cr_assert_geq(r, 0, "out of memory");
        return s;
}

static char *src_path(const char *rel) {
        const char *src = harness_source_dir();

        cr_assert_not_null(src, "no source directory");
        return xasprintf("%s/%s", src, rel);
}

static char *build_path(const char *rel) {
        const char *b = harness_build_dir();

        cr_assert_not_null(b, "no build directory");
        return xasprintf("%s/%s", b, rel);
}

static char *tmp_path(const char *rel) {
        const char *t = harness_tmp_dir();

        cr_assert_not_null(t, "no temporary directory");
        return xasprintf("%s/%s", t, rel);
}

static char *read_file(const char *path) {
        char *s = NULL;
        int r = harness_read_file(path, &s, NULL);

        cr_assert_geq(r, 0, "cannot read %s: %s", path, strerror(-r));
        return s;
}

static char *read_source(const char *rel) {
        _cleanup_free_ char *path = src_path(rel);
        return read_file(path);
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f, "cannot create %s: %m", path);
        cr_assert_geq(fputs(text, f), 0);
        cr_assert_eq(fclose(f), 0, "cannot write %s: %m", path);
}

/* Runs argv (as the caller) and fails the test, showing its output, unless it exits with status 0. */
static void run_ok(HarnessResult *res, char *const argv[]) {
        int r = harness_run(NULL, NULL, 0, argv, res);

        cr_assert_geq(r, 0, "cannot run %s: %s", argv[0], strerror(-r));
        cr_assert_eq(res->exit_code, 0, "%s %s %s:\n%s%s", argv[0], argv[1] ?: "",
                     harness_describe_status(res->status), res->out, res->err);
}

#define RUN_OK(res, ...) run_ok((res), (char *const[]) { __VA_ARGS__, NULL })

/* Whether a program is in $PATH; the tools used here are all in DEB_PACKAGES (make deps). */
static void require_program(const char *name, const char *package) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *script = xasprintf("command -v %s", name);

        cr_assert_geq(harness_runl(NULL, &res, "sh", "-c", script, NULL), 0);
        cr_assert_eq(res.exit_code, 0, "%s is missing: run `make deps` (package %s)", name, package);
}

/* The value of the first "Key=" line of a unit-style file, or NULL. */
static char *ini_value(const char *text, const char *key) {
        size_t n = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, n) == 0 && p[n] == '=') {
                        const char *v = p + n + 1;
                        return strndup(v, strcspn(v, "\n"));
                }
        return NULL;
}

/* The library's file names, as the build made them: libhmacd.so -> SONAME -> REAL. */
static char *build_link_target(const char *name) {
        _cleanup_free_ char *path = build_path(name);
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);

        cr_assert_gt(n, 0, "%s is not a symbolic link: %m", path);
        target[n] = 0;
        return strdup(target);
}

static char *lib_soname(void) {
        return build_link_target("libhmacd.so");
}

static char *lib_real(void) {
        _cleanup_free_ char *soname = lib_soname();
        return build_link_target(soname);
}

/* The library directory below the prefix, as mk/install.mk chooses it. */
static char *libdir_for(const char *prefix) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        const char *cc = getenv("CC") ?: "cc";
        size_t n;

        cr_assert_geq(harness_runl(NULL, &res, cc, "-print-multiarch", NULL), 0);
        n = res.exit_code == 0 ? strcspn(res.out, "\n") : 0;
        return n > 0 ? xasprintf("%s/lib/%.*s", prefix, (int) n, res.out) : xasprintf("%s/lib", prefix);
}

/* `make install DESTDIR=<tmp>/<name> PREFIX=/usr` of exactly what is in the build directory: -o
 * keeps make from rebuilding the binaries the other tests use, even if sources changed since. */
static char *make_target(const char *target, const char *name) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *real = lib_real();
        _cleanup_free_ char *hmacd = build_path("hmacd"), *hmacctl = build_path("hmacctl"),
                            *lib = build_path(real);
        _cleanup_free_ char *b = xasprintf("B=%s", harness_build_dir());
        char *root = tmp_path(name);
        _cleanup_free_ char *destdir = xasprintf("DESTDIR=%s", root);

        RUN_OK(&res, "env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u", "MAKELEVEL", "make", "-s",
               "--no-print-directory", "-C", (char *) harness_source_dir(), (char *) target, b, destdir,
               "PREFIX=/usr", "-o", hmacd, "-o", hmacctl, "-o", lib);
        return root;
}

static char *install_root(void) {
        return make_target("install", "root");
}

static bool files_equal(const char *a, const char *b) {
        _cleanup_(harness_result_done) HarnessResult res = {};

        cr_assert_geq(harness_runl(NULL, &res, "cmp", "-s", a, b, NULL), 0);
        return res.exit_code == 0;
}

/* ---- the systemd unit ---- */

TestSuite(unit, .timeout = 120);

/* The unit as shipped, but for ExecStart= pointing at the built daemon, against the host's units. */
Test(unit, verify) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *unit = read_source("systemd/" UNIT_NAME), *copy = tmp_path(UNIT_NAME);
        _cleanup_free_ char *hmacd = build_path("hmacd"), *exec = xasprintf("ExecStart=%s", hmacd);
        const char *at = strstr(unit, "\nExecStart=/usr/libexec/hmacd\n");
        _cleanup_free_ char *edited = NULL;

        require_program("systemd-analyze", "systemd");
        cr_assert_not_null(at, "the unit has no line ExecStart=/usr/libexec/hmacd");
        edited = xasprintf("%.*s\n%s%s", (int) (at - unit), unit, exec,
                           at + strlen("\nExecStart=/usr/libexec/hmacd"));
        write_file(copy, edited);

        RUN_OK(&res, "systemd-analyze", "verify", "--man=no", copy);
        cr_assert_str_empty(res.err, "systemd-analyze verify %s complained:\n%s", copy, res.err);
}

/* The installed unit in the installed tree, unchanged, with its Documentation= man pages. */
Test(unit, verify_installed) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *root = install_root();
        _cleanup_free_ char *rootarg = xasprintf("--root=%s", root);
        _cleanup_free_ char *manpath = xasprintf("MANPATH=%s/usr/share/man", root);

        require_program("systemd-analyze", "systemd");
        require_program("man", "man-db");
        /* Only this unit's own errors count: the temporary root has no sysinit.target and friends. */
        RUN_OK(&res, "env", manpath, "systemd-analyze", "verify", rootarg, "--recursive-errors=no",
               "--man=yes", UNIT_NAME);
        cr_assert_str_empty(res.err, "systemd-analyze verify --root=%s complained:\n%s", root, res.err);
}

Test(unit, security_exposure_below_1) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *unit = src_path("systemd/" UNIT_NAME);
        static const char marker[] = "Overall exposure level for " UNIT_NAME ":";
        const char *at;
        char *end;
        double exposure;

        require_program("systemd-analyze", "systemd");
        RUN_OK(&res, "systemd-analyze", "security", "--no-pager", "--offline=true", unit);
        at = strstr(res.out, marker);
        cr_assert_not_null(at, "no overall exposure in:\n%s", res.out);
        exposure = strtod(at + strlen(marker), &end);
        cr_assert_neq(end, at + strlen(marker), "cannot parse the exposure in:\n%s", res.out);
        cr_assert_lt(exposure, EXPOSURE_MAX, "exposure %.1f, not below %.1f:\n%s", exposure, EXPOSURE_MAX,
                     res.out);
        cr_log_info("systemd-analyze security: %s exposure %.1f", UNIT_NAME, exposure);
}

/* systemd-sysusers makes the user the unit, the bus policy, polkit and the activation file name. */
Test(unit, sysusers_and_names_agree) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *root = install_root();
        _cleanup_free_ char *rootarg = xasprintf("--root=%s", root), *etc = xasprintf("%s/etc", root);
        _cleanup_free_ char *unit = read_source("systemd/" UNIT_NAME);
        _cleanup_free_ char *activation = read_source("dbus/io.hmacd.Kms1.service");
        _cleanup_free_ char *policy = read_source("dbus/io.hmacd.Kms1.conf");
        _cleanup_free_ char *actions = read_source("dbus/io.hmacd.policy");
        _cleanup_free_ char *passwd_path = xasprintf("%s/etc/passwd", root),
                            *group_path = xasprintf("%s/etc/group", root);
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        _cleanup_free_ char *user = NULL, *grp = NULL, *bus_name = NULL;
        _cleanup_free_ char *a_name = NULL, *a_user = NULL, *a_service = NULL, *a_exec = NULL, *alias = NULL;
        unsigned uid, gid;
        char name[64], gecos[128], home[128], shell[128];
        const char *line;

        require_program("systemd-sysusers", "systemd");
        cr_assert_eq(mkdir(etc, 0755), 0, "mkdir %s: %m", etc);
        RUN_OK(&res, "systemd-sysusers", rootarg);
        passwd = read_file(passwd_path);
        group = read_file(group_path);

        line = strstr(passwd, "hmacd:");
        cr_assert(line == passwd || (line && line[-1] == '\n'), "no user hmacd in:\n%s", passwd);
        cr_assert_eq(sscanf(line, "%63[^:]:x:%u:%u:%127[^:]:%127[^:]:%127[^\n]", name, &uid, &gid, gecos,
                            home, shell),
                     6, "cannot parse: %s", line);
        cr_assert_lt(uid, 1000, "hmacd is not a system user: UID %u", uid);
        cr_assert_str_eq(gecos, "hmacd HMAC key service");
        cr_assert_str_eq(home, "/var/lib/hmacd");
        cr_assert_not_null(strstr(group, "hmacd:x:"), "no group hmacd in:\n%s", group);

        user = ini_value(unit, "User");
        grp = ini_value(unit, "Group");
        bus_name = ini_value(unit, "BusName");
        cr_assert_str_eq(strempty(user), "hmacd");
        cr_assert_str_eq(strempty(grp), "hmacd");
        cr_assert_str_eq(strempty(bus_name), HARNESS_BUS_NAME);
        cr_assert_not_null(strstr(unit, "\nType=dbus\n"));
        cr_assert_not_null(strstr(unit, "\nStateDirectory=hmacd\n"));
        cr_assert_not_null(strstr(unit, "\nKeyringMode=private\n"));
        /* The bus and journal, and the kernel engine's AF_ALG hash sockets: no other family. */
        cr_assert_not_null(strstr(unit, "\nRestrictAddressFamilies=AF_UNIX AF_ALG\n"), "RestrictAddressFamilies= is not "
                           "exactly AF_UNIX AF_ALG");
        cr_assert_not_null(strstr(unit, "\nLoadCredentialEncrypted=hmacd.kek\n"));
        /* The audit trail is not rate limited by journald; STATUS= reaches systemd. */
        cr_assert_not_null(strstr(unit, "\nLogRateLimitIntervalSec=1s\nLogRateLimitBurst=100000\n"));
        cr_assert_not_null(strstr(unit, "\nNotifyAccess=main\n"));

        /* The activation file: systemd starts the unit; its Exec= never runs the daemon unconfined. */
        cr_assert(strncmp(activation, "[D-BUS Service]\n", 16) == 0 ||
                  strstr(activation, "\n[D-BUS Service]\n"));
        a_name = ini_value(activation, "Name");
        a_user = ini_value(activation, "User");
        a_service = ini_value(activation, "SystemdService");
        a_exec = ini_value(activation, "Exec");
        cr_assert_str_eq(strempty(a_name), HARNESS_BUS_NAME);
        cr_assert_str_eq(strempty(a_user), "hmacd");
        /* The alias that only `systemctl enable` creates: disabling the unit stops activation. */
        alias = ini_value(unit, "Alias");
        cr_assert_str_eq(strempty(alias), "dbus-" HARNESS_BUS_NAME ".service");
        cr_assert_str_eq(strempty(a_service), alias);
        cr_assert_null(strstr(unit, "\nWantedBy="), "enabling the unit must create only the alias");
        cr_assert_str_eq(strempty(a_exec), "/bin/false");

        cr_assert_not_null(strstr(policy, "<policy user=\"hmacd\">"), "the bus policy names no user hmacd");
        cr_assert_not_null(strstr(policy, "<allow own=\"io.hmacd.Kms1\"/>"));
        cr_assert_not_null(strstr(actions, "unix-user:hmacd"), "polkit's owner annotation names no hmacd");
}

/* ---- the unit's system call filter against what the daemon calls ---- */

typedef struct Names {
        char **v;
        size_t n;
} Names;

static void names_add(Names *s, const char *name, size_t len) {
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i] && strlen(s->v[i]) == len && strncmp(s->v[i], name, len) == 0)
                        return;
        s->v = realloc(s->v, (s->n + 1) * sizeof *s->v);
        cr_assert_not_null(s->v);
        s->v[s->n] = strndup(name, len);
        cr_assert_not_null(s->v[s->n]);
        s->n++;
}

static bool names_has(const Names *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i] && streq(s->v[i], name))
                        return true;
        return false;
}

static void names_remove(Names *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i] && streq(s->v[i], name))
                        s->v[i] = mfree_str(s->v[i]);
}

/* `systemd-analyze syscall-filter`: "@group" at the start of a line, then its members indented. */
static const char *group_members(const char *table, const char *group) {
        _cleanup_free_ char *head = xasprintf("\n%s\n", group);
        const char *at = strstr(table, head);

        return at ? at + strlen(head) : NULL;
}

static void expand(const char *table, const char *item, bool add, Names *set, int depth) {
        const char *p;

        cr_assert_lt(depth, 16, "system call groups nest too deep at %s", item);
        if (item[0] != '@') {
                if (add)
                        names_add(set, item, strlen(item));
                else
                        names_remove(set, item);
                return;
        }
        p = group_members(table, item);
        cr_assert_not_null(p, "systemd-analyze knows no group %s", item);
        /* Members are indented; the group ends at the first line that is not. */
        while (*p == ' ') {
                size_t indent = strspn(p, " "), len = strcspn(p + indent, "\n");
                _cleanup_free_ char *member = strndup(p + indent, len);

                if (member[0] != '#' && member[0] != 0)
                        expand(table, member, add, set, depth + 1);
                p += indent + len;
                if (*p == '\n')
                        p++;
        }
}

/* The set of calls the unit allows: an allow list (its first SystemCallFilter= has no "~", and
 * systemd then adds @default itself), minus what the "~" lines take away. */
static void unit_allowed_syscalls(const char *unit, const char *table, Names *ret) {
        bool first = true;

        for (const char *p = unit; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                _cleanup_free_ char *line = NULL;
                bool add = true;
                char *v, *save = NULL;

                if (strncmp(p, "SystemCallFilter=", 17) != 0)
                        continue;
                line = strndup(p + 17, strcspn(p + 17, "\n"));
                v = line;
                if (*v == '~') {
                        add = false;
                        v++;
                }
                cr_assert(!first || add, "the unit's first SystemCallFilter= is a deny list");
                if (first)
                        expand(table, "@default", true, ret, 0);
                first = false;
                for (char *w = strtok_r(v, " ", &save); w; w = strtok_r(NULL, " ", &save))
                        expand(table, w, add, ret, 0);
        }
        cr_assert(!first, "the unit has no SystemCallFilter=");
}

static void ctl_ok(const char *user, char *const argv[]) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        int r = harness_run(user, NULL, 0, argv, &res);

        cr_assert_geq(r, 0);
        cr_assert_eq(res.exit_code, 0, "hmacctl %s: %s\n%s", argv[1], harness_describe_status(res.status),
                     res.err);
}

#define CTL(...) ctl_ok(NULL, (char *const[]) { HARNESS_HMACCTL, __VA_ARGS__, NULL })

static char *create_key(void) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        const char *at;

        cr_assert_geq(harness_runl(NULL, &res, HARNESS_HMACCTL, "--output", "text", "create-key",
                                   "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC", NULL),
                      0);
        cr_assert_eq(res.exit_code, 0, "create-key: %s", res.err);
        at = strstr(res.out, ":key/");
        cr_assert_not_null(at, "no key ARN in: %s", res.out);
        return strndup(at + 5, 36);
}

static pid_t child_of(pid_t parent) {
        _cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/children", (int) parent, (int) parent);
        _cleanup_free_ char *text = NULL;

        if (harness_read_file(path, &text, NULL) < 0)
                return 0;
        return (pid_t) strtol(text, NULL, 10);
}

/* The daemon below strace is not our child, and outlives strace if strace is killed: stop it by PID. */
static pid_t traced_daemon_pid;

static void stop_traced_daemon(void) {
        if (traced_daemon_pid > 0) {
                _cleanup_free_ char *exe = xasprintf("/proc/%d/exe", (int) traced_daemon_pid), *hmacd = NULL;
                char target[PATH_MAX];
                ssize_t n = readlink(exe, target, sizeof target - 1);

                /* Only if that PID is still our daemon. */
                if (n > 0 && harness_build_path(HARNESS_HMACD, &hmacd) >= 0) {
                        target[n] = 0;
                        if (streq(target, hmacd))
                                (void) kill(traced_daemon_pid, SIGKILL);
                }
        }
        traced_daemon_pid = 0;
        harness_teardown();
}

/* systemd's SystemCallErrorNumber=EPERM would make a call the filter lacks fail quietly: run the
 * daemon under strace through start-up, every kind of call, polkit (absent here: a denial), key cache
 * evictions, a deletion at the end of its window and shutdown, and check each system call it made
 * against the unit's filter. */
Test(unit, syscall_filter_covers_the_daemon, .fini = stop_traced_daemon, .timeout = 180) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *unit = read_source("systemd/" UNIT_NAME);
        _cleanup_free_ char *trace_path = tmp_path("strace.out"), *log_path = tmp_path("hmacd.log");
        _cleanup_free_ char *hmacd = NULL, *state_arg = NULL, *trace = NULL, *table = NULL;
        _cleanup_free_ char *k1 = NULL, *k2 = NULL, *k3 = NULL, *missing = NULL, *log = NULL;
        Names allowed = {}, used = {};
        bool started = false;
        pid_t strace_pid, daemon_pid;
        size_t missing_size = 0;
        FILE *m;
        int status, r;

        harness_require_environment();
        require_program("strace", "strace");
        require_program("systemd-analyze", "systemd");

        RUN_OK(&res, "systemd-analyze", "syscall-filter", "--no-pager");
        table = xasprintf("\n%s", res.out);
        unit_allowed_syscalls(unit, table, &allowed);
        cr_assert(names_has(&allowed, "add_key") && names_has(&allowed, "keyctl"),
                  "the unit's SystemCallFilter= denies the keyring calls (@keyring)");

        harness_check(harness_bus_start(), "start the bus");
        cr_assert_geq(harness_build_path(HARNESS_HMACD, &hmacd), 0);
        state_arg = xasprintf("--state-dir=%s", harness_state_dir());
        cr_assert_geq(harness_spawn("strace", NULL,
                                    (char *[]) { "strace", "-u", HARNESS_DAEMON_USER, "-f", "-qq", "-o",
                                                 trace_path, "--", hmacd, state_arg, "--log-target=stderr",
                                                 "--cache-keys=2", "--test-only-seconds-per-day=1", NULL },
                                    log_path, &strace_pid),
                      0);
        r = harness_wait_for_name(HARNESS_BUS_NAME, strace_pid, HARNESS_START_TIMEOUT_USEC * 3, &status);
        cr_assert_geq(r, 0, "hmacd under strace did not start: %s\n%s", strerror(-r),
                      harness_read_file(log_path, &log, NULL) >= 0 ? log : "");

        daemon_pid = traced_daemon_pid = child_of(strace_pid);
        cr_assert_gt(daemon_pid, 0, "cannot find the daemon below strace (PID %d)", (int) strace_pid);

        k1 = create_key();
        k2 = create_key();
        k3 = create_key();
        /* Three keys through a cache of two: evictions. */
        for (int round = 0; round < 2; round++)
                for (char **k = (char *[]) { k1, k2, k3, NULL }; *k; k++)
                        CTL("generate-mac", "--key-id", *k, "--message", "aGVsbG8=", "--mac-algorithm",
                            "HMAC_SHA_256");
        CTL("describe-key", "--key-id", k1);
        CTL("list-keys");
        CTL("get-counters");
        CTL("create-alias", "--alias-name", "alias/strace", "--target-key-id", k1);
        CTL("update-alias", "--alias-name", "alias/strace", "--target-key-id", k2);
        CTL("list-aliases");
        CTL("tag-resource", "--key-id", k2, "--tags", "TagKey=a,TagValue=b");
        CTL("untag-resource", "--key-id", k2, "--tag-keys", "a");
        CTL("list-resource-tags", "--key-id", k2);
        CTL("update-key-description", "--key-id", k2, "--description", "strace");
        CTL("disable-key", "--key-id", k2);
        CTL("enable-key", "--key-id", k2);
        CTL("delete-alias", "--alias-name", "alias/strace");
        CTL("schedule-key-deletion", "--key-id", k2, "--pending-window-in-days", "8");
        CTL("cancel-key-deletion", "--key-id", k2);
        CTL("schedule-key-deletion", "--key-id", k3, "--pending-window-in-days", "7");
        {
                _cleanup_(harness_result_done) HarnessResult ext = {}, params = {}, other = {};
                _cleanup_free_ char *external = NULL;
                const char *at;

                /* Import: a key of Origin EXTERNAL, a wrapping key pair made in the daemon, a token that
                 * does not fit, and the material deleted again. */
                RUN_OK(&ext, "busctl", "--system", "call", HARNESS_BUS_NAME, HARNESS_OBJECT_PATH,
                       HARNESS_INTERFACE, "CreateKey", "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC",
                       "", "0", "1", "Origin", "s", "EXTERNAL");
                at = strstr(ext.out, "\"KeyId\" s \"");
                cr_assert_not_null(at, "no KeyId in: %s", ext.out);
                external = strndup(at + strlen("\"KeyId\" s \""), 36);
                RUN_OK(&params, "busctl", "--system", "call", HARNESS_BUS_NAME, HARNESS_OBJECT_PATH,
                       HARNESS_INTERFACE, "GetParametersForImport", "sss", external, "RSAES_OAEP_SHA_256",
                       "RSA_2048");
                /* The answers of these do not matter here, only the calls the daemon makes for them. */
                (void) harness_runl(NULL, &other, "busctl", "--system", "call", HARNESS_BUS_NAME,
                                    HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "ImportKeyMaterial", "sayaystt",
                                    external, "1", "0", "1", "0", "KEY_MATERIAL_DOES_NOT_EXPIRE", "0", NULL);
                harness_result_done(&other);
                (void) harness_runl(NULL, &other, "busctl", "--system", "call", HARNESS_BUS_NAME,
                                    HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "DeleteImportedKeyMaterial", "s",
                                    external, NULL);
                harness_result_done(&other);
                (void) harness_runl(NULL, &other, "busctl", "--system", "call", HARNESS_BUS_NAME,
                                    HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "GenerateMacBatch", "saays", k1,
                                    "2", "1", "0x61", "2", "0x62", "0x63", "HMAC_SHA_256", NULL);
        }
        {
                _cleanup_(harness_result_done) HarnessResult denied = {};

                /* Another user: the daemon asks polkit, which is not running here, and says no. */
                cr_assert_geq(harness_runl(HARNESS_TEST_USER, &denied, HARNESS_HMACCTL, "describe-key",
                                           "--key-id", k1, NULL),
                              0);
                cr_assert_eq(denied.exit_code, 254, "describe-key as %s: %s", HARNESS_TEST_USER, denied.err);
        }
        {
                _cleanup_(harness_result_done) HarnessResult intro = {};

                RUN_OK(&intro, "busctl", "--system", "--no-pager", "introspect", HARNESS_BUS_NAME,
                       HARNESS_OBJECT_PATH);
        }
        /* A window of 7 "days" of one second each: wait for the deletion. */
        for (int i = 0;; i++) {
                _cleanup_(harness_result_done) HarnessResult d = {};

                cr_assert_geq(harness_runl(NULL, &d, HARNESS_HMACCTL, "describe-key", "--key-id", k3, NULL),
                              0);
                if (d.exit_code == 254 && strstr(d.err, "NotFoundException"))
                        break;
                cr_assert_lt(i, 300, "key %s was not deleted at the end of its window", k3);
                usleep(100 * 1000);
        }

        cr_assert_eq(kill(daemon_pid, SIGTERM), 0);
        cr_assert_geq(harness_stop(strace_pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC, &status), 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hmacd under strace %s",
                  harness_describe_status(status));
        traced_daemon_pid = 0;

        trace = read_file(trace_path);
        for (const char *p = trace; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                const char *name = p + strspn(p, "0123456789");
                size_t len;

                name += strspn(name, " ");
                len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_");
                if (len == 0 || name[len] != '(')
                        continue; /* "<... resumed>", "--- SIGTERM", "+++ exited" */
                /* Only what the daemon does after its execve() counts. */
                if (!started) {
                        started = len == 6 && strncmp(name, "execve", 6) == 0 &&
                                  strstr(name, hmacd) == name + 8;
                        continue;
                }
                names_add(&used, name, len);
        }
        cr_assert(started, "no execve of %s in the trace", hmacd);
        cr_assert(names_has(&used, "add_key") && names_has(&used, "keyctl"), "the trace looks incomplete");

        m = open_memstream(&missing, &missing_size);
        cr_assert_not_null(m);
        for (size_t i = 0; i < used.n; i++)
                if (!names_has(&allowed, used.v[i]))
                        fprintf(m, " %s", used.v[i]);
        fclose(m);
        cr_assert_str_empty(missing, "the daemon calls what the unit's SystemCallFilter= denies:%s",
                            missing);
        cr_log_info("the daemon made %zu distinct system calls, all allowed by the unit", used.n);
}

/* ---- the D-Bus interface file against the running daemon ---- */

/* A canonical form of one interface in introspection XML: one line per member, sorted, e.g.
 * "method CreateKey(in s key_spec, ..., out a{sv} key_metadata)", "property Backend s read [...]".
 * Argument order counts, member order does not. A small scanner for the tags introspection uses
 * (no entities, no CDATA), not a general XML parser. */
typedef struct Member {
        char *text;
        size_t size;
        FILE *f;
} Member;

static const char *attr(const char *tag, size_t len, const char *name, char *buf, size_t size) {
        _cleanup_free_ char *pat = xasprintf(" %s=", name);
        const char *p = tag;

        while ((p = strstr(p, pat)) && p < tag + len) {
                char quote = p[strlen(pat)];
                const char *v = p + strlen(pat) + 1, *e = strchr(v, quote);

                if ((quote != '"' && quote != '\'') || !e || (size_t) (e - v) >= size)
                        return NULL;
                memcpy(buf, v, e - v);
                buf[e - v] = 0;
                return buf;
        }
        return NULL;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *canonical_interface(const char *xml, const char *interface) {
        Names members = {};
        Member cur = {};
        bool inside = false, first_arg = true;
        char kind[64] = "";
        const char *p = xml;
        char *out = NULL;
        size_t out_size = 0;
        FILE *o;

        while ((p = strchr(p, '<'))) {
                const char *end;
                char name[64], value[256], type[256], dir[16], buf[256];
                bool closing, self_closing;
                size_t nlen, tlen;

                if (strncmp(p, "<!--", 4) == 0) {
                        end = strstr(p, "-->");
                        cr_assert_not_null(end, "unterminated comment");
                        p = end + 3;
                        continue;
                }
                end = strchr(p, '>');
                cr_assert_not_null(end, "unterminated tag");
                if (p[1] == '?' || p[1] == '!') {
                        p = end + 1;
                        continue;
                }
                closing = p[1] == '/';
                self_closing = end[-1] == '/';
                nlen = strcspn(p + 1 + closing, " \t\n/>");
                tlen = end - p;
                cr_assert_lt(nlen, sizeof name);
                memcpy(name, p + 1 + closing, nlen);
                name[nlen] = 0;

                if (streq(name, "interface")) {
                        if (closing)
                                inside = false;
                        else
                                inside = streq(strempty(attr(p, tlen, "name", buf, sizeof buf)), interface);
                } else if (inside &&
                           (streq(name, "method") || streq(name, "signal") || streq(name, "property"))) {
                        if (!closing) {
                                cr_assert_null(cur.f, "<%s> inside a member", name);
                                cur.f = open_memstream(&cur.text, &cur.size);
                                cr_assert_not_null(cur.f);
                                snprintf(kind, sizeof kind, "%s", name);
                                fprintf(cur.f, "%s %s", name,
                                        strempty(attr(p, tlen, "name", value, sizeof value)));
                                if (streq(name, "property"))
                                        fprintf(cur.f, " %s %s",
                                                strempty(attr(p, tlen, "type", type, sizeof type)),
                                                strempty(attr(p, tlen, "access", dir, sizeof dir)));
                                else
                                        fputc('(', cur.f);
                                first_arg = true;
                        }
                        if (closing || self_closing) {
                                cr_assert_not_null(cur.f, "</%s> without <%s>", name, name);
                                if (!streq(kind, "property"))
                                        fputc(')', cur.f);
                                fclose(cur.f);
                                cur.f = NULL;
                                names_add(&members, cur.text, strlen(cur.text));
                                cur.text = mfree_str(cur.text);
                        }
                } else if (inside && cur.f && streq(name, "arg") && !closing) {
                        const char *d = attr(p, tlen, "direction", dir, sizeof dir);

                        if (!d)
                                d = streq(kind, "method") ? "in" : "out";
                        fprintf(cur.f, "%s%s %s %s", first_arg ? "" : ", ", d,
                                strempty(attr(p, tlen, "type", type, sizeof type)),
                                strempty(attr(p, tlen, "name", value, sizeof value)));
                        first_arg = false;
                } else if (inside && cur.f && streq(name, "annotation") && !closing)
                        fprintf(cur.f, " [%s=%s]", strempty(attr(p, tlen, "name", value, sizeof value)),
                                strempty(attr(p, tlen, "value", type, sizeof type)));
                p = end + 1;
        }
        cr_assert_null(cur.f, "unterminated member");

        qsort(members.v, members.n, sizeof *members.v, cmp_str);
        o = open_memstream(&out, &out_size);
        cr_assert_not_null(o);
        for (size_t i = 0; i < members.n; i++)
                fprintf(o, "%s\n", members.v[i]);
        fclose(o);
        return out;
}

/* The lines of a that are not lines of b. */
static char *lines_missing(const char *a, const char *b) {
        _cleanup_free_ char *padded = xasprintf("\n%s", b);
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        cr_assert_not_null(f);
        for (const char *l = a; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n')) {
                _cleanup_free_ char *needle = xasprintf("\n%.*s\n", (int) strcspn(l, "\n"), l);

                if (!strstr(padded, needle))
                        fprintf(f, "  %.*s\n", (int) strcspn(l, "\n"), l);
        }
        fclose(f);
        return out;
}

TestSuite(dbus, .init = harness_setup_daemon, .fini = harness_teardown, .timeout = 60);

Test(dbus, interface_xml_matches_live_introspection) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *file = read_source("dbus/io.hmacd.Kms1.xml");
        _cleanup_free_ char *want = NULL, *have = NULL;
        const char *live;
        int r;

        cr_assert_geq(sd_bus_open_system(&bus), 0);
        r = sd_bus_call_method(bus, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH,
                               "org.freedesktop.DBus.Introspectable", "Introspect", &error, &reply, "");
        cr_assert_geq(r, 0, "Introspect: %s", error.message ?: strerror(-r));
        sd_bus_error_free(&error);
        cr_assert_geq(sd_bus_message_read(reply, "s", &live), 0);

        want = canonical_interface(file, HARNESS_INTERFACE);
        have = canonical_interface(live, HARNESS_INTERFACE);
        cr_assert_str_not_empty(have, "the daemon serves no %s interface:\n%s", HARNESS_INTERFACE, live);
        if (!streq(want, have)) {
                _cleanup_free_ char *only_file = lines_missing(want, have),
                                    *only_daemon = lines_missing(have, want);

                cr_assert_fail(
                        "dbus/io.hmacd.Kms1.xml no longer matches what the daemon serves; update it from\n"
                        "`busctl --xml-interface introspect io.hmacd.Kms1 /io/hmacd/Kms1`.\n"
                        "Only in the file:\n%sOnly in the daemon:\n%s",
                        only_file, only_daemon);
        }
}

/* ---- make install ---- */

TestSuite(install, .timeout = 120);

typedef enum Kind { FILE_BUILD, FILE_SOURCE, FILE_GENERATED, LINK } Kind;

/* In the table below, "@real" and "@soname" stand for the library's file name (libhmacd.so.0.1.0)
 * and soname (libhmacd.so.0), "@lib" at the start of a path for the library directory. */
typedef struct Installed {
        const char *path; /* below the root */
        Kind kind;
        mode_t mode;
        const char *from; /* build- or source-relative file, or the link target */
} Installed;

static const Installed layout[] = {
        { "/usr/libexec/hmacd", FILE_BUILD, 0755, "hmacd" },
        { "/usr/bin/hmacctl", FILE_BUILD, 0755, "hmacctl" },
        { "@lib/@real", FILE_BUILD, 0644, "@real" },
        { "@lib/@soname", LINK, 0, "@real" },
        { "@lib/libhmacd.so", LINK, 0, "@soname" },
        { "/usr/include/hmacd.h", FILE_SOURCE, 0644, "lib/hmacd.h" },
        { "@lib/pkgconfig/libhmacd.pc", FILE_GENERATED, 0644, NULL },
        { "/usr/lib/systemd/system/hmacd.service", FILE_SOURCE, 0644, "systemd/hmacd.service" },
        { "/usr/lib/sysusers.d/hmacd.conf", FILE_SOURCE, 0644, "systemd/hmacd.sysusers" },
        { "/usr/share/dbus-1/system.d/io.hmacd.Kms1.conf", FILE_SOURCE, 0644, "dbus/io.hmacd.Kms1.conf" },
        { "/usr/share/dbus-1/system-services/io.hmacd.Kms1.service", FILE_SOURCE, 0644,
          "dbus/io.hmacd.Kms1.service" },
        { "/usr/share/dbus-1/interfaces/io.hmacd.Kms1.xml", FILE_SOURCE, 0644, "dbus/io.hmacd.Kms1.xml" },
        { "/usr/share/polkit-1/actions/io.hmacd.policy", FILE_SOURCE, 0644, "dbus/io.hmacd.policy" },
        { "/usr/share/polkit-1/rules.d/50-hmacd.rules", FILE_SOURCE, 0644, "dbus/io.hmacd.rules" },
        { "/usr/share/man/man8/hmacd.8", FILE_SOURCE, 0644, "man/hmacd.8" },
        { "/usr/share/man/man1/hmacctl.1", FILE_SOURCE, 0644, "man/hmacctl.1" },
        { "/usr/share/bash-completion/completions/hmacctl", FILE_SOURCE, 0644, "completion/hmacctl.bash" },
        { "/usr/lib/systemd/catalog/hmacd.catalog", FILE_SOURCE, 0644, "systemd/hmacd.catalog" },
};

static char *expand_names(const char *s, const char *real, const char *soname) {
        if (streq(s, "@real"))
                return strdup(real);
        if (streq(s, "@soname"))
                return strdup(soname);
        return strdup(s);
}

static char *layout_path(const char *root, const char *libdir, const char *path, const char *real,
                         const char *soname) {
        _cleanup_free_ char *last = NULL;

        if (strncmp(path, "@lib/", 5) != 0)
                return xasprintf("%s%s", root, path);
        last = expand_names(path + 5, real, soname);
        return xasprintf("%s%s/%s", root, libdir, last);
}

/* Every file and link below dir, as paths relative to root. */
static void list_tree(const char *root, const char *dir, Names *ret) {
        _cleanup_free_ char *full = xasprintf("%s%s", root, dir);
        DIR *d = opendir(full);
        struct dirent *de;

        cr_assert_not_null(d, "opendir %s: %m", full);
        while ((de = readdir(d))) {
                _cleanup_free_ char *rel = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                rel = xasprintf("%s/%s", dir, de->d_name);
                if (de->d_type == DT_DIR)
                        list_tree(root, rel, ret);
                else
                        names_add(ret, rel, strlen(rel));
        }
        closedir(d);
}

Test(install, layout) {
        _cleanup_free_ char *root = install_root(), *libdir = libdir_for("/usr");
        _cleanup_free_ char *real = lib_real(), *soname = lib_soname();
        Names found = {};

        list_tree(root, "", &found);
        for (size_t i = 0; i < ELEMENTSOF(layout); i++) {
                const Installed *e = &layout[i];
                _cleanup_free_ char *path = layout_path(root, libdir, e->path, real, soname);
                _cleanup_free_ char *from = expand_names(strempty(e->from), real, soname), *copy = NULL;
                struct stat st;

                cr_assert_eq(lstat(path, &st), 0, "%s is not installed: %m", path);
                names_remove(&found, path + strlen(root));
                if (e->kind == LINK) {
                        char target[PATH_MAX];
                        ssize_t n = readlink(path, target, sizeof target - 1);

                        cr_assert(S_ISLNK(st.st_mode), "%s is not a symbolic link", path);
                        cr_assert_gt(n, 0);
                        target[n] = 0;
                        cr_assert_str_eq(target, from, "%s points to %s", path, target);
                        continue;
                }
                cr_assert(S_ISREG(st.st_mode), "%s is not a regular file", path);
                cr_assert_eq(st.st_mode & 07777, e->mode, "%s has mode %04o, not %04o", path,
                             (unsigned) (st.st_mode & 07777), (unsigned) e->mode);
                if (e->kind == FILE_GENERATED)
                        continue;
                copy = e->kind == FILE_BUILD ? build_path(from) : src_path(from);
                cr_assert(files_equal(path, copy), "%s differs from %s", path, copy);
        }
        for (size_t i = 0; i < found.n; i++)
                cr_assert_null(found.v[i], "make install put an unexpected file in %s", found.v[i]);
}

/* The installed ELF files: no RUNPATH or RPATH (an installed program takes its libraries from the
 * system's directories, never from a path recorded at build time), and the upstream hardening
 * (relro, bind-now) in each. They are the very files of the build directory (see layout), so the
 * build tree finds its library through LD_LIBRARY_PATH only, which tests/run-tests sets. */
Test(install, elf_files_have_no_runpath) {
        _cleanup_free_ char *root = install_root(), *libdir = libdir_for("/usr"), *real = lib_real();
        _cleanup_free_ char *lib = xasprintf("%s%s/%s", root, libdir, real);
        _cleanup_free_ char *hmacd = xasprintf("%s/usr/libexec/hmacd", root);
        _cleanup_free_ char *hmacctl = xasprintf("%s/usr/bin/hmacctl", root);
        const char *const files[] = { hmacd, hmacctl, lib };

        require_program("readelf", "binutils");
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_(harness_result_done) HarnessResult dyn = {}, seg = {};

                RUN_OK(&dyn, "readelf", "-d", "-W", (char *) files[i]);
                cr_assert_null(strstr(dyn.out, "(RUNPATH)"), "%s has a RUNPATH:\n%s", files[i], dyn.out);
                cr_assert_null(strstr(dyn.out, "(RPATH)"), "%s has an RPATH:\n%s", files[i], dyn.out);
                cr_assert_not_null(strstr(dyn.out, " BIND_NOW"), "%s is not linked with -z now:\n%s",
                                   files[i], dyn.out);
                RUN_OK(&seg, "readelf", "-l", "-W", (char *) files[i]);
                cr_assert_not_null(strstr(seg.out, "GNU_RELRO"), "%s is not linked with -z relro", files[i]);
        }
}

/* The installed hmacctl takes the installed library when the dynamic linker is pointed at the
 * installed library directory, and never the build directory's copy it was linked against. */
Test(install, hmacctl_finds_the_installed_library) {
        _cleanup_(harness_result_done) HarnessResult with = {}, without = {};
        _cleanup_free_ char *root = install_root(), *libdir = libdir_for("/usr"), *soname = lib_soname();
        _cleanup_free_ char *ctl = xasprintf("%s/usr/bin/hmacctl", root);
        _cleanup_free_ char *ld = xasprintf("LD_LIBRARY_PATH=%s%s", root, libdir);
        _cleanup_free_ char *want = xasprintf("%s => %s%s/%s ", soname, root, libdir, soname);
        const char *line;

        require_program("ldd", "libc-bin");
        RUN_OK(&with, "env", ld, "ldd", ctl);
        cr_assert_not_null(strstr(with.out, want), "with %s, hmacctl does not take the installed library:\n%s",
                           ld, with.out);

        /* Without LD_LIBRARY_PATH: the system's copy if there is one, else not found; never the build's. */
        RUN_OK(&without, "env", "-u", "LD_LIBRARY_PATH", "ldd", ctl);
        line = strstr(without.out, soname);
        cr_assert_not_null(line, "hmacctl does not need %s:\n%s", soname, without.out);
        cr_assert(strncmp(line + strlen(soname), " => /usr/lib", strlen(" => /usr/lib")) == 0 ||
                          strncmp(line + strlen(soname), " => not found", strlen(" => not found")) == 0,
                  "hmacctl without LD_LIBRARY_PATH finds %.*s", (int) strcspn(line, "\n"), line);
}

Test(install, uninstall_removes_every_file) {
        _cleanup_free_ char *root = install_root(), *again = make_target("uninstall", "root");
        Names left = {};

        cr_assert_str_eq(root, again);
        list_tree(root, "", &left);
        for (size_t i = 0; i < left.n; i++)
                cr_assert_null(left.v[i], "make uninstall left %s", left.v[i]);
}

/* A program built with the installed pkg-config file, header and library, and run against them. */
Test(install, pkgconfig_builds_and_links) {
        static const char program[] =
                "#define _GNU_SOURCE\n"
                "#include <dlfcn.h>\n"
                "#include <stdio.h>\n"
                "#include <stdlib.h>\n"
                "#include <string.h>\n"
                "#include <hmacd.h>\n"
                "int main(void) {\n"
                "        HmacdError e = { strdup(\"NotFoundException\"), strdup(\"x\") };\n"
                "        Dl_info info;\n"
                "        hmacd_error_clear(&e);\n"
                "        if (e.name || e.message)\n"
                "                return 1;\n"
                "        if (!dladdr((void *) hmacd_error_clear, &info) || !info.dli_fname)\n"
                "                return 2;\n"
                "        printf(\"%d %s\\n\", HMACD_MAC_SIZE_MAX, info.dli_fname);\n"
                "        return 0;\n"
                "}\n";
        _cleanup_(harness_result_done) HarnessResult res = {}, var = {}, run = {};
        _cleanup_free_ char *root = install_root(), *libdir = libdir_for("/usr");
        _cleanup_free_ char *pcdir = xasprintf("%s%s/pkgconfig", root, libdir);
        _cleanup_free_ char *c = tmp_path("prog.c"), *exe = tmp_path("prog");
        _cleanup_free_ char *script = NULL, *want = NULL, *pc_path = xasprintf("PKG_CONFIG_PATH=%s", pcdir);
        _cleanup_free_ char *ld = xasprintf("LD_LIBRARY_PATH=%s%s", root, libdir), *soname = lib_soname();

        require_program("pkg-config", "pkg-config");
        /* The libdir the .pc file names is the one the library went to. */
        RUN_OK(&var, "env", pc_path, "pkg-config", "--variable=libdir", "libhmacd");
        want = xasprintf("%s\n", libdir);
        cr_assert_str_eq(var.out, want, "libhmacd.pc has libdir %s", var.out);

        write_file(c, program);
        script = xasprintf("PKG_CONFIG_PATH='%s' PKG_CONFIG_SYSROOT_DIR='%s'; export PKG_CONFIG_PATH "
                           "PKG_CONFIG_SYSROOT_DIR; flags=$(pkg-config --cflags --libs libhmacd) || exit 1; "
                           "echo \"$flags\"; exec ${CC:-cc} -Wall -Werror -o '%s' '%s' $flags",
                           pcdir, root, exe, c);
        RUN_OK(&res, "sh", "-c", script);
        cr_assert_not_null(strstr(res.out, root), "pkg-config gave no flags into %s: %s", root, res.out);

        RUN_OK(&run, "env", ld, exe);
        free(want);
        want = xasprintf("64 %s%s/%s\n", root, libdir, soname);
        cr_assert_str_eq(run.out, want);
}

Test(install, xml_files_parse) {
        _cleanup_free_ char *root = install_root();
        _cleanup_free_ char *conf = xasprintf("%s/usr/share/dbus-1/system.d/io.hmacd.Kms1.conf", root);
        _cleanup_free_ char *iface = xasprintf("%s/usr/share/dbus-1/interfaces/io.hmacd.Kms1.xml", root);
        _cleanup_free_ char *policy = xasprintf("%s/usr/share/polkit-1/actions/io.hmacd.policy", root);
        _cleanup_(harness_result_done) HarnessResult a = {}, b = {};

        require_program("xmllint", "libxml2-utils");
        /* D-Bus's DTDs are not installed on Debian: well-formed is what can be checked offline. */
        RUN_OK(&a, "xmllint", "--noout", "--nonet", conf, iface);
        cr_assert_str_empty(a.err, "%s", a.err);
        /* polkit's is (/usr/share/polkit-1/policyconfig-1.dtd, through the XML catalog): validate. */
        RUN_OK(&b, "xmllint", "--noout", "--nonet", "--valid", policy);
        cr_assert_str_empty(b.err, "%s", b.err);
}

static void check_man_page(const char *root, const char *page, const char *const *sections) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *path = xasprintf("%s/usr/share/man/%s", root, page);

        RUN_OK(&res, "env", "-u", "MAN_KEEP_FORMATTING", "MANWIDTH=80", "man", "--warnings", "-l", path);
        cr_assert_str_empty(res.err, "man -l %s warns:\n%s", path, res.err);
        for (const char *const *s = sections; *s; s++) {
                _cleanup_free_ char *heading = xasprintf("\n%s\n", *s);
                cr_assert_not_null(strstr(res.out, heading), "%s has no section %s", page, *s);
        }
}

Test(install, man_pages_render) {
        _cleanup_free_ char *root = install_root();

        require_program("man", "man-db");
        check_man_page(root, "man8/hmacd.8",
                       (const char *const[]) { "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES",
                                               "EXIT STATUS", "EXAMPLES", "SEE ALSO", NULL });
        check_man_page(root, "man1/hmacctl.1",
                       (const char *const[]) { "NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS",
                                               "EXIT STATUS", "EXAMPLES", "SEE ALSO", NULL });
}

/* What the installed completion offers for a command line. words are bash's own split of it (it
 * breaks words at ':' and '=' too), the last one being the word under the cursor. */
static char *complete(const char *script, const char *line, const char *const *words) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *prog = NULL;
        char *argv[32] = { "bash", "-c", NULL, "complete", (char *) line };
        size_t n = 5;

        prog = xasprintf(". '%s' || exit 1\n"
                         "COMP_LINE=$1; COMP_POINT=${#COMP_LINE}; shift\n"
                         "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n"
                         "_hmacctl || exit 1\n"
                         "printf '%%s\\n' \"${COMPREPLY[@]}\" | sort\n",
                         script);
        argv[2] = prog;
        for (size_t i = 0; words[i]; i++) {
                cr_assert_lt(n, ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) words[i];
        }
        argv[n] = NULL;
        run_ok(&res, argv);
        return strdup(res.out);
}

/* The words of a usage line or list as sorted lines, for comparing with complete(). */
static char *sorted_words(const char *text, const char *prefix) {
        Names w = {};
        char *out = NULL;
        size_t size = 0;
        FILE *f;

        for (const char *p = text; *p;) {
                size_t len;

                p += strspn(p, " \t\n[]|");
                len = strcspn(p, " \t\n[]|");
                if (len > 0 && strncmp(p, prefix, strlen(prefix)) == 0)
                        names_add(&w, p, len);
                p += len;
        }
        qsort(w.v, w.n, sizeof *w.v, cmp_str);
        f = open_memstream(&out, &size);
        cr_assert_not_null(f);
        for (size_t i = 0; i < w.n; i++)
                fprintf(f, "%s\n", w.v[i]);
        fclose(f);
        return out;
}

/* The completion offers exactly the subcommands of `hmacctl --help` and, for each, the parameters
 * of its usage line and the global options; and the fixed values of a few parameters. The
 * installed hmacctl answers, with the installed library. */
Test(install, bash_completion_matches_hmacctl) {
        static const char global[] = "--system --user --output --query --cli-binary-format --no-paginate --debug "
                                     "--no-ask-password --version --help";
        _cleanup_(harness_result_done) HarnessResult help = {};
        _cleanup_free_ char *root = install_root(), *libdir = libdir_for("/usr");
        _cleanup_free_ char *script = xasprintf("%s/usr/share/bash-completion/completions/hmacctl", root);
        _cleanup_free_ char *ctl = xasprintf("%s/usr/bin/hmacctl", root);
        _cleanup_free_ char *ld = xasprintf("LD_LIBRARY_PATH=%s%s", root, libdir);
        _cleanup_free_ char *subcommands = NULL, *offered = NULL, *list = NULL;
        const char *p, *end;
        char *save = NULL;

        require_program("bash", "bash");
        RUN_OK(&help, "env", ld, ctl, "--help");
        p = strstr(help.out, "\nSubcommands:\n");
        cr_assert_not_null(p, "no subcommands in hmacctl --help:\n%s", help.out);
        p += strlen("\nSubcommands:\n");
        end = strstr(p, "\n\n") ?: p + strlen(p);
        /* Each line: two spaces, the name, its description. */
        list = strdup("");
        for (const char *l = p; l < end; l += strcspn(l, "\n") + 1) {
                char *grown = xasprintf("%s %.*s", list, (int) strcspn(l + 2, " \n"), l + 2);

                free(list);
                list = grown;
        }
        subcommands = sorted_words(list, "");
        offered = complete(script, "hmacctl ", (const char *const[]) { "hmacctl", "", NULL });
        cr_assert_str_eq(offered, subcommands, "completion offers\n%sbut hmacctl --help lists\n%s", offered,
                         subcommands);

        for (char *verb = strtok_r(list, " ", &save); verb; verb = strtok_r(NULL, " ", &save)) {
                _cleanup_(harness_result_done) HarnessResult vh = {};
                _cleanup_free_ char *usage = NULL, *want = NULL, *have = NULL;
                const char *u;

                RUN_OK(&vh, "env", ld, ctl, verb, "--help");
                u = strstr(vh.out, verb);
                cr_assert_not_null(u, "no usage line in hmacctl %s --help", verb);
                u += strlen(verb);
                usage = xasprintf("%.*s %s", (int) strcspn(u, "\n"), u, global);
                want = sorted_words(usage, "--");
                _cleanup_free_ char *line = xasprintf("hmacctl %s --", verb);

                have = complete(script, line, (const char *const[]) { "hmacctl", verb, "--", NULL });
                cr_assert_str_eq(have, want, "for %s the completion offers\n%sbut its usage is\n%s", verb,
                                 have, want);
        }

        free(offered);
        offered = complete(script, "hmacctl create-key --key-spec ",
                           (const char *const[]) { "hmacctl", "create-key", "--key-spec", "", NULL });
        cr_assert_str_eq(offered, "HMAC_224\nHMAC_256\nHMAC_384\nHMAC_512\n");
        free(offered);
        offered = complete(script, "hmacctl --output t",
                           (const char *const[]) { "hmacctl", "--output", "t", NULL });
        cr_assert_str_eq(offered, "table\ntext\n");
        free(offered);
        /* Bash splits "--mac-algorithm=HMAC_SHA_5" at the '='; the reply is for the last part. */
        offered = complete(script, "hmacctl generate-mac --mac-algorithm=HMAC_SHA_5",
                           (const char *const[]) { "hmacctl", "generate-mac", "--mac-algorithm", "=",
                                                   "HMAC_SHA_5", NULL });
        cr_assert_str_eq(offered, "HMAC_SHA_512\n");
}
