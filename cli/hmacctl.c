/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl: the command-line client of hmacd, shaped like `aws kms` of AWS CLI v2, so that scripts
 * written for it run unchanged: the same subcommand and option names, blobs in base64
 * (--cli-binary-format), --query and the output formats (jmespath.c, output.c), --cli-input-json and
 * --cli-input-yaml (yaml.c) with --generate-cli-skeleton, botocore's paging and NextToken, the aws
 * global options (those without a meaning here accepted and ignored), the same error lines and exit
 * codes. Each subcommand is one row of the verbs[] table (its AWS operation name, its parameters in
 * the order of the AWS request, which of them are required) and one verb_*() function that makes the
 * calls, each through CALL() so that --debug can time it, and builds the output. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <systemd/sd-bus-protocol.h>
#include <time.h>
#include <unistd.h>

#include "hmacd.h"
#include "ident.h"
#include "jmespath.h"
#include "json.h"
#include "kms.h"
#include "output.h"
#include "macro.h"
#include "util.h"
#include "yaml.h"

/* Exit codes as AWS CLI v2 uses them (`aws help return-codes`); 1 and 2 are its s3 commands' own. */
#define EXIT_USAGE 252          /* bad command line, or a bad parameter value */
#define EXIT_CONFIGURATION 253  /* the environment is not usable: no session bus for --user */
#define EXIT_SERVICE 254        /* the service answered with an error (an invalid MAC included) */
#define EXIT_OTHER 255          /* anything else, a service that cannot be reached included */
#define EXIT_INTERRUPTED 130    /* SIGINT */

DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdKeyMetadata *, hmacd_key_metadata_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdKeyList *, hmacd_key_list_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdAliasList *, hmacd_alias_list_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdTagList *, hmacd_tag_list_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdKeyRotationList *, hmacd_key_rotation_list_free);

/* --output: the formats of output.h, by the names aws takes. */
static const char *const output_formats[] = { "json", "text", "table", "yaml", "yaml-stream", NULL };
static const OutputFormat output_format_table[] = {
        OUTPUT_FORMAT_JSON,  OUTPUT_FORMAT_TEXT,        OUTPUT_FORMAT_TABLE,
        OUTPUT_FORMAT_YAML,  OUTPUT_FORMAT_YAML_STREAM,
};

typedef enum BinaryFormat {
        BINARY_FORMAT_BASE64,             /* blobs on the command line are base64, as AWS CLI v2 */
        BINARY_FORMAT_RAW_IN_BASE64_OUT,  /* blobs are the text itself (AWS CLI v1's way) */
} BinaryFormat;

static const char *const binary_formats[] = { "base64", "raw-in-base64-out", NULL };

typedef enum Skeleton {
        SKELETON_NONE,
        SKELETON_INPUT,
        SKELETON_OUTPUT,
        SKELETON_YAML_INPUT,
} Skeleton;

static const char *const skeletons[] = { "", "input", "output", "yaml-input", NULL };
static const char *const colors[] = { "on", "off", "auto", NULL };
static const OutputColor color_table[] = { OUTPUT_COLOR_ON, OUTPUT_COLOR_OFF, OUTPUT_COLOR_AUTO };

typedef enum ParamKind {
        PARAM_STRING,           /* one string */
        PARAM_BLOB,             /* bytes: base64 (raw text with --cli-binary-format raw-in-base64-out), or
                                 * fileb://PATH for a file's raw bytes, file://PATH for its text */
        PARAM_TAG_LIST,         /* one or more TagKey=K,TagValue=V (or JSON), after one or several --tags */
        PARAM_STRING_LIST,      /* one or more strings (each at least 'min' long), after one or several */
        PARAM_UINT32,           /* a number, at least 'min' */
        PARAM_TIMESTAMP,        /* ISO 8601 or seconds since the epoch, as the aws CLI takes timestamps */
        PARAM_FILE,             /* bytes: only fileb://PATH (or file://PATH), at most 'max' of them */
        PARAM_CHOICE,           /* one of 'choices' (hmacctl's own options; the service checks AWS enums) */
        PARAM_PAGING_STRING,    /* --starting-token: the aws CLI's own, not a request member */
        PARAM_PAGING_INT,       /* --page-size, --max-items: an integer as argparse takes it */
} ParamKind;

/* Options are looked up among the parameters of the subcommand given, so that one option name (--key-id,
 * --limit) may have a different meaning and help text in different subcommands. */
typedef enum ParamId {
        PARAM_KEY_ID = 1,       /* any of the four forms: GenerateMac, VerifyMac, DescribeKey */
        PARAM_MANAGED_KEY_ID,   /* key ID or key ARN: the management operations */
        PARAM_FILTER_KEY_ID,    /* list-aliases */
        PARAM_TARGET_KEY_ID,
        PARAM_ALIAS_NAME,
        PARAM_KEY_SPEC,
        PARAM_KEY_USAGE,
        PARAM_DESCRIPTION,
        PARAM_TAGS,
        PARAM_ORIGIN,
        PARAM_MESSAGE,
        PARAM_MAC_ALGORITHM,
        PARAM_MAC,
        PARAM_PENDING_WINDOW_IN_DAYS,
        PARAM_TAG_KEYS,
        PARAM_LIMIT,
        PARAM_ALIAS_LIMIT,
        PARAM_TAG_LIMIT,
        PARAM_MARKER,           /* the request member, undocumented as in aws: one page, no paging */
        PARAM_STARTING_TOKEN,
        PARAM_PAGE_SIZE,
        PARAM_MAX_ITEMS,
        PARAM_WRAPPING_ALGORITHM,
        PARAM_WRAPPING_KEY_SPEC,
        PARAM_IMPORT_KEY_SPEC,  /* import-key: the wrapping key spec, RSA_2048 when not given */
        PARAM_IMPORT_TOKEN,
        PARAM_ENCRYPTED_KEY_MATERIAL,
        PARAM_EXPIRATION_MODEL,
        PARAM_IMPORT_EXPIRATION_MODEL, /* import-key: what it does without one differs */
        PARAM_VALID_TO,
        PARAM_KEY_MATERIAL,
        PARAM_MESSAGES,
        PARAM_MESSAGE_FORMAT,
        PARAM_GRANT_TOKENS,     /* accepted and ignored: hmacd has no grants */
        PARAM_MAC_VERIFY_WINDOW_IN_DAYS,
        PARAM_ROTATION_PERIOD_IN_DAYS,
        PARAM_ROTATION_LIMIT,
        PARAM_DAYS,
        PARAM_KEY_MATERIAL_ID,
        PARAM_MACS,
        _PARAM_MAX,
        _PARAM_INVALID = -EINVAL,
} ParamId;

typedef struct Param {
        const char *name;       /* the option, without "--" */
        const char *member;     /* the AWS request member, for botocore-style validation messages */
        ParamKind kind;
        unsigned min;           /* the client-side check botocore does: minimum length or value */
        const char *metavar;
        const char *help;
        size_t max;                     /* PARAM_FILE: the most bytes read */
        const char *const *choices;     /* PARAM_CHOICE: NULL-terminated */
        const char *placeholder;        /* --generate-cli-skeleton: the value shown for a string */
} Param;

/* import-key reads the secret itself: far more than the 128 bytes of the largest key material is a
 * wrong file, not a key. */
#define KEY_MATERIAL_FILE_MAX 1024u

/* generate-mac-batch: the most messages of the most bytes each, with a 4-byte length before each (or
 * a newline after). */
#define MESSAGES_FILE_MAX ((size_t) KMS_BATCH_MAX * (KMS_MESSAGE_MAX + 4))

/* verify-mac-batch: the most MACs, each base64 of the longest 'mac' accepted, and a newline. */
#define MACS_FILE_MAX ((size_t) KMS_BATCH_MAX * ((KMS_MAC_MAX + 2) / 3 * 4 + 2))

static const char *const message_formats[] = { "lines", "length-prefixed", NULL };

static const Param params[_PARAM_MAX] = {
        [PARAM_KEY_ID] = { "key-id", "KeyId", PARAM_STRING, 1, "KEY",
                           "Key ID, key ARN, alias name or alias ARN" },
        [PARAM_MANAGED_KEY_ID] = { "key-id", "KeyId", PARAM_STRING, 1, "KEY", "Key ID or key ARN" },
        [PARAM_FILTER_KEY_ID] = { "key-id", "KeyId", PARAM_STRING, 1, "KEY",
                                  "List only the aliases of this key (key ID or key ARN); without it, all "
                                  "aliases" },
        [PARAM_TARGET_KEY_ID] = { "target-key-id", "TargetKeyId", PARAM_STRING, 1, "KEY",
                                  "The key the alias names: key ID or key ARN" },
        [PARAM_ALIAS_NAME] = { "alias-name", "AliasName", PARAM_STRING, 1, "ALIAS",
                               "alias/ followed by 1 to 250 of A-Z a-z 0-9 / _ -; alias/aws/ and "
                               "alias/hmacd/ are reserved" },
        [PARAM_KEY_SPEC] = { "key-spec", "KeySpec", PARAM_STRING, 0, "SPEC",
                             "HMAC_224, HMAC_256, HMAC_384 or HMAC_512", .placeholder = "HMAC_224" },
        [PARAM_KEY_USAGE] = { "key-usage", "KeyUsage", PARAM_STRING, 0, "USAGE",
                              "GENERATE_VERIFY_MAC (required by the service for HMAC keys)",
                              .placeholder = "GENERATE_VERIFY_MAC" },
        [PARAM_DESCRIPTION] = { "description", "Description", PARAM_STRING, 0, "TEXT",
                                "Free text, up to 8192 characters" },
        [PARAM_TAGS] = { "tags", "Tags", PARAM_TAG_LIST, 0, "TagKey=K,TagValue=V ...",
                         "Tags for the key; several may follow one --tags, and --tags may repeat" },
        [PARAM_ORIGIN] = { "origin", "Origin", PARAM_STRING, 0, "ORIGIN",
                           "HMACD (the default) or EXTERNAL (key material imported later)",
                           .placeholder = "HMACD" },
        [PARAM_MESSAGE] = { "message", "Message", PARAM_BLOB, 0, "BLOB",
                            "The message, 1 to 4096 bytes: base64 (text with --cli-binary-format "
                            "raw-in-base64-out), or fileb://PATH for a file's bytes (fileb://- reads "
                            "standard input)" },
        [PARAM_MAC_ALGORITHM] = { "mac-algorithm", "MacAlgorithm", PARAM_STRING, 0, "ALGORITHM",
                                  "HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384 or HMAC_SHA_512, matching the "
                                  "key spec",
                                  .placeholder = "HMAC_SHA_224" },
        [PARAM_MAC] = { "mac", "Mac", PARAM_BLOB, 0, "BLOB",
                        "The MAC to verify: base64 (as generate-mac prints it), or fileb://PATH for "
                        "raw bytes" },
        [PARAM_PENDING_WINDOW_IN_DAYS] = { "pending-window-in-days", "PendingWindowInDays", PARAM_UINT32, 1,
                                           "DAYS",
                                           "Days before the key is deleted, 7 to 30; without it, 30" },
        [PARAM_TAG_KEYS] = { "tag-keys", "TagKeys", PARAM_STRING_LIST, 1, "KEY ...",
                             "Tag keys to remove; several may follow one --tag-keys, and --tag-keys may "
                             "repeat; keys the key does not have are ignored" },
        [PARAM_LIMIT] = { "limit", "Limit", PARAM_UINT32, 1, "N",
                          "Return at most N keys (1..1000), and a NextToken when there are more; without "
                          "it, all keys are listed" },
        [PARAM_ALIAS_LIMIT] = { "limit", "Limit", PARAM_UINT32, 1, "N",
                                "Return at most N aliases (1..100), and a NextToken when there are more; "
                                "without it, all aliases are listed" },
        [PARAM_TAG_LIMIT] = { "limit", "Limit", PARAM_UINT32, 1, "N",
                              "Return at most N tags (1..50), and a NextToken when there are more; without "
                              "it, all tags are listed" },
        [PARAM_MARKER] = { "marker", "Marker", PARAM_STRING, 1, "MARKER",
                           "The service's NextMarker of an earlier page (turns paging off)" },
        [PARAM_STARTING_TOKEN] = { "starting-token", NULL, PARAM_PAGING_STRING, 0, "TOKEN",
                                   "Where to start paging: the NextToken of an earlier, truncated output" },
        [PARAM_PAGE_SIZE] = { "page-size", NULL, PARAM_PAGING_INT, 0, "N",
                              "The size of each page asked of the service; the output is the same" },
        [PARAM_MAX_ITEMS] = { "max-items", NULL, PARAM_PAGING_INT, 0, "N",
                              "At most N items in the output, and a NextToken to pass to "
                              "--starting-token when there are more" },
        [PARAM_WRAPPING_ALGORITHM] = { "wrapping-algorithm", "WrappingAlgorithm", PARAM_STRING, 0,
                                       "ALGORITHM",
                                       "RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1: RSA OAEP with that hash for "
                                       "OAEP and MGF1",
                                       .placeholder = "RSAES_OAEP_SHA_1" },
        [PARAM_WRAPPING_KEY_SPEC] = { "wrapping-key-spec", "WrappingKeySpec", PARAM_STRING, 0, "SPEC",
                                      "RSA_2048, RSA_3072 or RSA_4096", .placeholder = "RSA_2048" },
        [PARAM_IMPORT_KEY_SPEC] = { "wrapping-key-spec", "WrappingKeySpec", PARAM_STRING, 0, "SPEC",
                                    "The wrapping key to ask for: RSA_2048 (the default), RSA_3072 or "
                                    "RSA_4096",
                                    .placeholder = "RSA_2048" },
        [PARAM_IMPORT_TOKEN] = { "import-token", "ImportToken", PARAM_BLOB, 0, "BLOB",
                                 "The ImportToken of get-parameters-for-import: base64, or fileb://PATH "
                                 "for raw bytes" },
        [PARAM_ENCRYPTED_KEY_MATERIAL] = { "encrypted-key-material", "EncryptedKeyMaterial", PARAM_BLOB, 0,
                                           "BLOB",
                                           "The key material encrypted to the PublicKey: base64, or "
                                           "fileb://PATH for raw bytes" },
        [PARAM_EXPIRATION_MODEL] = { "expiration-model", "ExpirationModel", PARAM_STRING, 0, "MODEL",
                                     "KEY_MATERIAL_EXPIRES (the default, which needs --valid-to) or "
                                     "KEY_MATERIAL_DOES_NOT_EXPIRE",
                                     .placeholder = "KEY_MATERIAL_EXPIRES" },
        [PARAM_IMPORT_EXPIRATION_MODEL] = { "expiration-model", "ExpirationModel", PARAM_STRING, 0, "MODEL",
                                            "KEY_MATERIAL_EXPIRES (the default with --valid-to) or "
                                            "KEY_MATERIAL_DOES_NOT_EXPIRE (the default without it)",
                                            .placeholder = "KEY_MATERIAL_EXPIRES" },
        [PARAM_VALID_TO] = { "valid-to", "ValidTo", PARAM_TIMESTAMP, 0, "TIME",
                             "When the material expires (at most 365 days ahead): ISO 8601 such as "
                             "2026-06-30T12:00:00Z, or seconds since the epoch" },
        [PARAM_KEY_MATERIAL] = { "key-material", "KeyMaterial", PARAM_FILE, 0, "fileb://PATH",
                                 "The raw key material, from a file only (fileb://- reads standard input): "
                                 "28 to 64 bytes for HMAC_224, 32 to 64 for HMAC_256, 48 to 128 for "
                                 "HMAC_384, 64 to 128 for HMAC_512",
                                 KEY_MATERIAL_FILE_MAX },
        [PARAM_MESSAGES] = { "messages", "Messages", PARAM_FILE, 0, "fileb://PATH",
                             "The messages, from a file (fileb://- reads standard input), laid out as "
                             "--format says: 1 to 4096 messages of 1 to 4096 bytes",
                             MESSAGES_FILE_MAX },
        [PARAM_MESSAGE_FORMAT] = { "format", "Format", PARAM_CHOICE, 0, "lines|length-prefixed",
                                   "lines (the default): one message per line, without its newline; "
                                   "length-prefixed: each message after its length as a 4-byte big-endian "
                                   "integer",
                                   0, message_formats, .placeholder = "lines" },
        [PARAM_GRANT_TOKENS] = { "grant-tokens", "GrantTokens", PARAM_STRING_LIST, 1, "TOKEN ...",
                                 "Accepted and ignored, for scripts written for AWS: hmacd has no grants, "
                                 "polkit decides" },
        [PARAM_MAC_VERIFY_WINDOW_IN_DAYS] = { "mac-verify-window-in-days", "MacVerifyWindowInDays",
                                              PARAM_UINT32, 0, "DAYS",
                                              "How long a key material keeps verifying MACs after a "
                                              "rotation made it previous, 0 to 3650 days; 0 (the default): "
                                              "until retire-key-material" },
        [PARAM_ROTATION_PERIOD_IN_DAYS] = { "rotation-period-in-days", "RotationPeriodInDays", PARAM_UINT32,
                                            KMS_ROTATION_PERIOD_MIN, "DAYS",
                                            "Days between automatic rotations, 90 to 2560; without it, "
                                            "365" },
        [PARAM_ROTATION_LIMIT] = { "limit", "Limit", PARAM_UINT32, 1, "N",
                                   "Return at most N key materials (1..1000), and a NextToken when there "
                                   "are more; without it, all are listed" },
        [PARAM_DAYS] = { "days", "Days", PARAM_UINT32, 0, "DAYS",
                         "The key's MacVerifyWindowInDays, 0 to 3650: how long each previous material keeps "
                         "verifying after it stopped being current; 0: until retire-key-material" },
        [PARAM_KEY_MATERIAL_ID] = { "key-material-id", "KeyMaterialId", PARAM_STRING,
                                    KMS_KEY_MATERIAL_ID_LENGTH, "ID",
                                    "The KeyMaterialId of a previous material (64 hex characters, as "
                                    "list-key-rotations shows them)" },
        [PARAM_MACS] = { "macs", "Macs", PARAM_FILE, 0, "fileb://PATH",
                         "The MACs, from a file (fileb://- reads standard input): one base64 MAC per line, "
                         "line i for message i, as generate-mac-batch --output text prints them",
                         MACS_FILE_MAX },
};

typedef struct Tag {
        char *key;
        char *value;
} Tag;

_printf_(2, 3) static int param_error(const Param *p, const char *fmt, ...);
static char *join(const char *const *items, size_t n, const char *prefix);

typedef struct Context Context;

typedef struct VerbParam {
        ParamId id;
        bool required;
        bool hidden;    /* accepted, not shown: --limit and --marker of the paginated ones, as aws */
} VerbParam;

typedef struct Verb {
        const char *name;
        const char *operation;  /* the AWS operation, as error messages name it */
        int (*run)(Context *c);
        const char *summary;
        VerbParam params[8];
        const char *notes;      /* more for --help, or NULL */
        const char *result_key; /* the paginated ones: what the pages are made of ("Keys") */
        /* Checks and converts what the parameters hold before the service is even connected to, as
         * botocore validates a request before it is sent; returns 0 or the exit code. Or NULL. */
        int (*prepare)(Context *c);
} Verb;

/* verify-mac-batch's MACs, decoded, and as the library takes them. */
typedef struct MacList {
        Buffer *macs;
        struct iovec *iov;
        size_t n;
} MacList;

static void mac_list_done(MacList *l) {
        for (size_t i = 0; i < l->n; i++)
                buffer_done(&l->macs[i]);
        free(l->macs);
        free(l->iov);
        *l = (MacList) {};
}

struct Context {
        const Verb *verb;
        HmacdBusType bus_type;
        bool ask_password;
        Hmacd *hmacd;
        char *bus_address;      /* the address tried, for messages */

        /* The global options, and those the aws CLI gives every subcommand. */
        OutputFormat output;
        OutputColor color;
        BinaryFormat binary_format;
        Skeleton skeleton;
        char *query;
        bool debug;
        bool no_paginate;
        char *cli_input;        /* --cli-input-json or --cli-input-yaml, as given */
        bool cli_input_yaml;
        const char *ignored[32]; /* the options accepted for aws's sake, for --debug to say so */
        size_t n_ignored;

        /* The parameters, converted, by ParamId. */
        bool set[_PARAM_MAX];
        bool from_command_line[_PARAM_MAX];
        char *string[_PARAM_MAX];
        Buffer blob[_PARAM_MAX];
        uint32_t number[_PARAM_MAX];
        int64_t integer[_PARAM_MAX];
        uint64_t usec[_PARAM_MAX];
        char **list[_PARAM_MAX];
        size_t n_list[_PARAM_MAX];
        Tag *tags;
        size_t n_tags;

        /* The batch subcommands' messages (pointing into blob[PARAM_MESSAGES]) and MACs. */
        struct iovec *messages;
        size_t n_messages;
        MacList macs;
};

static void context_done(Context *c) {
        for (size_t i = 0; i < _PARAM_MAX; i++) {
                free(c->string[i]);
                buffer_done(&c->blob[i]);
                for (size_t j = 0; j < c->n_list[i]; j++)
                        free(c->list[i][j]);
                free(c->list[i]);
        }
        for (size_t i = 0; i < c->n_tags; i++) {
                free(c->tags[i].key);
                free(c->tags[i].value);
        }
        free(c->tags);
        free(c->messages);
        mac_list_done(&c->macs);
        free(c->query);
        free(c->cli_input);
        free(c->bus_address);
        hmacd_close(c->hmacd);
}

static bool isempty(const char *s) {
        return !s || !*s;
}

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static const char *strna(const char *s) {
        return s ?: "n/a";
}

static const char *bus_name(const Context *c) {
        return c->bus_type == HMACD_BUS_USER ? "session bus" : "system bus";
}

/* Errors of the bus that mean the service is not there, or the connection to it broke. */
static bool error_is_unreachable(const char *name) {
        static const char *const names[] = {
                SD_BUS_ERROR_SERVICE_UNKNOWN,
                SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                SD_BUS_ERROR_NO_SERVER,
                SD_BUS_ERROR_NO_NETWORK,
                SD_BUS_ERROR_DISCONNECTED,
                SD_BUS_ERROR_NO_REPLY,
                SD_BUS_ERROR_TIMEOUT,
                "org.freedesktop.DBus.Error.TimedOut",
                SD_BUS_ERROR_FILE_NOT_FOUND,
                "System.Error.ECONNREFUSED",
                "System.Error.ECONNRESET",
                "System.Error.ENOTCONN",
                "System.Error.EPIPE",
                "System.Error.ESHUTDOWN",
        };

        /* Bus activation that could not start the service. */
        static const char spawn[] = "org.freedesktop.DBus.Error.Spawn.";

        if (strncmp(name, spawn, strlen(spawn)) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(names[i], name))
                        return true;
        return false;
}

static bool errno_is_unreachable(int r) {
        switch (-r) {
        case ECONNREFUSED:
        case ECONNRESET:
        case ENOTCONN:
        case EPIPE:
        case ESHUTDOWN:
        case ETIMEDOUT:
                return true;
        default:
                return false;
        }
}

/* --debug: lines in the shape of the aws CLI's log ("2026-12-03 21:55:36,123 - MainThread - ..."). */
_printf_(2, 3) static void log_debug(const Context *c, const char *fmt, ...) {
        struct timespec ts;
        struct tm tm;
        char when[32];
        va_list ap;

        if (!c->debug)
                return;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        if (!localtime_r(&ts.tv_sec, &tm) || strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                when[0] = 0;
        fprintf(stderr, "%s,%03ld - MainThread - hmacctl - DEBUG - ", when, ts.tv_nsec / 1000000);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Every bus call goes through call_begin() and call_end(), so that --debug shows each and its time. */
static const char *context_key(const Context *c);

static uint64_t call_begin(const Context *c, const char *method) {
        const char *key_id = context_key(c);

        log_debug(c, "Calling %s.%s on %s (%s)%s%s", HMACD_BUS_NAME, method, bus_name(c),
                  strna(c->bus_address), key_id ? " for key " : "", strempty(key_id));
        return now_usec();
}

static void call_end(const Context *c, const char *method, uint64_t start, int r, const HmacdError *e) {
        uint64_t t = now_usec() - start;

        if (r >= 0)
                log_debug(c, "%s returned in %" PRIu64 ".%03" PRIu64 " ms", method, t / 1000, t % 1000);
        else
                log_debug(c, "%s failed in %" PRIu64 ".%03" PRIu64 " ms: %s%s%s", method, t / 1000, t % 1000,
                          e && e->name ? e->name : strerror(-r), e && e->message ? ": " : "",
                          e && e->message ? e->message : "");
}

#define CALL(c, method, e, call)                                                                           \
        ({                                                                                                  \
                uint64_t _start = call_begin((c), (method));                                                \
                int _r = (call);                                                                            \
                call_end((c), (method), _start, _r, (e));                                                   \
                _r;                                                                                         \
        })

/* The polkit action each operation is checked against (see dbus/io.hmacd.policy), for the hint after an
 * AccessDeniedException. */
static const char *operation_action(const char *operation) {
        static const struct {
                const char *operation;
                const char *action;
        } table[] = {
                { "CreateKey", "io.hmacd.create-key" },
                { "GenerateMac", "io.hmacd.generate-mac" },
                { "GenerateMacBatch", "io.hmacd.generate-mac" },
                { "VerifyMac", "io.hmacd.verify-mac" },
                { "VerifyMacBatch", "io.hmacd.verify-mac" },
                { "DescribeKey", "io.hmacd.describe-key" },
                { "ListResourceTags", "io.hmacd.describe-key" },
                { "GetKeyRotationStatus", "io.hmacd.describe-key" },
                { "ListKeyRotations", "io.hmacd.describe-key" },
                { "RotateKeyOnDemand", "io.hmacd.rotate-key" },
                { "EnableKeyRotation", "io.hmacd.rotate-key" },
                { "DisableKeyRotation", "io.hmacd.rotate-key" },
                { "UpdateMacVerifyWindow", "io.hmacd.rotate-key" },
                { "RetireKeyMaterial", "io.hmacd.rotate-key" },
                { "ListKeys", "io.hmacd.list-keys" },
                { "ListAliases", "io.hmacd.list-keys" },
                { "ScheduleKeyDeletion", "io.hmacd.delete-key" },
                { "CancelKeyDeletion", "io.hmacd.delete-key" },
                { "GetParametersForImport", "io.hmacd.import-key-material" },
                { "ImportKeyMaterial", "io.hmacd.import-key-material" },
                { "DeleteImportedKeyMaterial", "io.hmacd.import-key-material" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].operation, operation))
                        return table[i].action;
        return "io.hmacd.manage-key"; /* the other key management operations */
}

/* The key an operation was about, as given, for messages: NULL for those about no key. */
static const char *context_key(const Context *c) {
        static const ParamId ids[] = { PARAM_KEY_ID, PARAM_MANAGED_KEY_ID, PARAM_TARGET_KEY_ID,
                                       PARAM_FILTER_KEY_ID, PARAM_ALIAS_NAME };

        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                if (c->string[ids[i]])
                        return c->string[ids[i]];
        return NULL;
}

static void print_unreachable(const Context *c, const char *reason) {
        bool user = c->bus_type == HMACD_BUS_USER;

        fprintf(stderr, "\nCould not connect to the hmacd service (%s) on the %s at %s: %s\n"
                        "Is hmacd running? See `systemctl%s status hmacd` and `journalctl%s -u hmacd`%s.\n",
                HMACD_BUS_NAME, bus_name(c), strna(c->bus_address), reason, user ? " --user" : "",
                user ? " --user" : "",
                user ? "" : "; for a daemon on the session bus (hmacd --user), use hmacctl --user");
}

/* Prints a failed call the way the aws CLI prints a failed request, and returns the exit code. */
static int report_error(const Context *c, const char *operation, int r, const HmacdError *e) {
        const char *exception;

        if (e && e->name) {
                if (!e->service && error_is_unreachable(e->name)) {
                        print_unreachable(c, isempty(e->message) ? e->name : e->message);
                        return EXIT_OTHER;
                }

                /* polkit's refusals come as the bus's own errors (AccessDenied,
                 * InteractiveAuthorizationRequired; API.md, section 6), which libhmacd reports as -EACCES:
                 * no need to know their names. */
                exception = e->name;
                if (!e->service && r == -EACCES)
                        exception = "AccessDeniedException";

                fprintf(stderr, "\nAn error occurred (%s) when calling the %s operation: %s", exception,
                        operation, strempty(e->message));
                if (streq(exception, "AccessDeniedException")) {
                        const char *key = context_key(c);

                        /* What was refused, on which key, and what can change that. */
                        fprintf(stderr,
                                "%spolkit did not allow %s (action %s)%s%s%s for this caller. A polkit "
                                "rule can allow it: see \"Who may use which key: polkit\" in hmacd's "
                                "README.",
                                isempty(e->message) ? "" : " ", operation, operation_action(operation),
                                key ? " on key '" : "", strempty(key), key ? "'" : "");
                        if (!c->ask_password)
                                fprintf(stderr, " Where polkit would ask for a password, --no-ask-password "
                                                "rules that out.");
                }
                fputc('\n', stderr);
                return EXIT_SERVICE;
        }

        if (errno_is_unreachable(r)) {
                print_unreachable(c, strerror(-r));
                return EXIT_OTHER;
        }

        fprintf(stderr, "\n%s failed: %s\n", operation, strerror(-r));
        return EXIT_OTHER;
}

/* --query: compiled once before any call, so that a bad expression fails before the service is asked,
 * as in the aws CLI ("Bad value for --query ..."). */
static int query_check(Context *c) {
        _cleanup_(jmespath_freep) Jmespath *j = NULL;
        JmespathError e = {};
        int r;

        r = jmespath_compile(c->query, &j, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                fprintf(stderr, "\nBad value for --query %s: %s\n", c->query, e.message);
                return -EINVAL;
        }
        return 0;
}

/* Prints a result (a response, or a page of one): through --query if given, in the --output format, as
 * the aws CLI's formatters do. */
static int print_result(const Context *c, JsonValue *v) {
        _cleanup_(json_value_freep) JsonValue *queried = NULL;
        OutputOptions options = {
                .format = c->output,
                .color = c->color,
                .title = c->verb ? c->verb->operation : NULL,
        };
        int r;

        if (c->query) {
                JmespathError e = {};

                r = jmespath_search(c->query, v, &queried, &e);
                if (r < 0) {
                        fprintf(stderr, "\n%s\n", r == -ENOMEM ? strerror(ENOMEM) : e.message);
                        return EXIT_OTHER;
                }
                v = queried;
        }

        /* JSON and YAML print nothing for an empty object, as aws for operations without output. */
        if (json_type(v) == JSON_OBJECT && json_size(v) == 0 && c->output != OUTPUT_FORMAT_TEXT &&
            c->output != OUTPUT_FORMAT_TABLE)
                return 0;

        r = output_print(stdout, v, &options);
        if (r < 0) {
                fprintf(stderr, "\n%s\n", r == -EINVAL ? "The output cannot be shown in this format (aws's "
                                                         "formatter fails on it too)" : strerror(-r));
                return EXIT_OTHER;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "\nFailed to write the output: %m\n");
                return EXIT_OTHER;
        }
        return 0;
}

static void add_string(JsonValue *o, const char *key, const char *s) {
        if (s)
                json_add(o, key, json_string(s));
}

static void add_time(JsonValue *o, const char *key, uint64_t usec) {
        char buf[TIMESTAMP_MAX];

        if (usec > 0)
                json_add(o, key, json_string(format_timestamp(buf, usec)));
}

/* KeyMetadata with AWS's field names, in the order of the AWS service model (which is the order the
 * aws CLI prints them in), then hmacd's own additions. */
static JsonValue *key_metadata_to_json(const HmacdKeyMetadata *m) {
        JsonValue *o = json_object(), *algorithms;

        add_string(o, "KeyId", m->key_id);
        add_string(o, "Arn", m->arn);
        add_time(o, "CreationDate", m->creation_date);
        json_add(o, "Enabled", json_boolean(m->enabled));
        json_add(o, "Description", json_string(strempty(m->description)));
        add_string(o, "KeyUsage", m->key_usage);
        add_string(o, "KeyState", m->key_state);
        add_time(o, "DeletionDate", m->deletion_date);
        add_time(o, "ValidTo", m->valid_to);
        add_string(o, "Origin", m->origin);
        add_string(o, "ExpirationModel", m->expiration_model);
        add_string(o, "KeyManager", m->key_manager);
        add_string(o, "CustomerMasterKeySpec", m->key_spec);   /* AWS's deprecated twin of KeySpec */
        add_string(o, "KeySpec", m->key_spec);
        json_add(o, "MultiRegion", json_boolean(m->multi_region));
        if (m->mac_algorithm) {
                algorithms = json_array();
                json_add(algorithms, NULL, json_string(m->mac_algorithm));
                json_add(o, "MacAlgorithms", algorithms);
        }
        add_string(o, "CurrentKeyMaterialId", m->current_key_material_id);
        if (m->owner) {
                json_add(o, "Owner", json_string(m->owner));
                json_add(o, "OwnerUid", json_unsigned(m->owner_uid));
        }
        /* A service without key material versions does not know the window: leave it out then. */
        if (m->current_key_material_id)
                json_add(o, "MacVerifyWindowInDays", json_unsigned(m->mac_verify_window_in_days));
        return o;
}

static int print_key_metadata(const Context *c, const HmacdKeyMetadata *m) {
        _cleanup_(json_value_freep) JsonValue *root = json_object();

        json_add(root, "KeyMetadata", key_metadata_to_json(m));
        return print_result(c, root);
}

/* The key ARN for subcommands whose answer lacks it, while `aws kms` prints it: ask DescribeKey for
 * it, without letting polkit ask for a password a second time just for that. Where it fails (polkit
 * may allow the operation and not DescribeKey), a key ID is turned into its ARN locally, and a key
 * ARN or an alias is printed as given. */
static char *resolve_key_arn(Context *c, const char *key_id) {
        _cleanup_(hmacd_key_metadata_freep) HmacdKeyMetadata *m = NULL;
        char machine_id[MACHINE_ID_MAX + 1], arn[ARN_MAX];
        KeyRef ref;
        int r;

        hmacd_set_allow_interactive_authorization(c->hmacd, false);
        r = CALL(c, "DescribeKey", NULL, hmacd_describe_key(c->hmacd, key_id, &m, NULL));
        hmacd_set_allow_interactive_authorization(c->hmacd, c->ask_password);
        if (r >= 0)
                return strdup(m->arn);

        (void) machine_id_read(NULL, machine_id);
        if (key_ref_parse(key_id, machine_id, &ref) >= 0 && ref.type == KEY_REF_KEY_ID &&
            key_arn_format(arn, sizeof arn, machine_id, ref.key_id) >= 0)
                return strdup(arn);

        return strdup(key_id);
}

/* The --tags of the command line as the library takes them (pointing into c->tags). */
static int tags_for_call(const Context *c, HmacdTag **ret) {
        HmacdTag *tags = NULL;

        if (c->n_tags > 0) {
                tags = calloc(c->n_tags, sizeof *tags);
                if (!tags)
                        return -ENOMEM;
                for (size_t i = 0; i < c->n_tags; i++)
                        tags[i] = (HmacdTag) { c->tags[i].key, c->tags[i].value };
        }
        *ret = tags;
        return 0;
}

static int verb_create_key(Context *c) {
        _cleanup_(hmacd_key_metadata_freep) HmacdKeyMetadata *m = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ HmacdTag *tags = NULL;
        int r;

        r = tags_for_call(c, &tags);
        if (r < 0)
                return report_error(c, c->verb->operation, r, NULL);

        /* Without --mac-verify-window-in-days, 0: the service's default, until retired. */
        r = CALL(c, "CreateKey", &e,
                 hmacd_create_key_with_verify_window(
                         c->hmacd, c->string[PARAM_KEY_SPEC], c->string[PARAM_KEY_USAGE],
                         c->string[PARAM_DESCRIPTION], tags, c->n_tags, c->string[PARAM_ORIGIN],
                         c->number[PARAM_MAC_VERIFY_WINDOW_IN_DAYS], &m, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        return print_key_metadata(c, m);
}

/* Not an AWS operation: the daemon's Counters property, as {"Counters": {"Name": value, ...}}. */
static int verb_get_counters(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        HmacdCounterList *l = NULL;
        JsonValue *counters;
        int r;

        r = CALL(c, "Get", NULL, hmacd_get_counters(c->hmacd, &l));
        if (r < 0)
                return report_error(c, c->verb->operation, r, NULL);

        root = json_object();
        counters = json_object();
        for (size_t i = 0; i < l->n; i++)
                json_add(counters, l->counters[i].name, json_unsigned(l->counters[i].value));
        json_add(root, "Counters", counters);
        hmacd_counter_list_free(l);
        return print_result(c, root);
}

static int verb_describe_key(Context *c) {
        _cleanup_(hmacd_key_metadata_freep) HmacdKeyMetadata *m = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "DescribeKey", &e, hmacd_describe_key(c->hmacd, c->string[PARAM_KEY_ID], &m, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        return print_key_metadata(c, m);
}

static int verb_generate_mac(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ char *arn = NULL, *mac64 = NULL;
        uint8_t mac[HMACD_MAC_SIZE_MAX];
        size_t mac_size;
        int r;

        r = CALL(c, "GenerateMac", &e,
                 hmacd_generate_mac(c->hmacd, c->string[PARAM_KEY_ID], c->blob[PARAM_MESSAGE].data,
                                    c->blob[PARAM_MESSAGE].size, c->string[PARAM_MAC_ALGORITHM], mac,
                                    &mac_size, &arn, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        mac64 = base64_encode(mac, mac_size);
        explicit_bzero(mac, sizeof mac);

        root = json_object();
        json_add(root, "Mac", json_string(mac64));
        json_add(root, "MacAlgorithm", json_string(c->string[PARAM_MAC_ALGORITHM]));
        json_add(root, "KeyId", json_string(arn));
        r = print_result(c, root);

        if (mac64)
                explicit_bzero(mac64, strlen(mac64));
        return r;
}

static int verb_verify_mac(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ char *arn = NULL;
        int r;

        r = CALL(c, "VerifyMac", &e,
                 hmacd_verify_mac(c->hmacd, c->string[PARAM_KEY_ID], c->blob[PARAM_MESSAGE].data,
                                  c->blob[PARAM_MESSAGE].size, c->string[PARAM_MAC_ALGORITHM],
                                  c->blob[PARAM_MAC].data, c->blob[PARAM_MAC].size, &arn, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        root = json_object();
        json_add(root, "KeyId", json_string(arn));
        json_add(root, "MacValid", json_boolean(true));
        json_add(root, "MacAlgorithm", json_string(c->string[PARAM_MAC_ALGORITHM]));
        return print_result(c, root);
}

/* One page of a List* call: its entries are appended to items, as JSON objects; *ret_next_marker is
 * the service's marker for the next page (NULL when there is none). */
typedef int (*ListPageFunction)(Context *c, uint32_t limit, const char *marker, JsonValue *items,
                                char **ret_next_marker, bool *ret_truncated, HmacdError *e);

/* The NextToken of AWS CLI v2 (botocore's TokenEncoder): base64 of the JSON of the next request's input
 * token, {"Marker": ...}, with "boto_truncate_amount" when the output ended inside a page: how many
 * items of the page that marker starts were printed already. */
static char *token_encode(const char *marker, bool truncated, int64_t amount) {
        _cleanup_(json_value_freep) JsonValue *m = marker ? json_string(marker) : json_null();
        _cleanup_free_ char *value = NULL, *text = NULL;
        int r;

        if (!m || json_format(m, 0, JSON_FORMAT_ASCII, &value) < 0)
                return NULL;
        if (truncated)
                r = asprintf(&text, "{\"Marker\": %s, \"boto_truncate_amount\": %" PRIi64 "}", value,
                             amount);
        else
                r = asprintf(&text, "{\"Marker\": %s}", value);
        if (r < 0)
                return NULL;
        return base64_encode(text, strlen(text));
}

/* --starting-token, as botocore reads one: a token of token_encode(), or else the older form
 * "MARKER" or "MARKER___N" (N items of that page already seen), "None" standing for no marker. */
static int token_decode(const char *token, char **ret_marker, int64_t *ret_skip) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        _cleanup_(buffer_done) Buffer b = {};
        _cleanup_free_ char *marker = NULL;
        const char *sep;
        int64_t skip = 0;
        int r;

        r = base64_decode_lenient(token, &b);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                r = json_parse((const char *) b.data, b.size, 0, &v, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && json_type(v) == JSON_OBJECT) {
                const JsonValue *m = json_object_get(v, "Marker"),
                                *n = json_object_get(v, "boto_truncate_amount");

                if (json_type(m) == JSON_STRING && !streq(json_string_value(m), "None")) {
                        marker = strdup(json_string_value(m));
                        if (!marker)
                                return -ENOMEM;
                }
                if (json_type(n) == JSON_NUMBER)
                        skip = (int64_t) json_number_value(n);
        } else {
                sep = strstr(token, "___");
                if (sep && strstr(sep + 3, "___"))
                        return -EBADMSG;
                if (sep) {
                        char *end;

                        errno = 0;
                        skip = strtoll(sep + 3, &end, 10);
                        if (errno != 0 || end == sep + 3 || *end) {
                                skip = 0;
                                sep = NULL;
                        }
                }
                marker = sep ? strndup(token, sep - token) : strdup(token);
                if (!marker)
                        return -ENOMEM;
                if (streq(marker, "None"))
                        marker = mfree(marker);
        }

        *ret_marker = TAKE_PTR(marker);
        *ret_skip = MAX(skip, (int64_t) 0);
        return 0;
}

static ParamId verb_limit(const Verb *v) {
        for (size_t i = 0; v && i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++)
                if (params[v->params[i].id].kind == PARAM_UINT32 &&
                    streq(params[v->params[i].id].name, "limit"))
                        return v->params[i].id;
        return PARAM_LIMIT;
}

/* The list subcommands, all three alike, paged as AWS CLI v2 pages them (botocore's PageIterator):
 * every page from --starting-token on, --page-size items a call, into one list, cut after
 * --max-items with a NextToken to go on from. With --limit or --marker (the request's own members,
 * which aws keeps undocumented) or --no-paginate: one call, and its answer as the service gives it,
 * NextMarker and Truncated included. */
static int list_pages(Context *c, const char *result_key, ParamId limit_id, ListPageFunction page) {
        _cleanup_(json_value_freep) JsonValue *root = json_object(), *items = json_array(),
                                              *pages = json_array();
        _cleanup_free_ char *marker = NULL, *previous = NULL, *resume = NULL;
        bool paginate = !c->no_paginate && !c->set[limit_id] && !c->set[PARAM_MARKER];
        bool max_items = c->set[PARAM_MAX_ITEMS];
        int64_t total = 0, skip = 0;
        uint32_t limit = 0;
        int r;

        if (!root || !items || !pages)
                return report_error(c, c->verb->operation, -ENOMEM, NULL);

        if (!paginate) {
                _cleanup_(hmacd_error_clear) HmacdError e = {};
                _cleanup_free_ char *next = NULL;
                bool truncated = false;

                r = page(c, c->set[limit_id] ? c->number[limit_id] : 0, c->string[PARAM_MARKER], items,
                         &next, &truncated, &e);
                if (r < 0)
                        return report_error(c, c->verb->operation, r, &e);
                json_add(root, result_key, TAKE_PTR(items));
                if (next)
                        json_add(root, "NextMarker", json_string(next));
                json_add(root, "Truncated", json_boolean(truncated));
                return print_result(c, root);
        }

        if (c->set[PARAM_STARTING_TOKEN]) {
                r = token_decode(c->string[PARAM_STARTING_TOKEN], &marker, &skip);
                if (r == -EBADMSG) {
                        fprintf(stderr, "\nBad starting token: %s\n", c->string[PARAM_STARTING_TOKEN]);
                        return EXIT_OTHER;
                }
                if (r < 0)
                        return report_error(c, c->verb->operation, r, NULL);
        }
        if (c->set[PARAM_PAGE_SIZE]) {
                /* It goes to the request's Limit, which botocore checks before sending. */
                if (c->integer[PARAM_PAGE_SIZE] < 1) {
                        fprintf(stderr,
                                "\nParameter validation failed:\nInvalid value for parameter Limit, value: "
                                "%" PRIi64 ", valid min value: 1\n",
                                c->integer[PARAM_PAGE_SIZE]);
                        return EXIT_USAGE;
                }
                limit = (uint32_t) MIN(c->integer[PARAM_PAGE_SIZE], (int64_t) UINT32_MAX);
        }

        for (bool first = true;; first = false) {
                _cleanup_(json_value_freep) JsonValue *got = json_array();
                _cleanup_(hmacd_error_clear) HmacdError e = {};
                _cleanup_free_ char *next = NULL;
                bool truncated = false;
                int64_t n, keep, start = first ? skip : 0;

                if (!got)
                        return report_error(c, c->verb->operation, -ENOMEM, NULL);
                r = page(c, limit, marker, got, &next, &truncated, &e);
                if (r < 0)
                        return report_error(c, c->verb->operation, r, &e);

                /* The items of this page still to print: after the ones a truncated token had seen. */
                n = (int64_t) json_size(got) - MIN(start, (int64_t) json_size(got));
                keep = max_items ? MIN(n, c->integer[PARAM_MAX_ITEMS] - total) : n;
                {
                        JsonValue *page_items = json_array(), *page_object = json_object();

                        for (int64_t k = 0; k < keep; k++) {
                                JsonValue *item = json_array_get(got, (size_t) (start + k));

                                json_add(items, NULL, json_ref(item));
                                json_add(page_items, NULL, json_ref(item));
                        }
                        json_add(page_object, result_key, page_items);
                        /* yaml-stream prints each page as the service answered it (but for the items cut
                         * off), NextMarker and Truncated included, as aws's StreamedYAMLFormatter does. */
                        if (c->output == OUTPUT_FORMAT_YAML_STREAM) {
                                if (next)
                                        json_add(page_object, "NextMarker", json_string(next));
                                json_add(page_object, "Truncated", json_boolean(truncated));
                        }
                        json_add(pages, NULL, page_object);
                }

                if (keep < n) {
                        /* Cut inside this page: go on from its marker, past what was printed. */
                        resume = token_encode(marker, true, MAX(keep, (int64_t) 0) + start);
                        if (!resume)
                                return report_error(c, c->verb->operation, -ENOMEM, NULL);
                        break;
                }
                total += n;

                if (!truncated || isempty(next))
                        break;
                if (max_items && total == c->integer[PARAM_MAX_ITEMS]) {
                        resume = token_encode(next, false, 0);
                        if (!resume)
                                return report_error(c, c->verb->operation, -ENOMEM, NULL);
                        break;
                }
                /* A marker that does not move on would have us loop for ever. */
                if (previous && streq(previous, next)) {
                        fprintf(stderr, "\nThe same next token was received twice: {'Marker': '%s'}\n",
                                next);
                        return EXIT_OTHER;
                }
                free(previous);
                previous = strdup(next);
                if (!previous)
                        return report_error(c, c->verb->operation, -ENOMEM, NULL);
                free(marker);
                marker = TAKE_PTR(next);
        }

        /* Text and yaml-stream go page by page, --query applied to each, as aws's formatters do; text ends
         * with the NextToken as {"NextToken": {"NextToken": ...}} (NEXTTOKEN, and through --query too,
         * so that `--query 'length(Keys)' --output text` fails on it as in aws); yaml-stream has none. */
        if (c->output == OUTPUT_FORMAT_TEXT || c->output == OUTPUT_FORMAT_YAML_STREAM) {
                for (size_t i = 0; i < json_size(pages); i++) {
                        r = print_result(c, json_array_get(pages, i));
                        if (r != 0)
                                return r;
                }
                if (resume && c->output != OUTPUT_FORMAT_YAML_STREAM) {
                        _cleanup_(json_value_freep) JsonValue *t = json_object(), *inner = json_object();

                        json_add(inner, "NextToken", json_string(resume));
                        json_add(t, "NextToken", TAKE_PTR(inner));
                        return print_result(c, t);
                }
                return 0;
        }

        json_add(root, result_key, TAKE_PTR(items));
        if (resume)
                json_add(root, "NextToken", json_string(resume));
        return print_result(c, root);
}

static int page_keys(Context *c, uint32_t limit, const char *marker, JsonValue *items,
                     char **ret_next_marker, bool *ret_truncated, HmacdError *e) {
        _cleanup_(hmacd_key_list_freep) HmacdKeyList *l = NULL;
        int r;

        r = CALL(c, "ListKeys", e, hmacd_list_keys(c->hmacd, limit, marker, &l, e));
        if (r < 0)
                return r;

        for (size_t i = 0; i < l->n_keys; i++) {
                JsonValue *k = json_object();

                json_add(k, "KeyId", json_string(l->keys[i].key_id));
                json_add(k, "KeyArn", json_string(l->keys[i].key_arn));
                json_add(items, NULL, k);
        }
        *ret_next_marker = TAKE_PTR(l->next_marker);
        *ret_truncated = l->truncated;
        return 0;
}

static int verb_list_keys(Context *c) {
        return list_pages(c, "Keys", PARAM_LIMIT, page_keys);
}

/* AliasListEntry, its fields in the order of the AWS service model. */
static int page_aliases(Context *c, uint32_t limit, const char *marker, JsonValue *items,
                        char **ret_next_marker, bool *ret_truncated, HmacdError *e) {
        _cleanup_(hmacd_alias_list_freep) HmacdAliasList *l = NULL;
        int r;

        r = CALL(c, "ListAliases", e,
                 hmacd_list_aliases(c->hmacd, c->string[PARAM_FILTER_KEY_ID], limit, marker, &l, e));
        if (r < 0)
                return r;

        for (size_t i = 0; i < l->n_aliases; i++) {
                JsonValue *a = json_object();

                json_add(a, "AliasName", json_string(l->aliases[i].alias_name));
                json_add(a, "AliasArn", json_string(l->aliases[i].alias_arn));
                add_string(a, "TargetKeyId", l->aliases[i].target_key_id);
                add_time(a, "CreationDate", l->aliases[i].creation_date);
                add_time(a, "LastUpdatedDate", l->aliases[i].last_updated_date);
                json_add(items, NULL, a);
        }
        *ret_next_marker = TAKE_PTR(l->next_marker);
        *ret_truncated = l->truncated;
        return 0;
}

static int verb_list_aliases(Context *c) {
        return list_pages(c, "Aliases", PARAM_ALIAS_LIMIT, page_aliases);
}

static int page_tags(Context *c, uint32_t limit, const char *marker, JsonValue *items,
                     char **ret_next_marker, bool *ret_truncated, HmacdError *e) {
        _cleanup_(hmacd_tag_list_freep) HmacdTagList *l = NULL;
        int r;

        r = CALL(c, "ListResourceTags", e,
                 hmacd_list_resource_tags(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], limit, marker, &l, e));
        if (r < 0)
                return r;

        for (size_t i = 0; i < l->n_tags; i++) {
                JsonValue *t = json_object();

                json_add(t, "TagKey", json_string(l->tags[i].key));
                json_add(t, "TagValue", json_string(l->tags[i].value));
                json_add(items, NULL, t);
        }
        *ret_next_marker = TAKE_PTR(l->next_marker);
        *ret_truncated = l->truncated;
        return 0;
}

static int verb_list_resource_tags(Context *c) {
        return list_pages(c, "Tags", PARAM_TAG_LIMIT, page_tags);
}

/* The operations that answer with nothing print nothing, as the aws CLI does. */
static int verb_enable_key(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "EnableKey", &e, hmacd_enable_key(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_disable_key(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "DisableKey", &e, hmacd_disable_key(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_schedule_key_deletion(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ char *arn = NULL;
        uint64_t deletion_date = 0;
        uint32_t days = 0;
        int r;

        /* Without --pending-window-in-days, 0: the service's default of 30 days. */
        r = CALL(c, "ScheduleKeyDeletion", &e,
                 hmacd_schedule_key_deletion(
                         c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                         c->set[PARAM_PENDING_WINDOW_IN_DAYS] ? c->number[PARAM_PENDING_WINDOW_IN_DAYS] : 0,
                         &deletion_date, &days, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        arn = resolve_key_arn(c, c->string[PARAM_MANAGED_KEY_ID]);

        /* The ScheduleKeyDeletion response of AWS, in its order; the key is PendingDeletion now. */
        root = json_object();
        json_add(root, "KeyId", json_string(arn));
        add_time(root, "DeletionDate", deletion_date);
        json_add(root, "KeyState", json_string("PendingDeletion"));
        json_add(root, "PendingWindowInDays", json_unsigned(days));
        return print_result(c, root);
}

static int verb_cancel_key_deletion(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ char *arn = NULL;
        int r;

        r = CALL(c, "CancelKeyDeletion", &e,
                 hmacd_cancel_key_deletion(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        arn = resolve_key_arn(c, c->string[PARAM_MANAGED_KEY_ID]);

        root = json_object();
        json_add(root, "KeyId", json_string(arn));
        return print_result(c, root);
}

static int verb_update_key_description(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "UpdateKeyDescription", &e,
                 hmacd_update_key_description(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                              c->string[PARAM_DESCRIPTION], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_create_alias(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "CreateAlias", &e,
                 hmacd_create_alias(c->hmacd, c->string[PARAM_ALIAS_NAME], c->string[PARAM_TARGET_KEY_ID],
                                    &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_update_alias(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "UpdateAlias", &e,
                 hmacd_update_alias(c->hmacd, c->string[PARAM_ALIAS_NAME], c->string[PARAM_TARGET_KEY_ID],
                                    &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_delete_alias(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "DeleteAlias", &e, hmacd_delete_alias(c->hmacd, c->string[PARAM_ALIAS_NAME], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_tag_resource(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ HmacdTag *tags = NULL;
        int r;

        r = tags_for_call(c, &tags);
        if (r < 0)
                return report_error(c, c->verb->operation, r, NULL);

        r = CALL(c, "TagResource", &e,
                 hmacd_tag_resource(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], tags, c->n_tags, &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_untag_resource(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "UntagResource", &e,
                 hmacd_untag_resource(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                      (const char *const *) c->list[PARAM_TAG_KEYS],
                                      c->n_list[PARAM_TAG_KEYS], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

/* ---- Importing key material, and batches ---- */

static int verb_get_parameters_for_import(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ uint8_t *token = NULL, *public_key = NULL;
        _cleanup_free_ char *arn = NULL, *token64 = NULL, *public_key64 = NULL;
        size_t token_size = 0, public_key_size = 0;
        uint64_t valid_to = 0;
        int r;

        r = CALL(c, "GetParametersForImport", &e,
                 hmacd_get_parameters_for_import(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                                 c->string[PARAM_WRAPPING_ALGORITHM],
                                                 c->string[PARAM_WRAPPING_KEY_SPEC], &token, &token_size,
                                                 &public_key, &public_key_size, &valid_to, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        token64 = base64_encode(token, token_size);
        public_key64 = base64_encode(public_key, public_key_size);
        arn = resolve_key_arn(c, c->string[PARAM_MANAGED_KEY_ID]);

        /* The GetParametersForImport response of AWS, in its order. */
        root = json_object();
        json_add(root, "KeyId", json_string(arn));
        json_add(root, "ImportToken", json_string(token64));
        json_add(root, "PublicKey", json_string(public_key64));
        add_time(root, "ParametersValidTo", valid_to);
        return print_result(c, root);
}

static int verb_import_key_material(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        const Buffer *token = &c->blob[PARAM_IMPORT_TOKEN];
        const Buffer *encrypted = &c->blob[PARAM_ENCRYPTED_KEY_MATERIAL];
        int r;

        /* Without --expiration-model the service takes KEY_MATERIAL_EXPIRES, as AWS does; without
         * --valid-to, 0: which that model refuses, and KEY_MATERIAL_DOES_NOT_EXPIRE wants. */
        r = CALL(c, "ImportKeyMaterial", &e,
                 hmacd_import_key_material(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], token->data,
                                           token->size, encrypted->data, encrypted->size,
                                           c->string[PARAM_EXPIRATION_MODEL],
                                           c->set[PARAM_VALID_TO] ? c->usec[PARAM_VALID_TO] : 0, &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_delete_imported_key_material(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "DeleteImportedKeyMaterial", &e,
                 hmacd_delete_imported_key_material(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);

/* RSAES_OAEP_SHA_256: RSA OAEP with SHA-256 for both OAEP and MGF1, what
 * `openssl pkeyutl -encrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256
 * -pkeyopt rsa_mgf1_md:sha256` does. On success *ret_wrapped is malloc()ed. */
static int wrap_key_material(const uint8_t *der, size_t der_size, const uint8_t *material,
                             size_t material_size, uint8_t **ret_wrapped, size_t *ret_wrapped_size) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_free_ uint8_t *wrapped = NULL;
        const uint8_t *p = der;
        size_t size;

        if (der_size > LONG_MAX)
                return -EBADMSG;
        pkey = d2i_PUBKEY(NULL, &p, (long) der_size);
        if (!pkey || p != der + der_size || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
                return -EBADMSG;

        ctx = EVP_PKEY_CTX_new(pkey, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_encrypt_init(ctx) <= 0 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0 ||
            EVP_PKEY_encrypt(ctx, NULL, &size, material, material_size) <= 0)
                return -EIO;

        wrapped = malloc(size);
        if (!wrapped)
                return -ENOMEM;
        if (EVP_PKEY_encrypt(ctx, wrapped, &size, material, material_size) <= 0)
                return -EIO;

        *ret_wrapped = TAKE_PTR(wrapped);
        *ret_wrapped_size = size;
        return 0;
}

static int verb_import_key(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ uint8_t *token = NULL, *public_key = NULL, *wrapped = NULL;
        Buffer *material = &c->blob[PARAM_KEY_MATERIAL];
        const char *model = c->string[PARAM_IMPORT_EXPIRATION_MODEL];
        size_t token_size = 0, public_key_size = 0, wrapped_size = 0;
        int r;

        if (!model)
                model = c->set[PARAM_VALID_TO] ? "KEY_MATERIAL_EXPIRES" : "KEY_MATERIAL_DOES_NOT_EXPIRE";

        r = CALL(c, "GetParametersForImport", &e,
                 hmacd_get_parameters_for_import(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                                 "RSAES_OAEP_SHA_256",
                                                 c->string[PARAM_IMPORT_KEY_SPEC] ?: "RSA_2048", &token,
                                                 &token_size, &public_key, &public_key_size, NULL, &e));
        if (r < 0) {
                OPENSSL_cleanse(material->data, material->size);
                return report_error(c, "GetParametersForImport", r, &e);
        }

        /* The secret is needed for this one call only: wipe it right after, whatever the outcome
         * (buffer_done() wipes it again when the context goes). */
        r = wrap_key_material(public_key, public_key_size, material->data, material->size, &wrapped,
                              &wrapped_size);
        OPENSSL_cleanse(material->data, material->size);
        if (r == -ENOMEM)
                return report_error(c, c->verb->operation, r, NULL);
        if (r < 0) {
                fprintf(stderr, "hmacctl: Failed to wrap the key material with the wrapping key: %s\n",
                        r == -EBADMSG ? "the service's PublicKey is not an RSA SubjectPublicKeyInfo" :
                                        "OpenSSL refused");
                return EXIT_OTHER;
        }

        r = CALL(c, "ImportKeyMaterial", &e,
                 hmacd_import_key_material(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], token, token_size,
                                           wrapped, wrapped_size, model,
                                           c->set[PARAM_VALID_TO] ? c->usec[PARAM_VALID_TO] : 0, &e));
        return r < 0 ? report_error(c, "ImportKeyMaterial", r, &e) : 0;
}

/* The --messages of the batch subcommands, split as --format says (pointing into the file read).
 * Returns 0, or the exit code after saying what is wrong. More than the service takes in one call is
 * refused here: it bounds what we hold in memory. Everything else (no message at all, empty or too
 * long ones) is the service's to refuse. */
static int prepare_batch_messages(Context *c) {
        const Buffer *input = &c->blob[PARAM_MESSAGES];
        MessageFormat format = MESSAGE_FORMAT_LINES;
        size_t offset = 0;
        int r;

        if (c->string[PARAM_MESSAGE_FORMAT])
                format = message_format_from_string(c->string[PARAM_MESSAGE_FORMAT]);

        r = split_messages(input->data, input->size, format, KMS_BATCH_MAX, &c->messages, &c->n_messages,
                           &offset);
        if (r == -EBADMSG) {
                param_error(&params[PARAM_MESSAGES],
                            "the length-prefixed record at byte %zu runs past the end of the input", offset);
                return EXIT_USAGE;
        }
        if (r == -E2BIG) {
                param_error(&params[PARAM_MESSAGES],
                            "more than %u messages; %s takes at most %u in one call", KMS_BATCH_MAX,
                            c->verb->operation, KMS_BATCH_MAX);
                return EXIT_USAGE;
        }
        if (r < 0)
                return report_error(c, c->verb->operation, r, NULL);
        return 0;
}

/* The answer of a batch subcommand, items[i] for message i: with --output text (and no --query) the
 * items alone, one per line, to be piped on; otherwise {"KeyId": ..., "MacAlgorithm": ..., member:
 * [...]}. key_arn NULL: asked of the service, and only when it is printed. Takes items. */
static int print_batch(Context *c, const char *key_arn, const char *member, JsonValue *items) {
        _cleanup_(json_value_freep) JsonValue *root = NULL, *list = items;
        _cleanup_free_ char *arn = NULL;

        if (c->output == OUTPUT_FORMAT_TEXT && !c->query) {
                for (size_t i = 0; i < json_size(list); i++) {
                        const JsonValue *v = json_array_get(list, i);

                        /* Booleans as aws's text output spells them. */
                        if (json_type(v) == JSON_BOOLEAN)
                                printf("%s\n", json_boolean_value(v) ? "True" : "False");
                        else
                                printf("%s\n", strempty(json_string_value(v)));
                }
                if (fflush(stdout) != 0 || ferror(stdout)) {
                        fprintf(stderr, "hmacctl: Failed to write the output: %m\n");
                        return EXIT_OTHER;
                }
                return 0;
        }

        arn = key_arn ? strdup(key_arn) : resolve_key_arn(c, c->string[PARAM_KEY_ID]);
        root = json_object();
        json_add(root, "KeyId", json_string(arn));
        json_add(root, "MacAlgorithm", json_string(c->string[PARAM_MAC_ALGORITHM]));
        json_add(root, member, TAKE_PTR(list));
        return print_result(c, root);
}

static int verb_generate_mac_batch(Context *c) {
        _cleanup_(json_value_freep) JsonValue *macs = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ uint8_t *raw = NULL;
        struct iovec *messages = c->messages;
        size_t n = c->n_messages, mac_size = 0;
        int r;

        raw = malloc(MAX(n, (size_t) 1) * HMACD_MAC_SIZE_MAX);
        if (!raw)
                return report_error(c, c->verb->operation, -ENOMEM, NULL);

        r = CALL(c, "GenerateMacBatch", &e,
                 hmacd_generate_mac_batch(c->hmacd, c->string[PARAM_KEY_ID], messages, n,
                                          c->string[PARAM_MAC_ALGORITHM], raw, &mac_size, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        macs = json_array();
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *mac64 = base64_encode(raw + i * HMACD_MAC_SIZE_MAX, mac_size);

                if (!mac64) {
                        explicit_bzero(raw, n * HMACD_MAC_SIZE_MAX);
                        return report_error(c, c->verb->operation, -ENOMEM, NULL);
                }
                json_add(macs, NULL, json_string(mac64));
                explicit_bzero(mac64, strlen(mac64));
        }
        explicit_bzero(raw, n * HMACD_MAC_SIZE_MAX);

        return print_batch(c, NULL, "Macs", TAKE_PTR(macs));
}

/* verify-mac-batch: the messages, and --macs, one base64 MAC per line as generate-mac-batch --output
 * text prints them, one for each message. Returns 0, or the exit code after saying what is wrong. */
static int prepare_verify_batch(Context *c) {
        const Buffer *input = &c->blob[PARAM_MACS];
        _cleanup_free_ struct iovec *lines = NULL;
        MacList *ret = &c->macs;
        size_t n = 0, offset = 0, n_messages;
        int r;

        r = prepare_batch_messages(c);
        if (r != 0)
                return r;
        n_messages = c->n_messages;

        r = split_messages(input->data, input->size, MESSAGE_FORMAT_LINES, KMS_BATCH_MAX, &lines, &n,
                           &offset);
        if (r == -E2BIG) {
                param_error(&params[PARAM_MACS], "more than %u MACs; %s takes at most %u in one call",
                            KMS_BATCH_MAX, c->verb->operation, KMS_BATCH_MAX);
                return EXIT_USAGE;
        }
        if (r < 0)
                return report_error(c, c->verb->operation, r, NULL);
        if (n != n_messages) {
                param_error(&params[PARAM_MACS], "%zu MACs for %zu messages: line i must hold the MAC of "
                            "message i", n, n_messages);
                return EXIT_USAGE;
        }

        ret->macs = calloc(MAX(n, (size_t) 1), sizeof *ret->macs);
        ret->iov = calloc(MAX(n, (size_t) 1), sizeof *ret->iov);
        if (!ret->macs || !ret->iov)
                return report_error(c, c->verb->operation, -ENOMEM, NULL);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *line = strndup((const char *) lines[i].iov_base, lines[i].iov_len);

                if (!line)
                        return report_error(c, c->verb->operation, -ENOMEM, NULL);
                r = base64_decode(line, &ret->macs[i]);
                if (r == -EINVAL) {
                        /* As the aws CLI says it of a --mac that is not base64, and its 255. */
                        fprintf(stderr, "\nInvalid base64: \"%s\" (line %zu of --macs)\n", line, i + 1);
                        return EXIT_OTHER;
                }
                if (r < 0)
                        return report_error(c, c->verb->operation, r, NULL);
                ret->n = i + 1;
                ret->iov[i] = (struct iovec) { ret->macs[i].data, ret->macs[i].size };
        }
        return 0;
}

static int verb_verify_mac_batch(Context *c) {
        _cleanup_(json_value_freep) JsonValue *results = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ bool *valid = NULL;
        _cleanup_free_ char *arn = NULL;
        size_t n = c->n_messages;
        int r;

        valid = calloc(MAX(n, (size_t) 1), sizeof *valid);
        if (!valid)
                return report_error(c, c->verb->operation, -ENOMEM, NULL);

        r = CALL(c, "VerifyMacBatch", &e,
                 hmacd_verify_mac_batch(c->hmacd, c->string[PARAM_KEY_ID], c->messages, n,
                                        c->string[PARAM_MAC_ALGORITHM], c->macs.iov, valid, &arn, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        results = json_array();
        for (size_t i = 0; i < n; i++)
                json_add(results, NULL, json_boolean(valid[i]));
        return print_batch(c, arn, "MacsValid", TAKE_PTR(results));
}

/* ---- Key material versions and rotation (API.md, section 3a) ---- */

static int verb_rotate_key_on_demand(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ char *arn = NULL, *id = NULL;
        int r;

        r = CALL(c, "RotateKeyOnDemand", &e,
                 hmacd_rotate_key_on_demand(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &id, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        arn = resolve_key_arn(c, c->string[PARAM_MANAGED_KEY_ID]);

        /* AWS's RotateKeyOnDemand response, and the new material's ID (AWS's 2025 KeyMaterialId). */
        root = json_object();
        json_add(root, "KeyId", json_string(arn));
        json_add(root, "KeyMaterialId", json_string(id));
        return print_result(c, root);
}

static int verb_enable_key_rotation(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        /* Without --rotation-period-in-days, 0: the service's default of 365 days. */
        r = CALL(c, "EnableKeyRotation", &e,
                 hmacd_enable_key_rotation(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                           c->number[PARAM_ROTATION_PERIOD_IN_DAYS], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_disable_key_rotation(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "DisableKeyRotation", &e,
                 hmacd_disable_key_rotation(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_get_key_rotation_status(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ char *arn = NULL;
        uint64_t next = 0, on_demand = 0;
        uint32_t period = 0;
        bool enabled = false;
        int r;

        r = CALL(c, "GetKeyRotationStatus", &e,
                 hmacd_get_key_rotation_status(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &enabled, &period,
                                               &next, &on_demand, &e));
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        arn = resolve_key_arn(c, c->string[PARAM_MANAGED_KEY_ID]);

        /* AWS's GetKeyRotationStatus response, in its order; what does not apply is left out, as AWS
         * leaves out the period and the next date while rotation is off. */
        root = json_object();
        json_add(root, "KeyRotationEnabled", json_boolean(enabled));
        json_add(root, "KeyId", json_string(arn));
        if (period > 0)
                json_add(root, "RotationPeriodInDays", json_unsigned(period));
        add_time(root, "NextRotationDate", next);
        add_time(root, "OnDemandRotationStartDate", on_demand);
        return print_result(c, root);
}

/* The key ID that ListKeyRotations entries carry, as AWS's do, from the key ID or key ARN given. */
static char *key_id_of(const char *key) {
        char machine_id[MACHINE_ID_MAX + 1];
        KeyRef ref;

        (void) machine_id_read(NULL, machine_id);
        if (key_ref_parse(key, machine_id, &ref) >= 0 &&
            (ref.type == KEY_REF_KEY_ID || ref.type == KEY_REF_KEY_ARN))
                return strdup(ref.key_id);
        return strdup(key);
}

/* RotationsListEntry, its fields in the order of the AWS service model, then hmacd's VerifyUntil. */
static int page_rotations(Context *c, uint32_t limit, const char *marker, JsonValue *items,
                          char **ret_next_marker, bool *ret_truncated, HmacdError *e) {
        _cleanup_(hmacd_key_rotation_list_freep) HmacdKeyRotationList *l = NULL;
        _cleanup_free_ char *key_id = NULL;
        int r;

        r = CALL(c, "ListKeyRotations", e,
                 hmacd_list_key_rotations(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], limit, marker, &l, e));
        if (r < 0)
                return r;

        key_id = key_id_of(c->string[PARAM_MANAGED_KEY_ID]);
        if (!key_id)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_rotations; i++) {
                const HmacdKeyRotation *k = &l->rotations[i];
                JsonValue *o = json_object();

                json_add(o, "KeyId", json_string(key_id));
                add_string(o, "KeyMaterialId", k->key_material_id);
                add_string(o, "KeyMaterialState", k->key_material_state);
                add_time(o, "RotationDate", k->rotation_date);
                if (!isempty(k->rotation_type))
                        json_add(o, "RotationType", json_string(k->rotation_type));
                add_time(o, "VerifyUntil", k->verify_until);
                json_add(items, NULL, o);
        }
        *ret_next_marker = TAKE_PTR(l->next_marker);
        *ret_truncated = l->truncated;
        return 0;
}

static int verb_list_key_rotations(Context *c) {
        return list_pages(c, "Rotations", PARAM_ROTATION_LIMIT, page_rotations);
}

static int verb_update_mac_verify_window(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "UpdateMacVerifyWindow", &e,
                 hmacd_update_mac_verify_window(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                                c->number[PARAM_DAYS], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_retire_key_material(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = CALL(c, "RetireKeyMaterial", &e,
                 hmacd_retire_key_material(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                           c->string[PARAM_KEY_MATERIAL_ID], &e));
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

#define REQ(p) { p, true, false }
#define OPT(p) { p, false, false }
#define HID(p) { p, false, true }
#define PAGING OPT(PARAM_STARTING_TOKEN), OPT(PARAM_PAGE_SIZE), OPT(PARAM_MAX_ITEMS)

#define PAGING_NOTES                                                                                  \
        "Paging as the aws CLI v2 does it: every page is fetched (--page-size items a call) and printed\n" \
        "as one list; --max-items N prints N at most, and a \"NextToken\" (NEXTTOKEN in text output)\n"  \
        "when there are more, to pass to --starting-token. --no-paginate (or the request's own --limit\n" \
        "and --marker) makes one call and prints its answer as the service gives it, with NextMarker\n"   \
        "and Truncated."

static const char paging_notes[] = PAGING_NOTES;

static const char quiet_notes[] = "On success it prints nothing, as the aws CLI does.";

static const char alias_notes[] =
        "An alias may then stand for its key wherever generate-mac, verify-mac and describe-key take a\n"
        "--key-id. On success it prints nothing, as the aws CLI does.";

static const char get_parameters_for_import_notes[] =
        "Prints KeyId (the key ARN), ImportToken and PublicKey (base64; the public key is DER\n"
        "SubjectPublicKeyInfo) and ParametersValidTo, 24 hours ahead. The key must have been created with\n"
        "--origin EXTERNAL. Wrap the key material with the public key, for example for RSAES_OAEP_SHA_256:\n"
        "\n"
        "  openssl pkeyutl -encrypt -pubin -keyform DER -inkey PublicKey.bin -in secret.bin \\\n"
        "      -out EncryptedKeyMaterial.bin -pkeyopt rsa_padding_mode:oaep \\\n"
        "      -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256\n"
        "\n"
        "and pass it to import-key-material with the ImportToken. The token is good for one import into\n"
        "this key, and not after the service restarts. import-key does all of this in one go.";

static const char import_key_material_notes[] =
        "The key (origin EXTERNAL) becomes Enabled. A key takes one secret for life: importing it again\n"
        "(after it expired or was deleted) must bring the same material. The token and the encrypted\n"
        "material may be given as base64 or, as the aws CLI takes them, as fileb://PATH. --valid-to takes\n"
        "ISO 8601 (2026-06-30T12:00:00Z; without an offset, UTC) or seconds since the epoch. On success it\n"
        "prints nothing, as the aws CLI does.";

static const char delete_imported_key_material_notes[] =
        "The material is deleted at once and the key goes back to PendingImport: it makes no MACs until\n"
        "the same material is imported again. On success it prints nothing, as the aws CLI does.";

static const char import_key_notes[] =
        "For a secret held on this host (a JWT HS256 key, a pepper): asks for a wrapping key\n"
        "(RSAES_OAEP_SHA_256), wraps the material with it here (RSA OAEP, SHA-256, MGF1 SHA-256)\n"
        "and imports it: get-parameters-for-import, openssl pkeyutl and import-key-material in one.\n"
        "The file is read whole, as raw bytes (a trailing newline is part of the key), at most 1 KiB,\n"
        "and wiped from memory once wrapped. Without --expiration-model and --valid-to the material\n"
        "does not expire. On success it prints nothing; errors name the operation that failed.";

static const char generate_mac_batch_notes[] =
        "Beyond AWS: one call, and one authorization, for up to 4096 messages under one key. The messages\n"
        "file holds, with --format lines (the default), one message per line: the bytes up to each\n"
        "newline, a last line without a newline included; an empty line is an empty message, which the\n"
        "service refuses, and a carriage return is part of its line. With --format length-prefixed each\n"
        "message follows its length, 4 bytes big-endian; use it for messages that may hold newlines.\n"
        "If any message is out of bounds the service makes no MAC at all.\n"
        "Prints {\"KeyId\": ..., \"MacAlgorithm\": ..., \"Macs\": [...]}, Macs[i] the base64 MAC of\n"
        "message i; with --output text just the MACs, one per line, in the order of the messages.";

static const char verify_mac_batch_notes[] =
        "Beyond AWS: one call, and one authorization, for up to 4096 message and MAC pairs under one key.\n"
        "--messages and --format as for generate-mac-batch; --macs holds one base64 MAC per line, line i\n"
        "for message i, as generate-mac-batch --output text prints them. A MAC made with any key material\n"
        "that still verifies (the current one, or a previous one within its window) is valid. Unlike\n"
        "verify-mac, a MAC that does not verify is no error: the exit status is 0 and MacsValid[i] says\n"
        "false (--query 'length(MacsValid[?!@])' counts them). Prints {\"KeyId\": ...,\n"
        "\"MacAlgorithm\": ..., \"MacsValid\": [...]}; with --output text just True or False, one per\n"
        "line, in the order of the messages.";

static const char rotate_key_on_demand_notes[] =
        "Beyond AWS for HMAC keys: the key gets a new current key material, which generate-mac uses from\n"
        "now on; the one before becomes previous and still verifies MACs until the key's\n"
        "MacVerifyWindowInDays have passed (0: until retire-key-material). At most 25 previous materials\n"
        "are kept: retire one first. Prints KeyId (the key ARN) and the new KeyMaterialId.";

static const char rotation_quiet_notes[] =
        "Automatic rotation makes a new current key material every RotationPeriodInDays, as\n"
        "rotate-key-on-demand does; see get-key-rotation-status for the next date. On success it prints\n"
        "nothing, as the aws CLI does.";

static const char list_key_rotations_notes[] =
        "Every key material of the key still kept, oldest first: KeyMaterialId, KeyMaterialState (CURRENT\n"
        "or NON_CURRENT), RotationDate and RotationType (AUTOMATIC or ON_DEMAND; neither for the initial\n"
        "material) and, beyond AWS, VerifyUntil: when a previous material stops verifying (none: until\n"
        "retired). Retired and expired materials are gone from the list.\n\n" PAGING_NOTES;

static const char mac_verify_window_notes[] =
        "The window applies to the materials that are previous already, counted from the moment each\n"
        "stopped being current: shortening it may end some at once. Set it to at least the longest\n"
        "lifetime of what is MACed (a token, a cookie) plus the clock skew allowed. On success it prints\n"
        "nothing, as the aws CLI does.";

static const char retire_key_material_notes[] =
        "The previous key material stops verifying at once and is destroyed: after a suspected leak,\n"
        "rotate-key-on-demand, then retire the leaked material. The current material cannot be retired.\n"
        "On success it prints nothing, as the aws CLI does.";

static const Verb verbs[] = {
        { "create-key", "CreateKey", verb_create_key, "Create an HMAC key",
          { OPT(PARAM_DESCRIPTION), OPT(PARAM_KEY_USAGE), OPT(PARAM_KEY_SPEC), OPT(PARAM_ORIGIN),
            OPT(PARAM_TAGS), OPT(PARAM_MAC_VERIFY_WINDOW_IN_DAYS) } },
        { "generate-mac", "GenerateMac", verb_generate_mac, "Compute the HMAC of a message with a key",
          { REQ(PARAM_MESSAGE), REQ(PARAM_KEY_ID), REQ(PARAM_MAC_ALGORITHM), OPT(PARAM_GRANT_TOKENS) } },
        { "verify-mac", "VerifyMac", verb_verify_mac, "Verify the HMAC of a message",
          { REQ(PARAM_MESSAGE), REQ(PARAM_KEY_ID), REQ(PARAM_MAC_ALGORITHM), REQ(PARAM_MAC),
            OPT(PARAM_GRANT_TOKENS) } },
        { "generate-mac-batch", "GenerateMacBatch", verb_generate_mac_batch,
          "Compute the HMACs of many messages with a key in one call",
          { REQ(PARAM_KEY_ID), REQ(PARAM_MAC_ALGORITHM), REQ(PARAM_MESSAGES), OPT(PARAM_MESSAGE_FORMAT) },
          generate_mac_batch_notes, .prepare = prepare_batch_messages },
        { "verify-mac-batch", "VerifyMacBatch", verb_verify_mac_batch,
          "Verify the HMACs of many messages with a key in one call",
          { REQ(PARAM_KEY_ID), REQ(PARAM_MAC_ALGORITHM), REQ(PARAM_MESSAGES), REQ(PARAM_MACS),
            OPT(PARAM_MESSAGE_FORMAT) },
          verify_mac_batch_notes, .prepare = prepare_verify_batch },
        { "describe-key", "DescribeKey", verb_describe_key, "Show the metadata of a key",
          { REQ(PARAM_KEY_ID), OPT(PARAM_GRANT_TOKENS) } },
        { "list-keys", "ListKeys", verb_list_keys, "List the keys (key ID and key ARN)",
          { HID(PARAM_LIMIT), HID(PARAM_MARKER), PAGING }, paging_notes, "Keys" },
        { "enable-key", "EnableKey", verb_enable_key, "Enable a key",
          { REQ(PARAM_MANAGED_KEY_ID) }, quiet_notes },
        { "disable-key", "DisableKey", verb_disable_key,
          "Disable a key: no MACs are made or verified with it until it is enabled",
          { REQ(PARAM_MANAGED_KEY_ID) }, quiet_notes },
        { "schedule-key-deletion", "ScheduleKeyDeletion", verb_schedule_key_deletion,
          "Delete a key, its material and its aliases after a waiting period",
          { REQ(PARAM_MANAGED_KEY_ID), OPT(PARAM_PENDING_WINDOW_IN_DAYS) },
          "Prints KeyId (the key ARN), DeletionDate, KeyState and PendingWindowInDays. Until the\n"
          "DeletionDate the key cannot be used, and cancel-key-deletion can still keep it." },
        { "cancel-key-deletion", "CancelKeyDeletion", verb_cancel_key_deletion,
          "Cancel a scheduled deletion; the key stays disabled",
          { REQ(PARAM_MANAGED_KEY_ID) },
          "Prints the KeyId (the key ARN). Use enable-key to use the key again." },
        { "update-key-description", "UpdateKeyDescription", verb_update_key_description,
          "Replace the description of a key",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_DESCRIPTION) }, quiet_notes },
        { "create-alias", "CreateAlias", verb_create_alias, "Give a key a further name",
          { REQ(PARAM_ALIAS_NAME), REQ(PARAM_TARGET_KEY_ID) }, alias_notes },
        { "update-alias", "UpdateAlias", verb_update_alias, "Point an alias at another key",
          { REQ(PARAM_ALIAS_NAME), REQ(PARAM_TARGET_KEY_ID) }, alias_notes },
        { "delete-alias", "DeleteAlias", verb_delete_alias, "Delete an alias (not its key)",
          { REQ(PARAM_ALIAS_NAME) }, quiet_notes },
        { "list-aliases", "ListAliases", verb_list_aliases, "List the aliases, by name",
          { OPT(PARAM_FILTER_KEY_ID), HID(PARAM_ALIAS_LIMIT), HID(PARAM_MARKER), PAGING }, paging_notes,
          "Aliases" },
        { "tag-resource", "TagResource", verb_tag_resource,
          "Add tags to a key, or replace the values of its tags",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_TAGS) }, quiet_notes },
        { "untag-resource", "UntagResource", verb_untag_resource, "Remove tags from a key",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_TAG_KEYS) }, quiet_notes },
        { "list-resource-tags", "ListResourceTags", verb_list_resource_tags,
          "List the tags of a key, by tag key",
          { REQ(PARAM_MANAGED_KEY_ID), HID(PARAM_TAG_LIMIT), HID(PARAM_MARKER), PAGING }, paging_notes,
          "Tags" },
        { "get-parameters-for-import", "GetParametersForImport", verb_get_parameters_for_import,
          "Get a wrapping public key and an import token for importing key material",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_WRAPPING_ALGORITHM), REQ(PARAM_WRAPPING_KEY_SPEC) },
          get_parameters_for_import_notes },
        { "import-key-material", "ImportKeyMaterial", verb_import_key_material,
          "Import wrapped key material into a key created with --origin EXTERNAL",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_IMPORT_TOKEN), REQ(PARAM_ENCRYPTED_KEY_MATERIAL),
            OPT(PARAM_VALID_TO), OPT(PARAM_EXPIRATION_MODEL) },
          import_key_material_notes },
        { "delete-imported-key-material", "DeleteImportedKeyMaterial", verb_delete_imported_key_material,
          "Delete imported key material; the key waits for an import again",
          { REQ(PARAM_MANAGED_KEY_ID) }, delete_imported_key_material_notes },
        { "get-counters", "Counters", verb_get_counters,
          "Show the daemon's counters (calls by result, denials, polkit, keyring cache)", {} },
        { "import-key", "GetParametersForImport and ImportKeyMaterial", verb_import_key,
          "Wrap a secret from a file here and import it into an EXTERNAL key",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_KEY_MATERIAL), OPT(PARAM_IMPORT_KEY_SPEC),
            OPT(PARAM_IMPORT_EXPIRATION_MODEL), OPT(PARAM_VALID_TO) },
          import_key_notes },
        { "rotate-key-on-demand", "RotateKeyOnDemand", verb_rotate_key_on_demand,
          "Give a key new current key material now; the old one still verifies",
          { REQ(PARAM_MANAGED_KEY_ID) }, rotate_key_on_demand_notes },
        { "enable-key-rotation", "EnableKeyRotation", verb_enable_key_rotation,
          "Rotate a key's material automatically every period",
          { REQ(PARAM_MANAGED_KEY_ID), OPT(PARAM_ROTATION_PERIOD_IN_DAYS) }, rotation_quiet_notes },
        { "disable-key-rotation", "DisableKeyRotation", verb_disable_key_rotation,
          "Stop rotating a key's material automatically",
          { REQ(PARAM_MANAGED_KEY_ID) }, quiet_notes },
        { "get-key-rotation-status", "GetKeyRotationStatus", verb_get_key_rotation_status,
          "Show whether and when a key's material is rotated",
          { REQ(PARAM_MANAGED_KEY_ID) },
          "Prints KeyRotationEnabled, KeyId (the key ARN) and, where they apply, RotationPeriodInDays,\n"
          "NextRotationDate and OnDemandRotationStartDate." },
        { "list-key-rotations", "ListKeyRotations", verb_list_key_rotations,
          "List the key materials of a key, oldest first",
          { REQ(PARAM_MANAGED_KEY_ID), HID(PARAM_ROTATION_LIMIT), HID(PARAM_MARKER), PAGING },
          list_key_rotations_notes, "Rotations" },
        { "update-mac-verify-window", "UpdateMacVerifyWindow", verb_update_mac_verify_window,
          "Set how long previous key materials of a key keep verifying",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_DAYS) }, mac_verify_window_notes },
        { "retire-key-material", "RetireKeyMaterial", verb_retire_key_material,
          "Stop a previous key material verifying, and destroy it, now",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_KEY_MATERIAL_ID) }, retire_key_material_notes },
};

static const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

/* The parameter of subcommand v that the option names. */
static ParamId param_find(const Verb *v, const char *name, size_t len) {
        for (size_t i = 0; v && i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++) {
                const char *n = params[v->params[i].id].name;

                if (strlen(n) == len && strncmp(n, name, len) == 0)
                        return v->params[i].id;
        }
        return _PARAM_INVALID;
}

static const char global_usage[] =
        "hmacctl [--system|--user] [--output json|text|table|yaml|yaml-stream] [--query JMESPATH] "
        "[--no-ask-password] [kms] <subcommand> [parameters]";

static void print_verb_usage(FILE *f, const Verb *v) {
        fprintf(f, "usage: hmacctl [global options] %s", v->name);
        for (size_t i = 0; i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++) {
                const Param *p = &params[v->params[i].id];

                if (!v->params[i].hidden)
                        fprintf(f, v->params[i].required ? " --%s %s" : " [--%s %s]", p->name, p->metavar);
        }
        fprintf(f, " [--cli-input-json JSON | --cli-input-yaml YAML] "
                   "[--generate-cli-skeleton [input|output|yaml-input]]\n");
}

static void help_verb(const Verb *v) {
        print_verb_usage(stdout, v);
        printf("\n%s (%s).\n\nParameters:\n", v->summary, v->operation);
        for (size_t i = 0; i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++) {
                const Param *p = &params[v->params[i].id];

                if (!v->params[i].hidden)
                        printf("  --%s %s%s\n        %s\n", p->name, p->metavar,
                               v->params[i].required ? " (required)" : "", p->help);
        }
        printf("  --cli-input-json JSON, --cli-input-yaml YAML\n"
               "        The request as JSON (YAML), members named as in AWS (see --generate-cli-skeleton);\n"
               "        file://PATH reads it from a file. Options given on the command line win.\n"
               "  --generate-cli-skeleton [input|output|yaml-input]\n"
               "        Print a request skeleton for --cli-input-json (input, the default) or\n"
               "        --cli-input-yaml (yaml-input), or the shape of the output (output), and call "
               "nothing.\n");
        if (v->notes)
                printf("\n%s\n", v->notes);
        printf("\nGlobal options: --system, --user, --output, --query, --cli-binary-format, --debug,\n"
               "--no-ask-password and the aws CLI's others (see hmacctl --help).\n");
}

static void help_global(void) {
        int width = 24;

        printf("usage: %s\n\n"
               "Command-line client of hmacd, the local AWS-KMS-style HMAC key service, with the\n"
               "subcommands, options, output and exit codes of `aws kms` (AWS CLI v2).\n\n"
               "Subcommands:\n", global_usage);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                width = MAX(width, (int) strlen(verbs[i].name));
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-*s %s\n", width, verbs[i].name, verbs[i].summary);
        printf("\nGlobal options:\n"
               "  --system                 Use the service on the system bus (the default;\n"
               "                           DBUS_SYSTEM_BUS_ADDRESS is honoured)\n"
               "  --user                   Use the service on the session bus (hmacd --user)\n"
               "  --output FORMAT          json (the default), text, table, yaml or yaml-stream\n"
               "  --query JMESPATH         Print what this JMESPath expression selects of the output\n"
               "  --cli-binary-format F    base64 (the default): blob parameters (--message, --mac,\n"
               "                           --import-token, --encrypted-key-material) are base64;\n"
               "                           raw-in-base64-out: they are the text given\n"
               "  --no-paginate            One call of a list subcommand, its answer as it is\n"
               "  --debug                  Log each bus call and its time to standard error\n"
               "  --no-ask-password        Do not let polkit ask for a password\n"
               "  --version                Print the version\n"
               "  --help                   Show this help; hmacctl <subcommand> --help shows its own\n"
               "\nAccepted and ignored, for scripts written for aws: --region, --profile, --endpoint-url,\n"
               "--no-verify-ssl, --no-sign-request, --ca-bundle, --cli-read-timeout, "
               "--cli-connect-timeout,\n"
               "--color, --no-cli-pager, --cli-auto-prompt, --no-cli-auto-prompt. The word kms may come\n"
               "before the subcommand, as in `aws kms`.\n"
               "\nExit status, as AWS CLI v2: 0 success, 130 interrupted, 252 bad command line or "
               "parameter,\n"
               "253 no session bus for --user, 254 the service returned an error (an invalid MAC\n"
               "included), 255 any other failure, a service that cannot be reached included.\n");
}

_printf_(2, 3) static int usage_error(const Verb *v, const char *fmt, ...) {
        va_list ap;

        if (v)
                print_verb_usage(stderr, v);
        else
                fprintf(stderr, "usage: %s\n", global_usage);
        fprintf(stderr, "To see help text, you can run:\n\n"
                        "  hmacctl --help\n"
                        "  hmacctl <subcommand> --help\n\n"
                        "hmacctl: error: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}

/* A value that cannot be used, said as the aws CLI says it; always -EINVAL. */
_printf_(2, 3) static int param_error(const Param *p, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "\nError parsing parameter '--%s': ", p->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}

/* What botocore checks before sending: too short, or too small. member is the request member,
 * "TagKeys[0]" for an item of a list. Always -EINVAL. */
static int param_validation_error(const Param *p, const char *member, const char *what, const char *value) {
        fprintf(stderr, "\nParameter validation failed:\n"
                        "Invalid %s for parameter %s, value: %s, valid min %s: %u\n",
                what, member, value, what, p->min);
        return -EINVAL;
}

/* Reads a fileb:// or file:// parameter; returns 1 when the value was one, 0 when it was not. */
static int param_load_file(const Param *p, const char *value, Buffer *ret) {
        const char *path;
        size_t max;
        int r;

        if (strncmp(value, "fileb://", 8) == 0)
                path = value + 8;
        else if (strncmp(value, "file://", 7) == 0)
                path = value + 7;
        else
                return 0;

        max = p->max > 0 ? p->max : PARAM_FILE_MAX;
        r = read_file_bounded(path, max, ret);
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG)
                return param_error(p, "Unable to load paramfile %s: larger than %zu bytes", value, max);
        if (r < 0)
                return param_error(p, "Unable to load paramfile %s: %s", value, strerror(-r));
        return 1;
}

/* A blob as AWS CLI v2 takes one: fileb:// is a file's bytes; anything else, the text given or a
 * file:// file's text, is base64 (botocore's b64decode, which skips characters outside the alphabet),
 * or with --cli-binary-format raw-in-base64-out the bytes of that text. from_file is false for
 * values from --cli-input-json, where no file:// or fileb:// is looked at. */
static int param_convert_blob(const Context *c, const Param *p, const char *value, bool from_file,
                              Buffer *ret) {
        _cleanup_(buffer_done) Buffer text = {};
        int r;

        if (from_file && strncmp(value, "fileb://", 8) == 0) {
                r = param_load_file(p, value, ret);
                return r < 0 ? r : 0;
        }

        if (from_file && strncmp(value, "file://", 7) == 0) {
                r = param_load_file(p, value, &text);
                if (r < 0)
                        return r;
                if (memchr(text.data, 0, text.size))
                        return param_error(
                                p, "Unable to load paramfile %s: it holds a NUL byte, use fileb://", value);
                text.data[text.size] = 0; /* read_file_bounded() leaves room for it */
                value = (const char *) text.data;
        }

        if (c->binary_format == BINARY_FORMAT_BASE64) {
                r = base64_decode_lenient(value, ret);
                if (r == -EINVAL) {
                        fprintf(stderr, "\nInvalid base64: \"%s\"\n", value);
                        return -EBADMSG; /* as the aws CLI: a general error, 255 */
                }
                return r;
        }

        /* Text: its bytes, without the terminating NUL. */
        ret->size = strlen(value);
        ret->data = malloc(ret->size + 1);
        if (!ret->data)
                return -ENOMEM;
        memcpy(ret->data, value, ret->size + 1);
        return 0;
}

static int tag_append(Context *c, const char *key, const char *value) {
        Tag t = {}, *a;

        t.key = strdup(key);
        t.value = strdup(value);
        a = t.key && t.value ? reallocarray(c->tags, c->n_tags + 1, sizeof *a) : NULL;
        if (!a) {
                free(t.key);
                free(t.value);
                return -ENOMEM;
        }
        c->tags = a;
        c->tags[c->n_tags++] = t;
        return 0;
}

/* Tags as JSON, [{"TagKey": "K", "TagValue": "V"}, ...] (or one such object): on the command line as
 * the aws CLI takes them, and in --cli-input-json. Returns 0, or -EINVAL after saying what is wrong. */
static int tags_from_json(Context *c, const Param *p, const JsonValue *v) {
        size_t n = json_type(v) == JSON_ARRAY ? json_size(v) : 1;
        int r;

        if (json_type(v) != JSON_ARRAY && json_type(v) != JSON_OBJECT)
                return param_error(p, "expected a list of {\"TagKey\": ..., \"TagValue\": ...}");

        for (size_t i = 0; i < n; i++) {
                const JsonValue *t = json_type(v) == JSON_ARRAY ? json_array_get(v, i) : v;
                const JsonValue *key = json_object_get(t, "TagKey"), *value = json_object_get(t, "TagValue");

                if (json_type(t) != JSON_OBJECT)
                        return param_error(p, "Tags[%zu]: expected {\"TagKey\": ..., \"TagValue\": ...}", i);
                for (size_t j = 0; j < json_size(t); j++)
                        if (!streq(json_object_key(t, j), "TagKey") &&
                            !streq(json_object_key(t, j), "TagValue"))
                                return param_error(p, "Tags[%zu]: unknown member \"%s\", must be one of: "
                                                      "TagKey, TagValue", i, json_object_key(t, j));
                if (json_type(key) != JSON_STRING || json_type(value) != JSON_STRING)
                        return param_error(p, "Tags[%zu]: missing required member, or not a string: %s", i,
                                           json_type(key) != JSON_STRING ? "TagKey" : "TagValue");
                r = tag_append(c, json_string_value(key), json_string_value(value));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int param_convert_tag(Context *c, const Param *p, const char *value) {
        _cleanup_free_ char *key = NULL, *tag_value = NULL;
        const char *problem = NULL;
        int r;

        if (value[0] == '[' || value[0] == '{') {
                _cleanup_(json_value_freep) JsonValue *v = NULL;

                r = json_parse(value, strlen(value), 0, &v, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return param_error(p, "Invalid JSON: %s", value);
                return tags_from_json(c, p, v);
        }

        r = parse_tag_shorthand(value, &key, &tag_value, &problem);
        if (r == -EINVAL)
                return param_error(p, "%s, received: '%s'", problem, value);
        if (r < 0)
                return r;
        return tag_append(c, key, tag_value);
}

static int param_convert_uint32(const Param *p, const char *value, uint32_t *ret) {
        unsigned long long u;
        bool negative;
        char *end;

        negative = value[strspn(value, " ")] == '-';
        errno = 0;
        u = strtoull(value, &end, 10);
        if (end == value || *end || errno == ERANGE || (!negative && u > UINT32_MAX))
                return param_error(p, "invalid value '%s' for an integer from %u to %" PRIu32, value, p->min,
                                   UINT32_MAX);
        if (negative || u < p->min)
                return param_validation_error(p, p->member, "value", value);

        *ret = (uint32_t) u;
        return 0;
}

/* An integer as argparse's int() takes it, for --page-size and --max-items. */
static int param_convert_int(Context *c, const Param *p, const char *value, int64_t *ret) {
        long long v;
        char *end;

        errno = 0;
        v = strtoll(value, &end, 10);
        if (end == value || *end || errno == ERANGE)
                return usage_error(c->verb, "argument --%s: invalid int value: '%s'", p->name, value);
        *ret = v;
        return 0;
}

/* value is from the command line (from_file: file:// and fileb:// are read) or, as a string, from
 * --cli-input-json. */
static int param_convert(Context *c, ParamId id, const char *value, bool from_file) {
        const Param *p = &params[id];
        int r;

        switch (p->kind) {
        case PARAM_STRING:
                if (strlen(value) < p->min) {
                        char n[32];

                        snprintf(n, sizeof n, "%zu", strlen(value));
                        return param_validation_error(p, p->member, "length", n);
                }
                free(c->string[id]);
                c->string[id] = strdup(value);
                r = c->string[id] ? 0 : -ENOMEM;
                break;

        case PARAM_STRING_LIST: {
                char **l;

                if (strlen(value) < p->min) {
                        char member[64], n[32];

                        snprintf(member, sizeof member, "%s[%zu]", p->member, c->n_list[id]);
                        snprintf(n, sizeof n, "%zu", strlen(value));
                        return param_validation_error(p, member, "length", n);
                }
                l = reallocarray(c->list[id], c->n_list[id] + 1, sizeof *l);
                if (!l)
                        return -ENOMEM;
                c->list[id] = l;
                l[c->n_list[id]] = strdup(value);
                if (!l[c->n_list[id]])
                        return -ENOMEM;
                c->n_list[id]++;
                r = 0;
                break;
        }

        case PARAM_BLOB: {
                Buffer b = {};

                r = param_convert_blob(c, p, value, from_file, &b);
                if (r >= 0) {
                        buffer_done(&c->blob[id]);
                        c->blob[id] = b;
                }
                break;
        }

        case PARAM_TAG_LIST:
                r = param_convert_tag(c, p, value);
                break;

        case PARAM_UINT32:
                r = param_convert_uint32(p, value, &c->number[id]);
                break;

        case PARAM_PAGING_STRING:
                free(c->string[id]);
                c->string[id] = strdup(value);
                r = c->string[id] ? 0 : -ENOMEM;
                break;

        case PARAM_PAGING_INT:
                r = param_convert_int(c, p, value, &c->integer[id]);
                break;

        case PARAM_TIMESTAMP:
                r = parse_timestamp(value, &c->usec[id]);
                if (r == -EINVAL)
                        return param_error(p, "Invalid timestamp '%s': expected ISO 8601 (such as "
                                              "2026-06-30T12:00:00Z) or seconds since the epoch", value);
                break;

        case PARAM_FILE: {
                Buffer b = {};

                r = param_load_file(p, value, &b);
                if (r == 0)
                        return param_error(p, "expected fileb://PATH (or fileb://- for standard input), "
                                              "received: '%s'", value);
                if (r > 0) {
                        buffer_done(&c->blob[id]);
                        c->blob[id] = b;
                        r = 0;
                }
                break;
        }

        case PARAM_CHOICE: {
                bool found = false;

                for (size_t i = 0; p->choices && p->choices[i] && !found; i++)
                        found = streq(p->choices[i], value);
                if (!found) {
                        _cleanup_free_ char *list = NULL;
                        size_t n = 0;

                        while (p->choices && p->choices[n])
                                n++;
                        list = join((const char *const *) p->choices, n, "");
                        return usage_error(c->verb,
                                           "argument --%s: Invalid choice '%s', valid choices are:\n\n%s",
                                           p->name, value, strempty(list));
                }
                free(c->string[id]);
                c->string[id] = strdup(value);
                r = c->string[id] ? 0 : -ENOMEM;
                break;
        }

        default:
                r = -EINVAL;
        }
        if (r < 0)
                return r;

        c->set[id] = true;
        return 0;
}

static bool option_is(const char *name, size_t len, const char *option) {
        return len == strlen(option) && strncmp(name, option, len) == 0;
}

/* "a, b, c", as argparse lists unknown or missing arguments. */
static char *join_sep(const char *const *items, size_t n, const char *prefix, const char *sep) {
        size_t size = 1;
        char *s, *p;

        for (size_t i = 0; i < n; i++)
                size += strlen(prefix) + strlen(items[i]) + strlen(sep);
        s = p = malloc(size);
        if (!s)
                return NULL;
        *p = 0;
        for (size_t i = 0; i < n; i++)
                p = stpcpy(stpcpy(stpcpy(p, i > 0 ? sep : ""), prefix), items[i]);
        return s;
}

static char *join(const char *const *items, size_t n, const char *prefix) {
        return join_sep(items, n, prefix, ", ");
}

static size_t strv_length(const char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

/* The index of value in the NULL-terminated choices, or -1 after saying what is wrong as argparse does. */
static int choice_find(const Context *c, const char *option, const char *const *choices, const char *value) {
        _cleanup_free_ char *list = NULL;
        size_t n = strv_length(choices);

        for (size_t i = 0; i < n; i++)
                if (!isempty(choices[i]) && streq(choices[i], value))
                        return (int) i;

        /* The empty first entry of skeletons[] is no choice of its own. */
        list = isempty(choices[0]) ? join_sep(choices + 1, n - 1, "", " | ")
                                   : join_sep(choices, n, "", " | ");
        usage_error(c->verb, "argument --%s: Invalid choice '%s', valid choices are:\n\n%s", option, value,
                    strempty(list));
        return -1;
}

/* The options of the aws CLI itself, valid before and after the subcommand, and hmacctl's own
 * (--system, --user, --no-ask-password). Those marked ignored are taken for the sake of scripts
 * written for aws, and mean nothing here (--debug says so). */
typedef struct GlobalOption {
        const char *name;
        bool takes_value;
        bool ignored;
        bool integer;   /* argparse's type=int */
} GlobalOption;

static const GlobalOption global_options[] = {
        { "system" },
        { "user" },
        { "no-ask-password" },
        { "output", true },
        { "query", true },
        { "debug" },
        { "version" },
        { "cli-binary-format", true },
        { "no-paginate" },
        { "color", true },
        { "no-cli-pager", false, true },
        { "region", true, true },
        { "profile", true, true },
        { "endpoint-url", true, true },
        { "no-verify-ssl", false, true },
        { "no-sign-request", false, true },
        { "ca-bundle", true, true },
        { "cli-read-timeout", true, true, true },
        { "cli-connect-timeout", true, true, true },
        { "cli-auto-prompt", false, true },
        { "no-cli-auto-prompt", false, true },
};

/* Returns 1 when arg was a global option, 0 when it was not, -EINVAL for a bad one. *i moves on when
 * the option took the next argument. */
static int parse_global_option(Context *c, int argc, char *argv[], int *i) {
        const char *name = argv[*i] + 2, *eq = strchr(name, '='), *value = NULL;
        size_t len = eq ? (size_t) (eq - name) : strlen(name);
        const GlobalOption *o = NULL;
        int k;

        for (size_t j = 0; j < ELEMENTSOF(global_options) && !o; j++)
                if (option_is(name, len, global_options[j].name))
                        o = &global_options[j];
        if (!o)
                return 0;

        if (!o->takes_value && eq)
                return usage_error(c->verb, "argument --%s: ignored explicit argument '%s'", o->name,
                                   eq + 1);
        if (o->takes_value) {
                value = eq                                                     ? eq + 1
                        : *i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0 ? argv[++*i]
                                                                               : NULL;
                if (!value)
                        return usage_error(c->verb, "argument --%s: expected one argument", o->name);
        }

        if (o->integer) {
                char *end;

                errno = 0;
                (void) strtol(value, &end, 10);
                if (end == value || *end || errno == ERANGE)
                        return usage_error(c->verb, "argument --%s: invalid int value: '%s'", o->name,
                                           value);
        }

        if (o->ignored) {
                if (c->n_ignored < ELEMENTSOF(c->ignored))
                        c->ignored[c->n_ignored++] = argv[*i - (o->takes_value && !eq ? 1 : 0)];
                return 1;
        }

        if (streq(o->name, "system"))
                c->bus_type = HMACD_BUS_SYSTEM;
        else if (streq(o->name, "user"))
                c->bus_type = HMACD_BUS_USER;
        else if (streq(o->name, "no-ask-password"))
                c->ask_password = false;
        else if (streq(o->name, "debug"))
                c->debug = true;
        else if (streq(o->name, "no-paginate"))
                c->no_paginate = true;
        else if (streq(o->name, "version"))
                ; /* handled before anything else */
        else if (streq(o->name, "output")) {
                k = choice_find(c, o->name, output_formats, value);
                if (k < 0)
                        return -EINVAL;
                c->output = output_format_table[k];
        } else if (streq(o->name, "color")) {
                k = choice_find(c, o->name, colors, value);
                if (k < 0)
                        return -EINVAL;
                c->color = color_table[k];
        } else if (streq(o->name, "cli-binary-format")) {
                k = choice_find(c, o->name, binary_formats, value);
                if (k < 0)
                        return -EINVAL;
                c->binary_format = (BinaryFormat) k;
        } else if (streq(o->name, "query")) {
                free(c->query);
                c->query = strdup(value);
                if (!c->query)
                        return -ENOMEM;
        }
        return 1;
}

/* The options the aws CLI gives every subcommand: --cli-input-json, --cli-input-yaml and
 * --generate-cli-skeleton [input|output|yaml-input]. Returns as parse_global_option(). */
static int parse_command_option(Context *c, int argc, char *argv[], int *i) {
        const char *name = argv[*i] + 2, *eq = strchr(name, '='), *value;
        size_t len = eq ? (size_t) (eq - name) : strlen(name);
        int k;

        if (option_is(name, len, "generate-cli-skeleton")) {
                /* nargs='?', const 'input': the next argument is its value unless it is an option. */
                value = eq                                                     ? eq + 1
                        : *i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0 ? argv[++*i]
                                                                               : "input";
                k = choice_find(c, "generate-cli-skeleton", skeletons, value);
                if (k < 0)
                        return -EINVAL;
                c->skeleton = (Skeleton) k;
                return 1;
        }

        if (!option_is(name, len, "cli-input-json") && !option_is(name, len, "cli-input-yaml"))
                return 0;

        value = eq ? eq + 1 : *i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0 ? argv[++*i] : NULL;
        if (!value)
                return usage_error(c->verb, "argument --%.*s: expected one argument", (int) len, name);
        if (c->cli_input && c->cli_input_yaml != option_is(name, len, "cli-input-yaml"))
                return usage_error(c->verb, "argument --%.*s: not allowed with argument --%s", (int) len,
                                   name, c->cli_input_yaml ? "cli-input-yaml" : "cli-input-json");
        free(c->cli_input);
        c->cli_input = strdup(value);
        if (!c->cli_input)
                return -ENOMEM;
        c->cli_input_yaml = option_is(name, len, "cli-input-yaml");
        return 1;
}

static bool verb_is_paginated(const Verb *v) {
        return v && v->result_key;
}

/* ---- --cli-input-json and --cli-input-yaml ---- */

/* Python's name of a JSON value's type, as botocore's validation messages say it. */
static const char *python_type(const JsonValue *v) {
        switch (json_type(v)) {
        case JSON_NULL:
                return "NoneType";
        case JSON_BOOLEAN:
                return "bool";
        case JSON_NUMBER:
                return json_number_is_float(v) ? "float" : "int";
        case JSON_STRING:
                return "str";
        case JSON_ARRAY:
                return "list";
        default:
                return "dict";
        }
}

static int input_type_error(const char *member, const JsonValue *v, const char *valid) {
        _cleanup_free_ char *text = NULL;

        if (json_type(v) == JSON_NULL)
                text = strdup("None");
        else if (json_type(v) == JSON_BOOLEAN)
                text = strdup(json_boolean_value(v) ? "True" : "False");
        else
                (void) json_format(v, 0, 0, &text);
        fprintf(stderr,
                "\nParameter validation failed:\nInvalid type for parameter %s, value: %s, type: <class "
                "'%s'>, valid types: %s\n",
                member, strna(text), python_type(v), valid);
        return -EINVAL;
}

/* One member of the input, for a parameter not given on the command line. */
static int input_member(Context *c, ParamId id, const JsonValue *v) {
        const Param *p = &params[id];
        char member[128], buf[JSON_NUMBER_MAX];
        double d;
        int r;

        switch (p->kind) {
        case PARAM_TAG_LIST:
                if (json_type(v) != JSON_ARRAY)
                        return input_type_error(p->member, v, "<class 'list'>, <class 'tuple'>");
                return tags_from_json(c, p, v);

        case PARAM_STRING_LIST:
                if (json_type(v) != JSON_ARRAY)
                        return input_type_error(p->member, v, "<class 'list'>, <class 'tuple'>");
                for (size_t i = 0; i < json_size(v); i++) {
                        const JsonValue *item = json_array_get(v, i);

                        snprintf(member, sizeof member, "%s[%zu]", p->member, i);
                        if (json_type(item) != JSON_STRING)
                                return input_type_error(member, item, "<class 'str'>");
                        r = param_convert(c, id, json_string_value(item), false);
                        if (r < 0)
                                return r;
                }
                return 0;

        case PARAM_UINT32:
                d = json_number_value(v);
                if (json_type(v) != JSON_NUMBER || json_number_is_float(v) || d != (double) (int64_t) d)
                        return input_type_error(p->member, v, "<class 'int'>");
                if (d < 0 || d > UINT32_MAX) {
                        (void) json_format_number(d, buf);
                        return param_validation_error(p, p->member, "value", buf);
                }
                snprintf(buf, sizeof buf, "%.0f", d);
                return param_convert(c, id, buf, false);

        case PARAM_TIMESTAMP:
                if (json_type(v) == JSON_NUMBER) {
                        (void) json_format_number(json_number_value(v), buf);
                        return param_convert(c, id, buf, false);
                }
                if (json_type(v) != JSON_STRING)
                        return input_type_error(p->member, v,
                                                "<class 'datetime.datetime'>, timestamp-string");
                return param_convert(c, id, json_string_value(v), false);

        case PARAM_BLOB:
                if (json_type(v) != JSON_STRING)
                        return input_type_error(p->member, v,
                                                "<class 'bytes'>, <class 'bytearray'>, file-like object");
                return param_convert(c, id, json_string_value(v), false);

        default:
                if (json_type(v) != JSON_STRING)
                        return input_type_error(p->member, v, "<class 'str'>");
                return param_convert(c, id, json_string_value(v), true);
        }
}

/* Reads --cli-input-json (or --cli-input-yaml) and takes from it every member that was not given on
 * the command line, which wins, as in AWS CLI v2. */
static int load_cli_input(Context *c) {
        const char *option = c->cli_input_yaml ? "cli-input-yaml" : "cli-input-json";
        const Param pseudo = { .name = option };
        _cleanup_(json_value_freep) JsonValue *input = NULL;
        _cleanup_(buffer_done) Buffer file = {};
        _cleanup_free_ const char **unknown = NULL;
        const char *text = c->cli_input;
        size_t size = strlen(text), n_unknown = 0;
        int r;

        r = param_load_file(&pseudo, text, &file);
        if (r < 0)
                return r;
        if (r > 0) {
                text = (const char *) file.data;
                size = file.size;
        }

        if (c->cli_input_yaml)
                r = yaml_parse(text, size, &input, NULL);
        else
                r = json_parse(text, size, 0, &input, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || json_type(input) != JSON_OBJECT) {
                fprintf(stderr, "\nError parsing parameter '%s': Invalid %s received.\n", option,
                        c->cli_input_yaml ? "YAML" : "JSON");
                return -EINVAL;
        }

        unknown = calloc(json_size(input) + 1, sizeof *unknown);
        if (!unknown)
                return -ENOMEM;

        for (size_t i = 0; i < json_size(input); i++) {
                const char *key = json_object_key(input, i);
                ParamId id = _PARAM_INVALID;

                for (size_t j = 0; j < ELEMENTSOF(c->verb->params) && c->verb->params[j].id > 0; j++) {
                        const Param *p = &params[c->verb->params[j].id];

                        if (p->member && streq(p->member, key))
                                id = c->verb->params[j].id;
                }
                if (id < 0)
                        unknown[n_unknown++] = key;
        }
        if (n_unknown > 0) {
                const char *members[ELEMENTSOF(c->verb->params)];
                _cleanup_free_ char *list = NULL;
                size_t n = 0;

                for (size_t j = 0; j < ELEMENTSOF(c->verb->params) && c->verb->params[j].id > 0; j++)
                        if (params[c->verb->params[j].id].member)
                                members[n++] = params[c->verb->params[j].id].member;
                list = join(members, n, "");
                fprintf(stderr, "\nParameter validation failed:\n");
                for (size_t i = 0; i < n_unknown; i++)
                        fprintf(stderr, "Unknown parameter in input: \"%s\", must be one of: %s\n",
                                unknown[i], strempty(list));
                return -EINVAL;
        }

        for (size_t i = 0; i < json_size(input); i++) {
                const char *key = json_object_key(input, i);

                for (size_t j = 0; j < ELEMENTSOF(c->verb->params) && c->verb->params[j].id > 0; j++) {
                        ParamId id = c->verb->params[j].id;

                        if (!params[id].member || !streq(params[id].member, key) || c->from_command_line[id])
                                continue;
                        r = input_member(c, id, json_object_value(input, i));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* ---- --generate-cli-skeleton ---- */

/* The input skeleton as the aws CLI makes one from the request shape: the members in the order of the
 * AWS service model, strings "" (an enum's first valid value), integers 0, blobs null, timestamps
 * 1970-01-01T00:00:00, one item in each list. */
static JsonValue *skeleton_input(const Verb *v) {
        JsonValue *o = json_object();

        for (size_t i = 0; i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++) {
                const Param *p = &params[v->params[i].id];
                JsonValue *x;

                if (!p->member)
                        continue;
                switch (p->kind) {
                case PARAM_BLOB:
                        x = json_null();
                        break;
                case PARAM_UINT32:
                        x = json_unsigned(0);
                        break;
                case PARAM_TIMESTAMP:
                        x = json_string("1970-01-01T00:00:00");
                        break;
                case PARAM_STRING_LIST:
                        x = json_array();
                        json_add(x, NULL, json_string(""));
                        break;
                case PARAM_TAG_LIST: {
                        JsonValue *t = json_object();

                        json_add(t, "TagKey", json_string(""));
                        json_add(t, "TagValue", json_string(""));
                        x = json_array();
                        json_add(x, NULL, t);
                        break;
                }
                default:
                        x = json_string(strempty(p->placeholder));
                }
                json_add(o, p->member, x);
        }
        return o;
}

/* The same in YAML with a comment per member, as `--generate-cli-skeleton yaml-input` prints it. */
static void skeleton_yaml(FILE *f, const Verb *v) {
        for (size_t i = 0; i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++) {
                const Param *p = &params[v->params[i].id];
                const char *required = v->params[i].required ? "[REQUIRED] " : "";

                if (!p->member)
                        continue;
                switch (p->kind) {
                case PARAM_BLOB:
                        fprintf(f, "%s: !!binary ''  # %s%s\n", p->member, required, p->help);
                        break;
                case PARAM_UINT32:
                        fprintf(f, "%s: 0 # %s%s\n", p->member, required, p->help);
                        break;
                case PARAM_TIMESTAMP:
                        fprintf(f, "%s: 1970-01-01 00:00:00 # %s%s\n", p->member, required, p->help);
                        break;
                case PARAM_STRING_LIST:
                        fprintf(f, "%s: # %s%s\n- ''\n", p->member, required, p->help);
                        break;
                case PARAM_TAG_LIST:
                        fprintf(f, "%s: # %s%s\n- TagKey: ''  # [REQUIRED] The key of the tag.\n"
                                   "  TagValue: '' # [REQUIRED] The value of the tag.\n",
                                p->member, required, p->help);
                        break;
                default:
                        if (isempty(p->placeholder))
                                fprintf(f, "%s: '' # %s%s\n", p->member, required, p->help);
                        else
                                fprintf(f, "%s: %s # %s%s\n", p->member, p->placeholder, required, p->help);
                }
        }
}

/* --generate-cli-skeleton output: the response shape with each string its member's name, as the aws
 * CLI's stubbed call prints it; NULL for operations that answer with nothing. */
static const char *skeleton_output(const Verb *v) {
        static const char key_metadata[] =
                "{\"KeyMetadata\": {\"KeyId\": \"KeyId\", \"Arn\": \"Arn\", \"CreationDate\": "
                "\"1970-01-01T00:00:00+00:00\", \"Enabled\": true, \"Description\": \"Description\", "
                "\"KeyUsage\": \"KeyUsage\", \"KeyState\": \"KeyState\", \"DeletionDate\": "
                "\"1970-01-01T00:00:00+00:00\", \"ValidTo\": \"1970-01-01T00:00:00+00:00\", \"Origin\": "
                "\"Origin\", \"ExpirationModel\": \"ExpirationModel\", \"KeyManager\": \"KeyManager\", "
                "\"CustomerMasterKeySpec\": \"CustomerMasterKeySpec\", \"KeySpec\": \"KeySpec\", "
                "\"MultiRegion\": true, \"MacAlgorithms\": [\"MacAlgorithmSpec\"], "
                "\"CurrentKeyMaterialId\": \"CurrentKeyMaterialId\", \"Owner\": \"Owner\", \"OwnerUid\": 0, "
                "\"MacVerifyWindowInDays\": 0}}";
        static const struct {
                const char *verb;
                const char *json;
        } table[] = {
                { "create-key", key_metadata },
                { "describe-key", key_metadata },
                { "generate-mac",
                  "{\"Mac\": null, \"MacAlgorithm\": \"MacAlgorithm\", \"KeyId\": \"KeyId\"}" },
                { "verify-mac",
                  "{\"KeyId\": \"KeyId\", \"MacValid\": true, \"MacAlgorithm\": \"MacAlgorithm\"}" },
                { "generate-mac-batch",
                  "{\"KeyId\": \"KeyId\", \"MacAlgorithm\": \"MacAlgorithm\", \"Macs\": [null]}" },
                { "verify-mac-batch",
                  "{\"KeyId\": \"KeyId\", \"MacAlgorithm\": \"MacAlgorithm\", \"MacsValid\": [true]}" },
                { "rotate-key-on-demand", "{\"KeyId\": \"KeyId\", \"KeyMaterialId\": \"KeyMaterialId\"}" },
                { "get-key-rotation-status",
                  "{\"KeyRotationEnabled\": true, \"KeyId\": \"KeyId\", \"RotationPeriodInDays\": 0, "
                  "\"NextRotationDate\": \"1970-01-01T00:00:00+00:00\", \"OnDemandRotationStartDate\": "
                  "\"1970-01-01T00:00:00+00:00\"}" },
                { "list-key-rotations",
                  "{\"Rotations\": [{\"KeyId\": \"KeyId\", \"KeyMaterialId\": \"KeyMaterialId\", "
                  "\"KeyMaterialState\": \"KeyMaterialState\", "
                  "\"RotationDate\": \"1970-01-01T00:00:00+00:00\", \"RotationType\": \"RotationType\", "
                  "\"VerifyUntil\": \"1970-01-01T00:00:00+00:00\"}], "
                  "\"NextMarker\": \"NextMarker\", \"Truncated\": true}" },
                { "list-keys", "{\"Keys\": [{\"KeyId\": \"KeyId\", \"KeyArn\": \"KeyArn\"}], "
                               "\"NextMarker\": \"NextMarker\", "
                               "\"Truncated\": true}" },
                { "list-aliases",
                  "{\"Aliases\": [{\"AliasName\": \"AliasName\", \"AliasArn\": \"AliasArn\", "
                  "\"TargetKeyId\": "
                  "\"TargetKeyId\", \"CreationDate\": \"1970-01-01T00:00:00+00:00\", \"LastUpdatedDate\": "
                  "\"1970-01-01T00:00:00+00:00\"}], \"NextMarker\": \"NextMarker\", \"Truncated\": true}" },
                { "list-resource-tags",
                  "{\"Tags\": [{\"TagKey\": \"TagKey\", \"TagValue\": \"TagValue\"}], \"NextMarker\": "
                  "\"NextMarker\", \"Truncated\": true}" },
                { "schedule-key-deletion",
                  "{\"KeyId\": \"KeyId\", \"DeletionDate\": \"1970-01-01T00:00:00+00:00\", \"KeyState\": "
                  "\"KeyState\", \"PendingWindowInDays\": 0}" },
                { "cancel-key-deletion", "{\"KeyId\": \"KeyId\"}" },
                { "get-parameters-for-import", "{\"KeyId\": \"KeyId\", \"ImportToken\": null, "
                                               "\"PublicKey\": null, \"ParametersValidTo\": "
                                               "\"1970-01-01T00:00:00+00:00\"}" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].verb, v->name))
                        return table[i].json;
        return NULL;
}

static int print_skeleton(Context *c) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        const char *text;
        int r;

        switch (c->skeleton) {
        case SKELETON_INPUT:
                v = skeleton_input(c->verb);
                r = json_print(stdout, v);
                break;
        case SKELETON_YAML_INPUT:
                skeleton_yaml(stdout, c->verb);
                r = 0;
                break;
        case SKELETON_OUTPUT:
                text = skeleton_output(c->verb);
                if (!text)
                        return 0;
                r = json_parse(text, strlen(text), 0, &v, NULL);
                if (r < 0)
                        return report_error(c, c->verb->operation, r, NULL);
                return print_result(c, v);
        default:
                r = -EINVAL;
        }
        if (r < 0)
                return report_error(c, c->verb->operation, r, NULL);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EXIT_OTHER;
}

/* ---- the command line ---- */

/* Returns 1 to go on and run the subcommand, 0 when help was printed, or a negative errno after saying
 * what is wrong (-EINVAL for a bad command line). Values are only converted (files read, base64
 * decoded) once the command line as a whole is known to be good, and not at all for --help. */
static int parse_argv(Context *c, int argc, char *argv[]) {
        _cleanup_free_ const char **values = NULL, **unknown = NULL, **missing = NULL;
        _cleanup_free_ ParamId *ids = NULL;
        _cleanup_free_ char *list = NULL;
        size_t n_values = 0, n_unknown = 0, n_missing = 0;
        bool help = false, kms = false;
        int r;

        values = calloc(argc, sizeof *values);
        unknown = calloc(argc, sizeof *unknown);
        missing = calloc(ELEMENTSOF(verbs[0].params), sizeof *missing);
        ids = calloc(argc, sizeof *ids);
        if (!values || !unknown || !missing || !ids)
                return -ENOMEM;

        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i], *name, *eq;
                size_t len, n_before = n_values;
                const Param *p;
                ParamId id;

                if (streq(arg, "--help") || streq(arg, "-h")) {
                        help = true;
                        continue;
                }

                if (strncmp(arg, "--", 2) != 0) {
                        const Verb *v;

                        if (streq(arg, "help"))
                                help = true;
                        else if (c->verb)
                                unknown[n_unknown++] = arg;
                        else if (streq(arg, "kms") && !kms) {
                                kms = true; /* `hmacctl kms generate-mac ...`, as `aws kms ...` */
                                continue;
                        }
                        else if ((v = verb_find(arg)))
                                c->verb = v;
                        else if (!help) {
                                const char *names[ELEMENTSOF(verbs)];

                                for (size_t j = 0; j < ELEMENTSOF(verbs); j++)
                                        names[j] = verbs[j].name;
                                list = join(names, ELEMENTSOF(verbs), "");
                                return usage_error(NULL, "argument subcommand: Invalid choice '%s', "
                                                         "valid choices are:\n\n%s", arg, strempty(list));
                        }
                        continue;
                }

                r = parse_global_option(c, argc, argv, &i);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;

                if (c->verb) {
                        r = parse_command_option(c, argc, argv, &i);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue;
                }

                name = arg + 2;
                eq = strchr(name, '=');
                len = eq ? (size_t) (eq - name) : strlen(name);
                id = param_find(c->verb, name, len);
                if (id < 0) {
                        unknown[n_unknown++] = arg;
                        continue;
                }
                p = &params[id];

                /* As argparse: the value follows, or is glued on with '='; a list takes every
                 * following argument up to the next option. */
                if (eq) {
                        ids[n_values] = id;
                        values[n_values++] = eq + 1;
                }
                if (p->kind == PARAM_TAG_LIST || p->kind == PARAM_STRING_LIST)
                        while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                                ids[n_values] = id;
                                values[n_values++] = argv[++i];
                        }
                else if (!eq && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                        ids[n_values] = id;
                        values[n_values++] = argv[++i];
                }
                if (n_values == n_before && !help)
                        return usage_error(c->verb, "argument --%s: expected %s argument", p->name,
                                           p->kind == PARAM_TAG_LIST || p->kind == PARAM_STRING_LIST ?
                                                   "at least one" : "one");
        }

        if (help) {
                if (c->verb)
                        help_verb(c->verb);
                else
                        help_global();
                return 0;
        }

        if (n_unknown > 0) {
                list = join(unknown, n_unknown, "");
                return list ? usage_error(c->verb, "Unknown options: %s", list) : -ENOMEM;
        }

        if (!c->verb)
                return usage_error(NULL, "the following arguments are required: subcommand");

        for (size_t i = 0; i < n_values; i++)
                c->from_command_line[ids[i]] = true;

        /* Pagination as the aws CLI decides it: --limit or --marker (the request's own members) mean
         * one page as the service returns it; so does --no-paginate, which the paging options of the
         * aws CLI cannot go with. */
        if (verb_is_paginated(c->verb)) {
                static const ParamId paging[] = { PARAM_STARTING_TOKEN, PARAM_PAGE_SIZE, PARAM_MAX_ITEMS };
                const char *used[ELEMENTSOF(paging)];
                size_t n_used = 0;

                for (size_t j = 0; j < ELEMENTSOF(paging); j++)
                        if (c->from_command_line[paging[j]])
                                used[n_used++] = params[paging[j]].name;
                if (n_used > 0 && (c->no_paginate || c->from_command_line[verb_limit(c->verb)] ||
                                   c->from_command_line[PARAM_MARKER])) {
                        list = join(used, n_used, "--");
                        fprintf(stderr,
                                "\nCannot specify --no-paginate along with pagination arguments: %s\n",
                                strempty(list));
                        return -EINVAL;
                }
        }

        if (c->skeleton == SKELETON_INPUT || c->skeleton == SKELETON_YAML_INPUT)
                return 1;

        /* With --cli-input-json the required members may come from there; they are checked after it
         * is read, as botocore does. */
        for (size_t i = 0; !c->cli_input && i < ELEMENTSOF(c->verb->params) && c->verb->params[i].id > 0;
             i++)
                if (c->verb->params[i].required && !c->from_command_line[c->verb->params[i].id])
                        missing[n_missing++] = params[c->verb->params[i].id].name;
        if (n_missing > 0) {
                list = join(missing, n_missing, "--");
                if (!list)
                        return -ENOMEM;
                return usage_error(c->verb, "the following arguments are required: %s", list);
        }

        for (size_t i = 0; i < n_values; i++) {
                r = param_convert(c, ids[i], values[i], true);
                if (r < 0)
                        return r;
        }

        if (c->cli_input) {
                r = load_cli_input(c);
                if (r < 0)
                        return r;

                for (size_t i = 0; i < ELEMENTSOF(c->verb->params) && c->verb->params[i].id > 0; i++)
                        if (c->verb->params[i].required && !c->set[c->verb->params[i].id])
                                missing[n_missing++] = params[c->verb->params[i].id].member;
                if (n_missing > 0) {
                        fprintf(stderr, "\nParameter validation failed:\n");
                        for (size_t i = 0; i < n_missing; i++)
                                fprintf(stderr, "Missing required parameter in input: \"%s\"\n", missing[i]);
                        return -EINVAL;
                }
        }

        return 1;
}

/* The address of the bus we are about to connect to, as sd-bus picks it, for messages. For --user
 * without a session bus, -ENOMEDIUM. */
static int bus_address(const Context *c, char **ret) {
        const char *e, *runtime;
        char *a;

        if (c->bus_type == HMACD_BUS_SYSTEM) {
                e = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS");
                a = strdup(!isempty(e) ? e : "unix:path=/run/dbus/system_bus_socket");
        } else {
                e = secure_getenv("DBUS_SESSION_BUS_ADDRESS");
                runtime = secure_getenv("XDG_RUNTIME_DIR");
                if (!isempty(e))
                        a = strdup(e);
                else if (isempty(runtime))
                        return -ENOMEDIUM;
                else if (asprintf(&a, "unix:path=%s/bus", runtime) < 0)
                        a = NULL;
                else if (access(a + strlen("unix:path="), F_OK) < 0) {
                        free(a);
                        return -ENOMEDIUM;
                }
        }
        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

static void on_sigint(int sig) {
        /* As the aws CLI on Ctrl-C: a newline, and 130. */
        (void) !write(STDOUT_FILENO, "\n", 1);
        _exit(EXIT_INTERRUPTED);
}

/* A value of /etc/os-release (ID, VERSION_ID), unquoted, into buf; "" when there is none. */
static void os_release_value(const char *key, char *buf, size_t size) {
        FILE *f = fopen("/etc/os-release", "re");
        char line[256];
        size_t n = strlen(key);

        buf[0] = 0;
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, key, n) == 0 && line[n] == '=') {
                        snprintf(buf, size, "%s", line + n + 1 + (line[n + 1] == '"'));
                        buf[strcspn(buf, "\"\n")] = 0;
                        break;
                }
        if (f)
                fclose(f);
}

/* As `aws --version` prints itself: "aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12
 * prompt/off". */
static void print_version(void) {
        char id[64], version_id[64];
        struct utsname u = {};

        (void) uname(&u);
        os_release_value("ID", id, sizeof id);
        os_release_value("VERSION_ID", version_id, sizeof version_id);
        printf("hmacctl/%s libhmacd/%s %s/%s source/%s%s%s%s%s prompt/off\n", HMACD_VERSION, HMACD_VERSION,
               u.sysname, u.release, u.machine, *id ? "." : "", id, *version_id ? "." : "", version_id);
}

int main(int argc, char *argv[]) {
        _cleanup_(context_done) Context c = {
                .output = OUTPUT_FORMAT_JSON,
                .color = OUTPUT_COLOR_AUTO,
                .bus_type = HMACD_BUS_SYSTEM,
                .ask_password = true,
        };
        int r;

        (void) signal(SIGINT, on_sigint);

        /* --version wins over everything else, as argparse's version action. */
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--version")) {
                        print_version();
                        return fflush(stdout) == 0 ? 0 : EXIT_OTHER;
                }

        r = parse_argv(&c, argc, argv);
        if (r == -EINVAL)
                return EXIT_USAGE;
        if (r == -EBADMSG)
                return EXIT_OTHER;
        if (r < 0) {
                fprintf(stderr, "\n%s\n", strerror(-r));
                return EXIT_OTHER;
        }
        if (r == 0)
                return fflush(stdout) == 0 ? 0 : EXIT_OTHER;

        if (c.set[PARAM_GRANT_TOKENS])
                log_debug(
                        &c,
                        "GrantTokens are accepted for the aws CLI's sake and ignored: hmacd has no grants, "
                        "polkit decides");
        for (size_t i = 0; i < c.n_ignored; i++)
                log_debug(&c,
                          "%s is accepted for the aws CLI's sake and ignored: hmacd is a local service on "
                          "D-Bus, without regions, profiles, endpoints, TLS or a pager",
                          c.ignored[i]);
        if (c.query) {
                r = query_check(&c);
                if (r < 0)
                        return r == -EINVAL ? EXIT_USAGE : EXIT_OTHER;
        }

        if (c.skeleton != SKELETON_NONE)
                return print_skeleton(&c);

        if (c.verb->prepare) {
                r = c.verb->prepare(&c);
                if (r != 0)
                        return r;
        }

        r = bus_address(&c, &c.bus_address);
        if (r == -ENOMEDIUM) {
                fprintf(stderr,
                        "\n--user: there is no session bus to find hmacd on: DBUS_SESSION_BUS_ADDRESS is "
                        "not set and $XDG_RUNTIME_DIR/bus does not exist%s. Log in to a session (or "
                        "start hmacd --user in one), or use the service on the system bus: leave "
                        "out --user.\n",
                        secure_getenv("XDG_RUNTIME_DIR") ? "" : " (XDG_RUNTIME_DIR is not set either)");
                return EXIT_CONFIGURATION;
        }
        if (r < 0)
                return report_error(&c, c.verb->operation, r, NULL);
        log_debug(&c, "Connecting to the %s at %s", bus_name(&c), c.bus_address);

        r = hmacd_open(c.bus_type, &c.hmacd);
        if (r < 0) {
                if (r == -ENOMEM)
                        return report_error(&c, c.verb->operation, r, NULL);
                print_unreachable(&c, strerror(-r));
                return EXIT_OTHER;
        }
        hmacd_set_allow_interactive_authorization(c.hmacd, c.ask_password);

        return c.verb->run(&c);
}
