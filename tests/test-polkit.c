/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* polkit as key policy, with a real polkitd on the private bus: callers running as other users
 * allowed and denied by owner, alias, tag and group rules; rule changes without a restart; no
 * polkitd means no; a slow rule for one caller delays nobody else; the cache does not outlive a
 * tag change. Rules are written to /etc/polkit-1/rules.d, which tests/run-tests replaces with a
 * temporary copy in a private mount namespace; each test's rules name only its own keys. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus-call.h"
#include "harness.h"
#include "hmacd.h"
#include "kms.h"
#include "macro.h"

#define RULES_DIR "/etc/polkit-1/rules.d"

static pid_t polkitd_pid;
static char rule_path[256];
static char token[17];  /* random, names this test's tags and aliases */

/* polkitd starts as root and switches to its own user itself. */
static void start_polkitd(void) {
        char *argv[] = { (char *) "/usr/lib/polkit-1/polkitd", (char *) "--no-debug", NULL };
        char log[4096];

        snprintf(log, sizeof log, "%s/polkitd.log", harness_tmp_dir());
        harness_check(harness_spawn("polkitd", NULL, argv, log, &polkitd_pid), "start polkitd");
        harness_check(harness_wait_for_name("org.freedesktop.PolicyKit1", polkitd_pid, HARNESS_START_TIMEOUT_USEC, NULL),
                      "wait for polkitd");
}

static void stop_polkitd(void) {
        if (polkitd_pid > 0)
                harness_stop(polkitd_pid, SIGTERM, HARNESS_STOP_TIMEOUT_USEC, NULL);
        polkitd_pid = 0;
}

static void setup(void) {
        uint8_t b[8];

        harness_require_environment();
        if (access("/usr/lib/polkit-1/polkitd", X_OK) < 0)
                cr_skip_test("polkitd is not installed");
        cr_assert(getrandom(b, sizeof b, 0) == sizeof b);
        for (int i = 0; i < 8; i++)
                snprintf(token + 2 * i, 3, "%02x", b[i]);
        snprintf(rule_path, sizeof rule_path, RULES_DIR "/60-test-%s.rules", token);
        harness_check(harness_bus_start(), "start the bus");
        start_polkitd();
        harness_check(harness_daemon_start(), "start hmacd");
}

static void teardown(void) {
        if (*rule_path)
                (void) unlink(rule_path);
        bus_close();
        harness_stop_all(); /* polkitd too: it was spawned through the harness */
        polkitd_pid = 0;
}

/* Writes this test's rule file; polkitd notices it and reloads. */
static void write_rule(const char *body) {
        char tmp[300];
        FILE *f;

        snprintf(tmp, sizeof tmp, "%s.tmp", rule_path);
        f = fopen(tmp, "w");
        cr_assert(f);
        fprintf(f, "polkit.addRule(function(action, subject) {\n%s\n});\n", body);
        cr_assert(fclose(f) == 0);
        cr_assert(chmod(tmp, 0644) == 0);
        cr_assert(rename(tmp, rule_path) == 0);
}

static void remove_rule(void) {
        cr_assert(unlink(rule_path) == 0);
}

/* GenerateMac (or VerifyMac) through hmacctl as user; returns the exit code, and stderr in *err. */
static int mac_as(const char *user, const char *key, bool verify, char **err) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        int r;

        if (verify)
                r = harness_runl(user, &res, HARNESS_HMACCTL, "verify-mac", "--key-id", key, "--message", "bQ==",
                                 "--mac-algorithm", "HMAC_SHA_256", "--mac", "AAAA", "--no-ask-password", NULL);
        else
                r = harness_runl(user, &res, HARNESS_HMACCTL, "generate-mac", "--key-id", key, "--message", "bQ==",
                                 "--mac-algorithm", "HMAC_SHA_256", "--no-ask-password", NULL);
        cr_assert(r >= 0);
        if (err)
                *err = strdup(res.err);
        return res.exit_code;
}

static void expect_allowed(const char *user, const char *key) {
        _cleanup_free_ char *err = NULL;
        int code = mac_as(user, key, false, &err);
        cr_assert_eq(code, 0, "%s was refused %s: %s", user, key, err);
}

static void expect_denied(const char *user, const char *key) {
        _cleanup_free_ char *err = NULL;
        int code = mac_as(user, key, false, &err);
        cr_assert_eq(code, 254, "%s: expected a refusal, got %d: %s", user, code, err);
        cr_assert(strstr(err, "AccessDenied"), "%s", err);
}

/* polkitd reloads its rules some time after a file changes: wait for the expected answer. */
static void eventually(const char *user, const char *key, bool allowed) {
        for (int i = 0; i < 100; i++) {
                if ((mac_as(user, key, false, NULL) == 0) == allowed)
                        return;
                usleep(100 * 1000);
        }
        cr_assert_fail("%s was still %s on %s after 10 s", user, allowed ? "refused" : "allowed", key);
}

static void create_key(char *id, const char *tag_key, const char *tag_value) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        cr_assert(bus_create_key("HMAC_256", NULL, id) >= 0);
        if (tag_key) {
                cr_assert(bus_call("TagResource", &e, NULL, "sa{ss}", id, 1, tag_key, tag_value) >= 0, "%s", e.message);
                sd_bus_error_free(&e);
        }
}

TestSuite(polkit, .init = setup, .fini = teardown, .timeout = 120);

Test(polkit, tag_rule_grants_without_restart_and_untag_revokes) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char key[37], other[37], rule[1024];
        pid_t pid = harness_daemon_pid();

        create_key(key, "Purpose", token);
        create_key(other, "Purpose", "something-else");
        expect_denied(HARNESS_TEST_USER, key);

        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.generate-mac\" && subject.user == \"%s\" &&\n"
                 "    action.lookup(\"tag.Purpose\") == \"%s\") return polkit.Result.YES;",
                 HARNESS_TEST_USER, token);
        write_rule(rule);
        eventually(HARNESS_TEST_USER, key, true);
        expect_denied(HARNESS_TEST_USER, other);
        expect_allowed(HARNESS_TEST_USER, key); /* again: from the cache */

        /* Removing the tag changes the key's details: the cached answer does not apply any more. */
        cr_assert(bus_call("UntagResource", &e, NULL, "sas", key, 1, "Purpose") >= 0);
        expect_denied(HARNESS_TEST_USER, key);
        cr_assert_eq(harness_daemon_pid(), pid, "hmacd was restarted");
}

Test(polkit, removing_a_rule_revokes) {
        char key[37], rule[1024];

        create_key(key, "Purpose", token);
        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.generate-mac\" && action.lookup(\"tag.Purpose\") == \"%s\")"
                 " return polkit.Result.YES;",
                 token);
        write_rule(rule);
        eventually(HARNESS_TEST_USER, key, true);
        remove_rule();
        /* polkit signals Changed after reloading; the daemon forgets its cached answers. */
        eventually(HARNESS_TEST_USER, key, false);
}

Test(polkit, owner_may_use_and_manage_own_key) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        char rule[1024], *id, *end;

        /* An administrator's rule lets the test user create keys; the shipped rule does the rest. */
        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.create-key\" && subject.user == \"%s\" &&"
                 " action.lookup(\"key_spec\") == \"HMAC_256\") return polkit.Result.YES;",
                 HARNESS_TEST_USER);
        write_rule(rule);
        for (int i = 0; i < 100; i++) {
                harness_result_done(&res);
                cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "create-key", "--key-spec", "HMAC_256",
                                       "--key-usage", "GENERATE_VERIFY_MAC", "--no-ask-password", NULL) >= 0);
                if (res.exit_code == 0)
                        break;
                usleep(100 * 1000);
        }
        cr_assert_eq(res.exit_code, 0, "%s", res.err);
        id = strstr(res.out, "\"KeyId\": \"");
        cr_assert(id, "%s", res.out);
        id += strlen("\"KeyId\": \"");
        end = strchr(id, '"');
        cr_assert(end);
        *end = 0;

        expect_allowed(HARNESS_TEST_USER, id);
        {
                _cleanup_(harness_result_done) HarnessResult d = {};
                cr_assert(harness_runl(HARNESS_TEST_USER, &d, HARNESS_HMACCTL, "describe-key", "--key-id", id,
                                       "--no-ask-password", NULL) >= 0);
                cr_assert_eq(d.exit_code, 0, "%s", d.err);
                cr_assert(strstr(d.out, HARNESS_TEST_USER), "%s", d.out);
        }
        /* The shipped rule covers io.hmacd.rotate-key for the owner too (busctl: a plain call). */
        {
                _cleanup_(harness_result_done) HarnessResult r1 = {}, r2 = {};
                cr_assert(harness_runl(HARNESS_TEST_USER, &r1, "busctl", "--system", "--allow-interactive-authorization=no",
                                       "call", HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE, "RotateKeyOnDemand",
                                       "s", id, NULL) >= 0);
                cr_assert_eq(r1.exit_code, 0, "the owner may not rotate its key: %s", r1.err);
                cr_assert(strncmp(r1.out, "s \"", 3) == 0 && strlen(r1.out) >= 3 + 64, "%s", r1.out);
                cr_assert(harness_runl("daemon", &r2, "busctl", "--system", "--allow-interactive-authorization=no",
                                       "call", HMACD_BUS_NAME, HMACD_OBJECT_PATH, HMACD_INTERFACE, "RotateKeyOnDemand",
                                       "s", id, NULL) >= 0);
                cr_assert_neq(r2.exit_code, 0, "another user rotated the key: %s", r2.out);
                cr_assert(strstr(r2.err, "denied") || strstr(r2.err, "Access"), "%s", r2.err);
        }
        expect_allowed(HARNESS_TEST_USER, id);

        /* Other users may not; a spec the rule does not name is refused too. */
        expect_denied("daemon", id);
        expect_denied("nobody", id);
        harness_result_done(&res);
        cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "create-key", "--key-spec", "HMAC_512",
                               "--key-usage", "GENERATE_VERIFY_MAC", "--no-ask-password", NULL) >= 0);
        cr_assert_eq(res.exit_code, 254, "%s", res.err);
}

Test(polkit, service_user_pinned_to_one_alias) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char key[37], other[37], alias[64], rule[1024];

        create_key(key, NULL, NULL);
        create_key(other, NULL, NULL);
        snprintf(alias, sizeof alias, "alias/svc-%s", token);
        cr_assert(bus_call("CreateAlias", &e, NULL, "ss", alias, key) >= 0);
        snprintf(rule, sizeof rule,
                 "if (subject.user == \"daemon\" && (action.id == \"io.hmacd.generate-mac\" ||"
                 " action.id == \"io.hmacd.verify-mac\") &&"
                 " action.lookup(\"aliases\").split(\",\").indexOf(\"%s\") >= 0) return polkit.Result.YES;",
                 alias);
        write_rule(rule);
        eventually("daemon", alias, true);
        expect_allowed("daemon", key);
        expect_denied("daemon", other);
        expect_denied(HARNESS_TEST_USER, alias);

        /* Moving the alias moves the grant. */
        cr_assert(bus_call("UpdateAlias", &e, NULL, "ss", alias, other) >= 0);
        expect_denied("daemon", key);
        expect_allowed("daemon", other);
}

Test(polkit, group_may_verify_but_not_generate) {
        _cleanup_free_ char *err = NULL;
        char key[37], rule[1024], value[64];

        snprintf(value, sizeof value, "jwt-%s", token);
        create_key(key, "Purpose", value);
        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.verify-mac\" && subject.isInGroup(\"%s\") &&"
                 " action.lookup(\"tag.Purpose\") == \"%s\") return polkit.Result.YES;",
                 HARNESS_TEST_USER, value);
        write_rule(rule);
        /* Verify is allowed (the MAC given is wrong, so the answer is KMSInvalidMacException, not a refusal). */
        for (int i = 0; i < 100; i++) {
                free(err);
                if (mac_as(HARNESS_TEST_USER, key, true, &err) == 254 && strstr(err, "KMSInvalidMacException"))
                        break;
                usleep(100 * 1000);
        }
        cr_assert(strstr(err, "KMSInvalidMacException"), "%s", err);
        expect_denied(HARNESS_TEST_USER, key);
        free(err);
        err = NULL;
        cr_assert_eq(mac_as("daemon", key, true, &err), 254);
        cr_assert(strstr(err, "AccessDenied"), "%s", err);
}

Test(polkit, no_polkitd_means_no_but_root_still_works) {
        char key[37], rule[1024];
        uint8_t mac[64];
        size_t n;
        Hmacd *h = NULL;

        create_key(key, "Purpose", token);
        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.generate-mac\" && action.lookup(\"tag.Purpose\") == \"%s\")"
                 " return polkit.Result.YES;",
                 token);
        write_rule(rule);
        eventually(HARNESS_TEST_USER, key, true);
        stop_polkitd();
        /* The cache still holds the test user's answer; another user has none and polkit is gone. */
        expect_denied("daemon", key);
        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);
        cr_assert(hmacd_generate_mac(h, key, "m", 1, "HMAC_SHA_256", mac, &n, NULL, NULL) >= 0);
        hmacd_close(h);
        cr_assert(harness_daemon_running());
}

/* Runs fn in a child process as user; returns its exit code. */
static int as_user(const char *user, int (*fn)(void *userdata), void *userdata, pid_t *ret_pid) {
        int status = 0;
        pid_t pid;

        pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                struct passwd *pw = getpwnam(user);
                if (!pw || setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                        _exit(100);
                _exit(fn(userdata));
        }
        if (ret_pid)
                *ret_pid = pid;
        cr_assert(waitpid(pid, &status, 0) == pid);
        cr_assert(WIFEXITED(status), "%s", harness_describe_status(status));
        return WEXITSTATUS(status);
}

static int five_macs(void *userdata) {
        Hmacd *h = NULL;
        uint8_t mac[64];
        size_t n;

        if (hmacd_open(HMACD_BUS_SYSTEM, &h) < 0)
                return 101;
        for (int i = 0; i < 5; i++)
                if (hmacd_generate_mac(h, userdata, "m", 1, "HMAC_SHA_256", mac, &n, NULL, NULL) < 0)
                        return 10 + i;
        hmacd_close(h);
        return 0;
}

static size_t count_audit(const char *log, const char *op, pid_t pid, const char *result) {
        char needle[64], prefix[64];
        size_t n = 0;

        snprintf(needle, sizeof needle, "pid=%d result=%s\n", (int) pid, result);
        snprintf(prefix, sizeof prefix, "op=%s ", op);
        for (const char *p = log; (p = strstr(p, prefix)); p++) {
                const char *eol = strchr(p, '\n');
                const char *hit = strstr(p, needle);
                if (hit && eol && hit < eol)
                        n++;
        }
        return n;
}

/* The answer for one (caller, action, key) is asked once and then reused. */
Test(polkit, allowed_answers_are_cached) {
        _cleanup_free_ char *log = NULL;
        char key[37], rule[1024];
        pid_t pid;

        create_key(key, "Purpose", token);
        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.generate-mac\" && action.lookup(\"tag.Purpose\") == \"%s\")"
                 " return polkit.Result.YES;",
                 token);
        write_rule(rule);
        eventually(HARNESS_TEST_USER, key, true);

        /* One connection, five calls: polkit is asked for the first only; the others are allowed by
         * the cache, which their own operation records show. */
        cr_assert_eq(as_user(HARNESS_TEST_USER, five_macs, key, &pid), 0);
        cr_assert(harness_daemon_log(&log) >= 0);
        cr_assert_eq(count_audit(log, "Authorize", pid, "pending"), 1, "%s", log);
        cr_assert_eq(count_audit(log, "Authorize", pid, "allowed"), 1, "%s", log);
        cr_assert_eq(count_audit(log, "GenerateMac", pid, "ok"), 5, "%s", log);
        /* polkit's answers are authorization records, at info; the calls operation records. */
        cr_assert(strstr(log, " priority=6 message_id=20df8d406e5843a49330f59c335fe237 "), "%s", log);
        cr_assert(strstr(log, " priority=6 message_id=737da9ce913d4947a9803f5c66dede9a "), "%s", log);
}

/* While polkit takes seconds over one caller, others are served. */
Test(polkit, slow_rule_for_one_caller_delays_nobody_else) {
        char key[37], rule[1024], log[4096];
        char *argv[] = { (char *) HARNESS_HMACCTL, (char *) "generate-mac", (char *) "--key-id", key,
                         (char *) "--message", (char *) "bQ==", (char *) "--mac-algorithm", (char *) "HMAC_SHA_256",
                         (char *) "--no-ask-password", NULL };
        pid_t slow;
        int status = 0;
        Hmacd *h = NULL;

        create_key(key, "Purpose", token);
        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.generate-mac\" && action.lookup(\"tag.Purpose\") == \"%s\") {\n"
                 "        if (subject.user == \"daemon\") polkit.spawn([\"sleep\", \"4\"]);\n"
                 "        return polkit.Result.YES;\n"
                 "}",
                 token);
        write_rule(rule);
        eventually(HARNESS_TEST_USER, key, true); /* the test user's answer is now cached */

        snprintf(log, sizeof log, "%s/slow.log", harness_tmp_dir());
        cr_assert(harness_spawn("slow caller", "daemon", argv, log, &slow) >= 0);
        usleep(300 * 1000); /* let its check reach polkitd */

        /* Root and a caller with a cached answer get their MACs while the slow check still runs. */
        cr_assert(hmacd_open(HMACD_BUS_SYSTEM, &h) >= 0);
        for (int i = 0; i < 20; i++) {
                uint8_t mac[64];
                size_t n;
                cr_assert(hmacd_generate_mac(h, key, "m", 1, "HMAC_SHA_256", mac, &n, NULL, NULL) >= 0);
        }
        hmacd_close(h);
        cr_assert_eq(waitpid(slow, &status, WNOHANG), 0, "the slow caller finished before the others were served");
        cr_assert(harness_stop(slow, SIGCONT, 30 * HARNESS_USEC_PER_SEC, &status) >= 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "slow caller: %s", harness_describe_status(status));
}

/* Without ALLOW_INTERACTIVE_AUTHORIZATION a challenge is InteractiveAuthorizationRequired. */
Test(polkit, challenge_without_interaction) {
        char key[37], rule[1024];
        int pipefd[2], status = 0;
        char name[256] = "";
        pid_t pid;

        create_key(key, "Purpose", token);
        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.generate-mac\" && action.lookup(\"tag.Purpose\") == \"%s\")"
                 " return polkit.Result.AUTH_ADMIN;",
                 token);
        write_rule(rule);
        usleep(1500 * 1000);

        cr_assert(pipe2(pipefd, O_CLOEXEC) == 0);
        pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                struct passwd *pw = getpwnam(HARNESS_TEST_USER);
                HmacdError e = {};
                Hmacd *h = NULL;
                uint8_t mac[64];
                size_t n;

                if (!pw || setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0 || hmacd_open(HMACD_BUS_SYSTEM, &h) < 0)
                        _exit(2);
                hmacd_set_allow_interactive_authorization(h, false);
                for (int i = 0; i < 50; i++) {
                        hmacd_error_clear(&e);
                        if (hmacd_generate_mac(h, key, "m", 1, "HMAC_SHA_256", mac, &n, NULL, &e) < 0 && e.name &&
                            strstr(e.name, "InteractiveAuthorizationRequired"))
                                break;
                        usleep(100 * 1000);
                }
                dprintf(pipefd[1], "%s", e.name ?: "");
                _exit(0);
        }
        close(pipefd[1]);
        cr_assert(read(pipefd[0], name, sizeof name - 1) >= 0);
        close(pipefd[0]);
        cr_assert(waitpid(pid, &status, 0) == pid);
        cr_assert_str_eq(name, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired");
}

Test(polkit, listing_needs_list_keys) {
        _cleanup_(harness_result_done) HarnessResult res = {};
        char key[37], rule[1024];

        create_key(key, NULL, NULL);
        cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "list-keys", "--no-ask-password", NULL) >= 0);
        cr_assert_eq(res.exit_code, 254, "%s", res.out);
        snprintf(rule, sizeof rule,
                 "if (action.id == \"io.hmacd.list-keys\" && subject.user == \"%s\") return polkit.Result.YES;",
                 HARNESS_TEST_USER);
        write_rule(rule);
        for (int i = 0; i < 100; i++) {
                harness_result_done(&res);
                cr_assert(harness_runl(HARNESS_TEST_USER, &res, HARNESS_HMACCTL, "list-keys", "--no-ask-password",
                                       NULL) >= 0);
                if (res.exit_code == 0)
                        break;
                usleep(100 * 1000);
        }
        cr_assert_eq(res.exit_code, 0, "%s", res.err);
        cr_assert(strstr(res.out, key), "%s", res.out);
}
