/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AF_ALG, the kernel's crypto API socket, for HMACs keyed straight from the keyring: `logon` keys that
 * user space can never read back, transform sockets keyed from such a key by its serial
 * (ALG_SET_KEY_BY_KEY_SERIAL, Linux 6.2+), operation sockets accepted from them, and one MAC as one
 * write and one read. Thin wrappers over the system calls: negative errno on failure, nothing logged. */
#pragma once

#include <keyutils.h>
#include <stddef.h>
#include <stdint.h>

#include "kms.h"

/* The `logon` key type demands a "prefix:" in descriptions; ours are "hmacd:<key-id>". */
#define AFALG_LOGON_PREFIX "hmacd:"
#define AFALG_KEY_ID_MAX   256u

/* The kernel's hash name for a spec ("hmac(sha256)"), or NULL. */
const char *afalg_hmac_name(KeySpec spec);

/* 0 if this kernel computes HMACs through AF_ALG keyed by a logon key's serial (checked with a
 * throwaway key in a thread keyring and RFC 4231's second vector), else a negative errno; then
 * *ret_step (if not NULL) names the step that failed ("socket(AF_ALG)", "bind(hmac(sha256))",
 * "add_key(logon)", "setsockopt(ALG_SET_KEY_BY_KEY_SERIAL)", "accept", "mac", "compare"). */
int afalg_probe(const char **ret_step);

/* Adds `logon` key "hmacd:<key_id>" holding material to keyring, possessor-only. The material is
 * copied by the kernel; the caller wipes its own copy. */
int afalg_add_logon_key(key_serial_t keyring, const char *key_id, const void *material, size_t n,
                        key_serial_t *ret_serial);

/* A transform socket for spec's HMAC, keyed from key (any key type the kernel accepts: logon, user,
 * ...). The kernel copies the key here: revoking or invalidating it later does not affect this
 * socket or operation sockets accepted from it, only new keyings. */
int afalg_open_keyed(KeySpec spec, key_serial_t key, int *ret_fd);

/* An operation socket accepted from a keyed transform socket; it computes any number of MACs in turn. */
int afalg_accept(int tfm_fd, int *ret_fd);

/* HMAC of msg on an operation socket into ret_mac, mac_size bytes (the spec's full tag size). */
int afalg_mac(int op_fd, const void *msg, size_t n, uint8_t *ret_mac, size_t mac_size);
