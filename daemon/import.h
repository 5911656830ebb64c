/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bring your own key: RSA wrapping key pairs and import tokens for GetParametersForImport and
 * ImportKeyMaterial. They live in this process only: a restart invalidates every token. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kms.h"

#define IMPORT_TOKEN_MAX 6144u
#define IMPORT_CIPHERTEXT_MAX 6144u
#define IMPORT_PARAMS_PER_OWNER 16u        /* outstanding wrapping keys of one owner's keys (one per key) */
#define IMPORT_JOBS_PER_UID 2u             /* wrapping keys being made for one calling UID at once */
#define IMPORT_JOBS_MAX 64u                /* ... and for everyone */
#define IMPORT_VALIDITY_USEC (24ULL * 3600 * 1000000)

typedef enum WrappingAlgorithm {
        WRAPPING_RSAES_OAEP_SHA_1,
        WRAPPING_RSAES_OAEP_SHA_256,
        _WRAPPING_ALGORITHM_MAX,
        _WRAPPING_ALGORITHM_INVALID = -22,
} WrappingAlgorithm;

typedef enum WrappingKeySpec {
        WRAPPING_RSA_2048,
        WRAPPING_RSA_3072,
        WRAPPING_RSA_4096,
        _WRAPPING_KEY_SPEC_MAX,
        _WRAPPING_KEY_SPEC_INVALID = -22,
} WrappingKeySpec;

WrappingAlgorithm wrapping_algorithm_from_string(const char *s);
bool wrapping_algorithm_is_other_aws(const char *s);
WrappingKeySpec wrapping_key_spec_from_string(const char *s);
bool wrapping_key_spec_is_other_aws(const char *s);

typedef struct ImportTable ImportTable;

int import_table_new(ImportTable **ret);
ImportTable *import_table_free(ImportTable *t);

/* Makes a wrapping key pair for key_id (of owner) here and now; returns the token and the public key
 * (DER SubjectPublicKeyInfo), both malloc()ed, and when they stop being valid. It replaces the key's
 * earlier wrapping key; -E2BIG when owner holds IMPORT_PARAMS_PER_OWNER for other keys. */
int import_table_create(ImportTable *t, const char *key_id, uid_t owner, WrappingAlgorithm alg,
                        WrappingKeySpec spec, uint64_t now, uint8_t **ret_token, size_t *ret_token_size,
                        uint8_t **ret_public_key, size_t *ret_public_key_size, uint64_t *ret_valid_to);
size_t import_table_count_owner(const ImportTable *t, uid_t owner);

/* Key generation off the event loop. The table keeps a reference to each request while its key is
 * made (ref_request/unref_request), and calls ready() on the loop, from import_table_dispatch(),
 * when it is: the request is then dispatched again and asks again. */
typedef struct ImportWorkerOps {
        void *(*ref_request)(void *request);
        void (*unref_request)(void *request);
        int (*ready)(void *request, void *userdata); /* < 0: the request will not come back */
        void *userdata;
} ImportWorkerOps;

/* Starts the worker thread (before the seccomp filter is loaded) and returns an eventfd that is
 * readable when a key is made: call import_table_dispatch() then. */
int import_table_start_worker(ImportTable *t, const ImportWorkerOps *ops, int *ret_fd);
void import_table_dispatch(ImportTable *t);
/* import_table_create() for request, asked by uid, on the worker when there is one: 0 with the
 * results; -EINPROGRESS while the key is made (ready() follows); -EBUSY when uid has
 * IMPORT_JOBS_PER_UID keys being made (or everyone IMPORT_JOBS_MAX); -E2BIG as above. */
int import_table_request(ImportTable *t, void *request, uid_t uid, const char *key_id, uid_t owner,
                         WrappingAlgorithm alg, WrappingKeySpec spec, uint64_t now, uint8_t **ret_token,
                         size_t *ret_token_size, uint8_t **ret_public_key, size_t *ret_public_key_size,
                         uint64_t *ret_valid_to);
/* The request ended: its key, made or queued, is dropped (one being made goes when it is done). */
void import_table_forget(ImportTable *t, const void *request);

typedef enum ImportTokenProblem {
        IMPORT_TOKEN_OK,
        IMPORT_TOKEN_INVALID,           /* not ours, changed, used, or from before a restart */
        IMPORT_TOKEN_OTHER_KEY,         /* made for another key */
        IMPORT_TOKEN_EXPIRED,
} ImportTokenProblem;

/* Checks a token without using it up. */
ImportTokenProblem import_table_check(ImportTable *t, const uint8_t *token, size_t n, const char *key_id,
                                      uint64_t now);

/* Unwraps ciphertext with the token's private key into out, which must hold a whole modulus
 * (IMPORT_UNWRAP_BUFFER bytes). Returns the length, -EBADMSG when it does not decrypt, -ENOKEY when
 * the token has no wrapping key, or another negative errno. */
#define IMPORT_UNWRAP_BUFFER 512u
int import_table_unwrap(ImportTable *t, const uint8_t *token, size_t n, const uint8_t *ciphertext,
                        size_t ciphertext_size, uint8_t *out, size_t out_size);

/* Destroys the token's wrapping key (after a successful import). */
void import_table_consume(ImportTable *t, const uint8_t *token, size_t n);
/* Destroys expired wrapping keys. */
void import_table_expire(ImportTable *t, uint64_t now);
