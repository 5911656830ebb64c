/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io.hmacd.Kms1 interface: the bus adapter over the key service. Each handler reads its
 * arguments, validates them, resolves the key, authorizes (`if (r == 0) return 1;` while polkit's
 * answer is pending), calls the key service and replies; every call ends in bus-reply.c. */
#pragma once

#include <stdbool.h>
#include <sys/uio.h>
#include <systemd/sd-bus.h>

#include "authz.h"
#include "kms-service.h"

typedef struct BusKms {
        KmsService *service;
        Authz *authz;
        struct iovec batch[KMS_BATCH_MAX];      /* the messages of one GenerateMacBatch or VerifyMacBatch call */
        struct iovec batch_macs[KMS_BATCH_MAX]; /* the MACs of one VerifyMacBatch call */
        bool batch_valid[KMS_BATCH_MAX];
} BusKms;

int bus_kms_add_object(sd_bus *bus, BusKms *b);
/* Wrapping keys are made on a worker thread from now on: call before the seccomp filter is loaded. */
int bus_kms_start_import_worker(BusKms *b, sd_bus *bus);
