/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Preloaded into hmacd under valgrind by `make check-valgrind`: makes libseccomp's filter calls do
 * nothing, so the daemon runs without its seccomp filter there, and only there.
 *
 * Valgrind 3.19 does not implement seccomp(2) ("unhandled amd64-linux syscall: 317"), so
 * seccomp_init() fails and the daemon refuses to serve ("Failed to create a seccomp filter.", exit
 * status 1, right after it took its bus name). Even where valgrind passes the call on, a filter that
 * forbids executable mappings would kill valgrind's JIT, which runs in the same process. */
#include <seccomp.h>
#include <stdint.h>

static int dummy;

scmp_filter_ctx seccomp_init(uint32_t def_action) {
        return &dummy;
}

int seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned int arg_cnt,
                           const struct scmp_arg_cmp *arg_array) {
        return 0;
}

int seccomp_rule_add(scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned int arg_cnt, ...) {
        return 0;
}

int seccomp_load(const scmp_filter_ctx ctx) {
        return 0;
}

void seccomp_release(scmp_filter_ctx ctx) {
}
