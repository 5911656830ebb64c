/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Start-up, the bus connection and the main loop of the daemon. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "manager.h"
#include "notify.h"
#include "seccomp.h"

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        r = kms_service_new(m->event, &m->service);
        if (r < 0)
                return r;
        m->bus_kms = (BusKms) { .service = m->service };

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        status_stop();
        notify_close();
        authz_free(m->bus_kms.authz);
        sd_bus_flush_close_unref(m->bus);
        kms_service_free(m->service);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

void manager_freep(Manager **m) {
        manager_free(*m);
}

int manager_load(Manager *m, const ManagerConfig *config) {
        int r;

        r = kms_service_load(m->service, &config->service);
        if (r < 0)
                return r;
        /* Keys whose deletion date passed while we were down go before the name is taken. */
        return kms_service_purge(m->service);
}

int manager_connect_bus(Manager *m, const ManagerConfig *config) {
        int r;

        r = config->user_bus ? sd_bus_open_user(&m->bus) : sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the %s bus: %m", config->user_bus ? "user" : "system");

        r = authz_new(m->bus, geteuid(), config->polkit_cache_usec, &m->bus_kms.authz);
        if (r < 0)
                return log_error_errno(r, "Failed to set up authorization (bus name changes, polkit's signals): %m");

        r = bus_kms_add_object(m->bus, &m->bus_kms);
        if (r < 0)
                return log_error_errno(r, "Failed to publish the object: %m");
        r = bus_kms_start_import_worker(&m->bus_kms, m->bus);
        if (r < 0)
                return r;

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        /* If the bus goes away, exit non-zero so that the service manager restarts us. */
        r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set exit on disconnect: %m");

        return 0;
}

static size_t manager_n_keys(void *userdata) {
        Manager *m = userdata;
        return m->service->index.n;
}

int manager_run(Manager *m) {
        char status[256];
        int r;

        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to install signal handlers: %m");

        /* Everything is open now: from here on, only the calls needed to serve requests. The name is
         * taken only then, so that no request is ever served unconfined. The sockets to the service
         * manager and the journal are opened before. */
        (void) notify_open();
        log_prepare_confinement();
        r = seccomp_install(key_material_uses_kernel(m->service->material));
        if (r < 0)
                return r;
        r = sd_bus_request_name(m->bus, HMACD_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to take the bus name %s: %m", HMACD_BUS_NAME);

        log_struct_id(LOG_INFO, HMACD_MESSAGE_STARTED, "Serving %s: %zu keys, engine %s.", HMACD_BUS_NAME,
                      m->service->index.n, key_material_backend(m->service->material));
        (void) status_start(m->event, manager_n_keys, m);
        if (status_format(status, sizeof status) >= 0) {
                char ready[sizeof status + 16];
                snprintf(ready, sizeof ready, "READY=1\n%s", status);
                (void) notify_send(ready);
        }

        r = sd_event_loop(m->event);
        (void) notify_send("STOPPING=1");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        if (r != 0)
                log_error("Lost the connection to the bus, exiting.");
        else
                log_struct_id(LOG_INFO, HMACD_MESSAGE_STOPPED, "Stopped serving %s.", HMACD_BUS_NAME);
        return r;
}

