/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Self-confinement: once the bus is connected, the store open and the keyring ready, the daemon
 * allows itself exactly the system calls it uses to serve requests; any other call kills it. */
#pragma once

/* Sets no_new_privs and loads the allowlist. Irreversible for this process. */
int seccomp_install(void);
