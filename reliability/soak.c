/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The soak test (`make soak`, run by reliability/run-soak in a private mount namespace): hmacd as its
 * own user with 1,000 keys of every spec, and 8 clients (threads, each with its own libhmacd
 * connection, as root) calling GenerateMac and VerifyMac on random keys at full speed for 60 seconds.
 * With the default keyring cache (from the key quota of the daemon's user: about 90 keys here) most
 * calls load a key from the store into the cache and evict another.
 *
 * It fails on any failed call (an error, a MAC that VerifyMac refuses, a wrong tag accepted, a MAC
 * that changed), on resident memory growing by 1 MiB or more between the end of the warm-up and the
 * end, and on a change in the number of the daemon's open file descriptors. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "key-specs.h"
#include "hmacd.h"
#include "macro.h"

#define PROBE "soak probe"

typedef struct Key {
        char id[37];
        unsigned spec;
        uint8_t probe_mac[64]; /* the MAC of PROBE when the key was made: it must never change */
} Key;

typedef struct Client {
        pthread_t thread;
        unsigned index;
        uint64_t rng;
        uint64_t generate, verify, wrong_rejected, probes, failures;
        char first_failure[512];
} Client;

static Key *keys;
static size_t n_keys = 1000;
static unsigned n_clients = 8;
static unsigned seconds = 60, warmup = 10;
static atomic_bool stop;

static uint64_t mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static uint64_t rnd(uint64_t *s) {
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        return *s * UINT64_C(2685821657736338717);
}

static void fail(Client *c, const char *what, const HmacdError *e, int r) {
        c->failures++;
        if (!*c->first_failure)
                snprintf(c->first_failure, sizeof c->first_failure, "%s: %s: %s (%s)", what,
                         e && e->name ? e->name : "-", e && e->message ? e->message : "-", strerror(r < 0 ? -r : r));
}

static void *client_main(void *userdata) {
        Client *c = userdata;
        Hmacd *h = NULL;
        uint8_t msg[512], mac[64];
        int r;

        r = hmacd_open(HMACD_BUS_SYSTEM, &h);
        if (r < 0) {
                fail(c, "hmacd_open", NULL, r);
                return NULL;
        }
        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                const Key *k = &keys[rnd(&c->rng) % n_keys];
                size_t len = 1 + rnd(&c->rng) % sizeof msg, n = 0;
                unsigned what = (unsigned) (rnd(&c->rng) % 16);
                HmacdError e = {};

                if (what == 0) {
                        /* The key's first MAC, again: the cache never hands out the wrong key. */
                        r = hmacd_generate_mac(h, k->id, PROBE, strlen(PROBE), test_key_specs[k->spec].alg, mac, &n, NULL, &e);
                        c->probes++;
                        if (r < 0)
                                fail(c, "GenerateMac (probe)", &e, r);
                        else if (n != test_key_specs[k->spec].mac_size || memcmp(mac, k->probe_mac, n) != 0)
                                fail(c, "GenerateMac (probe): the MAC of a key changed", NULL, 0);
                        hmacd_error_clear(&e);
                        continue;
                }

                for (size_t i = 0; i < len; i += 8) {
                        uint64_t v = rnd(&c->rng);
                        memcpy(msg + i, &v, MIN(8, len - i));
                }
                r = hmacd_generate_mac(h, k->id, msg, len, test_key_specs[k->spec].alg, mac, &n, NULL, &e);
                c->generate++;
                if (r < 0 || n != test_key_specs[k->spec].mac_size) {
                        fail(c, "GenerateMac", &e, r);
                        hmacd_error_clear(&e);
                        continue;
                }
                if (what < 8) {
                        r = hmacd_verify_mac(h, k->id, msg, len, test_key_specs[k->spec].alg, mac, n, NULL, &e);
                        c->verify++;
                        if (r < 0)
                                fail(c, "VerifyMac", &e, r);
                        hmacd_error_clear(&e);
                } else if (what < 10) {
                        /* A wrong tag: KMSInvalidMacException is the right answer, not a failure. */
                        mac[rnd(&c->rng) % n] ^= 0x10;
                        r = hmacd_verify_mac(h, k->id, msg, len, test_key_specs[k->spec].alg, mac, n, NULL, &e);
                        c->verify++;
                        if (r == -EBADMSG && e.name && streq(e.name, "KMSInvalidMacException"))
                                c->wrong_rejected++;
                        else
                                fail(c, "VerifyMac (wrong tag)", &e, r == 0 ? EINVAL : r);
                        hmacd_error_clear(&e);
                }
        }
        hmacd_close(h);
        return NULL;
}

static long status_kb(pid_t pid, const char *field) {
        _cleanup_free_ char *s = NULL;
        char path[64];
        const char *p;

        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        if (harness_read_file(path, &s, NULL) < 0)
                return -1;
        p = strstr(s, field);
        return p ? strtol(p + strlen(field), NULL, 10) : -1;
}

static long count_fds(pid_t pid) {
        char path[64];
        struct dirent *de;
        long n = 0;
        DIR *d;

        snprintf(path, sizeof path, "/proc/%d/fd", (int) pid);
        d = opendir(path);
        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static int make_keys(void) {
        HmacdError e = {};
        Hmacd *h = NULL;
        int r;

        r = hmacd_open(HMACD_BUS_SYSTEM, &h);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_keys; i++) {
                HmacdKeyMetadata *md = NULL;
                size_t n = 0;

                keys[i].spec = (unsigned) (i % TEST_KEY_SPECS_N);
                r = hmacd_create_key(h, test_key_specs[keys[i].spec].spec, "GENERATE_VERIFY_MAC", "soak", NULL, 0, NULL, &md, &e);
                if (r >= 0) {
                        snprintf(keys[i].id, sizeof keys[i].id, "%s", md->key_id);
                        hmacd_key_metadata_free(md);
                        r = hmacd_generate_mac(h, keys[i].id, PROBE, strlen(PROBE), test_key_specs[keys[i].spec].alg,
                                               keys[i].probe_mac, &n, NULL, &e);
                }
                if (r < 0) {
                        fprintf(stderr, "soak: creating key %zu: %s: %s\n", i, e.name ?: "-", e.message ?: strerror(-r));
                        hmacd_error_clear(&e);
                        hmacd_close(h);
                        return r;
                }
        }
        hmacd_close(h);
        return 0;
}

static void help(void) {
        printf("soak [--seconds=N] [--warmup=N] [--clients=N] [--keys=N]\n\n"
               "8 clients at full speed for 60 s against 1,000 keys; run by reliability/run-soak.\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "seconds", required_argument, NULL, 's' },
                { "warmup", required_argument, NULL, 'w' },
                { "clients", required_argument, NULL, 'c' },
                { "keys", required_argument, NULL, 'k' },
                {}
        };
        _cleanup_free_ Client *clients = NULL;
        long rss_start, rss_warm, rss_end, rss_max = 0, hwm, fds_start, fds_warm, fds_end;
        uint64_t t0, generate = 0, verify = 0, wrong = 0, probes = 0, failures = 0;
        const char *reason = NULL;
        bool ok = true;
        pid_t pid;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 's':
                        seconds = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'w':
                        warmup = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'c':
                        n_clients = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'k':
                        n_keys = strtoul(optarg, NULL, 10);
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (seconds == 0 || warmup >= seconds || n_clients == 0 || n_clients > 256 || n_keys == 0 || n_keys > 100000) {
                fprintf(stderr, "soak: need 0 < warmup < seconds, 1..256 clients, 1..100000 keys\n");
                return EXIT_FAILURE;
        }

        if (harness_check_environment(&reason) < 0) {
                fprintf(stderr, "soak: %s (run it through reliability/run-soak)\n", reason);
                return EXIT_FAILURE;
        }
        keys = calloc(n_keys, sizeof *keys);
        clients = calloc(n_clients, sizeof *clients);
        if (!keys || !clients)
                return EXIT_FAILURE;

        r = harness_daemon_start();
        if (r < 0) {
                fprintf(stderr, "soak: cannot start hmacd: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        pid = harness_daemon_pid();
        t0 = mono_usec();
        r = make_keys();
        if (r < 0)
                return EXIT_FAILURE;
        rss_start = status_kb(pid, "VmRSS:");
        fds_start = count_fds(pid);
        printf("soak: hmacd (PID %d) with %zu keys, made in %.1f s; VmRSS %ld kB, %ld open fds; %u clients for %u s "
               "(warm-up %u s)\n",
               (int) pid, n_keys, (double) (mono_usec() - t0) / 1e6, rss_start, fds_start, n_clients, seconds, warmup);
        fflush(stdout);

        for (unsigned i = 0; i < n_clients; i++) {
                clients[i].index = i;
                if (getrandom(&clients[i].rng, sizeof clients[i].rng, 0) != sizeof clients[i].rng)
                        clients[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
                clients[i].rng |= 1;
                if (pthread_create(&clients[i].thread, NULL, client_main, &clients[i]) != 0) {
                        fprintf(stderr, "soak: cannot start client %u\n", i);
                        return EXIT_FAILURE;
                }
        }

        t0 = mono_usec();
        rss_warm = fds_warm = -1;
        for (unsigned s = 1; s <= seconds; s++) {
                long rss;
                uint64_t until = t0 + (uint64_t) s * 1000000;
                while (mono_usec() < until)
                        usleep((useconds_t) MIN(until - mono_usec(), 100000u));
                rss = status_kb(pid, "VmRSS:");
                if (rss < 0) {
                        fprintf(stderr, "soak: hmacd is gone\n");
                        atomic_store(&stop, true);
                        ok = false;
                        break;
                }
                if (s == warmup) {
                        rss_warm = rss;
                        fds_warm = count_fds(pid);
                }
                if (s > warmup)
                        rss_max = MAX(rss_max, rss);
                if (s % 10 == 0) {
                        uint64_t calls = 0;
                        for (unsigned i = 0; i < n_clients; i++)
                                calls += clients[i].generate + clients[i].verify + clients[i].probes;
                        printf("soak: %3u s: %" PRIu64 " calls, VmRSS %ld kB, %ld fds\n", s, calls, rss, count_fds(pid));
                        fflush(stdout);
                }
        }
        rss_end = status_kb(pid, "VmRSS:");
        hwm = status_kb(pid, "VmHWM:");
        fds_end = count_fds(pid);
        {
                uint64_t total;
                atomic_store(&stop, true);
                for (unsigned i = 0; i < n_clients; i++)
                        pthread_join(clients[i].thread, NULL);
                for (unsigned i = 0; i < n_clients; i++) {
                        generate += clients[i].generate;
                        verify += clients[i].verify;
                        wrong += clients[i].wrong_rejected;
                        probes += clients[i].probes;
                        failures += clients[i].failures;
                        if (clients[i].failures)
                                fprintf(stderr, "soak: client %u: %" PRIu64 " failures, the first: %s\n", i,
                                        clients[i].failures, clients[i].first_failure);
                }
                total = generate + verify + probes;
                printf("soak: %" PRIu64 " calls in %u s (%.0f/s): %" PRIu64 " GenerateMac, %" PRIu64 " VerifyMac (%" PRIu64
                       " wrong tags rightly refused), %" PRIu64 " probe MACs unchanged; %" PRIu64 " failed\n",
                       total, seconds, (double) total / seconds, generate, verify, wrong, probes, failures);
        }
        printf("soak: VmRSS %ld kB before the load, %ld kB after the %u s warm-up, %ld kB at the end (growth %+ld kB, "
               "at most %ld kB after the warm-up, VmHWM %ld kB)\n",
               rss_start, rss_warm, warmup, rss_end, rss_end - rss_warm, rss_max, hwm);
        printf("soak: open fds: %ld before the load, %ld after the warm-up, %ld at the end\n", fds_start, fds_warm,
               fds_end);

        if (failures > 0) {
                printf("soak: FAILED: %" PRIu64 " failed calls\n", failures);
                ok = false;
        }
        if (rss_warm < 0 || rss_end < 0 || rss_end - rss_warm >= 1024 || rss_max - rss_warm >= 1024) {
                printf("soak: FAILED: resident memory grew by 1 MiB or more after the warm-up\n");
                ok = false;
        }
        if (fds_start < 0 || fds_warm != fds_start || fds_end != fds_start) {
                printf("soak: FAILED: the number of open file descriptors changed\n");
                ok = false;
        }
        {
                int status = 0;
                r = harness_daemon_stop(&status);
                if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        printf("soak: FAILED: hmacd did not stop cleanly: %s\n", harness_describe_status(status));
                        ok = false;
                }
        }
        harness_stop_all();
        printf("soak: %s\n", ok ? "passed" : "FAILED");
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
