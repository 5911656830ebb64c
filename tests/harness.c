/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test harness: starts a private bus, the daemon as user "hmacd" and commands as any user, and stops
 * them all by PID. See harness.h for the API and the conventions. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define CHILDREN_MAX 32
#define GROUPS_MAX 256
#define ENV_EXTRA_MAX 32
#define POLL_INTERVAL_USEC 5000

extern char **environ;

static void *mfree(void *p) {
        free(p);
        return NULL;
}

typedef struct Child {
        pid_t pid;
        char *name;
} Child;

typedef struct Harness {
        char *build_dir;
        char *source_dir;
        char *tmp_dir;
        char *state_dir;

        pid_t bus_pid;
        char *bus_address;

        pid_t daemon_pid;
        char **daemon_args;             /* extra arguments, for restarts */
        char *daemon_env[ENV_EXTRA_MAX + 1];
        size_t n_daemon_env;
        char *daemon_log;

        Child children[CHILDREN_MAX];
        bool atexit_registered;
} Harness;

static Harness harness;

/* ---- small helpers ---- */

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * HARNESS_USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = {
                .tv_sec = usec / HARNESS_USEC_PER_SEC,
                .tv_nsec = (usec % HARNESS_USEC_PER_SEC) * 1000,
        };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

static void strv_freep(char ***l) {
        strv_free(*l);
}

static size_t strv_length(char *const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

static char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i]) {
                        strv_free(c);
                        return NULL;
                }
        }
        return c;
}

static char *path_join(const char *a, const char *b) {
        char *p;

        if (asprintf(&p, "%s/%s", a, b) < 0)
                return NULL;
        return p;
}

static bool path_is_safe(const char *p) {
        /* Paths go unescaped into a D-Bus address and into XML: keep to the harmless characters. */
        return p[strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+")] == 0;
}

static int write_all(int fd, const void *buf, size_t size) {
        const char *p = buf;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

static int read_fd(int fd, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        for (;;) {
                if (allocated - size < 4096) {
                        size_t a = allocated ? allocated * 2 : 16384;
                        char *b = realloc(buf, a);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated = a;
                }
                ssize_t n = read(fd, buf + size, allocated - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        } else
                buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int harness_read_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_fd(fd, ret, ret_size);
}

static void dump_log(const char *title, const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;

        if (!path || harness_read_file(path, &text, &size) < 0)
                return;
        fprintf(stderr, "harness: ---- %s (%s) ----\n%s%s", title, path, text,
                size > 0 && text[size - 1] != '\n' ? "\n" : "");
        fprintf(stderr, "harness: ---- end of %s ----\n", title);
}

const char *harness_describe_status(int status) {
        static char buf[96];

        if (WIFEXITED(status))
                snprintf(buf, sizeof(buf), "exited with status %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                snprintf(buf, sizeof(buf), "killed by signal %d (%s)%s", WTERMSIG(status),
                         strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
        else
                snprintf(buf, sizeof(buf), "wait status 0x%x", (unsigned) status);
        return buf;
}

/* ---- paths ---- */

static char *dirname_of(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

const char *harness_build_dir(void) {
        char *d;

        if (harness.build_dir)
                return harness.build_dir;

        d = getenv("HMACD_BUILD_DIR");
        if (d && *d)
                harness.build_dir = realpath(d, NULL);
        else {
                /* build/tests/test-foo -> build */
                _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
                _cleanup_free_ char *tests = exe ? dirname_of(exe) : NULL;
                const char *base = tests ? strrchr(tests, '/') : NULL;

                if (base && streq(base, "/tests"))
                        harness.build_dir = dirname_of(tests);
                else
                        harness.build_dir = realpath("build", NULL);
        }
        if (!harness.build_dir)
                fprintf(stderr, "harness: cannot determine the build directory (set HMACD_BUILD_DIR)\n");
        return harness.build_dir;
}

const char *harness_source_dir(void) {
        const char *d;

        if (harness.source_dir)
                return harness.source_dir;

        d = getenv("HMACD_SOURCE_DIR");
        if (d && *d)
                harness.source_dir = realpath(d, NULL);
        else {
                const char *b = harness_build_dir();
                _cleanup_free_ char *up = b ? dirname_of(b) : NULL;
                _cleanup_free_ char *probe = up ? path_join(up, "tests/bus.conf.in") : NULL;

                if (probe && access(probe, F_OK) >= 0)
                        harness.source_dir = TAKE_PTR(up);
                else if (access("tests/bus.conf.in", F_OK) >= 0)
                        harness.source_dir = realpath(".", NULL);
        }
        if (!harness.source_dir)
                fprintf(stderr, "harness: cannot find the source directory (set HMACD_SOURCE_DIR)\n");
        return harness.source_dir;
}

int harness_build_path(const char *name, char **ret) {
        const char *b = harness_build_dir();
        char *p;

        if (!b)
                return -ENOENT;
        if (name[0] == '@')
                name++;
        p = path_join(b, name);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

const char *harness_tmp_dir(void) {
        _cleanup_free_ char *t = NULL;
        const char *base = getenv("TMPDIR");

        if (harness.tmp_dir)
                return harness.tmp_dir;

        if (!base || !*base)
                base = "/tmp";
        if (asprintf(&t, "%s/hmacd-test.XXXXXX", base) < 0)
                return NULL;
        if (!path_is_safe(t)) {
                fprintf(stderr, "harness: temporary directory '%s' has unusual characters; set TMPDIR\n", t);
                return NULL;
        }
        if (!mkdtemp(t)) {
                fprintf(stderr, "harness: cannot create %s: %m\n", t);
                return NULL;
        }
        /* Others (the daemon's user, the CLI's users) must reach the state directory and the bus
         * socket below, but need not list the directory. */
        if (chmod(t, 0711) < 0) {
                fprintf(stderr, "harness: cannot chmod %s: %m\n", t);
                (void) rmdir(t);
                return NULL;
        }
        harness.tmp_dir = TAKE_PTR(t);
        return harness.tmp_dir;
}

/* ---- users ---- */

typedef struct UserInfo {
        uid_t uid;
        gid_t gid;
        char *name;
        char *home;
        gid_t groups[GROUPS_MAX];
        int n_groups;
} UserInfo;

static void user_info_done(UserInfo *u) {
        free(u->name);
        free(u->home);
        *u = (UserInfo) {};
}

static int user_info_get(const char *name, UserInfo *ret) {
        struct passwd *pw;
        int n = GROUPS_MAX;

        errno = 0;
        pw = getpwnam(name);
        if (!pw)
                return errno > 0 ? -errno : -ESRCH;

        *ret = (UserInfo) {
                .uid = pw->pw_uid,
                .gid = pw->pw_gid,
                .name = strdup(pw->pw_name),
                .home = strdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/"),
        };
        if (!ret->name || !ret->home) {
                user_info_done(ret);
                return -ENOMEM;
        }
        if (getgrouplist(ret->name, ret->gid, ret->groups, &n) < 0) {
                /* More than GROUPS_MAX: keep the primary group only. */
                ret->groups[0] = ret->gid;
                n = 1;
        }
        ret->n_groups = n;
        return 0;
}

int harness_lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid) {
        struct passwd *pw;

        errno = 0;
        pw = getpwnam(name);
        if (!pw)
                return errno > 0 ? -errno : -ESRCH;
        if (ret_uid)
                *ret_uid = pw->pw_uid;
        if (ret_gid)
                *ret_gid = pw->pw_gid;
        return 0;
}

int harness_check_environment(const char **ret_reason) {
        const char *reason = NULL;
        int r = 0;

        if (geteuid() != 0) {
                reason = "the integration tests must run as root (they start the daemon as user "
                         HARNESS_DAEMON_USER "); run them with tests/run-tests (make check)";
                r = -EPERM;
        } else if (harness_lookup_user(HARNESS_DAEMON_USER, NULL, NULL) < 0) {
                reason = "there is no user '" HARNESS_DAEMON_USER "'; run the tests with tests/run-tests "
                         "(make check), which adds it in a private mount namespace";
                r = -ESRCH;
        }
        if (ret_reason)
                *ret_reason = reason;
        return r;
}

/* ---- environment for children ---- */

static bool env_dropped(const char *e, const char *const *drop) {
        for (const char *const *d = drop; d && *d; d++) {
                size_t l = strlen(*d);

                if (strncmp(e, *d, l) != 0)
                        continue;
                /* An entry ending in '_' is a prefix ("LISTEN_"), otherwise a whole name. */
                if ((*d)[l - 1] == '_' || e[l] == '=')
                        return true;
        }
        return false;
}

/* environ minus drop, minus the names set in add, plus add. */
static char **env_build(const char *const *drop, char *const *add) {
        size_t n = strv_length(environ) + strv_length(add), k = 0;
        _cleanup_(strv_freep) char **e = calloc(n + 1, sizeof(char *));

        if (!e)
                return NULL;
        for (char **i = environ; *i; i++) {
                bool overridden = false;

                if (env_dropped(*i, drop))
                        continue;
                for (char *const *a = add; a && *a; a++) {
                        const char *eq = strchr(*a, '=');
                        size_t l = eq ? (size_t) (eq - *a) : strlen(*a);

                        if (strncmp(*i, *a, l) == 0 && (*i)[l] == '=')
                                overridden = true;
                }
                if (overridden)
                        continue;
                e[k] = strdup(*i);
                if (!e[k])
                        return NULL;
                k++;
        }
        for (char *const *a = add; a && *a; a++) {
                e[k] = strdup(*a);
                if (!e[k])
                        return NULL;
                k++;
        }
        return TAKE_PTR(e);
}

/* For running something as user (NULL: as the caller): looks the user up into *u and builds the
 * environment, ours with HOME, USER and LOGNAME set for that user. */
static int user_env(const char *user, UserInfo *u, char ***ret_envp) {
        static const char *const drop[] = { "HOME", "USER", "LOGNAME", NULL };
        _cleanup_free_ char *home = NULL, *usr = NULL, *logname = NULL;
        char **e;
        int r;

        if (!user) {
                e = env_build(NULL, NULL);
                if (!e)
                        return -ENOMEM;
                *ret_envp = e;
                return 0;
        }

        r = user_info_get(user, u);
        if (r < 0) {
                fprintf(stderr, "harness: no user '%s': %s\n", user, strerror(-r));
                return r;
        }
        if (asprintf(&home, "HOME=%s", u->home) < 0 || asprintf(&usr, "USER=%s", u->name) < 0 ||
            asprintf(&logname, "LOGNAME=%s", u->name) < 0)
                return -ENOMEM;
        e = env_build(drop, (char *[]) { home, usr, logname, NULL });
        if (!e)
                return -ENOMEM;
        *ret_envp = e;
        return 0;
}

/* ---- spawning ---- */

/* argv[0]: "@name" -> <build>/name, "name" -> first match in $PATH, anything with a '/' as is. */
static int resolve_executable(const char *arg0, char **ret) {
        const char *path;

        if (arg0[0] == '@')
                return harness_build_path(arg0, ret);
        if (strchr(arg0, '/')) {
                *ret = strdup(arg0);
                return *ret ? 0 : -ENOMEM;
        }

        path = getenv("PATH");
        if (!path || !*path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (const char *p = path; *p;) {
                size_t l = strcspn(p, ":");
                char *c;

                if (asprintf(&c, "%.*s/%s", (int) l, p, arg0) < 0)
                        return -ENOMEM;
                if (access(c, X_OK) >= 0) {
                        *ret = c;
                        return 0;
                }
                free(c);
                p += l;
                if (*p == ':')
                        p++;
        }
        return -ENOENT;
}

typedef struct SpawnParams {
        const char *name;
        const UserInfo *user;           /* NULL: keep our credentials */
        char *const *argv;
        char *const *envp;
        int stdin_fd;                   /* -1: /dev/null */
        int stdout_fd;                  /* -1: /dev/null */
        int stderr_fd;                  /* -1: /dev/null */
        int pass_fd;                    /* kept open, with its number, in the child; -1: none */
} SpawnParams;

enum {
        STAGE_DUP,
        STAGE_GROUPS,
        STAGE_GID,
        STAGE_UID,
        STAGE_PDEATHSIG,
        STAGE_EXEC,
};

static const char *const stage_names[] = {
        [STAGE_DUP] = "set up file descriptors",
        [STAGE_GROUPS] = "setgroups",
        [STAGE_GID] = "setresgid",
        [STAGE_UID] = "setresuid",
        [STAGE_PDEATHSIG] = "set the parent-death signal",
        [STAGE_EXEC] = "execute",
};

_Noreturn static void child_fail(int report_fd, int stage) {
        int msg[2] = { stage, errno };

        (void) !write(report_fd, msg, sizeof(msg));
        _exit(127);
}

/* Runs in the forked child: only async-signal-safe calls. */
_Noreturn static void child_exec(const SpawnParams *p, const char *path, int devnull, int report_fd,
                                  pid_t parent) {
        int src[3] = {
                p->stdin_fd >= 0 ? p->stdin_fd : devnull,
                p->stdout_fd >= 0 ? p->stdout_fd : devnull,
                p->stderr_fd >= 0 ? p->stderr_fd : devnull,
        };
        sigset_t mask;
        int fd;

        /* Move everything we need out of the way of 0..2, then put it in place. */
        for (size_t i = 0; i < 3; i++) {
                src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
                if (src[i] < 0)
                        child_fail(report_fd, STAGE_DUP);
        }
        fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 3);
        if (fd >= 0)
                report_fd = fd;
        for (int i = 0; i < 3; i++)
                if (dup2(src[i], i) < 0)
                        child_fail(report_fd, STAGE_DUP);

        /* Nothing the test process inherited without O_CLOEXEC (Criterion's own pipes, say) may leak
         * into the child: mark everything above 2 close-on-exec, then let pass_fd through. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                for (fd = 3; fd < 4096; fd++)
                        if (fd != p->pass_fd && fd != report_fd)
                                (void) close(fd);
        if (p->pass_fd >= 0) {
                int flags = fcntl(p->pass_fd, F_GETFD);

                if (flags < 0 || fcntl(p->pass_fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
                        child_fail(report_fd, STAGE_DUP);
        }

        if (p->user) {
                if (setgroups((size_t) p->user->n_groups, p->user->groups) < 0)
                        child_fail(report_fd, STAGE_GROUPS);
                if (setresgid(p->user->gid, p->user->gid, p->user->gid) < 0)
                        child_fail(report_fd, STAGE_GID);
                if (setresuid(p->user->uid, p->user->uid, p->user->uid) < 0)
                        child_fail(report_fd, STAGE_UID);
        }

        /* Signal dispositions set to "ignore" and the signal mask survive execve(): give the
         * child the defaults whatever the test did to itself. */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &(struct sigaction) { .sa_handler = SIG_DFL }, NULL);
        (void) sigemptyset(&mask);
        (void) sigprocmask(SIG_SETMASK, &mask, NULL);

        /* Set after the credential change, which clears it. If the test process dies before its
         * .fini runs (a crash, a Criterion timeout), the kernel kills what it started. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_fail(report_fd, STAGE_PDEATHSIG);
        if (getppid() != parent)
                _exit(127);

        execve(path, p->argv, p->envp);
        child_fail(report_fd, STAGE_EXEC);
}

static int spawn_internal(const SpawnParams *p, pid_t *ret_pid) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int devnull = -1, report_read = -1, report_write = -1;
        int fds[2], msg[2], r;
        pid_t pid, parent = getpid();
        ssize_t n;

        r = resolve_executable(p->argv[0], &path);
        if (r < 0) {
                fprintf(stderr, "harness: cannot find %s: %s\n", p->argv[0], strerror(-r));
                return r;
        }

        devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (devnull < 0)
                return -errno;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        report_read = fds[0];
        report_write = fds[1];

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_exec(p, path, devnull, report_write, parent);

        close(report_write);
        report_write = -1;
        do
                n = read(report_read, msg, sizeof(msg));
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t) sizeof(msg)) {
                /* The child failed before exec: reap it and pass the error on. */
                (void) waitpid(pid, NULL, 0);
                fprintf(stderr, "harness: %s: failed to %s%s%s: %s\n", p->name,
                        msg[0] >= 0 && msg[0] <= STAGE_EXEC ? stage_names[msg[0]] : "start",
                        msg[0] == STAGE_EXEC ? " " : "", msg[0] == STAGE_EXEC ? path : "",
                        strerror(msg[1]));
                return msg[1] > 0 ? -msg[1] : -EIO;
        }

        *ret_pid = pid;
        return 0;
}

static int children_add(pid_t pid, const char *name) {
        if (!harness.atexit_registered) {
                /* A test that exits or forgets its .fini still stops what it started. */
                if (atexit(harness_stop_all) == 0)
                        harness.atexit_registered = true;
        }
        for (size_t i = 0; i < CHILDREN_MAX; i++)
                if (harness.children[i].pid == 0) {
                        harness.children[i] = (Child) { .pid = pid, .name = strdup(name) };
                        return 0;
                }
        return -ENOSPC;
}

static Child *children_find(pid_t pid) {
        for (size_t i = 0; i < CHILDREN_MAX; i++)
                if (pid > 0 && harness.children[i].pid == pid)
                        return &harness.children[i];
        return NULL;
}

static void children_forget(pid_t pid) {
        Child *c = children_find(pid);

        if (!c)
                return;
        free(c->name);
        *c = (Child) {};
}

/* Waits for pid to exit, up to timeout_usec (0: just check). 1 and *ret_status if it exited
 * (reaped), 0 if still running. */
static int wait_exit(pid_t pid, uint64_t timeout_usec, int *ret_status) {
        uint64_t deadline = now_usec() + timeout_usec;

        for (;;) {
                int status = 0;
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == ECHILD) {
                        /* Reaped elsewhere (SIGCHLD ignored?): gone in any case. */
                        if (ret_status)
                                *ret_status = 0;
                        return 1;
                }
                if (w < 0)
                        return -errno;
                if (w == pid) {
                        if (ret_status)
                                *ret_status = status;
                        return 1;
                }
                if (now_usec() >= deadline)
                        return 0;
                sleep_usec(POLL_INTERVAL_USEC);
        }
}

int harness_stop(pid_t pid, int sig, uint64_t timeout_usec, int *ret_status) {
        int r, status = 0;

        if (pid <= 0)
                return -EINVAL;

        r = wait_exit(pid, 0, &status);
        if (r == 0) {
                (void) kill(pid, sig > 0 ? sig : SIGTERM);
                r = wait_exit(pid, timeout_usec, &status);
                if (r == 0) {
                        Child *c = children_find(pid);

                        fprintf(stderr, "harness: %s (PID %d) did not exit within %.1f s, killing it\n",
                                c && c->name ? c->name : "child", (int) pid,
                                (double) timeout_usec / HARNESS_USEC_PER_SEC);
                        (void) kill(pid, SIGKILL);
                        (void) wait_exit(pid, UINT64_MAX / 2, &status);
                        r = -ETIMEDOUT;
                }
        }
        children_forget(pid);
        if (ret_status)
                *ret_status = status;
        return r < 0 ? r : 0;
}

int harness_spawn(const char *name, const char *user, char *const argv[], const char *log_path,
                  pid_t *ret_pid) {
        _cleanup_(user_info_done) UserInfo u = {};
        _cleanup_(strv_freep) char **envp = NULL;
        _cleanup_close_ int log_fd = -1;
        pid_t pid;
        int r;

        if (!argv || !argv[0])
                return -EINVAL;

        r = user_env(user, &u, &envp);
        if (r < 0)
                return r;

        if (log_path) {
                log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
                if (log_fd < 0)
                        return -errno;
        }

        r = spawn_internal(&(SpawnParams) {
                .name = name,
                .user = user ? &u : NULL,
                .argv = argv,
                .envp = envp,
                .stdin_fd = -1,
                .stdout_fd = log_fd,
                .stderr_fd = log_fd,
                .pass_fd = -1,
        }, &pid);
        if (r < 0)
                return r;

        r = children_add(pid, name);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        if (ret_pid)
                *ret_pid = pid;
        return 0;
}

/* ---- the bus ---- */

static int replace_all(const char *text, const char *const *pairs, char **ret) {
        /* pairs: { "@FOO@", "value", ..., NULL } */
        _cleanup_free_ char *out = strdup(text);

        if (!out)
                return -ENOMEM;
        for (const char *const *p = pairs; *p; p += 2) {
                size_t from = 0;

                for (;;) {
                        char *at = strstr(out + from, p[0]), *n;

                        if (!at)
                                break;
                        from = (size_t) (at - out) + strlen(p[1]);
                        if (asprintf(&n, "%.*s%s%s", (int) (at - out), out, p[1], at + strlen(p[0])) < 0)
                                return -ENOMEM;
                        free(out);
                        out = n;
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static int write_bus_config(const char *tmp, char **ret_path, char **ret_socket) {
        _cleanup_free_ char *template = NULL, *template_path = NULL, *policy = NULL, *config = NULL,
                            *config_path = NULL, *socket_path = NULL;
        _cleanup_close_ int fd = -1;
        const char *src = harness_source_dir();
        int r;

        if (!src)
                return -ENOENT;
        template_path = path_join(src, "tests/bus.conf.in");
        policy = path_join(src, "dbus/io.hmacd.Kms1.conf");
        config_path = path_join(tmp, "bus.conf");
        socket_path = path_join(tmp, "bus_socket");
        if (!template_path || !policy || !config_path || !socket_path)
                return -ENOMEM;
        if (!path_is_safe(policy) || !path_is_safe(socket_path)) {
                fprintf(stderr, "harness: paths with unusual characters: %s, %s\n", policy, socket_path);
                return -EINVAL;
        }
        if (access(policy, R_OK) < 0) {
                r = -errno;
                fprintf(stderr, "harness: cannot read the bus policy %s: %m\n", policy);
                return r;
        }

        r = harness_read_file(template_path, &template, NULL);
        if (r < 0) {
                fprintf(stderr, "harness: cannot read %s: %s\n", template_path, strerror(-r));
                return r;
        }
        r = replace_all(template,
                        (const char *const[]) {
                                "@SOCKET_PATH@", socket_path,
                                "@HMACD_POLICY@", policy,
                                NULL,
                        },
                        &config);
        if (r < 0)
                return r;

        fd = open(config_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return -errno;
        r = write_all(fd, config, strlen(config));
        if (r < 0)
                return r;

        /* A socket left by an earlier bus of this test would make bind() fail. */
        (void) unlink(socket_path);

        *ret_path = TAKE_PTR(config_path);
        *ret_socket = TAKE_PTR(socket_path);
        return 0;
}

/* Reads one line (the bus address) from fd, up to timeout_usec, watching the child pid. */
static int read_address(int fd, pid_t pid, uint64_t timeout_usec, char **ret) {
        char buf[1024];
        size_t size = 0;
        uint64_t deadline = now_usec() + timeout_usec;
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;

        for (;;) {
                ssize_t n = read(fd, buf + size, sizeof(buf) - 1 - size);

                if (n > 0) {
                        char *nl;

                        size += (size_t) n;
                        buf[size] = 0;
                        nl = strchr(buf, '\n');
                        if (nl) {
                                *nl = 0;
                                *ret = strdup(buf);
                                return *ret ? 0 : -ENOMEM;
                        }
                        if (size >= sizeof(buf) - 1)
                                return -E2BIG;
                        continue;
                }
                if (n == 0)
                        return -ECHILD;         /* closed without an address: it died */
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (wait_exit(pid, 0, NULL) > 0)
                        return -ECHILD;
                if (now_usec() >= deadline)
                        return -ETIMEDOUT;
                sleep_usec(POLL_INTERVAL_USEC);
        }
}

int harness_bus_start(void) {
        _cleanup_free_ char *config = NULL, *socket_path = NULL, *log_path = NULL, *arg_config = NULL,
                            *arg_print = NULL, *address = NULL;
        _cleanup_close_ int addr_read = -1, addr_write = -1, log_fd = -1;
        _cleanup_(strv_freep) char **envp = NULL;
        const char *tmp;
        int fds[2], r, status = 0;
        pid_t pid;

        if (harness.bus_pid > 0)
                return -EBUSY;

        tmp = harness_tmp_dir();
        if (!tmp)
                return -EIO;
        r = write_bus_config(tmp, &config, &socket_path);
        if (r < 0)
                return r;

        log_path = path_join(tmp, "dbus.log");
        if (!log_path)
                return -ENOMEM;
        log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
        if (log_fd < 0)
                return -errno;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        addr_read = fds[0];
        addr_write = fds[1];

        if (asprintf(&arg_config, "--config-file=%s", config) < 0 ||
            asprintf(&arg_print, "--print-address=%d", addr_write) < 0)
                return -ENOMEM;

        envp = env_build((const char *const[]) { "DBUS_", "NOTIFY_SOCKET", "LISTEN_", NULL }, NULL);
        if (!envp)
                return -ENOMEM;

        r = spawn_internal(&(SpawnParams) {
                .name = "dbus-daemon",
                .argv = (char *[]) { (char *) "dbus-daemon", arg_config, (char *) "--nofork",
                                     (char *) "--nopidfile", (char *) "--nosyslog", arg_print, NULL },
                .envp = envp,
                .stdin_fd = -1,
                .stdout_fd = log_fd,
                .stderr_fd = log_fd,
                .pass_fd = addr_write,
        }, &pid);
        if (r < 0)
                return r;
        close(addr_write);
        addr_write = -1;

        r = children_add(pid, "dbus-daemon");
        if (r < 0) {
                (void) harness_stop(pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, NULL);
                return r;
        }

        r = read_address(addr_read, pid, HARNESS_START_TIMEOUT_USEC, &address);
        if (r < 0) {
                (void) harness_stop(pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, &status);
                fprintf(stderr, "harness: dbus-daemon (PID %d) gave no address: %s (it %s)\n", (int) pid,
                        strerror(-r), harness_describe_status(status));
                dump_log("dbus-daemon log", log_path);
                return r;
        }

        if (setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1) < 0) {
                r = -errno;
                (void) harness_stop(pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC, NULL);
                return r;
        }

        harness.bus_pid = pid;
        harness.bus_address = TAKE_PTR(address);
        return 0;
}

int harness_bus_stop(void) {
        int r, status = 0;

        if (harness.bus_pid <= 0)
                return 0;
        r = harness_stop(harness.bus_pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC, &status);
        harness.bus_pid = 0;
        harness.bus_address = mfree(harness.bus_address);
        (void) unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
        return r;
}

pid_t harness_bus_pid(void) {
        return harness.bus_pid;
}

const char *harness_bus_address(void) {
        return harness.bus_address;
}

static int bus_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (!harness.bus_address)
                return -ENOTCONN;
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, harness.bus_address);
        if (r < 0)
                return r;
        r = sd_bus_set_bus_client(bus, true);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

static int name_has_owner(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r, b;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", &error, &reply, "s", name);
        if (r < 0) {
                fprintf(stderr, "harness: NameHasOwner(%s) failed: %s\n", name,
                        error.message ?: strerror(-r));
                return r;
        }
        r = sd_bus_message_read(reply, "b", &b);
        if (r < 0)
                return r;
        return b;
}

int harness_name_has_owner(const char *name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;
        return name_has_owner(bus, name);
}

int harness_wait_for_name(const char *name, pid_t pid, uint64_t timeout_usec, int *ret_status) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        uint64_t deadline = now_usec() + timeout_usec;
        int r;

        r = bus_connect(&bus);
        if (r < 0) {
                fprintf(stderr, "harness: cannot connect to the private bus: %s\n", strerror(-r));
                return r;
        }

        for (;;) {
                int status = 0;

                r = name_has_owner(bus, name);
                if (r < 0)
                        return r;
                if (r > 0)
                        return 0;
                if (pid > 0 && wait_exit(pid, 0, &status) > 0) {
                        children_forget(pid);
                        if (ret_status)
                                *ret_status = status;
                        return -ECHILD;
                }
                if (now_usec() >= deadline)
                        return -ETIMEDOUT;
                sleep_usec(POLL_INTERVAL_USEC);
        }
}

/* After the daemon is gone, until the bus has noticed (so that a restart does not race with the
 * old connection's name). */
static void wait_for_name_released(const char *name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        uint64_t deadline = now_usec() + HARNESS_STOP_TIMEOUT_USEC;

        if (!harness.bus_address || bus_connect(&bus) < 0)
                return;
        while (name_has_owner(bus, name) > 0) {
                if (now_usec() >= deadline) {
                        fprintf(stderr, "harness: %s still has an owner after hmacd exited\n", name);
                        return;
                }
                sleep_usec(POLL_INTERVAL_USEC);
        }
}

/* ---- the daemon ---- */

const char *harness_state_dir(void) {
        _cleanup_free_ char *d = NULL;
        const char *tmp;
        uid_t uid;
        gid_t gid;
        int r;

        if (harness.state_dir)
                return harness.state_dir;

        r = harness_lookup_user(HARNESS_DAEMON_USER, &uid, &gid);
        if (r < 0) {
                fprintf(stderr, "harness: no user '%s': %s\n", HARNESS_DAEMON_USER, strerror(-r));
                return NULL;
        }
        tmp = harness_tmp_dir();
        if (!tmp)
                return NULL;
        d = path_join(tmp, "state");
        if (!d)
                return NULL;
        if (mkdir(d, 0700) < 0 && errno != EEXIST) {
                fprintf(stderr, "harness: cannot create %s: %m\n", d);
                return NULL;
        }
        if (chown(d, uid, gid) < 0 || chmod(d, 0700) < 0) {
                fprintf(stderr, "harness: cannot hand %s to user %s: %m\n", d, HARNESS_DAEMON_USER);
                return NULL;
        }
        harness.state_dir = TAKE_PTR(d);
        return harness.state_dir;
}

const char *harness_daemon_log_path(void) {
        return harness.daemon_log;
}

int harness_daemon_log(char **ret) {
        if (!harness.daemon_log)
                return -ENOENT;
        return harness_read_file(harness.daemon_log, ret, NULL);
}

int harness_daemon_setenv(const char *assignment) {
        char *c;

        if (!strchr(assignment, '='))
                return -EINVAL;
        if (harness.n_daemon_env >= ENV_EXTRA_MAX)
                return -E2BIG;
        c = strdup(assignment);
        if (!c)
                return -ENOMEM;
        harness.daemon_env[harness.n_daemon_env++] = c;
        return 0;
}

int harness_daemon_startv(char *const *extra_args) {
        /* What a systemd service would get, which a test process may have in its environment. */
        static const char *const drop[] = {
                "NOTIFY_SOCKET", "LISTEN_", "CREDENTIALS_DIRECTORY", "STATE_DIRECTORY", "RUNTIME_DIRECTORY",
                "JOURNAL_STREAM", "INVOCATION_ID", "WATCHDOG_", "MAINPID", "HOME", "USER", "LOGNAME", NULL,
        };
        _cleanup_(user_info_done) UserInfo u = {};
        _cleanup_(strv_freep) char **argv = NULL, **envp = NULL, **saved = NULL;
        _cleanup_free_ char *log_path = NULL, *home = NULL, *usr = NULL, *logname = NULL;
        _cleanup_close_ int log_fd = -1;
        char *add[ENV_EXTRA_MAX + 4];
        size_t n_extra = strv_length(extra_args), k = 0;
        const char *state, *tmp;
        int r, status = 0;
        pid_t pid;

        if (harness_daemon_running())
                return -EBUSY;

        if (harness.bus_pid <= 0) {
                r = harness_bus_start();
                if (r < 0)
                        return r;
        }

        r = user_info_get(HARNESS_DAEMON_USER, &u);
        if (r < 0) {
                fprintf(stderr, "harness: no user '%s': %s\n", HARNESS_DAEMON_USER, strerror(-r));
                return r;
        }
        state = harness_state_dir();
        tmp = harness_tmp_dir();
        if (!state || !tmp)
                return -EIO;

        /* Keep the arguments for restarts (extra_args may be harness.daemon_args itself). */
        saved = strv_copy(extra_args);
        if (!saved)
                return -ENOMEM;

        argv = calloc(n_extra + 4, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        argv[0] = strdup(HARNESS_HMACD);
        if (asprintf(&argv[1], "--state-dir=%s", state) < 0) {
                argv[1] = NULL;
                return -ENOMEM;
        }
        argv[2] = strdup("--log-target=stderr");
        if (!argv[0] || !argv[2])
                return -ENOMEM;
        for (size_t i = 0; i < n_extra; i++) {
                argv[3 + i] = strdup(extra_args[i]);
                if (!argv[3 + i])
                        return -ENOMEM;
        }

        if (asprintf(&home, "HOME=%s", state) < 0 || asprintf(&usr, "USER=%s", u.name) < 0 ||
            asprintf(&logname, "LOGNAME=%s", u.name) < 0)
                return -ENOMEM;
        add[k++] = home;
        add[k++] = usr;
        add[k++] = logname;
        for (size_t i = 0; i < harness.n_daemon_env; i++)
                add[k++] = harness.daemon_env[i];
        add[k] = NULL;
        envp = env_build(drop, add);
        if (!envp)
                return -ENOMEM;

        log_path = path_join(tmp, "hmacd.log");
        if (!log_path)
                return -ENOMEM;
        log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
        if (log_fd < 0)
                return -errno;
        free(harness.daemon_log);
        harness.daemon_log = TAKE_PTR(log_path);

        r = spawn_internal(&(SpawnParams) {
                .name = "hmacd",
                .user = &u,
                .argv = argv,
                .envp = envp,
                .stdin_fd = -1,
                .stdout_fd = log_fd,
                .stderr_fd = log_fd,
                .pass_fd = -1,
        }, &pid);
        if (r < 0)
                return r;
        r = children_add(pid, "hmacd");
        if (r < 0) {
                (void) harness_stop(pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, NULL);
                return r;
        }

        strv_free(harness.daemon_args);
        harness.daemon_args = TAKE_PTR(saved);

        r = harness_wait_for_name(HARNESS_BUS_NAME, pid, HARNESS_START_TIMEOUT_USEC, &status);
        if (r == -ECHILD) {
                fprintf(stderr, "harness: hmacd (PID %d) %s before it owned %s\n", (int) pid,
                        harness_describe_status(status), HARNESS_BUS_NAME);
                dump_log("hmacd log", harness.daemon_log);
                return r;
        }
        if (r < 0) {
                (void) harness_stop(pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, &status);
                fprintf(stderr, "harness: hmacd (PID %d) did not own %s: %s\n", (int) pid, HARNESS_BUS_NAME,
                        strerror(-r));
                dump_log("hmacd log", harness.daemon_log);
                return r;
        }

        harness.daemon_pid = pid;
        return 0;
}

int harness_daemon_start(void) {
        return harness_daemon_startv(NULL);
}

int harness_daemon_startl(const char *extra_arg, ...) {
        _cleanup_free_ char **args = NULL;
        size_t n = 0;
        va_list ap;

        va_start(ap, extra_arg);
        for (const char *a = extra_arg; a; a = va_arg(ap, const char *))
                n++;
        va_end(ap);

        args = calloc(n + 1, sizeof(char *));
        if (!args)
                return -ENOMEM;
        n = 0;
        va_start(ap, extra_arg);
        for (const char *a = extra_arg; a; a = va_arg(ap, const char *))
                args[n++] = (char *) a;
        va_end(ap);

        return harness_daemon_startv(args);
}

/* Notices a daemon that exited on its own; prints its log then, since that is never expected. */
static void daemon_check_exited(void) {
        int status = 0;

        if (harness.daemon_pid <= 0)
                return;
        if (wait_exit(harness.daemon_pid, 0, &status) <= 0)
                return;
        children_forget(harness.daemon_pid);
        fprintf(stderr, "harness: hmacd (PID %d) %s unexpectedly\n", (int) harness.daemon_pid,
                harness_describe_status(status));
        dump_log("hmacd log", harness.daemon_log);
        harness.daemon_pid = 0;
}

bool harness_daemon_running(void) {
        daemon_check_exited();
        return harness.daemon_pid > 0;
}

pid_t harness_daemon_pid(void) {
        daemon_check_exited();
        return harness.daemon_pid;
}

int harness_daemon_stop(int *ret_status) {
        int r, status = 0;

        if (harness.daemon_pid <= 0)
                return -ESRCH;
        r = harness_stop(harness.daemon_pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC, &status);
        harness.daemon_pid = 0;
        wait_for_name_released(HARNESS_BUS_NAME);
        if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "harness: hmacd, asked to stop with SIGTERM, %s\n",
                        harness_describe_status(status));
                dump_log("hmacd log", harness.daemon_log);
        }
        if (ret_status)
                *ret_status = status;
        return r;
}

int harness_daemon_kill(void) {
        int r;

        if (harness.daemon_pid <= 0)
                return -ESRCH;
        r = harness_stop(harness.daemon_pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, NULL);
        harness.daemon_pid = 0;
        wait_for_name_released(HARNESS_BUS_NAME);
        return r;
}

int harness_daemon_restart(void) {
        if (harness_daemon_running()) {
                int r = harness_daemon_stop(NULL);
                if (r < 0)
                        return r;
        }
        return harness_daemon_startv(harness.daemon_args);
}

/* ---- running commands ---- */

void harness_result_done(HarnessResult *r) {
        if (!r)
                return;
        free(r->out);
        free(r->err);
        *r = (HarnessResult) {};
}

static int memfd_read_all(int fd, char **ret, size_t *ret_size) {
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return read_fd(fd, ret, ret_size);
}

int harness_run(const char *user, const void *input, size_t input_size, char *const argv[],
                HarnessResult *ret) {
        _cleanup_(user_info_done) UserInfo u = {};
        _cleanup_(strv_freep) char **envp = NULL;
        _cleanup_close_ int in_fd = -1, out_fd = -1, err_fd = -1;
        HarnessResult res = {};
        pid_t pid;
        int r, status = 0;

        if (!argv || !argv[0] || !ret)
                return -EINVAL;

        r = user_env(user, &u, &envp);
        if (r < 0)
                return r;

        out_fd = memfd_create("harness-stdout", MFD_CLOEXEC);
        err_fd = memfd_create("harness-stderr", MFD_CLOEXEC);
        if (out_fd < 0 || err_fd < 0)
                return -errno;
        if (input) {
                in_fd = memfd_create("harness-stdin", MFD_CLOEXEC);
                if (in_fd < 0)
                        return -errno;
                r = write_all(in_fd, input, input_size);
                if (r < 0)
                        return r;
                if (lseek(in_fd, 0, SEEK_SET) < 0)
                        return -errno;
        }

        r = spawn_internal(&(SpawnParams) {
                .name = argv[0],
                .user = user ? &u : NULL,
                .argv = argv,
                .envp = envp,
                .stdin_fd = in_fd,
                .stdout_fd = out_fd,
                .stderr_fd = err_fd,
                .pass_fd = -1,
        }, &pid);
        if (r < 0)
                return r;
        r = children_add(pid, argv[0]);
        if (r < 0) {
                (void) harness_stop(pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, NULL);
                return r;
        }

        r = wait_exit(pid, HARNESS_RUN_TIMEOUT_USEC, &status);
        if (r == 0) {
                fprintf(stderr, "harness: %s did not finish within %.0f s, killing it\n", argv[0],
                        (double) HARNESS_RUN_TIMEOUT_USEC / HARNESS_USEC_PER_SEC);
                res.timed_out = true;
                (void) harness_stop(pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, &status);
        } else
                children_forget(pid);
        if (r < 0)
                return r;

        res.status = status;
        res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        res.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        r = memfd_read_all(out_fd, &res.out, &res.out_size);
        if (r >= 0)
                r = memfd_read_all(err_fd, &res.err, &res.err_size);
        if (r < 0) {
                harness_result_done(&res);
                return r;
        }

        *ret = res;
        return 0;
}

int harness_runl(const char *user, HarnessResult *ret, const char *arg0, ...) {
        _cleanup_free_ char **argv = NULL;
        size_t n = 0;
        va_list ap;

        va_start(ap, arg0);
        for (const char *a = arg0; a; a = va_arg(ap, const char *))
                n++;
        va_end(ap);

        argv = calloc(n + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        n = 0;
        va_start(ap, arg0);
        for (const char *a = arg0; a; a = va_arg(ap, const char *))
                argv[n++] = (char *) a;
        va_end(ap);

        return harness_run(user, NULL, 0, argv, ret);
}

/* ---- teardown ---- */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        if (remove(path) < 0 && errno != ENOENT)
                fprintf(stderr, "harness: cannot remove %s: %m\n", path);
        return 0;
}

void harness_stop_all(void) {
        int saved_errno = errno, status;

        /* The daemon first: it may still talk to the bus while shutting down. */
        if (harness.daemon_pid > 0) {
                bool died = false;

                if (wait_exit(harness.daemon_pid, 0, &status) > 0) {
                        children_forget(harness.daemon_pid);
                        fprintf(stderr, "harness: hmacd (PID %d) %s on its own during the test\n",
                                (int) harness.daemon_pid, harness_describe_status(status));
                        died = true;
                } else if (harness_stop(harness.daemon_pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC,
                                        &status) < 0 ||
                           !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "harness: hmacd (PID %d), stopped with SIGTERM, %s\n",
                                (int) harness.daemon_pid, harness_describe_status(status));
                        died = true;
                }
                if (died || getenv("HMACD_TEST_VERBOSE"))
                        dump_log("hmacd log", harness.daemon_log);
                harness.daemon_pid = 0;
        } else if (getenv("HMACD_TEST_VERBOSE") && harness.daemon_log)
                dump_log("hmacd log", harness.daemon_log);

        /* Everything else started here, newest first, but the bus last. */
        for (size_t i = CHILDREN_MAX; i-- > 0;) {
                pid_t pid = harness.children[i].pid;

                if (pid > 0 && pid != harness.bus_pid)
                        (void) harness_stop(pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC, NULL);
        }
        (void) harness_bus_stop();

        if (harness.tmp_dir) {
                if (getenv("HMACD_TEST_KEEP"))
                        fprintf(stderr, "harness: keeping %s\n", harness.tmp_dir);
                else
                        (void) nftw(harness.tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        }

        harness.tmp_dir = mfree(harness.tmp_dir);
        harness.state_dir = mfree(harness.state_dir);
        harness.daemon_log = mfree(harness.daemon_log);
        strv_free(harness.daemon_args);
        harness.daemon_args = NULL;
        for (size_t i = 0; i < harness.n_daemon_env; i++)
                harness.daemon_env[i] = mfree(harness.daemon_env[i]);
        harness.n_daemon_env = 0;
        errno = saved_errno;
}

/* ---- Criterion fixtures ---- */

void harness_require_environment(void) {
        const char *reason;

        if (harness_check_environment(&reason) >= 0)
                return;
        harness_stop_all();
        if (getenv("HMACD_TEST_ENV"))
                cr_assert_fail("%s", reason);
        cr_skip_test("%s", reason);
}

void harness_check(int r, const char *what) {
        if (r >= 0)
                return;
        harness_stop_all();
        cr_assert_fail("Failed to %s: %s", what, strerror(-r));
}

void harness_setup_bus(void) {
        harness_check(harness_bus_start(), "start the private bus");
}

void harness_setup_daemon(void) {
        harness_require_environment();
        harness_check(harness_bus_start(), "start the private bus");
        harness_check(harness_daemon_start(), "start hmacd as user " HARNESS_DAEMON_USER);
}

void harness_teardown(void) {
        harness_stop_all();
}
