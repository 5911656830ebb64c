/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Preloaded into the ASan build of hmacd by `make check-asan` (reliability/check-sanitized puts a
 * wrapper named hmacd in front of it): just before the daemon loads its seccomp filter, adds the system
 * calls that the sanitizer runtimes make, and nothing else, so that the daemon runs confined as usual
 * and a sanitizer can still report and check for leaks.
 *
 * Found by tracing the ASan+UBSan daemon (raw_syscalls:sys_enter, filter comm == "hmacd") with a filter
 * whose default action was SCMP_ACT_LOG:
 *   reports (ASan, UBSan, LSan): open (/proc/self/maps), readlink (/proc/self/exe), ioctl(2, TCGETS)
 *     (isatty, for colours);
 *   LeakSanitizer at exit, which stops the world with a tracer thread: clone(CLONE_VM|CLONE_FS|
 *     CLONE_FILES|CLONE_UNTRACED), prctl (PR_SET_PDEATHSIG, PR_GET/SET_DUMPABLE, PR_SET_PTRACER),
 *     ptrace (ATTACH, GETREGSET, DETACH), wait4, getppid, sigaltstack, rt_sigaction, getdents
 *     (/proc/self/task).
 * Without them the daemon dies of SIGSYS at exit (LSan) or on the first report, before it is printed.
 * RELIABILITY.md proposes the same list for the daemon itself, under a build-time condition. */
#include <dlfcn.h>
#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>

int seccomp_load(const scmp_filter_ctx ctx);

int seccomp_load(const scmp_filter_ctx ctx) {
        static const char *const names[] = {
                "open", "readlink", "getdents", "getdents64", "clone", "prctl", "ptrace", "wait4", "getppid",
                "sigaltstack", "rt_sigaction",
        };
        int (*real)(const scmp_filter_ctx) = (int (*)(const scmp_filter_ctx)) dlsym(RTLD_NEXT, "seccomp_load");

        if (!real)
                return -ENOSYS;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                int nr = seccomp_syscall_resolve_name(names[i]);
                if (nr != __NR_SCMP_ERROR)
                        (void) seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
        (void) seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TCGETS));
        return real(ctx);
}
