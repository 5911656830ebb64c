/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shell scripts written for `aws kms` (AWS CLI v2), run unchanged against the real daemon: the
 * scripts in tests/aws-scripts/ call `aws`, and the `aws` found first in PATH is the shim beside them,
 * which runs hmacctl with the word kms dropped. Each script's standard output is compared, line by
 * line, with its .expected file, in which '*' stands for any run of characters (the key IDs, ARNs,
 * MACs and dates that differ from run to run), so that the shapes AWS's documentation shows are
 * checked and the random values are not. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-util.h"
#include "harness.h"
#include "macro.h"

TestSuite(aws_scripts, .init = harness_setup_daemon, .fini = harness_teardown, .timeout = 240);

/* pattern, with '*' matching any run of characters, matches the whole of s (n bytes). */
static bool glob_match(const char *pattern, const char *s, size_t n) {
        const char *star = NULL, *resume = NULL, *end = s + n;

        while (s < end) {
                if (*pattern == '*') {
                        star = pattern++;
                        resume = s;
                } else if (*pattern && *pattern == *s) {
                        pattern++;
                        s++;
                } else if (star) {
                        pattern = star + 1;
                        s = ++resume;
                } else
                        return false;
        }
        while (*pattern == '*')
                pattern++;
        return *pattern == 0;
}

static void run_script(const char *name) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        _cleanup_free_ char *scripts = NULL, *script = NULL, *expected_path = NULL, *expected = NULL,
                            *hmacctl = NULL, *path = NULL;
        const char *out, *exp;
        size_t size, line = 1;

        cr_assert(harness_source_dir());
        cr_assert(asprintf(&scripts, "%s/tests/aws-scripts", harness_source_dir()) >= 0);
        cr_assert(asprintf(&script, "%s/%s.sh", scripts, name) >= 0);
        cr_assert(asprintf(&expected_path, "%s/%s.expected", scripts, name) >= 0);
        cr_assert(harness_read_file(expected_path, &expected, &size) >= 0, "cannot read %s", expected_path);

        /* The shim first in PATH, and the hmacctl it runs. */
        cr_assert(harness_build_path(HARNESS_HMACCTL, &hmacctl) >= 0);
        cr_assert(asprintf(&path, "%s:%s", scripts, getenv("PATH") ?: "/usr/bin:/bin") >= 0);
        cr_assert(setenv("HMACCTL", hmacctl, 1) == 0);
        cr_assert(setenv("PATH", path, 1) == 0);
        cr_assert(unsetenv("AWS_PAGER") == 0);

        /* In the per-test directory, where the scripts may leave their files. */
        cr_assert(harness_runl(NULL, &res, "sh", "-c", "cd \"$1\" && exec sh \"$2\"", "sh",
                               harness_tmp_dir(), script, NULL) >= 0);
        cr_assert(!res.timed_out, "%s timed out", name);
        cr_assert_eq(res.exit_code, 0, "%s: %s\nstderr:\n%s\nstdout:\n%s", name,
                     harness_describe_status(res.status), res.err, res.out);

        out = res.out;
        exp = expected;
        for (;; line++) {
                const char *out_end = strchrnul(out, '\n'), *exp_end = strchrnul(exp, '\n');
                _cleanup_free_ char *pattern = strndup(exp, exp_end - exp);

                cr_assert(pattern);
                if (!*out && !*exp)
                        break;
                cr_assert(*exp, "%s: line %zu is more than expected: '%.*s'\nstdout:\n%s", name, line,
                          (int) (out_end - out), out, res.out);
                cr_assert(*out, "%s: line %zu is missing, expected '%s'\nstdout:\n%s", name, line, pattern,
                          res.out);
                cr_assert(glob_match(pattern, out, out_end - out),
                          "%s: line %zu is '%.*s', expected '%s'\nstdout:\n%s", name, line,
                          (int) (out_end - out), out, pattern, res.out);
                out = *out_end ? out_end + 1 : out_end;
                exp = *exp_end ? exp_end + 1 : exp_end;
        }
}

Test(aws_scripts, glob) {
        cr_assert(glob_match("a*c", "abbc", 4));
        cr_assert(glob_match("*", "", 0));
        cr_assert(glob_match("\"KeyId\": \"*-*\"", "\"KeyId\": \"1-2\"", 14));
        cr_assert(!glob_match("a*c", "abcd", 4));
        cr_assert(!glob_match("[", "x", 1));
}

Test(aws_scripts, mac) {
        run_script("mac");
}

Test(aws_scripts, list_keys) {
        run_script("list-keys");
}

Test(aws_scripts, tags) {
        run_script("tags");
}

Test(aws_scripts, alias) {
        run_script("alias");
}

Test(aws_scripts, cli_input) {
        run_script("cli-input");
}

/* Needs the daemon's side of key material versions (API.md, section 3a). */
Test(aws_scripts, rotation) {
        run_script("rotation");
}
