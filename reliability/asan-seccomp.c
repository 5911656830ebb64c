/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Preloaded into the ASan build of hmacd by `make check-asan` (reliability/check-sanitized puts a
 * wrapper named hmacd in front of it): just before the daemon loads its seccomp filter, adds the system
 * calls that the sanitizer runtimes make, and nothing else, so that the daemon runs confined as usual
 * and a sanitizer can still report and check for leaks.
 *
 * Found by tracing the ASan+UBSan daemon (raw_syscalls:sys_enter, filter comm == "hmacd") with a filter
 * whose default action was SCMP_ACT_LOG:
 *   reports (ASan, UBSan, LSan): open read-only (/proc/self/maps), readlink (/proc/self/exe),
 *     ioctl(2, TCGETS) (isatty, for colours);
 *   LeakSanitizer at exit, which stops the world with a tracer thread: clone(CLONE_VM|CLONE_FS|
 *     CLONE_FILES|CLONE_UNTRACED), prctl (PR_SET_PDEATHSIG, PR_GET/SET_DUMPABLE, PR_SET_PTRACER),
 *     ptrace (ATTACH, GETREGSET, DETACH), wait4, getppid, sigaltstack, rt_sigaction, getdents
 *     (/proc/self/task).
 * Without them the daemon dies of SIGSYS at exit (LSan) or on the first report, before it is printed.
 * The rules are as narrow as the runtime allows: the calls tests/test-seccomp.c checks are fatal
 * (clone with SIGCHLD, ptrace(PTRACE_TRACEME), ioctl(TIOCSTI)) stay fatal.
 * RELIABILITY.md proposes the same list for the daemon itself, under a build-time condition. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>

int seccomp_load(const scmp_filter_ctx ctx);

#define ALLOW(ctx, name, n, ...)                                                                              \
        do {                                                                                                  \
                int _nr = seccomp_syscall_resolve_name(name);                                                 \
                if (_nr != __NR_SCMP_ERROR)                                                                   \
                        (void) seccomp_rule_add(ctx, SCMP_ACT_ALLOW, _nr, n, ##__VA_ARGS__);                  \
        } while (0)

int seccomp_load(const scmp_filter_ctx ctx) {
        static const char *const any_arguments[] = {
                "readlink", "getdents", "getdents64", "wait4", "getppid", "sigaltstack", "rt_sigaction",
        };
        static const unsigned long prctl_options[] = {
                PR_SET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_PTRACER,
        };
        static const unsigned long ptrace_requests[] = {
                PTRACE_ATTACH, PTRACE_DETACH, PTRACE_GETREGSET, PTRACE_GETREGS, PTRACE_CONT,
        };
        int (*real)(const scmp_filter_ctx) = (int (*)(const scmp_filter_ctx)) dlsym(RTLD_NEXT, "seccomp_load");

        if (!real)
                return -ENOSYS;
        for (size_t i = 0; i < sizeof any_arguments / sizeof any_arguments[0]; i++)
                ALLOW(ctx, any_arguments[i], 0);
        /* Read-only opens (/proc/self/maps, /proc/self/task). */
        ALLOW(ctx, "open", 1, SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
        /* isatty(), for coloured reports. */
        ALLOW(ctx, "ioctl", 1, SCMP_A1(SCMP_CMP_EQ, TCGETS));
        /* LeakSanitizer's tracer thread, and what it does to the daemon's threads. */
        ALLOW(ctx, "clone", 1, SCMP_A0(SCMP_CMP_EQ, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED));
        for (size_t i = 0; i < sizeof prctl_options / sizeof prctl_options[0]; i++)
                ALLOW(ctx, "prctl", 1, SCMP_A0(SCMP_CMP_EQ, prctl_options[i]));
        for (size_t i = 0; i < sizeof ptrace_requests / sizeof ptrace_requests[0]; i++)
                ALLOW(ctx, "ptrace", 1, SCMP_A0(SCMP_CMP_EQ, ptrace_requests[i]));
        return real(ctx);
}
