/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading all of a process's memory, for the tests that show key material is not in it. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One chunk of a mapping: n bytes read at address, in the mapping described by where (its line of
 * /proc/PID/maps, without the newline). */
typedef void (*MemscanChunk)(const uint8_t *buf, size_t n, unsigned long address, const char *where,
                             void *userdata);

/* Calls chunk() on every readable mapping of pid, read through /proc/PID/mem (root may read a
 * non-dumpable process) in chunks of up to 16 MiB that overlap by overlap bytes, so that no needle
 * shorter than that is missed at their edges. [vvar], [vsyscall] and mappings of 1 GiB or more (the
 * reservations of an ASan build's shadow memory, not data) are skipped; the latter are counted in
 * *ret_skipped. The bytes read go to *ret_bytes. Criterion assertions on failures to read. */
void memscan(pid_t pid, size_t overlap, MemscanChunk chunk, void *userdata, size_t *ret_bytes,
             size_t *ret_skipped);
