/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/notify.c: READY=1 and STATUS= reach $NOTIFY_SOCKET over the socket opened
 * before the seccomp filter (then under the filter, which forbids socket()), and STATUS= follows the
 * counters at most once a second and only after something changed. A datagram socket in a temporary
 * directory stands in for systemd's. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "../daemon/counters.h"
#include "../daemon/notify.h"
#include "../daemon/seccomp.h"
#include "macro.h"

static char dir[] = "/tmp/hmacd-notify.XXXXXX";
static char path[sizeof dir + 16];
static int listener = -1;

static void setup(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        cr_assert_not_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/notify", dir);
        strcpy(sa.sun_path, path);
        listener = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(listener, 0);
        cr_assert_eq(bind(listener, (struct sockaddr *) &sa, sizeof sa), 0, "bind %s: %m", path);
        setenv("NOTIFY_SOCKET", path, 1);
        counters = (Counters) {};
}

static void teardown(void) {
        notify_close();
        if (listener >= 0)
                close(listener);
        /* unlinkat(): the one of these that the seccomp filter allows. */
        unlinkat(AT_FDCWD, path, 0);
        unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
}

/* The next datagram, or "" if none comes within timeout_ms. */
static const char *receive(int timeout_ms) {
        static char buf[1024];
        struct pollfd p = { .fd = listener, .events = POLLIN };
        ssize_t n;

        buf[0] = '\0';
        if (poll(&p, 1, timeout_ms) <= 0)
                return buf;
        n = recv(listener, buf, sizeof buf - 1, 0);
        cr_assert_geq(n, 0);
        buf[n] = '\0';
        return buf;
}

/* Runs the event loop until a datagram arrives or timeout_ms pass. */
static const char *run_until_message(sd_event *e, int timeout_ms) {
        for (int waited = 0; waited < timeout_ms; waited += 50) {
                const char *m;
                cr_assert_geq(sd_event_run(e, 50000), 0);
                m = receive(0);
                if (*m)
                        return m;
        }
        return "";
}

static size_t three_keys(void *userdata) {
        return 3;
}

TestSuite(notify, .init = setup, .fini = teardown, .timeout = 30);

Test(notify, without_socket_nothing_happens) {
        unsetenv("NOTIFY_SOCKET");
        cr_assert_eq(notify_open(), 0);
        cr_assert_eq(notify_send("READY=1"), 0);
        status_poke();
}

Test(notify, ready_and_status_under_seccomp) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        char status[256];

        cr_assert_eq(notify_open(), 1);
        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(status_start(e, three_keys, NULL), 0);
        cr_assert_eq(seccomp_install(false), 0);

        cr_assert_eq(status_format(status, sizeof status), 0);
        cr_assert_str_eq(status, "STATUS=Serving 3 keys; 0 calls, 0 failed, 0 denied.");
        cr_assert_eq(notify_send("READY=1"), 1);
        cr_assert_str_eq(receive(1000), "READY=1");

        /* Calls arm one update (bus-reply.c pokes after counting), sent about a second later with the
         * counts of that moment. */
        cr_assert(counters_count_result("ok"));
        cr_assert(counters_count_result("denied"));
        cr_assert(counters_count_result("ValidationException"));
        cr_assert(!counters_count_result("pending"));
        status_poke();
        cr_assert_str_eq(receive(0), "", "STATUS= is not sent from the call path");
        cr_assert_str_eq(run_until_message(e, 3000), "STATUS=Serving 3 keys; 3 calls, 1 failed, 1 denied.");

        cr_assert(counters_count_result("ok"));
        status_poke();
        cr_assert_str_eq(run_until_message(e, 3000), "STATUS=Serving 3 keys; 4 calls, 1 failed, 1 denied.");

        /* Nothing changed since: no further message. */
        cr_assert_str_eq(run_until_message(e, 1500), "");
        status_stop();
}
