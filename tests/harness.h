/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test harness: runs the real components (a private dbus-daemon of type "system", the hmacd daemon
 * as the unprivileged user "hmacd", the CLI as any user) for Criterion integration tests.
 *
 * Criterion runs every test in its own process, so each test starts and stops its own instances:
 *
 *         TestSuite(cli, .init = harness_setup_daemon, .fini = harness_teardown);
 *
 *         Test(cli, describe) {
 *                 _cleanup_(harness_result_done) HarnessResult res = {};
 *                 cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "list-keys", NULL) >= 0);
 *                 cr_assert_eq(res.exit_code, 0, "stderr: %s", res.err);
 *         }
 *
 * All state lives in one per-process record; everything started is stopped by PID in
 * harness_teardown() (also registered with atexit()), and every child gets PR_SET_PDEATHSIG, so that
 * nothing outlives a test process that crashed or timed out. Temporary files live in one directory
 * under $TMPDIR (tests/run-tests points that into its own scratch directory, removed at the end).
 *
 * Paths: the build directory is $HMACD_BUILD_DIR, else the directory above the running test binary
 * (build/tests/test-x -> build), else "build"; the source directory is $HMACD_SOURCE_DIR, else the
 * directory above the build directory, else the current directory.
 *
 * Functions return 0 (or a positive value) on success and a negative errno on failure; on failure
 * they also print one line saying what went wrong (and the child's log, where there is one) to
 * standard error, so that a failing assertion needs no further explanation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

#define HARNESS_BUS_NAME "io.hmacd.Kms1"
#define HARNESS_OBJECT_PATH "/io/hmacd/Kms1"
#define HARNESS_INTERFACE "io.hmacd.Kms1"

/* The system user the daemon runs as, and a normal user for authorization tests; tests/run-tests
 * creates both (in a private mount namespace) when the host lacks them. */
#define HARNESS_DAEMON_USER "hmacd"
#define HARNESS_TEST_USER "hmacdtest"

/* Names accepted by harness_build_path() and the argv helpers: "@hmacctl" is replaced by the absolute
 * path of <build>/hmacctl, "@hmacd" by <build>/hmacd. */
#define HARNESS_HMACCTL "@hmacctl"
#define HARNESS_HMACD "@hmacd"

#define HARNESS_USEC_PER_SEC UINT64_C(1000000)
#define HARNESS_START_TIMEOUT_USEC (10 * HARNESS_USEC_PER_SEC)
#define HARNESS_STOP_TIMEOUT_USEC (10 * HARNESS_USEC_PER_SEC)
#define HARNESS_RUN_TIMEOUT_USEC (60 * HARNESS_USEC_PER_SEC)

/* ---- paths ---- */

const char *harness_build_dir(void);            /* absolute; NULL if it cannot be determined */
const char *harness_source_dir(void);           /* absolute; NULL if it cannot be determined */
/* "<build>/<name>" (name may be "@hmacctl" or "@hmacd" too); free() the result. */
int harness_build_path(const char *name, char **ret);
/* The per-test temporary directory (mode 0711, created on first use); NULL on failure. */
const char *harness_tmp_dir(void);

/* ---- users ---- */

int harness_lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid);
/* 0 if the tests can run real components here (root, and the user "hmacd" exists); otherwise a
 * negative errno and, in ret_reason if given, why (a static string). */
int harness_check_environment(const char **ret_reason);

/* ---- the private bus ---- */

/* Writes <tmp>/bus.conf from tests/bus.conf.in, starts dbus-daemon --nofork (as the calling user),
 * reads its address and sets DBUS_SYSTEM_BUS_ADDRESS in this process (so children, sd-bus and
 * libhmacd use it). Its log is <tmp>/dbus.log. */
int harness_bus_start(void);
int harness_bus_stop(void);                     /* SIGTERM, wait, SIGKILL after the timeout */
pid_t harness_bus_pid(void);                    /* 0 when not running */
const char *harness_bus_address(void);          /* NULL when not running */
/* Polls org.freedesktop.DBus.NameHasOwner every few milliseconds until name has an owner. If pid is
 * > 0 and that child exits meanwhile, fails with -ECHILD (and *ret_status, if given, is its wait
 * status; the child is reaped and forgotten). -ETIMEDOUT after timeout_usec. */
int harness_wait_for_name(const char *name, pid_t pid, uint64_t timeout_usec, int *ret_status);
/* 1 if name has an owner on the private bus, 0 if not. */
int harness_name_has_owner(const char *name);

/* ---- the daemon ---- */

/* Starts <build>/hmacd --state-dir=<tmp>/state --log-target=stderr [extra args...] as user "hmacd"
 * (state dir created 0700 and owned by that user on first use, kept across restarts), with standard
 * output and error appended to <tmp>/hmacd.log, and waits until it owns io.hmacd.Kms1. Starts the
 * bus first if it is not running. The extra arguments are remembered for harness_daemon_restart().
 * Its environment is the test's (DBUS_SYSTEM_BUS_ADDRESS included) with HOME=<state dir>.
 * Fails with -EBUSY if the daemon is already running, -ECHILD if it exited before becoming ready,
 * -ETIMEDOUT if it did not own the name within HARNESS_START_TIMEOUT_USEC (it is killed then); in
 * both cases its log is printed. */
int harness_daemon_start(void);
int harness_daemon_startl(const char *extra_arg, ...) __attribute__((sentinel)); /* args, NULL */
int harness_daemon_startv(char *const *extra_args);    /* NULL-terminated, or NULL */
/* Adds "NAME=VALUE" to the daemon's environment for the next starts (e.g. CREDENTIALS_DIRECTORY).
 * By default the daemon gets the test's environment minus the systemd service variables
 * (NOTIFY_SOCKET, LISTEN_*, CREDENTIALS_DIRECTORY, STATE_DIRECTORY, JOURNAL_STREAM, ...). */
int harness_daemon_setenv(const char *assignment);
/* SIGTERM, wait up to HARNESS_STOP_TIMEOUT_USEC (SIGKILL after that, returning -ETIMEDOUT); the
 * wait status goes to *ret_status. If the daemon had already exited, returns that status. */
int harness_daemon_stop(int *ret_status);
int harness_daemon_kill(void);                  /* SIGKILL and reap */
int harness_daemon_restart(void);               /* stop if running, start with the same arguments */
pid_t harness_daemon_pid(void);                 /* 0 when not running (reaps it if it exited) */
bool harness_daemon_running(void);
/* Path of the state directory, created (0700, owned by "hmacd") if needed; NULL on failure. */
const char *harness_state_dir(void);
const char *harness_daemon_log_path(void);      /* NULL before the first start */
/* The daemon's log so far (standard output and error of every start); free() the result. */
int harness_daemon_log(char **ret);

/* ---- other processes ---- */

/* Starts argv (argv[0] absolute, "@hmacctl"/"@hmacd", or a name found in $PATH) as user (NULL: as
 * the caller), stdin from /dev/null, stdout and stderr appended to log_path (NULL: /dev/null).
 * The child is remembered and stopped by harness_teardown(); name is used in messages. */
int harness_spawn(const char *name, const char *user, char *const argv[], const char *log_path,
                  pid_t *ret_pid);
/* Sends sig (0: SIGTERM) to a child started here, waits up to timeout_usec for it, SIGKILLs it after
 * that (returning -ETIMEDOUT), reaps it and forgets it. *ret_status is the wait status. A child
 * that had already exited is just reaped. */
int harness_stop(pid_t pid, int sig, uint64_t timeout_usec, int *ret_status);

/* ---- running commands ---- */

typedef struct HarnessResult {
        int status;             /* raw wait status */
        int exit_code;          /* exit status, or -1 when killed by a signal */
        int signal;             /* the terminating signal, or 0 */
        bool timed_out;         /* killed after HARNESS_RUN_TIMEOUT_USEC */
        char *out;              /* standard output, NUL-terminated (may contain other NULs) */
        size_t out_size;
        char *err;              /* standard error, NUL-terminated */
        size_t err_size;
} HarnessResult;

/* Runs argv as user (a name such as "nobody", HARNESS_TEST_USER; NULL: as the caller) with its
 * supplementary groups, HOME/USER/LOGNAME set for it, the rest of the environment (including
 * DBUS_SYSTEM_BUS_ADDRESS) inherited, input (input_size bytes; NULL: /dev/null) on standard input,
 * and waits for it (SIGKILL after HARNESS_RUN_TIMEOUT_USEC, which sets timed_out). Fills *ret; a
 * non-zero exit is not an error of this function. */
int harness_run(const char *user, const void *input, size_t input_size, char *const argv[],
                HarnessResult *ret);
/* The same with the arguments listed, NULL-terminated, and no input. */
int harness_runl(const char *user, HarnessResult *ret, const char *arg0, ...) __attribute__((sentinel));
void harness_result_done(HarnessResult *r);

/* "exited with status 3", "killed by signal 9 (Killed)"; a static buffer. */
const char *harness_describe_status(int status);

/* Reads a whole file, NUL-terminated; free() the result. */
int harness_read_file(const char *path, char **ret, size_t *ret_size);

/* ---- teardown ---- */

/* Stops the daemon (SIGTERM, then SIGKILL), every other child, then the bus, all by PID; prints the
 * daemon's log if it died on its own or did not exit cleanly; removes the temporary directory
 * (kept, and its path printed, when $HMACD_TEST_KEEP is set); unsets DBUS_SYSTEM_BUS_ADDRESS.
 * Idempotent. */
void harness_stop_all(void);

/* ---- Criterion fixtures (.init / .fini) ---- */

/* Skip the test (or fail it, when run under tests/run-tests, which sets HMACD_TEST_ENV=1) unless
 * harness_check_environment() is happy. */
void harness_require_environment(void);
/* In .init functions: if r < 0, stop everything (Criterion does not run .fini after a failed .init)
 * and fail the test with "Failed to <what>: <error>". */
void harness_check(int r, const char *what);
void harness_setup_bus(void);                   /* .init: the private bus */
void harness_setup_daemon(void);                /* .init: environment check, bus, daemon */
void harness_teardown(void);                    /* .fini: harness_stop_all() */
