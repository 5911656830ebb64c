/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Secrets stay secret: a key with known material (random bytes chosen by the test) is imported and
 * used, and then its bytes (every 16-byte window), its hex (lower and upper case) and its base64 are
 * searched for in every file of the state directory (while the daemon runs, and after a clean stop),
 * in the daemon's log with its audit lines, in a core image of the running daemon taken with gcore
 * between calls, and in all of the daemon's readable memory through /proc/PID/mem (which, unlike
 * gcore, includes the MADV_DONTDUMP buffers). None may hold it. Then the kernel keyring: a process of
 * the daemon's own user cannot see, list or read the daemon's keys, the imported key's cache entry
 * included (its serial is read from the live daemon with gdb).
 *
 * test-daemon.c has keyring_entries_are_possessor_only (the KEK and the cache keyring, by serials
 * from the log) and no_unsealed_material_in_state_dir (generated keys): not repeated here. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bus-assert.h"
#include "bus-call.h"
#include "harness.h"
#include "memscan.h"
#include "macro.h"

#define MATERIAL_SIZE 96 /* HMAC_512 takes 64..128 bytes */
#define WINDOW 16

static uint8_t material[MATERIAL_SIZE];
static char key_id[37];
/* A positive control: a random string the daemon does hold (a key's description), which every scan
 * below must find where it finds the store's contents, so that a clean result means something. */
static char control[41];

/* What is searched for: windows of the raw bytes, of the hex in both cases, and the base64. */
typedef struct Needle {
        char what[48];
        uint8_t bytes[2 * MATERIAL_SIZE + 1];
        size_t size;
} Needle;

static Needle needles[128];
static size_t n_needles;

static void add_needle(const char *what, const void *p, size_t n) {
        cr_assert(n_needles < ELEMENTSOF(needles) && n <= sizeof needles[0].bytes);
        snprintf(needles[n_needles].what, sizeof needles[n_needles].what, "%s", what);
        memcpy(needles[n_needles].bytes, p, n);
        needles[n_needles].size = n;
        n_needles++;
}

static void make_needles(void) {
        char hex[2 * MATERIAL_SIZE + 1], HEX[2 * MATERIAL_SIZE + 1], what[48];
        unsigned char b64[4 * ((MATERIAL_SIZE + 2) / 3) + 1];

        n_needles = 0;
        for (size_t off = 0; off + WINDOW <= MATERIAL_SIZE; off += 4) {
                snprintf(what, sizeof what, "key bytes %zu..%zu", off, off + WINDOW - 1);
                add_needle(what, material + off, WINDOW);
        }
        for (size_t i = 0; i < MATERIAL_SIZE; i++) {
                snprintf(hex + 2 * i, 3, "%02x", material[i]);
                snprintf(HEX + 2 * i, 3, "%02X", material[i]);
        }
        for (size_t off = 0; off + 2 * WINDOW <= 2 * MATERIAL_SIZE; off += 16) {
                snprintf(what, sizeof what, "hex of key bytes %zu..%zu", off / 2, off / 2 + WINDOW - 1);
                add_needle(what, hex + off, 2 * WINDOW);
                snprintf(what, sizeof what, "HEX of key bytes %zu..%zu", off / 2, off / 2 + WINDOW - 1);
                add_needle(what, HEX + off, 2 * WINDOW);
        }
        cr_assert(EVP_EncodeBlock(b64, material, MATERIAL_SIZE) > 0);
        add_needle("base64 of the key (first 24 characters)", b64, 24);
}

/* NULL, or the needle found in data. */
static const Needle *search(const void *data, size_t size, size_t *ret_offset) {
        for (size_t i = 0; i < n_needles; i++) {
                const uint8_t *hit = memmem(data, size, needles[i].bytes, needles[i].size);
                if (hit) {
                        *ret_offset = (size_t) (hit - (const uint8_t *) data);
                        return &needles[i];
                }
        }
        return NULL;
}

static void assert_clean(const char *where, const void *data, size_t size) {
        size_t off = 0;
        const Needle *n = search(data, size, &off);
        cr_assert(!n, "%s holds the key material: %s at offset %zu", where, n->what, off);
}

static bool has_control(const void *data, size_t size) {
        return memmem(data, size, control, strlen(control)) != NULL;
}

/* ---- calls ---- */

static sd_bus_message *new_call(sd_bus **bus, const char *method) {
        sd_bus_message *m = NULL;
        if (!*bus)
                cr_assert(sd_bus_open_system(bus) >= 0);
        cr_assert(sd_bus_message_new_method_call(*bus, &m, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, HARNESS_INTERFACE,
                                                 method) >= 0);
        return m;
}

static void import_material(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *m = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const void *token, *der;
        size_t token_size, der_size, len = 1024;
        uint8_t wrapped[1024];
        const uint8_t *p;
        EVP_PKEY *pub;
        EVP_PKEY_CTX *ctx;
        uint64_t valid_to;
        sd_bus *bus = NULL;

        ok(bus_call("GetParametersForImport", &e, &reply, "sss", key_id, "RSAES_OAEP_SHA_256", "RSA_3072"), &e,
           "GetParametersForImport");
        cr_assert(sd_bus_message_read_array(reply, 'y', &token, &token_size) >= 0);
        cr_assert(sd_bus_message_read_array(reply, 'y', &der, &der_size) >= 0);
        cr_assert(sd_bus_message_read(reply, "t", &valid_to) >= 0);
        p = der;
        pub = d2i_PUBKEY(NULL, &p, (long) der_size);
        cr_assert(pub);
        ctx = EVP_PKEY_CTX_new(pub, NULL);
        cr_assert(ctx && EVP_PKEY_encrypt_init(ctx) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1);
        cr_assert(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1);
        cr_assert(EVP_PKEY_encrypt(ctx, wrapped, &len, material, MATERIAL_SIZE) == 1);
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pub);

        m = new_call(&bus, "ImportKeyMaterial");
        cr_assert(sd_bus_message_append(m, "s", key_id) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', token, token_size) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', wrapped, len) >= 0);
        cr_assert(sd_bus_message_append(m, "st", "KEY_MATERIAL_DOES_NOT_EXPIRE", UINT64_C(0)) >= 0);
        ok(sd_bus_call(bus, m, 0, &e, NULL), &e, "ImportKeyMaterial");
        sd_bus_flush_close_unref(bus);
}

/* GenerateMac and VerifyMac with the imported key; the MAC must be the one of the chosen material. */
static void use_key(unsigned times) {
        sd_bus *bus = NULL;
        uint8_t want[64];
        unsigned want_len = 0;
        char msg[64];

        for (unsigned i = 0; i < times; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL, *v = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                const void *mac;
                size_t n;
                int valid;

                snprintf(msg, sizeof msg, "message %u", i);
                m = new_call(&bus, "GenerateMac");
                cr_assert(sd_bus_message_append(m, "s", key_id) >= 0);
                cr_assert(sd_bus_message_append_array(m, 'y', msg, strlen(msg)) >= 0);
                cr_assert(sd_bus_message_append(m, "s", "HMAC_SHA_512") >= 0);
                ok(sd_bus_call(bus, m, 0, &e, &reply), &e, "GenerateMac");
                cr_assert(sd_bus_message_read_array(reply, 'y', &mac, &n) >= 0);
                HMAC(EVP_sha512(), material, MATERIAL_SIZE, (const uint8_t *) msg, strlen(msg), want, &want_len);
                cr_assert(n == 64 && memcmp(mac, want, 64) == 0, "the MAC is not the one of the imported material");

                v = new_call(&bus, "VerifyMac");
                cr_assert(sd_bus_message_append(v, "s", key_id) >= 0);
                cr_assert(sd_bus_message_append_array(v, 'y', msg, strlen(msg)) >= 0);
                cr_assert(sd_bus_message_append(v, "s", "HMAC_SHA_512") >= 0);
                cr_assert(sd_bus_message_append_array(v, 'y', want, 64) >= 0);
                sd_bus_message_unref(reply);
                reply = NULL;
                ok(sd_bus_call(bus, v, 0, &e, &reply), &e, "VerifyMac");
                cr_assert(sd_bus_message_read(reply, "b", &valid) >= 0 && valid);
        }
        sd_bus_flush_close_unref(bus);
}

/* Import, use, re-import after deleting the material, restart, use again; other keys around it. */
static void activity(void) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char other[37];

        cr_assert(getrandom(material, sizeof material, 0) == sizeof material);
        make_needles();
        {
                uint8_t r[16];
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                cr_assert(getrandom(r, sizeof r, 0) == sizeof r);
                strcpy(control, "control-");
                for (size_t i = 0; i < sizeof r; i++)
                        snprintf(control + 8 + 2 * i, 3, "%02x", r[i]);
                ok(bus_call("CreateKey", &e, &reply, "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC", control, 0,
                            0),
                   &e, "CreateKey (control)");
        }
        for (int i = 0; i < 5; i++)
                cr_assert(bus_create_key(i % 2 ? "HMAC_512" : "HMAC_256", NULL, other) >= 0);
        cr_assert(bus_create_key("HMAC_512", "EXTERNAL", key_id) >= 0);
        import_material();
        ok(bus_call("TagResource", &e, NULL, "sa{ss}", key_id, 1, "Purpose", "secrets"), &e, "TagResource");
        ok(bus_call("CreateAlias", &e, NULL, "ss", "alias/secret", key_id), &e, "CreateAlias");
        use_key(100);
        ok(bus_call("DeleteImportedKeyMaterial", &e, NULL, "s", key_id), &e, "DeleteImportedKeyMaterial");
        import_material();
        use_key(50);
        for (int i = 0; i < 5; i++)
                cr_assert(bus_create_key("HMAC_384", NULL, other) >= 0);
        bus_close();
        cr_assert(harness_daemon_kill() >= 0);
        cr_assert(harness_daemon_restart() >= 0);
        use_key(50);
}

static void scan_state_dir(const char *when, size_t *ret_files, size_t *ret_bytes) {
        const char *dir = harness_state_dir();
        struct dirent *de;
        bool control_seen = false;
        DIR *d;

        *ret_files = *ret_bytes = 0;
        d = opendir(dir);
        cr_assert(d);
        while ((de = readdir(d))) {
                _cleanup_free_ char *data = NULL;
                char path[4096], where[4200];
                size_t size = 0;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                cr_assert(harness_read_file(path, &data, &size) >= 0, "%s", path);
                snprintf(where, sizeof where, "%s (%s)", de->d_name, when);
                assert_clean(where, data, size);
                control_seen = control_seen || has_control(data, size);
                (*ret_files)++;
                *ret_bytes += size;
        }
        closedir(d);
        cr_assert(control_seen, "the control string is in no file of the state directory (%s): the scan is blind",
                  when);
}

static void scan_chunk(const uint8_t *buf, size_t n, unsigned long address, const char *where, void *userdata) {
        bool *control_seen = userdata;
        char what[1100];

        snprintf(what, sizeof what, "the daemon's memory at %#lx (%s)", address, where);
        assert_clean(what, buf, n);
        *control_seen = *control_seen || has_control(buf, n);
}

/* Every readable mapping of pid (memscan.h); mappings of 1 GiB or more (an ASan build's shadow
 * memory) are skipped, and counted. */
static void scan_memory(pid_t pid, size_t *ret_bytes, size_t *ret_skipped) {
        bool control_seen = false;

        memscan(pid, 2 * MATERIAL_SIZE, scan_chunk, &control_seen, ret_bytes, ret_skipped);
        cr_assert(control_seen, "the control string is nowhere in the daemon's memory: the scan is blind");
}

/* A core image of the running daemon between calls. gcore ptraces the daemon: root may, although it
 * is not dumpable. Not in an ASan build (make check-asan), whose terabytes of shadow mappings gdb walks
 * for minutes; scan_memory() covers the same memory and more. */
static void scan_core(pid_t pid) {
#ifndef __SANITIZE_ADDRESS__
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *core = NULL;
        char prefix[4096], core_path[4200], pid_arg[32];
        size_t core_size = 0;

        snprintf(pid_arg, sizeof pid_arg, "%d", (int) pid);
        snprintf(prefix, sizeof prefix, "%s/core", harness_tmp_dir());
        snprintf(core_path, sizeof core_path, "%s.%d", prefix, (int) pid);
        cr_assert(harness_runl(NULL, &res, "gcore", "-o", prefix, pid_arg, NULL) >= 0);
        cr_assert(access(core_path, F_OK) == 0, "gcore made no core (exit %d): %s%s", res.exit_code, res.out,
                  res.err);
        cr_assert(harness_read_file(core_path, &core, &core_size) >= 0);
        cr_assert(core_size > 1024 * 1024, "a core of only %zu bytes", core_size);
        assert_clean("the gcore image of the running daemon", core, core_size);
        cr_assert(has_control(core, core_size), "the control string is not in the core: the scan is blind");
        fprintf(stderr, "test-secrets: gcore image of the running daemon: %zu bytes: clean\n", core_size);
        (void) unlink(core_path);
#else
        fprintf(stderr, "test-secrets: no gcore image in an ASan build\n");
#endif
}

static void teardown(void) {
        bus_close();
        harness_teardown();
}

TestSuite(secrets, .init = harness_setup_daemon, .fini = teardown, .timeout = 180);

Test(secrets, imported_key_is_nowhere_in_files_logs_or_memory) {
        _cleanup_free_ char *log = NULL;
        size_t files = 0, bytes = 0, log_size = 0, memory = 0, skipped = 0;
        pid_t pid;

        activity();
        /* The control string is in the daemon's memory once it has read that key's description. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                const char *id, *arn;
                ok(bus_call("ListKeys", &e, &reply, "us", 1, ""), &e, "ListKeys");
                cr_assert(sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0);
                cr_assert(sd_bus_message_read(reply, "(ss)", &id, &arn) > 0);
                ok(bus_call("DescribeKey", &e, NULL, "s", id), &e, "DescribeKey");
        }

        /* The state directory while the daemon runs (store, write-ahead log, its index, the KEK). */
        scan_state_dir("daemon running", &files, &bytes);
        cr_assert(files >= 3, "expected the store, its log and the KEK");
        fprintf(stderr, "test-secrets: %zu files, %zu bytes in the state directory of the running daemon: clean\n",
                files, bytes);

        /* A core image between calls, then all of its memory. */
        pid = harness_daemon_pid();
        scan_core(pid);
        /* All of its memory, the buffers gcore leaves out (MADV_DONTDUMP) included. */
        scan_memory(pid, &memory, &skipped);
        fprintf(stderr, "test-secrets: %zu bytes of the daemon's readable memory: clean (%zu reservations of 1 GiB or "
                "more skipped)\n", memory, skipped);

        /* Still serving after being traced, with the same key. */
        use_key(10);
        cr_assert(harness_daemon_running());

        /* The daemon's log: the audit trail of every call above. */
        cr_assert(harness_daemon_log(&log) >= 0);
        log_size = strlen(log);
        cr_assert(strstr(log, "op=ImportKeyMaterial"), "no audit line for the import: %s", log);
        assert_clean("the daemon's log", log, log_size);
        fprintf(stderr, "test-secrets: the daemon's log (%zu bytes, with its audit lines): clean\n", log_size);

        /* After a clean stop (the write-ahead log checkpointed into the store). */
        bus_close();
        cr_assert(harness_daemon_stop(NULL) >= 0);
        scan_state_dir("after a clean stop", &files, &bytes);
        fprintf(stderr, "test-secrets: %zu files, %zu bytes in the state directory after a clean stop: clean\n", files,
                bytes);
        fprintf(stderr, "test-secrets: %zu needles (16-byte windows of the key, its hex in both cases, base64)\n",
                n_needles);
}

/* ---- the keyring ---- */

static bool serial_in_log(const char *log, const char *label, int32_t *ret) {
        const char *p = NULL, *q = log;
        /* The last start's line. */
        while ((q = strstr(q, label))) {
                p = q;
                q++;
        }
        return p && sscanf(p + strlen(label), "%" SCNd32, ret) == 1;
}

/* The serials of the daemon's cache slots, read from the live daemon with gdb (as root, like gcore). */
static size_t cache_serials(pid_t pid, int32_t *ret, size_t max) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        char pid_arg[32];
        size_t n = 0;

        snprintf(pid_arg, sizeof pid_arg, "%d", (int) pid);
        cr_assert(harness_runl(NULL, &res, "gdb", "-nx", "-batch", "-p", pid_arg, "-ex", "frame function main", "-ex",
                               "print *m->service->material->cache->slots@m->service->material->cache->n_slots", NULL) >= 0);
        for (const char *p = res.out; (p = strstr(p, "serial = ")) && n < max; p++) {
                int32_t s;
                if (sscanf(p, "serial = %" SCNd32, &s) == 1 && s > 0)
                        ret[n++] = s;
        }
        if (n == 0)
                fprintf(stderr, "test-secrets: gdb found no cache serials:\n%s\n%s\n", res.out, res.err);
        return n;
}

Test(secrets, same_user_cannot_find_or_read_the_imported_key_in_the_keyring) {
        _cleanup_free_ char *log = NULL;
        int32_t kek = 0, cache = 0, slots[64];
        size_t n_slots;
        char buf[32];

        activity();
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(serial_in_log(log, "KEK is key ", &kek), "%s", log);
        cr_assert(serial_in_log(log, "key cache is keyring ", &cache), "%s", log);

        /* Another process of the daemon's user: /proc/keys shows it none of the daemon's keys, and it
         * can neither list nor search the cache keyring to find the entries. */
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                char hex[16];
                cr_assert(harness_runl(HARNESS_DAEMON_USER, &res, "cat", "/proc/keys", NULL) >= 0);
                snprintf(hex, sizeof hex, "%08x ", (unsigned) kek);
                cr_assert(!strstr(res.out, hex), "the KEK is visible to the daemon's user:\n%s", res.out);
                snprintf(hex, sizeof hex, "%08x ", (unsigned) cache);
                cr_assert(!strstr(res.out, hex), "the cache keyring is visible to the daemon's user:\n%s", res.out);
        }
        snprintf(buf, sizeof buf, "%" PRId32, cache);
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                cr_assert(harness_runl(HARNESS_DAEMON_USER, &res, "keyctl", "list", buf, NULL) >= 0);
                cr_assert_neq(res.exit_code, 0, "keyctl list of the cache as %s: %s", HARNESS_DAEMON_USER, res.out);
        }
        {
                _cleanup_(harness_result_done) HarnessResult res = {};
                cr_assert(harness_runl(HARNESS_DAEMON_USER, &res, "keyctl", "search", buf, "user", "hmacd:0", NULL) >= 0);
                cr_assert_neq(res.exit_code, 0, "keyctl search in the cache as %s: %s", HARNESS_DAEMON_USER, res.out);
        }

        /* The entries themselves, by serial: the imported key is live in one of them after use_key(). */
        n_slots = cache_serials(harness_daemon_pid(), slots, ELEMENTSOF(slots));
        if (n_slots == 0)
                cr_skip_test("could not read the cache slots' serials from the daemon with gdb");
        /* After the restart in activity() only the imported key has been used: it is the one entry. */
        cr_assert_eq(n_slots, 1);
        for (size_t i = 0; i < n_slots; i++) {
                const char *users[] = { HARNESS_DAEMON_USER, NULL };
                snprintf(buf, sizeof buf, "%" PRId32, slots[i]);
                for (size_t u = 0; u < ELEMENTSOF(users); u++) {
                        _cleanup_(harness_result_done) HarnessResult res = {};
                        cr_assert(harness_runl(users[u], &res, "keyctl", "pipe", buf, NULL) >= 0);
                        cr_assert_neq(res.exit_code, 0, "keyctl pipe %s as %s succeeded", buf, users[u] ?: "root");
                        cr_assert(strstr(res.err, "Permission denied"), "%s", res.err);
                        assert_clean("keyctl's output", res.out, res.out_size);
                }
        }
        fprintf(stderr, "test-secrets: %zu cache entries (the imported key's among them) unreadable by %s and root\n",
                n_slots, HARNESS_DAEMON_USER);
        use_key(1);
}
