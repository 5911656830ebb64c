/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "memscan.h"

#define CHUNK (16u * 1024 * 1024)

void memscan(pid_t pid, size_t overlap, MemscanChunk chunk, void *userdata, size_t *ret_bytes,
             size_t *ret_skipped) {
        _cleanup_free_ uint8_t *buf = malloc(CHUNK);
        char path[64], line[1024];
        size_t bytes = 0, skipped = 0;
        FILE *maps;
        int fd;

        cr_assert(buf);
        cr_assert(overlap < CHUNK / 2);
        snprintf(path, sizeof path, "/proc/%d/maps", (int) pid);
        maps = fopen(path, "re");
        cr_assert(maps, "%s: %m", path);
        snprintf(path, sizeof path, "/proc/%d/mem", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0, "%s: %m", path);
        while (fgets(line, sizeof line, maps)) {
                unsigned long start, end;
                char perms[8];

                if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || perms[0] != 'r')
                        continue;
                if (strstr(line, "[vvar]") || strstr(line, "[vsyscall]"))
                        continue;
                if (end - start >= 1024ul * 1024 * 1024) {
                        skipped++;
                        continue;
                }
                line[strcspn(line, "\n")] = 0;
                for (unsigned long at = start; at < end; at += CHUNK - overlap) {
                        size_t want = MIN((unsigned long) CHUNK, end - at);
                        ssize_t n = pread(fd, buf, want, (off_t) at);
                        if (n <= 0)
                                break;
                        chunk(buf, (size_t) n, at, line, userdata);
                        bytes += (size_t) n;
                        if ((size_t) n < want || want < CHUNK)
                                break;
                }
        }
        close(fd);
        fclose(maps);
        if (ret_bytes)
                *ret_bytes = bytes;
        if (ret_skipped)
                *ret_skipped = skipped;
}
