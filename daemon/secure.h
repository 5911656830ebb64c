/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory for secrets: locked, excluded from core dumps, wiped before it is given back. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct SecureBuffer {
        uint8_t *data;
        size_t size;
} SecureBuffer;

int secure_buffer_new(size_t size, SecureBuffer **ret);
SecureBuffer *secure_buffer_free(SecureBuffer *b);
void secure_buffer_freep(SecureBuffer **b);

void secure_wipe(void *p, size_t n);
