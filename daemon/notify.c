/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Notifications to the service manager (see notify.h). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "counters.h"
#include "log.h"
#include "macro.h"
#include "notify.h"

#define STATUS_INTERVAL_USEC 1000000ULL

static int notify_fd = -1;

static struct {
        sd_event_source *timer;
        bool armed;
        size_t (*n_keys)(void *userdata);
        void *userdata;
        char last[256];
} status;

int notify_open(void) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len;
        int fd;

        if (notify_fd >= 0)
                return 1;
        if (!path || !*path || (path[0] != '/' && path[0] != '@'))
                return 0;
        len = strlen(path);
        if (len >= sizeof sa.sun_path)
                return log_warning_errno(ENAMETOOLONG, "NOTIFY_SOCKET is too long, not notifying: %s", path);
        memcpy(sa.sun_path, path, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_warning_errno(errno, "Failed to create the notification socket: %m");
        if (connect(fd, (const struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
                int r = log_warning_errno(errno, "Failed to connect to NOTIFY_SOCKET %s: %m", path);
                close(fd);
                return r;
        }
        notify_fd = fd;
        return 1;
}

int notify_send(const char *text) {
        if (notify_fd < 0)
                return 0;
        if (send(notify_fd, text, strlen(text), MSG_NOSIGNAL) < 0)
                return log_full_errno(LOG_DEBUG, errno, "Failed to notify the service manager: %m");
        return 1;
}

void notify_close(void) {
        if (notify_fd >= 0)
                close(notify_fd);
        notify_fd = -1;
}

int status_format(char *buf, size_t size) {
        size_t n_keys = status.n_keys ? status.n_keys(status.userdata) : 0;
        int r;

        if (size < 8)
                return -ENOBUFS;
        memcpy(buf, "STATUS=", 7);
        r = counters_status(&counters, n_keys, buf + 7, size - 7);
        return r;
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        char text[sizeof status.last];

        status.armed = false;
        if (status_format(text, sizeof text) >= 0 && !streq(text, status.last)) {
                notify_send(text);
                memcpy(status.last, text, sizeof text);
        }
        return 0;
}

int status_start(sd_event *event, size_t (*n_keys)(void *userdata), void *userdata) {
        int r;

        status.n_keys = n_keys;
        status.userdata = userdata;
        if (notify_fd < 0)
                return 0;
        r = sd_event_add_time_relative(event, &status.timer, CLOCK_MONOTONIC, STATUS_INTERVAL_USEC, 0,
                                       on_status_timer, NULL);
        if (r < 0)
                return log_warning_errno(r, "Failed to set up STATUS= updates: %m");
        (void) sd_event_source_set_enabled(status.timer, SD_EVENT_OFF);
        (void) status_format(status.last, sizeof status.last);
        return 0;
}

void status_poke(void) {
        if (!status.timer || status.armed)
                return;
        if (sd_event_source_set_time_relative(status.timer, STATUS_INTERVAL_USEC) < 0 ||
            sd_event_source_set_enabled(status.timer, SD_EVENT_ONESHOT) < 0)
                return;
        status.armed = true;
}

void status_stop(void) {
        status.timer = sd_event_source_disable_unref(status.timer);
        status.armed = false;
}
