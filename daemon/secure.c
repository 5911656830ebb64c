/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Locked, non-dumpable buffers for key material. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "macro.h"
#include "secure.h"

int secure_buffer_new(size_t size, SecureBuffer **ret) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE), mapped;
        SecureBuffer *b;
        void *p;

        if (size == 0 || size > 1024 * 1024)
                return -EINVAL;
        mapped = (size + page - 1) / page * page;

        p = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return negative_errno();
        /* A core dump must never hold key material; swap must not either. */
        if (madvise(p, mapped, MADV_DONTDUMP) < 0 || mlock(p, mapped) < 0) {
                int r = negative_errno();
                munmap(p, mapped);
                return r;
        }

        b = malloc(sizeof *b);
        if (!b) {
                munmap(p, mapped);
                return -ENOMEM;
        }
        *b = (SecureBuffer) { .data = p, .size = mapped };
        *ret = b;
        return 0;
}

SecureBuffer *secure_buffer_free(SecureBuffer *b) {
        if (!b)
                return NULL;
        OPENSSL_cleanse(b->data, b->size);
        munlock(b->data, b->size);
        munmap(b->data, b->size);
        free(b);
        return NULL;
}

void secure_buffer_freep(SecureBuffer **b) {
        secure_buffer_free(*b);
}

void secure_wipe(void *p, size_t n) {
        OPENSSL_cleanse(p, n);
}
