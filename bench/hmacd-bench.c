/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacd-bench: the numbers of issue 7, in one run. It starts its own private bus (tests/harness.c),
 * measures the floors (a bare sd-bus call to an echo service on that bus, in-process OpenSSL
 * HMAC-SHA256), then hmacd itself as user "hmacd" (GenerateMac, VerifyMac, GenerateMacBatch, as root
 * and as the user "hmacdtest" allowed by a polkit rule, with 10 and with 100,000 keys), and the peer
 * (HMAC-SHA256 through PKCS#11: SoftHSM2 behind `p11-kit server`, reached over its unix socket by
 * p11-kit's client module). It prints one line per figure as it goes, a table at the end, and writes
 * every figure to a JSON file and the batch figures to a gnuplot data file.
 *
 * Run it through bench/run (`make bench`): it needs root, the users "hmacd" and "hmacdtest", and
 * polkit folders it may write a rule into; bench/run provides them in a private mount namespace and
 * sets HMACD_BENCH_ENV=1, without which this program refuses to run.
 *
 * Clients are forked processes, one bus connection each, running as root or dropping to
 * "hmacdtest"; they report through shared memory. Each figure runs for a fixed time (--seconds), so
 * that the whole run stays within a few minutes on a slow machine, in rounds that alternate with its
 * floor (or the peer with hmacd) on the same connections; the medians of the rounds count. The CPU
 * time per call of every process involved is accounted for (/proc/PID/schedstat), and so is what
 * other processes took meanwhile: a figure they disturbed is measured again, within limits, and
 * flagged. Nothing here asserts on time: the targets are evaluated and reported, never turned into
 * a failure.
 *
 * "hmacd-bench --echo-service" is the echo service itself, started as user "hmacd" like the daemon:
 * it queues for io.hmacd.Kms1 behind the daemon, so that the bus applies the very same policy rule to
 * its calls, and answers io.hmacd.Kms1.Echo(ay) -> ay on its unique name. "--load" (one connection,
 * N calls) and "--syscall-costs" serve bench/profile. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <keyutils.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <p11-kit/pkcs11.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "kms.h"
#include "macro.h"

#define MAC_ALGORITHM "HMAC_SHA_256"
#define MAC_SIZE 32u
#define KEY_ID_SIZE 37u                 /* 36 characters and the NUL */
#define CLIENTS_MAX 4u
#define LAT_CAP 262144u                 /* latencies kept per client and figure */
#define FIGURES_MAX 96u
#define SMALL 32u
#define LARGE 4096u
#define BATCH_MESSAGE_SIZE 32u
#define LIST_LIMIT 1000u
#define STARTS 3u                       /* daemon starts timed per store size */
#define ROUNDS 10                       /* alternating rounds of a figure and its reference (even) */
#define OTHERS_WARN 0.05                /* other processes' CPU share that makes a figure doubtful */
#define ATTEMPTS_MAX 3u                 /* a disturbed figure is measured up to this often... */
#define RETRIES_MAX 10u                 /* ...while the run has retries left */
#define QUIET_WAIT_MAX_NS (45 * NSEC_PER_SEC) /* a run waits this long at most for a quiet machine */
#define POLKIT_CACHE_ARG "--polkit-cache-seconds=600"
#define RULE_PATH "/etc/polkit-1/rules.d/60-hmacd-bench.rules"
#define POLKITD "/usr/lib/polkit-1/polkitd"
#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define P11_CLIENT_MODULE "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"
#define P11_TOKEN_LABEL "hmacd-bench"
#define P11_USER_PIN "1234"
#define NSEC_PER_SEC UINT64_C(1000000000)
#define MARKER_BUF 1025u                /* ListKeys markers: at most 1024 characters */

typedef struct KeyId {
        char s[KEY_ID_SIZE];
} KeyId;

/* ---- options ---- */

static double arg_seconds = 1.0;
static size_t arg_keys = 100000;
static const char *arg_json;
static const char *arg_dat;
static bool arg_skip_peer;

/* ---- time and statistics ---- */

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

/* Sorts lat in place; the q-quantile in microseconds (nearest rank). */
static double quantile_us(uint32_t *lat, size_t n, double q, bool sorted) {
        size_t i;

        if (n == 0)
                return NAN;
        if (!sorted)
                qsort(lat, n, sizeof *lat, cmp_u32);
        i = (size_t) ceil(q * (double) n);
        i = i > 0 ? i - 1 : 0;
        return (double) lat[MIN(i, n - 1)] / 1000.0;
}

/* ---- figures ---- */

/* The processes whose CPU time each figure accounts for, per call: the clients, the bus, and the
 * servers (only one of which answers the calls of a figure; polkitd answers hmacd's questions). */
typedef enum Process {
        PROCESS_CLIENTS,
        PROCESS_BUS,
        PROCESS_HMACD,
        PROCESS_POLKITD,
        PROCESS_OTHER,          /* the echo service or the p11-kit server, whichever runs */
        _PROCESS_MAX,
} Process;

static const char *const process_names[_PROCESS_MAX] = {
        [PROCESS_CLIENTS] = "clients",
        [PROCESS_BUS] = "dbus-daemon",
        [PROCESS_HMACD] = "hmacd",
        [PROCESS_POLKITD] = "polkitd",
        [PROCESS_OTHER] = "echo or p11-kit server",
};


typedef struct Figure {
        char id[64];            /* machine-readable name, the JSON key */
        char label[96];
        const char *unit;       /* calls/s, MACs/s, keys/s, ms, MiB */
        double value;
        double p50_us, p99_us;  /* NAN when not measured */
        uint64_t n;             /* operations measured */
        char floor[64];         /* the figure it is compared with ("" when none) */
        double floor_value;     /* that floor, measured in alternating rounds with this figure (NAN: not) */
        double ratio;           /* value / floor_value, else value / the floor figure's value */
        double cpu_us[_PROCESS_MAX]; /* CPU time per call (not per MAC) of each process; NAN: not measured */
        double floor_cpu_us[_PROCESS_MAX]; /* the same for the floor calls of the same rounds */
        double others;          /* the share of the machine's CPU time other processes took meanwhile */
        unsigned attempts;      /* how often it was measured (the least disturbed attempt counts) */
} Figure;

static Figure figures[FIGURES_MAX];
static size_t n_figures;

static const Figure *figure_find(const char *id) {
        for (size_t i = 0; i < n_figures; i++)
                if (streq(figures[i].id, id))
                        return &figures[i];
        return NULL;
}

static double figure_value(const char *id) {
        const Figure *f = figure_find(id);
        return f ? f->value : NAN;
}

static void print_figure(const Figure *f) {
        char lat[64] = "", ratio[128] = "";

        if (!isnan(f->p50_us))
                snprintf(lat, sizeof lat, "p50 %9.1f us  p99 %9.1f us", f->p50_us, f->p99_us);
        if (*f->floor && !isnan(f->floor_value))
                snprintf(ratio, sizeof ratio, "  = %.3f x %s (%.1f in the same rounds)", f->ratio, f->floor,
                         f->floor_value);
        else if (*f->floor)
                snprintf(ratio, sizeof ratio, "  = %.3f x %s", f->ratio, f->floor);
        printf("%-34s %14.1f %-8s %-34s%s", f->id, f->value, f->unit, lat, ratio);
        if (!isnan(f->others) && f->others >= OTHERS_WARN)
                printf("  [other processes: %.0f%% of the CPUs]", f->others * 100);
        if (f->attempts > 1)
                printf("  [best of %u attempts]", f->attempts);
        printf("\n");
        fflush(stdout);
}

/* Records a figure. floor names what it is compared with, or is NULL; floor_value is
 * that floor as measured in the same rounds, or NAN to compare with the figure named floor; ratio is
 * given when it was measured round by round, else NAN to have it computed. */
static Figure *figure_add_full(const char *id, const char *label, const char *unit, double value,
                               double p50_us, double p99_us, uint64_t n, const char *floor, double floor_value,
                               double ratio, const double *cpu_us, double others) {
        Figure *f;

        if (n_figures >= FIGURES_MAX) {
                fprintf(stderr, "hmacd-bench: too many figures\n");
                return NULL;
        }
        f = &figures[n_figures++];
        *f = (Figure) { .unit = unit, .value = value, .p50_us = p50_us, .p99_us = p99_us, .n = n,
                        .floor_value = floor_value, .ratio = NAN, .others = NAN };
        for (size_t i = 0; i < ELEMENTSOF(f->cpu_us); i++)
                f->cpu_us[i] = f->floor_cpu_us[i] = NAN;
        snprintf(f->id, sizeof f->id, "%s", id);
        snprintf(f->label, sizeof f->label, "%s", label);
        if (floor) {
                const Figure *fl = figure_find(floor);
                snprintf(f->floor, sizeof f->floor, "%s", floor);
                if (!isnan(ratio))
                        f->ratio = ratio;
                else if (!isnan(floor_value) && floor_value > 0)
                        f->ratio = value / floor_value;
                else if (fl && fl->value > 0)
                        f->ratio = value / fl->value;
        }
        if (cpu_us)
                memcpy(f->cpu_us, cpu_us, sizeof f->cpu_us);
        f->others = others;
        f->attempts = 1;
        return f;
}

static Figure *figure_add(const char *id, const char *label, const char *unit, double value, double p50_us,
                          double p99_us, uint64_t n, const char *floor) {
        Figure *f = figure_add_full(id, label, unit, value, p50_us, p99_us, n, floor, NAN, NAN, NULL, NAN);

        if (f)
                print_figure(f);
        return f;
}

/* ---- where the time goes: CPU time per process ---- */

static pid_t polkitd_pid, echo_pid, p11_server_pid;

/* Time on the CPU so far, in ns (the first field of /proc/PID/schedstat); 0 if unknown. */
static uint64_t cpu_ns_of(pid_t pid) {
        char path[64];
        unsigned long long ns = 0;
        FILE *f;

        if (pid <= 0)
                return 0;
        snprintf(path, sizeof path, "/proc/%d/schedstat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "%llu", &ns) != 1)
                ns = 0;
        fclose(f);
        return ns;
}

/* The same for pid and its children: `p11-kit server` serves each connection in a child it forks. */
static uint64_t cpu_ns_with_children(pid_t pid) {
        uint64_t ns = cpu_ns_of(pid);
        struct dirent *de;
        DIR *d;

        if (pid <= 0)
                return 0;
        d = opendir("/proc");
        if (!d)
                return ns;
        while ((de = readdir(d))) {
                char path[300], buf[512], *paren;
                int ppid = 0;
                ssize_t n;
                int fd;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                n = read(fd, buf, sizeof buf - 1);
                close(fd);
                if (n <= 0)
                        continue;
                buf[n] = 0;
                paren = strrchr(buf, ')'); /* the command name may hold anything */
                if (paren && sscanf(paren + 1, " %*c %d", &ppid) == 1 && ppid == pid)
                        ns += cpu_ns_of(atoi(de->d_name));
        }
        closedir(d);
        return ns;
}

static void cpu_sample(uint64_t ret[static _PROCESS_MAX]) {
        ret[PROCESS_CLIENTS] = 0; /* the clients measure themselves */
        ret[PROCESS_BUS] = cpu_ns_of(harness_bus_pid());
        ret[PROCESS_HMACD] = cpu_ns_of(harness_daemon_pid());
        ret[PROCESS_POLKITD] = cpu_ns_of(polkitd_pid);
        ret[PROCESS_OTHER] = cpu_ns_of(echo_pid) + cpu_ns_with_children(p11_server_pid);
}

/* The machine's busy CPU time so far, in ns, from /proc/stat (all but idle and iowait). */
static uint64_t machine_busy_ns(void) {
        unsigned long long v[8] = {};
        long hz = sysconf(_SC_CLK_TCK);
        FILE *f = fopen("/proc/stat", "re");
        int n;

        if (!f)
                return 0;
        n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]);
        fclose(f);
        if (n != 8 || hz <= 0)
                return 0;
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * (NSEC_PER_SEC / (unsigned long long) hz);
}

static uint64_t thread_cpu_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

/* ---- shared memory between the parent and its clients ---- */

/* A figure may be measured in alternating rounds with a reference on the same connection (its floor,
 * or the peer), so that both see the same machine: SIDE_REF is the reference, SIDE_OP the figure. */
enum {
        SIDE_REF,
        SIDE_OP,
        _SIDE_MAX,
};

#define SIDE_LAT_CAP (LAT_CAP / _SIDE_MAX)

typedef struct ClientSlot {
        uint64_t calls[_SIDE_MAX];
        uint64_t ns[_SIDE_MAX];         /* time spent on each side */
        uint64_t cpu_ns[_SIDE_MAX];     /* CPU time the client used on each side */
        uint64_t round_calls[ROUNDS][_SIDE_MAX];
        uint64_t round_ns[ROUNDS][_SIDE_MAX];
        int error;                      /* negative errno, 0 */
        char message[512];
} ClientSlot;

typedef struct Shared {
        uint64_t start_ns;      /* written by the parent before it lets the clients go */
        ClientSlot slot[CLIENTS_MAX];
        uint32_t lat[];         /* CLIENTS_MAX * LAT_CAP latencies in ns: per client, per side */
} Shared;

static Shared *shared;

static int shared_setup(void) {
        size_t size = sizeof(Shared) + (size_t) CLIENTS_MAX * LAT_CAP * sizeof(uint32_t);
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return -errno;
        shared = p;
        return 0;
}

static uint32_t *lat_buffer(unsigned client, int side) {
        return shared->lat + (size_t) client * LAT_CAP + (size_t) side * SIDE_LAT_CAP;
}

/* ---- the timing loop shared by clients and in-process floors ---- */

typedef int (*OpFunc)(void *userdata, uint64_t i);

/* Runs op until deadline (or until *calls reaches max_calls, if that is not 0), recording each
 * duration at lat[*calls] while there is room; adds to *calls and to *ns (the time spent). */
static int time_loop(OpFunc op, void *userdata, uint64_t deadline, uint64_t max_calls, uint32_t *lat,
                     size_t lat_cap, uint64_t *calls, uint64_t *ns) {
        uint64_t i = *calls, t0 = now_ns(), start = t0, t1 = t0;
        int r = 0;

        while ((max_calls == 0 || i < max_calls) && t1 < deadline) {
                r = op(userdata, i);
                if (r < 0)
                        break;
                t1 = now_ns();
                if (i < lat_cap)
                        lat[i] = (uint32_t) MIN(t1 - t0, (uint64_t) UINT32_MAX);
                t0 = t1;
                i++;
        }
        *calls = i;
        *ns += t1 - start;
        return r;
}

typedef struct Result {
        uint64_t calls;
        double per_second;
        double p50_us, p99_us;
        double cpu_us[_PROCESS_MAX];    /* per call; NAN: not measured */
        double round_rate[ROUNDS];      /* per round, with a reference */
        double others;                  /* share of the CPUs used by other processes (not per side) */
} Result;

/* An in-process loop (the compute floors) for arg_seconds. */
static int measure_local(OpFunc op, void *userdata, Result *ret) {
        uint64_t calls = 0, ns = 0;
        int r;

        for (uint64_t i = 0; i < 3; i++) { /* warm up */
                r = op(userdata, i);
                if (r < 0)
                        return r;
        }
        r = time_loop(op, userdata, now_ns() + (uint64_t) (arg_seconds * NSEC_PER_SEC), 0, shared->lat, LAT_CAP,
                      &calls, &ns);
        if (r < 0)
                return r;
        *ret = (Result) {
                .calls = calls,
                .per_second = ns > 0 ? (double) calls * NSEC_PER_SEC / (double) ns : 0,
                .p50_us = quantile_us(shared->lat, MIN(calls, (uint64_t) LAT_CAP), 0.50, false),
                .p99_us = quantile_us(shared->lat, MIN(calls, (uint64_t) LAT_CAP), 0.99, true),
        };
        for (size_t i = 0; i < _PROCESS_MAX; i++)
                ret->cpu_us[i] = NAN;
        return 0;
}

static void fill_message(uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) (i * 131 + 7);
}

/* ---- bus calls ---- */

static int new_call(sd_bus *bus, const char *destination, const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, destination, HARNESS_OBJECT_PATH, HARNESS_INTERFACE,
                                              member);
}

static int call_fail(const char *what, int r, const sd_bus_error *e, char *buf, size_t size) {
        if (buf)
                snprintf(buf, size, "%s: %s%s%s", what, e && e->name ? e->name : strerror(-r),
                         e && e->message ? ": " : "", e && e->message ? e->message : "");
        return r < 0 ? r : -EIO;
}

/* CreateKey(HMAC_256); the key ID to ret if not NULL. */
static int create_key(sd_bus *bus, KeyId *ret, char *err, size_t err_size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "CreateKey", &e,
                               &reply, "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC", "", 0, 0);
        if (r < 0) {
                r = call_fail("CreateKey", r, &e, err, err_size);
                sd_bus_error_free(&e);
                return r;
        }
        if (!ret)
                return 0;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r > 0) {
                const char *name, *value;

                r = sd_bus_message_enter_container(reply, 'e', "sv");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(reply, "s", &name);
                if (r >= 0 && streq(name, "KeyId")) {
                        r = sd_bus_message_read(reply, "v", "s", &value);
                        if (r >= 0 && strlen(value) == KEY_ID_SIZE - 1) {
                                memcpy(ret->s, value, KEY_ID_SIZE);
                                return 0;
                        }
                } else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = 1;
        }
        return call_fail("CreateKey", r < 0 ? r : -EBADMSG, NULL, err, err_size);
}

static int generate_mac(sd_bus *bus, const char *key, const void *msg, size_t size, uint8_t ret[MAC_SIZE],
                        char *err, size_t err_size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const void *mac;
        size_t n;
        int r;

        r = new_call(bus, HARNESS_BUS_NAME, "GenerateMac", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', msg, size);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", MAC_ALGORITHM);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &e, &reply);
        if (r < 0) {
                r = call_fail("GenerateMac", r, &e, err, err_size);
                sd_bus_error_free(&e);
                return r;
        }
        r = sd_bus_message_read_array(reply, 'y', &mac, &n);
        if (r < 0 || n != MAC_SIZE)
                return call_fail("GenerateMac reply", r < 0 ? r : -EBADMSG, NULL, err, err_size);
        if (ret)
                memcpy(ret, mac, MAC_SIZE);
        return 0;
}

/* RotateKeyOnDemand: the key's current material becomes a previous one. */
static int rotate_key(sd_bus *bus, const char *key, char *err, size_t err_size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *material;
        int r;

        r = sd_bus_call_method(bus, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "RotateKeyOnDemand",
                               &e, &reply, "s", key);
        if (r < 0) {
                r = call_fail("RotateKeyOnDemand", r, &e, err, err_size);
                sd_bus_error_free(&e);
                return r;
        }
        r = sd_bus_message_read(reply, "s", &material);
        if (r < 0 || strlen(material) != KMS_KEY_MATERIAL_ID_LENGTH)
                return call_fail("RotateKeyOnDemand reply", r < 0 ? r : -EBADMSG, NULL, err, err_size);
        return 0;
}

/* One ListKeys page; its keys appended to keys (if not NULL), the next marker to next. */
static int list_keys(sd_bus *bus, const char *marker, KeyId *keys, size_t *n_keys, size_t max_keys,
                     char *next, size_t next_size, char *err, size_t err_size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *id, *arn, *nm;
        int r, truncated;

        r = sd_bus_call_method(bus, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "ListKeys", &e,
                               &reply, "us", LIST_LIMIT, marker);
        if (r < 0) {
                r = call_fail("ListKeys", r, &e, err, err_size);
                sd_bus_error_free(&e);
                return r;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &id, &arn)) > 0)
                if (keys && *n_keys < max_keys && strlen(id) == KEY_ID_SIZE - 1)
                        memcpy(keys[(*n_keys)++].s, id, KEY_ID_SIZE);
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "sb", &nm, &truncated);
        if (r < 0)
                return call_fail("ListKeys reply", r, NULL, err, err_size);
        snprintf(next, next_size, "%s", truncated ? nm : "");
        return 0;
}

/* ---- floors: in-process HMAC-SHA256 ---- */

typedef struct HmacFloor {
        EVP_MAC_CTX *ctx;
        uint8_t key[32];
        uint8_t message[LARGE];
        size_t size;
        bool per_call;
        uint8_t out[MAC_SIZE];
} HmacFloor;

/* Per call, as hmacd does it: key the context, reset it and MAC, then key it with a blank key. Once:
 * reset and MAC with a context keyed before. */
static int hmac_op(void *userdata, uint64_t i) {
        static const uint8_t blank[1] = {};
        HmacFloor *h = userdata;
        size_t n = 0;

        if (h->per_call && EVP_MAC_init(h->ctx, h->key, sizeof h->key, NULL) != 1)
                return -EIO;
        if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(h->ctx, h->message, h->size) != 1 ||
            EVP_MAC_final(h->ctx, h->out, &n, sizeof h->out) != 1 || n != MAC_SIZE)
                return -EIO;
        if (h->per_call && EVP_MAC_init(h->ctx, blank, sizeof blank, NULL) != 1)
                return -EIO;
        return 0;
}

static int hmac_new(EVP_MAC **ret_mac, EVP_MAC_CTX **ret_ctx) {
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA2-256", 0),
                OSSL_PARAM_construct_end(),
        };
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;

        if (!ctx || EVP_MAC_CTX_set_params(ctx, params) != 1) {
                EVP_MAC_CTX_free(ctx);
                EVP_MAC_free(mac);
                return -EIO;
        }
        *ret_mac = mac;
        *ret_ctx = ctx;
        return 0;
}

/* HMAC-SHA256 of message under key, for checking the peer. */
static int hmac_once(const uint8_t *key, size_t key_size, const uint8_t *message, size_t size,
                     uint8_t out[MAC_SIZE]) {
        EVP_MAC *mac;
        EVP_MAC_CTX *ctx;
        size_t n = 0;
        int r;

        r = hmac_new(&mac, &ctx);
        if (r < 0)
                return r;
        r = EVP_MAC_init(ctx, key, key_size, NULL) == 1 && EVP_MAC_update(ctx, message, size) == 1 &&
                            EVP_MAC_final(ctx, out, &n, MAC_SIZE) == 1 && n == MAC_SIZE
                    ? 0
                    : -EIO;
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
        return r;
}

static int bench_hmac_floors(void) {
        static const struct {
                const char *id, *label;
                size_t size;
                bool per_call;
        } cases[] = {
                { "hmac.keyed_per_call.32", "in-process HMAC-SHA256, 32 B, keyed per call as hmacd", SMALL,
                  true },
                { "hmac.keyed_per_call.4096", "in-process HMAC-SHA256, 4096 B, keyed per call as hmacd", LARGE,
                  true },
                { "hmac.keyed_once.32", "in-process HMAC-SHA256, 32 B, keyed once", SMALL, false },
                { "hmac.keyed_once.4096", "in-process HMAC-SHA256, 4096 B, keyed once", LARGE, false },
        };
        HmacFloor h = {};
        EVP_MAC *mac;
        int r;

        r = hmac_new(&mac, &h.ctx);
        if (r < 0)
                return r;
        memset(h.key, 0x5a, sizeof h.key);
        fill_message(h.message, sizeof h.message);
        if (EVP_MAC_init(h.ctx, h.key, sizeof h.key, NULL) != 1)
                r = -EIO;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(cases); i++) {
                Result res;

                h.size = cases[i].size;
                h.per_call = cases[i].per_call;
                r = measure_local(hmac_op, &h, &res);
                if (r >= 0)
                        figure_add(cases[i].id, cases[i].label, "MACs/s", res.per_second, res.p50_us, res.p99_us,
                                   res.calls, NULL);
        }
        EVP_MAC_CTX_free(h.ctx);
        EVP_MAC_free(mac);
        return r;
}

/* ---- the peer: PKCS#11 (SoftHSM2) behind p11-kit server ---- */

typedef struct Peer {
        void *dl;
        CK_FUNCTION_LIST_PTR f;
        CK_SESSION_HANDLE session;
        CK_OBJECT_HANDLE key;
        const uint8_t *message;
        size_t size;
        bool verify;
        uint8_t mac[MAC_SIZE];  /* the last tag signed, the one verified */
        CK_RV rv;
} Peer;

/* One HMAC-SHA256 sign or verify: C_SignInit + C_Sign (C_VerifyInit + C_Verify), each a round trip
 * to the p11-kit server. */
static int peer_op(void *userdata, uint64_t i) {
        Peer *p = userdata;
        CK_MECHANISM mechanism = { CKM_SHA256_HMAC, NULL, 0 };
        CK_BYTE out[MAC_SIZE];
        CK_ULONG n = sizeof out;

        if (p->verify) {
                p->rv = p->f->C_VerifyInit(p->session, &mechanism, p->key);
                if (p->rv == CKR_OK)
                        p->rv = p->f->C_Verify(p->session, (CK_BYTE_PTR) p->message, p->size, p->mac,
                                               MAC_SIZE);
        } else {
                p->rv = p->f->C_SignInit(p->session, &mechanism, p->key);
                if (p->rv == CKR_OK)
                        p->rv = p->f->C_Sign(p->session, (CK_BYTE_PTR) p->message, p->size, out, &n);
                if (p->rv == CKR_OK && n != MAC_SIZE)
                        p->rv = CKR_GENERAL_ERROR;
                if (p->rv == CKR_OK)
                        memcpy(p->mac, out, MAC_SIZE);
        }
        return p->rv == CKR_OK ? 0 : -EIO;
}

/* p11-kit's client module, reaching the server named in P11_KIT_SERVER_ADDRESS; a session logged in
 * to the token and a session object: a generic secret key for CKM_SHA256_HMAC. */
static int peer_open(Peer *p, const uint8_t *key, size_t key_size, char *err, size_t err_size) {
        CK_C_GetFunctionList get_function_list;
        CK_SLOT_ID slots[16];
        CK_ULONG n_slots = ELEMENTSOF(slots);
        CK_OBJECT_CLASS class = CKO_SECRET_KEY;
        CK_KEY_TYPE type = CKK_GENERIC_SECRET;
        CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
        CK_ATTRIBUTE template[] = {
                { CKA_CLASS, &class, sizeof class },
                { CKA_KEY_TYPE, &type, sizeof type },
                { CKA_TOKEN, &no, sizeof no },
                { CKA_SENSITIVE, &yes, sizeof yes },
                { CKA_EXTRACTABLE, &no, sizeof no },
                { CKA_SIGN, &yes, sizeof yes },
                { CKA_VERIFY, &yes, sizeof yes },
                { CKA_VALUE, (void *) key, key_size },
        };
        CK_RV rv;

        p->dl = dlopen(P11_CLIENT_MODULE, RTLD_NOW | RTLD_LOCAL);
        if (!p->dl) {
                snprintf(err, err_size, "%s", dlerror());
                return -ENOENT;
        }
        get_function_list = (CK_C_GetFunctionList) dlsym(p->dl, "C_GetFunctionList");
        if (!get_function_list || get_function_list(&p->f) != CKR_OK) {
                snprintf(err, err_size, "%s has no usable C_GetFunctionList", P11_CLIENT_MODULE);
                p->f = NULL;
                return -EIO;
        }
        rv = p->f->C_Initialize(NULL);
        if (rv == CKR_OK)
                rv = p->f->C_GetSlotList(CK_TRUE, slots, &n_slots);
        if (rv == CKR_OK && n_slots == 0)
                rv = CKR_TOKEN_NOT_PRESENT;
        if (rv == CKR_OK)
                rv = p->f->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                                         &p->session);
        if (rv == CKR_OK)
                rv = p->f->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR) P11_USER_PIN,
                                   strlen(P11_USER_PIN));
        if (rv == CKR_OK)
                rv = p->f->C_CreateObject(p->session, template, ELEMENTSOF(template), &p->key);
        if (rv != CKR_OK) {
                snprintf(err, err_size, "PKCS#11 set-up through p11-kit failed: CK_RV 0x%lx", (unsigned long) rv);
                return -EIO;
        }
        return 0;
}

static void peer_close(Peer *p) {
        if (p->f) {
                if (p->session)
                        (void) p->f->C_CloseSession(p->session);
                (void) p->f->C_Finalize(NULL);
        }
        if (p->dl)
                dlclose(p->dl);
        *p = (Peer) {};
}

static int socket_connectable(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        return connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? -errno : 0;
}

/* A token in a SoftHSM2 store of our own, served by `p11-kit server` in the foreground; its address
 * goes to P11_KIT_SERVER_ADDRESS, where p11-kit's client module looks. */
static int peer_server_start(void) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *dir = NULL, *tokens = NULL, *conf = NULL, *sock = NULL, *log = NULL,
                            *address = NULL;
        const char *tmp = harness_tmp_dir();
        FILE *f;
        int r;

        if (!tmp)
                return -EIO;
        if (asprintf(&dir, "%s/softhsm", tmp) < 0 || asprintf(&tokens, "%s/tokens", dir) < 0 ||
            asprintf(&conf, "%s/softhsm2.conf", dir) < 0 || asprintf(&sock, "%s/p11-kit.sock", tmp) < 0 ||
            asprintf(&log, "%s/p11-kit-server.log", tmp) < 0 || asprintf(&address, "unix:path=%s", sock) < 0)
                return -ENOMEM;
        if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || (mkdir(tokens, 0700) < 0 && errno != EEXIST))
                return -errno;
        f = fopen(conf, "we");
        if (!f)
                return -errno;
        fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
        if (fclose(f) != 0)
                return -errno;
        if (setenv("SOFTHSM2_CONF", conf, 1) < 0)
                return -errno;

        r = harness_runl(NULL, &res, "softhsm2-util", "--init-token", "--free", "--label", P11_TOKEN_LABEL, "--pin",
                         P11_USER_PIN, "--so-pin", "12345678", NULL);
        if (r < 0)
                return r;
        if (res.exit_code != 0) {
                fprintf(stderr, "hmacd-bench: softhsm2-util --init-token %s: %s%s\n",
                        harness_describe_status(res.status), res.err, res.out);
                return -EIO;
        }

        r = harness_spawn("p11-kit server", NULL,
                          (char *[]) { (char *) "p11-kit", (char *) "server", (char *) "-f", (char *) "-n", sock,
                                       (char *) "--provider", (char *) SOFTHSM_MODULE,
                                       (char *) "pkcs11:token=" P11_TOKEN_LABEL, NULL },
                          log, &p11_server_pid);
        if (r < 0)
                return r;
        for (int i = 0; socket_connectable(sock) < 0; i++) {
                if (i >= 1000 || kill(p11_server_pid, 0) < 0) {
                        fprintf(stderr, "hmacd-bench: p11-kit server did not listen on %s (log: %s)\n", sock, log);
                        return -ETIMEDOUT;
                }
                usleep(10000);
        }
        return setenv("P11_KIT_SERVER_ADDRESS", address, 1) < 0 ? -errno : 0;
}

static void peer_server_stop(void) {
        if (p11_server_pid > 0)
                (void) harness_stop(p11_server_pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC, NULL);
        p11_server_pid = 0;
        (void) unsetenv("P11_KIT_SERVER_ADDRESS");
}

/* ---- clients ---- */

typedef enum Op {
        OP_NONE,
        OP_ECHO,                /* the echo service's Echo(ay) -> ay */
        OP_GENERATE,
        OP_VERIFY,
        OP_BATCH,
        OP_CREATE,
        OP_HMAC,                /* in-process HMAC-SHA256 keyed once, in the client */
        OP_PEER_SIGN,           /* PKCS#11 through p11-kit's client module */
        OP_PEER_VERIFY,
        _OP_MAX,
} Op;


typedef struct Work {
        Op op;                  /* what is measured */
        Op ref;                 /* measured in rounds alternating with op, same clients (OP_NONE: none) */
        const char *user;       /* the clients' user; NULL: root */
        unsigned clients;
        size_t size;            /* bytes per message */
        size_t batch;           /* messages per GenerateMacBatch call */
        const KeyId *keys;      /* used in turn; each client starts at its own offset */
        size_t n_keys;
        const uint8_t *mac;     /* VerifyMac: the tag of (keys[0], message of this size) */
        bool mac_invalid;       /* VerifyMac: mac is not the key's tag; KMSInvalidMacException is the answer */
        uint64_t calls;         /* per client: stop after this many (0: when the time is up) */
        double seconds;         /* per side (0: arg_seconds) */
        unsigned warmup;        /* untimed calls first (polkit's answer gets cached), per op */
} Work;

/* The unique bus name of the echo service, queued for io.hmacd.Kms1 behind the daemon. */
static char echo_dest[64];

static const uint8_t peer_key[32] = {
        0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
        0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
};

typedef struct Client {
        const Work *work;
        unsigned index;
        Op op;                  /* what runs now */
        sd_bus *bus;
        EVP_MAC *hmac;
        EVP_MAC_CTX *hmac_ctx;
        Peer peer;
        uint8_t message[LARGE];
        ClientSlot *slot;
} Client;

static const char *op_name(Op op) {
        static const char *const names[_OP_MAX] = {
                [OP_NONE] = "nothing",
                [OP_ECHO] = "Echo",
                [OP_GENERATE] = "GenerateMac",
                [OP_VERIFY] = "VerifyMac",
                [OP_BATCH] = "GenerateMacBatch",
                [OP_CREATE] = "CreateKey",
                [OP_HMAC] = "in-process HMAC",
                [OP_PEER_SIGN] = "PKCS#11 sign",
                [OP_PEER_VERIFY] = "PKCS#11 verify",
        };
        return op >= 0 && op < _OP_MAX ? names[op] : "?";
}

static bool op_uses_bus(Op op) {
        return op >= OP_ECHO && op <= OP_CREATE;
}

/* MACs (or keys) per call, and what a figure counts. */
static double op_units(Op op, size_t batch) {
        return op == OP_BATCH ? (double) batch : 1.0;
}

static const char *op_unit(Op op) {
        return op == OP_BATCH || op == OP_HMAC ? "MACs/s" : op == OP_CREATE ? "keys/s" : "calls/s";
}

static const char *client_key(Client *c, uint64_t i) {
        const Work *w = c->work;
        size_t offset = c->index * (w->n_keys / w->clients);
        return w->keys[(offset + i) % w->n_keys].s;
}

static int client_bus_call(Client *c, uint64_t i) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const Work *w = c->work;
        ClientSlot *s = c->slot;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *member = op_name(c->op);
        int r, valid;

        r = new_call(c->bus, c->op == OP_ECHO ? echo_dest : HARNESS_BUS_NAME, member, &m);
        if (r < 0)
                return call_fail(member, r, NULL, s->message, sizeof s->message);
        switch (c->op) {
        case OP_ECHO:
                r = sd_bus_message_append_array(m, 'y', c->message, w->size);
                break;
        case OP_GENERATE:
        case OP_VERIFY:
                r = sd_bus_message_append(m, "s", client_key(c, i));
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', c->message, w->size);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", MAC_ALGORITHM);
                if (r >= 0 && c->op == OP_VERIFY)
                        r = sd_bus_message_append_array(m, 'y', w->mac, MAC_SIZE);
                break;
        case OP_BATCH:
                r = sd_bus_message_append(m, "s", client_key(c, i));
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "ay");
                for (size_t k = 0; r >= 0 && k < w->batch; k++)
                        r = sd_bus_message_append_array(m, 'y', c->message + (k % 64), w->size);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", MAC_ALGORITHM);
                break;
        case OP_CREATE:
                r = sd_bus_message_append(m, "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC", "", 0, 0);
                break;
        default:
                r = -EINVAL;
        }
        if (r >= 0)
                r = sd_bus_call(c->bus, m, 0, &e, &reply);
        if (c->op == OP_VERIFY && w->mac_invalid) {
                /* The answer that counts is the refusal, after every material was tried. */
                bool refused = r < 0 && sd_bus_error_has_name(&e, HMACD_ERROR_PREFIX "KMSInvalidMacException");
                if (!refused)
                        r = call_fail(member, r < 0 ? r : -EBADMSG, &e, s->message, sizeof s->message);
                sd_bus_error_free(&e);
                return refused ? 0 : r;
        }
        if (r < 0) {
                r = call_fail(member, r, &e, s->message, sizeof s->message);
                sd_bus_error_free(&e);
                return r;
        }

        /* Check the answer, cheaply: its size or value. */
        switch (c->op) {
        case OP_ECHO:
        case OP_GENERATE: {
                const void *p;
                size_t n;

                r = sd_bus_message_read_array(reply, 'y', &p, &n);
                if (r >= 0 && n != (c->op == OP_ECHO ? w->size : MAC_SIZE))
                        r = -EBADMSG;
                break;
        }
        case OP_VERIFY:
                r = sd_bus_message_read(reply, "b", &valid);
                if (r >= 0 && !valid)
                        r = -EBADMSG;
                break;
        case OP_BATCH: {
                size_t n = 0;

                r = sd_bus_message_enter_container(reply, 'a', "ay");
                while (r >= 0) {
                        const void *p;
                        size_t size;

                        r = sd_bus_message_read_array(reply, 'y', &p, &size);
                        if (r <= 0)
                                break;
                        if (size != MAC_SIZE)
                                r = -EBADMSG;
                        n++;
                }
                if (r >= 0 && n != w->batch)
                        r = -EBADMSG;
                break;
        }
        default:
                r = 0;
        }
        if (r < 0)
                return call_fail(member, r, NULL, s->message, sizeof s->message);
        return 0;
}

static int client_call(void *userdata, uint64_t i) {
        Client *c = userdata;
        uint8_t out[MAC_SIZE];
        size_t n = 0;
        int r;

        switch (c->op) {
        case OP_HMAC:
                if (EVP_MAC_init(c->hmac_ctx, NULL, 0, NULL) != 1 ||
                    EVP_MAC_update(c->hmac_ctx, c->message, c->work->size) != 1 ||
                    EVP_MAC_final(c->hmac_ctx, out, &n, sizeof out) != 1 || n != MAC_SIZE)
                        return call_fail("in-process HMAC", -EIO, NULL, c->slot->message, sizeof c->slot->message);
                return 0;
        case OP_PEER_SIGN:
        case OP_PEER_VERIFY:
                c->peer.verify = c->op == OP_PEER_VERIFY;
                r = peer_op(&c->peer, i);
                if (r < 0)
                        snprintf(c->slot->message, sizeof c->slot->message, "%s: CK_RV 0x%lx", op_name(c->op),
                                 (unsigned long) c->peer.rv);
                return r;
        default:
                return client_bus_call(c, i);
        }
}

/* What the ops of the work need: a bus connection, an HMAC context, a PKCS#11 session. */
static int client_setup(Client *c) {
        const Work *w = c->work;
        Op ops[] = { w->op, w->ref };
        char *err = c->slot->message;
        size_t err_size = sizeof c->slot->message;
        uint8_t expected[MAC_SIZE];
        int r;

        fill_message(c->message, sizeof c->message);
        for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
                if (op_uses_bus(ops[i]) && !c->bus) {
                        r = sd_bus_open_system(&c->bus);
                        if (r < 0)
                                return call_fail("connecting to the bus", r, NULL, err, err_size);
                }
                if (ops[i] == OP_HMAC && !c->hmac_ctx) {
                        r = hmac_new(&c->hmac, &c->hmac_ctx);
                        if (r >= 0 && EVP_MAC_init(c->hmac_ctx, peer_key, sizeof peer_key, NULL) != 1)
                                r = -EIO;
                        if (r < 0)
                                return call_fail("setting up HMAC", r, NULL, err, err_size);
                }
                if ((ops[i] == OP_PEER_SIGN || ops[i] == OP_PEER_VERIFY) && !c->peer.f) {
                        r = peer_open(&c->peer, peer_key, sizeof peer_key, err, err_size);
                        if (r < 0)
                                return r;
                        /* The tag to verify, and a check that the peer computes what OpenSSL does. */
                        c->peer.message = c->message;
                        c->peer.size = w->size;
                        c->peer.verify = false;
                        r = peer_op(&c->peer, 0);
                        if (r >= 0)
                                r = hmac_once(peer_key, sizeof peer_key, c->message, w->size, expected);
                        if (r >= 0 && memcmp(expected, c->peer.mac, MAC_SIZE) != 0)
                                r = -EBADMSG;
                        if (r < 0)
                                return call_fail("checking the PKCS#11 peer against OpenSSL", r, NULL, err,
                                                 err_size);
                }
        }
        return 0;
}

static void client_done(Client *c) {
        peer_close(&c->peer);
        EVP_MAC_CTX_free(c->hmac_ctx);
        EVP_MAC_free(c->hmac);
        sd_bus_flush_close_unref(c->bus);
}

static int become_user(uid_t uid, gid_t gid) {
        if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return -errno;
        return 0;
}

/* A forked client: connect, warm up, say it is ready, wait for the start, run, report, exit. */
_Noreturn static void client_main(const Work *w, unsigned index, uid_t uid, gid_t gid, int ready_fd,
                                  int go_fd) {
        Client c = { .work = w, .index = index, .slot = &shared->slot[index] };
        ClientSlot *s = c.slot;
        uint64_t slice = (uint64_t) (w->seconds * NSEC_PER_SEC / ROUNDS);
        char go;
        int r;

        r = w->user ? become_user(uid, gid) : 0;
        if (r < 0)
                snprintf(s->message, sizeof s->message, "cannot become %s: %s", w->user, strerror(-r));
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (r >= 0)
                r = client_setup(&c);
        for (int side = SIDE_REF; r >= 0 && side < _SIDE_MAX; side++) {
                c.op = side == SIDE_OP ? w->op : w->ref;
                for (unsigned i = 0; r >= 0 && c.op != OP_NONE && i < w->warmup; i++)
                        r = client_call(&c, i);
        }
        s->error = MIN(r, 0);

        (void) !write(ready_fd, "r", 1);
        while (read(go_fd, &go, 1) < 0 && errno == EINTR)
                ;
        if (r >= 0 && w->ref == OP_NONE) {
                uint64_t deadline = w->calls > 0 ? UINT64_MAX : shared->start_ns + ROUNDS * slice;

                uint64_t cpu = thread_cpu_ns();

                c.op = w->op;
                r = time_loop(client_call, &c, deadline, w->calls, lat_buffer(index, SIDE_OP), SIDE_LAT_CAP,
                              &s->calls[SIDE_OP], &s->ns[SIDE_OP]);
                s->cpu_ns[SIDE_OP] += thread_cpu_ns() - cpu;
        } else if (r >= 0)
                /* Rounds of the reference and the figure, in turn, each going first every other round. */
                for (uint64_t k = 0; r >= 0 && k < ROUNDS; k++)
                        for (uint64_t j = 0; r >= 0 && j < 2; j++) {
                                int side = (k + j) % 2 == 0 ? SIDE_REF : SIDE_OP;
                                uint64_t cpu = thread_cpu_ns(), calls = s->calls[side], ns = s->ns[side];

                                c.op = side == SIDE_OP ? w->op : w->ref;
                                r = time_loop(client_call, &c, shared->start_ns + (2 * k + j + 1) * slice, 0,
                                              lat_buffer(index, side), SIDE_LAT_CAP, &s->calls[side], &s->ns[side]);
                                s->cpu_ns[side] += thread_cpu_ns() - cpu;
                                s->round_calls[k][side] = s->calls[side] - calls;
                                s->round_ns[k][side] = s->ns[side] - ns;
                        }
        s->error = MIN(r, 0);
        client_done(&c);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n) {
        double c[ROUNDS];

        n = MIN(n, (size_t) ROUNDS);
        memcpy(c, v, n * sizeof *v);
        qsort(c, n, sizeof c[0], cmp_double);
        return n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
}

/* Each round's rate: the clients' rates in it added up. */
static void round_rates(const Work *w, int side, double ret[static ROUNDS]) {
        for (size_t k = 0; k < ROUNDS; k++) {
                ret[k] = 0;
                for (unsigned i = 0; i < w->clients; i++) {
                        const ClientSlot *s = &shared->slot[i];
                        if (s->round_ns[k][side] > 0)
                                ret[k] += (double) s->round_calls[k][side] * NSEC_PER_SEC /
                                          (double) s->round_ns[k][side];
                }
        }
}

/* Runs w->clients clients at once. Per side: the clients' rates added up (the median over the
 * rounds, when there is a reference), the latencies of all. */
static int run_work(const Work *w, Result ret[static _SIDE_MAX]) {
        _cleanup_close_ int ready_read = -1, ready_write = -1, go_read = -1, go_write = -1;
        _cleanup_free_ uint32_t *lat = NULL;
        uint64_t cpu_prev[_PROCESS_MAX] = {}, cpu_ns[_SIDE_MAX][_PROCESS_MAX] = {};
        uint64_t busy_start, busy, elapsed, ours = 0;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        double others;
        pid_t pids[CLIENTS_MAX] = {};
        uid_t uid = 0;
        gid_t gid = 0;
        int fds[2], r = 0;
        char buf[CLIENTS_MAX];

        if (w->clients < 1 || w->clients > CLIENTS_MAX)
                return -EINVAL;
        if (w->user) {
                r = harness_lookup_user(w->user, &uid, &gid);
                if (r < 0)
                        return r;
        }
        lat = malloc((size_t) CLIENTS_MAX * SIDE_LAT_CAP * sizeof *lat);
        if (!lat)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        ready_read = fds[0];
        ready_write = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        go_read = fds[0];
        go_write = fds[1];

        memset(shared->slot, 0, sizeof shared->slot);
        fflush(NULL);
        for (unsigned i = 0; i < w->clients; i++) {
                pids[i] = fork();
                if (pids[i] < 0) {
                        r = -errno;
                        break;
                }
                if (pids[i] == 0)
                        client_main(w, i, uid, gid, ready_write, go_read);
        }
        close(ready_write);
        ready_write = -1;

        /* Every started client says "ready" once (also after a failed set-up), or dies. */
        for (unsigned got = 0, want = r < 0 ? 0 : w->clients; got < want;) {
                ssize_t n = read(ready_read, buf, want - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (unsigned) n;
        }
        cpu_sample(cpu_prev);
        busy_start = machine_busy_ns();
        shared->start_ns = now_ns();
        memset(buf, 'g', sizeof buf);
        (void) !write(go_write, buf, w->clients);

        /* The servers' CPU time, sampled at the ends of the rounds: each slot belongs to one side. */
        if (r >= 0 && w->ref != OP_NONE) {
                uint64_t slice = (uint64_t) (w->seconds * NSEC_PER_SEC / ROUNDS);

                for (uint64_t b = 1; b <= 2 * ROUNDS; b++) {
                        uint64_t at = shared->start_ns + b * slice, t = now_ns(), cpu_now[_PROCESS_MAX];
                        int side = ((b - 1) / 2 + (b - 1) % 2) % 2 == 0 ? SIDE_REF : SIDE_OP;

                        if (at > t)
                                (void) clock_nanosleep(CLOCK_MONOTONIC, 0,
                                                       &(struct timespec) { (time_t) ((at - t) / NSEC_PER_SEC),
                                                                            (long) ((at - t) % NSEC_PER_SEC) },
                                                       NULL);
                        cpu_sample(cpu_now);
                        for (size_t p = 0; p < _PROCESS_MAX; p++) {
                                cpu_ns[side][p] += cpu_now[p] - cpu_prev[p];
                                cpu_prev[p] = cpu_now[p];
                        }
                }
        }

        for (unsigned i = 0; i < w->clients; i++) {
                int status = 0;

                if (pids[i] <= 0)
                        continue;
                while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
                        ;
                if (shared->slot[i].error < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "hmacd-bench: %s client %u%s%s %s: %s\n", op_name(w->op), i,
                                w->user ? " as " : "", strempty(w->user), harness_describe_status(status),
                                *shared->slot[i].message ? shared->slot[i].message : "(no message)");
                        r = shared->slot[i].error < 0 ? shared->slot[i].error : -EIO;
                }
        }
        if (r < 0)
                return r;
        if (w->ref == OP_NONE) {
                uint64_t cpu_now[_PROCESS_MAX];

                cpu_sample(cpu_now);
                for (size_t p = 0; p < _PROCESS_MAX; p++)
                        cpu_ns[SIDE_OP][p] = cpu_now[p] - cpu_prev[p];
        }
        /* What the rest of the machine did meanwhile: busy time that none of our processes used. */
        busy = machine_busy_ns() - busy_start;
        elapsed = now_ns() - shared->start_ns;
        for (unsigned i = 0; i < w->clients; i++)
                ours += shared->slot[i].cpu_ns[SIDE_REF] + shared->slot[i].cpu_ns[SIDE_OP];
        for (int side = SIDE_REF; side < _SIDE_MAX; side++)
                for (size_t p = PROCESS_BUS; p < _PROCESS_MAX; p++)
                        ours += cpu_ns[side][p];
        others = busy > ours && elapsed > 0 && ncpu > 0 ? (double) (busy - ours) / ((double) elapsed * ncpu) : 0;

        for (int side = SIDE_REF; side < _SIDE_MAX; side++) {
                uint64_t calls = 0;
                size_t n_lat = 0;
                double rate = 0;

                for (unsigned i = 0; i < w->clients; i++) {
                        const ClientSlot *s = &shared->slot[i];
                        uint64_t k = MIN(s->calls[side], (uint64_t) SIDE_LAT_CAP);

                        memcpy(lat + n_lat, lat_buffer(i, side), k * sizeof *lat);
                        n_lat += k;
                        calls += s->calls[side];
                        cpu_ns[side][PROCESS_CLIENTS] += s->cpu_ns[side];
                        if (s->ns[side] > 0)
                                rate += (double) s->calls[side] * NSEC_PER_SEC / (double) s->ns[side];
                }
                double rounds[ROUNDS] = {};

                /* With a reference, the median round: a burst of other work on the machine that spoils
                 * a round or two does not move it. */
                if (w->ref != OP_NONE) {
                        round_rates(w, side, rounds);
                        rate = median(rounds, ROUNDS);
                }
                ret[side] = (Result) {
                        .calls = calls,
                        .per_second = rate,
                        .p50_us = quantile_us(lat, n_lat, 0.50, false),
                        .p99_us = quantile_us(lat, n_lat, 0.99, true),
                };
                memcpy(ret[side].round_rate, rounds, sizeof rounds);
                ret[side].others = others;
                for (size_t p = 0; p < _PROCESS_MAX; p++)
                        ret[side].cpu_us[p] = calls > 0 && cpu_ns[side][p] > 0
                                                      ? (double) cpu_ns[side][p] / 1000.0 / (double) calls
                                                      : NAN;
        }
        return 0;
}

/* Runs a Work and records it as a figure (with its reference, if it has one, as the floor value). */
/* Between figures nothing of ours runs: if the machine is busy all the same, other work is going on.
 * Waits (a few seconds at a time, 45 s in a whole run) for it to calm down before a figure starts. */
static void wait_for_quiet(void) {
        static uint64_t waited;
        uint64_t limit = now_ns() + 10 * NSEC_PER_SEC;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

        while (waited < QUIET_WAIT_MAX_NS && now_ns() < limit) {
                uint64_t b0 = machine_busy_ns(), t0 = now_ns(), busy, t;

                usleep(200 * 1000);
                busy = machine_busy_ns() - b0;
                t = now_ns() - t0;
                if (ncpu <= 0 || (double) busy < OTHERS_WARN * (double) t * (double) ncpu)
                        return;
                waited += t;
        }
}

static int bench(const char *id, const char *label, const Work *w, const char *floor) {
        static unsigned retries_left = RETRIES_MAX;
        Result res[_SIDE_MAX];
        Work copy = *w;
        double units, ratio = NAN, floor_value = NAN;
        unsigned attempts = 1;
        Figure *f;
        int r;

        if (copy.seconds <= 0)
                copy.seconds = arg_seconds;
        if (copy.warmup == 0 && copy.op != OP_CREATE)
                copy.warmup = 5;
        wait_for_quiet();
        r = run_work(&copy, res);
        /* A figure that other work on the machine disturbed is measured again, while the run has retries
         * left; the least disturbed attempt counts. (Never CreateKey: it would add keys.) */
        while (r >= 0 && copy.op != OP_CREATE && res[SIDE_OP].others >= OTHERS_WARN && attempts < ATTEMPTS_MAX &&
               retries_left > 0) {
                Result again[_SIDE_MAX];

                retries_left--;
                attempts++;
                wait_for_quiet();
                r = run_work(&copy, again);
                if (r >= 0 && again[SIDE_OP].others < res[SIDE_OP].others)
                        memcpy(res, again, sizeof res);
        }
        if (r < 0) {
                fprintf(stderr, "hmacd-bench: %s failed: %s\n", id, strerror(-r));
                return r;
        }
        units = op_units(copy.op, copy.batch);
        if (copy.ref != OP_NONE) {
                /* The ratio of each round's figure to the reference in the same round; their median. */
                double ratios[ROUNDS], ref_units = op_units(copy.ref, copy.batch);

                for (size_t k = 0; k < ROUNDS; k++)
                        ratios[k] = res[SIDE_REF].round_rate[k] > 0 ? res[SIDE_OP].round_rate[k] * units /
                                                                              (res[SIDE_REF].round_rate[k] * ref_units)
                                                                    : 0;
                ratio = median(ratios, ROUNDS);
                floor_value = res[SIDE_REF].per_second * ref_units;
        }
        f = figure_add_full(id, label, op_unit(copy.op), res[SIDE_OP].per_second * units, res[SIDE_OP].p50_us,
                            res[SIDE_OP].p99_us, (uint64_t) ((double) res[SIDE_OP].calls * units), floor,
                            floor_value, ratio, res[SIDE_OP].cpu_us, res[SIDE_OP].others);
        if (f) {
                f->attempts = attempts;
                if (copy.ref != OP_NONE)
                        memcpy(f->floor_cpu_us, res[SIDE_REF].cpu_us, sizeof f->floor_cpu_us);
                print_figure(f);
        }
        return 0;
}

/* ---- the echo service ---- */

static int method_echo(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const void *p;
        size_t n;
        int r;

        r = sd_bus_message_read_array(m, 'y', &p, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', p, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable echo_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Echo", SD_BUS_ARGS("ay", data), SD_BUS_RESULT("ay", data), method_echo,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* The same sd-event and sd-bus set-up as the daemon's, with a trivial method. It queues for the
 * daemon's name: the bus policy's send_destination="io.hmacd.Kms1" rule matches a connection that
 * owns the name or waits in its queue, so calls to the echo service's unique name pass the very rule
 * that calls to the daemon pass, and both run side by side. */
static int echo_service(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_event *event = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, echo_vtable,
                                             NULL);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_request_name(bus, HARNESS_BUS_NAME, SD_BUS_NAME_QUEUE);
        if (r >= 0)
                r = sd_event_loop(event);
        if (r < 0)
                fprintf(stderr, "hmacd-bench echo service: %s\n", strerror(-r));
        sd_bus_flush_close_unref(TAKE_PTR(bus));
        sd_event_unref(event);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static sd_bus *bus; /* the parent's own connection, for set-up calls */

/* The unique name of the connection of process pid in the queue of io.hmacd.Kms1, if it is there. */
static int queued_name_of(pid_t pid, char *ret, size_t size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *name;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "ListQueuedOwners", &e, &reply, "s", HARNESS_BUS_NAME);
        sd_bus_error_free(&e);
        if (r < 0)
                return r == -ENXIO ? 0 : r; /* NameHasNoOwner */
        r = sd_bus_message_enter_container(reply, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(reply, "s", &name)) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *p = NULL;
                uint32_t owner_pid;

                if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID", NULL, &p, "s", name) >= 0 &&
                    sd_bus_message_read(p, "u", &owner_pid) >= 0 && (pid_t) owner_pid == pid) {
                        snprintf(ret, size, "%s", name);
                        return 1;
                }
        }
        return r;
}

/* Starts the echo service as user "hmacd"; the daemon must own the name already. */
static int echo_start(void) {
        _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL), *log = NULL;
        char *argv[] = { exe, (char *) "--echo-service", NULL };
        int r;

        if (!exe) {
                r = -errno;
                fprintf(stderr, "hmacd-bench: cannot find my own executable: %s\n", strerror(-r));
                return r;
        }
        if (asprintf(&log, "%s/echo.log", harness_tmp_dir()) < 0)
                return -ENOMEM;
        r = harness_spawn("echo service", HARNESS_DAEMON_USER, argv, log, &echo_pid);
        if (r < 0) {
                fprintf(stderr, "hmacd-bench: cannot start the echo service: %s\n", strerror(-r));
                return r;
        }
        for (int i = 0; i < 2000; i++) {
                r = queued_name_of(echo_pid, echo_dest, sizeof echo_dest);
                if (r < 0)
                        fprintf(stderr, "hmacd-bench: cannot list the queue of %s: %s\n", HARNESS_BUS_NAME,
                                strerror(-r));
                if (r != 0)
                        return r < 0 ? r : 0;
                if (kill(echo_pid, 0) < 0)
                        break;
                usleep(5000);
        }
        fprintf(stderr, "hmacd-bench: the echo service did not queue for %s (log: %s)\n", HARNESS_BUS_NAME, log);
        return -ETIMEDOUT;
}

/* Stops it and waits until the bus has forgotten it: otherwise it could inherit the daemon's name
 * when the daemon restarts. */
static int echo_stop(void) {
        char name[64];
        int r;

        if (echo_pid <= 0)
                return 0;
        r = harness_stop(echo_pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC, NULL);
        if (r < 0)
                return r;
        for (int i = 0; i < 2000; i++) {
                r = queued_name_of(echo_pid, name, sizeof name);
                if (r <= 0) {
                        echo_pid = 0;
                        *echo_dest = 0;
                        return r;
                }
                usleep(5000);
        }
        return -ETIMEDOUT;
}

/* ---- floors: the echo call ---- */

/* The echo call alone, in each configuration a figure of hmacd is compared with. */
static int bench_echo(void) {
        static const struct {
                const char *id;
                const char *user;
                unsigned clients;
                size_t size;
        } cases[] = {
                { "echo.root.1c.32", NULL, 1, SMALL },
                { "echo.root.1c.4096", NULL, 1, LARGE },
                { "echo.root.4c.32", NULL, 4, SMALL },
                { "echo.root.4c.4096", NULL, 4, LARGE },
                { "echo.user.1c.32", HARNESS_TEST_USER, 1, SMALL },
                { "echo.user.1c.4096", HARNESS_TEST_USER, 1, LARGE },
                { "echo.user.4c.32", HARNESS_TEST_USER, 4, SMALL },
                { "echo.user.4c.4096", HARNESS_TEST_USER, 4, LARGE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char label[96];
                int r;

                snprintf(label, sizeof label, "echo call (ay -> ay), %zu B, %u client%s, %s", cases[i].size,
                         cases[i].clients, cases[i].clients > 1 ? "s" : "", cases[i].user ? "hmacdtest" : "root");
                r = bench(cases[i].id, label,
                          &(Work) { .op = OP_ECHO, .user = cases[i].user, .clients = cases[i].clients,
                                    .size = cases[i].size },
                          NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- hmacd ---- */

static int polkit_setup(void) {
        _cleanup_free_ char *log = NULL;
        char *argv[] = { (char *) POLKITD, (char *) "--no-debug", NULL };
        FILE *f;
        int r;

        /* Before polkitd starts, so that it reads the rule at once. Inside bench/run's namespace this
         * folder is a temporary copy. */
        f = fopen(RULE_PATH, "we");
        if (!f)
                return -errno;
        fprintf(f,
                "/* hmacd-bench: the user %s may compute and verify MACs with any key. */\n"
                "polkit.addRule(function(action, subject) {\n"
                "        if ((action.id == \"io.hmacd.generate-mac\" || action.id == \"io.hmacd.verify-mac\") &&\n"
                "            subject.user == \"%s\")\n"
                "                return polkit.Result.YES;\n"
                "});\n",
                HARNESS_TEST_USER, HARNESS_TEST_USER);
        if (fclose(f) != 0 || chmod(RULE_PATH, 0644) < 0)
                return -errno;

        if (asprintf(&log, "%s/polkitd.log", harness_tmp_dir()) < 0)
                return -ENOMEM;
        r = harness_spawn("polkitd", NULL, argv, log, &polkitd_pid);
        if (r < 0)
                return r;
        return harness_wait_for_name("org.freedesktop.PolicyKit1", polkitd_pid, HARNESS_START_TIMEOUT_USEC, NULL);
}

static int daemon_start(double *ret_ms) {
        uint64_t t0 = now_ns();
        int r = harness_daemon_startl(POLKIT_CACHE_ARG, NULL);
        if (r >= 0 && ret_ms)
                *ret_ms = (double) (now_ns() - t0) / 1e6;
        return r;
}

/* The daemon's keyring cache size, from its start-up line. */
static long daemon_cache_slots(void) {
        _cleanup_free_ char *log = NULL;
        const char *p, *last = NULL;

        if (harness_daemon_log(&log) < 0)
                return -1;
        for (p = log; (p = strstr(p, "keyring cache of ")); p++)
                last = p;
        return last ? strtol(last + strlen("keyring cache of "), NULL, 10) : -1;
}

static int daemon_memory(long *ret_rss_kib, long *ret_hwm_kib) {
        char path[64], line[256];
        FILE *f;

        snprintf(path, sizeof path, "/proc/%d/status", (int) harness_daemon_pid());
        f = fopen(path, "re");
        if (!f)
                return -errno;
        *ret_rss_kib = *ret_hwm_kib = -1;
        while (fgets(line, sizeof line, f)) {
                sscanf(line, "VmRSS: %ld", ret_rss_kib);
                sscanf(line, "VmHWM: %ld", ret_hwm_kib);
        }
        fclose(f);
        return *ret_rss_kib >= 0 ? 0 : -EIO;
}

static int bench_startups(const char *id, const char *label) {
        double ms[STARTS];
        int r;

        for (size_t i = 0; i < STARTS; i++) {
                r = harness_daemon_stop(NULL);
                if (r < 0)
                        return r;
                r = daemon_start(&ms[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 1; i < STARTS; i++) /* sort, then take the median */
                for (size_t j = i; j > 0 && ms[j - 1] > ms[j]; j--) {
                        double t = ms[j];
                        ms[j] = ms[j - 1];
                        ms[j - 1] = t;
                }
        figure_add(id, label, "ms", ms[STARTS / 2], NAN, NAN, STARTS, NULL);
        return 0;
}

static int bench_mac_calls(const KeyId *key, const uint8_t mac32[MAC_SIZE], const uint8_t mac4096[MAC_SIZE]) {
        static const struct {
                Op op;
                const char *who;
                const char *user;
                unsigned clients;
                size_t size;
        } cases[] = {
                { OP_GENERATE, "root", NULL, 1, SMALL },
                { OP_GENERATE, "root", NULL, 1, LARGE },
                { OP_VERIFY, "root", NULL, 1, SMALL },
                { OP_VERIFY, "root", NULL, 1, LARGE },
                { OP_GENERATE, "root", NULL, 4, SMALL },
                { OP_GENERATE, "root", NULL, 4, LARGE },
                { OP_VERIFY, "root", NULL, 4, SMALL },
                { OP_VERIFY, "root", NULL, 4, LARGE },
                { OP_GENERATE, "user", HARNESS_TEST_USER, 1, SMALL },
                { OP_GENERATE, "user", HARNESS_TEST_USER, 1, LARGE },
                { OP_VERIFY, "user", HARNESS_TEST_USER, 1, SMALL },
                { OP_VERIFY, "user", HARNESS_TEST_USER, 1, LARGE },
                { OP_GENERATE, "user", HARNESS_TEST_USER, 4, SMALL },
                { OP_GENERATE, "user", HARNESS_TEST_USER, 4, LARGE },
                { OP_VERIFY, "user", HARNESS_TEST_USER, 4, SMALL },
                { OP_VERIFY, "user", HARNESS_TEST_USER, 4, LARGE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char id[64], label[96], floor[64];
                int r;

                snprintf(id, sizeof id, "%s.%s.%uc.%zu", cases[i].op == OP_GENERATE ? "generate" : "verify",
                         cases[i].who, cases[i].clients, cases[i].size);
                snprintf(label, sizeof label, "%s, %zu B, %u client%s, %s", op_name(cases[i].op), cases[i].size,
                         cases[i].clients, cases[i].clients > 1 ? "s" : "",
                         cases[i].user ? "hmacdtest (polkit rule, warm cache)" : "root");
                snprintf(floor, sizeof floor, "echo.%s.%uc.%zu", cases[i].who, cases[i].clients, cases[i].size);
                r = bench(id, label,
                          &(Work) { .op = cases[i].op, .ref = OP_ECHO, .user = cases[i].user,
                                    .clients = cases[i].clients, .size = cases[i].size, .keys = key, .n_keys = 1,
                                    .mac = cases[i].size == SMALL ? mac32 : mac4096 },
                          floor);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int bench_batches(const KeyId *key) {
        static const size_t sizes[] = { 1, 16, 256, 4096 };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                char id[64], label[96];
                int r;

                snprintf(id, sizeof id, "batch.%zu", sizes[i]);
                snprintf(label, sizeof label, "GenerateMacBatch, %zu x %u B, 1 client, root", sizes[i],
                         BATCH_MESSAGE_SIZE);
                r = bench(id, label,
                          &(Work) { .op = OP_BATCH, .ref = OP_HMAC, .clients = 1, .size = BATCH_MESSAGE_SIZE,
                                    .batch = sizes[i], .keys = key, .n_keys = 1 },
                          "hmac.keyed_once.32");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Key material versions: a key rotated until it keeps KMS_PREVIOUS_MATERIALS_MAX previous materials.
 * GenerateMac with it (its cost must not depend on them), VerifyMac of a tag made with the current
 * material (tried first), with the oldest previous one and an invalid tag (both tried against every
 * material): each against the echo floor of the same rounds, as generate.root.1c.32 and
 * verify.root.1c.32 are, so that the four compare with those of a key never rotated. */
static int bench_rotation(void) {
        KeyId key;
        uint8_t msg[SMALL], oldest[MAC_SIZE], current[MAC_SIZE], invalid[MAC_SIZE];
        char err[512];
        int r;

        fill_message(msg, sizeof msg);
        r = create_key(bus, &key, err, sizeof err);
        if (r >= 0)
                r = generate_mac(bus, key.s, msg, sizeof msg, oldest, err, sizeof err);
        for (unsigned i = 0; r >= 0 && i < KMS_PREVIOUS_MATERIALS_MAX; i++)
                r = rotate_key(bus, key.s, err, sizeof err);
        if (r >= 0)
                r = generate_mac(bus, key.s, msg, sizeof msg, current, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "hmacd-bench: %s\n", err);
                return r;
        }
        memcpy(invalid, current, sizeof invalid);
        invalid[0] ^= 0x01;

        const struct {
                const char *id, *label;
                Op op;
                const uint8_t *mac;
        } cases[] = {
                { "rotation.generate.25", "GenerateMac, 32 B, key with 25 previous materials, root", OP_GENERATE, NULL },
                { "rotation.verify.current.25", "VerifyMac, 32 B, tag of the current material, 25 previous, root",
                  OP_VERIFY, current },
                { "rotation.verify.oldest.25", "VerifyMac, 32 B, tag of the oldest of 25 previous materials, root",
                  OP_VERIFY, oldest },
                { "rotation.verify.invalid.25", "VerifyMac, 32 B, invalid tag (26 materials tried), root", OP_VERIFY,
                  invalid },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                r = bench(cases[i].id, cases[i].label,
                          &(Work) { .op = cases[i].op, .ref = OP_ECHO, .clients = 1, .size = SMALL, .keys = &key,
                                    .n_keys = 1, .mac = cases[i].mac, .mac_invalid = cases[i].mac == invalid },
                          "echo.root.1c.32");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* GenerateMac over one hot key and cycling over all keys (the keyring cache misses once the keys
 * outnumber its slots); with n keys in the store. */
static int bench_scale(const char *n, const char *n_pretty, const KeyId *keys, size_t n_keys, bool with_user) {
        char id[64], label[96];
        int r;

        snprintf(id, sizeof id, "scale.%s.hot", n);
        snprintf(label, sizeof label, "GenerateMac, 32 B, one hot key, %s keys, root", n_pretty);
        r = bench(id, label,
                  &(Work) { .op = OP_GENERATE, .ref = OP_ECHO, .clients = 1, .size = SMALL, .keys = keys,
                            .n_keys = 1 },
                  "echo.root.1c.32");
        if (r < 0)
                return r;
        snprintf(id, sizeof id, "scale.%s.cycle", n);
        snprintf(label, sizeof label, "GenerateMac, 32 B, a different key each call, %s keys, root", n_pretty);
        r = bench(id, label,
                  &(Work) { .op = OP_GENERATE, .ref = OP_ECHO, .clients = 1, .size = SMALL, .keys = keys,
                            .n_keys = n_keys, .warmup = 1 },
                  "echo.root.1c.32");
        if (r < 0 || !with_user)
                return r;
        /* As hmacdtest, every new key is a new polkit question (its details differ). */
        snprintf(id, sizeof id, "scale.%s.cycle.user", n);
        snprintf(label, sizeof label, "GenerateMac, 32 B, a different key each call, %s keys, hmacdtest", n_pretty);
        return bench(id, label,
                     &(Work) { .op = OP_GENERATE, .ref = OP_ECHO, .user = HARNESS_TEST_USER, .clients = 1,
                               .size = SMALL, .keys = keys + n_keys / 2, .n_keys = n_keys - n_keys / 2,
                               .warmup = 1 },
                     "echo.user.1c.32");
}


/* Every key through ListKeys pages of 1000 (into keys), timed as a whole; then the page at the end,
 * asked for again and again with the marker that the page before the last one returned. */
static int bench_list_keys(KeyId *keys, size_t max_keys, size_t *ret_n) {
        char err[512], marker[MARKER_BUF] = "", next[MARKER_BUF];
        uint32_t lat[64];
        size_t n = 0, pages = 0;
        uint64_t t0, total;
        double p50, p99;
        int r;

        t0 = now_ns();
        for (;;) {
                r = list_keys(bus, marker, keys, &n, max_keys, next, sizeof next, err, sizeof err);
                if (r < 0) {
                        fprintf(stderr, "hmacd-bench: %s\n", err);
                        return r;
                }
                pages++;
                if (!*next)
                        break;
                memcpy(marker, next, sizeof marker);
        }
        total = now_ns() - t0;
        figure_add("listkeys.all_pages", "ListKeys, all pages of 1000 in turn, root (total time)", "ms",
                   (double) total / 1e6, NAN, NAN, pages, NULL);

        /* marker is the one that led to the last page. */
        for (size_t i = 0; i < ELEMENTSOF(lat); i++) {
                t0 = now_ns();
                r = list_keys(bus, marker, NULL, NULL, 0, next, sizeof next, err, sizeof err);
                if (r < 0) {
                        fprintf(stderr, "hmacd-bench: %s\n", err);
                        return r;
                }
                lat[i] = (uint32_t) (now_ns() - t0);
        }
        p50 = quantile_us(lat, ELEMENTSOF(lat), 0.50, false);
        p99 = quantile_us(lat, ELEMENTSOF(lat), 0.99, true);
        figure_add("listkeys.last_page", "ListKeys, the last page of 1000 (marker of the page before), root", "ms",
                   p50 / 1000.0, p50, p99, ELEMENTSOF(lat), NULL);
        *ret_n = n;
        return 0;
}

/* n keys more, through CreateKey from 4 connections at once (each call commits to the store). */
static int bench_create(size_t n) {
        char id[64], label[96], err[512];
        size_t per = n / CLIENTS_MAX;
        int r;

        printf("# creating %zu keys through CreateKey from %u connections...\n", n, CLIENTS_MAX);
        fflush(stdout);
        snprintf(id, sizeof id, "create.%uc", CLIENTS_MAX);
        snprintf(label, sizeof label, "CreateKey, %u clients, root (%zu keys)", CLIENTS_MAX, per * CLIENTS_MAX);
        r = per > 0 ? bench(id, label,
                            &(Work) { .op = OP_CREATE, .clients = CLIENTS_MAX, .calls = per, .seconds = 3600 }, NULL)
                    : 0;
        for (size_t i = per * CLIENTS_MAX; r >= 0 && i < n; i++) {
                r = create_key(bus, NULL, err, sizeof err);
                if (r < 0)
                        fprintf(stderr, "hmacd-bench: %s\n", err);
        }
        return r;
}

static int bench_memory(const char *id, const char *label) {
        long rss, hwm;
        char id2[64], label2[96];
        int r;

        r = daemon_memory(&rss, &hwm);
        if (r < 0)
                return r;
        figure_add(id, label, "MiB", (double) rss / 1024.0, NAN, NAN, 1, NULL);
        snprintf(id2, sizeof id2, "%s.peak", id);
        snprintf(label2, sizeof label2, "%s (peak, VmHWM)", label);
        figure_add(id2, label2, "MiB", (double) hwm / 1024.0, NAN, NAN, 1, NULL);
        return 0;
}

/* The peer, in rounds alternating with the same hmacd call from the same client. */
static int bench_peer(const KeyId *key, const uint8_t mac32[MAC_SIZE], const uint8_t mac4096[MAC_SIZE]) {
        static const struct {
                Op op, ref;
                size_t size;
        } cases[] = {
                { OP_PEER_SIGN, OP_GENERATE, SMALL },
                { OP_PEER_SIGN, OP_GENERATE, LARGE },
                { OP_PEER_VERIFY, OP_VERIFY, SMALL },
                { OP_PEER_VERIFY, OP_VERIFY, LARGE },
        };
        int r;

        r = peer_server_start();
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(cases); i++) {
                bool sign = cases[i].op == OP_PEER_SIGN;
                char id[64], label[96], floor[64];

                snprintf(id, sizeof id, "peer.%s.%zu", sign ? "sign" : "verify", cases[i].size);
                snprintf(label, sizeof label, "PKCS#11 C_%sInit + C_%s, HMAC-SHA256, %zu B, SoftHSM2 via p11-kit",
                         sign ? "Sign" : "Verify", sign ? "Sign" : "Verify", cases[i].size);
                snprintf(floor, sizeof floor, "%s.root.1c.%zu", sign ? "generate" : "verify", cases[i].size);
                r = bench(id, label,
                          &(Work) { .op = cases[i].op, .ref = cases[i].ref, .clients = 1, .size = cases[i].size,
                                    .keys = key, .n_keys = 1, .mac = cases[i].size == SMALL ? mac32 : mac4096 },
                          floor);
        }
        peer_server_stop();
        return r;
}

/* The scale figures are named after the number of keys: "scale.100000.hot", "100,000 keys". */
static char big[24], big_pretty[32];

static void big_init(void) {
        size_t n = 0, len;

        snprintf(big, sizeof big, "%zu", arg_keys);
        len = strlen(big);
        for (size_t i = 0; i < len; i++) {
                if (i > 0 && (len - i) % 3 == 0)
                        big_pretty[n++] = ',';
                big_pretty[n++] = big[i];
        }
        big_pretty[n] = 0;
}

static const char *big_id(const char *prefix, const char *suffix) {
        static char buf[64];
        snprintf(buf, sizeof buf, "%s.%s%s", prefix, big, suffix);
        return buf;
}

static const char *big_label(const char *what, const char *when) {
        static char buf[96];
        snprintf(buf, sizeof buf, "%s, %s keys, %s", what, big_pretty, when);
        return buf;
}

/* ---- targets and output ---- */

typedef struct Target {
        char text[96];
        double value;
        double limit;
        bool at_most;           /* value must stay below limit (else: reach it) */
        const char *unit;
} Target;

static Target targets[16];
static size_t n_targets;

static void target_add(const char *text, double value, double limit, bool at_most, const char *unit) {
        Target *t;

        if (n_targets >= ELEMENTSOF(targets))
                return;
        t = &targets[n_targets++];
        *t = (Target) { .value = value, .limit = limit, .at_most = at_most, .unit = unit };
        snprintf(t->text, sizeof t->text, "%s", text);
}

static int target_met(const Target *t) {
        if (isnan(t->value))
                return -1;
        return t->at_most ? t->value < t->limit : t->value >= t->limit;
}

static double figure_ratio(const char *id) {
        const Figure *f = figure_find(id);
        return f ? f->ratio : NAN;
}

/* The targets of issues 7 and 15. Ratios use the floors measured in the same rounds; the hot-key comparison
 * of the two store sizes, measured minutes apart, compares their ratios to the echo floor. */
static void targets_evaluate(void) {
        const Figure *peer = figure_find("peer.sign.32");
        char text[4][96], hot[64];

        target_add("GenerateMac 32 B, 1 client, root: >= 0.85 x echo floor", figure_ratio("generate.root.1c.32"),
                   0.85, false, "x echo");
        target_add("GenerateMac 32 B, 1 client, polkit-authorized: >= 0.85 x echo floor",
                   figure_ratio("generate.user.1c.32"), 0.85, false, "x echo");
        target_add("beat the peer: GenerateMac / PKCS#11 C_SignInit+C_Sign, 32 B, 1 client",
                   peer && peer->ratio > 0 ? 1.0 / peer->ratio : NAN, 1.0, false, "x peer");
        target_add("25 previous materials: GenerateMac >= 0.9 x a key never rotated (vs echo)",
                   figure_ratio("rotation.generate.25") / figure_ratio("generate.root.1c.32"), 0.9, false,
                   "x unrotated");
        target_add("25 previous materials: VerifyMac, current tag >= 0.9 x a key never rotated (vs echo)",
                   figure_ratio("rotation.verify.current.25") / figure_ratio("verify.root.1c.32"), 0.9, false,
                   "x unrotated");
        target_add("GenerateMacBatch 4096 x 32 B: >= 1,000,000 MACs/s", figure_value("batch.4096"), 1e6, false,
                   "MACs/s");
        snprintf(text[0], sizeof text[0], "%s keys: hot-key GenerateMac >= 0.9 x the 10-key figure (vs echo)",
                 big_pretty);
        snprintf(text[1], sizeof text[1], "%s keys: start-up < 1 s", big_pretty);
        snprintf(text[2], sizeof text[2], "%s keys: resident memory < 64 MiB", big_pretty);
        snprintf(text[3], sizeof text[3], "%s keys: ListKeys page < 10 ms", big_pretty);
        snprintf(hot, sizeof hot, "%s", big_id("scale", ".hot"));
        target_add(text[0], figure_ratio(hot) / figure_ratio("scale.10.hot"), 0.9, false, "x 10 keys");
        target_add(text[1], figure_value(big_id("startup", "")), 1000, true, "ms");
        target_add(text[2], figure_value(big_id("rss", "")), 64, true, "MiB");
        target_add(text[3], figure_value("listkeys.last_page"), 10, true, "ms");
}

static double max_others(void) {
        double m = 0;

        for (size_t i = 0; i < n_figures; i++)
                if (!isnan(figures[i].others))
                        m = MAX(m, figures[i].others);
        return m;
}

static void cpu_cell(char *buf, size_t size, double us) {
        if (isnan(us))
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%.1f", us);
}

static void print_table(void) {
        static const char rule[] = "-------------------------------------------------------------------------"
                                   "-----------------------------------------------------------------------------"
                                   "------";

        printf("\n%s\n%-30s %13s %-7s %9s %9s  %-6s %-21s %-10s %-6s| %s\n", rule, "figure", "value", "unit",
               "p50 us", "p99 us", "ratio", "floor", "floor (same", "others", "CPU us per call: clients, dbus-daemon,");
        printf("%-30s %13s %-7s %9s %9s  %-6s %-21s %-10s %-6s| %s\n%s\n", "", "", "", "", "", "", "", "rounds)",
               "", "hmacd, polkitd, echo/p11-kit", rule);
        for (size_t i = 0; i < n_figures; i++) {
                const Figure *f = &figures[i];
                char p50[32] = "", p99[32] = "", ratio[32] = "", fv[32] = "", others[16] = "", cpu[_PROCESS_MAX][16];

                if (!isnan(f->p50_us)) {
                        snprintf(p50, sizeof p50, "%.1f", f->p50_us);
                        snprintf(p99, sizeof p99, "%.1f", f->p99_us);
                }
                if (*f->floor)
                        snprintf(ratio, sizeof ratio, "%.3f", f->ratio);
                if (!isnan(f->floor_value))
                        snprintf(fv, sizeof fv, "%.1f", f->floor_value);
                if (!isnan(f->others))
                        snprintf(others, sizeof others, "%.0f%%", f->others * 100);
                for (size_t p = 0; p < _PROCESS_MAX; p++)
                        cpu_cell(cpu[p], sizeof cpu[p], f->cpu_us[p]);
                printf("%-30s %13.1f %-7s %9s %9s  %-6s %-21s %-10s %-6s|", f->id, f->value, f->unit, p50, p99,
                       ratio, f->floor, fv, others);
                if (!isnan(f->cpu_us[PROCESS_CLIENTS]))
                        printf(" %s, %s, %s, %s, %s", cpu[0], cpu[1], cpu[2], cpu[3], cpu[4]);
                printf("\n");
        }
        if (max_others() >= OTHERS_WARN)
                printf("%s\nWARNING: other processes took up to %.0f%% of the CPUs during a figure (column \"others\"):\n"
                       "the figures marked so are not reliable; run again on a quiet machine.\n",
                       rule, max_others() * 100);
        printf("%s\ntargets (issue 7):\n", rule);
        for (size_t i = 0; i < n_targets; i++) {
                const Target *t = &targets[i];
                int met = target_met(t);

                printf("  %-9s %-78s %12.3f %s\n", met < 0 ? "(no data)" : met ? "met" : "NOT MET", t->text,
                       t->value, t->unit);
        }
        printf("%s\n", rule);
        fflush(stdout);
}

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void json_number(FILE *f, double v, int decimals) {
        if (isnan(v) || isinf(v))
                fputs("null", f);
        else
                fprintf(f, "%.*f", decimals, v);
}

static void machine_info(char *cpu, size_t cpu_size, char *kernel, size_t kernel_size) {
        struct utsname u;
        char line[256];
        FILE *f;

        snprintf(cpu, cpu_size, "unknown");
        f = fopen("/proc/cpuinfo", "re");
        if (f) {
                while (fgets(line, sizeof line, f)) {
                        char *colon = strchr(line, ':');
                        if (strncmp(line, "model name", 10) == 0 && colon) {
                                snprintf(cpu, cpu_size, "%s", colon + 2);
                                cpu[strcspn(cpu, "\n")] = 0;
                                break;
                        }
                }
                fclose(f);
        }
        snprintf(kernel, kernel_size, "%s", uname(&u) >= 0 ? u.release : "unknown");
}

static int write_json(const char *path, double total_seconds, long cache_slots) {
        _cleanup_free_ char *tmp = NULL;
        char cpu[128], kernel[128], date[64];
        time_t t = time(NULL);
        struct tm tm;
        FILE *f;

        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        machine_info(cpu, sizeof cpu, kernel, sizeof kernel);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));

        fprintf(f, "{\n  \"generated\": \"%s\",\n  \"machine\": {\n    \"cpus\": %ld,\n    \"cpu\": ", date,
                sysconf(_SC_NPROCESSORS_ONLN));
        json_string(f, cpu);
        fputs(",\n    \"kernel\": ", f);
        json_string(f, kernel);
        fputs(",\n    \"openssl\": ", f);
        json_string(f, OpenSSL_version(OPENSSL_VERSION));
        fprintf(f, "\n  },\n  \"seconds_per_figure\": %.3f,\n  \"keys\": %zu,\n  \"daemon_cache_slots\": %ld,\n"
                   "  \"run_seconds\": %.1f,\n  \"max_other_processes_cpu_share\": %.3f,\n  \"figures\": {\n",
                arg_seconds, arg_keys, cache_slots, total_seconds, max_others());
        for (size_t i = 0; i < n_figures; i++) {
                const Figure *fi = &figures[i];

                fputs("    ", f);
                json_string(f, fi->id);
                fputs(": {\"label\": ", f);
                json_string(f, fi->label);
                fputs(", \"value\": ", f);
                json_number(f, fi->value, 3);
                fputs(", \"unit\": ", f);
                json_string(f, fi->unit);
                fputs(", \"p50_us\": ", f);
                json_number(f, fi->p50_us, 2);
                fputs(", \"p99_us\": ", f);
                json_number(f, fi->p99_us, 2);
                fprintf(f, ", \"n\": %" PRIu64 ", \"floor\": ", fi->n);
                if (*fi->floor)
                        json_string(f, fi->floor);
                else
                        fputs("null", f);
                fputs(", \"floor_value\": ", f);
                json_number(f, fi->floor_value, 3);
                fputs(", \"ratio\": ", f);
                json_number(f, fi->ratio, 4);
                if (!isnan(fi->others)) {
                        fputs(", \"other_processes_cpu_share\": ", f);
                        json_number(f, fi->others, 3);
                        fprintf(f, ", \"attempts\": %u", fi->attempts);
                }
                if (!isnan(fi->cpu_us[PROCESS_CLIENTS])) {
                        fputs(", \"cpu_us_per_call\": {", f);
                        for (size_t p = 0; p < _PROCESS_MAX; p++) {
                                fprintf(f, "%s", p > 0 ? ", " : "");
                                json_string(f, process_names[p]);
                                fputs(": ", f);
                                json_number(f, fi->cpu_us[p], 2);
                        }
                        fputs("}", f);
                }
                if (!isnan(fi->floor_cpu_us[PROCESS_CLIENTS])) {
                        fputs(", \"floor_cpu_us_per_call\": {", f);
                        for (size_t p = 0; p < _PROCESS_MAX; p++) {
                                fprintf(f, "%s", p > 0 ? ", " : "");
                                json_string(f, process_names[p]);
                                fputs(": ", f);
                                json_number(f, fi->floor_cpu_us[p], 2);
                        }
                        fputs("}", f);
                }
                fprintf(f, "}%s\n", i + 1 < n_figures ? "," : "");
        }
        fputs("  },\n  \"targets\": [\n", f);
        for (size_t i = 0; i < n_targets; i++) {
                const Target *tg = &targets[i];
                int met = target_met(tg);

                fputs("    {\"target\": ", f);
                json_string(f, tg->text);
                fputs(", \"value\": ", f);
                json_number(f, tg->value, 4);
                fputs(", \"limit\": ", f);
                json_number(f, tg->limit, 4);
                fputs(", \"unit\": ", f);
                json_string(f, tg->unit);
                fprintf(f, ", \"met\": %s}%s\n", met < 0 ? "null" : met ? "true" : "false",
                        i + 1 < n_targets ? "," : "");
        }
        fputs("  ]\n}\n", f);
        if (fclose(f) != 0 || rename(tmp, path) < 0)
                return -errno;
        return 0;
}

/* The batch figures for gnuplot (bench/batch.gp), with the reference lines as further columns. */
static int write_dat(const char *path) {
        static const size_t sizes[] = { 1, 16, 256, 4096 };
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fprintf(f, "# hmacd-bench: MACs per second against GenerateMacBatch size (32-byte messages)\n"
                   "# batch_size hmacd_batch in_process_hmac_keyed_once generate_mac_1_client target\n");
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                char id[32];

                snprintf(id, sizeof id, "batch.%zu", sizes[i]);
                fprintf(f, "%zu %.1f %.1f %.1f %.1f\n", sizes[i], figure_value(id),
                        figure_value("hmac.keyed_once.32"), figure_value("generate.root.1c.32"), 1e6);
        }
        return fclose(f) != 0 ? -errno : 0;
}

/* A Markdown table of every figure, for BENCHMARKS.md. */
static int write_markdown(const char *path) {
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fprintf(f, "| figure | what | value | p50 | p99 | ratio to floor | CPU us per call: clients / dbus-daemon / "
                   "hmacd / polkitd / echo or p11-kit | others |\n| --- | --- | ---: | ---: | ---: | --- | --- | ---: |\n");
        for (size_t i = 0; i < n_figures; i++) {
                const Figure *fi = &figures[i];

                fprintf(f, "| `%s` | %s | %.*f %s |", fi->id, fi->label, fi->value >= 100 ? 0 : 1, fi->value,
                        fi->unit);
                if (!isnan(fi->p50_us))
                        fprintf(f, " %.1f us | %.1f us |", fi->p50_us, fi->p99_us);
                else
                        fprintf(f, " | |");
                if (*fi->floor && !isnan(fi->floor_value))
                        fprintf(f, " %.3f x `%s` (%.0f in the same rounds) |", fi->ratio, fi->floor,
                                fi->floor_value);
                else if (*fi->floor)
                        fprintf(f, " %.3f x `%s` |", fi->ratio, fi->floor);
                else
                        fprintf(f, " |");
                for (size_t p = 0; !isnan(fi->cpu_us[PROCESS_CLIENTS]) && p < _PROCESS_MAX; p++) {
                        char cell[16];

                        cpu_cell(cell, sizeof cell, fi->cpu_us[p]);
                        fprintf(f, "%s%s", p > 0 ? " / " : " ", cell);
                }
                if (!isnan(fi->others))
                        fprintf(f, " | %.0f%% |\n", fi->others * 100);
                else
                        fprintf(f, " | |\n");
        }
        fprintf(f, "\n| target | measured | met |\n| --- | ---: | --- |\n");
        for (size_t i = 0; i < n_targets; i++) {
                int met = target_met(&targets[i]);
                fprintf(f, "| %s | %.3f %s | %s |\n", targets[i].text, targets[i].value, targets[i].unit,
                        met < 0 ? "no data" : met ? "yes" : "**no**");
        }
        return fclose(f) != 0 ? -errno : 0;
}

/* ---- main ---- */

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Benchmarks hmacd against its floors and a PKCS#11 peer (run it through bench/run).\n\n"
               "  -h --help            Show this help\n"
               "     --seconds=S       Time per figure (default 1)\n"
               "     --keys=N          Keys in the store for the scale figures (default 100000)\n"
               "     --json=PATH       Where to write the figures (default <source>/bench/results.json)\n"
               "     --dat=PATH        Where to write the batch plot data (default <source>/bench/batch.dat)\n"
               "     --markdown=PATH   Also write the table in Markdown\n"
               "     --no-peer         Skip the PKCS#11 peer\n"
               "     --load=OP --calls=N [--key=ID] [--size=B] [--batch=M] [--dest=NAME]\n"
               "                       Only N calls of echo, generate, verify, batch or create (bench/profile)\n"
               "     --syscall-costs   Only time the system calls hmacd makes beyond the echo service's\n",
               program_invocation_short_name);
}

/* --load: one connection, n calls, nothing else; for bench/profile, which watches the servers with
 * strace and perf meanwhile. Uses the bus in DBUS_SYSTEM_BUS_ADDRESS. */
static int load(const char *op, const char *key, const char *dest, uint64_t n, size_t size, size_t batch) {
        static const struct {
                const char *name;
                Op op;
        } ops[] = {
                { "echo", OP_ECHO }, { "generate", OP_GENERATE }, { "verify", OP_VERIFY },
                { "batch", OP_BATCH }, { "create", OP_CREATE },
        };
        uint8_t mac[MAC_SIZE];
        KeyId k = {};
        Work w = { .clients = 1, .size = size, .batch = batch, .keys = &k, .n_keys = 1, .mac = mac };
        ClientSlot slot = {};
        Client c = { .work = &w, .slot = &slot };
        uint64_t t0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (streq(op, ops[i].name))
                        w.op = ops[i].op;
        if (w.op == OP_NONE || size < 1 || size > LARGE || batch < 1 || batch > 4096 || strlen(strempty(key)) >= KEY_ID_SIZE)
                return -EINVAL;
        snprintf(k.s, sizeof k.s, "%s", strempty(key));
        snprintf(echo_dest, sizeof echo_dest, "%s", strempty(dest));
        c.op = w.op;
        r = client_setup(&c);
        if (r >= 0 && w.op == OP_VERIFY)
                r = generate_mac(c.bus, k.s, c.message, size, mac, slot.message, sizeof slot.message);
        t0 = now_ns();
        for (uint64_t i = 0; r >= 0 && i < n; i++)
                r = client_call(&c, i);
        if (r < 0)
                fprintf(stderr, "hmacd-bench: %s\n", slot.message);
        else
                printf("%" PRIu64 " %s calls in %.3f s\n", n, op, (double) (now_ns() - t0) / NSEC_PER_SEC);
        client_done(&c);
        return r;
}

/* --syscall-costs: what the system calls that hmacd makes beyond the echo service's cost here, each
 * alone in a loop: a write() of an audit line to a file (O_APPEND, as its standard error is in the
 * tests), a keyctl read of a 32-byte user key from a private session keyring; getppid() for scale. */
static int syscall_costs(void) {
        static const char line[] = "hmacd: audit op=GenerateMac key=00000000-0000-4000-8000-000000000000 "
                                   "action=io.hmacd.generate-mac uid=0 pid=1 result=ok\n";
        const unsigned n = 100000;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        key_serial_t key;
        uint8_t buf[64];
        uint64_t t0, t_write, t_read, t_ppid;

        if (asprintf(&path, "%s/hmacd-bench-audit.XXXXXX", getenv("TMPDIR") ?: "/tmp") < 0)
                return -ENOMEM;
        fd = mkostemp(path, O_APPEND | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        if (keyctl_join_session_keyring(NULL) < 0)
                return -errno;
        memset(buf, 0x5a, 32);
        key = add_key("user", "hmacd-bench", buf, 32, KEY_SPEC_SESSION_KEYRING);
        if (key < 0)
                return -errno;

        t0 = now_ns();
        for (unsigned i = 0; i < n; i++)
                if (write(fd, line, sizeof line - 1) != (ssize_t) sizeof line - 1)
                        return -EIO;
        t_write = now_ns() - t0;
        t0 = now_ns();
        for (unsigned i = 0; i < n; i++)
                if (keyctl_read(key, (char *) buf, sizeof buf) != 32)
                        return -EIO;
        t_read = now_ns() - t0;
        t0 = now_ns();
        for (unsigned i = 0; i < n; i++)
                (void) getppid();
        t_ppid = now_ns() - t0;
        (void) keyctl_invalidate(key);

        printf("write() of an audit line to a file: %.2f us; keyctl read of a 32-byte user key: %.2f us; "
               "getppid(): %.2f us\n",
               (double) t_write / n / 1000, (double) t_read / n / 1000, (double) t_ppid / n / 1000);
        return 0;
}

static int run(const char *markdown) {
        _cleanup_free_ KeyId *keys = NULL;
        KeyId keys10[10];
        uint8_t msg[LARGE], mac32[MAC_SIZE], mac4096[MAC_SIZE];
        char err[512];
        uint64_t t0 = now_ns();
        size_t n = 0;
        long cache_slots;
        int r;

        big_init();
        printf("# hmacd-bench: %.1f s per figure, %zu keys for the scale figures\n", arg_seconds, arg_keys);
        printf("%-34s %14s %-8s %-34s  %s\n", "# figure", "value", "unit", "latency", "ratio to its floor");
        fflush(stdout);

        /* The compute floor, before anything else runs (batches are compared with it again, in rounds). */
        r = bench_hmac_floors();
        if (r < 0)
                return r;

        r = harness_bus_start();
        if (r >= 0)
                r = polkit_setup();
        if (r >= 0)
                r = daemon_start(NULL);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(keys10); i++) {
                r = create_key(bus, &keys10[i], err, sizeof err);
                if (r < 0) {
                        fprintf(stderr, "hmacd-bench: %s\n", err);
                        return r;
                }
        }
        fill_message(msg, sizeof msg);
        r = generate_mac(bus, keys10[0].s, msg, SMALL, mac32, err, sizeof err);
        if (r >= 0)
                r = generate_mac(bus, keys10[0].s, msg, LARGE, mac4096, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "hmacd-bench: %s\n", err);
                return r;
        }

        /* The transport floor: the echo service, queued behind the daemon for its name. */
        r = echo_start();
        if (r >= 0)
                r = bench_echo();
        if (r >= 0)
                r = bench_mac_calls(&keys10[0], mac32, mac4096);
        if (r >= 0)
                r = bench_batches(&keys10[0]);
        if (r >= 0 && !arg_skip_peer)
                r = bench_peer(&keys10[0], mac32, mac4096);
        if (r >= 0)
                r = bench_scale("10", "10", keys10, ELEMENTSOF(keys10), false);
        /* Before the daemon restarts: a queued echo service would take over its name. */
        if (r >= 0)
                r = echo_stop();
        if (r >= 0)
                r = bench_startups("startup.10",
                                   "daemon start-up, spawn to owning the name, 10 keys (median of 3)");
        if (r >= 0)
                r = bench_memory("rss.10", "daemon resident memory, 10 keys, after start");
        /* After the 10-key figures: it adds a key. */
        if (r >= 0)
                r = echo_start();
        if (r >= 0)
                r = bench_rotation();
        if (r >= 0)
                r = echo_stop();
        if (r < 0)
                return r;

        /* arg_keys keys in all (100,000 by default). */
        r = bench_create(arg_keys > ELEMENTSOF(keys10) ? arg_keys - ELEMENTSOF(keys10) : 0);
        if (r >= 0)
                r = bench_startups(big_id("startup", ""),
                                   big_label("daemon start-up, spawn to owning the name", "median of 3"));
        if (r >= 0)
                r = bench_memory(big_id("rss", ".start"), big_label("daemon resident memory", "after start"));
        if (r < 0)
                return r;
        cache_slots = daemon_cache_slots();
        printf("# the daemon's keyring cache holds %ld keys\n", cache_slots);

        keys = calloc(arg_keys, sizeof *keys);
        if (!keys)
                return -ENOMEM;
        r = bench_list_keys(keys, arg_keys, &n);
        if (r >= 0 && n < 2)
                r = -ENOENT;
        if (r >= 0)
                r = echo_start();
        if (r >= 0)
                r = bench_scale(big, big_pretty, keys, n, true);
        if (r >= 0)
                r = bench_memory(big_id("rss", ""), big_label("daemon resident memory", "after the scale figures"));
        if (r >= 0)
                r = echo_stop();
        if (r < 0)
                return r;

        sd_bus_flush_close_unref(TAKE_PTR(bus));
        harness_stop_all();
        (void) unlink(RULE_PATH);

        targets_evaluate();
        print_table();
        r = write_json(arg_json, (double) (now_ns() - t0) / NSEC_PER_SEC, cache_slots);
        if (r < 0)
                return fprintf(stderr, "hmacd-bench: cannot write %s: %s\n", arg_json, strerror(-r)), r;
        r = write_dat(arg_dat);
        if (r < 0)
                return fprintf(stderr, "hmacd-bench: cannot write %s: %s\n", arg_dat, strerror(-r)), r;
        if (markdown) {
                r = write_markdown(markdown);
                if (r < 0)
                        return fprintf(stderr, "hmacd-bench: cannot write %s: %s\n", markdown, strerror(-r)), r;
        }
        printf("wrote %s and %s (%.0f s)\n", arg_json, arg_dat, (double) (now_ns() - t0) / NSEC_PER_SEC);
        return 0;
}

int main(int argc, char *argv[]) {
        enum {
                ARG_SECONDS = 0x100,
                ARG_KEYS,
                ARG_JSON,
                ARG_DAT,
                ARG_MARKDOWN,
                ARG_NO_PEER,
                ARG_ECHO_SERVICE,
                ARG_LOAD,
                ARG_KEY,
                ARG_DEST,
                ARG_CALLS,
                ARG_SIZE,
                ARG_BATCH,
                ARG_SYSCALL_COSTS,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "seconds", required_argument, NULL, ARG_SECONDS },
                { "keys", required_argument, NULL, ARG_KEYS },
                { "json", required_argument, NULL, ARG_JSON },
                { "dat", required_argument, NULL, ARG_DAT },
                { "markdown", required_argument, NULL, ARG_MARKDOWN },
                { "no-peer", no_argument, NULL, ARG_NO_PEER },
                { "echo-service", no_argument, NULL, ARG_ECHO_SERVICE },
                { "load", required_argument, NULL, ARG_LOAD },
                { "key", required_argument, NULL, ARG_KEY },
                { "dest", required_argument, NULL, ARG_DEST },
                { "calls", required_argument, NULL, ARG_CALLS },
                { "size", required_argument, NULL, ARG_SIZE },
                { "batch", required_argument, NULL, ARG_BATCH },
                { "syscall-costs", no_argument, NULL, ARG_SYSCALL_COSTS },
                {}
        };
        _cleanup_free_ char *json = NULL, *dat = NULL;
        const char *markdown = NULL, *reason, *src, *load_op = NULL, *load_key = NULL, *load_dest = NULL;
        uint64_t load_calls = 1000;
        size_t load_size = SMALL, load_batch = 1;
        char *end;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_SECONDS:
                        arg_seconds = strtod(optarg, &end);
                        if (*end || !(arg_seconds >= 0.05 && arg_seconds <= 60)) {
                                fprintf(stderr, "hmacd-bench: --seconds must be 0.05..60.\n");
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_KEYS:
                        errno = 0;
                        arg_keys = strtoul(optarg, &end, 10);
                        if (errno || *end || arg_keys < 20 || arg_keys > 1000000) {
                                fprintf(stderr, "hmacd-bench: --keys must be 20..1000000.\n");
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_JSON:
                        arg_json = optarg;
                        break;
                case ARG_DAT:
                        arg_dat = optarg;
                        break;
                case ARG_MARKDOWN:
                        markdown = optarg;
                        break;
                case ARG_NO_PEER:
                        arg_skip_peer = true;
                        break;
                case ARG_ECHO_SERVICE:
                        return echo_service();
                case ARG_LOAD:
                        load_op = optarg;
                        break;
                case ARG_SYSCALL_COSTS:
                        r = syscall_costs();
                        if (r < 0)
                                fprintf(stderr, "hmacd-bench: %s\n", strerror(-r));
                        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
                case ARG_KEY:
                        load_key = optarg;
                        break;
                case ARG_DEST:
                        load_dest = optarg;
                        break;
                case ARG_CALLS:
                        load_calls = strtoull(optarg, NULL, 10);
                        break;
                case ARG_SIZE:
                        load_size = strtoul(optarg, NULL, 10);
                        break;
                case ARG_BATCH:
                        load_batch = strtoul(optarg, NULL, 10);
                        break;
                default:
                        return EXIT_FAILURE;
                }

        if (load_op) {
                r = shared_setup();
                if (r >= 0)
                        r = load(load_op, load_key, load_dest, load_calls, load_size, load_batch);
                if (r == -EINVAL)
                        fprintf(stderr, "hmacd-bench: --load=echo|generate|verify|batch|create, --size=1..4096, "
                                        "--batch=1..4096, --key=KEY-ID, --dest=UNIQUE-NAME (echo)\n");
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        if (!getenv("HMACD_BENCH_ENV")) {
                fprintf(stderr, "hmacd-bench: run me through bench/run (make bench): it provides the users, the "
                                "polkit folders and a private mount namespace, so that the host is not changed.\n");
                return EXIT_FAILURE;
        }
        if (harness_check_environment(&reason) < 0) {
                fprintf(stderr, "hmacd-bench: %s\n", reason);
                return EXIT_FAILURE;
        }
        src = harness_source_dir();
        if (!src)
                return EXIT_FAILURE;
        if (!arg_json) {
                if (asprintf(&json, "%s/bench/results.json", src) < 0)
                        return EXIT_FAILURE;
                arg_json = json;
        }
        if (!arg_dat) {
                if (asprintf(&dat, "%s/bench/batch.dat", src) < 0)
                        return EXIT_FAILURE;
                arg_dat = dat;
        }
        r = shared_setup();
        if (r < 0) {
                fprintf(stderr, "hmacd-bench: cannot map shared memory: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = run(markdown);
        if (r < 0) {
                fprintf(stderr, "hmacd-bench: failed: %s\n", strerror(-r));
                sd_bus_flush_close_unref(TAKE_PTR(bus));
                harness_stop_all();
                (void) unlink(RULE_PATH);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
