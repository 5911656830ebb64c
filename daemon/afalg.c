/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AF_ALG hash sockets keyed by keyring serial, and logon keys for them (see afalg.h). */

#include <errno.h>
#include <linux/if_alg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "afalg.h"
#include "macro.h"

#ifndef SOL_ALG
#define SOL_ALG 279
#endif
#ifndef ALG_SET_KEY_BY_KEY_SERIAL
#define ALG_SET_KEY_BY_KEY_SERIAL 7
#endif

#define LOGON_POSSESSOR_ONLY (KEY_POS_VIEW | KEY_POS_WRITE | KEY_POS_SEARCH | KEY_POS_SETATTR)

/* One send() carries at most this much; larger messages go in pieces, all flagged MSG_MORE. */
#define AFALG_SEND_CHUNK (64u * 1024u)

static const char *const hmac_names[_KEY_SPEC_MAX] = {
        [KEY_SPEC_HMAC_224] = "hmac(sha224)",
        [KEY_SPEC_HMAC_256] = "hmac(sha256)",
        [KEY_SPEC_HMAC_384] = "hmac(sha384)",
        [KEY_SPEC_HMAC_512] = "hmac(sha512)",
};

const char *afalg_hmac_name(KeySpec spec) {
        return spec >= 0 && spec < _KEY_SPEC_MAX ? hmac_names[spec] : NULL;
}

int afalg_add_logon_key(key_serial_t keyring, const char *key_id, const void *material, size_t n,
                        key_serial_t *ret_serial) {
        char description[sizeof(AFALG_LOGON_PREFIX) + AFALG_KEY_ID_MAX];
        key_serial_t s;
        size_t l;

        if (!key_id || !ret_serial || (!material && n > 0))
                return -EINVAL;
        l = strnlen(key_id, AFALG_KEY_ID_MAX + 1);
        if (l == 0 || l > AFALG_KEY_ID_MAX || n == 0 || n > KMS_KEY_MATERIAL_MAX)
                return -EINVAL;
        memcpy(description, AFALG_LOGON_PREFIX, strlen(AFALG_LOGON_PREFIX));
        memcpy(description + strlen(AFALG_LOGON_PREFIX), key_id, l + 1);

        /* New keys give the user "view" too; narrowed before anyone uses the serial. */
        s = add_key("logon", description, material, n, keyring);
        if (s < 0)
                return negative_errno();
        if (keyctl_setperm(s, LOGON_POSSESSOR_ONLY) < 0) {
                int r = negative_errno();
                (void) keyctl_invalidate(s);
                return r;
        }
        *ret_serial = s;
        return 0;
}

static int hash_socket(void) {
        int fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        return fd < 0 ? negative_errno() : fd;
}

static int bind_hash(int fd, const char *name) {
        struct sockaddr_alg sa = { .salg_family = AF_ALG, .salg_type = "hash" };

        strncpy((char *) sa.salg_name, name, sizeof sa.salg_name - 1);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        return 0;
}

static int open_transform(const char *name, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = hash_socket();
        if (fd < 0)
                return fd;
        r = bind_hash(fd, name);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int set_key_serial(int tfm_fd, key_serial_t key) {
        int32_t serial = key;

        if (setsockopt(tfm_fd, SOL_ALG, ALG_SET_KEY_BY_KEY_SERIAL, &serial, sizeof serial) < 0)
                return negative_errno();
        return 0;
}

int afalg_open_keyed(KeySpec spec, key_serial_t key, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        const char *name = afalg_hmac_name(spec);
        int r;

        if (!name || key <= 0 || !ret_fd)
                return -EINVAL;
        r = open_transform(name, &fd);
        if (r < 0)
                return r;
        r = set_key_serial(fd, key);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int afalg_accept(int tfm_fd, int *ret_fd) {
        int fd;

        if (tfm_fd < 0 || !ret_fd)
                return -EINVAL;
        do
                fd = accept4(tfm_fd, NULL, NULL, SOCK_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

/* algif_hash keeps a hash open across send() calls flagged MSG_MORE and finishes it on the read that
 * follows (for no data at all, the read hashes the empty message). So every piece of the message goes
 * with MSG_MORE, a short send just continues where it stopped, and the read returns the tag. The read
 * is different: it ends the operation and frees the result, so a second read would start a new
 * (empty) hash; a short read is therefore an error, not something to continue. */
int afalg_mac(int op_fd, const void *msg, size_t n, uint8_t *ret_mac, size_t mac_size) {
        const uint8_t *p = msg;
        ssize_t k;

        if (op_fd < 0 || (!msg && n > 0) || !ret_mac || mac_size == 0 || mac_size > KMS_MAC_SIZE_MAX)
                return -EINVAL;

        while (n > 0) {
                k = send(op_fd, p, MIN(n, (size_t) AFALG_SEND_CHUNK), MSG_MORE | MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
        }

        do
                k = read(op_fd, ret_mac, mac_size);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return negative_errno();
        if ((size_t) k != mac_size)
                return -EIO;
        return 0;
}

int afalg_probe(const char **ret_step) {
        /* RFC 4231, test case 2: key "Jefe", HMAC-SHA-256. */
        static const uint8_t expected[32] = {
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
        };
        static const char data[] = "what do ya want for nothing?";
        _cleanup_close_ int tfm = -1, op = -1;
        const char *step;
        uint8_t mac[32];
        key_serial_t key = 0;
        int r;

        step = "socket(AF_ALG)";
        r = tfm = hash_socket();
        if (r < 0)
                goto finish;

        step = "bind(hmac(sha256))";
        r = bind_hash(tfm, "hmac(sha256)");
        if (r < 0)
                goto finish;

        /* A thread keyring: private to this thread, and gone with it. */
        step = "add_key(logon)";
        r = afalg_add_logon_key(KEY_SPEC_THREAD_KEYRING, "probe", "Jefe", 4, &key);
        if (r < 0)
                goto finish;

        step = "setsockopt(ALG_SET_KEY_BY_KEY_SERIAL)";
        r = set_key_serial(tfm, key);
        if (r < 0)
                goto finish;

        step = "accept";
        r = afalg_accept(tfm, &op);
        if (r < 0)
                goto finish;

        step = "mac";
        r = afalg_mac(op, data, strlen(data), mac, sizeof mac);
        if (r < 0)
                goto finish;

        step = "compare";
        r = memcmp(mac, expected, sizeof mac) == 0 ? 0 : -EBADMSG;

finish:
        if (key > 0)
                (void) keyctl_invalidate(key);
        if (ret_step)
                *ret_step = r < 0 ? step : NULL;
        return r;
}
