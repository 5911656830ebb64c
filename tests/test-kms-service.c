/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the key service (daemon/kms-service.c, kms-names.c, kms-import.c) without a bus: a
 * real store in a temporary directory, a real KEK and keyring, no event loop. The rule under test:
 * the store and the in-memory index agree, and a client sees an error only when nothing changed.
 * Every mutating operation is run with a fault injected just before its store commit (it must fail
 * and change nothing, in memory and on disk) and just after it (it must succeed, and the change must
 * be in memory and on disk). */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../daemon/kms-service.h"
#include "macro.h"

static char tmpdir[] = "/tmp/hmacd-test-service.XXXXXX";
static KmsService *service;

static KmsService *open_service(void) {
        KmsServiceConfig config = { .state_dir = tmpdir, .cache_max = 16 };
        KmsService *s = NULL;

        cr_assert_eq(kms_service_new(NULL, &s), 0);
        cr_assert_eq(kms_service_load(s, &config), 0);
        return s;
}

static void setup(void) {
        cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %m", tmpdir);
        service = open_service();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static void teardown(void) {
        kms_service_free(service);
        (void) nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(kms_service, .init = setup, .fini = teardown);

/* Everything the index holds, as text: keys in order with state, dates, tags, and aliases. */
static char *snapshot(KmsService *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(f);
        for (size_t i = 0; i < s->index.n; i++) {
                const KeyEntry *e = s->index.by_seq[i];
                _cleanup_free_ char *description = NULL;
                KmsKeyMetadata md;

                cr_assert_eq(kms_describe_key(s, e, &md), 0);
                fprintf(f, "%s %s %s %llu %d [%s]", e->key_id, key_spec_to_string(e->spec),
                        key_state_to_string(e->state), (unsigned long long) e->deletion_date, e->has_material,
                        md.description);
                for (size_t t = 0; t < e->n_tags; t++)
                        fprintf(f, " %s=%s", e->tags[t].key, e->tags[t].value);
                fprintf(f, " rotation %d/%u/%llu/%llu window %u current %s", e->rotation_enabled, e->rotation_period,
                        (unsigned long long) e->next_rotation_date, (unsigned long long) e->on_demand_rotation_date,
                        e->mac_verify_window, md.current_material_id);
                for (size_t v = 0; v < e->n_versions; v++)
                        fprintf(f, " material %s %s %llu %llu", e->versions[v]->id,
                                rotation_type_to_string(e->versions[v]->type),
                                (unsigned long long) e->versions[v]->rotation_date,
                                (unsigned long long) e->versions[v]->stopped_date);
                fputc('\n', f);
                kms_key_metadata_done(&md);
        }
        for (size_t i = 0; i < s->aliases.n; i++)
                fprintf(f, "%s -> %s\n", s->aliases.v[i]->name, s->aliases.v[i]->key->key_id);
        fclose(f);
        return buf;
}

/* What a fresh start from the store sees equals what the running service holds. The fresh start
 * runs in a child: loading joins a new session keyring, and this process must keep possessing the
 * running service's KEK. */
static void assert_store_agrees(void) {
        _cleanup_free_ char *now = snapshot(service), *disk = NULL;
        size_t size = 0;
        int fds[2], status;
        FILE *f;
        pid_t pid;

        cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                KmsService *reloaded = open_service();
                char *text = snapshot(reloaded);
                size_t n = strlen(text);
                bool written = write(fds[1], text, n) == (ssize_t) n;
                _exit(written ? 0 : 1);
        }
        close(fds[1]);
        f = open_memstream(&disk, &size);
        cr_assert_not_null(f);
        for (;;) {
                char buf[4096];
                ssize_t n = read(fds[0], buf, sizeof buf);
                cr_assert_geq(n, 0);
                if (n == 0)
                        break;
                fwrite(buf, 1, (size_t) n, f);
        }
        fclose(f);
        close(fds[0]);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the fresh start failed");
        cr_assert_str_eq(now, disk, "index:\n%s\nstore:\n%s", now, disk);
}

static KeyEntry *create(KeySpec spec) {
        KeyTag tags[] = { { (char *) "team", (char *) "web" } };
        KmsFailure f = {};
        KeyEntry *e = NULL;

        cr_assert_eq(kms_create_key(service, 0, spec, KEY_ORIGIN_HMACD, 0, "a key", tags, 1, &f, &e), 0);
        return e;
}

static int collect_mac(const uint8_t *mac, size_t size, void *userdata) {
        memcpy(userdata, mac, size);
        return 0;
}

/* op runs once with a fault before the commit (must fail, nothing changes) and once with one after
 * it (must succeed, the change stands), the store checked against the index both times. */
#define CHECK_OPERATION(what, op)                                                                       \
        do {                                                                                            \
                _cleanup_free_ char *before = snapshot(service), *after = NULL;                         \
                KmsFailure f = {};                                                                      \
                int r;                                                                                  \
                service->fault = KMS_FAULT_BEFORE_COMMIT;                                               \
                r = (op);                                                                               \
                service->fault = KMS_FAULT_NONE;                                                        \
                cr_assert_lt(r, 0, "%s with a fault before its commit gave %d", what, r);               \
                after = snapshot(service);                                                              \
                cr_assert_str_eq(before, after, "%s changed the index although it failed", what);       \
                assert_store_agrees();                                                                  \
                service->fault = KMS_FAULT_AFTER_COMMIT;                                                \
                r = (op);                                                                               \
                service->fault = KMS_FAULT_NONE;                                                        \
                cr_assert_eq(r, 0, "%s with a fault after its commit gave %d (condition %d)", what, r,  \
                             f.condition);                                                              \
                free(after);                                                                            \
                after = snapshot(service);                                                              \
                cr_assert_str_neq(before, after, "%s changed nothing", what);                           \
                assert_store_agrees();                                                                  \
        } while (0)

Test(kms_service, every_change_is_all_or_nothing) {
        KeyEntry *a = create(KEY_SPEC_HMAC_256), *b = create(KEY_SPEC_HMAC_384);
        KeyTag more[] = { { (char *) "env", (char *) "prod" } };
        const char *drop[] = { "team" };
        size_t n = service->index.n;
        Alias *alias;

        /* CreateKey: a failed one leaves no key behind, in memory or on disk. */
        {
                _cleanup_free_ char *before = snapshot(service), *after = NULL;
                KmsFailure f = {};
                KeyEntry *e = NULL;

                service->fault = KMS_FAULT_BEFORE_COMMIT;
                cr_assert_lt(kms_create_key(service, 0, KEY_SPEC_HMAC_224, KEY_ORIGIN_HMACD, 0, "", NULL, 0, &f, &e), 0);
                service->fault = KMS_FAULT_NONE;
                cr_assert_null(e);
                after = snapshot(service);
                cr_assert_str_eq(before, after);
                cr_assert_eq(service->index.n, n);
                assert_store_agrees();
        }

        CHECK_OPERATION("DisableKey", kms_set_enabled(service, a, false, &f));
        CHECK_OPERATION("UpdateKeyDescription", kms_update_description(service, a, "changed", &f));
        CHECK_OPERATION("TagResource", kms_tag(service, a, more, 1, &f));
        CHECK_OPERATION("UntagResource", kms_untag(service, a, drop, 1, &f));
        CHECK_OPERATION("CreateAlias", kms_create_alias(service, "alias/one", a, &f));
        alias = alias_index_find(&service->aliases, "alias/one");
        cr_assert_not_null(alias);
        CHECK_OPERATION("UpdateAlias", kms_update_alias(service, alias, b, &f));
        CHECK_OPERATION("ScheduleKeyDeletion", kms_schedule_deletion(service, b, 7, &f));
        CHECK_OPERATION("CancelKeyDeletion", kms_cancel_deletion(service, b, &f));
        alias = alias_index_find(&service->aliases, "alias/one");
        CHECK_OPERATION("DeleteAlias", kms_delete_alias(service, alias));

        /* Key material versions (kms-rotation.c), on an Enabled key. */
        {
                char previous[KMS_KEY_MATERIAL_ID_LENGTH + 1];

                a = create(KEY_SPEC_HMAC_224);
                CHECK_OPERATION("RotateKeyOnDemand", kms_rotate_on_demand(service, a, &f, NULL));
                cr_assert_eq(a->n_versions, 2);
                strcpy(previous, a->versions[0]->id);
                CHECK_OPERATION("EnableKeyRotation", kms_enable_rotation(service, a, 90, &f));
                CHECK_OPERATION("DisableKeyRotation", kms_disable_rotation(service, a, &f));
                CHECK_OPERATION("UpdateMacVerifyWindow", kms_update_verify_window(service, a, 5, &f));
                CHECK_OPERATION("RetireKeyMaterial", kms_retire_material(service, a, previous, &f));
                cr_assert_eq(a->n_versions, 1);
        }
}

/* The timer's changes: the end of a verify window and an automatic rotation, each one transaction
 * that either happens whole or leaves everything as it was (and is done at the next purge). */
Test(kms_service, timer_changes_are_all_or_nothing) {
        KeyEntry *e = create(KEY_SPEC_HMAC_256);
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct iovec msg = { (void *) "abc", 3 };
        uint8_t old_mac[KMS_MAC_SIZE_MAX];
        KmsFailure f = {};

        cr_assert_eq(kms_generate_macs(service, KMS_OP_GENERATE_MAC, e, KEY_SPEC_HMAC_256, &msg, 1, collect_mac, old_mac,
                                       &f),
                     0);
        cr_assert_eq(kms_update_verify_window(service, e, 1, &f), 0);
        cr_assert_eq(kms_rotate_on_demand(service, e, &f, NULL), 0);
        cr_assert_eq(kms_verify_mac(service, e, KEY_SPEC_HMAC_256, "abc", 3, old_mac, 32, &f), 0);

        /* Days of a microsecond: the window ended and the rotation is due. */
        service->usec_per_day = 1;
        cr_assert_eq(kms_enable_rotation(service, e, 90, &f), 0);
        usleep(1000);
        cr_assert_eq(kms_verify_mac(service, e, KEY_SPEC_HMAC_256, "abc", 3, old_mac, 32, &f), KMS_COND_INVALID_MAC,
                     "a material past its window verified before the timer destroyed it");
        before = snapshot(service);
        service->fault = KMS_FAULT_BEFORE_COMMIT;
        (void) kms_service_purge(service);
        service->fault = KMS_FAULT_NONE;
        after = snapshot(service);
        cr_assert_str_eq(before, after, "a failed purge changed the index");
        assert_store_agrees();

        cr_assert_eq(kms_service_purge(service), 0);
        free(after);
        after = snapshot(service);
        cr_assert_str_neq(before, after);
        assert_store_agrees();
        /* The previous material went; a new one came by rotation (its predecessor ends at once too). */
        cr_assert_eq(e->versions[e->n_versions - 1]->type, ROTATION_AUTOMATIC);
        cr_assert_leq(e->n_versions, 2);
        cr_assert_eq(kms_verify_mac(service, e, KEY_SPEC_HMAC_256, "abc", 3, old_mac, 32, &f), KMS_COND_INVALID_MAC);
}

/* Conditions come back positive with their detail, and change nothing. */
Test(kms_service, conditions_change_nothing) {
        KeyEntry *e = create(KEY_SPEC_HMAC_256);
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct iovec msg = { (void *) "abc", 3 };
        uint8_t mac[KMS_MAC_SIZE_MAX];
        KmsFailure f = {};
        KeyTag tags[KMS_TAGS_PER_KEY_MAX];
        char keys[KMS_TAGS_PER_KEY_MAX][8];
        char buf[256];

        cr_assert_eq(kms_set_enabled(service, e, false, &f), 0);
        before = snapshot(service);

        cr_assert_eq(kms_generate_macs(service, KMS_OP_GENERATE_MAC, e, KEY_SPEC_HMAC_256, &msg, 1, collect_mac, mac, &f),
                     KMS_COND_KEY_DISABLED);
        kms_failure_format(&f, buf, sizeof buf);
        cr_assert(strstr(buf, e->key_id) && strstr(buf, "is disabled."), "%s", buf);

        cr_assert_eq(kms_cancel_deletion(service, e, &f), KMS_COND_KEY_NOT_PENDING_DELETION);
        cr_assert_eq(kms_create_alias(service, "alias/x", e, &f), 0);
        cr_assert_eq(kms_create_alias(service, "alias/x", e, &f), KMS_COND_ALIAS_EXISTS);
        cr_assert_eq(kms_delete_alias(service, alias_index_find(&service->aliases, "alias/x")), 0);

        /* 50 tags in all: the one tag the key has plus 49 fit, 50 more do not. */
        for (size_t i = 0; i < KMS_TAGS_PER_KEY_MAX; i++) {
                snprintf(keys[i], sizeof keys[i], "k%zu", i);
                tags[i] = (KeyTag) { keys[i], keys[i] };
        }
        cr_assert_eq(kms_tag(service, e, tags, KMS_TAGS_PER_KEY_MAX, &f), KMS_COND_TAGS_TOO_MANY);

        after = snapshot(service);
        cr_assert_str_eq(before, after);
        assert_store_agrees();
}

/* MACs through the service: the same after a restart, the key's spec enforced. */
Test(kms_service, macs_survive_a_restart) {
        KeyEntry *e = create(KEY_SPEC_HMAC_512);
        struct iovec msg = { (void *) "hello", 5 };
        uint8_t mac[KMS_MAC_SIZE_MAX], again[KMS_MAC_SIZE_MAX];
        char id[KEY_ID_LEN + 1];
        KmsFailure f = {};

        cr_assert_eq(kms_generate_macs(service, KMS_OP_GENERATE_MAC, e, KEY_SPEC_HMAC_512, &msg, 1, collect_mac, mac, &f),
                     0);
        cr_assert_eq(kms_verify_mac(service, e, KEY_SPEC_HMAC_512, "hello", 5, mac, 64, &f), 0);
        cr_assert_eq(kms_verify_mac(service, e, KEY_SPEC_HMAC_512, "hellO", 5, mac, 64, &f), KMS_COND_INVALID_MAC);
        cr_assert_eq(kms_generate_macs(service, KMS_OP_GENERATE_MAC, e, KEY_SPEC_HMAC_256, &msg, 1, collect_mac, again,
                                       &f),
                     KMS_COND_ALGORITHM_INCOMPATIBLE);

        strcpy(id, e->key_id);
        kms_service_free(service);
        service = open_service();
        e = key_index_find(&service->index, id);
        cr_assert_not_null(e);
        cr_assert_eq(kms_generate_macs(service, KMS_OP_GENERATE_MAC, e, KEY_SPEC_HMAC_512, &msg, 1, collect_mac, again,
                                       &f),
                     0);
        cr_assert_eq(memcmp(mac, again, 64), 0);
}

/* Quotas per owner and in all; what a key costs is known again after a restart. */
Test(kms_service, quotas) {
        KmsQuotas q = { .max_keys = 5, .max_keys_per_user = 3, .max_bytes_per_user = 100 };
        KeyTag tag = { (char *) "Team", (char *) "0123456789012345678901234567890123456789" }; /* 44 bytes */
        KmsFailure f = {};
        KeyEntry *e = NULL, *first;
        char id[KEY_ID_LEN + 1];

        kms_service_set_quotas(service, &q);
        cr_assert_eq(kms_create_key(service, 1000, KEY_SPEC_HMAC_256, KEY_ORIGIN_HMACD, 0, "", &tag, 1, &f, &first), 0);
        strcpy(id, first->key_id);
        cr_assert_eq(kms_create_key(service, 1000, KEY_SPEC_HMAC_256, KEY_ORIGIN_HMACD, 0, "", &tag, 1, &f, &e), 0);
        /* 88 bytes held: 44 more would be 132. */
        cr_assert_eq(kms_create_key(service, 1000, KEY_SPEC_HMAC_256, KEY_ORIGIN_HMACD, 0, "", &tag, 1, &f, &e),
                     KMS_COND_BYTES_PER_USER);
        cr_assert_eq(f.number, 132);
        cr_assert_eq(kms_update_description(service, first, "0123456789abc", &f), KMS_COND_BYTES_PER_USER);
        cr_assert_eq(kms_update_description(service, first, "0123456789", &f), 0); /* 98 */
        cr_assert_eq(kms_create_key(service, 1000, KEY_SPEC_HMAC_256, KEY_ORIGIN_HMACD, 0, "", NULL, 0, &f, &e), 0);
        cr_assert_eq(kms_create_key(service, 1000, KEY_SPEC_HMAC_256, KEY_ORIGIN_HMACD, 0, "", NULL, 0, &f, &e),
                     KMS_COND_KEYS_PER_USER);
        cr_assert_eq(f.max, 3);
        /* Another owner has its own; root counts towards the total only. */
        cr_assert_eq(kms_create_key(service, 1001, KEY_SPEC_HMAC_256, KEY_ORIGIN_HMACD, 0, "", &tag, 1, &f, &e), 0);
        cr_assert_eq(kms_create_key(service, 0, KEY_SPEC_HMAC_256, KEY_ORIGIN_HMACD, 0, "", NULL, 0, &f, &e), 0);
        cr_assert_eq(kms_create_key(service, 0, KEY_SPEC_HMAC_256, KEY_ORIGIN_HMACD, 0, "", NULL, 0, &f, &e),
                     KMS_COND_KEYS_TOTAL);
        cr_assert_eq(kms_condition_to_error(KMS_COND_KEYS_TOTAL), KMS_ERROR_LIMIT_EXCEEDED);

        /* After a restart the same bytes are counted. */
        kms_service_free(service);
        service = open_service();
        kms_service_set_quotas(service, &q);
        first = key_index_find(&service->index, id);
        cr_assert_not_null(first);
        cr_assert_eq(first->tag_bytes, 44);
        cr_assert_eq(first->description_size, 10);
        cr_assert_eq(kms_tag(service, first, &(KeyTag) { (char *) "More", (char *) "x" }, 1, &f),
                     KMS_COND_BYTES_PER_USER);
}
