/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/kek.c: where the key-encryption key comes from (--kek-file, the systemd
 * credential, the state directory), creating it on first start, refusing bad files, and reading it back
 * from the keyring. Each test joins a new anonymous session keyring first, as the KEK goes there. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../daemon/kek.h"
#include "../daemon/keyring.h"
#include "macro.h"

static char tmpdir[PATH_MAX];
static char state_dir[sizeof tmpdir + 16], cred_dir[sizeof tmpdir + 16];

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void setup(void) {
        int r;

        /* Under $TMPDIR (tests/run-tests points it into its own scratch directory). */
        snprintf(tmpdir, sizeof tmpdir, "%s/test-kek-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %m", tmpdir);
        snprintf(state_dir, sizeof state_dir, "%s/state", tmpdir);
        snprintf(cred_dir, sizeof cred_dir, "%s/creds", tmpdir);
        cr_assert_eq(mkdir(state_dir, 0700), 0);
        cr_assert_eq(mkdir(cred_dir, 0700), 0);
        /* Whatever the environment of the test run says, these tests decide about credentials. */
        unsetenv("CREDENTIALS_DIRECTORY");

        r = keyring_join_private_session();
        /* ENOSYS without CONFIG_KEYS; EPERM/EACCES where a seccomp filter (containers) forbids keyctl(). */
        if (r == -ENOSYS || r == -EPERM || r == -EACCES || r == -EOPNOTSUPP)
                cr_skip_test("the kernel keyring is not available here (keyctl_join_session_keyring: %s)",
                             strerror(-r));
        cr_assert_eq(r, 0, "keyring_join_private_session: %s", strerror(-r));
}

static void teardown(void) {
        (void) nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(kek, .init = setup, .fini = teardown);

static char *path_join(const char *dir, const char *name) {
        char *p;

        cr_assert_gt(asprintf(&p, "%s/%s", dir, name), 0);
        return p;
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode) {
        int fd;

        /* Replace, rather than rewrite, so that a read-only file can be written again without root. */
        (void) unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        cr_assert_geq(fd, 0, "%s: %m", path);
        cr_assert_eq(write(fd, data, n), (ssize_t) n);
        close(fd);
}

static size_t read_file(const char *path, uint8_t *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        cr_assert_geq(fd, 0, "%s: %m", path);
        n = read(fd, buf, size);
        cr_assert_geq(n, 0);
        close(fd);
        return (size_t) n;
}

static size_t count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        cr_assert_not_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void pattern(uint8_t *p, size_t n, uint8_t seed) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) (seed + i * 13);
}

static void check_loaded(key_serial_t serial, const uint8_t expected[static KEK_SIZE]) {
        uint8_t got[KEK_SIZE];
        unsigned long perm;
        _cleanup_free_ char *desc = NULL;

        cr_assert_gt(serial, 0);
        memset(got, 0, sizeof got);
        cr_assert_eq(kek_read(serial, got), 0);
        cr_assert_eq(memcmp(got, expected, KEK_SIZE), 0, "the keyring holds another KEK than the file");

        /* The KEK is a possessor-only key. */
        cr_assert_geq(keyctl_describe_alloc(serial, &desc), 0);
        cr_assert_not_null(strrchr(desc, ';'));
        cr_assert_eq(sscanf(desc, "%*[^;];%*u;%*u;%lx;", &perm), 1, "'%s'", desc);
        cr_assert_eq(perm & (KEY_USR_ALL | KEY_GRP_ALL | KEY_OTH_ALL), 0, "KEK permissions %08lx", perm);
}

Test(kek, created_in_empty_state_dir) {
        _cleanup_free_ char *path = path_join(state_dir, KEK_FILE_NAME);
        uint8_t file[KEK_SIZE + 8], zero[KEK_SIZE] = {};
        key_serial_t serial = 0, serial2 = 0;
        const char *source = NULL;
        struct stat st;

        /* The file must be 0600 whatever the umask. */
        umask(0);
        cr_assert_eq(kek_load(NULL, state_dir, true, &serial, &source), 0);
        cr_assert_str_eq(source, path);

        cr_assert_eq(lstat(path, &st), 0, "%s: %m", path);
        cr_assert(S_ISREG(st.st_mode));
        cr_assert_eq(st.st_mode & 07777, 0600, "mode %04o", (unsigned) (st.st_mode & 07777));
        cr_assert_eq(st.st_size, KEK_SIZE);
        cr_assert_eq(st.st_uid, geteuid());
        cr_assert_eq(st.st_nlink, 1, "the temporary file was left linked");
        /* Nothing else left behind (the temporary file). */
        cr_assert_eq(count_entries(state_dir), 1);

        cr_assert_eq(read_file(path, file, sizeof file), KEK_SIZE);
        cr_assert_neq(memcmp(file, zero, KEK_SIZE), 0);
        check_loaded(serial, file);

        /* The next start reads the same KEK instead of making another. */
        cr_assert_eq(kek_load(NULL, state_dir, true, &serial2, &source), 0);
        check_loaded(serial2, file);
        cr_assert_eq(read_file(path, zero, sizeof zero), KEK_SIZE);
        cr_assert_eq(memcmp(zero, file, KEK_SIZE), 0, "the KEK file was replaced");
}

Test(kek, created_keks_are_random) {
        _cleanup_free_ char *other_dir = path_join(tmpdir, "other"), *a_path = path_join(state_dir, KEK_FILE_NAME),
                            *b_path = path_join(other_dir, KEK_FILE_NAME);
        uint8_t a[KEK_SIZE], b[KEK_SIZE];
        key_serial_t sa, sb;
        const char *source;

        cr_assert_eq(mkdir(other_dir, 0700), 0);
        /* Each KEK is checked right after loading: a second "hmacd:kek" in the same session keyring
         * replaces the payload of the first (add_key() updates a key of the same type and description). */
        cr_assert_eq(kek_load(NULL, state_dir, true, &sa, &source), 0);
        cr_assert_eq(read_file(a_path, a, sizeof a), KEK_SIZE);
        check_loaded(sa, a);
        cr_assert_eq(kek_load(NULL, other_dir, true, &sb, &source), 0);
        cr_assert_eq(read_file(b_path, b, sizeof b), KEK_SIZE);
        check_loaded(sb, b);
        cr_assert_neq(memcmp(a, b, KEK_SIZE), 0);
}

Test(kek, not_created_unless_allowed) {
        _cleanup_free_ char *path = path_join(state_dir, KEK_FILE_NAME);
        key_serial_t serial = 0;
        const char *source = NULL;

        cr_assert_eq(kek_load(NULL, state_dir, false, &serial, &source), -ENOENT);
        cr_assert_eq(serial, 0);
        cr_assert_str_eq(source, path);
        cr_assert_eq(count_entries(state_dir), 0, "a KEK was created although not allowed");
}

Test(kek, explicit_file) {
        _cleanup_free_ char *path = path_join(tmpdir, "my.kek");
        uint8_t kek[KEK_SIZE];
        key_serial_t serial = 0;
        const char *source = NULL;

        pattern(kek, sizeof kek, 7);
        write_file(path, kek, sizeof kek, 0600);
        cr_assert_eq(kek_load(path, state_dir, true, &serial, &source), 0);
        cr_assert_str_eq(source, path);
        check_loaded(serial, kek);
        /* The state directory is not touched when the KEK comes from elsewhere. */
        cr_assert_eq(count_entries(state_dir), 0);
}

Test(kek, explicit_file_missing) {
        _cleanup_free_ char *path = path_join(tmpdir, "missing.kek");
        key_serial_t serial = 0;
        const char *source = NULL;

        /* An explicit file is never created, and there is no fallback to the state directory. */
        cr_assert_eq(kek_load(path, state_dir, true, &serial, &source), -ENOENT);
        cr_assert_str_eq(source, path);
        cr_assert_neq(access(path, F_OK), 0);
        cr_assert_eq(count_entries(state_dir), 0);
}

Test(kek, wrong_sizes) {
        static const size_t sizes[] = { 0, 1, KEK_SIZE - 1, KEK_SIZE + 1, 2 * KEK_SIZE, 4096 };
        _cleanup_free_ char *explicit = path_join(tmpdir, "bad.kek"), *in_state = path_join(state_dir, KEK_FILE_NAME);
        uint8_t data[4096], after[4096];
        key_serial_t serial;
        const char *source;

        pattern(data, sizeof data, 1);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                write_file(explicit, data, sizes[i], 0600);
                serial = 0;
                cr_assert_eq(kek_load(explicit, state_dir, true, &serial, &source), -EBADMSG, "%zu bytes",
                             sizes[i]);
                cr_assert_eq(serial, 0);

                /* In the state directory, even when creating is allowed, a bad file is refused and kept. */
                write_file(in_state, data, sizes[i], 0600);
                cr_assert_eq(kek_load(NULL, state_dir, true, &serial, &source), -EBADMSG, "%zu bytes in %s",
                             sizes[i], state_dir);
                cr_assert_eq(read_file(in_state, after, sizeof after), sizes[i]);
                cr_assert_eq(memcmp(after, data, sizes[i]), 0, "the bad KEK file was changed");
        }
}

/* A state-directory KEK that others may read or change is refused, and kept as it is. */
Test(kek, state_dir_kek_readable_by_others_refused) {
        _cleanup_free_ char *in_state = path_join(state_dir, KEK_FILE_NAME);
        static const mode_t modes[] = { 0640, 0604, 0644, 0660, 0606 };
        uint8_t kek[KEK_SIZE];
        key_serial_t serial = 0;
        const char *source;

        pattern(kek, sizeof kek, 3);
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                write_file(in_state, kek, sizeof kek, 0600);
                cr_assert(chmod(in_state, modes[i]) == 0);
                cr_assert_eq(kek_load(NULL, state_dir, true, &serial, &source), -EPERM, "mode %04o",
                             (unsigned) modes[i]);
                cr_assert_eq(serial, 0);
        }
        write_file(in_state, kek, sizeof kek, 0400);
        cr_assert_eq(kek_load(NULL, state_dir, true, &serial, &source), 0);
}

Test(kek, symlink_refused) {
        _cleanup_free_ char *target = path_join(tmpdir, "target.kek"), *link_path = path_join(state_dir, KEK_FILE_NAME);
        uint8_t kek[KEK_SIZE];
        key_serial_t serial = 0;
        const char *source;

        pattern(kek, sizeof kek, 3);
        write_file(target, kek, sizeof kek, 0600);
        cr_assert_eq(symlink(target, link_path), 0);
        cr_assert_eq(kek_load(NULL, state_dir, true, &serial, &source), -ELOOP);
        cr_assert_eq(serial, 0);
}

Test(kek, credential) {
        _cleanup_free_ char *cred = path_join(cred_dir, KEK_CREDENTIAL_NAME),
                            *in_state = path_join(state_dir, KEK_FILE_NAME), *explicit = path_join(tmpdir, "x.kek");
        uint8_t a[KEK_SIZE], b[KEK_SIZE], c[KEK_SIZE];
        key_serial_t serial = 0;
        const char *source = NULL;

        pattern(a, sizeof a, 10);
        pattern(b, sizeof b, 20);
        pattern(c, sizeof c, 30);
        write_file(cred, a, sizeof a, 0400);
        write_file(in_state, b, sizeof b, 0600);
        write_file(explicit, c, sizeof c, 0600);
        cr_assert_eq(setenv("CREDENTIALS_DIRECTORY", cred_dir, 1), 0);

        /* The credential wins over the state directory ... */
        cr_assert_eq(kek_load(NULL, state_dir, true, &serial, &source), 0);
        cr_assert_str_eq(source, cred);
        check_loaded(serial, a);

        /* ... and --kek-file over the credential. */
        cr_assert_eq(kek_load(explicit, state_dir, true, &serial, &source), 0);
        cr_assert_str_eq(source, explicit);
        check_loaded(serial, c);

        /* A credential of the wrong size is an error, not a reason to use another KEK. */
        write_file(cred, a, KEK_SIZE - 1, 0400);
        serial = 0;
        cr_assert_eq(kek_load(NULL, state_dir, true, &serial, &source), -EBADMSG);
        cr_assert_eq(serial, 0);
}

Test(kek, credentials_directory_without_kek) {
        _cleanup_free_ char *in_state = path_join(state_dir, KEK_FILE_NAME);
        uint8_t b[KEK_SIZE];
        key_serial_t serial = 0;
        const char *source = NULL;

        /* $CREDENTIALS_DIRECTORY set (other credentials), but no hmacd.kek: the state directory is used. */
        pattern(b, sizeof b, 40);
        write_file(in_state, b, sizeof b, 0600);
        cr_assert_eq(setenv("CREDENTIALS_DIRECTORY", cred_dir, 1), 0);
        cr_assert_eq(kek_load(NULL, state_dir, false, &serial, &source), 0);
        cr_assert_str_eq(source, in_state);
        check_loaded(serial, b);
}

Test(kek, read_wrong_size_key) {
        uint8_t short_key[KEK_SIZE - 1], buf[KEK_SIZE];
        key_serial_t serial;

        pattern(short_key, sizeof short_key, 5);
        cr_assert_eq(keyring_add_secret(KEY_SPEC_SESSION_KEYRING, "test:short", short_key, sizeof short_key, &serial),
                     0);
        cr_assert_eq(kek_read(serial, buf), -EBADMSG);
}
