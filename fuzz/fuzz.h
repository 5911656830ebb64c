/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the libFuzzer targets: inputs as C strings, a check that aborts (so that
 * libFuzzer keeps the input as a crash), and a cursor that takes bytes off the front of the input. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Where fuzz_check() reports (a target that silences stderr for the code under test says elsewhere). */
#ifndef FUZZ_REPORT
#define FUZZ_REPORT stderr
#endif

/* An invariant of the code under test: a violation is a finding, reported like a crash. The
 * arguments after the expression are a printf() format and its values, saying what was seen. */
#define fuzz_check(expr, ...)                                                                               \
        do {                                                                                                \
                if (!(expr)) {                                                                              \
                        fprintf(FUZZ_REPORT, "%s:%d: invariant '%s' does not hold: ", __FILE__, __LINE__,   \
                                #expr);                                                                     \
                        fprintf(FUZZ_REPORT, __VA_ARGS__);                                                  \
                        fputc('\n', FUZZ_REPORT);                                                           \
                        fflush(FUZZ_REPORT);                                                                \
                        abort();                                                                            \
                }                                                                                           \
        } while (0)

/* A malloc()ed copy of n bytes with a NUL after them (the bytes may hold NULs of their own); exactly
 * n + 1 bytes, so that AddressSanitizer sees any read past the terminator. */
static inline char *fuzz_strndup(const void *p, size_t n) {
        char *s = malloc(n + 1);
        if (!s)
                abort();
        if (n > 0)
                memcpy(s, p, n);
        s[n] = 0;
        return s;
}

typedef struct FuzzInput {
        const uint8_t *data;
        size_t size;
} FuzzInput;

static inline uint8_t fuzz_byte(FuzzInput *in) {
        uint8_t b;

        if (in->size == 0)
                return 0;
        b = in->data[0];
        in->data++;
        in->size--;
        return b;
}

static inline uint32_t fuzz_u32(FuzzInput *in) {
        uint32_t v = 0;
        for (int i = 0; i < 4; i++)
                v = v << 8 | fuzz_byte(in);
        return v;
}

/* The bytes up to the next NUL (or the end), as a malloc()ed string of exactly that size. */
static inline char *fuzz_take_string(FuzzInput *in) {
        const uint8_t *nul = memchr(in->data, 0, in->size);
        size_t n = nul ? (size_t) (nul - in->data) : in->size;
        char *s = fuzz_strndup(in->data, n);

        in->data += n + (nul ? 1 : 0);
        in->size -= n + (nul ? 1 : 0);
        return s;
}
