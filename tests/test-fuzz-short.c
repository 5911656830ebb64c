/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The short fuzz runs of `make check`: every libFuzzer target of fuzz/ (built into <build>/fuzz/ by
 * mk/fuzz.mk, which makes them prerequisites of this test) runs for a few seconds on its committed
 * corpus, writing what it finds into a scratch directory, and must exit 0 without leaving a crash,
 * leak, timeout or out-of-memory reproducer behind. `make fuzz` runs the same targets for longer. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Seconds each target runs here. */
#define FUZZ_SHORT_SECONDS "3"

/* Every fuzz/fuzz-NAME.c; the test every_target_runs_here checks that this list is complete. */
static const char *const targets[] = {
        "cli-args", "cli-util", "ident", "import-token", "marker", "names", "utf8", "yaml",
};

static bool have_clang(void) {
        _cleanup_(harness_result_done) HarnessResult res = {};

        return harness_runl(NULL, &res, "sh", "-c", "command -v \"${FUZZ_CC:-clang}\"", NULL) >= 0 &&
               res.exit_code == 0;
}

static size_t count_entries(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static void run_target(const char *name) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *binary = NULL, *corpus = NULL, *dict = NULL, *scratch = NULL, *artifacts = NULL,
                            *prefix = NULL, *dict_arg = NULL;
        const char *src = harness_source_dir(), *tmp = harness_tmp_dir(), *stats;
        unsigned long long execs = 0;
        char *argv[16];
        size_t seeds, n = 0;

        cr_assert_not_null(src);
        cr_assert_not_null(tmp);
        cr_assert(asprintf(&binary, "%s/fuzz/fuzz-%s", harness_build_dir(), name) > 0);
        cr_assert(asprintf(&corpus, "%s/fuzz/corpus/%s", src, name) > 0);
        cr_assert(asprintf(&dict, "%s/fuzz/%s.dict", src, name) > 0);
        cr_assert(asprintf(&scratch, "%s/corpus-%s", tmp, name) > 0);
        cr_assert(asprintf(&artifacts, "%s/artifacts-%s", tmp, name) > 0);
        cr_assert(asprintf(&prefix, "-artifact_prefix=%s/", artifacts) > 0);

        if (access(binary, X_OK) < 0) {
                if (!have_clang())
                        cr_skip_test("%s was not built: there is no clang with libFuzzer here (`make deps` "
                                     "installs clang and libclang-rt-14-dev)",
                                     binary);
                cr_assert_fail("%s was not built, although clang is installed: run `make` (mk/fuzz.mk)",
                               binary);
        }

        seeds = count_entries(corpus);
        cr_assert_geq(seeds, 10, "the seed corpus %s has %zu entries", corpus, seeds);
        cr_assert(mkdir(scratch, 0700) >= 0 && mkdir(artifacts, 0700) >= 0, "mkdir: %m");

        /* The scratch directory comes first: libFuzzer adds what it finds to the first corpus only. */
        argv[n++] = binary;
        argv[n++] = (char *) "-max_total_time=" FUZZ_SHORT_SECONDS;
        argv[n++] = (char *) "-timeout=20";
        argv[n++] = (char *) "-rss_limit_mb=2048";
        argv[n++] = (char *) "-print_final_stats=1";
        argv[n++] = prefix;
        if (access(dict, R_OK) >= 0) {
                cr_assert(asprintf(&dict_arg, "-dict=%s", dict) > 0);
                argv[n++] = dict_arg;
        }
        argv[n++] = scratch;
        argv[n++] = corpus;
        argv[n] = NULL;
        cr_assert_geq(harness_run(NULL, NULL, 0, argv, &res), 0);
        cr_assert(!res.timed_out, "%s ran past the harness's time limit", binary);
        cr_assert_eq(res.exit_code, 0, "fuzz-%s %s; its output ends:\n%s", name,
                     harness_describe_status(res.status),
                     res.err_size > 6000 ? res.err + res.err_size - 6000 : res.err);
        cr_assert_eq(count_entries(artifacts), 0, "fuzz-%s left reproducers in %s:\n%s", name, artifacts,
                     res.err);

        stats = strstr(res.err, "stat::number_of_executed_units:");
        cr_assert_not_null(stats, "no final statistics from fuzz-%s:\n%s", name, res.err);
        execs = strtoull(stats + strlen("stat::number_of_executed_units:"), NULL, 10);
        /* At least the seeds themselves, and then some. */
        cr_assert_gt(execs, seeds, "fuzz-%s executed %llu inputs", name, execs);
        cr_log_info("fuzz-%s: %llu executions in " FUZZ_SHORT_SECONDS " s from %zu seeds, %zu new inputs",
                    name, execs, seeds, count_entries(scratch));
        fprintf(stderr, "fuzz-%s: %llu executions in " FUZZ_SHORT_SECONDS " s\n", name, execs);
}

TestSuite(fuzz_short, .timeout = 90);

#define FUZZ_TEST(ident, name)                                                                              \
        Test(fuzz_short, ident) {                                                                           \
                run_target(name);                                                                           \
        }

FUZZ_TEST(cli_args, "cli-args")
FUZZ_TEST(cli_util, "cli-util")
FUZZ_TEST(ident, "ident")
FUZZ_TEST(import_token, "import-token")
FUZZ_TEST(marker, "marker")
FUZZ_TEST(names, "names")
FUZZ_TEST(utf8, "utf8")
FUZZ_TEST(yaml, "yaml")

/* A new fuzz/fuzz-NAME.c must get a test above (and an entry in targets[]). */
Test(fuzz_short, every_target_runs_here) {
        const char *src = harness_source_dir();
        _cleanup_free_ char *dir = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        cr_assert_not_null(src);
        cr_assert(asprintf(&dir, "%s/fuzz", src) > 0);
        d = opendir(dir);
        cr_assert_not_null(d, "%s: %m", dir);
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                bool listed = false;

                if (strncmp(de->d_name, "fuzz-", 5) != 0 || len < 7 ||
                    strcmp(de->d_name + len - 2, ".c") != 0)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(targets); i++)
                        listed = listed || (strlen(targets[i]) == len - 7 &&
                                            strncmp(de->d_name + 5, targets[i], len - 7) == 0);
                cr_expect(listed, "%s/%s has no short run in tests/test-fuzz-short.c", dir, de->d_name);
                n++;
        }
        closedir(d);
        cr_assert_eq(n, ELEMENTSOF(targets), "%zu targets in %s, %zu listed here", n, dir,
                     ELEMENTSOF(targets));
}
