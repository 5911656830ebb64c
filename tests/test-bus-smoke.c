/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Smoke test for the integration machinery: a private system bus with the project's policy, the
 * daemon started as user hmacd and reachable on it, commands run as other users, and every process
 * stopped by PID again. */

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>

#include "harness.h"

/* ---- the bus alone ---- */

TestSuite(bus_smoke, .init = harness_setup_bus, .fini = harness_teardown, .timeout = 60);

Test(bus_smoke, list) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        pid_t pid = harness_bus_pid();

        cr_assert_gt(pid, 0);
        cr_assert_not_null(harness_bus_address());
        cr_assert_str_eq(getenv("DBUS_SYSTEM_BUS_ADDRESS"), harness_bus_address());

        cr_assert_geq(harness_runl(NULL, &res, "busctl", "--system", "--no-pager", "list", NULL), 0);
        cr_assert_eq(res.exit_code, 0, "busctl list %s: %s", harness_describe_status(res.status), res.err);
        cr_assert_not_null(strstr(res.out, "org.freedesktop.DBus"), "busctl list printed: %s", res.out);

        /* Stopped by PID, and really gone. */
        cr_assert_geq(harness_bus_stop(), 0);
        cr_assert_eq(harness_bus_pid(), 0);
        cr_assert(kill(pid, 0) < 0 && errno == ESRCH, "dbus-daemon PID %d still exists", (int) pid);
}

Test(bus_smoke, root_may_not_own_the_name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        /* Only user hmacd may own io.hmacd.Kms1, root included (dbus/io.hmacd.Kms1.conf). */
        cr_assert_geq(sd_bus_open_system(&bus), 0);
        r = sd_bus_request_name(bus, HARNESS_BUS_NAME, 0);
        cr_assert_eq(r, -EACCES, "RequestName(%s) as UID %d returned %d", HARNESS_BUS_NAME, (int) getuid(),
                     r);
        cr_assert_eq(harness_name_has_owner(HARNESS_BUS_NAME), 0);
}

Test(bus_smoke, run_as_other_user) {
        static const char script[] =
                "busctl --system --no-pager list >/dev/null && cat && echo oops >&2 && exit 3";
        _cleanup_(harness_result_done) HarnessResult res = {}, res2 = {};
        char expected[32];
        uid_t uid;

        if (geteuid() != 0)
                cr_skip_test("running commands as another user needs root");
        cr_assert_geq(harness_lookup_user("nobody", &uid, NULL), 0);

        cr_assert_geq(harness_runl("nobody", &res, "id", "-u", NULL), 0);
        cr_assert_eq(res.exit_code, 0);
        snprintf(expected, sizeof(expected), "%u\n", (unsigned) uid);
        cr_assert_str_eq(res.out, expected);

        /* Others can reach the private bus too, and standard input and error are passed on. */
        cr_assert_geq(harness_run("nobody", "hello", 5,
                                  (char *[]) { (char *) "sh", (char *) "-c", (char *) script, NULL }, &res2),
                      0);
        cr_assert_eq(res2.exit_code, 3, "%s: %s", harness_describe_status(res2.status), res2.err);
        cr_assert_str_eq(res2.out, "hello");
        cr_assert_str_eq(res2.err, "oops\n");
}

/* ---- the daemon on the bus ---- */

TestSuite(daemon_smoke, .init = harness_setup_daemon, .fini = harness_teardown, .timeout = 60);

static void assert_introspect(const char *user) {
        _cleanup_(harness_result_done) HarnessResult res = {};

        cr_assert_geq(harness_runl(user, &res, "busctl", "--system", "--no-pager", "introspect",
                                   HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, NULL),
                      0);
        cr_assert_eq(res.exit_code, 0, "busctl introspect as %s %s: %s", user ?: "root",
                     harness_describe_status(res.status), res.err);
        cr_assert_not_null(strstr(res.out, "GenerateMac"), "introspection lacks GenerateMac: %s", res.out);
}

Test(daemon_smoke, introspect) {
        assert_introspect(NULL);
        /* The bus policy lets anyone call Introspect. */
        assert_introspect("nobody");
}

Test(daemon_smoke, runs_as_hmacd) {
        _cleanup_free_ char *path = NULL, *status = NULL;
        char expected[64];
        uid_t uid;
        gid_t gid;

        cr_assert_geq(harness_lookup_user(HARNESS_DAEMON_USER, &uid, &gid), 0);
        cr_assert_geq(asprintf(&path, "/proc/%d/status", (int) harness_daemon_pid()), 0);
        cr_assert_geq(harness_read_file(path, &status, NULL), 0);

        snprintf(expected, sizeof(expected), "\nUid:\t%u\t%u\t%u\t%u\n", uid, uid, uid, uid);
        cr_assert_not_null(strstr(status, expected), "daemon is not running as %s: %s", HARNESS_DAEMON_USER,
                           status);
        snprintf(expected, sizeof(expected), "\nGid:\t%u\t%u\t%u\t%u\n", gid, gid, gid, gid);
        cr_assert_not_null(strstr(status, expected), "daemon's groups are wrong: %s", status);
}

Test(daemon_smoke, stop_restart_kill) {
        pid_t first = harness_daemon_pid(), second;
        int status = -1;

        /* SIGTERM ends it cleanly with status 0 (API.md, section 9). */
        cr_assert_geq(harness_daemon_stop(&status), 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hmacd %s on SIGTERM",
                  harness_describe_status(status));
        cr_assert_eq(harness_daemon_pid(), 0);
        cr_assert(kill(first, 0) < 0 && errno == ESRCH);

        /* Same state directory again. */
        cr_assert_geq(harness_daemon_restart(), 0);
        second = harness_daemon_pid();
        cr_assert_gt(second, 0);
        cr_assert_neq(second, first);
        assert_introspect(NULL);

        /* A crash: the bus drops the name, and a fresh start takes over the state. */
        cr_assert_geq(harness_daemon_kill(), 0);
        cr_assert(kill(second, 0) < 0 && errno == ESRCH);
        cr_assert_geq(harness_daemon_restart(), 0);
        assert_introspect(NULL);
}
