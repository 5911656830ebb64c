/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading the KEK. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kek.h"
#include "keyring.h"
#include "macro.h"
#include "secure.h"

/* private: the state directory's KEK must be the daemon's (or root's) and nobody else's to read or
 * change; a copy others can read would hand them every key. (A credential is systemd's to place.) */
static int read_kek_file(const char *path, bool private, uint8_t buf[static KEK_SIZE]) {
        _cleanup_close_ int fd = -1;
        uint8_t extra[KEK_SIZE + 1];
        struct stat st;
        ssize_t n;
        int r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (private && (fstat(fd, &st) < 0 || (st.st_mode & 0077) != 0 ||
                        (st.st_uid != geteuid() && st.st_uid != 0)))
                return -EPERM;
        n = read(fd, extra, sizeof extra);
        if (n < 0)
                r = negative_errno();
        else if (n != KEK_SIZE)
                r = -EBADMSG; /* a KEK is exactly 32 bytes */
        else
                memcpy(buf, extra, KEK_SIZE);
        secure_wipe(extra, sizeof extra);
        return r;
}

static int create_kek_file(const char *state_dir, const char *path, uint8_t buf[static KEK_SIZE]) {
        char tmp[PATH_MAX];
        _cleanup_close_ int fd = -1, dfd = -1;
        int r;

        if (getrandom(buf, KEK_SIZE, 0) != KEK_SIZE)
                return negative_errno();
        if (snprintf(tmp, sizeof tmp, "%s/.%s.new", state_dir, KEK_FILE_NAME) >= (int) sizeof tmp)
                return -ENAMETOOLONG;

        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        if (write(fd, buf, KEK_SIZE) != KEK_SIZE || fsync(fd) < 0) {
                r = errno > 0 ? -errno : -EIO;
                unlink(tmp);
                return r;
        }
        /* link() rather than rename(): never replace a KEK that appeared meanwhile. */
        if (link(tmp, path) < 0) {
                r = negative_errno();
                unlink(tmp);
                return r;
        }
        unlink(tmp);
        dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}

int kek_load(const char *explicit_path, const char *state_dir, bool allow_create, key_serial_t *ret_serial,
             const char **ret_source) {
        _cleanup_(secure_buffer_freep) SecureBuffer *b = NULL;
        static char path[PATH_MAX];
        const char *creds;
        bool in_state_dir = false;
        int r;

        r = secure_buffer_new(KEK_SIZE, &b);
        if (r < 0)
                return r;

        creds = getenv("CREDENTIALS_DIRECTORY");
        if (explicit_path)
                snprintf(path, sizeof path, "%s", explicit_path);
        else if (creds && snprintf(path, sizeof path, "%s/%s", creds, KEK_CREDENTIAL_NAME) > 0 &&
                 access(path, F_OK) == 0)
                ;
        else {
                snprintf(path, sizeof path, "%s/%s", state_dir, KEK_FILE_NAME);
                in_state_dir = true;
        }

        r = read_kek_file(path, in_state_dir, b->data);
        if (r == -ENOENT && in_state_dir && allow_create)
                r = create_kek_file(state_dir, path, b->data);
        if (r < 0) {
                *ret_source = path;
                return r;
        }

        r = keyring_add_secret(KEY_SPEC_SESSION_KEYRING, "hmacd:kek", b->data, KEK_SIZE, ret_serial);
        *ret_source = path;
        return r;
}

int kek_read(key_serial_t serial, uint8_t buf[static KEK_SIZE]) {
        size_t n;
        int r;

        r = keyring_read_secret(serial, buf, KEK_SIZE, &n);
        if (r < 0)
                return r;
        return n == KEK_SIZE ? 0 : -EBADMSG;
}
