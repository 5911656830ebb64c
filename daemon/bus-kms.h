/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io.hmacd.Kms1 interface: the bus adapter over the key service. Each handler reads its
 * arguments, validates them, resolves the key, authorizes (`if (r == 0) return 1;` while polkit's
 * answer is pending), calls the key service and replies; every call ends in bus-reply.c. */
#pragma once

#include <sys/uio.h>
#include <systemd/sd-bus.h>

#include "authorize.h"
#include "kms-service.h"
#include "polkit.h"

typedef struct BusKms {
        KmsService *service;
        Polkit *polkit;
        CallerCache *callers;
        uid_t self_uid;
        struct iovec batch[KMS_BATCH_MAX];      /* the messages of one GenerateMacBatch call */
} BusKms;

int bus_kms_add_object(sd_bus *bus, BusKms *b);
