/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Self-confinement: once the bus is connected, the store open and the keyring ready, the daemon
 * allows itself exactly the system calls it uses to serve requests; any other call kills it. */
#pragma once

#include <stdbool.h>

/* Sets no_new_privs and loads the allowlist. Irreversible for this process. af_alg: the kernel engine
 * runs, so AF_ALG hash sockets may be opened, bound, keyed by key serial and accepted (nothing else of
 * the socket family). */
int seccomp_install(bool af_alg);
