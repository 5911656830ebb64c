/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* afalg-bench [N] [MODE]: the cost of one HMAC-SHA-256 of a 64-byte message, N times (default 20000),
 * through each engine hmacd can use, on the kernel it runs on (meant for the VM guest: `make vm-bench`).
 *   afalg        a write and a read on an AF_ALG operation socket keyed once from a logon key (the
 *                kernel engine: the socket is cached, the key never leaves the kernel)
 *   openssl      keyctl_read of a user key into a buffer, HMAC() with OpenSSL, wipe (the user-key engine)
 *   openssl-mem  HMAC() with a key already in memory (OpenSSL alone, for reference)
 * Prints one line per mode: microseconds per MAC. Run one mode under `strace -c` to count calls. */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/afalg.h"
#include "macro.h"

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";
        uint8_t msg[64], mac[32], buf[128];
        const char *mode = argc > 2 ? argv[2] : NULL;
        long n = argc > 1 ? atol(argv[1]) : 20000;
        key_serial_t logon = 0, user;
        unsigned len;
        double t;
        int r;

        if (n <= 0 || n > 100000000)
                return 2;
        memset(msg, 'm', sizeof msg);
        if (keyctl_join_session_keyring(NULL) < 0) {
                perror("keyctl_join_session_keyring");
                return 1;
        }

        if (!mode || streq(mode, "afalg")) {
                _cleanup_close_ int tfm = -1, op = -1;

                r = afalg_add_logon_key(KEY_SPEC_SESSION_KEYRING, "bench", key, sizeof key, &logon);
                if (r >= 0)
                        r = afalg_open_keyed(KEY_SPEC_HMAC_256, logon, &tfm);
                if (r >= 0)
                        r = afalg_accept(tfm, &op);
                if (r < 0) {
                        fprintf(stderr, "afalg: %s\n", strerror(-r));
                        return 1;
                }
                t = now();
                for (long i = 0; i < n; i++)
                        if (afalg_mac(op, msg, sizeof msg, mac, sizeof mac) < 0)
                                return 1;
                printf("afalg        %8.2f us/MAC (%ld MACs)\n", (now() - t) * 1e6 / n, n);
        }

        if (!mode || streq(mode, "openssl")) {
                user = add_key("user", "bench:user", key, sizeof key, KEY_SPEC_SESSION_KEYRING);
                if (user < 0) {
                        perror("add_key(user)");
                        return 1;
                }
                t = now();
                for (long i = 0; i < n; i++) {
                        long k = keyctl_read(user, (char *) buf, sizeof buf);
                        if (k != sizeof key || !HMAC(EVP_sha256(), buf, (int) k, msg, sizeof msg, mac, &len))
                                return 1;
                        OPENSSL_cleanse(buf, sizeof buf);
                }
                printf("openssl      %8.2f us/MAC (%ld MACs; keyctl_read + HMAC + wipe)\n",
                       (now() - t) * 1e6 / n, n);
        }

        if (!mode || streq(mode, "openssl-mem")) {
                t = now();
                for (long i = 0; i < n; i++)
                        if (!HMAC(EVP_sha256(), key, sizeof key, msg, sizeof msg, mac, &len))
                                return 1;
                printf("openssl-mem  %8.2f us/MAC (%ld MACs; key in memory)\n", (now() - t) * 1e6 / n, n);
        }
        return 0;
}
