/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A caller's command name and systemd unit, for the audit trail (see caller-info.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "caller-info.h"
#include "macro.h"

static bool has_suffix(const char *s, size_t n, const char *suffix) {
        size_t k = strlen(suffix);
        return n > k && memcmp(s + n - k, suffix, k) == 0;
}

static void copy_name(const char *s, size_t n, char *buf, size_t size) {
        n = MIN(n, size - 1);
        memcpy(buf, s, n);
        buf[n] = '\0';
}

/* The path of the hierarchy that names units, within text, and its length; NULL if none. */
static const char *cgroup_systemd_path(const char *text, size_t *ret_len) {
        const char *named = NULL;
        size_t named_len = 0;

        for (const char *line = text; line && *line;) {
                const char *end = strchrnul(line, '\n');
                const char *colon = memchr(line, ':', (size_t) (end - line));
                const char *colon2 = colon ? memchr(colon + 1, ':', (size_t) (end - colon - 1)) : NULL;

                if (colon2) {
                        const char *controllers = colon + 1;
                        size_t clen = (size_t) (colon2 - controllers);
                        if (clen == 0 && colon - line == 1 && line[0] == '0') {
                                *ret_len = (size_t) (end - colon2 - 1);
                                return colon2 + 1;
                        }
                        if (clen == strlen("name=systemd") && memcmp(controllers, "name=systemd", clen) == 0) {
                                named = colon2 + 1;
                                named_len = (size_t) (end - colon2 - 1);
                        }
                }
                line = *end ? end + 1 : NULL;
        }
        *ret_len = named_len;
        return named;
}

int caller_units_from_cgroup(const char *text, char *ret_unit, size_t unit_size, char *ret_user_unit,
                             size_t user_unit_size) {
        const char *path, *p, *end;
        bool in_user_manager = false;
        size_t len;

        ret_unit[0] = '\0';
        ret_user_unit[0] = '\0';
        path = text ? cgroup_systemd_path(text, &len) : NULL;
        if (!path)
                return -ENODATA;

        for (p = path, end = path + len; p < end;) {
                const char *slash = memchr(p, '/', (size_t) (end - p)) ?: end;
                size_t n = (size_t) (slash - p);

                if (n > 0 && !has_suffix(p, n, ".slice") &&
                    (has_suffix(p, n, ".service") || has_suffix(p, n, ".scope"))) {
                        if (!in_user_manager) {
                                copy_name(p, n, ret_unit, unit_size);
                                if (n > strlen("user@") && memcmp(p, "user@", 5) == 0 && has_suffix(p, n, ".service"))
                                        in_user_manager = true;
                                else
                                        break;
                        } else {
                                copy_name(p, n, ret_user_unit, user_unit_size);
                                break;
                        }
                }
                p = slash + 1;
        }
        return ret_unit[0] ? 0 : -ENODATA;
}

/* Up to size - 1 bytes of a small /proc file, NUL-terminated. */
static int read_small_file(const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = -1;
        size_t have = 0;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        while (have < size - 1) {
                n = read(fd, buf + have, size - 1 - have);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                have += (size_t) n;
        }
        buf[have] = '\0';
        return 0;
}

void caller_info_read(pid_t pid, CallerInfo *ret) {
        char path[64], text[4096];

        *ret = (CallerInfo) {};
        if (pid <= 0)
                return;

        snprintf(path, sizeof path, "/proc/%i/comm", (int) pid);
        if (read_small_file(path, ret->comm, sizeof ret->comm) >= 0)
                ret->comm[strcspn(ret->comm, "\n")] = '\0';

        snprintf(path, sizeof path, "/proc/%i/cgroup", (int) pid);
        if (read_small_file(path, text, sizeof text) >= 0)
                (void) caller_units_from_cgroup(text, ret->unit, sizeof ret->unit, ret->user_unit,
                                                sizeof ret->user_unit);
}
