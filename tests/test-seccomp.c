/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's own seccomp filter, installed in a test process (Criterion runs each test in a
 * process of its own): every forbidden call dies with SIGSYS; the calls the daemon needs work. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <keyutils.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../daemon/seccomp.h"

static void confine(void) {
        cr_assert(seccomp_install() >= 0);
}

Test(seccomp, execve_kills, .init = confine, .signal = SIGSYS) {
        char *argv[] = { (char *) "/bin/true", NULL };
        execve("/bin/true", argv, NULL);
}

Test(seccomp, new_socket_kills, .init = confine, .signal = SIGSYS) {
        socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

Test(seccomp, network_socket_kills, .init = confine, .signal = SIGSYS) {
        socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

Test(seccomp, connect_kills, .init = confine, .signal = SIGSYS) {
        struct sockaddr sa = { .sa_family = AF_UNIX };
        connect(0, &sa, sizeof sa);
}

Test(seccomp, ptrace_kills, .init = confine, .signal = SIGSYS) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

Test(seccomp, executable_mprotect_kills, .init = confine, .signal = SIGSYS) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert(p != MAP_FAILED);
        mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

Test(seccomp, executable_mmap_kills, .init = confine, .signal = SIGSYS) {
        mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

Test(seccomp, unshare_kills, .init = confine, .signal = SIGSYS) {
        unshare(CLONE_NEWNS);
}

Test(seccomp, setns_kills, .init = confine, .signal = SIGSYS) {
        setns(0, CLONE_NEWNET);
}

Test(seccomp, mount_kills, .init = confine, .signal = SIGSYS) {
        mount("none", "/tmp", "tmpfs", 0, NULL);
}

Test(seccomp, fork_kills, .init = confine, .signal = SIGSYS) {
        syscall(SYS_fork);
}

Test(seccomp, clone_kills, .init = confine, .signal = SIGSYS) {
        syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
}

Test(seccomp, module_loading_kills, .init = confine, .signal = SIGSYS) {
        syscall(SYS_finit_module, -1, "", 0);
}

Test(seccomp, bpf_kills, .init = confine, .signal = SIGSYS) {
        syscall(SYS_bpf, 0, NULL, 0);
}

Test(seccomp, process_vm_readv_kills, .init = confine, .signal = SIGSYS) {
        syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0);
}

Test(seccomp, ioctl_other_than_queue_size_kills, .init = confine, .signal = SIGSYS) {
        ioctl(0, TIOCSTI, "x");
}

Test(seccomp, signalling_another_process_kills, .init = confine, .signal = SIGSYS) {
        kill(getppid(), 0);
}

/* What the daemon does while serving still works, and no_new_privs is on. */
Test(seccomp, the_daemons_calls_still_work, .init = confine) {
        uint8_t buf[32], out[32];
        key_serial_t k;
        int fd;
        void *p;

        char status[4096] = "";
        FILE *f = fopen("/proc/self/status", "re");
        cr_assert(f);
        cr_assert(fread(status, 1, sizeof status - 1, f) > 0);
        fclose(f);
        cr_assert(strstr(status, "NoNewPrivs:\t1"), "%s", status);
        cr_assert(strstr(status, "Seccomp:\t2"), "%s", status);
        cr_assert_eq(getrandom(buf, sizeof buf, 0), (ssize_t) sizeof buf);
        k = add_key("user", "hmacd-seccomp-test", buf, sizeof buf, KEY_SPEC_PROCESS_KEYRING);
        cr_assert(k > 0);
        cr_assert_eq(keyctl_read(k, (char *) out, sizeof out), (long) sizeof out);
        cr_assert(memcmp(buf, out, sizeof buf) == 0);
        cr_assert(keyctl_invalidate(k) == 0);
        p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert(p != MAP_FAILED);
        cr_assert(mlock(p, 4096) == 0 && madvise(p, 4096, MADV_DONTDUMP) == 0);
        cr_assert(mprotect(p, 4096, PROT_READ) == 0);
        cr_assert(munmap(p, 4096) == 0);
        fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0);
        cr_assert(read(fd, buf, 1) == 1);
        cr_assert(close(fd) == 0);
}
