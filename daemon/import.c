/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Wrapping keys and import tokens.
 *
 * Wrapping keys are kept per key and per owner: a new request for a key replaces the key's
 * outstanding one, and one owner may hold IMPORT_PARAMS_PER_OWNER at most, so that nobody can take
 * all of them from the others. RSA key generation takes from 50 ms to seconds: when a worker runs
 * (import_table_start_worker(), the daemon's case), it happens on that one thread, never on the
 * event loop. Requests are queued in order of arrival, at most IMPORT_JOBS_PER_UID per calling UID
 * and IMPORT_JOBS_MAX in all; a UID that asks in a loop therefore gets one key at a time, in turn
 * with everyone else, and the loop keeps serving MACs on the other core. The worker is started
 * before the seccomp filter is loaded, so the filter allows no clone() at all; the filter is
 * synchronized to the worker too (SCMP_FLTATR_CTL_TSYNC).
 *
 * A token is "version (1) | id (16) | key ID (36) | valid-to (8) | HMAC-SHA-256 (32)" under a
 * random key made at start. The HMAC tells a token of ours from anything else; the id finds its
 * wrapping key, which is destroyed when used or expired, and which a restart forgets. */
#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ident.h"
#include "import.h"
#include "macro.h"

#define TOKEN_VERSION 1
#define TOKEN_ID_SIZE 16
#define TOKEN_MAC_SIZE 32
#define TOKEN_SIZE (1 + TOKEN_ID_SIZE + KEY_ID_LEN + 8 + TOKEN_MAC_SIZE)

typedef struct ImportParams {
        uint8_t id[TOKEN_ID_SIZE];
        char key_id[KEY_ID_LEN + 1];
        uid_t owner;
        WrappingAlgorithm algorithm;
        EVP_PKEY *pkey;
        uint64_t valid_to;
} ImportParams;

typedef enum JobState {
        JOB_QUEUED,
        JOB_RUNNING,
        JOB_DONE,       /* pkey made (NULL: it failed); the request is dispatched again */
} JobState;

typedef struct ImportJob {
        void *request;
        uid_t uid;
        WrappingKeySpec spec;
        JobState state;
        bool notified;
        bool forgotten; /* its request ended while the key was being made: dropped when done */
        EVP_PKEY *pkey;
} ImportJob;

struct ImportTable {
        uint8_t token_key[32];
        ImportParams *params;
        size_t n, allocated;

        /* The worker. jobs[] in order of arrival; lock guards jobs[].state and .pkey, and stop. */
        ImportWorkerOps ops;
        pthread_t thread;
        bool running, started, stop;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        int event_fd;
        ImportJob jobs[IMPORT_JOBS_MAX];
        size_t n_jobs;
};

static const char *const algorithms[_WRAPPING_ALGORITHM_MAX] = {
        [WRAPPING_RSAES_OAEP_SHA_1] = "RSAES_OAEP_SHA_1",
        [WRAPPING_RSAES_OAEP_SHA_256] = "RSAES_OAEP_SHA_256",
};

static const unsigned key_bits[_WRAPPING_KEY_SPEC_MAX] = {
        [WRAPPING_RSA_2048] = 2048,
        [WRAPPING_RSA_3072] = 3072,
        [WRAPPING_RSA_4096] = 4096,
};

static const char *const key_specs[_WRAPPING_KEY_SPEC_MAX] = {
        [WRAPPING_RSA_2048] = "RSA_2048",
        [WRAPPING_RSA_3072] = "RSA_3072",
        [WRAPPING_RSA_4096] = "RSA_4096",
};

WrappingAlgorithm wrapping_algorithm_from_string(const char *s) {
        for (WrappingAlgorithm a = 0; a < _WRAPPING_ALGORITHM_MAX; a++)
                if (streq(algorithms[a], s))
                        return a;
        return _WRAPPING_ALGORITHM_INVALID;
}

bool wrapping_algorithm_is_other_aws(const char *s) {
        return streq(s, "RSAES_PKCS1_V1_5") || streq(s, "RSA_AES_KEY_WRAP_SHA_1") ||
               streq(s, "RSA_AES_KEY_WRAP_SHA_256") || streq(s, "SM2PKE");
}

WrappingKeySpec wrapping_key_spec_from_string(const char *s) {
        for (WrappingKeySpec k = 0; k < _WRAPPING_KEY_SPEC_MAX; k++)
                if (streq(key_specs[k], s))
                        return k;
        return _WRAPPING_KEY_SPEC_INVALID;
}

bool wrapping_key_spec_is_other_aws(const char *s) {
        return streq(s, "SM2");
}

int import_table_new(ImportTable **ret) {
        ImportTable *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->event_fd = -EBADF;
        if (getrandom(t->token_key, sizeof t->token_key, 0) != sizeof t->token_key) {
                free(t);
                return negative_errno();
        }
        *ret = t;
        return 0;
}

static void params_destroy(ImportTable *t, size_t i) {
        EVP_PKEY_free(t->params[i].pkey);
        t->params[i] = t->params[--t->n];
        memset(&t->params[t->n], 0, sizeof t->params[t->n]);
}

/* With t->lock held while the worker runs: the worker scans jobs[]. */
static void job_remove(ImportTable *t, size_t i) {
        void *request = t->jobs[i].request;

        EVP_PKEY_free(t->jobs[i].pkey);
        memmove(t->jobs + i, t->jobs + i + 1, (t->n_jobs - i - 1) * sizeof *t->jobs);
        t->n_jobs--;
        if (t->ops.unref_request)
                t->ops.unref_request(request);
}

ImportTable *import_table_free(ImportTable *t) {
        if (!t)
                return NULL;
        if (t->running) {
                pthread_mutex_lock(&t->lock);
                t->stop = true;
                pthread_cond_signal(&t->wake);
                pthread_mutex_unlock(&t->lock);
                pthread_join(t->thread, NULL);
                pthread_mutex_destroy(&t->lock);
                pthread_cond_destroy(&t->wake);
        }
        while (t->n_jobs > 0)
                job_remove(t, t->n_jobs - 1);
        if (t->event_fd >= 0)
                close(t->event_fd);
        while (t->n > 0)
                params_destroy(t, t->n - 1);
        free(t->params);
        OPENSSL_cleanse(t->token_key, sizeof t->token_key);
        free(t);
        return NULL;
}

void import_table_expire(ImportTable *t, uint64_t now) {
        for (size_t i = t->n; i > 0; i--)
                if (t->params[i - 1].valid_to <= now)
                        params_destroy(t, i - 1);
}

static void token_mac(const ImportTable *t, const uint8_t *token, uint8_t out[static TOKEN_MAC_SIZE]) {
        unsigned len = 0;
        HMAC(EVP_sha256(), t->token_key, sizeof t->token_key, token, TOKEN_SIZE - TOKEN_MAC_SIZE, out, &len);
}

size_t import_table_count_owner(const ImportTable *t, uid_t owner) {
        size_t n = 0;
        for (size_t i = 0; i < t->n; i++)
                n += t->params[i].owner == owner;
        return n;
}

/* Room for the key's new wrapping key: replaces the key's old one, or -E2BIG when the owner holds
 * IMPORT_PARAMS_PER_OWNER already. */
static int params_make_room(ImportTable *t, const char *key_id, uid_t owner, uint64_t now) {
        import_table_expire(t, now);
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->params[i].key_id, key_id)) {
                        params_destroy(t, i);
                        return 0;
                }
        if (import_table_count_owner(t, owner) >= IMPORT_PARAMS_PER_OWNER)
                return -E2BIG;
        if (t->n == t->allocated) {
                size_t k = MAX(t->allocated * 2, (size_t) 16);
                ImportParams *p = reallocarray(t->params, k, sizeof *p);
                if (!p)
                        return -ENOMEM;
                t->params = p;
                t->allocated = k;
        }
        return 0;
}

/* Takes pkey (made for spec) into the table as key_id's wrapping key. */
static int params_add(ImportTable *t, const char *key_id, uid_t owner, WrappingAlgorithm alg, EVP_PKEY *pkey,
                      uint64_t now, uint8_t **ret_token, size_t *ret_token_size, uint8_t **ret_public_key,
                      size_t *ret_public_key_size, uint64_t *ret_valid_to) {
        ImportParams p = { .owner = owner, .algorithm = alg, .pkey = pkey, .valid_to = now + IMPORT_VALIDITY_USEC };
        uint8_t *token = NULL, *der = NULL;
        int der_size, r;

        if (strlen(key_id) != KEY_ID_LEN || getrandom(p.id, sizeof p.id, 0) != sizeof p.id) {
                EVP_PKEY_free(pkey);
                return -EINVAL;
        }
        strcpy(p.key_id, key_id);
        r = params_make_room(t, key_id, owner, now);
        if (r < 0) {
                EVP_PKEY_free(pkey);
                return r;
        }

        der_size = i2d_PUBKEY(p.pkey, &der);
        token = malloc(TOKEN_SIZE);
        if (der_size <= 0 || !token) {
                EVP_PKEY_free(p.pkey);
                OPENSSL_free(der);
                free(token);
                return -ENOMEM;
        }

        token[0] = TOKEN_VERSION;
        memcpy(token + 1, p.id, TOKEN_ID_SIZE);
        memcpy(token + 1 + TOKEN_ID_SIZE, key_id, KEY_ID_LEN);
        for (int i = 0; i < 8; i++)
                token[1 + TOKEN_ID_SIZE + KEY_ID_LEN + i] = (uint8_t) (p.valid_to >> (56 - 8 * i));
        token_mac(t, token, token + TOKEN_SIZE - TOKEN_MAC_SIZE);

        *ret_public_key = malloc((size_t) der_size);
        if (!*ret_public_key) {
                EVP_PKEY_free(p.pkey);
                OPENSSL_free(der);
                free(token);
                return -ENOMEM;
        }
        memcpy(*ret_public_key, der, (size_t) der_size);
        OPENSSL_free(der);
        *ret_public_key_size = (size_t) der_size;

        t->params[t->n++] = p;
        *ret_token = token;
        *ret_token_size = TOKEN_SIZE;
        *ret_valid_to = p.valid_to;
        return 0;
}

int import_table_create(ImportTable *t, const char *key_id, uid_t owner, WrappingAlgorithm alg,
                        WrappingKeySpec spec, uint64_t now, uint8_t **ret_token, size_t *ret_token_size,
                        uint8_t **ret_public_key, size_t *ret_public_key_size, uint64_t *ret_valid_to) {
        EVP_PKEY *pkey;
        bool replaces = false;

        import_table_expire(t, now);
        for (size_t i = 0; i < t->n; i++)
                replaces = replaces || streq(t->params[i].key_id, key_id);
        if (!replaces && import_table_count_owner(t, owner) >= IMPORT_PARAMS_PER_OWNER)
                return -E2BIG;
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) key_bits[spec]);
        if (!pkey)
                return -EIO;
        return params_add(t, key_id, owner, alg, pkey, now, ret_token, ret_token_size, ret_public_key,
                          ret_public_key_size, ret_valid_to);
}

/* ---- The worker ---- */

static void *worker_main(void *userdata) {
        ImportTable *t = userdata;

        pthread_mutex_lock(&t->lock);
        /* Fully started (thread set-up calls done) before the seccomp filter comes. */
        t->started = true;
        pthread_cond_broadcast(&t->wake);
        for (;;) {
                ImportJob *job = NULL;
                WrappingKeySpec spec;
                EVP_PKEY *pkey;
                uint64_t one = 1;

                while (!t->stop) {
                        for (size_t i = 0; !job && i < t->n_jobs; i++)
                                if (t->jobs[i].state == JOB_QUEUED)
                                        job = &t->jobs[i];
                        if (job)
                                break;
                        pthread_cond_wait(&t->wake, &t->lock);
                }
                if (t->stop)
                        break;
                job->state = JOB_RUNNING;
                spec = job->spec;
                pthread_mutex_unlock(&t->lock);

                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) key_bits[spec]);

                pthread_mutex_lock(&t->lock);
                /* jobs[] only changes on the loop thread, and never drops a running job. */
                for (size_t i = 0; i < t->n_jobs; i++)
                        if (t->jobs[i].state == JOB_RUNNING) {
                                t->jobs[i].pkey = pkey;
                                t->jobs[i].state = JOB_DONE;
                                pkey = NULL;
                                break;
                        }
                EVP_PKEY_free(pkey);
                (void) !write(t->event_fd, &one, sizeof one);
        }
        pthread_mutex_unlock(&t->lock);
        return NULL;
}

int import_table_start_worker(ImportTable *t, const ImportWorkerOps *ops, int *ret_fd) {
        int r;

        if (t->running)
                return -EBUSY;
        t->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (t->event_fd < 0)
                return -errno;
        t->ops = *ops;
        pthread_mutex_init(&t->lock, NULL);
        pthread_cond_init(&t->wake, NULL);
        r = pthread_create(&t->thread, NULL, worker_main, t);
        if (r != 0) {
                pthread_mutex_destroy(&t->lock);
                pthread_cond_destroy(&t->wake);
                close(t->event_fd);
                t->event_fd = -EBADF;
                return -r;
        }
        t->running = true;
        pthread_mutex_lock(&t->lock);
        while (!t->started)
                pthread_cond_wait(&t->wake, &t->lock);
        pthread_mutex_unlock(&t->lock);
        *ret_fd = t->event_fd;
        return 0;
}

void import_table_dispatch(ImportTable *t) {
        uint64_t n;
        int r;

        (void) !read(t->event_fd, &n, sizeof n);
        pthread_mutex_lock(&t->lock);
        for (size_t i = t->n_jobs; i > 0; i--)
                if (t->jobs[i - 1].state == JOB_DONE && t->jobs[i - 1].forgotten)
                        job_remove(t, i - 1);
        for (size_t i = 0; i < t->n_jobs; i++)
                if (t->jobs[i].state == JOB_DONE && !t->jobs[i].notified) {
                        t->jobs[i].notified = true;
                        pthread_mutex_unlock(&t->lock);
                        r = t->ops.ready(t->jobs[i].request, t->ops.userdata);
                        pthread_mutex_lock(&t->lock);
                        if (r < 0) /* nobody comes for it */
                                job_remove(t, i--);
                }
        pthread_mutex_unlock(&t->lock);
}

static ssize_t job_find(ImportTable *t, const void *request) {
        for (size_t i = 0; i < t->n_jobs; i++)
                if (t->jobs[i].request == request)
                        return (ssize_t) i;
        return -1;
}

int import_table_request(ImportTable *t, void *request, uid_t uid, const char *key_id, uid_t owner,
                         WrappingAlgorithm alg, WrappingKeySpec spec, uint64_t now, uint8_t **ret_token,
                         size_t *ret_token_size, uint8_t **ret_public_key, size_t *ret_public_key_size,
                         uint64_t *ret_valid_to) {
        size_t n_uid = 0;
        bool replaces = false;
        ssize_t i;

        if (!t->running)
                return import_table_create(t, key_id, owner, alg, spec, now, ret_token, ret_token_size,
                                           ret_public_key, ret_public_key_size, ret_valid_to);

        pthread_mutex_lock(&t->lock);
        i = job_find(t, request);
        if (i >= 0 && t->jobs[i].forgotten)
                i = -1; /* an earlier life of this address */
        if (i >= 0 && t->jobs[i].state == JOB_DONE && t->jobs[i].spec == spec) {
                EVP_PKEY *pkey = TAKE_PTR(t->jobs[i].pkey);
                job_remove(t, (size_t) i);
                pthread_mutex_unlock(&t->lock);
                if (!pkey)
                        return -EIO;
                return params_add(t, key_id, owner, alg, pkey, now, ret_token, ret_token_size, ret_public_key,
                                  ret_public_key_size, ret_valid_to);
        }
        pthread_mutex_unlock(&t->lock);
        if (i >= 0)
                return -EINPROGRESS; /* still being made: the request comes back when it is */

        /* A new job: only if its key could be kept, and within the caller's share of the worker. */
        import_table_expire(t, now);
        for (size_t k = 0; k < t->n; k++)
                replaces = replaces || streq(t->params[k].key_id, key_id);
        if (!replaces && import_table_count_owner(t, owner) >= IMPORT_PARAMS_PER_OWNER)
                return -E2BIG;
        for (size_t k = 0; k < t->n_jobs; k++)
                n_uid += t->jobs[k].uid == uid;
        if (n_uid >= IMPORT_JOBS_PER_UID || t->n_jobs >= IMPORT_JOBS_MAX)
                return -EBUSY;

        pthread_mutex_lock(&t->lock);
        t->jobs[t->n_jobs++] = (ImportJob) {
                .request = t->ops.ref_request(request),
                .uid = uid,
                .spec = spec,
                .state = JOB_QUEUED,
        };
        pthread_cond_signal(&t->wake);
        pthread_mutex_unlock(&t->lock);
        return -EINPROGRESS;
}

void import_table_forget(ImportTable *t, const void *request) {
        ssize_t i;

        if (!t->running)
                return;
        pthread_mutex_lock(&t->lock);
        i = job_find(t, request);
        /* A running job stays until it is done: the worker writes into it. */
        if (i >= 0 && t->jobs[i].state == JOB_RUNNING) {
                t->jobs[i].forgotten = true;
                i = -1;
        }
        if (i >= 0)
                job_remove(t, (size_t) i);
        pthread_mutex_unlock(&t->lock);
}

/* The params of a token that is ours and unchanged, or NULL. */
static ImportParams *params_of(ImportTable *t, const uint8_t *token, size_t n) {
        uint8_t mac[TOKEN_MAC_SIZE];

        if (n != TOKEN_SIZE || token[0] != TOKEN_VERSION)
                return NULL;
        token_mac(t, token, mac);
        if (CRYPTO_memcmp(mac, token + TOKEN_SIZE - TOKEN_MAC_SIZE, TOKEN_MAC_SIZE) != 0)
                return NULL;
        for (size_t i = 0; i < t->n; i++)
                if (memcmp(t->params[i].id, token + 1, TOKEN_ID_SIZE) == 0)
                        return &t->params[i];
        return NULL;
}

ImportTokenProblem import_table_check(ImportTable *t, const uint8_t *token, size_t n, const char *key_id,
                                      uint64_t now) {
        uint8_t mac[TOKEN_MAC_SIZE];
        uint64_t valid_to = 0;
        ImportParams *p;

        if (n != TOKEN_SIZE || token[0] != TOKEN_VERSION)
                return IMPORT_TOKEN_INVALID;
        token_mac(t, token, mac);
        if (CRYPTO_memcmp(mac, token + TOKEN_SIZE - TOKEN_MAC_SIZE, TOKEN_MAC_SIZE) != 0)
                return IMPORT_TOKEN_INVALID;
        if (memcmp(token + 1 + TOKEN_ID_SIZE, key_id, KEY_ID_LEN) != 0)
                return IMPORT_TOKEN_OTHER_KEY;
        for (int i = 0; i < 8; i++)
                valid_to = valid_to << 8 | token[1 + TOKEN_ID_SIZE + KEY_ID_LEN + i];
        /* An expired token of ours is "expired" even once its wrapping key is gone. */
        if (valid_to <= now)
                return IMPORT_TOKEN_EXPIRED;
        p = params_of(t, token, n);
        return p ? IMPORT_TOKEN_OK : IMPORT_TOKEN_INVALID;
}

int import_table_unwrap(ImportTable *t, const uint8_t *token, size_t n, const uint8_t *ciphertext,
                        size_t ciphertext_size, uint8_t *out, size_t out_size) {
        ImportParams *p = params_of(t, token, n);
        EVP_PKEY_CTX *ctx;
        const EVP_MD *md;
        size_t len = 0;
        int r = -EBADMSG;

        if (!p)
                return -ENOKEY;
        md = p->algorithm == WRAPPING_RSAES_OAEP_SHA_1 ? EVP_sha1() : EVP_sha256();
        ctx = EVP_PKEY_CTX_new(p->pkey, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_decrypt_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
            EVP_PKEY_decrypt(ctx, NULL, &len, ciphertext, ciphertext_size) == 1) {
                /* OpenSSL wants room for a whole modulus; the caller's buffer is locked memory. */
                if (len > out_size)
                        r = -ENOBUFS;
                else if (EVP_PKEY_decrypt(ctx, out, &len, ciphertext, ciphertext_size) == 1)
                        r = (int) len;
        }
        EVP_PKEY_CTX_free(ctx);
        return r;
}

void import_table_consume(ImportTable *t, const uint8_t *token, size_t n) {
        ImportParams *p = params_of(t, token, n);
        if (p)
                params_destroy(t, (size_t) (p - t->params));
}
