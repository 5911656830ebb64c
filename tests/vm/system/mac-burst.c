/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mac-burst KEY_ID N [WINDOW]: N GenerateMac calls on the system bus as fast as the daemon answers,
 * WINDOW of them in flight at a time (default 32). Prints one line, "ok=N failed=N seconds=S
 * calls_per_second=R first_error=NAME", and exits 0 when every call was answered with a MAC. Used by
 * the booted-system test to count the daemon's audit records over a burst. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

typedef struct Burst {
        unsigned sent, answered, ok, failed, total;
        char first_error[256];
} Burst;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Burst *b = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        b->answered++;
        if (e) {
                if (b->failed++ == 0)
                        snprintf(b->first_error, sizeof b->first_error, "%s", e->name);
        } else
                b->ok++;
        return 0;
}

static int send_one(sd_bus *bus, Burst *b, const char *key_id) {
        sd_bus_message *m = NULL;
        char text[32];
        int r;

        snprintf(text, sizeof text, "burst message %u", b->sent);
        r = sd_bus_message_new_method_call(bus, &m, "io.hmacd.Kms1", "/io/hmacd/Kms1", "io.hmacd.Kms1",
                                           "GenerateMac");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key_id);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', text, strlen(text));
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "HMAC_SHA_256");
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_reply, b, 60 * 1000000ULL);
        sd_bus_message_unref(m);
        if (r >= 0)
                b->sent++;
        return r;
}

int main(int argc, char *argv[]) {
        Burst b = { .first_error = "-" };
        struct timespec t0, t1;
        unsigned window;
        sd_bus *bus = NULL;
        double secs;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: %s KEY_ID N [WINDOW]\n", argv[0]);
                return 2;
        }
        b.total = strtoul(argv[2], NULL, 10);
        window = argc > 3 ? strtoul(argv[3], NULL, 10) : 32;
        if (window == 0)
                window = 1;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "mac-burst: no system bus: %s\n", strerror(-r));
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (b.answered < b.total) {
                while (b.sent < b.total && b.sent - b.answered < window) {
                        r = send_one(bus, &b, argv[1]);
                        if (r < 0) {
                                fprintf(stderr, "mac-burst: call %u not sent: %s\n", b.sent, strerror(-r));
                                return 1;
                        }
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "mac-burst: bus: %s\n", strerror(-r));
                        return 1;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR) {
                        fprintf(stderr, "mac-burst: bus: %s\n", strerror(-r));
                        return 1;
                }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("ok=%u failed=%u seconds=%.2f calls_per_second=%.0f first_error=%s\n", b.ok, b.failed, secs,
               secs > 0 ? b.ok / secs : 0, b.first_error);
        sd_bus_flush_close_unref(bus);
        return b.ok == b.total ? 0 : 1;
}
