/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Crash consistency: a client streams CreateKey (HMACD and EXTERNAL), ImportKeyMaterial,
 * DeleteImportedKeyMaterial, RotateKeyOnDemand, alias, tag, description, state and deletion calls while a killer thread
 * SIGKILLs the daemon after a random 0-30 ms; the daemon is restarted and checked, hundreds of times.
 *
 * The test keeps a model of what the daemon must hold. An answered call is applied to the model; the
 * one call whose answer the kill swallowed is "unknown": after the restart the daemon must hold either
 * the model or the model with that call applied whole (a TagResource of four tags: all four or none;
 * a CreateKey: the key with all its tags, or no key). Between the kill and the restart a copy of the
 * store is opened with SQLite and checked for anything half-made (aliases and tags of missing keys,
 * material and states that do not fit together, a key with no current material or two). After the
 * restart every key with material gives the MAC it gave before (imported keys: the MAC of the material
 * the test chose); a rotated key gives another one, and the MAC of the material it rotated away from
 * still verifies; its CurrentKeyMaterialId is the old or the new one, never something else. Deletion windows run with
 * --test-only-seconds-per-day=1, so keys are also destroyed at the end of their window while kills
 * fall.
 *
 * A second test kills the daemon during its very first start (empty state directory) and then
 * expects it to start: a crash there must not leave a store that the daemon refuses for good.
 *
 * HMACD_CRASH_SEED=N replays a run. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "key-specs.h"
#include "macro.h"

#define KEYS_MAX 1024
#define TAG_NAMES 6
#define ALIASES 40
#define LIVE_KEYS_HIGH 60
/* ASan makes every start several times slower (make check-asan): fewer kills fit in the time. */
#ifdef __SANITIZE_ADDRESS__
#define KILLS_TARGET 120
#define KILLS_MIN 60
#else
#define KILLS_TARGET 250
#define KILLS_MIN 150
#endif
#define KILL_DELAY_MAX_USEC 30000
/* The kills matter, not the time: the run stops at KILLS_TARGET, and this cap (below the suite's
 * timeout) only bounds it on a machine so loaded that a restart takes seconds; KILLS_MIN kills must
 * have fitted by then (at 1.5 restarts a second, seen with both cores busy, 250 kills take 170 s). */
#define RUN_USEC_MAX (240 * HARNESS_USEC_PER_SEC)
#define FIRST_START_KILLS 40

static const char probe[] = "crash-consistency probe";

/* ---- the model ---- */

typedef struct KeyModel {
        char id[37];            /* "": made by a CreateKey whose answer was lost (a candidate only) */
        unsigned spec;
        bool external;
        bool gone;              /* destroyed at the end of its deletion window */
        bool has_material;
        bool date_unknown;      /* PendingDeletion by a ScheduleKeyDeletion whose answer was lost */
        bool mac_known;
        bool mac_checked;
        char state[20];
        uint64_t deletion_date;
        unsigned description;
        uint8_t material[128];  /* EXTERNAL: what the test imports */
        size_t material_size;
        uint8_t mac[64];        /* HMACD: the MAC of probe, once seen */
        bool old_mac_known;
        uint8_t old_mac[64];    /* the MAC of probe with a material rotated away from: still verifies */
        char material_id[65];   /* CurrentKeyMaterialId; "": not known to the model */
        unsigned rotations;
        bool tag_set[TAG_NAMES];
        char tag_value[TAG_NAMES][12];
} KeyModel;

typedef struct Model {
        KeyModel keys[KEYS_MAX];
        size_t n_keys;
        int alias_key[ALIASES]; /* index into keys; -1: no such alias */
} Model;

typedef enum OpType {
        OP_CREATE,
        OP_IMPORT,
        OP_DELETE_MATERIAL,
        OP_CREATE_ALIAS,
        OP_UPDATE_ALIAS,
        OP_DELETE_ALIAS,
        OP_TAG,
        OP_UNTAG,
        OP_SCHEDULE,
        OP_CANCEL,
        OP_ENABLE,
        OP_DISABLE,
        OP_DESCRIBE,
        OP_MAC,
        OP_ROTATE,
        _OP_MAX,
} OpType;

static const char *const op_names[_OP_MAX] = {
        [OP_CREATE] = "CreateKey",
        [OP_IMPORT] = "ImportKeyMaterial",
        [OP_DELETE_MATERIAL] = "DeleteImportedKeyMaterial",
        [OP_CREATE_ALIAS] = "CreateAlias",
        [OP_UPDATE_ALIAS] = "UpdateAlias",
        [OP_DELETE_ALIAS] = "DeleteAlias",
        [OP_TAG] = "TagResource",
        [OP_UNTAG] = "UntagResource",
        [OP_SCHEDULE] = "ScheduleKeyDeletion",
        [OP_CANCEL] = "CancelKeyDeletion",
        [OP_ENABLE] = "EnableKey",
        [OP_DISABLE] = "DisableKey",
        [OP_DESCRIBE] = "UpdateKeyDescription",
        [OP_MAC] = "GenerateMac",
        [OP_ROTATE] = "RotateKeyOnDemand",
};

typedef struct Op {
        OpType type;
        size_t key;
        int alias;
        unsigned spec;
        bool external;
        unsigned description;
        uint8_t material[128];
        size_t material_size;
        size_t n_tags;
        unsigned tag[TAG_NAMES];
        char value[TAG_NAMES][12];
        unsigned days;
        char new_material_id[65];       /* RotateKeyOnDemand's answer, and CreateKey's */
        /* from the answer */
        char new_id[37];
        uint64_t deletion_date;
} Op;

/* Import parameters fetched from the running daemon (a restart invalidates them). */
typedef struct Token {
        size_t key;
        uint8_t token[512];
        size_t token_size;
        EVP_PKEY *pub;
        bool used;
} Token;

typedef struct Stats {
        unsigned kills, restarts, calls, answered_changes, unknown_applied, unknown_not_applied, keys_created,
                keys_destroyed, imports, rotations, mac_checks, keys_mac_checked, store_checks, kills_in_first_start;
} Stats;

static Model model, candidate, observed;
static Token tokens[2];
static size_t n_tokens;
static Stats stats;
static sd_bus *bus;
static uint64_t rng_state;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static uint64_t mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static uint64_t rnd(void) {
        /* xorshift64*: reproducible from the printed seed. */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * UINT64_C(2685821657736338717);
}

static unsigned rnd_below(unsigned n) {
        return n ? (unsigned) (rnd() % n) : 0;
}

static void seed_rng(void) {
        const char *s = getenv("HMACD_CRASH_SEED");
        if (s)
                rng_state = strtoull(s, NULL, 0);
        else
                cr_assert(getrandom(&rng_state, sizeof rng_state, 0) == sizeof rng_state);
        if (rng_state == 0)
                rng_state = 1;
        fprintf(stderr, "test-crash: seed %" PRIu64 " (HMACD_CRASH_SEED=%" PRIu64 " replays it)\n", rng_state,
                rng_state);
}

/* ---- raw bus calls ---- */

static void bus_reopen(void) {
        bus = sd_bus_flush_close_unref(bus);
        cr_assert(sd_bus_open_system(&bus) >= 0);
}

static sd_bus_message *new_call(const char *method) {
        sd_bus_message *m = NULL;
        cr_assert(sd_bus_message_new_method_call(bus, &m, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, HARNESS_INTERFACE,
                                                 method) >= 0);
        return m;
}

/* The daemon is gone: the bus answered for it (or our connection broke). */
static bool error_is_gone(int r, const sd_bus_error *e) {
        static const char *const gone[] = {
                "org.freedesktop.DBus.Error.NoReply",         "org.freedesktop.DBus.Error.ServiceUnknown",
                "org.freedesktop.DBus.Error.NameHasNoOwner",  "org.freedesktop.DBus.Error.Disconnected",
        };
        if (e && e->name) {
                for (size_t i = 0; i < ELEMENTSOF(gone); i++)
                        if (streq(e->name, gone[i]))
                                return true;
                return false;
        }
        return r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE || r == -ETIMEDOUT;
}

typedef enum Outcome {
        OUTCOME_OK,
        OUTCOME_GONE,
} Outcome;

/* Sends m; on an error that is not the daemon's death, fails the test with what was called. */
static Outcome send_call(sd_bus_message *m, const char *what, sd_bus_message **ret_reply) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        stats.calls++;
        r = sd_bus_call(bus, m, 10 * HARNESS_USEC_PER_SEC, &e, ret_reply);
        sd_bus_message_unref(m);
        if (r >= 0)
                return OUTCOME_OK;
        if (error_is_gone(r, &e)) {
                sd_bus_error_free(&e);
                return OUTCOME_GONE;
        }
        cr_assert_fail("%s failed: %s: %s (%s)", what, e.name ?: "-", e.message ?: "-", strerror(-r));
        return OUTCOME_GONE;
}

/* A call that must succeed now (no killer armed). */
static sd_bus_message *must(sd_bus_message *m, const char *what) {
        sd_bus_message *reply = NULL;
        cr_assert_eq(send_call(m, what, &reply), OUTCOME_OK, "%s: the daemon is gone", what);
        return reply;
}

static Outcome generate_mac(const char *key_id, unsigned spec, uint8_t mac[static 64]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_message *m = new_call("GenerateMac");
        const void *p;
        size_t n;

        cr_assert(sd_bus_message_append(m, "s", key_id) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', probe, sizeof probe - 1) >= 0);
        cr_assert(sd_bus_message_append(m, "s", test_key_specs[spec].alg) >= 0);
        if (send_call(m, "GenerateMac", &reply) == OUTCOME_GONE)
                return OUTCOME_GONE;
        cr_assert(sd_bus_message_read_array(reply, 'y', &p, &n) >= 0);
        cr_assert_eq(n, test_key_specs[spec].mac_size);
        memcpy(mac, p, n);
        return OUTCOME_OK;
}

/* Checks the MAC of an Enabled key against what it must be; remembers the first MAC of a generated key. */
static Outcome check_mac(KeyModel *k) {
        uint8_t mac[64], want[64];
        unsigned len = 0;

        if (generate_mac(k->id, k->spec, mac) == OUTCOME_GONE)
                return OUTCOME_GONE;
        stats.mac_checks++;
        if (!k->mac_checked) {
                k->mac_checked = true;
                stats.keys_mac_checked++;
        }
        if (k->external) {
                HMAC(test_key_specs[k->spec].md(), k->material, (int) k->material_size, (const uint8_t *) probe,
                     sizeof probe - 1, want, &len);
                cr_assert(memcmp(mac, want, test_key_specs[k->spec].mac_size) == 0,
                          "key %s (imported) gives a MAC that is not the one of its material", k->id);
        } else if (k->mac_known)
                cr_assert(memcmp(mac, k->mac, test_key_specs[k->spec].mac_size) == 0, "the MAC of key %s changed", k->id);
        else {
                if (k->old_mac_known)
                        cr_assert(memcmp(mac, k->old_mac, test_key_specs[k->spec].mac_size) != 0,
                                  "key %s was rotated but gives the MAC of its old material", k->id);
                memcpy(k->mac, mac, test_key_specs[k->spec].mac_size);
                k->mac_known = true;
        }
        if (k->old_mac_known) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                sd_bus_message *m = new_call("VerifyMac");
                const char *arn;
                int valid = 0;

                cr_assert(sd_bus_message_append(m, "s", k->id) >= 0);
                cr_assert(sd_bus_message_append_array(m, 'y', probe, sizeof probe - 1) >= 0);
                cr_assert(sd_bus_message_append(m, "s", test_key_specs[k->spec].alg) >= 0);
                cr_assert(sd_bus_message_append_array(m, 'y', k->old_mac, test_key_specs[k->spec].mac_size) >= 0);
                if (send_call(m, "VerifyMac of a MAC made before a rotation", &reply) == OUTCOME_GONE)
                        return OUTCOME_GONE;
                cr_assert(sd_bus_message_read(reply, "bs", &valid, &arn) >= 0 && valid);
        }
        return OUTCOME_OK;
}

static void alias_name(int a, char *buf, size_t size) {
        snprintf(buf, size, "alias/crash-%02d", a);
}

static void append_tags(sd_bus_message *m, const Op *op) {
        char name[8];
        cr_assert(sd_bus_message_open_container(m, 'a', "{ss}") >= 0);
        for (size_t i = 0; i < op->n_tags; i++) {
                snprintf(name, sizeof name, "t%u", op->tag[i]);
                cr_assert(sd_bus_message_append(m, "{ss}", name, op->value[i]) >= 0);
        }
        cr_assert(sd_bus_message_close_container(m) >= 0);
}

/* Reads a{sv} key metadata into k (id, spec, origin, state, deletion date, material, description). */
static void read_metadata(sd_bus_message *reply, KeyModel *k) {
        const char *name, *s;
        bool has_expiration = false;
        int r;

        *k = (KeyModel) {};
        cr_assert(sd_bus_message_enter_container(reply, 'a', "{sv}") >= 0);
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                cr_assert(sd_bus_message_read(reply, "s", &name) >= 0);
                if (streq(name, "KeyId")) {
                        cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0);
                        cr_assert(strlen(s) == 36, "%s", s);
                        strcpy(k->id, s);
                } else if (streq(name, "KeySpec")) {
                        cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0);
                        k->spec = UINT_MAX;
                        for (unsigned i = 0; i < TEST_KEY_SPECS_N; i++)
                                if (streq(s, test_key_specs[i].spec))
                                        k->spec = i;
                        cr_assert(k->spec != UINT_MAX, "KeySpec %s", s);
                } else if (streq(name, "Origin")) {
                        cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0);
                        k->external = streq(s, "EXTERNAL");
                } else if (streq(name, "KeyState")) {
                        cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0);
                        cr_assert(strlen(s) < sizeof k->state);
                        strcpy(k->state, s);
                } else if (streq(name, "DeletionDate"))
                        cr_assert(sd_bus_message_read(reply, "v", "t", &k->deletion_date) >= 0);
                else if (streq(name, "CurrentKeyMaterialId")) {
                        cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0);
                        cr_assert(strlen(s) < sizeof k->material_id);
                        strcpy(k->material_id, s);
                }
                else if (streq(name, "ExpirationModel")) {
                        cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0);
                        has_expiration = true;
                } else if (streq(name, "Description")) {
                        cr_assert(sd_bus_message_read(reply, "v", "s", &s) >= 0);
                        cr_assert(sscanf(s, "crash %u", &k->description) == 1, "description '%s'", s);
                } else
                        cr_assert(sd_bus_message_skip(reply, "v") >= 0);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
        }
        cr_assert(r >= 0);
        cr_assert(sd_bus_message_exit_container(reply) >= 0);
        k->has_material = k->external ? has_expiration : true;
}

/* ---- applying a call to the model ---- */

static void apply(Model *m, const Op *op, bool answered) {
        KeyModel *k = op->type == OP_CREATE ? NULL : &m->keys[op->key];

        switch (op->type) {
        case OP_CREATE:
                cr_assert(m->n_keys < KEYS_MAX);
                k = &m->keys[m->n_keys++];
                *k = (KeyModel) {
                        .spec = op->spec,
                        .external = op->external,
                        .has_material = !op->external,
                        .description = op->description,
                        .material_size = op->material_size,
                };
                strcpy(k->id, answered ? op->new_id : "");
                strcpy(k->material_id, answered ? op->new_material_id : "");
                strcpy(k->state, op->external ? "PendingImport" : "Enabled");
                memcpy(k->material, op->material, op->material_size);
                for (size_t i = 0; i < op->n_tags; i++) {
                        k->tag_set[op->tag[i]] = true;
                        strcpy(k->tag_value[op->tag[i]], op->value[i]);
                }
                break;
        case OP_IMPORT:
                k->has_material = true;
                k->material_id[0] = 0; /* a first import makes one, a re-import keeps it */
                if (streq(k->state, "PendingImport"))
                        strcpy(k->state, "Enabled");
                break;
        case OP_DELETE_MATERIAL:
                k->has_material = false;
                k->material_id[0] = 0;
                strcpy(k->state, "PendingImport");
                break;
        case OP_CREATE_ALIAS:
        case OP_UPDATE_ALIAS:
                m->alias_key[op->alias] = (int) op->key;
                break;
        case OP_DELETE_ALIAS:
                m->alias_key[op->alias] = -1;
                break;
        case OP_TAG:
                for (size_t i = 0; i < op->n_tags; i++) {
                        k->tag_set[op->tag[i]] = true;
                        strcpy(k->tag_value[op->tag[i]], op->value[i]);
                }
                break;
        case OP_UNTAG:
                for (size_t i = 0; i < op->n_tags; i++)
                        k->tag_set[op->tag[i]] = false;
                break;
        case OP_SCHEDULE:
                strcpy(k->state, "PendingDeletion");
                k->deletion_date = answered ? op->deletion_date : 0;
                k->date_unknown = !answered;
                break;
        case OP_CANCEL:
                strcpy(k->state, k->has_material ? "Disabled" : "PendingImport");
                k->deletion_date = 0;
                break;
        case OP_ENABLE:
                strcpy(k->state, "Enabled");
                break;
        case OP_DISABLE:
                strcpy(k->state, "Disabled");
                break;
        case OP_DESCRIBE:
                k->description = op->description;
                break;
        case OP_ROTATE:
                /* The old material keeps verifying (a window of 0 days). */
                if (k->mac_known) {
                        memcpy(k->old_mac, k->mac, sizeof k->old_mac);
                        k->old_mac_known = true;
                }
                k->mac_known = false;
                k->rotations++;
                strcpy(k->material_id, answered ? op->new_material_id : "");
                break;
        case OP_MAC:
        case _OP_MAX:
                break;
        }
}

/* ---- choosing the next call ---- */

static bool key_live(const KeyModel *k) {
        return !k->gone && !streq(k->state, "PendingDeletion");
}

static size_t pick_key(const Model *m, bool (*fit)(const KeyModel *k)) {
        size_t n = 0, chosen = SIZE_MAX;
        /* Reservoir sampling over the keys that fit. */
        for (size_t i = 0; i < m->n_keys; i++)
                if (fit(&m->keys[i]) && rnd_below((unsigned) ++n) == 0)
                        chosen = i;
        return chosen;
}

static bool fit_live(const KeyModel *k) {
        return key_live(k);
}
static bool fit_live_tagged(const KeyModel *k) {
        for (size_t i = 0; key_live(k) && i < TAG_NAMES; i++)
                if (k->tag_set[i])
                        return true;
        return false;
}
static bool fit_external_with_material(const KeyModel *k) {
        return key_live(k) && k->external && k->has_material;
}
static bool fit_cancellable(const KeyModel *k) {
        /* Far enough from its deletion date that the timer cannot take it during the call. */
        return !k->gone && streq(k->state, "PendingDeletion") && !k->date_unknown &&
               k->deletion_date > now_usec() + 2 * HARNESS_USEC_PER_SEC;
}
static bool fit_disabled(const KeyModel *k) {
        return key_live(k) && streq(k->state, "Disabled");
}
static bool fit_enabled(const KeyModel *k) {
        return key_live(k) && streq(k->state, "Enabled");
}
static bool fit_rotatable(const KeyModel *k) {
        return key_live(k) && streq(k->state, "Enabled") && !k->external && k->rotations < 25;
}
static bool fit_import_candidate(const KeyModel *k) {
        return key_live(k) && k->external;
}

static int pick_alias(const Model *m, bool exists) {
        int n = 0, chosen = -1;
        for (int a = 0; a < ALIASES; a++) {
                int k = m->alias_key[a];
                bool ok = exists ? k >= 0 && key_live(&m->keys[k]) : k < 0;
                if (ok && rnd_below((unsigned) ++n) == 0)
                        chosen = a;
        }
        return chosen;
}

static Token *usable_token(const Model *m) {
        for (size_t i = 0; i < n_tokens; i++)
                if (!tokens[i].used && key_live(&m->keys[tokens[i].key]))
                        return &tokens[i];
        return NULL;
}

static void random_tags(Op *op, size_t max) {
        unsigned order[TAG_NAMES];
        for (unsigned i = 0; i < TAG_NAMES; i++)
                order[i] = i;
        for (unsigned i = TAG_NAMES - 1; i > 0; i--) {
                unsigned j = rnd_below(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
        }
        op->n_tags = 1 + rnd_below((unsigned) max);
        for (size_t i = 0; i < op->n_tags; i++) {
                op->tag[i] = order[i];
                snprintf(op->value[i], sizeof op->value[i], "v%u", rnd_below(100000));
        }
}

static bool choose(const Model *m, Op *op) {
        unsigned weight[_OP_MAX] = {}, total = 0, live = 0, pick;

        for (size_t i = 0; i < m->n_keys; i++)
                live += key_live(&m->keys[i]);

        if (m->n_keys < KEYS_MAX - 1)
                weight[OP_CREATE] = live < 20 ? 6 : live < LIVE_KEYS_HIGH ? 3 : 0;
        weight[OP_IMPORT] = usable_token(m) ? 6 : 0;
        weight[OP_DELETE_MATERIAL] = 1;
        weight[OP_CREATE_ALIAS] = 2;
        weight[OP_UPDATE_ALIAS] = 2;
        weight[OP_DELETE_ALIAS] = 1;
        weight[OP_TAG] = 3;
        weight[OP_UNTAG] = 2;
        weight[OP_SCHEDULE] = live > LIVE_KEYS_HIGH / 2 ? 3 : 1;
        weight[OP_CANCEL] = 1;
        weight[OP_ENABLE] = 1;
        weight[OP_DISABLE] = 1;
        weight[OP_DESCRIBE] = 1;
        weight[OP_MAC] = 2;
        weight[OP_ROTATE] = 2;
        for (unsigned t = 0; t < _OP_MAX; t++)
                total += weight[t];

        for (int attempt = 0; attempt < 50; attempt++) {
                pick = rnd_below(total);
                OpType t = 0;
                while (pick >= weight[t])
                        pick -= weight[t++];

                *op = (Op) { .type = t, .key = SIZE_MAX, .alias = -1 };
                switch (t) {
                case OP_CREATE:
                        op->spec = rnd_below(TEST_KEY_SPECS_N);
                        op->external = rnd_below(3) == 0;
                        op->description = rnd_below(1000000);
                        if (op->external) {
                                op->material_size = test_key_specs[op->spec].import_min +
                                                    rnd_below((unsigned) (test_key_specs[op->spec].import_max -
                                                                          test_key_specs[op->spec].import_min + 1));
                                for (size_t i = 0; i < op->material_size; i++)
                                        op->material[i] = (uint8_t) rnd();
                        }
                        if (rnd_below(2))
                                random_tags(op, 3);
                        return true;
                case OP_IMPORT: {
                        Token *tk = usable_token(m);
                        if (!tk)
                                continue;
                        op->key = tk->key;
                        return true;
                }
                case OP_DELETE_MATERIAL:
                        op->key = pick_key(m, fit_external_with_material);
                        break;
                case OP_CREATE_ALIAS:
                        op->alias = pick_alias(m, false);
                        op->key = pick_key(m, fit_live);
                        if (op->alias < 0)
                                continue;
                        break;
                case OP_UPDATE_ALIAS:
                        op->alias = pick_alias(m, true);
                        op->key = pick_key(m, fit_live);
                        if (op->alias < 0 || (op->key != SIZE_MAX && (int) op->key == m->alias_key[op->alias]))
                                continue;
                        break;
                case OP_DELETE_ALIAS:
                        op->alias = pick_alias(m, true);
                        if (op->alias < 0)
                                continue;
                        op->key = (size_t) m->alias_key[op->alias];
                        break;
                case OP_TAG:
                        op->key = pick_key(m, fit_live);
                        random_tags(op, 4);
                        break;
                case OP_UNTAG:
                        op->key = pick_key(m, fit_live_tagged);
                        random_tags(op, 3);
                        break;
                case OP_SCHEDULE:
                        op->key = pick_key(m, fit_live);
                        op->days = 7 + rnd_below(4);
                        break;
                case OP_CANCEL:
                        op->key = pick_key(m, fit_cancellable);
                        break;
                case OP_ENABLE:
                        op->key = pick_key(m, fit_disabled);
                        break;
                case OP_DISABLE:
                case OP_MAC:
                        op->key = pick_key(m, fit_enabled);
                        break;
                case OP_DESCRIBE:
                        op->key = pick_key(m, fit_live);
                        op->description = rnd_below(1000000);
                        break;
                case OP_ROTATE:
                        op->key = pick_key(m, fit_rotatable);
                        break;
                case _OP_MAX:
                        break;
                }
                if (op->key != SIZE_MAX)
                        return true;
        }
        return false;
}

/* ---- running a call ---- */

static size_t wrap(EVP_PKEY *pub, const uint8_t *key, size_t n, uint8_t *out) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
        size_t len = 1024;

        cr_assert(ctx);
        cr_assert(EVP_PKEY_encrypt_init(ctx) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1);
        cr_assert(EVP_PKEY_encrypt(ctx, out, &len, key, n) == 1);
        EVP_PKEY_CTX_free(ctx);
        return len;
}

/* HMACD_CRASH_TRACE=1: every call and its outcome on standard error. */
static void trace(const Model *m, const Op *op, const char *outcome) {
        static int enabled = -1;
        if (enabled < 0)
                enabled = getenv("HMACD_CRASH_TRACE") != NULL;
        if (!enabled)
                return;
        fprintf(stderr, "trace: kill %u: %s key %s alias %d: %s\n", stats.kills, op_names[op->type],
                op->type == OP_CREATE ? op->new_id : op->key != SIZE_MAX ? m->keys[op->key].id : "-", op->alias,
                outcome);
}

static Outcome run(Model *m, Op *op) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        KeyModel *k = op->key != SIZE_MAX ? &m->keys[op->key] : NULL;
        sd_bus_message *c = new_call(op_names[op->type]);
        char name[64], desc[32];
        Outcome o;

        switch (op->type) {
        case OP_CREATE:
                snprintf(desc, sizeof desc, "crash %u", op->description);
                cr_assert(sd_bus_message_append(c, "sss", test_key_specs[op->spec].spec, "GENERATE_VERIFY_MAC", desc) >= 0);
                append_tags(c, op);
                if (op->external)
                        cr_assert(sd_bus_message_append(c, "a{sv}", 1, "Origin", "s", "EXTERNAL") >= 0);
                else
                        cr_assert(sd_bus_message_append(c, "a{sv}", 0) >= 0);
                break;
        case OP_IMPORT: {
                Token *tk = usable_token(m);
                uint8_t wrapped[512];
                size_t n;

                cr_assert(tk && tk->key == op->key);
                n = wrap(tk->pub, k->material, k->material_size, wrapped);
                cr_assert(sd_bus_message_append(c, "s", k->id) >= 0);
                cr_assert(sd_bus_message_append_array(c, 'y', tk->token, tk->token_size) >= 0);
                cr_assert(sd_bus_message_append_array(c, 'y', wrapped, n) >= 0);
                cr_assert(sd_bus_message_append(c, "st", "KEY_MATERIAL_DOES_NOT_EXPIRE", UINT64_C(0)) >= 0);
                tk->used = true;
                break;
        }
        case OP_CREATE_ALIAS:
        case OP_UPDATE_ALIAS:
                alias_name(op->alias, name, sizeof name);
                cr_assert(sd_bus_message_append(c, "ss", name, k->id) >= 0);
                break;
        case OP_DELETE_ALIAS:
                alias_name(op->alias, name, sizeof name);
                cr_assert(sd_bus_message_append(c, "s", name) >= 0);
                break;
        case OP_TAG:
                cr_assert(sd_bus_message_append(c, "s", k->id) >= 0);
                append_tags(c, op);
                break;
        case OP_UNTAG:
                cr_assert(sd_bus_message_append(c, "s", k->id) >= 0);
                cr_assert(sd_bus_message_open_container(c, 'a', "s") >= 0);
                for (size_t i = 0; i < op->n_tags; i++) {
                        snprintf(name, sizeof name, "t%u", op->tag[i]);
                        cr_assert(sd_bus_message_append(c, "s", name) >= 0);
                }
                cr_assert(sd_bus_message_close_container(c) >= 0);
                break;
        case OP_SCHEDULE:
                cr_assert(sd_bus_message_append(c, "su", k->id, op->days) >= 0);
                break;
        case OP_DESCRIBE:
                snprintf(desc, sizeof desc, "crash %u", op->description);
                cr_assert(sd_bus_message_append(c, "ss", k->id, desc) >= 0);
                break;
        case OP_MAC:
                sd_bus_message_unref(c);
                return check_mac(k);
        default:
                cr_assert(sd_bus_message_append(c, "s", k->id) >= 0);
                break;
        }

        o = send_call(c, op_names[op->type], &reply);
        if (o == OUTCOME_GONE)
                return o;

        if (op->type == OP_CREATE) {
                KeyModel md;
                read_metadata(reply, &md);
                strcpy(op->new_id, md.id);
                strcpy(op->new_material_id, md.material_id);
                stats.keys_created++;
        } else if (op->type == OP_SCHEDULE) {
                uint32_t days;
                cr_assert(sd_bus_message_read(reply, "tu", &op->deletion_date, &days) >= 0);
                cr_assert_eq(days, op->days);
        } else if (op->type == OP_IMPORT)
                stats.imports++;
        else if (op->type == OP_ROTATE) {
                const char *id;
                cr_assert(sd_bus_message_read(reply, "s", &id) >= 0);
                cr_assert(strlen(id) == 64, "KeyMaterialId %s", id);
                strcpy(op->new_material_id, id);
                stats.rotations++;
        }
        return OUTCOME_OK;
}

/* GetParametersForImport makes an RSA key (tens of milliseconds): fetched before the killer is armed. */
static void tokens_reset(void) {
        for (size_t i = 0; i < n_tokens; i++)
                EVP_PKEY_free(tokens[i].pub);
        n_tokens = 0;
}

static void tokens_prepare(const Model *m) {
        size_t key = pick_key(m, fit_import_candidate);
        const void *token, *der;
        size_t token_size, der_size;
        const uint8_t *p;
        uint64_t valid_to;
        sd_bus_message *c, *reply;
        Token *tk;

        tokens_reset();
        /* Prefer keys waiting for their material; sometimes a re-import of the same material. */
        for (size_t i = 0; i < m->n_keys; i++)
                if (fit_import_candidate(&m->keys[i]) && !m->keys[i].has_material && rnd_below(2) == 0) {
                        key = i;
                        break;
                }
        if (key == SIZE_MAX || rnd_below(3) == 0)
                return;

        c = new_call("GetParametersForImport");
        cr_assert(sd_bus_message_append(c, "sss", m->keys[key].id, "RSAES_OAEP_SHA_256", "RSA_2048") >= 0);
        reply = must(c, "GetParametersForImport");
        tk = &tokens[n_tokens++];
        *tk = (Token) { .key = key };
        cr_assert(sd_bus_message_read_array(reply, 'y', &token, &token_size) >= 0);
        cr_assert(sd_bus_message_read_array(reply, 'y', &der, &der_size) >= 0);
        cr_assert(sd_bus_message_read(reply, "t", &valid_to) >= 0);
        cr_assert(token_size <= sizeof tk->token);
        memcpy(tk->token, token, token_size);
        tk->token_size = token_size;
        p = der;
        tk->pub = d2i_PUBKEY(NULL, &p, (long) der_size);
        cr_assert(tk->pub);
        sd_bus_message_unref(reply);
}

/* ---- what the daemon holds, through its API ---- */

static int find_key(const Model *m, const char *id) {
        for (size_t i = 0; i < m->n_keys; i++)
                if (streq(m->keys[i].id, id))
                        return (int) i;
        return -1;
}

/* A call while observing: NULL when the key went away meanwhile (the deletion timer took it). */
static sd_bus_message *call_key(sd_bus_message *m, const char *what) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        stats.calls++;
        r = sd_bus_call(bus, m, 10 * HARNESS_USEC_PER_SEC, &e, &reply);
        sd_bus_message_unref(m);
        if (r >= 0)
                return reply;
        cr_assert(e.name && streq(e.name, "io.hmacd.Kms1.Error.NotFoundException"), "%s failed: %s: %s", what,
                  e.name ?: "-", e.message ?: strerror(-r));
        sd_bus_error_free(&e);
        return NULL;
}

/* Reads every key with its tags, and every alias. Returns false if a key vanished between ListKeys and
 * a later call: the snapshot is torn and must be taken again. */
static bool observe(Model *o) {
        char marker[4096] = "";
        const char *id, *arn, *next;
        int truncated, r;

        o->n_keys = 0;
        for (int a = 0; a < ALIASES; a++)
                o->alias_key[a] = -1;

        do {
                sd_bus_message *c = new_call("ListKeys"), *reply;
                cr_assert(sd_bus_message_append(c, "us", 1000, marker) >= 0);
                reply = must(c, "ListKeys");
                cr_assert(sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0);
                while ((r = sd_bus_message_read(reply, "(ss)", &id, &arn)) > 0) {
                        cr_assert(o->n_keys < KEYS_MAX);
                        strcpy(o->keys[o->n_keys++].id, id);
                }
                cr_assert(r >= 0);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
                cr_assert(sd_bus_message_read(reply, "sb", &next, &truncated) >= 0);
                snprintf(marker, sizeof marker, "%s", next);
                sd_bus_message_unref(reply);
        } while (truncated);

        for (size_t i = 0; i < o->n_keys; i++) {
                KeyModel *k = &o->keys[i];
                char want[37];
                sd_bus_message *c, *reply;
                const char *tag, *value;
                unsigned t;

                strcpy(want, k->id);
                c = new_call("DescribeKey");
                cr_assert(sd_bus_message_append(c, "s", want) >= 0);
                reply = call_key(c, "DescribeKey");
                if (!reply)
                        return false;
                read_metadata(reply, k);
                sd_bus_message_unref(reply);
                cr_assert_str_eq(k->id, want);

                c = new_call("ListResourceTags");
                cr_assert(sd_bus_message_append(c, "sus", k->id, 50, "") >= 0);
                reply = call_key(c, "ListResourceTags");
                if (!reply)
                        return false;
                cr_assert(sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0);
                while ((r = sd_bus_message_read(reply, "(ss)", &tag, &value)) > 0) {
                        cr_assert(sscanf(tag, "t%u", &t) == 1 && t < TAG_NAMES, "tag %s on %s", tag, k->id);
                        cr_assert(!k->tag_set[t]);
                        k->tag_set[t] = true;
                        snprintf(k->tag_value[t], sizeof k->tag_value[t], "%s", value);
                }
                cr_assert(r >= 0);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
                cr_assert(sd_bus_message_read(reply, "sb", &next, &truncated) >= 0);
                cr_assert(!truncated);
                sd_bus_message_unref(reply);
        }

        *marker = 0;
        do {
                sd_bus_message *c = new_call("ListAliases"), *reply;
                const char *name, *alias_arn, *target;
                uint64_t created, updated;
                int a;

                cr_assert(sd_bus_message_append(c, "sus", "", 100, marker) >= 0);
                reply = must(c, "ListAliases");
                cr_assert(sd_bus_message_enter_container(reply, 'a', "(ssstt)") >= 0);
                while ((r = sd_bus_message_read(reply, "(ssstt)", &name, &alias_arn, &target, &created, &updated)) > 0) {
                        int k = find_key(o, target);
                        cr_assert(sscanf(name, "alias/crash-%d", &a) == 1 && a >= 0 && a < ALIASES, "alias %s", name);
                        /* Nothing half-made: an alias names a key that exists. */
                        cr_assert(k >= 0, "alias %s points to key %s, which ListKeys does not have", name, target);
                        o->alias_key[a] = k;
                }
                cr_assert(r >= 0);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
                cr_assert(sd_bus_message_read(reply, "sb", &next, &truncated) >= 0);
                snprintf(marker, sizeof marker, "%s", next);
                sd_bus_message_unref(reply);
        } while (truncated);
        return true;
}

/* Does what the daemon holds (o) fit the model c, given that the restart began at t0 and ended at
 * t1 (keys whose deletion date passed before t0 are gone, those due after t1 are not)? On a mismatch
 * the reason goes to why. present[i] says whether c's key i is still there. */
static bool fits(const Model *c, const Model *o, uint64_t t0, uint64_t t1, bool *present, int *matched,
                 char *why, size_t size) {
        size_t j = 0;

        for (size_t i = 0; i < c->n_keys; i++) {
                const KeyModel *k = &c->keys[i], *ok;
                bool due = streq(k->state, "PendingDeletion") && !k->date_unknown;

                present[i] = false;
                matched[i] = -1;
                if (k->gone)
                        continue;
                if (j >= o->n_keys || (*k->id && !streq(k->id, o->keys[j].id))) {
                        if (due && k->deletion_date <= t1)
                                continue; /* destroyed at the end of its window */
                        snprintf(why, size, "key %s (%s) is missing", *k->id ? k->id : "<new>", k->state);
                        return false;
                }
                ok = &o->keys[j];
                if (due && k->deletion_date <= t0) {
                        snprintf(why, size, "key %s should have been deleted at %" PRIu64 " (restart at %" PRIu64 ")",
                                 k->id, k->deletion_date, t0);
                        return false;
                }
                /* DescribeKey shows imported material (ExpirationModel) except in PendingDeletion, where it
                 * names an expiration model either way: the store check looks at the material there. */
                if (ok->spec != k->spec || ok->external != k->external || !streq(ok->state, k->state) ||
                    (ok->has_material != k->has_material && !streq(k->state, "PendingDeletion")) ||
                    ok->description != k->description ||
                    (*k->material_id && !streq(ok->material_id, k->material_id))) {
                        snprintf(why, size,
                                 "key %s: spec %u/%u, external %d/%d, state %s/%s, material %d/%d, description %u/%u, "
                                 "current material %s/%s (daemon/model)",
                                 ok->id, ok->spec, k->spec, ok->external, k->external, ok->state, k->state,
                                 ok->has_material, k->has_material, ok->description, k->description,
                                 ok->material_id, *k->material_id ? k->material_id : "(either)");
                        return false;
                }
                if (streq(k->state, "PendingDeletion") &&
                    (k->date_unknown ? ok->deletion_date == 0 : ok->deletion_date != k->deletion_date)) {
                        snprintf(why, size, "key %s: deletion date %" PRIu64 ", expected %" PRIu64, ok->id,
                                 ok->deletion_date, k->deletion_date);
                        return false;
                }
                for (size_t t = 0; t < TAG_NAMES; t++)
                        if (ok->tag_set[t] != k->tag_set[t] || (k->tag_set[t] && !streq(ok->tag_value[t], k->tag_value[t]))) {
                                snprintf(why, size, "key %s: tag t%zu is %s, expected %s", ok->id, t,
                                         ok->tag_set[t] ? ok->tag_value[t] : "(none)",
                                         k->tag_set[t] ? k->tag_value[t] : "(none)");
                                return false;
                        }
                present[i] = true;
                matched[i] = (int) j;
                j++;
        }
        if (j != o->n_keys) {
                snprintf(why, size, "the daemon has key %s, which the model does not", o->keys[j].id);
                return false;
        }

        for (int a = 0; a < ALIASES; a++) {
                int k = c->alias_key[a];
                int want = k >= 0 && present[k] ? matched[k] : -1;
                if (o->alias_key[a] != want) {
                        snprintf(why, size, "alias/crash-%02d points to %s, expected %s", a,
                                 o->alias_key[a] >= 0 ? o->keys[o->alias_key[a]].id : "(nothing)",
                                 want >= 0 ? o->keys[want].id : "(nothing)");
                        return false;
                }
        }
        return true;
}

/* The model becomes c, completed from what the daemon holds. */
static void adopt(const Model *c, const Model *o, const bool *present, const int *matched) {
        if (c != &model)
                model = *c;
        for (size_t i = 0; i < model.n_keys; i++) {
                KeyModel *k = &model.keys[i];
                if (k->gone)
                        continue;
                if (!present[i]) {
                        k->gone = true;
                        stats.keys_destroyed++;
                        continue;
                }
                if (!*k->id)
                        strcpy(k->id, o->keys[matched[i]].id);
                if (!*k->material_id)
                        strcpy(k->material_id, o->keys[matched[i]].material_id);
                if (k->date_unknown) {
                        k->deletion_date = o->keys[matched[i]].deletion_date;
                        k->date_unknown = false;
                }
        }
        for (int a = 0; a < ALIASES; a++)
                if (model.alias_key[a] >= 0 && model.keys[model.alias_key[a]].gone)
                        model.alias_key[a] = -1;
}

static bool present_buf[KEYS_MAX], present_buf2[KEYS_MAX];
static int matched_buf[KEYS_MAX], matched_buf2[KEYS_MAX];

/* After a restart: the daemon holds the model, or the model with the unanswered call applied. */
static void verify(const Op *unknown, uint64_t t0) {
        char why[512] = "", why2[512] = "";
        uint64_t t1;

        /* A consistent snapshot: no key vanished while it was taken, and none is due to vanish (the
         * deletion timer is not exact: sd-event's default accuracy is 250 ms). */
        for (unsigned tries = 0;; tries++) {
                bool torn = !observe(&observed);
                t1 = now_usec();
                for (size_t i = 0; i < observed.n_keys; i++)
                        if (streq(observed.keys[i].state, "PendingDeletion") && observed.keys[i].deletion_date <= t1)
                                torn = true;
                if (!torn)
                        break;
                cr_assert(tries < 100, "no consistent snapshot of the daemon's keys in 100 attempts");
                usleep(50 * 1000);
        }
        if (fits(&model, &observed, t0, t1, present_buf, matched_buf, why, sizeof why)) {
                if (unknown)
                        stats.unknown_not_applied++;
                adopt(&model, &observed, present_buf, matched_buf);
        } else {
                cr_assert(unknown, "after restart %u: %s", stats.restarts, why);
                candidate = model;
                apply(&candidate, unknown, false);
                cr_assert(fits(&candidate, &observed, t0, t1, present_buf2, matched_buf2, why2, sizeof why2),
                          "after restart %u, with %s unanswered: neither the old state (%s) nor the new one (%s)",
                          stats.restarts, op_names[unknown->type], why, why2);
                stats.unknown_applied++;
                adopt(&candidate, &observed, present_buf2, matched_buf2);
        }

        for (size_t i = 0; i < model.n_keys; i++)
                if (!model.keys[i].gone && streq(model.keys[i].state, "Enabled"))
                        cr_assert_eq(check_mac(&model.keys[i]), OUTCOME_OK);
}

/* ---- the store, looked at directly while the daemon is dead ---- */

static int64_t query_int(sqlite3 *db, const char *sql) {
        sqlite3_stmt *st = NULL;
        int64_t v;

        cr_assert(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
        cr_assert(sqlite3_step(st) == SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(db));
        v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

static void copy_file(const char *from, const char *to) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        FILE *f;

        if (harness_read_file(from, &data, &size) < 0) {
                cr_assert(errno == ENOENT || access(from, F_OK) < 0, "cannot read %s", from);
                (void) unlink(to);
                return;
        }
        f = fopen(to, "we");
        cr_assert(f, "%s", to);
        cr_assert(fwrite(data, 1, size, f) == size);
        cr_assert(fclose(f) == 0);
}

#define NO_CURRENT "key_id NOT IN (SELECT key_id FROM materials WHERE state = 'CURRENT')"

/* Opens a copy (the daemon's files stay as they are, owned by its user) and recovers it as the
 * daemon would; then nothing may be half-made. */
static void check_store_copy(void) {
        static const struct {
                const char *what, *sql;
        } rules[] = {
                { "aliases of missing keys", "SELECT count(*) FROM aliases WHERE key_id NOT IN (SELECT key_id FROM keys)" },
                { "tags of missing keys", "SELECT count(*) FROM tags WHERE key_id NOT IN (SELECT key_id FROM keys)" },
                { "unknown key states",
                  "SELECT count(*) FROM keys WHERE key_state NOT IN ('Enabled','Disabled','PendingDeletion','PendingImport')" },
                { "generated keys without a current material",
                  "SELECT count(*) FROM keys WHERE origin = 'HMACD' AND " NO_CURRENT },
                { "PendingImport keys with material",
                  "SELECT count(*) FROM keys WHERE key_state = 'PendingImport' AND key_id IN (SELECT key_id FROM materials)" },
                { "Enabled or Disabled keys without a current material",
                  "SELECT count(*) FROM keys WHERE key_state IN ('Enabled','Disabled') AND " NO_CURRENT },
                { "imported material without its fingerprint",
                  "SELECT count(*) FROM keys WHERE origin = 'EXTERNAL' AND key_id IN (SELECT key_id FROM materials) AND "
                  "import_fingerprint IS NULL" },
                { "keys with materials and not exactly one current",
                  "SELECT count(*) FROM (SELECT key_id FROM materials GROUP BY key_id HAVING sum(state = 'CURRENT') != 1)" },
                { "materials of missing keys", "SELECT count(*) FROM materials WHERE key_id NOT IN (SELECT key_id FROM keys)" },
                { "keys with more than 25 previous materials",
                  "SELECT count(*) FROM (SELECT key_id FROM materials WHERE state = 'PREVIOUS' GROUP BY key_id "
                  "HAVING count(*) > 25)" },
                { "imported keys with previous materials",
                  "SELECT count(*) FROM materials m JOIN keys k USING (key_id) WHERE k.origin = 'EXTERNAL' AND "
                  "m.state = 'PREVIOUS'" },
                { "deletion dates that do not fit the state",
                  "SELECT count(*) FROM keys WHERE (key_state = 'PendingDeletion') != (deletion_date != 0)" },
                { "foreign key violations", "SELECT count(*) FROM pragma_foreign_key_check" },
        };
        char db_from[4096], wal_from[4096], dir[4000], db_to[4096], wal_to[4096];
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;

        snprintf(db_from, sizeof db_from, "%s/hmacd.db", harness_state_dir());
        snprintf(wal_from, sizeof wal_from, "%s/hmacd.db-wal", harness_state_dir());
        snprintf(dir, sizeof dir, "%s/store-copy", harness_tmp_dir());
        snprintf(db_to, sizeof db_to, "%s/hmacd.db", dir);
        snprintf(wal_to, sizeof wal_to, "%s/hmacd.db-wal", dir);
        cr_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
        (void) unlink(db_to);
        (void) unlink(wal_to);
        {
                char shm[4200];
                snprintf(shm, sizeof shm, "%s-shm", db_to);
                (void) unlink(shm);
        }
        copy_file(db_from, db_to);
        copy_file(wal_from, wal_to);

        cr_assert(sqlite3_open_v2(db_to, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
        cr_assert(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK);
        cr_assert(sqlite3_step(st) == SQLITE_ROW);
        cr_assert_str_eq((const char *) sqlite3_column_text(st, 0), "ok", "the store after kill %u", stats.kills);
        sqlite3_finalize(st);
        for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
                int64_t n = query_int(db, rules[i].sql);
                cr_assert_eq(n, 0, "the store after kill %u has %" PRIi64 " %s", stats.kills, n, rules[i].what);
        }
        sqlite3_close(db);
        stats.store_checks++;
}

/* ---- the killer ---- */

typedef struct Killer {
        pthread_t thread;
        pid_t pid;
        uint64_t delay_usec;
        atomic_bool fired;
} Killer;

static void *killer_main(void *userdata) {
        Killer *k = userdata;
        struct timespec ts = { .tv_sec = (time_t) (k->delay_usec / 1000000), .tv_nsec = (long) (k->delay_usec % 1000000) * 1000 };

        (void) nanosleep(&ts, NULL);
        atomic_store(&k->fired, true);
        (void) kill(k->pid, SIGKILL);
        return NULL;
}

static void teardown(void) {
        tokens_reset();
        bus = sd_bus_flush_close_unref(bus);
        harness_teardown();
}

static void setup(void) {
        harness_require_environment();
        harness_check(harness_daemon_startl("--test-only-seconds-per-day=1", NULL), "start hmacd");
}

TestSuite(crash, .fini = teardown, .timeout = 300);

Test(crash, sigkill_at_random_moments_loses_and_half_makes_nothing) {
        uint64_t start = mono_usec();
        size_t live_max = 0;

        setup();
        seed_rng();
        bus_reopen();
        for (int a = 0; a < ALIASES; a++)
                model.alias_key[a] = -1;

        while (stats.kills < KILLS_TARGET && mono_usec() - start < RUN_USEC_MAX) {
                Killer killer = { .pid = harness_daemon_pid(), .delay_usec = rnd_below(KILL_DELAY_MAX_USEC + 1) };
                bool have_unknown = false;
                siginfo_t info = {};
                uint64_t t0;
                Op op;

                cr_assert(killer.pid > 0);
                tokens_prepare(&model);
                atomic_init(&killer.fired, false);
                cr_assert(pthread_create(&killer.thread, NULL, killer_main, &killer) == 0);

                for (;;) {
                        Model *m = &model;
                        if (!choose(m, &op))
                                cr_assert_fail("no call fits the model (%zu keys)", model.n_keys);
                        if (run(m, &op) == OUTCOME_GONE) {
                                have_unknown = op.type != OP_MAC;
                                trace(m, &op, "unanswered");
                                break;
                        }
                        trace(m, &op, "ok");
                        if (op.type != OP_MAC) {
                                apply(m, &op, true);
                                stats.answered_changes++;
                        }
                }
                cr_assert(pthread_join(killer.thread, NULL) == 0);
                cr_assert(atomic_load(&killer.fired), "the daemon went away before it was killed");
                /* It must have died of our SIGKILL, not of anything else (seccomp, a crash). */
                cr_assert(waitid(P_PID, (id_t) killer.pid, &info, WEXITED | WNOWAIT) == 0);
                cr_assert(info.si_code == CLD_KILLED && info.si_status == SIGKILL,
                          "hmacd died on its own: code %d status %d", info.si_code, info.si_status);
                cr_assert(harness_daemon_kill() >= 0);
                stats.kills++;
                tokens_reset();

                check_store_copy();

                t0 = now_usec();
                cr_assert(harness_daemon_restart() >= 0, "restart after kill %u", stats.kills);
                stats.restarts++;
                bus_reopen();
                verify(have_unknown ? &op : NULL, t0);

                size_t live = 0;
                for (size_t i = 0; i < model.n_keys; i++)
                        live += !model.keys[i].gone;
                live_max = MAX(live_max, live);
        }

        /* A clean stop and start at the end: the same again. */
        {
                int status = 0;
                uint64_t t0;
                cr_assert(harness_daemon_stop(&status) >= 0);
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", harness_describe_status(status));
                t0 = now_usec();
                cr_assert(harness_daemon_restart() >= 0);
                bus_reopen();
                verify(NULL, t0);
        }

        {
                size_t live = 0, with_aliases = 0;
                for (size_t i = 0; i < model.n_keys; i++)
                        live += !model.keys[i].gone;
                for (int a = 0; a < ALIASES; a++)
                        with_aliases += model.alias_key[a] >= 0;
                fprintf(stderr,
                        "test-crash: %u SIGKILLs survived in %.1f s (%u restarts, %u store copies checked); %u calls, "
                        "%u answered changes; unanswered changes: %u applied whole, %u not at all; %u keys created "
                        "(%u with imported material), %u destroyed at the end of their window, %zu at the end (at most "
                        "%zu), %zu aliases; %u rotations answered; %u MACs checked over %u keys\n",
                        stats.kills, (double) (mono_usec() - start) / 1e6, stats.restarts, stats.store_checks,
                        stats.calls, stats.answered_changes, stats.unknown_applied, stats.unknown_not_applied,
                        stats.keys_created, stats.imports, stats.keys_destroyed, live, live_max, with_aliases,
                        stats.rotations, stats.mac_checks, stats.keys_mac_checked);
        }
        cr_assert(stats.kills >= KILLS_MIN, "only %u kills in the time allowed", stats.kills);
}

/* ---- killed during the first start ---- */

static void empty_state_dir(void) {
        const char *dir = harness_state_dir();
        struct dirent *de;
        DIR *d;

        cr_assert(dir);
        d = opendir(dir);
        cr_assert(d);
        while ((de = readdir(d))) {
                char path[4096];
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                cr_assert(unlink(path) == 0, "%s: %m", path);
        }
        closedir(d);
}

Test(crash, killed_during_first_start_still_starts) {
        char state_arg[4200], log[4096];
        uint64_t first_start;
        unsigned refused = 0;
        int status;

        harness_require_environment();
        seed_rng();
        cr_assert(harness_bus_start() >= 0);

        /* How long a first start takes here: the kills fall within it. */
        empty_state_dir();
        first_start = mono_usec();
        cr_assert(harness_daemon_start() >= 0);
        first_start = mono_usec() - first_start;
        cr_assert(harness_daemon_stop(&status) >= 0);

        snprintf(state_arg, sizeof state_arg, "--state-dir=%s", harness_state_dir());
        snprintf(log, sizeof log, "%s/first-start.log", harness_tmp_dir());
        for (unsigned i = 0; i < FIRST_START_KILLS; i++) {
                char *argv[] = { (char *) HARNESS_HMACD, state_arg, (char *) "--log-target=stderr", NULL };
                uint64_t delay = rnd_below((unsigned) first_start + 1);
                _cleanup_free_ char *daemon_log = NULL;
                pid_t pid;
                int r;

                empty_state_dir();
                cr_assert(harness_spawn("hmacd (first start)", HARNESS_DAEMON_USER, argv, log, &pid) >= 0);
                usleep((useconds_t) delay);
                cr_assert(harness_stop(pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, &status) >= 0);
                for (int j = 0; j < 2000 && harness_name_has_owner(HARNESS_BUS_NAME) > 0; j++)
                        usleep(5000);
                stats.kills_in_first_start++;

                if (harness_daemon_log_path())
                        cr_assert(truncate(harness_daemon_log_path(), 0) == 0);
                r = harness_daemon_start();
                if (r < 0) {
                        refused++;
                        cr_assert(harness_daemon_log(&daemon_log) >= 0);
                        fprintf(stderr, "test-crash: killed %" PRIu64 " us into its first start, hmacd then refuses to "
                                "start: %s\n", delay, daemon_log);
                        continue;
                }
                cr_assert(harness_daemon_stop(&status) >= 0);
        }
        fprintf(stderr, "test-crash: %u kills during a first start (which takes %" PRIu64 " us here); %u left a state "
                "directory the daemon refuses\n", stats.kills_in_first_start, first_start, refused);
        cr_assert_eq(refused, 0, "a crash during the first start left a store the daemon refuses to open");
}
