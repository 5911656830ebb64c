/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sealing key material at rest: AES-256-GCM under the key-encryption key, with associated data
 * binding the blob to its key ID and spec. Blob layout: version (1) | nonce (12) | ciphertext | tag (16). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KEK_SIZE 32
#define SEAL_VERSION 1
#define SEAL_NONCE_SIZE 12
#define SEAL_TAG_SIZE 16
#define SEAL_OVERHEAD (1 + SEAL_NONCE_SIZE + SEAL_TAG_SIZE)
#define SEAL_PLAINTEXT_MAX 4096

/* out must hold n + SEAL_OVERHEAD bytes. */
int seal(const uint8_t kek[static KEK_SIZE], const void *aad, size_t aad_size, const void *plaintext, size_t n,
         uint8_t *out, size_t *ret_size);

/* out must hold n - SEAL_OVERHEAD bytes. Returns -EBADMSG when the blob was not made with this KEK
 * and this associated data, or was changed. */
int unseal(const uint8_t kek[static KEK_SIZE], const void *aad, size_t aad_size, const uint8_t *blob, size_t n,
           uint8_t *out, size_t *ret_size);
