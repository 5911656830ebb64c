/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's MAC engines, through the bus: the kernel engine (Backend "keyring-logon+af_alg": logon
 * keys, HMACs computed by AF_ALG sockets keyed by key serial) against RFC 4231 and OpenSSL for keys of
 * every spec and imported lengths, logon keys nobody can read, no key bytes in the daemon's memory
 * while it serves MACs, restarts and kill -9, deletion and eviction closing sockets, and stores moving
 * between the kernel and the OpenSSL engine.
 *
 * Most tests need the kernel engine. Where the daemon runs another (this development machine's
 * kernel has no AF_ALG) they skip, saying why; HMACD_TEST_REQUIRE_AFALG=1 (set by `make check-kernel`
 * in the VM) makes that a failure. --engine=openssl and a refused --engine=kernel are tested anywhere.
 *
 * Imports are slow in the VM (each GetParametersForImport makes an RSA key, seconds under emulation),
 * so most imported keys come from a fixture made on the host: `make check-kernel` first runs
 * engine/make_fixture here with HMACD_TEST_ENGINE_FIXTURE_OUT=DIR (the OpenSSL engine imports random
 * material of the lengths at and next to the ends of each spec's window and at the hash's block size,
 * or of every allowed length with HMACD_TEST_ENGINE_ALL_LENGTHS=1, and RFC 4231's test case 6/7 keys;
 * it writes the store, its KEK and the materials to DIR), then engine/fixture_* in the guest with
 * HMACD_TEST_ENGINE_FIXTURE=DIR open that store under the kernel engine. That also shows a store made
 * by the OpenSSL engine opening under the kernel engine. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/afalg.h"
#include "bus-assert.h"
#include "bus-call.h"
#include "harness.h"
#include "memscan.h"
#include "macro.h"

#define KERNEL_BACKEND      "keyring-logon+af_alg"
#define IMPORT_TIMEOUT_USEC (180 * HARNESS_USEC_PER_SEC)
#define OPENSSL_BACKEND     "keyring-user+openssl"

typedef struct Spec {
        const char *spec, *alg;
        size_t min, max, mac_size, block;
        const EVP_MD *(*md)(void);
} Spec;

static const Spec specs[] = {
        { "HMAC_224", "HMAC_SHA_224", 28, 64, 28, 64, EVP_sha224 },
        { "HMAC_256", "HMAC_SHA_256", 32, 64, 32, 64, EVP_sha256 },
        { "HMAC_384", "HMAC_SHA_384", 48, 128, 48, 128, EVP_sha384 },
        { "HMAC_512", "HMAC_SHA_512", 64, 128, 64, 128, EVP_sha512 },
};

static void teardown(void) {
        bus_close();
        harness_teardown();
}

/* ---- the engine in use ---- */

static void backend(char *buf, size_t size) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *value = NULL;
        sd_bus *bus = NULL;

        cr_assert(sd_bus_open_system(&bus) >= 0);
        cr_assert(sd_bus_get_property_string(bus, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, HARNESS_INTERFACE,
                                             "Backend", &e, &value) >= 0,
                  "Backend: %s", e.message);
        snprintf(buf, size, "%s", value);
        free(value);
        sd_bus_flush_close_unref(bus);
}

static bool afalg_required(void) {
        const char *r = getenv("HMACD_TEST_REQUIRE_AFALG");
        return r && streq(r, "1");
}

/* Skips (or fails, where the kernel engine is required) unless the daemon runs the kernel engine. */
static void require_kernel_engine(void) {
        const char *step = NULL;
        char b[128];
        int r;

        backend(b, sizeof b);
        if (streq(b, KERNEL_BACKEND))
                return;
        r = afalg_probe(&step);
        cr_assert(!afalg_required(),
                  "the daemon's Backend is '%s', not " KERNEL_BACKEND " (probe here: %s%s%s)", b,
                  r < 0 ? step : "passed", r < 0 ? " failed: " : "", r < 0 ? strerror(-r) : "");
        cr_skip_test("the daemon runs the engine '%s', not " KERNEL_BACKEND
                     ": this kernel cannot compute HMACs "
                     "through AF_ALG keyed by a key serial (%s failed: %s)",
                     b, step ?: "the probe", r < 0 ? strerror(-r) : "?");
}

static void restart_with(const char *arg, ...) {
        char *args[8] = {};
        size_t n = 0;
        va_list ap;

        bus_close();
        if (harness_daemon_running())
                cr_assert(harness_daemon_stop(NULL) >= 0);
        va_start(ap, arg);
        for (const char *a = arg; a && n < ELEMENTSOF(args) - 1; a = va_arg(ap, const char *))
                args[n++] = (char *) a;
        va_end(ap);
        cr_assert(harness_daemon_startv(args) >= 0);
}

/* ---- calls ---- */

static sd_bus *connection(bool fresh) {
        static sd_bus *bus;
        static pid_t owner;

        if (fresh || !bus || owner != getpid()) {
                if (bus && owner == getpid())
                        sd_bus_flush_close_unref(bus);
                bus = NULL;
                cr_assert(sd_bus_open_system(&bus) >= 0);
                owner = getpid();
        }
        return bus;
}

static sd_bus_message *new_call(const char *method) {
        sd_bus_message *m = NULL;
        cr_assert(sd_bus_message_new_method_call(connection(false), &m, HARNESS_BUS_NAME,
                                                 HARNESS_OBJECT_PATH, HARNESS_INTERFACE, method) >= 0);
        return m;
}

/* GenerateMac; returns the MAC's size (0 and *e set on an error). */
static size_t generate_mac(const char *key, const char *alg, const void *msg, size_t n, uint8_t *out,
                           sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_call("GenerateMac"), *reply = NULL;
        const void *p;
        size_t len = 0;

        cr_assert(sd_bus_message_append(m, "s", key) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', msg, n) >= 0);
        cr_assert(sd_bus_message_append(m, "s", alg) >= 0);
        if (sd_bus_call(connection(false), m, 0, e, &reply) < 0)
                return 0;
        cr_assert(sd_bus_message_read_array(reply, 'y', &p, &len) >= 0);
        cr_assert(len <= 64);
        memcpy(out, p, len);
        return len;
}

static size_t mac_or_die(const char *key, const char *alg, const void *msg, size_t n, uint8_t *out) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        size_t len = generate_mac(key, alg, msg, n, out, &e);
        cr_assert(len > 0, "GenerateMac(%s): %s: %s", key, e.name, e.message);
        return len;
}

/* VerifyMac: 1 valid, 0 KMSInvalidMacException; anything else fails the test. */
static int verify_mac(const char *key, const char *alg, const void *msg, size_t n, const void *mac,
                      size_t mac_size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_call("VerifyMac"), *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int valid = 0;

        cr_assert(sd_bus_message_append(m, "s", key) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', msg, n) >= 0);
        cr_assert(sd_bus_message_append(m, "s", alg) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', mac, mac_size) >= 0);
        if (sd_bus_call(connection(false), m, 0, &e, &reply) < 0) {
                cr_assert_str_eq(bus_error_exception(&e), "KMSInvalidMacException", "%s", e.message);
                sd_bus_error_free(&e);
                return 0;
        }
        cr_assert(sd_bus_message_read(reply, "b", &valid) >= 0);
        cr_assert(valid);
        return 1;
}

/* GenerateMacBatch of n messages; the MACs go to out[i] (64 bytes each). */
static void generate_mac_batch(const char *key, const char *alg, const struct iovec *msgs, size_t n,
                               uint8_t (*out)[64], size_t mac_size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_call("GenerateMacBatch"), *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;

        cr_assert(sd_bus_message_append(m, "s", key) >= 0);
        cr_assert(sd_bus_message_open_container(m, 'a', "ay") >= 0);
        for (size_t i = 0; i < n; i++)
                cr_assert(sd_bus_message_append_array(m, 'y', msgs[i].iov_base, msgs[i].iov_len) >= 0);
        cr_assert(sd_bus_message_close_container(m) >= 0);
        cr_assert(sd_bus_message_append(m, "s", alg) >= 0);
        ok(sd_bus_call(connection(false), m, 0, &e, &reply), &e, "GenerateMacBatch");
        cr_assert(sd_bus_message_enter_container(reply, 'a', "ay") >= 0);
        for (size_t i = 0; i < n; i++) {
                const void *p;
                size_t len;
                cr_assert(sd_bus_message_read_array(reply, 'y', &p, &len) > 0, "MAC %zu of %zu", i, n);
                cr_assert_eq(len, mac_size);
                memcpy(out[i], p, len);
        }
}

/* ---- import ---- */

/* CreateKey(EXTERNAL) and ImportKeyMaterial of material, wrapped with RSA-2048 OAEP-SHA-256. */
static void import_into(const char *id, const void *material, size_t n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *m = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const void *token, *der;
        size_t token_size, der_size, len = 1024;
        uint8_t wrapped[1024];
        const uint8_t *p;
        EVP_PKEY_CTX *ctx;
        EVP_PKEY *pub;
        uint64_t valid_to;

        /* An RSA key is made per call: seconds under emulation, hence the long timeout. */
        m = new_call("GetParametersForImport");
        cr_assert(sd_bus_message_append(m, "sss", id, "RSAES_OAEP_SHA_256", "RSA_2048") >= 0);
        ok(sd_bus_call(connection(false), m, IMPORT_TIMEOUT_USEC, &e, &reply), &e, "GetParametersForImport");
        m = sd_bus_message_unref(m);
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
        cr_assert(EVP_PKEY_encrypt(ctx, wrapped, &len, material, n) == 1);
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pub);

        m = new_call("ImportKeyMaterial");
        cr_assert(sd_bus_message_append(m, "s", id) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', token, token_size) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', wrapped, len) >= 0);
        cr_assert(sd_bus_message_append(m, "st", "KEY_MATERIAL_DOES_NOT_EXPIRE", UINT64_C(0)) >= 0);
        ok(sd_bus_call(connection(false), m, IMPORT_TIMEOUT_USEC, &e, NULL), &e, "ImportKeyMaterial");
}

static void import_key(const char *spec, const void *material, size_t n, char *ret_id) {
        cr_assert(bus_create_key(spec, "EXTERNAL", ret_id) >= 0);
        import_into(ret_id, material, n);
}

static void openssl_hmac(const Spec *s, const void *key, size_t key_size, const void *msg, size_t n,
                         uint8_t *out) {
        unsigned len = 0;
        cr_assert(HMAC(s->md(), key, (int) key_size, msg, n, out, &len));
        cr_assert_eq(len, s->mac_size);
}

/* ---- the daemon's process ---- */

/* How many of the daemon's open files are sockets (its bus connection, and with the kernel engine one
 * AF_ALG operation socket per key in the cache that has served a MAC). */
static size_t daemon_sockets(void) {
        char path[64], link[64];
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        snprintf(path, sizeof path, "/proc/%d/fd", (int) harness_daemon_pid());
        d = opendir(path);
        cr_assert(d, "%s: %m", path);
        while ((de = readdir(d))) {
                char fd_path[384];
                ssize_t k;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(fd_path, sizeof fd_path, "%s/%s", path, de->d_name);
                k = readlink(fd_path, link, sizeof link - 1);
                if (k > 0) {
                        link[k] = 0;
                        n += strncmp(link, "socket:", 7) == 0;
                }
        }
        closedir(d);
        return n;
}

/* One gdb session on the live daemon (root may attach, although the daemon is not dumpable; gdb is
 * slow to start under emulation, hence one): the serials of its cached keys, as test-secrets reads
 * them, and the daemon itself, their possessor, calling keyctl_read() on the first (errno after). */
static size_t gdb_cache_serials(int32_t *ret, size_t max, long *ret_read, int *ret_errno) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        const char *p;
        char pid_arg[32];
        size_t n = 0;

        snprintf(pid_arg, sizeof pid_arg, "%d", (int) harness_daemon_pid());
        cr_assert(harness_runl(
                          NULL, &res, "gdb", "-nx", "-batch", "-iex", "set debuginfod enabled off", "-p",
                          pid_arg, "-ex", "frame function main", "-ex",
                          "print *m->service->material->cache->slots@m->service->material->cache->n_slots",
                          "-ex",
                          "print (long) keyctl_read(m->service->material->cache->slots[0].serial, (char *) "
                          "0, 0)",
                          "-ex", "print *(int *) __errno_location()", NULL) >= 0);
        for (p = res.out; (p = strstr(p, "serial = ")) && n < max; p++) {
                int32_t s;
                if (sscanf(p, "serial = %" SCNd32, &s) == 1 && s > 0)
                        ret[n++] = s;
        }
        p = strstr(res.out, "$2 = ");
        cr_assert(p && sscanf(p, "$2 = %ld", ret_read) == 1, "gdb could not call keyctl_read: %s\n%s",
                  res.out, res.err);
        p = strstr(res.out, "$3 = ");
        cr_assert(p && sscanf(p, "$3 = %d", ret_errno) == 1, "%s", res.out);
        if (n == 0)
                fprintf(stderr, "test-engine: gdb found no cache serials:\n%s\n%s\n", res.out, res.err);
        return n;
}

TestSuite(engine, .init = harness_setup_daemon, .fini = teardown, .timeout = 600);

/* ---- tests ---- */

Test(engine, backend_is_the_kernel_engine) {
        _cleanup_free_ char *log = NULL;

        require_kernel_engine();
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(strstr(log, "engine " KERNEL_BACKEND), "the start-up log does not name the engine:\n%s",
                  log);
}

Test(engine, openssl_engine_on_request) {
        _cleanup_free_ char *log = NULL;
        uint8_t mac[64];
        char b[128], id[37];

        restart_with("--engine=openssl", NULL);
        backend(b, sizeof b);
        cr_assert_str_eq(b, OPENSSL_BACKEND);
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(strstr(log, "engine " OPENSSL_BACKEND), "%s", log);
        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        cr_assert_eq(mac_or_die(id, "HMAC_SHA_256", "x", 1, mac), 32);
}

/* Where the kernel cannot, --engine=kernel is a start-up failure that names the failed step. */
Test(engine, kernel_engine_refused_where_the_kernel_cannot) {
        _cleanup_free_ char *log = NULL;
        const char *step = NULL;
        int r;

        r = afalg_probe(&step);
        if (r >= 0) {
                restart_with("--engine=kernel", NULL);
                char b[128];
                backend(b, sizeof b);
                cr_assert_str_eq(b, KERNEL_BACKEND);
                cr_skip_test("this kernel has the kernel engine: --engine=kernel started with Backend %s",
                             b);
        }
        bus_close();
        cr_assert(harness_daemon_stop(NULL) >= 0);
        r = harness_daemon_startl("--engine=kernel", NULL);
        cr_assert_eq(r, -ECHILD, "hmacd --engine=kernel started on a kernel where %s fails", step);
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert(strstr(log, "--engine=kernel"), "%s", log);
        cr_assert(strstr(log, step), "the failure does not name the step (%s):\n%s", step, log);
}

/* ---- the fixture: imported keys made on the host, used in the VM ---- */

static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
static const char m7[] =
        "This is a test using a larger than block-size key and a larger than block-size data. The "
        "key needs to be hashed before being used by the HMAC algorithm.";

/* RFC 4231's test cases 6 and 7: none of its keys fits an import window as it is (20, 4, 25 and 131
 * bytes), so the 131-byte 0xaa key hashed first (what HMAC does with a key longer than the block: the
 * same tags), for SHA-256 (32 bytes) and SHA-512 (64 bytes). */
static const struct {
        size_t spec;
        const char *t6, *t7;
} rfc4231[] = {
        { 1, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
        { 3,
          "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e529"
          "5e64f73f63f0"
          "aec8b915a985d786598",
          "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de151"
          "34676fb6de04"
          "46065c97440fa8c6a58" },
};

static size_t unhex(const char *hex, uint8_t *out, size_t size) {
        size_t n = strlen(hex) / 2;
        cr_assert_leq(n, size);
        for (size_t i = 0; i < n; i++)
                cr_assert(sscanf(hex + 2 * i, "%2hhx", &out[i]) == 1);
        return n;
}

static void tohex(const uint8_t *p, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static bool length_chosen(const Spec *sp, size_t l, bool every) {
        size_t lengths[] = { sp->min, sp->min + 1, sp->block - 1, sp->block, sp->max - 1, sp->max };
        for (size_t i = 0; !every && i < ELEMENTSOF(lengths); i++)
                if (lengths[i] == l)
                        return true;
        return every;
}

static void copy_file(const char *from, const char *to, uid_t uid, gid_t gid) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        FILE *f;

        cr_assert(harness_read_file(from, &data, &size) >= 0, "%s", from);
        f = fopen(to, "we");
        cr_assert(f, "%s: %m", to);
        cr_assert_eq(fwrite(data, 1, size, f), size);
        cr_assert_eq(fclose(f), 0);
        cr_assert_eq(chmod(to, 0600), 0);
        cr_assert_eq(chown(to, uid, gid), 0, "chown %s: %m", to);
}

static void copy_dir(const char *from, const char *to, uid_t uid, gid_t gid) {
        struct dirent *de;
        DIR *d = opendir(from);

        cr_assert(d, "%s: %m", from);
        while ((de = readdir(d))) {
                char a[4096], b[4096];
                if (de->d_type != DT_REG)
                        continue;
                snprintf(a, sizeof a, "%s/%s", from, de->d_name);
                snprintf(b, sizeof b, "%s/%s", to, de->d_name);
                copy_file(a, b, uid, gid);
        }
        closedir(d);
}

/* On the host, with HMACD_TEST_ENGINE_FIXTURE_OUT=DIR: DIR/state (the store and its KEK) and DIR/keys
 * ("<key-id> <spec index> <material in hex>" or "rfc4231 <key-id> <case index>" per line). */
Test(engine, make_fixture) {
        const char *out = getenv("HMACD_TEST_ENGINE_FIXTURE_OUT"),
                   *all = getenv("HMACD_TEST_ENGINE_ALL_LENGTHS");
        bool every = all && streq(all, "1");
        char path[4096], state[4096];
        size_t imports = 0;
        FILE *keys;

        if (!out)
                cr_skip_test("the fixture is made by make check-kernel (HMACD_TEST_ENGINE_FIXTURE_OUT=DIR)");
        snprintf(state, sizeof state, "%s/state", out);
        cr_assert(mkdir(out, 0755) == 0 || errno == EEXIST, "%s: %m", out);
        cr_assert(mkdir(state, 0700) == 0 || errno == EEXIST, "%s: %m", state);
        snprintf(path, sizeof path, "%s/keys", out);
        keys = fopen(path, "we");
        cr_assert(keys, "%s: %m", path);

        for (size_t s = 0; s < ELEMENTSOF(specs); s++)
                for (size_t l = specs[s].min; l <= specs[s].max; l++) {
                        uint8_t key[128], mac[64], want[64];
                        char id[37], hex[257];

                        if (!length_chosen(&specs[s], l, every))
                                continue;
                        cr_assert(getrandom(key, l, 0) == (ssize_t) l);
                        import_key(specs[s].spec, key, l, id);
                        /* The OpenSSL engine agrees with OpenSSL, as a start. */
                        mac_or_die(id, specs[s].alg, m6, strlen(m6), mac);
                        openssl_hmac(&specs[s], key, l, m6, strlen(m6), want);
                        cr_assert(memcmp(mac, want, specs[s].mac_size) == 0);
                        tohex(key, l, hex);
                        fprintf(keys, "%s %zu %s\n", id, s, hex);
                        imports++;
                }
        for (size_t i = 0; i < ELEMENTSOF(rfc4231); i++) {
                uint8_t long_key[131], key[64];
                unsigned key_len = 0;
                char id[37];

                memset(long_key, 0xaa, sizeof long_key);
                cr_assert(EVP_Digest(long_key, sizeof long_key, key, &key_len, specs[rfc4231[i].spec].md(),
                                     NULL) == 1);
                import_key(specs[rfc4231[i].spec].spec, key, key_len, id);
                fprintf(keys, "rfc4231 %s %zu\n", id, i);
        }
        cr_assert_eq(fclose(keys), 0);

        bus_close();
        connection(true);
        cr_assert(harness_daemon_stop(NULL) >= 0);
        copy_dir(harness_state_dir(), state, 0, 0);
        fprintf(stderr, "test-engine: fixture in %s: %zu imported keys (%s lengths) and %zu RFC 4231 keys\n",
                out, imports, every ? "all" : "edge", ELEMENTSOF(rfc4231));
}

/* In the VM: the fixture's store under the daemon (the kernel engine), or a skip that says why. */
static const char *fixture_dir(void) {
        const char *dir = getenv("HMACD_TEST_ENGINE_FIXTURE");

        if (!dir) {
                cr_assert(!afalg_required(), "no HMACD_TEST_ENGINE_FIXTURE (make check-kernel makes one)");
                cr_skip_test(
                        "no fixture: HMACD_TEST_ENGINE_FIXTURE=DIR names one that engine/make_fixture made");
        }
        return dir;
}

static void fixture_start(void) {
        const char *dir;
        char path[4096];
        uid_t uid;
        gid_t gid;

        /* The suite's .init ran first: its daemon and its new store make way for the fixture's. */
        dir = fixture_dir();
        if (harness_daemon_running())
                harness_check(harness_daemon_stop(NULL), "stop the daemon");
        {
                DIR *d = opendir(harness_state_dir());
                struct dirent *de;
                cr_assert(d);
                while ((de = readdir(d)))
                        if (de->d_type == DT_REG)
                                cr_assert_eq(unlinkat(dirfd(d), de->d_name, 0), 0, "%s: %m", de->d_name);
                closedir(d);
        }
        snprintf(path, sizeof path, "%s/state", dir);
        cr_assert(harness_lookup_user(HARNESS_DAEMON_USER, &uid, &gid) >= 0);
        copy_dir(path, harness_state_dir(), uid, gid);
        harness_check(harness_daemon_start(), "start the daemon on the fixture's store");
}

/* Every fixture key's MACs (GenerateMacBatch of three random messages, GenerateMac) equal OpenSSL's with
 * its material, VerifyMac takes them and refuses altered ones; RFC 4231's keys give its tags. */
static size_t check_fixture_keys(bool full) {
        char path[4096], line[512];
        size_t n = 0;
        FILE *keys;

        snprintf(path, sizeof path, "%s/keys", fixture_dir());
        keys = fopen(path, "re");
        cr_assert(keys, "%s: %m", path);
        while (fgets(line, sizeof line, keys)) {
                char id[64], hex[300];
                size_t s, i;

                if (sscanf(line, "rfc4231 %63s %zu", id, &i) == 2) {
                        const Spec *sp = &specs[rfc4231[i].spec];
                        uint8_t want[64], mac[64];
                        size_t k = unhex(rfc4231[i].t6, want, sizeof want);

                        cr_assert_eq(mac_or_die(id, sp->alg, m6, strlen(m6), mac), k);
                        cr_assert(memcmp(mac, want, k) == 0, "%s: RFC 4231 test case 6", sp->spec);
                        k = unhex(rfc4231[i].t7, want, sizeof want);
                        cr_assert_eq(mac_or_die(id, sp->alg, m7, strlen(m7), mac), k);
                        cr_assert(memcmp(mac, want, k) == 0, "%s: RFC 4231 test case 7", sp->spec);
                        cr_assert_eq(verify_mac(id, sp->alg, m7, strlen(m7), want, k), 1);
                        n++;
                        continue;
                }
                cr_assert_eq(sscanf(line, "%63s %zu %299s", id, &s, hex), 3, "%s: %s", path, line);
                cr_assert_lt(s, ELEMENTSOF(specs));

                const Spec *sp = &specs[s];
                uint8_t key[128], msg[3][4096], want[64], macs[3][64], mac[64];
                size_t l = unhex(hex, key, sizeof key), sizes[3] = { 1, 1 + (l * 37) % 300, 4096 };
                struct iovec iov[3];

                for (size_t j = 0; j < 3; j++) {
                        cr_assert(getrandom(msg[j], sizes[j], 0) == (ssize_t) sizes[j]);
                        iov[j] = (struct iovec){ msg[j], sizes[j] };
                }
                generate_mac_batch(id, sp->alg, iov, 3, macs, sp->mac_size);
                for (size_t j = 0; j < 3; j++) {
                        openssl_hmac(sp, key, l, msg[j], sizes[j], want);
                        cr_assert(memcmp(macs[j], want, sp->mac_size) == 0,
                                  "%s, %zu-byte key, %zu-byte message: the batch MAC is not OpenSSL's",
                                  sp->spec, l, sizes[j]);
                }
                if (full) {
                        cr_assert_eq(mac_or_die(id, sp->alg, msg[1], sizes[1], mac), sp->mac_size);
                        openssl_hmac(sp, key, l, msg[1], sizes[1], want);
                        cr_assert(memcmp(mac, want, sp->mac_size) == 0, "%s, %zu-byte key: GenerateMac",
                                  sp->spec, l);
                        cr_assert_eq(verify_mac(id, sp->alg, msg[1], sizes[1], want, sp->mac_size), 1);
                        want[sp->mac_size - 1] ^= 1;
                        cr_assert_eq(verify_mac(id, sp->alg, msg[1], sizes[1], want, sp->mac_size), 0);
                        want[sp->mac_size - 1] ^= 1;
                        cr_assert_eq(verify_mac(id, sp->alg, msg[1], sizes[1], want, sp->mac_size - 1), 0);
                        cr_assert_eq(verify_mac(id, sp->alg, msg[0], sizes[0], want, sp->mac_size), 0);
                }
                n++;
        }
        fclose(keys);
        cr_assert_gt(n, 0, "%s lists no key", path);
        return n;
}

/* The fixture's key of spec index s and length l: its ID and material; returns l. */
static size_t fixture_find(size_t spec, size_t l, char *ret_id, uint8_t *ret_material) {
        char path[4096], line[512];
        FILE *keys;

        snprintf(path, sizeof path, "%s/keys", fixture_dir());
        keys = fopen(path, "re");
        cr_assert(keys, "%s: %m", path);
        while (fgets(line, sizeof line, keys)) {
                char id[64], hex[300];
                size_t s;

                if (sscanf(line, "%63s %zu %299s", id, &s, hex) == 3 && s == spec && strlen(hex) == 2 * l) {
                        strcpy(ret_id, id);
                        (void) unhex(hex, ret_material, l);
                        fclose(keys);
                        return l;
                }
        }
        fclose(keys);
        cr_assert_fail("the fixture has no %s key of %zu bytes", specs[spec].spec, l);
        return 0;
}

Test(engine, fixture_keys_match_openssl_and_rfc4231, .init = fixture_start) {
        size_t n;

        require_kernel_engine();
        n = check_fixture_keys(true);
        fprintf(stderr,
                "test-engine: %zu imported keys of the fixture (made under OpenSSL) under the kernel "
                "engine: "
                "GenerateMacBatch, GenerateMac and VerifyMac equal to OpenSSL and RFC 4231\n",
                n);
}

Test(engine, fixture_keys_survive_restart_and_kill, .init = fixture_start) {
        require_kernel_engine();
        (void) check_fixture_keys(false);
        bus_close();
        connection(true);
        cr_assert(harness_daemon_restart() >= 0);
        (void) check_fixture_keys(false);
        bus_close();
        connection(true);
        cr_assert(harness_daemon_kill() >= 0);
        cr_assert(harness_daemon_restart() >= 0);
        (void) check_fixture_keys(false);
}

/* Generated keys of every spec keep their MACs when the store moves from the kernel engine to the
 * OpenSSL engine and back (the sealed material is the same); the OpenSSL engine's MAC of a generated
 * key is thereby a second opinion on the kernel's. */
Test(engine, a_store_opens_under_either_engine) {
        char ids[8][37];
        uint8_t macs[8][64], mac[64];
        static const char msg[] = "the same message under both engines";
        char b[128];

        require_kernel_engine();
        for (size_t i = 0; i < 4; i++) {
                cr_assert(bus_create_key(specs[i].spec, NULL, ids[i]) >= 0);
                mac_or_die(ids[i], specs[i].alg, msg, sizeof msg, macs[i]);
        }
        restart_with("--engine=openssl", NULL);
        backend(b, sizeof b);
        cr_assert_str_eq(b, OPENSSL_BACKEND);
        for (size_t i = 0; i < 4; i++) {
                cr_assert_eq(mac_or_die(ids[i], specs[i].alg, msg, sizeof msg, mac), specs[i].mac_size);
                cr_assert(memcmp(mac, macs[i], specs[i].mac_size) == 0,
                          "%s: the OpenSSL engine's MAC differs", specs[i].spec);
        }
        for (size_t i = 4; i < 8; i++) {
                cr_assert(bus_create_key(specs[i - 4].spec, NULL, ids[i]) >= 0);
                mac_or_die(ids[i], specs[i - 4].alg, msg, sizeof msg, macs[i]);
        }
        restart_with("--engine=kernel", NULL);
        backend(b, sizeof b);
        cr_assert_str_eq(b, KERNEL_BACKEND);
        for (size_t i = 0; i < 8; i++) {
                const Spec *sp = &specs[i % 4];
                cr_assert_eq(mac_or_die(ids[i], sp->alg, msg, sizeof msg, mac), sp->mac_size);
                cr_assert(memcmp(mac, macs[i], sp->mac_size) == 0,
                          "%s (made under %s): the kernel engine's MAC differs", sp->spec,
                          i < 4 ? "the kernel engine" : "OpenSSL");
        }
}

/* keyctl read and pipe of a live key fail for root and for the daemon's user; and the daemon itself,
 * the keys' possessor, cannot read them back either (asked through gdb: logon keys have no read). */
Test(engine, live_logon_keys_cannot_be_read) {
        int32_t serials[16];
        uint8_t mac[64];
        char id[37], buf[32];
        long got = 0;
        int err = 0;
        size_t n;

        require_kernel_engine();
        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        mac_or_die(id, "HMAC_SHA_256", "x", 1, mac);
        n = gdb_cache_serials(serials, ELEMENTSOF(serials), &got, &err);
        cr_assert_eq(n, 1, "%zu cached keys found with gdb", n);

        /* The possessor itself. */
        cr_assert_eq(got, -1, "the daemon read its own logon key %" PRId32 " (%ld bytes)", serials[0], got);
        cr_assert_eq(err, EOPNOTSUPP, "keyctl_read in the daemon: %s", strerror(err));
        fprintf(stderr, "test-engine: keyctl_read of logon key %" PRId32 " in the daemon itself: %s\n",
                serials[0], strerror(err));

        /* Root and the daemon's user. */
        snprintf(buf, sizeof buf, "%" PRId32, serials[0]);
        for (size_t u = 0; u < 2; u++)
                for (size_t c = 0; c < 2; c++) {
                        _cleanup_(harness_result_done) HarnessResult res = {};
                        const char *user = u ? HARNESS_DAEMON_USER : NULL, *cmd = c ? "pipe" : "read";
                        cr_assert(harness_runl(user, &res, "keyctl", cmd, buf, NULL) >= 0);
                        cr_assert_neq(res.exit_code, 0, "keyctl %s %s as %s succeeded: %s", cmd, buf,
                                      user ?: "root", res.out);
                        cr_assert_eq(res.out_size, 0, "keyctl %s printed: %s", cmd, res.out);
                        fprintf(stderr, "test-engine: keyctl %s %s as %s: %s", cmd, buf, user ?: "root",
                                res.err);
                }
        cr_assert(harness_daemon_running());
        mac_or_die(id, "HMAC_SHA_256", "x", 1, mac);
}

/* ---- memory ---- */

#define WINDOW 16

typedef struct Scan {
        const uint8_t *material;
        size_t size;
        const char *control;
        bool control_seen;
} Scan;

static void scan_chunk(const uint8_t *buf, size_t n, unsigned long address, const char *where, void *userdata) {
        Scan *s = userdata;

        for (size_t off = 0; off + WINDOW <= s->size; off++) {
                const uint8_t *hit = memmem(buf, n, s->material + off, WINDOW);
                cr_assert(!hit, "key bytes %zu..%zu are in the daemon's memory at %#lx (%s)", off, off + WINDOW - 1,
                          address + (unsigned long) (hit - buf), where);
        }
        s->control_seen = s->control_seen || memmem(buf, n, s->control, strlen(s->control));
}

/* Every 16-byte window of material (each offset) and the control string, in all of pid's readable
 * memory (memscan.h; MADV_DONTDUMP buffers too). */
static void scan_memory(pid_t pid, const uint8_t *material, size_t size, const char *control,
                        size_t *ret_bytes) {
        Scan s = { .material = material, .size = size, .control = control };

        memscan(pid, 2 * size, scan_chunk, &s, ret_bytes, NULL);
        cr_assert(s.control_seen, "the control string is nowhere in the daemon's memory: the scan is blind");
}

/* A child that asks for MACs of the key until it is stopped, checking each. */
static pid_t start_mac_load(const char *id, const uint8_t *material, size_t size) {
        pid_t pid = fork();

        cr_assert(pid >= 0);
        if (pid == 0) {
                uint8_t want[64];
                char msg[64];
                sd_bus *bus = NULL;

                if (sd_bus_open_system(&bus) < 0)
                        _exit(2);
                for (unsigned i = 0;; i++) {
                        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
                        unsigned len = 0;
                        const void *p;
                        size_t n;

                        snprintf(msg, sizeof msg, "load %u", i);
                        if (sd_bus_message_new_method_call(bus, &m, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH,
                                                           HARNESS_INTERFACE, "GenerateMac") < 0 ||
                            sd_bus_message_append(m, "s", id) < 0 ||
                            sd_bus_message_append_array(m, 'y', msg, strlen(msg)) < 0 ||
                            sd_bus_message_append(m, "s", "HMAC_SHA_512") < 0 ||
                            sd_bus_call(bus, m, 0, NULL, &reply) < 0 ||
                            sd_bus_message_read_array(reply, 'y', &p, &n) < 0)
                                _exit(3);
                        HMAC(EVP_sha512(), material, (int) size, (const uint8_t *) msg, strlen(msg), want,
                             &len);
                        if (n != 64 || memcmp(p, want, 64) != 0)
                                _exit(4);
                }
        }
        return pid;
}

static void stop_mac_load(pid_t pid) {
        int status;

        /* Still running means it never saw a wrong MAC or a failed call. */
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "the MAC load ended: %s",
                     harness_describe_status(status));
        kill(pid, SIGKILL);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
}

/* The fixture's HMAC_512 key of 128 bytes, imported with known bytes on the host: every 16-byte window
 * of it is searched for in all of the daemon's memory while a client asks for MACs with it, twice,
 * and again after kill -9 and a start that unseals it again. A control string the daemon holds (a
 * key's description) must be found, so that a clean scan means something. */
Test(engine, no_key_bytes_in_memory_while_serving_macs, .init = fixture_start) {
        uint8_t material[128], r[16];
        char id[64], control[41];
        sd_bus_error e = SD_BUS_ERROR_NULL;
        size_t bytes = 0, size;
        pid_t load;

        require_kernel_engine();
        size = fixture_find(3, 128, id, material);
        cr_assert(getrandom(r, sizeof r, 0) == sizeof r);
        strcpy(control, "control-");
        for (size_t i = 0; i < sizeof r; i++)
                snprintf(control + 8 + 2 * i, 3, "%02x", r[i]);
        ok(bus_call("CreateKey", &e, NULL, "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC", control, 0,
                    0),
           &e, "CreateKey (control)");

        load = start_mac_load(id, material, size);
        usleep(500 * 1000);
        scan_memory(harness_daemon_pid(), material, size, control, &bytes);
        scan_memory(harness_daemon_pid(), material, size, control, &bytes);
        stop_mac_load(load);
        fprintf(stderr,
                "test-engine: %zu bytes of the daemon's memory scanned twice while it served MACs with a "
                "%zu-byte "
                "key: clean\n",
                bytes, size);

        /* After kill -9 and a start that unseals the key again (and reads the control's key again). */
        bus_close();
        connection(true);
        cr_assert(harness_daemon_kill() >= 0);
        cr_assert(harness_daemon_restart() >= 0);
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                ok(bus_call("ListKeys", &e, &reply, "us", 0, ""), &e, "ListKeys");
        }
        load = start_mac_load(id, material, size);
        usleep(500 * 1000);
        scan_memory(harness_daemon_pid(), material, size, control, &bytes);
        stop_mac_load(load);
        fprintf(stderr, "test-engine: after kill -9 and restart, %zu bytes while serving MACs: clean\n",
                bytes);
}

/* ---- restarts, deletion, eviction ---- */

/* Generated keys of every spec (the fixture's imported keys: fixture_keys_survive_restart_and_kill). */
Test(engine, restart_and_kill_keep_every_keys_macs) {
        static const char msg[] = "kept across restarts";
        uint8_t macs[8][64], mac[64];
        char ids[8][37];

        require_kernel_engine();
        for (size_t i = 0; i < 8; i++) {
                cr_assert(bus_create_key(specs[i % 4].spec, NULL, ids[i]) >= 0);
                mac_or_die(ids[i], specs[i % 4].alg, msg, sizeof msg, macs[i]);
        }
        for (int round = 0; round < 2; round++) {
                bus_close();
                connection(true);
                if (round == 1)
                        cr_assert(harness_daemon_kill() >= 0);
                cr_assert(harness_daemon_restart() >= 0);
                for (size_t i = 0; i < 8; i++) {
                        const Spec *sp = &specs[i % 4];
                        cr_assert_eq(mac_or_die(ids[i], sp->alg, msg, sizeof msg, mac), sp->mac_size);
                        cr_assert(memcmp(mac, macs[i], sp->mac_size) == 0, "key %zu after %s", i,
                                  round ? "kill -9" : "a restart");
                        cr_assert_eq(verify_mac(ids[i], sp->alg, msg, sizeof msg, macs[i], sp->mac_size), 1);
                }
        }
}

/* Deleting imported material (a fixture key) closes the key's socket and drops its logon key: MACs
 * fail; a key destroyed at the end of its deletion window goes the same way, and the other keys go on. */
Test(engine, deletion_closes_sockets, .init = fixture_start) {
        static const char msg[] = "deleted";
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint8_t key[64], want[64], mac[64];
        size_t base, with_three;
        char imported[64], generated[37], other[64], state[32];

        require_kernel_engine();
        restart_with("--test-only-seconds-per-day=1", NULL);
        connection(true);
        base = daemon_sockets();
        (void) fixture_find(0, 64, other, key);
        (void) fixture_find(1, 64, imported, key);
        cr_assert(bus_create_key("HMAC_224", NULL, generated) >= 0);
        mac_or_die(imported, "HMAC_SHA_256", msg, sizeof msg, mac);
        openssl_hmac(&specs[1], key, 64, msg, sizeof msg, want);
        cr_assert(memcmp(mac, want, 32) == 0);
        mac_or_die(generated, "HMAC_SHA_224", msg, sizeof msg, mac);
        mac_or_die(other, "HMAC_SHA_224", msg, sizeof msg, mac);
        with_three = daemon_sockets();
        cr_assert_eq(with_three, base + 3, "%zu sockets before the MACs, %zu after three keys' MACs", base,
                     with_three);

        ok(bus_call("DeleteImportedKeyMaterial", &e, NULL, "s", imported), &e, "DeleteImportedKeyMaterial");
        cr_assert_eq(daemon_sockets(), base + 2, "the deleted material's socket is still open");
        cr_assert_eq(generate_mac(imported, "HMAC_SHA_256", msg, sizeof msg, mac, &e), 0);
        cr_assert_str_eq(bus_error_exception(&e), "KMSInvalidStateException", "%s", e.message);
        sd_bus_error_free(&e);

        ok(bus_call("ScheduleKeyDeletion", &e, NULL, "su", generated, 7), &e, "ScheduleKeyDeletion");
        for (int i = 0; i < 200 && bus_key_state(generated, state) >= 0; i++)
                usleep(100 * 1000);
        cr_assert(bus_key_state(generated, state) < 0, "the key still exists after its window (%s)", state);
        cr_assert_eq(daemon_sockets(), base + 1, "the destroyed key's socket is still open");
        cr_assert_eq(mac_or_die(other, "HMAC_SHA_224", msg, sizeof msg, mac), 28);
        cr_assert_eq(daemon_sockets(), base + 1);
}

/* With room for two keys, five keys used in turn: every MAC stays right (checked against the OpenSSL
 * engine afterwards), and the daemon never holds more than two AF_ALG sockets. */
Test(engine, eviction_with_two_cached_keys) {
        uint8_t macs[5][3][64], mac[64];
        size_t base, most = 0;
        char ids[5][37], msg[32];

        require_kernel_engine();
        restart_with("--cache-keys=2", NULL);
        connection(true);
        base = daemon_sockets();
        for (size_t k = 0; k < 5; k++)
                cr_assert(bus_create_key(specs[k % 4].spec, NULL, ids[k]) >= 0);
        for (int round = 0; round < 3; round++)
                for (size_t k = 0; k < 5; k++) {
                        const Spec *sp = &specs[k % 4];
                        snprintf(msg, sizeof msg, "evict %zu", k);
                        cr_assert_eq(mac_or_die(ids[k], sp->alg, msg, strlen(msg), macs[k][round]),
                                     sp->mac_size);
                        cr_assert(memcmp(macs[k][round], macs[k][0], sp->mac_size) == 0, "key %zu, round %d",
                                  k, round);
                        most = MAX(most, daemon_sockets());
                }
        cr_assert_eq(most, base + 2, "%zu sockets at most with a cache of 2 keys (%zu at start)", most,
                     base);

        restart_with("--engine=openssl", NULL);
        connection(true);
        for (size_t k = 0; k < 5; k++) {
                const Spec *sp = &specs[k % 4];
                snprintf(msg, sizeof msg, "evict %zu", k);
                mac_or_die(ids[k], sp->alg, msg, strlen(msg), mac);
                cr_assert(memcmp(mac, macs[k][0], sp->mac_size) == 0, "key %zu: OpenSSL disagrees", k);
        }
}

/* ---- figures (HMACD_TEST_ENGINE_BENCH=1; make check-kernel runs it in the VM) ---- */

static double now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Microseconds per GenerateMac over the bus, and the daemon's system calls per GenerateMac (strace -c
 * attached to the daemon for n calls), with the engine running now. */
static void measure(const char *engine, unsigned n) {
        _cleanup_free_ char *trace = NULL;
        char id[37], pid_arg[32], out_path[4096];
        uint8_t mac[64];
        double t0, t1;
        size_t size;
        pid_t strace;
        int status;

        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        for (unsigned i = 0; i < 50; i++)
                mac_or_die(id, "HMAC_SHA_256", "warm up", 7, mac);
        t0 = now_sec();
        for (unsigned i = 0; i < n; i++)
                mac_or_die(id, "HMAC_SHA_256", "a message of thirty-two bytes...", 32, mac);
        t1 = now_sec();
        fprintf(stderr, "test-engine: bench %s: %.1f us per GenerateMac over the bus (%u calls)\n", engine,
                (t1 - t0) * 1e6 / n, n);

        snprintf(pid_arg, sizeof pid_arg, "%d", (int) harness_daemon_pid());
        snprintf(out_path, sizeof out_path, "%s/strace.%s", harness_tmp_dir(), engine);
        cr_assert(harness_spawn("strace", NULL,
                                (char *[]){ (char *) "strace", (char *) "-c", (char *) "-f", (char *) "-o",
                                            out_path, (char *) "-p", pid_arg, NULL },
                                NULL, &strace) >= 0);
        usleep(1500 * 1000); /* attached */
        for (unsigned i = 0; i < n; i++)
                mac_or_die(id, "HMAC_SHA_256", "a message of thirty-two bytes...", 32, mac);
        cr_assert(harness_stop(strace, SIGINT, 10 * HARNESS_USEC_PER_SEC, &status) >= 0);
        cr_assert(harness_read_file(out_path, &trace, &size) >= 0);
        fprintf(stderr, "test-engine: bench %s: the daemon's system calls over %u GenerateMac calls:\n%s",
                engine, n, trace);
        /* Calls per GenerateMac: each row is "% seconds usecs/call calls [errors] name". */
        for (const char *l = trace; l && *l;) {
                const char *end = strchrnul(l, '\n');
                char row[256], *tok[8], *save = NULL;
                size_t n_tok = 0;

                snprintf(row, sizeof row, "%.*s", (int) (end - l), l);
                for (char *t = strtok_r(row, " \t", &save); t && n_tok < ELEMENTSOF(tok);
                     t = strtok_r(NULL, " \t", &save))
                        tok[n_tok++] = t;
                if ((n_tok == 5 || n_tok == 6) && strchr("0123456789", tok[0][0]))
                        fprintf(stderr, "test-engine: bench %s: %-12s %.2f per GenerateMac\n", engine,
                                tok[n_tok - 1], strtod(tok[3], NULL) / n);
                l = *end ? end + 1 : NULL;
        }
}

Test(engine, figures) {
        const char *bench = getenv("HMACD_TEST_ENGINE_BENCH");

        if (!bench || !streq(bench, "1"))
                cr_skip_test("figures only with HMACD_TEST_ENGINE_BENCH=1");
        require_kernel_engine();
        measure("kernel", 300);
        restart_with("--engine=openssl", NULL);
        measure("openssl", 300);
}
