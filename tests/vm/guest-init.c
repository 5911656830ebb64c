/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PID 1 of the test guest (tests/vm/run-guest), linked statically.
 *
 * The guest's root file system is the host's own root, shared read-only over virtio-fs. This program
 * makes it usable: it loads the kernel modules named in HMACD_VM_MODULES (decompressed .ko files,
 * in order), lays a tmpfs-backed overlay over the shared root so that the guest may write anywhere
 * without touching the host, pivots into it, mounts /proc, /sys, /dev, /run and /tmp, runs
 * HMACD_VM_JOB with bash, reaps every process until the job ends, and powers the machine off.
 *
 * The fresh tmpfs on /run, /tmp and /var/tmp would hide a source tree that lives below them (CI
 * clones into /tmp): each directory named in HMACD_VM_KEEP (colon-separated absolute paths) is
 * bind-mounted aside before those mounts and moved back onto the same path inside them after.
 *
 * Everything it has to say goes to the serial console as lines starting with "HMACD-VM:", which the
 * runner parses; the last one is "HMACD-VM: done STATUS". HMACD_VM_* come from the kernel command
 * line (the kernel hands unknown name=value parameters to init as environment). */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NEWROOT "/tmp/hmacd-vm/root"

static double uptime(void) {
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        printf("HMACD-VM: [%7.3f] ", uptime());
        vprintf(fmt, ap);
        printf("\n");
        fflush(stdout);
        va_end(ap);
}

static _Noreturn void power_off(int status) {
        say("done %d", status);
        sync();
        reboot(RB_POWER_OFF);
        for (;;)
                pause();
}

static _Noreturn void fail(const char *what) {
        say("init failed: %s: %s", what, strerror(errno));
        power_off(255);
}

static int mount_fs(const char *type, const char *where, unsigned long flags, const char *options) {
        mkdir(where, 0755);
        if (mount(type, where, type, flags, options) < 0) {
                say("mount %s on %s: %s", type, where, strerror(errno));
                return -errno;
        }
        return 0;
}

static void open_console(void) {
        int fd = open("/dev/console", O_RDWR | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return;
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
                close(fd);
}

/* HMACD_VM_MODULES: colon-separated paths of uncompressed modules, dependencies first. */
static void load_modules(const char *list) {
        char *copy, *p, *save = NULL;

        if (!list || !*list)
                return;
        copy = strdup(list);
        if (!copy)
                fail("strdup");
        for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
                int fd = open(p, O_RDONLY | O_CLOEXEC);

                if (fd < 0)
                        fail(p);
                if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
                        fail(p);
                close(fd);
        }
        free(copy);
}

/* mkdir -p */
static void make_path(const char *path) {
        char buf[4096];

        if (strlen(path) >= sizeof buf)
                return;
        strcpy(buf, path);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        (void) mkdir(buf, 0755);
                        *p = '/';
                }
        (void) mkdir(buf, 0755);
}

#define KEEP_MAX 8
#define KEEP_DIR "/.hmacd-vm-keep"

/* Bind-mounts each HMACD_VM_KEEP path to KEEP_DIR/N; returns how many. */
static size_t keep_aside(const char *list, char keep[][4096]) {
        size_t n = 0;
        char *copy, *p, *save = NULL;

        if (!list || !*list)
                return 0;
        copy = strdup(list);
        if (!copy)
                fail("strdup");
        (void) mkdir(KEEP_DIR, 0700);
        for (p = strtok_r(copy, ":", &save); p && n < KEEP_MAX; p = strtok_r(NULL, ":", &save)) {
                char aside[64];

                if (p[0] != '/' || strlen(p) >= 4096)
                        continue;
                snprintf(aside, sizeof aside, KEEP_DIR "/%zu", n);
                (void) mkdir(aside, 0700);
                if (mount(p, aside, NULL, MS_BIND | MS_REC, NULL) < 0) {
                        say("keep %s: bind: %s", p, strerror(errno));
                        continue;
                }
                strcpy(keep[n++], p);
        }
        free(copy);
        return n;
}

/* Moves each kept tree back onto its own path, which a tmpfs may now cover. */
static void keep_restore(char keep[][4096], size_t n) {
        for (size_t i = 0; i < n; i++) {
                char aside[64];

                snprintf(aside, sizeof aside, KEEP_DIR "/%zu", i);
                make_path(keep[i]);
                if (mount(aside, keep[i], NULL, MS_MOVE, NULL) < 0)
                        fail(keep[i]);
                say("kept %s visible", keep[i]);
        }
}

int main(void) {
        const char *job = getenv("HMACD_VM_JOB"), *modules = getenv("HMACD_VM_MODULES");
        static char keep[KEEP_MAX][4096];
        size_t n_keep;
        pid_t pid;
        int status = 0;

        /* The shared root is read-only; /tmp is a directory on it to mount a tmpfs over. */
        if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") < 0)
                fail("mount devtmpfs");
        open_console();
        setvbuf(stdout, NULL, _IOLBF, 0);
        say("init started");
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                fail("mount /proc");

        load_modules(modules);

        if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=512m") < 0)
                fail("mount tmpfs");
        if (mkdir("/tmp/hmacd-vm", 0755) < 0 || mkdir("/tmp/hmacd-vm/upper", 0755) < 0 ||
            mkdir("/tmp/hmacd-vm/work", 0755) < 0 || mkdir(NEWROOT, 0755) < 0)
                fail("mkdir");
        if (mount("overlay", NEWROOT, "overlay", 0,
                  "lowerdir=/,upperdir=/tmp/hmacd-vm/upper,workdir=/tmp/hmacd-vm/work") < 0)
                fail("mount overlay");

        /* /dev and /proc move along; pivot_root leaves the old root (and its /tmp) at /.oldroot,
         * detached at once: the overlay keeps its upper layer alive. */
        if (mount("/dev", NEWROOT "/dev", NULL, MS_MOVE, NULL) < 0 ||
            mount("/proc", NEWROOT "/proc", NULL, MS_MOVE, NULL) < 0)
                fail("move /dev, /proc");
        if (chdir(NEWROOT) < 0)
                fail("chdir");
        mkdir(".oldroot", 0700);
        if (syscall(SYS_pivot_root, ".", ".oldroot") < 0)
                fail("pivot_root");
        if (chdir("/") < 0 || umount2("/.oldroot", MNT_DETACH) < 0)
                fail("detach old root");
        rmdir("/.oldroot");

        n_keep = keep_aside(getenv("HMACD_VM_KEEP"), keep);
        (void) mount_fs("sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        (void) mount_fs("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666");
        (void) mount_fs("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV, "mode=1777");
        (void) mount_fs("tmpfs", "/run", MS_NOSUID | MS_NODEV, "mode=0755");
        (void) mount_fs("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
        (void) mount_fs("tmpfs", "/var/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
        keep_restore(keep, n_keep);
        (void) sethostname("hmacd-vm", strlen("hmacd-vm"));

        if (!job)
                fail("no HMACD_VM_JOB on the kernel command line");
        say("root ready, running %s", job);

        pid = fork();
        if (pid < 0)
                fail("fork");
        if (pid == 0) {
                setsid();
                execl("/bin/bash", "bash", job, (char *) NULL);
                say("exec /bin/bash %s: %s", job, strerror(errno));
                _exit(127);
        }

        /* PID 1 reaps everything; the job's own status decides the result. */
        for (;;) {
                int s;
                pid_t p = wait(&s);

                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p == pid) {
                        status = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
                        break;
                }
        }
        power_off(status);
}
