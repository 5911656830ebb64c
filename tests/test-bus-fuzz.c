/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bus-level fuzzer: the real daemon on a private bus gets thousands of randomized calls, made with
 * sd-bus directly, from a fixed seed that is logged (HMACD_BUS_FUZZ_SEED and HMACD_BUS_FUZZ_CALLS
 * change seed and count, to reproduce or to run longer; HMACD_BUS_FUZZ_VERBOSE prints every call and
 * its outcome):
 *
 *   - well-typed calls of every method with random arguments: key IDs, key ARNs (ours and foreign),
 *     alias names and alias ARNs that are valid, reserved, too long or junk; limits and markers
 *     (real markers from earlier replies, edited ones, junk); messages, MACs, batches, tokens and
 *     descriptions at and beyond their limits; tags and options of every shape;
 *   - real method names with random signatures and random values (every basic type, arrays,
 *     dictionaries, structs and variants, file descriptors included);
 *   - junk method names, interfaces and object paths, and the standard interfaces (Properties,
 *     Introspectable, Peer);
 *   - extreme sizes: 64 KiB byte arrays, strings of 1 and 8 MiB, 10,000 tags, 100,000 tag keys, a
 *     batch of 4097 messages, containers nested to the D-Bus limits and past them;
 *   - calls that want no reply;
 *   - now and then GenerateMac with a recorded key, whose MAC must not have changed.
 *
 * It runs twice: as root, which hmacd lets do anything without asking polkit, so that every call
 * reaches its handler (12,000 calls); and as the normal user hmacdtest with a real polkitd (5000
 * calls), so that every call that passes validation waits for polkit's answer and is dispatched again
 * when it comes.
 *
 * Before that it makes four keys (one per key spec) with two aliases and two tags each, and records
 * their MACs; the fuzzer never sends those keys, their ARNs or aliases to a method that changes state
 * (only to the read-only ones), and no alias it creates can take one of their names. Afterwards the
 * daemon must still be running and answering, every recorded key must still be Enabled with the
 * same MAC (through its ID, ARN and each alias), the same aliases and the same tags, ListKeys must
 * list exactly the recorded keys and the ones the fuzzer's own CreateKey calls made, and the daemon
 * must hold as many open file descriptors as before. The replies are counted by error name and
 * logged. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ident.h"
#include "kms.h"

#define DEFAULT_SEED UINT64_C(20261122)
#define DEFAULT_CALLS 12000u
#define DEFAULT_USER_CALLS 5000u
#define CALL_TIMEOUT_USEC (10 * HARNESS_USEC_PER_SEC)
#define MAX_TIMEOUTS 3u

/* Keys the fuzzer may make with its own CreateKey calls, and GetParametersForImport calls that may
 * make an RSA key pair: both bounded so that the run stays short and within the hmacd user's key
 * quota. */
#define CREATE_CAP 30u
#define IMPORT_PARAMS_CAP 12u

#define N_RECORDED 4u
#define RECORDED_MESSAGE "the recorded message"

typedef struct Recorded {
        char key_id[KEY_ID_LEN + 1];
        char arn[ARN_MAX];
        const char *spec, *algorithm;
        char alias[2][64];
        uint8_t mac[KMS_MAC_SIZE_MAX];
        size_t mac_size;
} Recorded;

typedef struct Outcome {
        char *name;
        unsigned count;
} Outcome;

static struct {
        uint64_t rng;
        sd_bus *bus;            /* the fuzzer's, as uid */
        sd_bus *root;           /* root's, for the setup and the checks */
        uid_t uid;
        gid_t gid;
        char machine_id[MACHINE_ID_MAX + 1];
        int null_fd;

        Recorded recorded[N_RECORDED];

        /* Keys made by the fuzzer's own calls: any of them may be used for anything. */
        char created[CREATE_CAP][KEY_ID_LEN + 1];
        bool created_external[CREATE_CAP];
        unsigned n_created;
        unsigned n_import_params, n_rsa_4096;

        /* Real markers and import tokens seen in replies, to reuse and edit. */
        char *markers[16];
        unsigned n_markers;
        uint8_t tokens[8][256];
        size_t token_sizes[8];
        unsigned n_tokens;

        /* Whether the message being built goes to a read-only method, so its strings may name recorded
         * keys. */
        bool allow_recorded;
        bool verbose; /* HMACD_BUS_FUZZ_VERBOSE: every call and its outcome on stderr */

        Outcome outcomes[128];
        size_t n_outcomes;
        unsigned sent, refused_locally, no_reply, disconnects, timeouts;
} F;

/* ---- randomness: splitmix64, so that a seed means the same run everywhere ---- */

static uint64_t rnd(void) {
        uint64_t z = (F.rng += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static size_t below(size_t n) {
        return n == 0 ? 0 : (size_t) (rnd() % n);
}

static bool chance(unsigned percent) {
        return below(100) < percent;
}

#define PICK(array) ((array)[below(ELEMENTSOF(array))])

static void fill_random(void *p, size_t n) {
        uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t) rnd();
}

/* ---- strings; every string returned is malloc()ed ---- */

static char *xstrdup(const char *s) {
        char *d = strdup(s);
        cr_assert_not_null(d);
        return d;
}

static char *repeat(const char *unit, size_t times) {
        size_t n = strlen(unit);
        char *s = malloc(n * times + 1);

        cr_assert_not_null(s);
        for (size_t i = 0; i < times; i++)
                memcpy(s + i * n, unit, n);
        s[n * times] = 0;
        return s;
}

/* Mostly ASCII, with 2-, 3- and 4-byte characters and the odd control character. One string in 50
 * carries a noncharacter (U+FFFF), which sd-bus refuses to send. */
static char *random_utf8(size_t max_chars) {
        static const char *const pieces[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbd",
                                              "\xf4\x8f\xbf\xbd", "\x01", "\x7f", "/", ":", "=", ",", "\\" };
        size_t n = below(max_chars + 1);
        char *s = malloc(4 * n + 4), *p = s;

        cr_assert_not_null(s);
        for (size_t i = 0; i < n; i++) {
                if (chance(85))
                        *p++ = (char) (' ' + below(95));
                else {
                        const char *piece = PICK(pieces);
                        p = stpcpy(p, piece);
                }
        }
        if (chance(2))
                p = stpcpy(p, "\xef\xbf\xbf");
        *p = 0;
        return s;
}

static void random_key_id(char ret[static KEY_ID_LEN + 1]) {
        cr_assert_eq(key_id_generate(ret), 0);
}

static char *key_arn(const char *machine_id, const char *key_id) {
        char arn[ARN_MAX];
        cr_assert_eq(key_arn_format(arn, sizeof arn, machine_id, key_id), 0);
        return xstrdup(arn);
}

/* A new alias name of the fuzzer's own ("alias/fz-..."): never one of the recorded ones. */
static char *fuzz_alias_name(void) {
        char *s;
        cr_assert(asprintf(&s, "alias/fz-%u", (unsigned) below(40)) > 0);
        return s;
}

/* Alias names of every kind: valid ones of the fuzzer's, reserved, too long, bad characters. */
static char *random_alias_name(void) {
        switch (below(9)) {
        case 0:
        case 1:
        case 2:
                return fuzz_alias_name();
        case 3:
                return xstrdup(
                        PICK(((const char *const[]){ "alias/aws/x", "alias/hmacd/fz", "alias/", "alias",
                                                     "ALIAS/fz", "alias/fz x", "alias/fz\xc3\xa9", "" })));
        case 4: {
                char *s = repeat("f", KMS_ALIAS_NAME_MAX); /* exactly 256: valid */
                memcpy(s, "alias/", 6);
                return s;
        }
        case 5: {
                char *s = repeat("f", KMS_ALIAS_NAME_MAX + 1);
                memcpy(s, "alias/", 6);
                return s;
        }
        case 6: {
                char *s, *u = random_utf8(20);
                cr_assert(asprintf(&s, "alias/fz%s", u) > 0);
                free(u);
                return s;
        }
        default: {
                char *s;
                cr_assert(asprintf(&s, "alias/fz/%016" PRIx64, rnd()) > 0);
                return s;
        }
        }
}

/* Whether s names a recorded key: methods that change state must never get one. */
static bool names_recorded(const char *s) {
        for (size_t i = 0; i < N_RECORDED; i++)
                if (strstr(s, F.recorded[i].key_id) || strstr(s, F.recorded[i].alias[0]) ||
                    strstr(s, F.recorded[i].alias[1]))
                        return true;
        return strstr(s, "alias/keep-") != NULL;
}

/* A key_id argument: one of the fuzzer's keys (by ID or ARN), a recorded key (any of the four forms;
 * only when read_only), a random UUID that exists nowhere, a foreign ARN, an alias, or junk of any
 * size. */
static char *random_key_ref(bool read_only) {
        char id[KEY_ID_LEN + 1];

        for (;;) {
                char *s = NULL;

                switch (below(14)) {
                case 0:
                case 1:
                case 2:
                        if (F.n_created > 0)
                                s = xstrdup(F.created[below(F.n_created)]);
                        break;
                case 3:
                        if (F.n_created > 0)
                                s = key_arn(F.machine_id, F.created[below(F.n_created)]);
                        break;
                case 4:
                case 5:
                        if (read_only) {
                                const Recorded *r = &F.recorded[below(N_RECORDED)];
                                char arn[ARN_MAX];

                                switch (below(4)) {
                                case 0:
                                        s = xstrdup(r->key_id);
                                        break;
                                case 1:
                                        s = xstrdup(r->arn);
                                        break;
                                case 2:
                                        s = xstrdup(r->alias[below(2)]);
                                        break;
                                default:
                                        cr_assert_eq(alias_arn_format(arn, sizeof arn, F.machine_id,
                                                                      r->alias[below(2)]),
                                                     0);
                                        s = xstrdup(arn);
                                }
                        }
                        break;
                case 6:
                        random_key_id(id);
                        s = xstrdup(id);
                        break;
                case 7:
                        random_key_id(id);
                        s = key_arn(chance(50) ? F.machine_id : "ffffffffffffffffffffffffffffffff", id);
                        break;
                case 8:
                        random_key_id(id);
                        for (char *p = id; *p; p++)
                                if (*p >= 'a' && *p <= 'f')
                                        *p = (char) (*p - 'a' + 'A');
                        s = xstrdup(id);
                        break;
                case 9:
                        s = random_alias_name();
                        break;
                case 10: {
                        char arn[ARN_MAX * 2];
                        char *a = random_alias_name();
                        snprintf(arn, sizeof arn, "arn:hmacd:kms:local:%s:%s",
                                 chance(50) ? F.machine_id : "1", a);
                        free(a);
                        s = xstrdup(arn);
                        break;
                }
                case 11:
                        s = xstrdup(PICK(((const char *const[]){ "", " ", "arn:hmacd:kms:local:", "key/",
                                                                 "arn:aws:kms:us-east-1:111122223333:key/x",
                                                                 "00000000-0000-0000-0000-000000000000" })));
                        break;
                case 12:
                        s = repeat(PICK(((const char *const[]){ "a", "\xc3\xa9", "-" })),
                                   PICK(((const size_t[]){ KMS_KEY_ID_INPUT_MAX, KMS_KEY_ID_INPUT_MAX + 1,
                                                           65536 })));
                        break;
                default:
                        s = random_utf8(80);
                }
                if (!s)
                        continue;
                if (!read_only && names_recorded(s)) {
                        free(s);
                        continue;
                }
                return s;
        }
}

static char *random_marker(void) {
        switch (below(8)) {
        case 0:
                return xstrdup("");
        case 1:
        case 2:
                if (F.n_markers > 0)
                        return xstrdup(F.markers[below(F.n_markers)]);
                return xstrdup("");
        case 3:
                if (F.n_markers > 0) {
                        char *m = xstrdup(F.markers[below(F.n_markers)]);
                        size_t n = strlen(m);
                        if (n > 0)
                                m[below(n)] = "0123456789abcdefXZ"[below(18)];
                        return m;
                }
                return xstrdup("0");
        case 4: {
                char *s;
                cr_assert(asprintf(&s, "%016" PRIx64 "%08x", rnd(), (unsigned) rnd()) > 0);
                return s;
        }
        case 5:
                return repeat("0",
                              PICK(((const size_t[]){ KMS_MARKER_MAX, KMS_MARKER_MAX + 1, 1032, 4096 })));
        default:
                return random_utf8(40);
        }
}

static uint32_t random_limit(void) {
        return PICK(((const uint32_t[]){ 0, 1, 2, 49, 50, 51, 100, 101, 1000, 1001, UINT32_MAX,
                                         (uint32_t) rnd() }));
}

/* ---- outcomes ---- */

static void count_outcome(const char *name) {
        for (size_t i = 0; i < F.n_outcomes; i++)
                if (streq(F.outcomes[i].name, name)) {
                        F.outcomes[i].count++;
                        return;
                }
        if (F.n_outcomes < ELEMENTSOF(F.outcomes)) {
                F.outcomes[F.n_outcomes].name = xstrdup(name);
                F.outcomes[F.n_outcomes++].count = 1;
        }
}

static int compare_outcomes(const void *a, const void *b) {
        const Outcome *x = a, *y = b;
        return x->count != y->count ? (x->count < y->count ? 1 : -1) : strcmp(x->name, y->name);
}

/* ---- the connection ---- */

/* The fuzzer's connection, as F.uid: the bus takes the identity of a connection from its socket's
 * credentials when it connects (SO_PEERCRED, the effective UID) and sd-bus authenticates with the
 * effective UID, so switching it around the connect is enough. */
static void bus_connect(void) {
        int r;

        F.bus = sd_bus_flush_close_unref(F.bus);
        if (F.uid != 0)
                cr_assert(setegid(F.gid) >= 0 && seteuid(F.uid) >= 0, "seteuid(%u): %m", (unsigned) F.uid);
        r = sd_bus_open_system(&F.bus);
        if (F.uid != 0)
                cr_assert(seteuid(0) >= 0 && setegid(0) >= 0, "seteuid(0): %m");
        cr_assert_geq(r, 0, "sd_bus_open_system: %s", strerror(-r));
}

static int new_call(sd_bus_message **ret, const char *path, const char *interface, const char *member) {
        return sd_bus_message_new_method_call(F.bus, ret, HARNESS_BUS_NAME, path, interface, member);
}

/* A call of root's, for the setup and the checks. */
static int new_root_call(sd_bus_message **ret, const char *member) {
        return sd_bus_message_new_method_call(F.root, ret, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH,
                                              HARNESS_INTERFACE, member);
}

/* The whole call on stderr, at most its first 4 KiB (a key_id may be 8 MiB long). */
static void dump_message(sd_bus_message *m) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return;
        (void) sd_bus_message_rewind(m, true);
        (void) sd_bus_message_dump(m, f, SD_BUS_MESSAGE_DUMP_WITH_HEADER);
        if (fclose(f) == 0)
                fprintf(stderr, "%.4096s%s\n", text, size > 4096 ? "..." : "");
}

/* Sends m and counts the outcome; the reply, when wanted and the call succeeded, goes to *ret_reply. */
static int send_call(sd_bus_message *m, sd_bus_message **ret_reply) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        F.sent++;
        r = sd_bus_call(F.bus, m, CALL_TIMEOUT_USEC, &e, &reply);
        if (F.verbose)
                fprintf(stderr, "bus-fuzz #%u: %s %s.%s(%.80s): %s\n", F.sent, sd_bus_message_get_path(m),
                        sd_bus_message_get_interface(m), sd_bus_message_get_member(m),
                        sd_bus_message_get_signature(m, true), r >= 0 ? "success" : e.name ?: strerror(-r));
        if (r >= 0)
                count_outcome("(success)");
        else if (sd_bus_error_is_set(&e)) {
                const char *n = e.name;
                if (strncmp(n, HMACD_ERROR_PREFIX, strlen(HMACD_ERROR_PREFIX)) == 0)
                        n += strlen(HMACD_ERROR_PREFIX);
                count_outcome(n);
                if (streq(e.name, SD_BUS_ERROR_NO_REPLY) || streq(e.name, SD_BUS_ERROR_TIMEOUT)) {
                        F.timeouts++;
                        fprintf(stderr, "bus-fuzz: call #%u %s.%s(%.80s) got no answer in %u s: %s\n", F.sent,
                                sd_bus_message_get_interface(m), sd_bus_message_get_member(m),
                                sd_bus_message_get_signature(m, true),
                                (unsigned) (CALL_TIMEOUT_USEC / HARNESS_USEC_PER_SEC), e.name);
                        dump_message(m);
                }
        } else {
                char buf[64];
                snprintf(buf, sizeof buf, "(local error %s)", strerrorname_np(-r) ?: "?");
                count_outcome(buf);
                if (r == -ETIMEDOUT)
                        F.timeouts++;
        }
        sd_bus_error_free(&e);

        /* The bus may drop a connection that sent something it refuses (a message over its size
         * limit): count it, and connect again. */
        if (!sd_bus_is_open(F.bus)) {
                F.disconnects++;
                bus_connect();
        }
        cr_assert_leq(F.timeouts, MAX_TIMEOUTS, "%u calls timed out: the daemon hangs", F.timeouts);

        if (r >= 0 && ret_reply)
                *ret_reply = reply;
        else
                sd_bus_message_unref(reply);
        return r;
}

/* Counts a message that sd-bus would not even build (invalid signature, too deep, invalid UTF-8). */
static void refused_locally(int r) {
        char buf[64];
        F.refused_locally++;
        snprintf(buf, sizeof buf, "(not built: %s)", strerrorname_np(-r) ?: "?");
        count_outcome(buf);
}

/* ---- random values of random types ---- */

static const char basic_types[] = "ybnqiuxtdsogh";

/* Appends a random complete type to sig (which has room for it: at most 8 * 2^depth bytes). */
static void random_type(char *sig, unsigned depth) {
        size_t n = strlen(sig);
        unsigned k = depth > 0 ? (unsigned) below(10) : 0;

        if (k <= 5) {
                sig[n] = basic_types[below(strlen(basic_types))];
                sig[n + 1] = 0;
        } else if (k == 6) {
                strcat(sig, "a");
                random_type(sig, depth - 1);
        } else if (k == 7) {
                n = strlen(sig);
                sig[n] = 'a';
                sig[n + 1] = '{';
                sig[n + 2] = "ysuxt"[below(5)];
                sig[n + 3] = 0;
                random_type(sig, depth - 1);
                strcat(sig, "}");
        } else if (k == 8) {
                size_t members = 1 + below(3);
                strcat(sig, "(");
                for (size_t i = 0; i < members; i++)
                        random_type(sig, depth - 1);
                strcat(sig, ")");
        } else
                strcat(sig, "v");
}

/* The length of the complete type at the start of sig. */
static size_t type_length(const char *sig) {
        size_t n, depth;

        switch (sig[0]) {
        case 'a':
                return 1 + type_length(sig + 1);
        case '(':
        case '{':
                for (n = 0, depth = 0;; n++) {
                        if (sig[n] == '(' || sig[n] == '{')
                                depth++;
                        else if (sig[n] == ')' || sig[n] == '}')
                                depth--;
                        if (depth == 0)
                                return n + 1;
                }
        default:
                return 1;
        }
}

static int append_basic_random(sd_bus_message *m, char type) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
        } v;
        _cleanup_free_ char *s = NULL;
        char sig[64] = "";
        int r;

        switch (type) {
        case 'b':
                v.b = (int) below(2);
                return sd_bus_message_append_basic(m, type, &v.b);
        case 's':
                s = chance(20) ? random_key_ref(F.allow_recorded) : random_utf8(30);
                return sd_bus_message_append_basic(m, type, s);
        case 'o':
                cr_assert(asprintf(&s, "/%s/x%u", chance(50) ? "io/hmacd/Kms1" : "a",
                                   (unsigned) below(100)) > 0);
                return sd_bus_message_append_basic(m, type, s);
        case 'g':
                random_type(sig, 2);
                return sd_bus_message_append_basic(m, type, sig);
        case 'h':
                return sd_bus_message_append_basic(m, type, &F.null_fd);
        case 'd':
                fill_random(&v.d, sizeof v.d);
                return sd_bus_message_append_basic(m, type, &v.d);
        default:
                fill_random(&v, sizeof v);
                r = sd_bus_message_append_basic(m, type, &v);
                return r;
        }
}

/* Appends a random value of the complete type at *sig, and moves *sig past it. */
static int append_random(sd_bus_message *m, const char **sig, unsigned depth) {
        size_t len = type_length(*sig);
        char contents[256];
        int r;

        switch (**sig) {
        case 'a': {
                size_t n = chance(10) ? 0 : below(5);

                if (len - 1 >= sizeof contents)
                        return -E2BIG;
                memcpy(contents, *sig + 1, len - 1);
                contents[len - 1] = 0;
                r = sd_bus_message_open_container(m, 'a', contents);
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        const char *c = contents;
                        if (contents[0] == '{') {
                                char entry[256];

                                memcpy(entry, contents + 1, strlen(contents) - 2);
                                entry[strlen(contents) - 2] = 0;
                                r = sd_bus_message_open_container(m, 'e', entry);
                                c = entry;
                                while (r >= 0 && *c)
                                        r = append_random(m, &c, depth + 1);
                                if (r >= 0)
                                        r = sd_bus_message_close_container(m);
                        } else
                                r = append_random(m, &c, depth + 1);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                break;
        }
        case '(': {
                const char *c;

                if (len - 2 >= sizeof contents)
                        return -E2BIG;
                memcpy(contents, *sig + 1, len - 2);
                contents[len - 2] = 0;
                r = sd_bus_message_open_container(m, 'r', contents);
                c = contents;
                while (r >= 0 && *c)
                        r = append_random(m, &c, depth + 1);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                break;
        }
        case 'v': {
                char inner[64] = "";
                const char *c = inner;

                random_type(inner, depth < 3 ? 2 : 0);
                r = sd_bus_message_open_container(m, 'v', inner);
                if (r >= 0)
                        r = append_random(m, &c, depth + 1);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                break;
        }
        default:
                r = append_basic_random(m, **sig);
        }
        *sig += len;
        return r;
}

/* A message to method with a random signature of 0..5 complete types. */
static bool is_read_only(const char *method);

static void call_random_signature(const char *path, const char *interface, const char *method) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char sig[256] = "";
        size_t n = below(6);
        const char *p;
        int r;

        F.allow_recorded = is_read_only(method);
        for (size_t i = 0; i < n && strlen(sig) < 200; i++)
                random_type(sig, 3);
        r = new_call(&m, path, interface, method);
        p = sig;
        while (r >= 0 && *p)
                r = append_random(m, &p, 0);
        if (r < 0)
                return refused_locally(r);
        (void) send_call(m, NULL);
}

/* ---- well-typed calls of the real methods ---- */

static const char *const mac_algorithms[] = { "HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384",
                                              "HMAC_SHA_512", "HMAC_SHA_1",   "",
                                              "hmac_sha_256", "HMAC_SHA_256 " };

static int append_bytes(sd_bus_message *m, size_t n) {
        _cleanup_free_ uint8_t *b = malloc(n ? n : 1);

        cr_assert_not_null(b);
        fill_random(b, n);
        return sd_bus_message_append_array(m, 'y', b, n);
}

static size_t random_message_size(void) {
        return PICK(((const size_t[]){ 0, 1, 2, 100, 4095, 4096, 4097, 65536, below(300), below(4097) }));
}

static char *random_description(void) {
        switch (below(6)) {
        case 0:
                return repeat("\xc3\xa9", KMS_DESCRIPTION_MAX);
        case 1:
                return repeat("\xc3\xa9", KMS_DESCRIPTION_MAX + 1);
        case 2:
                return repeat("d", KMS_DESCRIPTION_MAX + below(2));
        case 3:
                return xstrdup("");
        default:
                return random_utf8(60);
        }
}

static char *random_tag_key(void) {
        switch (below(8)) {
        case 0:
                return xstrdup(PICK(((const char *const[]){ "aws:x", "hmacd:x", "", "AWS:x", "aws" })));
        case 1:
                return repeat("\xf0\x9f\x98\x80", KMS_TAG_KEY_MAX + below(2));
        case 2:
                return repeat("k", KMS_TAG_KEY_MAX + below(2));
        default: {
                char *s;
                cr_assert(asprintf(&s, "fz-%u", (unsigned) below(60)) > 0);
                return s;
        }
        }
}

static char *random_tag_value(void) {
        switch (below(5)) {
        case 0:
                return repeat("\xe2\x82\xac", KMS_TAG_VALUE_MAX + below(2));
        case 1:
                return xstrdup("");
        default:
                return random_utf8(20);
        }
}

static int append_tags(sd_bus_message *m, size_t n) {
        int r = sd_bus_message_open_container(m, 'a', "{ss}");

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *k = random_tag_key(), *v = random_tag_value();
                r = sd_bus_message_append(m, "{ss}", k, v);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static size_t random_tag_count(void) {
        return PICK(((const size_t[]){ 0, 1, 2, 5, 50, 51, below(8) }));
}

/* Reads a string field of an a{sv} reply. */
static int metadata_string(sd_bus_message *reply, const char *field, char *ret, size_t size) {
        int r = sd_bus_message_enter_container(reply, 'a', "{sv}");

        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *value;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, field)) {
                        r = sd_bus_message_read(reply, "v", "s", &value);
                        if (r < 0)
                                break;
                        if (strlen(value) >= size)
                                return -ENOBUFS;
                        strcpy(ret, value);
                        return 0;
                }
                r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        return r < 0 ? r : -ENOENT;
}

static void fuzz_create_key(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *description = random_description();
        const char *spec = PICK(
                ((const char *const[]){ "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SYMMETRIC_DEFAULT",
                                        "RSA_2048", "", "hmac_256", "HMAC_1024" }));
        const char *usage =
                PICK(((const char *const[]){ "GENERATE_VERIFY_MAC", "GENERATE_VERIFY_MAC", "",
                                             "ENCRYPT_DECRYPT", "SIGN_VERIFY", "generate_verify_mac" }));
        const char *origin = NULL;
        char key_id[KEY_ID_LEN + 1], o[32];
        int r;

        /* Past the cap, no CreateKey may succeed. */
        if (F.n_created >= CREATE_CAP)
                usage = "GENERATE_VERIFY_MAC_NOT";

        r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "CreateKey");
        if (r >= 0)
                r = sd_bus_message_append(m, "sss", spec, usage, description);
        if (r >= 0)
                r = append_tags(m, random_tag_count());
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        switch (below(6)) {
        case 0:
                origin = "EXTERNAL";
                break;
        case 1:
                origin = "HMACD";
                break;
        case 2:
                if (r >= 0)
                        r = sd_bus_message_append(m, "{sv}", "Origin", "u", 1);
                break;
        case 3:
                if (r >= 0)
                        r = sd_bus_message_append(m, "{sv}", "Junk", "s", "x");
                break;
        case 4:
                origin = PICK(((const char *const[]){ "AWS_KMS", "", "external" }));
                break;
        }
        if (r >= 0 && origin)
                r = sd_bus_message_append(m, "{sv}", "Origin", "s", origin);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return refused_locally(r);

        if (send_call(m, &reply) < 0)
                return;
        cr_assert_lt(F.n_created, CREATE_CAP, "CreateKey(%s, %s) succeeded past the cap", spec, usage);
        cr_assert_eq(metadata_string(reply, "KeyId", key_id, sizeof key_id), 0);
        cr_assert(key_id_is_valid(key_id), "CreateKey returned KeyId '%s'", key_id);
        sd_bus_message_rewind(reply, true);
        cr_assert_eq(metadata_string(reply, "Origin", o, sizeof o), 0);
        strcpy(F.created[F.n_created], key_id);
        F.created_external[F.n_created++] = streq(o, "EXTERNAL");
}

static void remember_marker(sd_bus_message *reply, const char *items) {
        const char *next;
        int truncated;

        if (sd_bus_message_skip(reply, items) < 0 || sd_bus_message_read(reply, "sb", &next, &truncated) < 0)
                return;
        if (!*next)
                return;
        if (F.n_markers < ELEMENTSOF(F.markers))
                F.markers[F.n_markers++] = xstrdup(next);
        else {
                size_t i = below(ELEMENTSOF(F.markers));
                free(F.markers[i]);
                F.markers[i] = xstrdup(next);
        }
}

static void fuzz_get_parameters_for_import(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *key = NULL;
        const char *alg =
                PICK(((const char *const[]){ "RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5",
                                             "SM2PKE", "", "rsaes_oaep_sha_256" }));
        const char *spec = PICK(((const char *const[]){ "RSA_2048", "RSA_2048", "RSA_3072", "RSA_4096",
                                                        "SM2", "", "RSA_1024" }));
        bool real_params = !streq(spec, "SM2") && !streq(spec, "") && !streq(spec, "RSA_1024") &&
                           (streq(alg, "RSAES_OAEP_SHA_256") || streq(alg, "RSAES_OAEP_SHA_1"));
        const void *token;
        size_t token_size;
        int r;

        /* Each call with real parameters may make an RSA key pair, which takes a while (4096 bits: up
         * to seconds): a few of them, and RSA_4096 only once. */
        if (real_params &&
            (F.n_import_params >= IMPORT_PARAMS_CAP || (streq(spec, "RSA_4096") && F.n_rsa_4096 > 0)))
                spec = "RSA_1024";
        else if (real_params) {
                F.n_import_params++;
                F.n_rsa_4096 += streq(spec, "RSA_4096");
        }

        key = random_key_ref(false);
        r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "GetParametersForImport");
        if (r >= 0)
                r = sd_bus_message_append(m, "sss", key, alg, spec);
        if (r < 0)
                return refused_locally(r);
        if (send_call(m, &reply) < 0)
                return;
        if (sd_bus_message_read_array(reply, 'y', &token, &token_size) >= 0 &&
            token_size <= sizeof F.tokens[0]) {
                size_t i = F.n_tokens < ELEMENTSOF(F.tokens) ? F.n_tokens++ : below(ELEMENTSOF(F.tokens));
                memcpy(F.tokens[i], token, token_size);
                F.token_sizes[i] = token_size;
        }
}

static int append_token(sd_bus_message *m) {
        uint8_t t[256];

        switch (below(5)) {
        case 0:
        case 1:
                if (F.n_tokens > 0) {
                        size_t i = below(F.n_tokens), n = F.token_sizes[i];

                        memcpy(t, F.tokens[i], n);
                        if (chance(50) && n > 0)
                                t[below(n)] ^= (uint8_t) (1 + below(255));
                        return sd_bus_message_append_array(m, 'y', t, n);
                }
                return append_bytes(m, 93);
        case 2:
                return append_bytes(m, 93);
        default:
                return append_bytes(m, PICK(((const size_t[]){ 0, 1, 6144, 6145, 65536 })));
        }
}

static void fuzz_import_key_material(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *key = random_key_ref(false);
        const char *model = PICK(((const char *const[]){ "", "KEY_MATERIAL_EXPIRES",
                                                         "KEY_MATERIAL_DOES_NOT_EXPIRE", "NEVER" }));
        uint64_t now = (uint64_t) time(NULL) * HARNESS_USEC_PER_SEC;
        uint64_t valid_to = PICK(((const uint64_t[]){ 0, now + 86400 * HARNESS_USEC_PER_SEC,
                                                      now + UINT64_C(400) * 86400 * HARNESS_USEC_PER_SEC,
                                                      now - 1, UINT64_MAX, rnd() }));
        int r;

        r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "ImportKeyMaterial");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = append_token(m);
        if (r >= 0)
                r = append_bytes(m, PICK(((const size_t[]){ 0, 32, 256, 384, 512, 6145, below(600) })));
        if (r >= 0)
                r = sd_bus_message_append(m, "st", model, valid_to);
        if (r < 0)
                return refused_locally(r);
        (void) send_call(m, NULL);
}

static void fuzz_mac_call(const char *method) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *key = random_key_ref(true);
        int r;

        r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, method);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0 && streq(method, "GenerateMacBatch")) {
                size_t n = PICK(
                        ((const size_t[]){ 0, 1, 2, 64, KMS_BATCH_MAX, KMS_BATCH_MAX + 1, below(100) }));
                size_t size = n > 100 ? PICK(((const size_t[]){ 1, 16, 0 })) : random_message_size();

                r = sd_bus_message_open_container(m, 'a', "ay");
                for (size_t i = 0; r >= 0 && i < n; i++)
                        r = append_bytes(m, i == n - 1 && chance(20) ? 4097 : size);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        } else if (r >= 0)
                r = append_bytes(m, random_message_size());
        if (r >= 0)
                r = sd_bus_message_append(m, "s", PICK(mac_algorithms));
        if (r >= 0 && streq(method, "VerifyMac"))
                r = append_bytes(m, PICK(((const size_t[]){ 0, 1, 28, 32, 48, 64, 65, KMS_MAC_MAX,
                                                            KMS_MAC_MAX + 1 })));
        if (r < 0)
                return refused_locally(r);
        (void) send_call(m, NULL);
}

static void fuzz_list_call(const char *method) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *key = NULL, *marker = random_marker();
        int r;

        r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, method);
        if (!streq(method, "ListKeys")) {
                key = streq(method, "ListAliases") && chance(30) ? xstrdup("") : random_key_ref(true);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", key);
        }
        if (r >= 0)
                r = sd_bus_message_append(m, "us", random_limit(), marker);
        if (r < 0)
                return refused_locally(r);
        if (send_call(m, &reply) < 0)
                return;
        remember_marker(reply, streq(method, "ListAliases") ? "a(ssstt)" : "a(ss)");
}

/* Calls of the methods that change state: only with the fuzzer's own keys, junk and fresh aliases. */
static void fuzz_manage_call(const char *method) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL;
        int r;

        r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, method);
        if (r < 0)
                return refused_locally(r);

        if (streq(method, "CreateAlias") || streq(method, "UpdateAlias") || streq(method, "DeleteAlias")) {
                do {
                        free(a);
                        a = random_alias_name();
                } while (names_recorded(a));
                r = sd_bus_message_append(m, "s", a);
                if (r >= 0 && !streq(method, "DeleteAlias")) {
                        b = random_key_ref(false);
                        r = sd_bus_message_append(m, "s", b);
                }
        } else {
                a = random_key_ref(false);
                r = sd_bus_message_append(m, "s", a);
                if (r >= 0 && streq(method, "ScheduleKeyDeletion"))
                        r = sd_bus_message_append(m, "u",
                                                  PICK(((const uint32_t[]){ 0, 6, 7, 30, 31, UINT32_MAX })));
                else if (r >= 0 && streq(method, "UpdateKeyDescription")) {
                        b = random_description();
                        r = sd_bus_message_append(m, "s", b);
                } else if (r >= 0 && streq(method, "TagResource"))
                        r = append_tags(m, random_tag_count());
                else if (r >= 0 && streq(method, "UntagResource")) {
                        size_t n = random_tag_count();

                        r = sd_bus_message_open_container(m, 'a', "s");
                        for (size_t i = 0; r >= 0 && i < n; i++) {
                                _cleanup_free_ char *k = random_tag_key();
                                r = sd_bus_message_append(m, "s", k);
                        }
                        if (r >= 0)
                                r = sd_bus_message_close_container(m);
                }
        }
        if (r < 0)
                return refused_locally(r);
        (void) send_call(m, NULL);
}

static void fuzz_standard_interfaces(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const char *property =
                PICK(((const char *const[]){ "Version", "Backend", "MaxMessageSize", "Junk", "" }));
        int r;

        switch (below(6)) {
        case 0:
                r = new_call(&m, HARNESS_OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", chance(80) ? HARNESS_INTERFACE : "io.hmacd.Junk",
                                                  property);
                break;
        case 1:
                r = new_call(&m, HARNESS_OBJECT_PATH, "org.freedesktop.DBus.Properties", "GetAll");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", chance(80) ? HARNESS_INTERFACE : "");
                break;
        case 2:
                r = new_call(&m, HARNESS_OBJECT_PATH, "org.freedesktop.DBus.Properties", "Set");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ssv", HARNESS_INTERFACE, property, "s", "1.0");
                break;
        case 3:
                r = new_call(&m,
                             PICK(((const char *const[]){ "/", "/io", "/io/hmacd", HARNESS_OBJECT_PATH })),
                             "org.freedesktop.DBus.Introspectable", "Introspect");
                break;
        case 4:
                r = new_call(&m, HARNESS_OBJECT_PATH, "org.freedesktop.DBus.Peer",
                             chance(50) ? "Ping" : "GetMachineId");
                break;
        default:
                return call_random_signature(HARNESS_OBJECT_PATH, "org.freedesktop.DBus.Properties",
                                             PICK(((const char *const[]){ "Get", "GetAll", "Set" })));
        }
        if (r < 0)
                return refused_locally(r);
        (void) send_call(m, NULL);
}

static const char *const methods[] = {
        "CreateKey",
        "GenerateMac",
        "VerifyMac",
        "GenerateMacBatch",
        "DescribeKey",
        "ListKeys",
        "EnableKey",
        "DisableKey",
        "ScheduleKeyDeletion",
        "CancelKeyDeletion",
        "UpdateKeyDescription",
        "CreateAlias",
        "UpdateAlias",
        "DeleteAlias",
        "ListAliases",
        "TagResource",
        "UntagResource",
        "ListResourceTags",
        "GetParametersForImport",
        "ImportKeyMaterial",
        "DeleteImportedKeyMaterial",
};

/* Methods that take nothing but client data and change nothing: these may see the recorded keys. */
static bool is_read_only(const char *method) {
        return streq(method, "GenerateMac") || streq(method, "VerifyMac") ||
               streq(method, "GenerateMacBatch") || streq(method, "DescribeKey") ||
               streq(method, "ListKeys") || streq(method, "ListAliases") ||
               streq(method, "ListResourceTags");
}

static void fuzz_well_typed(void) {
        const char *method = PICK(methods);

        if (streq(method, "CreateKey"))
                fuzz_create_key();
        else if (streq(method, "GenerateMac") || streq(method, "VerifyMac") ||
                 streq(method, "GenerateMacBatch"))
                fuzz_mac_call(method);
        else if (streq(method, "DescribeKey")) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *key = random_key_ref(true);
                int r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, method);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", key);
                if (r < 0)
                        return refused_locally(r);
                (void) send_call(m, NULL);
        } else if (streq(method, "ListKeys") || streq(method, "ListAliases") ||
                   streq(method, "ListResourceTags"))
                fuzz_list_call(method);
        else if (streq(method, "GetParametersForImport"))
                fuzz_get_parameters_for_import();
        else if (streq(method, "ImportKeyMaterial"))
                fuzz_import_key_material();
        else
                fuzz_manage_call(method);
}

/* A real method with a random signature: mostly refused by sd-bus's signature check in the daemon;
 * where the signature happens to be right, the strings in it name a recorded key only if the method
 * is read-only (see allow_recorded). */
static void fuzz_wrong_signature(void) {
        call_random_signature(HARNESS_OBJECT_PATH, HARNESS_INTERFACE, PICK(methods));
}

static void fuzz_junk_names(void) {
        char member[256], interface[64];
        const char *path =
                PICK(((const char *const[]){ HARNESS_OBJECT_PATH, HARNESS_OBJECT_PATH, "/", "/io/hmacd",
                                             "/io/hmacd/Kms1/x", "/io/hmacd/Kms2" }));
        size_t n;

        switch (below(3)) {
        case 0: {
                /* A real name, changed. */
                const char *base = PICK(methods);
                snprintf(member, sizeof member, "%s", base);
                n = strlen(member);
                member[below(n)] = "abcXYZ_019"[below(10)];
                break;
        }
        case 1:
                n = 1 + below(chance(10) ? 255 : 30);
                for (size_t i = 0; i < n; i++)
                        member[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789"[below(
                                i == 0 ? 53 : 63)];
                member[n] = 0;
                break;
        default:
                snprintf(member, sizeof member, "%s", PICK(methods));
        }
        /* Other interfaces are refused by the bus policy (AccessDenied) before they reach the daemon. */
        snprintf(interface, sizeof interface, "%s",
                 chance(75) ? HARNESS_INTERFACE
                            : PICK(((const char *const[]){ "io.hmacd.Kms2", "io.hmacd", "org.example.Junk",
                                                           "io.hmacd.Kms1.Error" })));
        call_random_signature(path, interface, member);
}

/* Sizes at and past the limits of hmacd, sd-bus and the bus. */
static void fuzz_extreme(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *big = NULL;
        int r;

        switch (below(7)) {
        case 0: /* GenerateMac with a message of 64 KiB */
                r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "GenerateMac");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", F.recorded[below(N_RECORDED)].key_id);
                if (r >= 0)
                        r = append_bytes(m, 65536);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "HMAC_SHA_256");
                break;
        case 1: /* a key_id of 1 MiB, or (rarely) 8 MiB */
                big = repeat("k", chance(90) ? (1u << 20) : (8u << 20));
                r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "DescribeKey");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", big);
                break;
        case 2: { /* 10,000 tags for a fuzzer key or junk */
                _cleanup_free_ char *key = random_key_ref(false);
                r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "TagResource");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", key);
                if (r >= 0)
                        r = append_tags(m, 10000);
                break;
        }
        case 3: { /* 100,000 tag keys */
                _cleanup_free_ char *key = random_key_ref(false);
                r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "UntagResource");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", key);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "s");
                for (size_t i = 0; r >= 0 && i < 100000; i++)
                        r = sd_bus_message_append(m, "s", "k");
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                break;
        }
        case 4: { /* arrays nested 32 deep (the D-Bus limit), or 33 (refused by sd-bus itself) */
                size_t depth = chance(50) ? 32 : 33;
                char sig[64];

                memset(sig, 'a', depth);
                strcpy(sig + depth, "y");
                r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, PICK(methods));
                for (size_t i = 0; r >= 0 && i < depth; i++)
                        r = sd_bus_message_open_container(m, 'a', sig + i + 1);
                if (r >= 0)
                        r = sd_bus_message_append(m, "y", 1);
                for (size_t i = 0; r >= 0 && i < depth; i++)
                        r = sd_bus_message_close_container(m);
                break;
        }
        case 5: { /* variants in variants, up to 64 */
                size_t depth = PICK(((const size_t[]){ 16, 32, 63, 64, 65 }));

                r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "CreateKey");
                for (size_t i = 0; r >= 0 && i < depth; i++)
                        r = sd_bus_message_open_container(m, 'v', i + 1 < depth ? "v" : "s");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "HMAC_256");
                for (size_t i = 0; r >= 0 && i < depth; i++)
                        r = sd_bus_message_close_container(m);
                break;
        }
        default: { /* structs nested 32 deep in CreateKey's options */
                r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, "CreateKey");
                if (r >= 0)
                        r = sd_bus_message_append(m, "sssa{ss}", "HMAC_256", "GENERATE_VERIFY_MAC", "", 0);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "Origin");
                if (r >= 0) {
                        char sig[80] = "";
                        for (size_t i = 0; i < 31; i++)
                                strcat(sig, "(");
                        strcat(sig, "s");
                        for (size_t i = 0; i < 31; i++)
                                strcat(sig, ")");
                        r = sd_bus_message_open_container(m, 'v', sig);
                        for (size_t i = 0; r >= 0 && i < 31; i++) {
                                sig[strlen(sig) - 1] = 0;
                                r = sd_bus_message_open_container(m, 'r', sig + i + 1);
                        }
                }
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "EXTERNAL");
                for (size_t i = 0; r >= 0 && i < 34; i++)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        }
        if (r < 0)
                return refused_locally(r);
        (void) send_call(m, NULL);
}

/* A read-only call that wants no reply: the daemon must not choke on sending nothing back. */
static void fuzz_no_reply(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *key = random_key_ref(false);
        int r;

        r = new_call(&m, HARNESS_OBJECT_PATH, HARNESS_INTERFACE, chance(50) ? "DescribeKey" : "DisableKey");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_set_expect_reply(m, false);
        if (r >= 0)
                r = sd_bus_send(F.bus, m, NULL);
        if (r < 0)
                return refused_locally(r);
        F.no_reply++;
        F.sent++;
}

/* ---- setup and the checks afterwards ---- */

static int call(const char *method, sd_bus_error *e, sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = new_root_call(&m, method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call(F.root, m, 0, e, ret_reply);
        return r;
}

#define CHECKED_CALL(method, reply, types, ...)                                                             \
        do {                                                                                                \
                sd_bus_error _e = SD_BUS_ERROR_NULL;                                                        \
                int _r = call(method, &_e, reply, types, __VA_ARGS__);                                      \
                cr_assert_geq(_r, 0, "%s: %s: %s", method, _e.name, _e.message);                            \
                sd_bus_error_free(&_e);                                                                     \
        } while (0)

/* GenerateMac, or with mac VerifyMac, of RECORDED_MESSAGE. */
static int mac_call(const Recorded *k, const char *ref, const uint8_t *mac, sd_bus_error *e,
                    sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_root_call(&m, mac ? "VerifyMac" : "GenerateMac");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", ref);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', RECORDED_MESSAGE, strlen(RECORDED_MESSAGE));
        if (r >= 0)
                r = sd_bus_message_append(m, "s", k->algorithm);
        if (r >= 0 && mac)
                r = sd_bus_message_append_array(m, 'y', mac, k->mac_size);
        if (r >= 0)
                r = sd_bus_call(F.root, m, 0, e, ret_reply);
        return r;
}

static size_t mac_of(const Recorded *k, const char *ref, uint8_t mac[static KMS_MAC_SIZE_MAX]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const void *p;
        size_t n;
        int r;

        r = mac_call(k, ref, NULL, &e, &reply);
        cr_assert_geq(r, 0, "GenerateMac with recorded key %s through %s: %s: %s", k->key_id, ref, e.name,
                      e.message);
        sd_bus_error_free(&e);
        cr_assert_geq(sd_bus_message_read_array(reply, 'y', &p, &n), 0);
        cr_assert_leq(n, KMS_MAC_SIZE_MAX);
        memcpy(mac, p, n);
        return n;
}

/* Mid-run: a recorded key, through one of its four names, still gives its MAC. */
static void check_recorded_mac(void) {
        const Recorded *k = &F.recorded[below(N_RECORDED)];
        const char *refs[] = { k->key_id, k->arn, k->alias[0], k->alias[1] };
        uint8_t mac[KMS_MAC_SIZE_MAX];

        F.sent++;
        cr_assert_eq(mac_of(k, PICK(refs), mac), k->mac_size);
        cr_assert(memcmp(mac, k->mac, k->mac_size) == 0, "the MAC of recorded key %s changed after %u calls",
                  k->key_id, F.sent);
        count_outcome("(success)");
}

static void record_keys(void) {
        static const char *const specs[N_RECORDED][2] = {
                { "HMAC_224", "HMAC_SHA_224" },
                { "HMAC_256", "HMAC_SHA_256" },
                { "HMAC_384", "HMAC_SHA_384" },
                { "HMAC_512", "HMAC_SHA_512" },
        };

        for (size_t i = 0; i < N_RECORDED; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                Recorded *k = &F.recorded[i];
                char idx[8];

                k->spec = specs[i][0];
                k->algorithm = specs[i][1];
                snprintf(idx, sizeof idx, "%zu", i);
                CHECKED_CALL("CreateKey", &reply, "sssa{ss}a{sv}", k->spec, "GENERATE_VERIFY_MAC",
                             "recorded by bus-fuzz", 2, "purpose", "bus-fuzz", "index", idx, 0);
                cr_assert_eq(metadata_string(reply, "KeyId", k->key_id, sizeof k->key_id), 0);
                cr_assert_eq(key_arn_format(k->arn, sizeof k->arn, F.machine_id, k->key_id), 0);
                for (size_t a = 0; a < 2; a++) {
                        snprintf(k->alias[a], sizeof k->alias[a], "alias/keep-%zu-%c", i, (char) ('a' + a));
                        CHECKED_CALL("CreateAlias", NULL, "ss", k->alias[a], k->key_id);
                }
                k->mac_size = mac_of(k, k->key_id, k->mac);
                cr_assert_eq(k->mac_size, key_spec_mac_size(key_spec_from_string(k->spec)));
        }
}

/* What the daemon sets up only on first use, before its file descriptors are counted: the first
 * ScheduleKeyDeletion adds its CLOCK_REALTIME timer (a timerfd); and a first call from the fuzzer's
 * own connection (for a normal user, a first polkit check). The key is one of the fuzzer's. */
static void warm_up(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char *id = F.created[F.n_created];

        CHECKED_CALL("CreateKey", &reply, "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC", "warm-up", 0,
                     0);
        cr_assert_eq(metadata_string(reply, "KeyId", id, KEY_ID_LEN + 1), 0);
        F.n_created++;
        CHECKED_CALL("ScheduleKeyDeletion", NULL, "su", id, 7);
        fuzz_manage_call("DisableKey");
}

static void check_recorded_key(const Recorded *k) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *aliases = NULL, *tags = NULL;
        uint8_t mac[KMS_MAC_SIZE_MAX];
        char state[32];
        const char *refs[] = { k->key_id, k->arn, k->alias[0], k->alias[1] };
        const char *name, *arn, *target, *key, *value;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint64_t created, updated;
        size_t n = 0;
        int r;

        CHECKED_CALL("DescribeKey", &reply, "s", k->key_id);
        cr_assert_eq(metadata_string(reply, "KeyState", state, sizeof state), 0);
        cr_assert_str_eq(state, "Enabled", "recorded key %s is %s", k->key_id, state);

        for (size_t i = 0; i < ELEMENTSOF(refs); i++) {
                cr_assert_eq(mac_of(k, refs[i], mac), k->mac_size);
                cr_assert(memcmp(mac, k->mac, k->mac_size) == 0,
                          "the MAC of recorded key %s through %s changed", k->key_id, refs[i]);
        }
        r = mac_call(k, k->key_id, k->mac, &e, NULL);
        cr_assert_geq(r, 0, "VerifyMac with recorded key %s: %s: %s", k->key_id, e.name, e.message);
        sd_bus_error_free(&e);

        CHECKED_CALL("ListAliases", &aliases, "sus", k->key_id, 100, "");
        cr_assert_geq(sd_bus_message_enter_container(aliases, 'a', "(ssstt)"), 0);
        while ((r = sd_bus_message_read(aliases, "(ssstt)", &name, &arn, &target, &created, &updated)) > 0) {
                cr_assert(n < 2 && streq(name, k->alias[n]), "recorded key %s has alias %s", k->key_id,
                          name);
                cr_assert_str_eq(target, k->key_id);
                n++;
        }
        cr_assert_geq(r, 0);
        cr_assert_eq(n, 2, "recorded key %s has %zu aliases", k->key_id, n);

        n = 0;
        CHECKED_CALL("ListResourceTags", &tags, "sus", k->key_id, 50, "");
        cr_assert_geq(sd_bus_message_enter_container(tags, 'a', "(ss)"), 0);
        while ((r = sd_bus_message_read(tags, "(ss)", &key, &value)) > 0) {
                /* Ordered by key: "index", then "purpose". */
                if (n == 0)
                        cr_assert(streq(key, "index") &&
                                          strtoul(value, NULL, 10) == (size_t) (k - F.recorded),
                                  "recorded key %s has tag %s=%s", k->key_id, key, value);
                else
                        cr_assert(n == 1 && streq(key, "purpose") && streq(value, "bus-fuzz"),
                                  "recorded key %s has tag %s=%s", k->key_id, key, value);
                n++;
        }
        cr_assert_geq(r, 0);
        cr_assert_eq(n, 2, "recorded key %s has %zu tags", k->key_id, n);
}

/* Every key in ListKeys, over all pages. */
static size_t list_all_keys(char ***ret) {
        _cleanup_free_ char *marker = xstrdup("");
        char **ids = NULL;
        size_t n = 0;
        int truncated = 1;

        while (truncated) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *id, *arn, *next;
                int r;

                CHECKED_CALL("ListKeys", &reply, "us", 1000, marker);
                cr_assert_geq(sd_bus_message_enter_container(reply, 'a', "(ss)"), 0);
                while ((r = sd_bus_message_read(reply, "(ss)", &id, &arn)) > 0) {
                        ids = realloc(ids, (n + 1) * sizeof *ids);
                        cr_assert_not_null(ids);
                        ids[n++] = xstrdup(id);
                }
                cr_assert_geq(r, 0);
                cr_assert_geq(sd_bus_message_exit_container(reply), 0);
                cr_assert_geq(sd_bus_message_read(reply, "sb", &next, &truncated), 0);
                free(marker);
                marker = xstrdup(next);
        }
        *ret = ids;
        return n;
}

static bool listed(char **ids, size_t n, const char *id) {
        for (size_t i = 0; i < n; i++)
                if (streq(ids[i], id))
                        return true;
        return false;
}

/* The daemon's open file descriptors, and what they are ("3:socket:[123] 4:/var/..."), into list. */
static size_t daemon_fds(char *list, size_t size) {
        char path[64];
        struct dirent *de;
        size_t n = 0, len = 0;
        DIR *d;

        snprintf(path, sizeof path, "/proc/%d/fd", (int) harness_daemon_pid());
        d = opendir(path);
        cr_assert_not_null(d, "%s: %m", path);
        *list = 0;
        while ((de = readdir(d))) {
                char link[PATH_MAX + 80], target[PATH_MAX] = "?";
                ssize_t k;

                if (de->d_name[0] == '.')
                        continue;
                n++;
                snprintf(link, sizeof link, "%s/%s", path, de->d_name);
                k = readlink(link, target, sizeof target - 1);
                target[k > 0 ? k : 1] = 0;
                if (len < size)
                        len += (size_t) snprintf(list + len, size - len, " %s:%s", de->d_name, target);
        }
        closedir(d);
        return n;
}

/* The whole run, with the fuzzer's calls made as user (NULL: root); default_calls unless
 * HMACD_BUS_FUZZ_CALLS says otherwise. */
static void fuzz_run(const char *user, unsigned default_calls) {
        const char *seed_env = getenv("HMACD_BUS_FUZZ_SEED"), *calls_env = getenv("HMACD_BUS_FUZZ_CALLS");
        uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : DEFAULT_SEED;
        unsigned calls = calls_env ? (unsigned) strtoul(calls_env, NULL, 0) : default_calls;
        struct timespec start, end;
        size_t fds_before, fds_after, n_keys;
        char **ids = NULL, summary[4096], fds_list_before[2048], fds_list_after[2048];
        double seconds;
        int len;

        F.rng = seed;
        F.verbose = getenv("HMACD_BUS_FUZZ_VERBOSE") != NULL;
        F.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        cr_assert_geq(F.null_fd, 0);
        machine_id_read(NULL, F.machine_id);
        if (user)
                cr_assert_geq(harness_lookup_user(user, &F.uid, &F.gid), 0, "no user %s", user);
        cr_assert_geq(sd_bus_open_system(&F.root), 0);
        bus_connect();

        record_keys();
        warm_up();
        fds_before = daemon_fds(fds_list_before, sizeof fds_list_before);
        cr_log_info("bus-fuzz: seed %" PRIu64 " (HMACD_BUS_FUZZ_SEED), %u calls (HMACD_BUS_FUZZ_CALLS) as %s",
                    seed, calls, user ?: "root");

        clock_gettime(CLOCK_MONOTONIC, &start);
        while (F.sent < calls) {
                unsigned k = (unsigned) below(100);

                if (k < 55)
                        fuzz_well_typed();
                else if (k < 73)
                        fuzz_wrong_signature();
                else if (k < 83)
                        fuzz_junk_names();
                else if (k < 88)
                        fuzz_standard_interfaces();
                else if (k < 92)
                        fuzz_extreme();
                else if (k < 95)
                        fuzz_no_reply();
                else
                        check_recorded_mac();

                if (F.sent % 500 == 0)
                        cr_assert(harness_daemon_running(), "hmacd died after %u calls (seed %" PRIu64 ")",
                                  F.sent, seed);
        }
        clock_gettime(CLOCK_MONOTONIC, &end);
        seconds = (double) (end.tv_sec - start.tv_sec) + (double) (end.tv_nsec - start.tv_nsec) / 1e9;

        /* Still there, still answering, nothing lost. */
        cr_assert(harness_daemon_running(), "hmacd died (seed %" PRIu64 ")", seed);
        CHECKED_CALL("DescribeKey", NULL, "s", F.recorded[0].key_id);
        for (size_t i = 0; i < N_RECORDED; i++)
                check_recorded_key(&F.recorded[i]);

        n_keys = list_all_keys(&ids);
        for (size_t i = 0; i < N_RECORDED; i++)
                cr_assert(listed(ids, n_keys, F.recorded[i].key_id), "recorded key %s is not listed",
                          F.recorded[i].key_id);
        for (size_t i = 0; i < F.n_created; i++)
                cr_assert(listed(ids, n_keys, F.created[i]), "fuzzer key %s is not listed", F.created[i]);
        cr_assert_eq(n_keys, N_RECORDED + F.n_created,
                     "ListKeys lists %zu keys, expected %u recorded + %u created", n_keys, N_RECORDED,
                     F.n_created);

        fds_after = daemon_fds(fds_list_after, sizeof fds_list_after);
        cr_assert_eq(fds_after, fds_before,
                     "the daemon had %zu open file descriptors before (%s) and %zu after (%s)", fds_before,
                     fds_list_before, fds_after, fds_list_after);

        /* The summary: outcomes by error name, most frequent first. */
        qsort(F.outcomes, F.n_outcomes, sizeof F.outcomes[0], compare_outcomes);
        len = snprintf(summary, sizeof summary,
                       "bus-fuzz as %s: %u calls in %.1f s (seed %" PRIu64 "): %u without reply, %u not built "
                       "by sd-bus, %u disconnects by the bus, %u timeouts; %u keys created by the fuzzer, %u "
                       "GetParametersForImport with real parameters; daemon fds %zu before and after; outcomes:",
                       user ?: "root", F.sent, seconds, seed, F.no_reply, F.refused_locally, F.disconnects,
                       F.timeouts, F.n_created, F.n_import_params, fds_before);
        for (size_t i = 0; i < F.n_outcomes && len > 0 && (size_t) len < sizeof summary; i++)
                len += snprintf(summary + len, sizeof summary - (size_t) len, " %s %u%s", F.outcomes[i].name,
                                F.outcomes[i].count, i + 1 < F.n_outcomes ? "," : "");
        cr_log_info("%s", summary);
        fprintf(stderr, "%s\n", summary);

        for (size_t i = 0; i < n_keys; i++)
                free(ids[i]);
        free(ids);
        for (size_t i = 0; i < F.n_outcomes; i++)
                free(F.outcomes[i].name);
        for (size_t i = 0; i < F.n_markers; i++)
                free(F.markers[i]);
        F.bus = sd_bus_flush_close_unref(F.bus);
        F.root = sd_bus_flush_close_unref(F.root);
}

/* As root, which hmacd lets do anything without asking polkit: every call reaches its handler. */
TestSuite(bus_fuzz, .init = harness_setup_daemon, .fini = harness_teardown, .timeout = 240);

Test(bus_fuzz, random_calls_leave_the_daemon_and_its_keys_intact) {
        fuzz_run(NULL, DEFAULT_CALLS);
}

/* As a normal user, with a real polkitd: each call that passes validation waits for polkit's
 * answer (no, for a user without a session and keys of root's), and the daemon dispatches the
 * message again when it comes. */
static pid_t polkitd_pid;

static void setup_polkit(void) {
        char *argv[] = { (char *) "/usr/lib/polkit-1/polkitd", (char *) "--no-debug", NULL };
        char log[4096];

        harness_require_environment();
        if (access(argv[0], X_OK) < 0)
                cr_skip_test("polkitd is not installed");
        harness_check(harness_bus_start(), "start the bus");
        snprintf(log, sizeof log, "%s/polkitd.log", harness_tmp_dir());
        harness_check(harness_spawn("polkitd", NULL, argv, log, &polkitd_pid), "start polkitd");
        harness_check(harness_wait_for_name("org.freedesktop.PolicyKit1", polkitd_pid,
                                            HARNESS_START_TIMEOUT_USEC, NULL),
                      "wait for polkitd");
        harness_check(harness_daemon_start(), "start hmacd");
}

TestSuite(bus_fuzz_polkit, .init = setup_polkit, .fini = harness_teardown, .timeout = 240);

Test(bus_fuzz_polkit, random_calls_of_a_user_leave_the_daemon_and_its_keys_intact) {
        fuzz_run(HARNESS_TEST_USER, DEFAULT_USER_CALLS);
}
