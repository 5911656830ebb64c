/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's process: event loop, bus connection, the key service and the bus adapter over it,
 * start-up order and the main loop. No operation on keys lives here (kms-service.h has them). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-kms.h"
#include "kms-service.h"

typedef struct ManagerConfig {
        bool user_bus;
        KmsServiceConfig service;
        uint64_t polkit_cache_usec;     /* how long an allowed answer is reused */
} ManagerConfig;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        KmsService *service;
        BusKms bus_kms;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
void manager_freep(Manager **m);

/* Keyring, KEK, store and index, and what expired while the daemon was down; fatal problems are
 * logged with one clear line. */
int manager_load(Manager *m, const ManagerConfig *config);
/* Connects to the bus and publishes the object (the name is taken in manager_run()). */
int manager_connect_bus(Manager *m, const ManagerConfig *config);
int manager_run(Manager *m);
