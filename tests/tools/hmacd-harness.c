/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacd-harness run [DAEMON-ARGS...] -- COMMAND [ARGS...]
 *
 * The test harness (tests/harness.c) for scripts: starts the private bus and the daemon exactly as the
 * Criterion tests do, runs COMMAND with DBUS_SYSTEM_BUS_ADDRESS, HMACD_BUS_PID, HMACD_DAEMON_PID and
 * HMACD_DAEMON_LOG in its environment, then stops the daemon with SIGTERM (printing how it ended) and
 * the bus, by PID. Exits with COMMAND's status, or 1 if the daemon did not exit cleanly. `make demo`
 * uses it (tests/demo.sh), so that there is one way to start bus and daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static int usage(void) {
        fprintf(stderr, "usage: hmacd-harness run [DAEMON-ARGS...] -- COMMAND [ARGS...]\n");
        return 2;
}

static int setenv_number(const char *name, long value) {
        char buf[32];
        snprintf(buf, sizeof buf, "%ld", value);
        return setenv(name, buf, 1) < 0 ? -errno : 0;
}

int main(int argc, char *argv[]) {
        char **daemon_args, **command;
        HarnessResult res = {};
        int sep = -1, status = 0, r;

        if (argc < 2 || strcmp(argv[1], "run") != 0)
                return usage();
        for (int i = 2; i < argc; i++)
                if (strcmp(argv[i], "--") == 0) {
                        sep = i;
                        break;
                }
        if (sep < 0 || sep + 1 >= argc)
                return usage();
        argv[sep] = NULL;
        daemon_args = argv + 2;
        command = argv + sep + 1;

        r = harness_daemon_startv(daemon_args);
        if (r < 0) {
                harness_stop_all();
                return 1;
        }
        if (setenv_number("HMACD_BUS_PID", harness_bus_pid()) < 0 ||
            setenv_number("HMACD_DAEMON_PID", harness_daemon_pid()) < 0 ||
            setenv("HMACD_DAEMON_LOG", harness_daemon_log_path(), 1) < 0) {
                harness_stop_all();
                return 1;
        }

        /* The command runs in the foreground, with the terminal's standard streams. */
        pid_t pid = fork();
        if (pid < 0) {
                harness_stop_all();
                return 1;
        }
        if (pid == 0) {
                execvp(command[0], command);
                fprintf(stderr, "hmacd-harness: %s: %m\n", command[0]);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;

        r = harness_daemon_stop(&res.status);
        printf("hmacd-harness: hmacd, stopped with SIGTERM, %s\n", harness_describe_status(res.status));
        harness_stop_all();
        if (r < 0 || !WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
                return 1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
