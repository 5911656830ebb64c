/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key-encryption key: loaded once from --kek-file, a systemd credential or the state
 * directory (created there on first start), then kept only in the kernel keyring. */
#pragma once

#include <keyutils.h>
#include <stdbool.h>
#include <stdint.h>

#include "seal.h"

#define KEK_FILE_NAME "kek"
#define KEK_CREDENTIAL_NAME "hmacd.kek"

/* Loads the KEK into the session keyring as a possessor-only key; *ret_source says where it came
 * from. allow_create permits making a new KEK in the state directory (only for a new store). */
int kek_load(const char *explicit_path, const char *state_dir, bool allow_create, key_serial_t *ret_serial,
             const char **ret_source);

/* Reads the KEK from the keyring into buf (which should be locked memory). */
int kek_read(key_serial_t serial, uint8_t buf[static KEK_SIZE]);
