/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The seccomp allowlist, with libseccomp: seccomp_init(KILL_PROCESS), one rule per system call,
 * seccomp_load(). The list is what the daemon uses after start-up (found by tracing the whole test
 * suite): reading and writing its store and bus connection, the event loop, memory, the kernel
 * keyring and the CSPRNG. Not in it, and so fatal: execve, socket and connect (no new
 * connections), clone and fork, ptrace, mount and namespace calls, module loading, bpf; and
 * mmap/mprotect with PROT_EXEC. With the kernel engine, one kind of socket is allowed: AF_ALG, with
 * the exact arguments afalg.c passes to socket(), bind(), setsockopt() and accept4(). The daemon's
 * one other thread (import.c's worker, which makes RSA wrapping keys) is started before the filter
 * is loaded, so no clone() is allowed at all, and the filter is synchronized to it (TSYNC): it runs
 * under the same list. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_alg.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "afalg.h"
#include "log.h"
#include "macro.h"
#include "seccomp.h"

static const char *const allowed[] = {
        /* files: the store, its WAL and lock, /etc/passwd for owner names */
        "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close", "fcntl", "openat",
        "newfstatat", "fstat", "stat", "lstat", "statx", "access", "faccessat", "faccessat2", "unlink",
        "unlinkat", "fsync", "fdatasync", "ftruncate", "fstatfs",
        /* the bus connection it already has (setsockopt below: SOL_SOCKET only); with the kernel engine,
         * sendto and read are also a MAC on an AF_ALG operation socket */
        "recvmsg", "sendmsg", "recvfrom", "sendto", "getsockopt", "getsockname", "getpeername",
        /* the event loop: epoll, timers (deletion windows), signals (SIGTERM, SIGINT) */
        "epoll_wait", "epoll_pwait", "epoll_ctl", "ppoll", "poll", "timerfd_create", "timerfd_settime",
        "timerfd_gettime", "signalfd4", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
        /* libsystemd's sd-event waits with epoll_pwait2(fd, events, n, &timeout, NULL, 8) whenever a
         * timer is armed (an authorization or credentials call in flight, STATUS= updates, deletion
         * windows); epoll_wait only for a wait without end. libsystemd 252 (Debian 12) does not use it,
         * 257 (Debian 13) does: without this entry the daemon died with SIGSYS at its first wait with a
         * timeout. No argument filter: the signal mask it may carry is no more than epoll_pwait and
         * rt_sigprocmask already allow. */
        "epoll_pwait2",
        /* memory (mmap and mprotect below, without PROT_EXEC) */
        "brk", "munmap", "mremap", "madvise", "mlock", "mlock2", "munlock",
        /* the kernel keyring and the CSPRNG */
        "add_key", "keyctl", "getrandom",
        /* the rest of a process's life */
        "futex", "gettid", "getpid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
        "clock_gettime", "clock_getres", "gettimeofday", "nanosleep", "clock_nanosleep", "sched_yield",
        "exit", "exit_group",
};

static int add(scmp_filter_ctx ctx, const char *name, unsigned n, const struct scmp_arg_cmp *args) {
        int nr = seccomp_syscall_resolve_name(name);
        int r;

        if (nr == __NR_SCMP_ERROR)
                return 0; /* not a call on this architecture */
        r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, args);
        if (r < 0)
                return log_error_errno(r, "Failed to allow %s: %m", name);
        return 0;
}

#ifndef SOL_ALG
#define SOL_ALG 279
#endif
#ifndef ALG_SET_KEY_BY_KEY_SERIAL
#define ALG_SET_KEY_BY_KEY_SERIAL 7
#endif

/* The kernel engine's calls (afalg.c), each with the arguments it passes and no others. The socket
 * family, type and flags are checked; bind's address length is that of a sockaddr_alg (its contents
 * are behind a pointer, which seccomp cannot read); accept4 takes no address and only SOCK_CLOEXEC. */
static int add_af_alg(scmp_filter_ctx ctx) {
        int r;

        r = add(ctx, "socket", 3,
                (struct scmp_arg_cmp[]) { SCMP_A0(SCMP_CMP_EQ, AF_ALG), SCMP_A1(SCMP_CMP_EQ, SOCK_SEQPACKET | SOCK_CLOEXEC),
                                          SCMP_A2(SCMP_CMP_EQ, 0) });
        if (r >= 0)
                r = add(ctx, "bind", 1, (struct scmp_arg_cmp[]) { SCMP_A2(SCMP_CMP_EQ, sizeof(struct sockaddr_alg)) });
        if (r >= 0)
                r = add(ctx, "setsockopt", 3,
                        (struct scmp_arg_cmp[]) { SCMP_A1(SCMP_CMP_EQ, SOL_ALG), SCMP_A2(SCMP_CMP_EQ, ALG_SET_KEY_BY_KEY_SERIAL),
                                                  SCMP_A4(SCMP_CMP_EQ, sizeof(int32_t)) });
        if (r >= 0)
                r = add(ctx, "accept4", 3,
                        (struct scmp_arg_cmp[]) { SCMP_A1(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0),
                                                  SCMP_A3(SCMP_CMP_EQ, SOCK_CLOEXEC) });
        return r;
}

int seccomp_install(bool af_alg) {
        scmp_filter_ctx ctx;
        int r = 0;

        ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        if (!ctx)
                return log_error_errno(ENOMEM, "Failed to create a seccomp filter.");

        /* Every thread, not only this one. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r < 0)
                log_error_errno(r, "Failed to make the seccomp filter apply to every thread: %m");

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(allowed); i++)
                r = add(ctx, allowed[i], 0, NULL);

        /* Memory may never become executable. */
        if (r >= 0)
                r = add(ctx, "mmap", 1, (struct scmp_arg_cmp[]) { SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) });
        if (r >= 0)
                r = add(ctx, "mprotect", 1, (struct scmp_arg_cmp[]) { SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) });
        /* sd-bus asks how much is queued on its socket; nothing else may use ioctl. */
        if (r >= 0)
                r = add(ctx, "ioctl", 1, (struct scmp_arg_cmp[]) { SCMP_A1(SCMP_CMP_EQ, FIONREAD) });
        if (r >= 0)
                r = add(ctx, "ioctl", 1, (struct scmp_arg_cmp[]) { SCMP_A1(SCMP_CMP_EQ, TIOCOUTQ) });
        /* Socket options of the bus connection; no other level (AF_ALG keying below). */
        if (r >= 0)
                r = add(ctx, "setsockopt", 1, (struct scmp_arg_cmp[]) { SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET) });
        if (r >= 0 && af_alg)
                r = add_af_alg(ctx);
        /* abort() signals the process itself, and only itself. */
        if (r >= 0)
                r = add(ctx, "tgkill", 1, (struct scmp_arg_cmp[]) { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t) getpid()) });

#if defined(__SANITIZE_ADDRESS__)
        /* An AddressSanitizer build (make check-asan) reports through read-only opens, readlink and
         * isatty(), and LeakSanitizer at exit runs a tracer thread that ptraces the process's threads.
         * Only those calls, with those arguments: what test-seccomp checks stays fatal. */
        {
                static const char *const any_arguments[] = {
                        "readlink", "getdents", "getdents64", "wait4", "getppid", "sigaltstack", "rt_sigaction",
                };
                static const unsigned long prctl_options[] = {
                        PR_SET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_PTRACER,
                };
                static const unsigned long ptrace_requests[] = {
                        PTRACE_ATTACH, PTRACE_DETACH, PTRACE_GETREGSET, PTRACE_GETREGS, PTRACE_CONT,
                };

                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(any_arguments); i++)
                        r = add(ctx, any_arguments[i], 0, NULL);
                if (r >= 0)
                        r = add(ctx, "open", 1,
                                (struct scmp_arg_cmp[]) { SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY) });
                if (r >= 0)
                        r = add(ctx, "ioctl", 1, (struct scmp_arg_cmp[]) { SCMP_A1(SCMP_CMP_EQ, TCGETS) });
                if (r >= 0)
                        r = add(ctx, "clone", 1,
                                (struct scmp_arg_cmp[]) { SCMP_A0(SCMP_CMP_EQ, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED) });
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(prctl_options); i++)
                        r = add(ctx, "prctl", 1, (struct scmp_arg_cmp[]) { SCMP_A0(SCMP_CMP_EQ, prctl_options[i]) });
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(ptrace_requests); i++)
                        r = add(ctx, "ptrace", 1, (struct scmp_arg_cmp[]) { SCMP_A0(SCMP_CMP_EQ, ptrace_requests[i]) });
        }
#endif

        /* seccomp_load() sets no_new_privs first (SCMP_FLTATR_CTL_NNP is on by default). */
        if (r >= 0) {
                r = seccomp_load(ctx);
                if (r < 0)
                        log_error_errno(r, "Failed to load the seccomp filter: %m");
        }
        seccomp_release(ctx);
        return r;
}
