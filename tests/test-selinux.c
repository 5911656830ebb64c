/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SELinux policy module (selinux/hmacd.{te,fc,if}). `make selinux` builds hmacd.pp with
 * selinux-policy-dev's Makefile; semodule links it into a throwaway copy of Debian's
 * selinux-policy-default store (`semodule -p ROOT`: the store is read from and written to
 * ROOT/var/lib/selinux/default, the binary policy and file contexts to ROOT/etc/selinux/default);
 * sesearch then asks that binary policy what hmacd_t may do (its keys, its state, the system bus,
 * polkit) and may not do (user home files, network sockets, capabilities). The host's
 * /var/lib/selinux and /etc/selinux are compared, file by file, before and after.
 *
 * Building and linking take a few seconds, so they happen once per run of this binary: a report
 * hook makes a shared directory before the tests start and removes it after they end; the first
 * test process to take that directory's lock builds there, and the others wait for the lock and use
 * the result (or report its failure). */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "macro.h"

#define DEVEL_MAKEFILE "/usr/share/selinux/devel/Makefile"
#define HOST_STORE "/var/lib/selinux/default"
#define SHARED_DIR_ENV "HMACD_TEST_SELINUX_DIR"
#define ARGS_MAX 32

/* A second module, built against hmacd.if, shows that the interfaces expand and link: a client
 * domain that may talk to hmacd, and an administrator. */
static const char client_module[] =
        "policy_module(hmacdclient, 1.0.0)\n"
        "\n"
        "gen_require(`\n"
        "\ttype user_t, sysadm_t;\n"
        "\trole sysadm_r;\n"
        "')\n"
        "\n"
        "hmacd_dbus_chat(user_t)\n"
        "hmacd_admin(sysadm_t, sysadm_r)\n";

/* Only what the store needs; host settings (other store roots, compilers) must not apply. */
static const char semanage_conf[] =
        "# tests/test-selinux.c: a throwaway store\n"
        "module-store = direct\n"
        "expand-check = 0\n";

static struct {
        char dir[PATH_MAX];             /* shared by the test processes of this run */
        char module_dir[PATH_MAX];      /* <dir>/build/selinux: hmacd.pp, hmacdclient.pp */
        char root[PATH_MAX];            /* <dir>/root: the throwaway store and its policy */
        char policy[PATH_MAX];          /* <root>/etc/selinux/default/policy/policy.NN */
        char file_contexts[PATH_MAX];
} ctx;

/* ---- the shared directory ---- */

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
        const char *base = getenv("TMPDIR");
        char t[PATH_MAX];

        snprintf(t, sizeof t, "%s/test-selinux.XXXXXX", base && *base ? base : "/tmp");
        if (mkdtemp(t))
                setenv(SHARED_DIR_ENV, t, 1);
        else
                fprintf(stderr, "test-selinux: cannot create %s: %m\n", t);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
        const char *d = getenv(SHARED_DIR_ENV);

        if (!d)
                return;
        if (getenv("HMACD_TEST_KEEP")) {
                fprintf(stderr, "test-selinux: keeping %s\n", d);
                return;
        }
        (void) nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_in(char *buf, const char *dir, const char *name) {
        cr_assert_lt(snprintf(buf, PATH_MAX, "%s/%s", dir, name), PATH_MAX);
}

static int write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        int r = 0;

        if (!f)
                return negative_errno();
        if (fputs(text, f) == EOF)
                r = negative_errno();
        if (fclose(f) == EOF && r == 0)
                r = negative_errno();
        return r;
}

/* ---- building and linking (in one test process, under the lock) ---- */

static int fail_with(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int fail_with(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}

/* Runs argv as root, logging the command line and its output. 0 if it exited with status 0;
 * otherwise -EIO and a one-line reason in *ret_error. Standard output goes to *ret_out if given,
 * else to the log. */
static int step(FILE *log, char **ret_error, char **ret_out, char *const argv[]) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        int r;

        fputs("+", log);
        for (size_t i = 0; argv[i]; i++)
                fprintf(log, " %s", argv[i]);
        fputs("\n", log);
        fflush(log);

        r = harness_run(NULL, NULL, 0, argv, &res);
        if (r < 0)
                return fail_with(ret_error, r, "cannot run %s: %s", argv[0], strerror(-r));
        if (!ret_out)
                fputs(res.out, log);
        fputs(res.err, log);
        fflush(log);
        if (res.exit_code != 0)
                return fail_with(ret_error, -EIO, "%s %s %s", argv[0], strempty(argv[1]),
                                 harness_describe_status(res.status));
        if (ret_out)
                *ret_out = TAKE_PTR(res.out);
        return 0;
}

/* Every file, folder and link under the host's SELinux folders with its type, mode, owner, size and
 * modification time, then every file's SHA-256. */
static int snapshot_host(FILE *log, char **ret_error, const char *path) {
        _cleanup_free_ char *out = NULL;
        char *argv[] = {
                (char *) "/bin/sh", (char *) "-c",
                (char *) "cd / && find var/lib/selinux etc/selinux -printf '%p %y %m %u:%g %s %T@\\n' | "
                         "LC_ALL=C sort && find var/lib/selinux etc/selinux -type f -exec sha256sum {} + | "
                         "LC_ALL=C sort",
                NULL
        };
        int r;

        r = step(log, ret_error, &out, argv);
        if (r < 0)
                return r;
        r = write_text(path, out);
        if (r < 0)
                return fail_with(ret_error, r, "cannot write %s: %s", path, strerror(-r));
        return 0;
}

static int build_and_link(FILE *log, char **ret_error) {
        char build[PATH_MAX], b_arg[PATH_MAX + 2], p[PATH_MAX], pp[PATH_MAX], client_pp[PATH_MAX];
        const char *src = harness_source_dir();
        int r;

        if (!src)
                return fail_with(ret_error, -ENOENT, "cannot find the source directory");

        path_in(p, ctx.dir, "host-before");
        r = snapshot_host(log, ret_error, p);
        if (r < 0)
                return r;

        /* `make selinux`, into a build directory of our own: the caller's build/ stays as it is, and
         * a `make check` around us passes nothing down. */
        path_in(build, ctx.dir, "build");
        snprintf(b_arg, sizeof b_arg, "B=%s", build);
        r = step(log, ret_error, NULL,
                 (char *[]) { "env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u", "MAKELEVEL", "make", "-s",
                              "--no-print-directory", "-C", (char *) src, b_arg, "selinux", NULL });
        if (r < 0)
                return r;
        path_in(pp, ctx.module_dir, "hmacd.pp");
        if (access(pp, R_OK) < 0)
                return fail_with(ret_error, -ENOENT, "make selinux did not produce %s", pp);

        path_in(p, ctx.module_dir, "hmacdclient.te");
        r = write_text(p, client_module);
        if (r < 0)
                return fail_with(ret_error, r, "cannot write %s: %s", p, strerror(-r));
        r = step(log, ret_error, NULL,
                 (char *[]) { "env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u", "MAKELEVEL", "make",
                              "--no-print-directory", "-C", ctx.module_dir, "-f", DEVEL_MAKEFILE,
                              "NAME=default", "hmacdclient.pp", NULL });
        if (r < 0)
                return r;
        path_in(client_pp, ctx.module_dir, "hmacdclient.pp");

        /* The throwaway root: a copy of the installed store, and a semanage.conf of its own (libsemanage
         * reads ROOT/etc/selinux/semanage.conf when it exists). */
        path_in(p, ctx.root, "var/lib/selinux");
        r = step(log, ret_error, NULL, (char *[]) { "mkdir", "-p", p, NULL });
        if (r < 0)
                return r;
        r = step(log, ret_error, NULL, (char *[]) { "cp", "-a", HOST_STORE, p, NULL });
        if (r < 0)
                return r;
        path_in(p, ctx.root, "etc/selinux");
        r = step(log, ret_error, NULL, (char *[]) { "mkdir", "-p", p, NULL });
        if (r < 0)
                return r;
        path_in(p, ctx.root, "etc/selinux/semanage.conf");
        r = write_text(p, semanage_conf);
        if (r < 0)
                return fail_with(ret_error, r, "cannot write %s: %s", p, strerror(-r));

        /* -n: never load the result into the kernel. */
        r = step(log, ret_error, NULL,
                 (char *[]) { "semodule", "-p", ctx.root, "-s", "default", "-n", "-i", pp, "-i", client_pp,
                              NULL });
        if (r < 0)
                return r;

        path_in(p, ctx.dir, "host-after");
        return snapshot_host(log, ret_error, p);
}

static void find_policy(void) {
        char pattern[PATH_MAX];
        glob_t g = {};

        path_in(pattern, ctx.root, "etc/selinux/default/policy/policy.[0-9]*");
        cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no binary policy %s", pattern);
        cr_assert_lt(snprintf(ctx.policy, sizeof ctx.policy, "%s", g.gl_pathv[g.gl_pathc - 1]), PATH_MAX);
        globfree(&g);
        path_in(ctx.file_contexts, ctx.root, "etc/selinux/default/contexts/files/file_contexts");
}

static void setup(void) {
        static const char *const tools[] = { "/usr/bin/make", DEVEL_MAKEFILE, "/usr/sbin/semodule",
                                             "/usr/bin/sesearch", "/usr/sbin/matchpathcon", HOST_STORE };
        char lock_path[PATH_MAX], status_path[PATH_MAX], log_path[PATH_MAX];
        _cleanup_free_ char *status = NULL, *log_text = NULL;
        _cleanup_close_ int lock = -1;
        const char *d;

        if (geteuid() != 0)
                cr_skip_test("needs root: the store " HOST_STORE " is readable by root only");
        for (size_t i = 0; i < ELEMENTSOF(tools); i++)
                if (access(tools[i], R_OK) < 0)
                        cr_skip_test("%s is missing; `make deps` installs selinux-policy-dev, "
                                     "selinux-policy-default, policycoreutils, selinux-utils and setools",
                                     tools[i]);

        d = getenv(SHARED_DIR_ENV);
        cr_assert_not_null(d, "no shared directory (" SHARED_DIR_ENV ")");
        cr_assert_lt(snprintf(ctx.dir, sizeof ctx.dir, "%s", d), PATH_MAX);
        path_in(ctx.module_dir, ctx.dir, "build/selinux");
        path_in(ctx.root, ctx.dir, "root");
        path_in(lock_path, ctx.dir, "lock");
        path_in(status_path, ctx.dir, "status");
        path_in(log_path, ctx.dir, "build.log");

        lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        cr_assert_geq(lock, 0, "%s: %m", lock_path);
        cr_assert_eq(flock(lock, LOCK_EX), 0, "flock %s: %m", lock_path);

        if (access(status_path, F_OK) < 0) {
                _cleanup_free_ char *error = NULL;
                FILE *log = fopen(log_path, "we");

                cr_assert_not_null(log, "%s: %m", log_path);
                if (build_and_link(log, &error) < 0)
                        cr_assert_eq(write_text(status_path, error ?: "failed"), 0);
                else
                        cr_assert_eq(write_text(status_path, "ok"), 0);
                fclose(log);
        }
        cr_assert_eq(harness_read_file(status_path, &status, NULL), 0, "%s", status_path);
        if (!streq(status, "ok")) {
                (void) harness_read_file(log_path, &log_text, NULL);
                cr_assert_fail("Building and linking the policy failed: %s\n%s", status, strempty(log_text));
                return;
        }
        find_policy();
}

TestSuite(selinux, .init = setup, .timeout = 300);

/* ---- asking the linked policy ---- */

/* sesearch ARGS... POLICY; its output (free()). */
static char *sesearch(const char *arg0, ...) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        const char *argv[ARGS_MAX] = { "sesearch" };
        size_t n = 1;
        va_list ap;

        va_start(ap, arg0);
        for (const char *a = arg0; a; a = va_arg(ap, const char *)) {
                cr_assert_lt(n, ARGS_MAX - 2);
                argv[n++] = a;
        }
        va_end(ap);
        argv[n++] = ctx.policy;
        argv[n] = NULL;

        cr_assert_eq(harness_run(NULL, NULL, 0, (char *const *) argv, &res), 0);
        cr_assert_eq(res.exit_code, 0, "sesearch failed: %s", res.err);
        return TAKE_PTR(res.out);
}

/* Whether a line of sesearch's output starts with prefix; with unconditional_only, lines of rules
 * that a Boolean turns on or off ("...; [ nscd_use_shm ]:True") do not count. */
static bool has_rule(const char *out, const char *prefix, bool unconditional_only) {
        const char *l = out;

        while (l && *l) {
                const char *end = strchrnul(l, '\n');

                if (strncmp(l, prefix, strlen(prefix)) == 0 &&
                    !(unconditional_only && memmem(l, (size_t) (end - l), "]:", 2)))
                        return true;
                l = *end ? end + 1 : NULL;
        }
        return false;
}

/* Whether line (one rule of sesearch's output, "allow S T:C { p q };" or "allow S T:C p;") has perm. */
static bool rule_has_perm(const char *line, size_t n, const char *perm) {
        const char *colon = memchr(line, ':', n);
        size_t k = strlen(perm);

        if (!colon)
                return false;
        for (const char *p = colon; p + k < line + n; p++)
                if (memcmp(p, perm, k) == 0 && (p[-1] == ' ' || p[-1] == '{') &&
                    (p[k] == ' ' || p[k] == ';' || p[k] == '}'))
                        return true;
        return false;
}

/* source may do each of perms (comma-separated) on target:class, by rules that always apply (written
 * for the types themselves or for attributes they have). One sesearch per class: each one loads the
 * whole policy, which takes most of a second. */
static void assert_allowed(const char *source, const char *target, const char *class, const char *perms) {
        _cleanup_free_ char *out = sesearch("-A", "-s", source, "-t", target, "-c", class, NULL);
        _cleanup_free_ char *list = strdup(perms);
        char *save = NULL;

        cr_assert_not_null(list);
        for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                bool found = false;

                for (const char *l = out; l && *l && !found;) {
                        const char *end = strchrnul(l, '\n');
                        size_t n = (size_t) (end - l);

                        found = strncmp(l, "allow ", 6) == 0 && !memmem(l, n, "]:", 2) &&
                                rule_has_perm(l, n, p);
                        l = *end ? end + 1 : NULL;
                }
                cr_assert(found, "%s may not %s %s:%s; sesearch found:\n%s", source, p, target, class, out);
        }
}

/* No allow rule at all, conditional or not, matches the sesearch arguments. */
#define assert_no_rules(what, ...)                                                                      \
        do {                                                                                            \
                _cleanup_free_ char *_out = sesearch("-A", __VA_ARGS__, NULL);                          \
                cr_assert(!has_rule(_out, "allow", false), "%s, but the policy has:\n%s", what, _out);  \
        } while (0)

static void assert_file_context(const char *path, const char *type) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        char want[128];

        cr_assert_eq(harness_runl(NULL, &res, "matchpathcon", "-f", ctx.file_contexts, path, NULL), 0);
        cr_assert_eq(res.exit_code, 0, "matchpathcon %s: %s", path, res.err);
        snprintf(want, sizeof want, ":object_r:%s:", type);
        cr_assert(strstr(res.out, want), "%s should be labeled %s: %s", path, type, res.out);
}

/* ---- what the module is ---- */

Test(selinux, module_is_linked_into_a_throwaway_store) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *types = NULL;

        cr_assert_eq(harness_runl(NULL, &res, "semodule", "-p", ctx.root, "-s", "default",
                                  "--list-modules=full", NULL),
                     0);
        cr_assert_eq(res.exit_code, 0, "semodule -l: %s", res.err);
        cr_assert(strstr(res.out, "400 hmacd "), "hmacd is not in the store:\n%s", res.out);
        cr_assert(strstr(res.out, "400 hmacdclient "), "hmacdclient is not in the store:\n%s", res.out);
        /* ... next to Debian's own modules, so the checks below are against the real reference policy. */
        cr_assert(strstr(res.out, "100 base ") && strstr(res.out, "100 policykit "), "%s", res.out);

        types = sesearch("-T", "-s", "hmacd_t", NULL);
        cr_assert(strstr(types, "type_transition hmacd_t var_lib_t:dir hmacd_var_lib_t;"), "%s", types);
}

Test(selinux, host_store_is_untouched) {
        _cleanup_free_ char *before = NULL, *after = NULL;
        const char *a, *b;
        char p[PATH_MAX];

        path_in(p, ctx.dir, "host-before");
        cr_assert_eq(harness_read_file(p, &before, NULL), 0);
        path_in(p, ctx.dir, "host-after");
        cr_assert_eq(harness_read_file(p, &after, NULL), 0);
        cr_assert(strstr(before, "var/lib/selinux/default/active/modules/100/policykit/cil"), "%.2000s",
                  before);
        cr_assert(!strstr(after, "hmacd"), "the host's store has hmacd");

        /* Show the first line that differs, not two listings of a few thousand lines. */
        for (a = before, b = after; *a && *a == *b; a++, b++)
                ;
        while (a > before && a[-1] != '\n')
                a--, b--;
        cr_assert(streq(before, after),
                  "the host's /var/lib/selinux or /etc/selinux changed:\n- %.*s\n+ %.*s",
                  (int) (strchrnul(a, '\n') - a), a, (int) (strchrnul(b, '\n') - b), b);
}

Test(selinux, file_contexts) {
        assert_file_context("/usr/libexec/hmacd", "hmacd_exec_t");
        assert_file_context("/var/lib/hmacd", "hmacd_var_lib_t");
        assert_file_context("/var/lib/hmacd/hmacd.db", "hmacd_var_lib_t");
        assert_file_context("/var/lib/hmacd/hmacd.db-wal", "hmacd_var_lib_t");
        assert_file_context("/var/lib/hmacd/kek", "hmacd_var_lib_t");
        assert_file_context("/usr/lib/systemd/system/hmacd.service", "hmacd_unit_t");
        /* Anchored: neighbours keep their own labels; the CLI runs in its caller's domain. */
        assert_file_context("/usr/libexec/hmacd2", "bin_t");
        assert_file_context("/var/lib/hmacdx", "var_lib_t");
        assert_file_context("/usr/bin/hmacctl", "bin_t");
}

Test(selinux, started_by_systemd_or_bus_activation) {
        _cleanup_free_ char *out = sesearch("-T", "-t", "hmacd_exec_t", "-c", "process", NULL);

        cr_assert(strstr(out, "type_transition init_t hmacd_exec_t:process hmacd_t;"), "%s", out);
        cr_assert(strstr(out, "type_transition system_dbusd_t hmacd_exec_t:process hmacd_t;"), "%s", out);
        assert_allowed("init_t", "hmacd_t", "process", "transition");
        assert_allowed("system_dbusd_t", "hmacd_t", "process", "transition");
        assert_allowed("hmacd_t", "hmacd_exec_t", "file", "entrypoint,map,execute");
}

/* ---- what hmacd_t may do ---- */

Test(selinux, own_keys) {
        _cleanup_free_ char *all = sesearch("-A", "-s", "hmacd_t", "-c", "key", NULL);

        /* Every permission of the key class on its own keys, and nothing on anybody else's: this is
         * the only key rule that applies to hmacd_t. */
        cr_assert_str_eq(all, "allow hmacd_t hmacd_t:key { create link read search setattr view write };\n");
}

Test(selinux, state_directory) {
        assert_allowed("hmacd_t", "hmacd_var_lib_t", "dir",
                       "create,search,read,write,add_name,remove_name,getattr,setattr,rmdir");
        assert_allowed("hmacd_t", "hmacd_var_lib_t", "file",
                       "create,open,read,write,append,getattr,setattr,lock,map,link,rename,unlink");
        /* Creating /var/lib/hmacd when systemd has not. */
        assert_allowed("hmacd_t", "var_lib_t", "dir", "search,add_name,write");
        /* Read-only: /etc/machine-id and /etc/passwd, /proc/key-users, /dev/urandom. */
        assert_allowed("hmacd_t", "etc_t", "file", "open,read");
        assert_allowed("hmacd_t", "proc_t", "file", "open,read");
        assert_allowed("hmacd_t", "urandom_device_t", "chr_file", "open,read");
        assert_no_rules("hmacd_t may not write /etc", "-s", "hmacd_t", "-t", "etc_t", "-c", "file", "-p",
                        "write,append,create,unlink");
}

Test(selinux, system_bus) {
        assert_allowed("hmacd_t", "system_dbusd_runtime_t", "sock_file", "write");
        assert_allowed("hmacd_t", "system_dbusd_t", "unix_stream_socket", "connectto");
        assert_allowed("hmacd_t", "system_dbusd_t", "dbus", "send_msg,acquire_svc");
        assert_allowed("system_dbusd_t", "hmacd_t", "dbus", "send_msg");
        /* The journal. */
        assert_allowed("hmacd_t", "devlog_t", "sock_file", "write");
        assert_allowed("hmacd_t", "syslogd_t", "unix_dgram_socket", "sendto");
}

Test(selinux, polkit) {
        assert_allowed("hmacd_t", "policykit_t", "dbus", "send_msg");
        assert_allowed("policykit_t", "hmacd_t", "dbus", "send_msg");
}

Test(selinux, interfaces_for_clients_and_admins) {
        /* hmacd_dbus_chat(user_t) */
        assert_allowed("user_t", "hmacd_t", "dbus", "send_msg");
        assert_allowed("hmacd_t", "user_t", "dbus", "send_msg");
        /* hmacd_admin(sysadm_t, sysadm_r) */
        assert_allowed("sysadm_t", "hmacd_unit_t", "service", "start,stop,status");
        assert_allowed("sysadm_t", "hmacd_var_lib_t", "file", "read,write,unlink");
        assert_allowed("sysadm_t", "hmacd_t", "process", "signal");
}

/* ---- what hmacd_t may not do ---- */

Test(selinux, no_user_home) {
        assert_no_rules("hmacd_t may not touch user home files", "-s", "hmacd_t", "-t", "user_home_t");
        assert_no_rules("hmacd_t may not touch user home directories", "-s", "hmacd_t", "-t",
                        "user_home_dir_t");
        assert_no_rules("hmacd_t may not enter /home", "-s", "hmacd_t", "-t", "home_root_t");
}

Test(selinux, no_network) {
        /* sesearch -p matches rules that have any of the permissions listed. */
        assert_no_rules("hmacd_t may not create a TCP socket", "-s", "hmacd_t", "-t", "hmacd_t", "-c",
                        "tcp_socket", "-p", "create");
        assert_no_rules("hmacd_t may not create network sockets", "-s", "hmacd_t", "-c",
                        "tcp_socket,udp_socket,sctp_socket,dccp_socket,rawip_socket,icmp_socket,"
                        "packet_socket,socket,netlink_socket,netlink_route_socket,tun_socket,"
                        "vsock_socket,xdp_socket,bluetooth_socket,can_socket",
                        "-p", "create");
        assert_no_rules("hmacd_t may not connect to or bind network ports", "-p",
                        "name_connect,name_bind,node_bind", "-s", "hmacd_t");
        assert_no_rules("hmacd_t may not send or receive network packets", "-s", "hmacd_t", "-c",
                        "packet,node,netif", "-p", "send,recv,sendto,recvfrom,egress,ingress");
}

/* The kernel engine: AF_ALG hash sockets of its own, with the calls afalg.c makes and no others. */
Test(selinux, alg_socket_for_the_kernel_engine) {
        assert_allowed("hmacd_t", "hmacd_t", "alg_socket", "create,bind,setopt,accept,read,write");
        assert_no_rules("hmacd_t may not listen on, connect or relabel its AF_ALG sockets", "-s", "hmacd_t", "-t",
                        "hmacd_t", "-c", "alg_socket", "-p", "listen,connect,relabelfrom,relabelto,ioctl");
}

/* Everything hmacd_t may create, whatever the class: its keys, its bus and journal sockets, the kernel
 * engine's AF_ALG sockets, its state. No other socket class (network, netlink) and no file anywhere
 * else. */
Test(selinux, creates_only_its_own_objects) {
        static const char *const expected[] = {
                "hmacd_t:alg_socket", "hmacd_t:key", "hmacd_t:unix_dgram_socket", "hmacd_t:unix_stream_socket",
                "hmacd_var_lib_t:dir", "hmacd_var_lib_t:file",
        };
        _cleanup_free_ char *out = sesearch("-A", "-s", "hmacd_t", "-p", "create", NULL);
        const char *l = out;
        size_t n = 0;

        while (l && *l) {
                const char *end = strchrnul(l, '\n');
                char source[64], object[128];
                bool found = false;

                cr_assert_eq(sscanf(l, "allow %63s %127s", source, object), 2, "unexpected line: %.*s",
                             (int) (end - l), l);
                for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                        found = found || streq(object, expected[i]);
                cr_assert(found, "hmacd_t may create %s:\n%s", object, out);
                n++;
                l = *end ? end + 1 : NULL;
        }
        cr_assert_geq(n, ELEMENTSOF(expected), "%s", out);
}

Test(selinux, no_capabilities) {
        assert_no_rules("hmacd_t needs no capabilities", "-s", "hmacd_t", "-c",
                        "capability,capability2,cap_userns,cap2_userns");
        assert_no_rules("hmacd_t may not ptrace", "-s", "hmacd_t", "-c", "process", "-p", "ptrace");
}
