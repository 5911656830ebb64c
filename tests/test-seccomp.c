/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's own seccomp filter, installed in a test process (Criterion runs each test in a
 * process of its own): every forbidden call dies with SIGSYS; the calls the daemon needs work. The
 * filter of the kernel engine (AF_ALG allowed) is tested too: every other socket family, type or
 * flag, and every other AF_ALG argument, still dies; the engine's own calls work where the kernel has
 * AF_ALG (test-afalg's probe; skipped with the reason elsewhere). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <keyutils.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_alg.h>

#include "../daemon/afalg.h"
#include "../daemon/seccomp.h"
#include "macro.h"

static void confine(void) {
        cr_assert(seccomp_install(false) >= 0);
}

static void confine_af_alg(void) {
        cr_assert(seccomp_install(true) >= 0);
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

static int on_time(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* The event loop with a timer armed, as while an authorization or credentials call is in flight, a
 * STATUS= update is due or a deletion window ends: libsystemd 257 (Debian 13) then waits with
 * epoll_pwait2(), 252 (Debian 12) with epoll_wait(). Before epoll_pwait2 was allowed, the daemon died
 * with SIGSYS on Debian 13 at the first call of a caller other than root. The call itself too, with
 * the arguments sd-event passes (no signal mask), whatever the library. */
Test(seccomp, the_event_loop_waits_with_a_timeout) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_close_ int fd = -1;
        struct epoll_event ev;
        long r;

        /* Created before the filter, as the daemon's are (epoll_create1 is not allowed). */
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_geq(sd_event_add_time_relative(e, NULL, CLOCK_MONOTONIC, 20 * 1000, 0, on_time, NULL), 0);
        fd = epoll_create1(EPOLL_CLOEXEC);
        cr_assert_geq(fd, 0);
        confine();

        cr_assert_eq(sd_event_loop(e), 0);
        r = syscall(SYS_epoll_pwait2, fd, &ev, 1, &(struct timespec) {}, NULL, 8);
        cr_assert(r == 0 || (r < 0 && errno == ENOSYS), "epoll_pwait2: %ld %m", r);
}

/* ---- the kernel engine's filter ---- */

Test(seccomp, af_alg_socket_kills_without_the_kernel_engine, .init = confine, .signal = SIGSYS) {
        socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
}

Test(seccomp, af_alg_filter_unix_socket_kills, .init = confine_af_alg, .signal = SIGSYS) {
        socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

Test(seccomp, af_alg_filter_network_socket_kills, .init = confine_af_alg, .signal = SIGSYS) {
        socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

Test(seccomp, af_alg_filter_netlink_socket_kills, .init = confine_af_alg, .signal = SIGSYS) {
        socket(AF_NETLINK, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
}

Test(seccomp, af_alg_filter_socket_without_cloexec_kills, .init = confine_af_alg, .signal = SIGSYS) {
        socket(AF_ALG, SOCK_SEQPACKET, 0);
}

Test(seccomp, af_alg_filter_other_socket_type_kills, .init = confine_af_alg, .signal = SIGSYS) {
        socket(AF_ALG, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

Test(seccomp, af_alg_filter_connect_kills, .init = confine_af_alg, .signal = SIGSYS) {
        struct sockaddr sa = { .sa_family = AF_UNIX };
        connect(0, &sa, sizeof sa);
}

Test(seccomp, af_alg_filter_bind_of_other_address_kills, .init = confine_af_alg, .signal = SIGSYS) {
        struct sockaddr_un { sa_family_t f; char p[108]; } sa = { .f = AF_UNIX };
        bind(-1, (struct sockaddr *) &sa, sizeof sa);
}

Test(seccomp, af_alg_filter_other_alg_option_kills, .init = confine_af_alg, .signal = SIGSYS) {
        static const uint8_t key[16] = {};
        setsockopt(-1, 279 /* SOL_ALG */, ALG_SET_KEY, key, sizeof key);
}

Test(seccomp, af_alg_filter_ip_option_kills, .init = confine_af_alg, .signal = SIGSYS) {
        int one = 1;
        setsockopt(-1, 0 /* SOL_IP */, 1, &one, sizeof one);
}

Test(seccomp, af_alg_filter_accept_with_address_kills, .init = confine_af_alg, .signal = SIGSYS) {
        struct sockaddr_storage sa;
        socklen_t n = sizeof sa;
        accept4(-1, (struct sockaddr *) &sa, &n, SOCK_CLOEXEC);
}

Test(seccomp, af_alg_filter_plain_accept_kills, .init = confine_af_alg, .signal = SIGSYS) {
        syscall(SYS_accept, -1, NULL, NULL);
}

Test(seccomp, af_alg_filter_execve_kills, .init = confine_af_alg, .signal = SIGSYS) {
        char *argv[] = { (char *) "/bin/true", NULL };
        execve("/bin/true", argv, NULL);
}

/* The allowed calls with bad descriptors: they reach the kernel (EBADF), so the filter let them by. */
Test(seccomp, af_alg_filter_allows_the_engines_calls, .init = confine_af_alg) {
        struct sockaddr_alg sa = { .salg_family = AF_ALG };
        int32_t serial = 1;
        int fd;

        fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        cr_assert(fd >= 0 || errno == EAFNOSUPPORT, "socket(AF_ALG): %m");
        if (fd >= 0)
                close(fd);
        cr_assert_eq(bind(-1, (struct sockaddr *) &sa, sizeof sa), -1);
        cr_assert_eq(errno, EBADF);
        cr_assert_eq(setsockopt(-1, 279, 7 /* ALG_SET_KEY_BY_KEY_SERIAL */, &serial, sizeof serial), -1);
        cr_assert_eq(errno, EBADF);
        cr_assert_eq(accept4(-1, NULL, NULL, SOCK_CLOEXEC), -1);
        cr_assert_eq(errno, EBADF);
}

/* Where the kernel can (the VM): a whole MAC through a logon key under the filter, as the daemon does. */
Test(seccomp, af_alg_filter_lets_the_kernel_engine_work) {
        static const char data[] = "what do ya want for nothing?";
        const char *step = NULL, *require = getenv("HMACD_TEST_REQUIRE_AFALG");
        _cleanup_close_ int tfm = -1, op = -1;
        key_serial_t key;
        uint8_t mac[32];
        int r;

        r = afalg_probe(&step);
        if (r < 0) {
                cr_assert(!require || !streq(require, "1"), "AF_ALG keyed by key serial is required: %s failed: %s", step,
                          strerror(-r));
                cr_skip_test("this kernel cannot compute HMACs through AF_ALG keyed by a key serial: %s failed: %s", step,
                             strerror(-r));
        }
        cr_assert_gt(keyctl_join_session_keyring(NULL), 0);
        cr_assert_eq(afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "seccomp", "Jefe", 4, &key), 0);
        confine_af_alg();
        cr_assert_eq(afalg_open_keyed(KEY_SPEC_HMAC_256, key, &tfm), 0);
        cr_assert_eq(afalg_accept(tfm, &op), 0);
        cr_assert_eq(afalg_mac(op, data, strlen(data), mac, sizeof mac), 0);
        cr_assert_eq(mac[0], 0x5b);
        cr_assert_eq(mac[31], 0x43);
}
