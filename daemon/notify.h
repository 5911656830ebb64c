/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Notifications to the service manager (READY=1, STATUS=, STOPPING=1), as sd_notify() sends them, but
 * over one socket connected before the seccomp filter is loaded: sd_notify() opens a new socket per
 * message, and socket() is fatal under the filter. STATUS= carries live counts and is sent at most
 * once a second, and only when a call happened since the last one: the call path only checks a flag. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

/* Connects to $NOTIFY_SOCKET. 0 without one (not started by systemd, or NotifyAccess=none). */
int notify_open(void);
/* Sends text ("READY=1\nSTATUS=..."); nothing without a socket. */
int notify_send(const char *text);
void notify_close(void);

/* STATUS= updates from the event loop; n_keys(userdata) gives the number of keys. */
int status_start(sd_event *event, size_t (*n_keys)(void *userdata), void *userdata);
/* Something changed: send a new STATUS= within a second. Cheap; called from the call path. */
void status_poke(void);
/* The current STATUS= text ("STATUS=Serving ..."). */
int status_format(char *buf, size_t size);
void status_stop(void);
