/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Faults around the daemon: a state directory on a filesystem that fills up, store files cut short
 * or overwritten, KEKs that do not fit, polkitd killed while it is deciding, and the bus going away.
 *
 * What test-daemon.c (daemon_start) and test-polkit.c already cover is not repeated here: garbage
 * written over the start of the store, a KEK file with other 32 bytes, and polkitd stopped cleanly
 * between calls (no_polkitd_means_no_but_root_still_works). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bus-assert.h"
#include "bus-call.h"
#include "harness.h"
#include "macro.h"

static const char message[] = "fault injection";

static size_t generate_mac(const char *key, uint8_t mac[static 64]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        const void *p;
        size_t n = 0;
        int r;

        cr_assert(sd_bus_open_system(&bus) >= 0);
        cr_assert(sd_bus_message_new_method_call(bus, &m, HARNESS_BUS_NAME, HARNESS_OBJECT_PATH, HARNESS_INTERFACE,
                                                 "GenerateMac") >= 0);
        cr_assert(sd_bus_message_append(m, "s", key) >= 0);
        cr_assert(sd_bus_message_append_array(m, 'y', message, sizeof message - 1) >= 0);
        cr_assert(sd_bus_message_append(m, "s", "HMAC_SHA_256") >= 0);
        r = sd_bus_call(bus, m, 0, &e, &reply);
        cr_assert(r >= 0, "GenerateMac %s: %s: %s", key, e.name, e.message);
        cr_assert(sd_bus_message_read_array(reply, 'y', &p, &n) >= 0);
        cr_assert_eq(n, 32);
        memcpy(mac, p, n);
        sd_bus_flush_close_unref(bus);
        return n;
}

static size_t count_keys(void) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *id, *arn, *next;
        size_t n = 0;
        int truncated, r;

        ok(bus_call("ListKeys", &e, &reply, "us", 1000, ""), &e, "ListKeys");
        cr_assert(sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0);
        while ((r = sd_bus_message_read(reply, "(ss)", &id, &arn)) > 0)
                n++;
        cr_assert(r >= 0);
        cr_assert(sd_bus_message_exit_container(reply) >= 0);
        cr_assert(sd_bus_message_read(reply, "sb", &next, &truncated) >= 0);
        cr_assert(!truncated);
        return n;
}

static size_t count_entries(const char *method, const char *types, const char *key, const char *entry) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *next;
        size_t n = 0;
        int truncated, r;

        ok(bus_call(method, &e, &reply, types, key, 0, ""), &e, method);
        cr_assert(sd_bus_message_enter_container(reply, 'a', entry) >= 0);
        while ((r = sd_bus_message_skip(reply, entry)) > 0)
                n++;
        cr_assert(r >= 0);
        cr_assert(sd_bus_message_exit_container(reply) >= 0);
        cr_assert(sd_bus_message_read(reply, "sb", &next, &truncated) >= 0);
        cr_assert(!truncated);
        return n;
}

static size_t count_tags(const char *key) {
        return count_entries("ListResourceTags", "sus", key, "(ss)");
}

static size_t count_aliases(void) {
        return count_entries("ListAliases", "sus", "", "(ssstt)");
}

/* CreateKey with a description of desc_size characters; 0 or the (negative) error, in *e. */
static int create_key(size_t desc_size, char ret_id[static 37], sd_bus_error *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *desc = malloc(desc_size + 1);
        const char *name, *value;
        int r;

        cr_assert(desc);
        memset(desc, 'd', desc_size);
        desc[desc_size] = 0;
        r = bus_call("CreateKey", e, &reply, "sssa{ss}a{sv}", "HMAC_256", "GENERATE_VERIFY_MAC", desc, 1, "filler",
                     "yes", 0);
        if (r < 0)
                return r;
        cr_assert(sd_bus_message_enter_container(reply, 'a', "{sv}") >= 0);
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                cr_assert(sd_bus_message_read(reply, "s", &name) >= 0);
                if (streq(name, "KeyId")) {
                        cr_assert(sd_bus_message_read(reply, "v", "s", &value) >= 0);
                        snprintf(ret_id, 37, "%s", value);
                } else
                        cr_assert(sd_bus_message_skip(reply, "v") >= 0);
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
        }
        return 0;
}

/* Each test that mounts does so in a mount namespace of its own (Criterion runs each test in its own
 * process), so nothing is left on the host even if it dies. */
static void private_mount_namespace(void) {
        if (unshare(CLONE_NEWNS) < 0)
                cr_skip_test("cannot make a private mount namespace: %m");
        cr_assert(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "%m");
}

/* ---- (a) the filesystem of the state directory fills up ---- */

static char small_fs[4096];

static void small_fs_teardown(void) {
        bus_close();
        if (harness_daemon_running())
                (void) harness_daemon_stop(NULL);
        if (*small_fs) {
                cr_expect(umount2(small_fs, MNT_DETACH) == 0, "umount %s: %m", small_fs);
                *small_fs = 0;
        }
        harness_teardown();
}

static void mount_small_fs(const char *size) {
        char opts[128];
        uid_t uid;
        gid_t gid;

        cr_assert(harness_lookup_user(HARNESS_DAEMON_USER, &uid, &gid) >= 0);
        snprintf(opts, sizeof opts, "size=%s,mode=0700,uid=%u,gid=%u", size, (unsigned) uid, (unsigned) gid);
        cr_assert(mount("tmpfs", small_fs, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) == 0, "mount %s: %m",
                  small_fs);
}

static void remount_small_fs(const char *size) {
        char opts[64];
        snprintf(opts, sizeof opts, "size=%s", size);
        cr_assert(mount(NULL, small_fs, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) == 0, "%m");
}

static void list_dir(const char *dir, char *buf, size_t size) {
        struct dirent *de;
        size_t used = 0;
        DIR *d = opendir(dir);

        *buf = 0;
        cr_assert(d, "%s: %m", dir);
        while ((de = readdir(d))) {
                char path[4096];
                struct stat st;
                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                cr_assert(stat(path, &st) == 0);
                used += (size_t) snprintf(buf + used, size - used, "%s:%lld ", de->d_name, (long long) st.st_size);
                cr_assert(used < size);
        }
        closedir(d);
}

TestSuite(faults_disk, .fini = small_fs_teardown, .timeout = 240);

Test(faults_disk, full_filesystem_fails_cleanly_and_keeps_serving) {
        char ids[4096][37], id[37], listing[4096];
        uint8_t macs[64][64], mac[64];
        sd_bus_error e = SD_BUS_ERROR_NULL;
        size_t n = 0, before;
        bool tagged, aliased;
        int r;

        harness_require_environment();
        private_mount_namespace();
        snprintf(small_fs, sizeof small_fs, "%s", harness_state_dir());
        mount_small_fs("300k");
        cr_assert(harness_daemon_start() >= 0);

        /* Larger keys first (1000-character descriptions), then small ones for the last bytes. */
        for (size_t desc = 1000;; desc = 0) {
                for (;;) {
                        cr_assert(n < ELEMENTSOF(ids));
                        r = create_key(desc, ids[n], &e);
                        if (r < 0)
                                break;
                        if (n < ELEMENTSOF(macs))
                                generate_mac(ids[n], macs[n]);
                        n++;
                }
                fprintf(stderr, "test-faults: full after %zu keys (descriptions of %zu characters): %s: %s\n", n,
                        desc, e.name, e.message);
                cr_assert_str_eq(e.name, "io.hmacd.Kms1.Error.KMSInternalException", "%s", e.message);
                cr_assert(strstr(e.message, "No space left on device"), "%s", e.message);
                sd_bus_error_free(&e);
                if (desc == 0)
                        break;
        }
        cr_assert(n >= 5, "the filesystem filled after only %zu keys", n);

        /* The failed calls changed nothing, and the daemon still serves every key. */
        before = count_keys();
        cr_assert_eq(before, n);
        for (int i = 0; i < 20; i++) {
                cr_assert(create_key(0, id, &e) < 0);
                sd_bus_error_free(&e);
        }
        cr_assert_eq(count_keys(), before);
        for (size_t i = 0; i < n; i++) {
                generate_mac(ids[i], mac);
                if (i < ELEMENTSOF(macs))
                        cr_assert(memcmp(mac, macs[i], 32) == 0, "the MAC of key %zu changed", i);
        }
        cr_assert(harness_daemon_running());

        /* Other changes fail as clearly (API.md: KMSInternalException), and change nothing. */
        r = bus_call("TagResource", &e, NULL, "sa{ss}", ids[0], 1, "added", "when-full");
        tagged = r >= 0;
        if (r >= 0)
                fprintf(stderr, "test-faults: TagResource on the full filesystem succeeded\n");
        else {
                fprintf(stderr, "test-faults: TagResource on the full filesystem: %s: %s\n", e.name, e.message);
                cr_expect_str_eq(e.name, "io.hmacd.Kms1.Error.KMSInternalException",
                                 "TagResource on a full disk: %s: %s", e.name, e.message);
                sd_bus_error_free(&e);
        }
        r = bus_call("CreateAlias", &e, NULL, "ss", "alias/when-full", ids[0]);
        aliased = r >= 0;
        if (r < 0) {
                fprintf(stderr, "test-faults: CreateAlias on the full filesystem: %s: %s\n", e.name, e.message);
                cr_expect_str_eq(e.name, "io.hmacd.Kms1.Error.KMSInternalException",
                                 "CreateAlias on a full disk: %s: %s", e.name, e.message);
                sd_bus_error_free(&e);
        } else
                fprintf(stderr, "test-faults: CreateAlias on the full filesystem succeeded\n");
        cr_assert(harness_daemon_running());
        cr_assert_eq(count_tags(ids[0]), tagged ? 2 : 1);
        cr_assert_eq(count_aliases(), aliased ? 1 : 0);

        /* A restart on the full filesystem: the keys are all there. */
        list_dir(small_fs, listing, sizeof listing);
        fprintf(stderr, "test-faults: state directory when full: %s\n", listing);
        bus_close();
        r = harness_daemon_restart();
        cr_expect(r >= 0, "hmacd does not start again on a full filesystem");
        if (r >= 0) {
                cr_assert_eq(count_keys(), n);
                cr_assert_eq(count_tags(ids[0]), tagged ? 2 : 1);
                cr_assert_eq(count_aliases(), aliased ? 1 : 0);
                for (size_t i = 0; i < ELEMENTSOF(macs) && i < n; i++) {
                        generate_mac(ids[i], mac);
                        cr_assert(memcmp(mac, macs[i], 32) == 0, "the MAC of key %zu changed across the restart", i);
                }
        }

        /* Room again: creating works again, without a restart if the daemon is running. */
        remount_small_fs("4m");
        if (!harness_daemon_running())
                cr_assert(harness_daemon_start() >= 0);
        ok(create_key(0, id, &e), &e, "CreateKey after the filesystem grew");
        cr_assert_eq(count_keys(), n + 1);
        bus_close();
        cr_assert(harness_daemon_restart() >= 0);
        cr_assert_eq(count_keys(), n + 1);
        generate_mac(id, mac);
}

/* ---- (b) damaged store files and KEKs: refused, untouched ---- */

typedef struct Pristine {
        char db[4096], kek[4096];
        char *db_data, *kek_data;
        size_t db_size, kek_size;
        size_t page_size;
        char key_id[37];
} Pristine;

static Pristine pristine;

static void files_teardown(void) {
        bus_close();
        free(pristine.db_data);
        free(pristine.kek_data);
        pristine = (Pristine) {};
        harness_teardown();
}

/* A store of several pages with keys, tags and aliases, stopped cleanly; its bytes are kept. */
static void make_store(void) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char id[37], alias[64];
        uint8_t mac[64];
        int status = 0;

        harness_require_environment();
        cr_assert(harness_daemon_start() >= 0);
        for (int i = 0; i < 24; i++) {
                cr_assert(create_key(3000, id, &e) >= 0, "%s", e.message);
                snprintf(alias, sizeof alias, "alias/faults-%d", i);
                ok(bus_call("CreateAlias", &e, NULL, "ss", alias, id), &e, "CreateAlias");
                if (i == 0)
                        strcpy(pristine.key_id, id);
        }
        generate_mac(pristine.key_id, mac);
        bus_close();
        cr_assert(harness_daemon_stop(&status) >= 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        snprintf(pristine.db, sizeof pristine.db, "%s/hmacd.db", harness_state_dir());
        snprintf(pristine.kek, sizeof pristine.kek, "%s/kek", harness_state_dir());
        cr_assert(harness_read_file(pristine.db, &pristine.db_data, &pristine.db_size) >= 0);
        cr_assert(harness_read_file(pristine.kek, &pristine.kek_data, &pristine.kek_size) >= 0);
        {
                const uint8_t *h = (const uint8_t *) pristine.db_data;
                cr_assert(pristine.db_size >= 100);
                pristine.page_size = (size_t) h[16] << 8 | h[17];
                if (pristine.page_size == 1)
                        pristine.page_size = 65536;
        }
        cr_assert(pristine.db_size / pristine.page_size >= 8, "the store has only %zu pages",
                  pristine.db_size / pristine.page_size);
}

static void write_file(const char *path, const void *data, size_t size) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        cr_assert(fd >= 0, "%s: %m", path);
        cr_assert(write(fd, data, size) == (ssize_t) size);
}

/* Starts the daemon, which must refuse: a non-zero exit status, one line on standard error that
 * names the problem (contains want), and not a byte changed in the state directory. */
static void expect_refusal(const char *what, const char *want) {
        _cleanup_free_ char *db_before = NULL, *db_after = NULL, *kek_before = NULL, *kek_after = NULL, *log = NULL;
        char listing_before[4096], listing_after[4096], log_path[4096], state_arg[4200];
        char *argv[] = { (char *) HARNESS_HMACD, state_arg, (char *) "--log-target=stderr", NULL };
        size_t n1 = 0, n2 = 0, k1 = 0, k2 = 0, lines = 0;
        siginfo_t info = {};
        int status = 0;
        pid_t pid;

        snprintf(state_arg, sizeof state_arg, "--state-dir=%s", harness_state_dir());
        snprintf(log_path, sizeof log_path, "%s/refusal.log", harness_tmp_dir());
        (void) unlink(log_path);
        list_dir(harness_state_dir(), listing_before, sizeof listing_before);
        (void) harness_read_file(pristine.db, &db_before, &n1);
        (void) harness_read_file(pristine.kek, &kek_before, &k1);

        cr_assert(harness_spawn("hmacd (refusing)", HARNESS_DAEMON_USER, argv, log_path, &pid) >= 0);
        for (int i = 0; i < 1000; i++) {
                info.si_pid = 0;
                cr_assert(waitid(P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0);
                if (info.si_pid == pid)
                        break;
                usleep(10 * 1000);
        }
        cr_assert_eq(info.si_pid, pid, "%s: hmacd did not exit: it started", what);
        cr_assert(harness_stop(pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, &status) >= 0);
        cr_assert(harness_read_file(log_path, &log, NULL) >= 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "%s: hmacd %s: %s", what,
                  harness_describe_status(status), log);
        for (const char *p = log; *p; p++)
                lines += *p == '\n';
        cr_assert_eq(lines, 1, "%s: %zu lines instead of one:\n%s", what, lines, log);
        cr_assert(strstr(log, want), "%s: '%s' lacks '%s'", what, log, want);
        fprintf(stderr, "test-faults: %s: %s", what, log);

        list_dir(harness_state_dir(), listing_after, sizeof listing_after);
        cr_assert_str_eq(listing_after, listing_before, "%s: the state directory changed", what);
        if (db_before) {
                cr_assert(harness_read_file(pristine.db, &db_after, &n2) >= 0);
                cr_assert(n1 == n2 && memcmp(db_before, db_after, n1) == 0, "%s: the store was changed", what);
        }
        if (kek_before) {
                cr_assert(harness_read_file(pristine.kek, &kek_after, &k2) >= 0);
                cr_assert(k1 == k2 && memcmp(kek_before, kek_after, k1) == 0, "%s: the KEK file was changed", what);
        } else
                cr_assert(access(pristine.kek, F_OK) < 0, "%s: a KEK file appeared", what);
}

static void restore(void) {
        write_file(pristine.db, pristine.db_data, pristine.db_size);
        write_file(pristine.kek, pristine.kek_data, pristine.kek_size);
}

TestSuite(faults_files, .fini = files_teardown, .timeout = 120);

Test(faults_files, truncated_stores_are_refused_and_left_alone) {
        size_t page, sizes[6];
        char what[128];

        make_store();
        page = pristine.page_size;
        sizes[0] = 0;
        sizes[1] = 100;                                 /* inside the header */
        sizes[2] = page;                                /* the first page alone */
        sizes[3] = pristine.db_size / 2 + 1234;         /* inside a page */
        sizes[4] = pristine.db_size - page;             /* one whole page short */
        sizes[5] = pristine.db_size - 1;
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                restore();
                write_file(pristine.db, pristine.db_data, sizes[i]);
                snprintf(what, sizeof what, "store truncated to %zu of %zu bytes", sizes[i], pristine.db_size);
                expect_refusal(what, "store");
        }
        /* The original still works. */
        restore();
        cr_assert(harness_daemon_start() >= 0);
        cr_assert_eq(count_keys(), 24);
}

Test(faults_files, overwritten_pages_are_refused_and_left_alone) {
        size_t page, pages;
        _cleanup_free_ char *copy = NULL;
        uint8_t noise[65536];
        char what[128];

        make_store();
        page = pristine.page_size;
        pages = pristine.db_size / page;
        copy = malloc(pristine.db_size);
        cr_assert(copy);
        cr_assert(getrandom(noise, page, 0) == (ssize_t) page);

        /* A page of zeros in the middle, random bytes over another, the first page's b-tree header. */
        for (int variant = 0; variant < 3; variant++) {
                size_t at;
                memcpy(copy, pristine.db_data, pristine.db_size);
                if (variant == 0) {
                        at = pages / 2 * page;
                        memset(copy + at, 0, page);
                        snprintf(what, sizeof what, "page %zu of %zu zeroed", at / page + 1, pages);
                } else if (variant == 1) {
                        at = (pages - 2) * page;
                        memcpy(copy + at, noise, page);
                        snprintf(what, sizeof what, "page %zu of %zu overwritten with random bytes", at / page + 1,
                                 pages);
                } else {
                        /* The schema's b-tree page header follows the 100-byte file header. */
                        memset(copy + 100, 0xff, 12);
                        snprintf(what, sizeof what, "the schema page's b-tree header overwritten");
                }
                restore();
                write_file(pristine.db, copy, pristine.db_size);
                expect_refusal(what, "store");
        }
        restore();
        cr_assert(harness_daemon_start() >= 0);
        cr_assert_eq(count_keys(), 24);
}

Test(faults_files, keks_that_do_not_fit_are_refused_and_left_alone) {
        uint8_t other[32];

        make_store();

        restore();
        write_file(pristine.kek, pristine.kek_data, 31);
        expect_refusal("a KEK file of 31 bytes", "not 32 bytes long");
        restore();
        write_file(pristine.kek, "", 0);
        expect_refusal("an empty KEK file", "not 32 bytes long");
        restore();
        {
                char longer[33];
                memcpy(longer, pristine.kek_data, 32);
                longer[32] = '\n';
                write_file(pristine.kek, longer, 33);
                expect_refusal("a KEK file of 33 bytes", "not 32 bytes long");
        }
        /* A missing KEK with an existing store: refused, and no new KEK made. */
        restore();
        cr_assert(unlink(pristine.kek) == 0);
        expect_refusal("a missing KEK file", "key-encryption key");
        /* The KEK as a credential that is not the store's. */
        restore();
        {
                char dir[4096], path[4200];
                snprintf(dir, sizeof dir, "%s/credentials", harness_tmp_dir());
                cr_assert(mkdir(dir, 0755) == 0);
                snprintf(path, sizeof path, "%s/hmacd.kek", dir);
                cr_assert(getrandom(other, sizeof other, 0) == sizeof other);
                write_file(path, other, sizeof other);
                cr_assert(chmod(path, 0644) == 0);
                snprintf(path, sizeof path, "CREDENTIALS_DIRECTORY=%s", dir);
                cr_assert(harness_daemon_setenv(path) >= 0);
                cr_assert_eq(harness_daemon_start(), -ECHILD);
                {
                        _cleanup_free_ char *log = NULL, *after = NULL;
                        size_t n = 0;
                        cr_assert(harness_daemon_log(&log) >= 0);
                        cr_assert(strstr(log, "does not open the store"), "%s", log);
                        cr_assert(harness_read_file(pristine.db, &after, &n) >= 0);
                        cr_assert(n == pristine.db_size && memcmp(after, pristine.db_data, n) == 0);
                }
        }
}

/* quick_check does not look inside records: a damaged sealed blob is found when the key is used. That
 * key fails with KMSInternalException; the daemon and every other key carry on. */
Test(faults_files, damaged_sealed_material_fails_that_key_only) {
        _cleanup_free_ char *copy = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint8_t mac[64];
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        const void *blob;
        int blob_size, r;
        char *hit = NULL;

        make_store();
        /* Read a copy: opening the daemon's own file as root could leave files it cannot use. */
        {
                char path[4200];
                snprintf(path, sizeof path, "%s/copy.db", harness_tmp_dir());
                write_file(path, pristine.db_data, pristine.db_size);
                cr_assert(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        }
        cr_assert(sqlite3_prepare_v2(db, "SELECT sealed FROM materials WHERE key_id = ? AND state = 'CURRENT'", -1, &st, NULL) == SQLITE_OK);
        sqlite3_bind_text(st, 1, pristine.key_id, -1, SQLITE_STATIC);
        cr_assert(sqlite3_step(st) == SQLITE_ROW);
        blob = sqlite3_column_blob(st, 0);
        blob_size = sqlite3_column_bytes(st, 0);
        cr_assert(blob_size > 32);
        copy = malloc(pristine.db_size);
        memcpy(copy, pristine.db_data, pristine.db_size);
        hit = memmem(copy, pristine.db_size, blob, (size_t) blob_size);
        cr_assert(hit, "the sealed material is not stored in one piece");
        hit[blob_size / 2] ^= 0x01;
        sqlite3_finalize(st);
        sqlite3_close(db);
        write_file(pristine.db, copy, pristine.db_size);

        cr_assert(harness_daemon_start() >= 0);
        cr_assert_eq(count_keys(), 24);
        r = bus_call("GenerateMac", &e, NULL, "says", pristine.key_id, 1, 'x', "HMAC_SHA_256");
        cr_assert(r < 0, "a key with damaged material gave a MAC");
        fprintf(stderr, "test-faults: GenerateMac with damaged sealed material: %s: %s\n", e.name, e.message);
        cr_expect_str_eq(e.name, "io.hmacd.Kms1.Error.KMSInternalException", "%s", e.message);
        sd_bus_error_free(&e);
        cr_assert(harness_daemon_running());
        /* Every other key still works. */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *id, *arn, *next;
                int truncated;
                size_t others = 0;

                ok(bus_call("ListKeys", &e, &reply, "us", 1000, ""), &e, "ListKeys");
                cr_assert(sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0);
                while (sd_bus_message_read(reply, "(ss)", &id, &arn) > 0)
                        if (!streq(id, pristine.key_id)) {
                                generate_mac(id, mac);
                                others++;
                        }
                cr_assert(sd_bus_message_exit_container(reply) >= 0);
                cr_assert(sd_bus_message_read(reply, "sb", &next, &truncated) >= 0);
                cr_assert_eq(others, 23);
        }
}

/* ---- (c) polkitd killed while it decides ---- */

static pid_t polkitd_pid;
static char rule_path[256], flag_path[4096];

static void start_polkitd(void) {
        char *argv[] = { (char *) "/usr/lib/polkit-1/polkitd", (char *) "--no-debug", NULL };
        char log[4096];

        snprintf(log, sizeof log, "%s/polkitd.log", harness_tmp_dir());
        harness_check(harness_spawn("polkitd", NULL, argv, log, &polkitd_pid), "start polkitd");
        harness_check(harness_wait_for_name("org.freedesktop.PolicyKit1", polkitd_pid, HARNESS_START_TIMEOUT_USEC, NULL),
                      "wait for polkitd");
}

static void polkit_teardown(void) {
        if (*rule_path)
                (void) unlink(rule_path);
        *rule_path = 0;
        bus_close();
        harness_teardown();
        polkitd_pid = 0;
}

static int mac_as(const char *user, const char *key, char **err, uint64_t *ret_usec) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        struct timespec a, b;

        clock_gettime(CLOCK_MONOTONIC, &a);
        cr_assert(harness_runl(user, &res, HARNESS_HMACCTL, "generate-mac", "--key-id", key, "--message", "bQ==",
                               "--mac-algorithm", "HMAC_SHA_256", "--no-ask-password", NULL) >= 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ret_usec)
                *ret_usec = (uint64_t) (b.tv_sec - a.tv_sec) * 1000000 + (uint64_t) (b.tv_nsec - a.tv_nsec) / 1000;
        if (err)
                *err = strdup(res.err);
        return res.exit_code;
}

/* The children of polkitd (the rule's spawned commands), from /proc/PID/task/TID/children. */
static size_t polkitd_children(pid_t *ret, size_t max) {
        char path[128];
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        snprintf(path, sizeof path, "/proc/%d/task", (int) polkitd_pid);
        d = opendir(path);
        if (!d)
                return 0;
        while ((de = readdir(d)) && n < max) {
                _cleanup_free_ char *list = NULL;
                char file[512];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(file, sizeof file, "%s/%s/children", path, de->d_name);
                if (harness_read_file(file, &list, NULL) < 0)
                        continue;
                for (char *p = list, *end; *p && n < max; p = end) {
                        long pid = strtol(p, &end, 10);
                        if (end == p)
                                break;
                        if (pid > 0)
                                ret[n++] = (pid_t) pid;
                }
        }
        closedir(d);
        return n;
}

TestSuite(faults_polkit, .fini = polkit_teardown, .timeout = 120);

/* test-polkit.c (no_polkitd_means_no_but_root_still_works) stops polkitd cleanly between calls. Here
 * it is SIGKILLed while a check is pending: that caller is refused at once (fail closed, no hang until a
 * bus timeout), root is still served, and when polkitd is back non-root callers are allowed again. */
Test(faults_polkit, polkitd_killed_during_a_check) {
        char key[37], rule[8192], log[4096];
        char *argv[] = { (char *) HARNESS_HMACCTL, (char *) "generate-mac", (char *) "--key-id", key,
                         (char *) "--message", (char *) "bQ==", (char *) "--mac-algorithm", (char *) "HMAC_SHA_256",
                         (char *) "--no-ask-password", NULL };
        _cleanup_free_ char *err = NULL, *out = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint8_t token_bytes[8], mac[64];
        char token[17];
        uint64_t usec = 0;
        pid_t slow, orphans[16];
        size_t n_orphans;
        int status = 0;

        harness_require_environment();
        if (access("/usr/lib/polkit-1/polkitd", X_OK) < 0)
                cr_skip_test("polkitd is not installed");
        cr_assert(getrandom(token_bytes, sizeof token_bytes, 0) == sizeof token_bytes);
        for (int i = 0; i < 8; i++)
                snprintf(token + 2 * i, 3, "%02x", token_bytes[i]);
        harness_check(harness_bus_start(), "start the bus");
        start_polkitd();
        /* No answer cache: every call asks polkitd. */
        harness_check(harness_daemon_startl("--polkit-cache-seconds=0", NULL), "start hmacd");

        snprintf(flag_path, sizeof flag_path, "%s/slow-%s", harness_tmp_dir(), token);
        cr_assert(bus_create_key("HMAC_256", NULL, key) >= 0);
        ok(bus_call("TagResource", &e, NULL, "sa{ss}", key, 1, "Purpose", token), &e, "TagResource");
        snprintf(rule_path, sizeof rule_path, "/etc/polkit-1/rules.d/60-faults-%s.rules", token);
        snprintf(rule, sizeof rule,
                 "polkit.addRule(function(action, subject) {\n"
                 "        if (action.id == \"io.hmacd.generate-mac\" && action.lookup(\"tag.Purpose\") == \"%s\") {\n"
                 "                try {\n"
                 "                        polkit.spawn([\"/usr/bin/test\", \"-e\", \"%s\"]);\n"
                 "                        polkit.spawn([\"/usr/bin/sleep\", \"15\"]);\n"
                 "                } catch (e) {}\n"
                 "                return polkit.Result.YES;\n"
                 "        }\n"
                 "});\n",
                 token, flag_path);
        {
                char tmp[300];
                FILE *f;
                snprintf(tmp, sizeof tmp, "%s.tmp", rule_path);
                f = fopen(tmp, "w");
                cr_assert(f);
                fputs(rule, f);
                cr_assert(fclose(f) == 0);
                cr_assert(chmod(tmp, 0644) == 0);
                cr_assert(rename(tmp, rule_path) == 0);
        }
        for (int i = 0; i < 100 && mac_as(HARNESS_TEST_USER, key, NULL, NULL) != 0; i++)
                usleep(100 * 1000);
        cr_assert_eq(mac_as(HARNESS_TEST_USER, key, NULL, NULL), 0, "the rule never allowed %s", HARNESS_TEST_USER);

        /* Now the rule takes 15 s; polkitd dies while deciding. */
        write_file(flag_path, "", 0);
        snprintf(log, sizeof log, "%s/slow.log", harness_tmp_dir());
        cr_assert(harness_spawn("slow caller", HARNESS_TEST_USER, argv, log, &slow) >= 0);
        usleep(500 * 1000);
        cr_assert_eq(waitpid(slow, &status, WNOHANG), 0, "the slow caller was answered before polkitd was killed");
        n_orphans = polkitd_children(orphans, ELEMENTSOF(orphans));
        cr_assert(harness_stop(polkitd_pid, SIGKILL, HARNESS_STOP_TIMEOUT_USEC, NULL) >= 0);
        polkitd_pid = 0;
        /* The rule's sleep, started by polkitd, would outlive it. */
        for (size_t i = 0; i < n_orphans; i++)
                (void) kill(orphans[i], SIGKILL);
        {
                uint64_t t0 = 0, t;
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                t0 = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
                cr_assert(harness_stop(slow, SIGCONT, 20 * HARNESS_USEC_PER_SEC, &status) >= 0);
                clock_gettime(CLOCK_MONOTONIC, &ts);
                t = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000 - t0;
                cr_assert(harness_read_file(log, &out, NULL) >= 0);
                fprintf(stderr, "test-faults: the caller whose check polkitd died in was answered %.0f ms later: %s",
                        (double) t / 1000, out);
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 254, "slow caller: %s: %s",
                          harness_describe_status(status), out);
                cr_assert(strstr(out, "AccessDenied"), "%s", out);
                cr_assert(t < 5 * HARNESS_USEC_PER_SEC, "the refusal took %.1f s", (double) t / 1e6);
        }
        /* Without polkitd: non-root refused, root served, the daemon alive. */
        cr_assert_eq(mac_as(HARNESS_TEST_USER, key, &err, &usec), 254, "%s", err);
        cr_assert(strstr(err, "AccessDenied"), "%s", err);
        generate_mac(key, mac);
        cr_assert(harness_daemon_running());

        /* polkitd back: allowed again, without restarting hmacd. */
        cr_assert(unlink(flag_path) == 0);
        start_polkitd();
        for (int i = 0; i < 100 && mac_as(HARNESS_TEST_USER, key, NULL, NULL) != 0; i++)
                usleep(100 * 1000);
        cr_assert_eq(mac_as(HARNESS_TEST_USER, key, NULL, NULL), 0, "not allowed again after polkitd came back");
}

/* ---- (d) the bus goes away ---- */

static void bus_teardown(void) {
        bus_close();
        harness_teardown();
}

TestSuite(faults_bus, .init = harness_setup_daemon, .fini = bus_teardown, .timeout = 60);

static void expect_exit_after_bus_death(int sig) {
        _cleanup_free_ char *log = NULL;
        pid_t pid = harness_daemon_pid(), bus_pid = harness_bus_pid();
        siginfo_t info = {};
        int status = 0;

        cr_assert(pid > 0 && bus_pid > 0);
        cr_assert(bus_create_key("HMAC_256", NULL, (char[37]) {}) >= 0);
        bus_close();
        cr_assert(kill(bus_pid, sig) == 0);
        /* Wait for the daemon to exit on its own; SIGTERM from harness_daemon_stop would hide it. */
        for (int i = 0; i < 500; i++) {
                info.si_pid = 0;
                cr_assert(waitid(P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0);
                if (info.si_pid == pid)
                        break;
                usleep(10 * 1000);
        }
        cr_assert_eq(info.si_pid, pid, "hmacd is still running 5 s after the bus died");
        (void) harness_daemon_stop(&status);
        cr_assert(harness_daemon_log(&log) >= 0);
        fprintf(stderr, "test-faults: dbus-daemon killed with signal %d: hmacd %s\n", sig, harness_describe_status(status));
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "hmacd %s when the bus died: %s",
                  harness_describe_status(status), log);
        cr_assert(strstr(log, "Lost the connection to the bus"), "%s", log);
}

Test(faults_bus, bus_killed_daemon_exits_non_zero) {
        expect_exit_after_bus_death(SIGKILL);
}

Test(faults_bus, bus_stopped_daemon_exits_non_zero) {
        expect_exit_after_bus_death(SIGTERM);
}
