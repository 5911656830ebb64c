/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacd: the local HMAC key service. Command line, start-up order, exit status. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "log.h"
#include "manager.h"

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Serve HMAC keys held in the kernel keyring on D-Bus (%s).\n\n"
               "  -h --help                Show this help\n"
               "     --version             Show the version\n"
               "     --user                Serve the user's session bus instead of the system bus\n"
               "     --state-dir=DIR       Where the store lives (default: $STATE_DIRECTORY or /var/lib/hmacd)\n"
               "     --kek-file=PATH       The key-encryption key (default: $CREDENTIALS_DIRECTORY/hmacd.kek,\n"
               "                           else DIR/kek, created on first start)\n"
               "     --log-target=TARGET   auto, journal or stderr\n"
               "     --log-level=LEVEL     emerg..debug or 0..7 (default: $SYSTEMD_LOG_LEVEL, else info);\n"
               "                           the audit trail is written at every level\n"
               "     --cache-keys=N        Keys held live in the keyring at most (default: from the key quota)\n"
               "     --engine=ENGINE       auto, kernel (logon keys, HMAC by AF_ALG) or openssl (user keys)\n"
               "     --polkit-cache-seconds=N  How long an allowed polkit answer is reused (default: 30; 0: never)\n"
               "     --max-keys=N          Keys the service holds at most, all owners together (default: %u)\n"
               "     --max-keys-per-user=N Keys one user may own (default: %u; root and the daemon's user: no limit)\n"
               "     --max-bytes-per-user=N  Bytes of descriptions and tags one user's keys may hold (default: %llu)\n",
               program_invocation_short_name, HMACD_BUS_NAME, KMS_MAX_KEYS_DEFAULT, KMS_MAX_KEYS_PER_USER_DEFAULT,
               (unsigned long long) KMS_MAX_BYTES_PER_USER_DEFAULT);
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_USER, ARG_STATE_DIR, ARG_KEK_FILE, ARG_LOG_TARGET, ARG_LOG_LEVEL, ARG_CACHE_KEYS, ARG_TEST_ONLY_SECONDS_PER_DAY, ARG_POLKIT_CACHE, ARG_ENGINE,
               ARG_MAX_KEYS, ARG_MAX_KEYS_PER_USER, ARG_MAX_BYTES_PER_USER };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "user", no_argument, NULL, ARG_USER },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "kek-file", required_argument, NULL, ARG_KEK_FILE },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "cache-keys", required_argument, NULL, ARG_CACHE_KEYS },
                { "engine", required_argument, NULL, ARG_ENGINE },
                { "polkit-cache-seconds", required_argument, NULL, ARG_POLKIT_CACHE },
                { "max-keys", required_argument, NULL, ARG_MAX_KEYS },
                { "max-keys-per-user", required_argument, NULL, ARG_MAX_KEYS_PER_USER },
                { "max-bytes-per-user", required_argument, NULL, ARG_MAX_BYTES_PER_USER },
                { "test-only-seconds-per-day", required_argument, NULL, ARG_TEST_ONLY_SECONDS_PER_DAY },
                {}
        };
        _cleanup_(manager_freep) Manager *m = NULL;
        ManagerConfig config = { .polkit_cache_usec = 30 * 1000000ULL };
        LogTarget target = LOG_TARGET_AUTO;
        sigset_t mask;
        char *end;
        int c, r;

        /* Requests of up to 16 MiB come and go. Buffers over 1 MiB go back to the system when freed:
         * glibc would otherwise raise its mmap threshold after the first large free and keep later
         * large buffers on the heap, where one caller's burst stays in the daemon's RSS long after.
         * Fixing that threshold also fixes the heap's trim threshold at 128 KiB, and then every
         * GenerateMacBatch of 4096 messages gave its heap back and took it again (a fifth fewer MACs
         * per second): 8 MiB of free heap may stay. */
        (void) mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
        (void) mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
        log_parse_environment();
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("hmacd %s\n", HMACD_VERSION);
                        return EXIT_SUCCESS;
                case ARG_USER:
                        config.user_bus = true;
                        break;
                case ARG_STATE_DIR:
                        config.service.state_dir = optarg;
                        break;
                case ARG_KEK_FILE:
                        config.service.kek_file = optarg;
                        break;
                case ARG_LOG_TARGET:
                        target = log_target_from_string(optarg);
                        if (target < 0) {
                                fprintf(stderr, "hmacd: unknown log target '%s'.\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0) {
                                fprintf(stderr, "hmacd: unknown log level '%s'.\n", optarg);
                                return EXIT_FAILURE;
                        }
                        log_set_max_level(r);
                        break;
                case ARG_CACHE_KEYS:
                        errno = 0;
                        config.service.cache_max = strtoul(optarg, &end, 10);
                        if (errno != 0 || *end || config.service.cache_max == 0 || config.service.cache_max > 1000000) {
                                fprintf(stderr, "hmacd: --cache-keys must be 1..1000000.\n");
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_ENGINE:
                        config.service.engine = key_engine_from_string(optarg);
                        if (config.service.engine < 0) {
                                fprintf(stderr, "hmacd: --engine must be auto, kernel or openssl.\n");
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_POLKIT_CACHE: {
                        unsigned long long sec;
                        errno = 0;
                        sec = strtoull(optarg, &end, 10);
                        if (errno != 0 || *end || sec > 3600) {
                                fprintf(stderr, "hmacd: --polkit-cache-seconds must be 0..3600.\n");
                                return EXIT_FAILURE;
                        }
                        config.polkit_cache_usec = sec * 1000000ULL;
                        break;
                }
                case ARG_MAX_KEYS:
                case ARG_MAX_KEYS_PER_USER:
                case ARG_MAX_BYTES_PER_USER: {
                        unsigned long long v;
                        errno = 0;
                        v = strtoull(optarg, &end, 10);
                        if (errno != 0 || *end || v == 0 || v > (c == ARG_MAX_BYTES_PER_USER ? 1ULL << 40 : 10000000ULL)) {
                                fprintf(stderr, "hmacd: %s must be a positive number (at most %llu).\n",
                                        c == ARG_MAX_KEYS ? "--max-keys" :
                                        c == ARG_MAX_KEYS_PER_USER ? "--max-keys-per-user" : "--max-bytes-per-user",
                                        c == ARG_MAX_BYTES_PER_USER ? 1ULL << 40 : 10000000ULL);
                                return EXIT_FAILURE;
                        }
                        if (c == ARG_MAX_KEYS)
                                config.service.quotas.max_keys = v;
                        else if (c == ARG_MAX_KEYS_PER_USER)
                                config.service.quotas.max_keys_per_user = v;
                        else
                                config.service.quotas.max_bytes_per_user = v;
                        break;
                }
                case ARG_TEST_ONLY_SECONDS_PER_DAY:
                        /* Shortens deletion windows for tests; clients still see the 7..30 day rule. */
                        errno = 0;
                        config.service.test_only_seconds_per_day = strtoull(optarg, &end, 10);
                        if (errno != 0 || *end || config.service.test_only_seconds_per_day == 0 ||
                            config.service.test_only_seconds_per_day > 86400) {
                                fprintf(stderr, "hmacd: --test-only-seconds-per-day must be 1..86400.\n");
                                return EXIT_FAILURE;
                        }
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (optind < argc) {
                fprintf(stderr, "hmacd: unexpected argument '%s'.\n", argv[optind]);
                return EXIT_FAILURE;
        }

        log_setup(target);
        umask(0077);
        if (!config.service.state_dir)
                config.service.state_dir = getenv("STATE_DIRECTORY") ?: "/var/lib/hmacd";

        /* No core dumps, no ptrace by other processes of this user. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                log_error_errno(errno, "Failed to make the process non-dumpable: %m");
                return EXIT_FAILURE;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = manager_new(&m);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_load(m, &config);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_connect_bus(m, &config);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_run(m);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
