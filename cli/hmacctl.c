/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl: the command-line client of hmacd, shaped like `aws kms`: the same subcommand and option
 * names, JSON or tab-separated text output like the aws CLI's, the same error lines and exit codes.
 * Each subcommand is one row of the verbs[] table (its AWS operation name, its parameters, which of
 * them are required) and one verb_*() function that makes the calls and builds the output. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-bus-protocol.h>
#include <unistd.h>

#include "hmacd.h"
#include "ident.h"
#include "json.h"
#include "kms.h"
#include "macro.h"
#include "util.h"

/* Exit codes as the aws CLI (v2) uses them. */
#define EXIT_USAGE 252          /* bad command line */
#define EXIT_UNREACHABLE 253    /* the service (or the bus) cannot be reached */
#define EXIT_SERVICE 254        /* the service answered with an error */
#define EXIT_OTHER 255          /* anything else */

DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdKeyMetadata *, hmacd_key_metadata_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdKeyList *, hmacd_key_list_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdAliasList *, hmacd_alias_list_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(HmacdTagList *, hmacd_tag_list_free);

typedef enum OutputFormat {
        OUTPUT_JSON,
        OUTPUT_TEXT,
} OutputFormat;

typedef enum ParamKind {
        PARAM_STRING,           /* one string */
        PARAM_TEXT_BLOB,        /* bytes: the text itself, or fileb://PATH (file://PATH) for a file's */
        PARAM_BASE64_BLOB,      /* bytes: base64, or fileb://PATH for a file's raw bytes */
        PARAM_TAG_LIST,         /* one or more TagKey=K,TagValue=V, after one or several --tags */
        PARAM_STRING_LIST,      /* one or more strings (each at least 'min' long), after one or several */
        PARAM_UINT32,           /* a number, at least 'min' */
        PARAM_TIMESTAMP,        /* ISO 8601 or seconds since the epoch, as the aws CLI takes timestamps */
        PARAM_FILE,             /* bytes: only fileb://PATH (or file://PATH), at most 'max' of them */
        PARAM_CHOICE,           /* one of 'choices' (hmacctl's own options; the service checks AWS enums) */
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
        PARAM_STARTING_TOKEN,
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
} Param;

/* import-key reads the secret itself: far more than the 128 bytes of the largest key material is a
 * wrong file, not a key. */
#define KEY_MATERIAL_FILE_MAX 1024u

/* generate-mac-batch: the most messages of the most bytes each, with a 4-byte length before each (or
 * a newline after). */
#define MESSAGES_FILE_MAX ((size_t) KMS_BATCH_MAX * (KMS_MESSAGE_MAX + 4))

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
                             "HMAC_224, HMAC_256, HMAC_384 or HMAC_512" },
        [PARAM_KEY_USAGE] = { "key-usage", "KeyUsage", PARAM_STRING, 0, "USAGE",
                              "GENERATE_VERIFY_MAC (required by the service for HMAC keys)" },
        [PARAM_DESCRIPTION] = { "description", "Description", PARAM_STRING, 0, "TEXT",
                                "Free text, up to 8192 characters" },
        [PARAM_TAGS] = { "tags", "Tags", PARAM_TAG_LIST, 0, "TagKey=K,TagValue=V ...",
                         "Tags for the key; several may follow one --tags, and --tags may repeat" },
        [PARAM_ORIGIN] = { "origin", "Origin", PARAM_STRING, 0, "ORIGIN",
                           "HMACD (the default) or EXTERNAL (key material imported later)" },
        [PARAM_MESSAGE] = { "message", "Message", PARAM_TEXT_BLOB, 0, "TEXT",
                            "The message, 1 to 4096 bytes: text, or fileb://PATH for a file's bytes "
                            "(fileb://- reads standard input)" },
        [PARAM_MAC_ALGORITHM] = { "mac-algorithm", "MacAlgorithm", PARAM_STRING, 0, "ALGORITHM",
                                  "HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384 or HMAC_SHA_512, matching the "
                                  "key spec" },
        [PARAM_MAC] = { "mac", "Mac", PARAM_BASE64_BLOB, 0, "BASE64",
                        "The MAC to verify: base64, or fileb://PATH for raw bytes" },
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
        [PARAM_STARTING_TOKEN] = { "starting-token", "Marker", PARAM_STRING, 0, "TOKEN",
                                   "Continue where a NextToken of an earlier call left off" },
        [PARAM_WRAPPING_ALGORITHM] = { "wrapping-algorithm", "WrappingAlgorithm", PARAM_STRING, 0,
                                       "ALGORITHM",
                                       "RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1: RSA OAEP with that hash for "
                                       "OAEP and MGF1" },
        [PARAM_WRAPPING_KEY_SPEC] = { "wrapping-key-spec", "WrappingKeySpec", PARAM_STRING, 0, "SPEC",
                                      "RSA_2048, RSA_3072 or RSA_4096" },
        [PARAM_IMPORT_KEY_SPEC] = { "wrapping-key-spec", "WrappingKeySpec", PARAM_STRING, 0, "SPEC",
                                    "The wrapping key to ask for: RSA_2048 (the default), RSA_3072 or "
                                    "RSA_4096" },
        [PARAM_IMPORT_TOKEN] = { "import-token", "ImportToken", PARAM_BASE64_BLOB, 0, "TOKEN",
                                 "The ImportToken of get-parameters-for-import: base64, or fileb://PATH "
                                 "for raw bytes" },
        [PARAM_ENCRYPTED_KEY_MATERIAL] = { "encrypted-key-material", "EncryptedKeyMaterial",
                                           PARAM_BASE64_BLOB, 0, "BLOB",
                                           "The key material encrypted to the PublicKey: base64, or "
                                           "fileb://PATH for raw bytes" },
        [PARAM_EXPIRATION_MODEL] = { "expiration-model", "ExpirationModel", PARAM_STRING, 0, "MODEL",
                                     "KEY_MATERIAL_EXPIRES (the default, which needs --valid-to) or "
                                     "KEY_MATERIAL_DOES_NOT_EXPIRE" },
        [PARAM_IMPORT_EXPIRATION_MODEL] = { "expiration-model", "ExpirationModel", PARAM_STRING, 0, "MODEL",
                                            "KEY_MATERIAL_EXPIRES (the default with --valid-to) or "
                                            "KEY_MATERIAL_DOES_NOT_EXPIRE (the default without it)" },
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
                                   0, message_formats },
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
} VerbParam;

typedef struct Verb {
        const char *name;
        const char *operation;  /* the AWS operation, as error messages name it */
        int (*run)(Context *c);
        const char *summary;
        VerbParam params[8];
        const char *notes;      /* more for --help, or NULL */
} Verb;

struct Context {
        const Verb *verb;
        OutputFormat output;
        HmacdBusType bus_type;
        bool ask_password;
        Hmacd *hmacd;

        /* The parameters, converted, by ParamId. */
        bool set[_PARAM_MAX];
        char *string[_PARAM_MAX];
        Buffer blob[_PARAM_MAX];
        uint32_t number[_PARAM_MAX];
        uint64_t usec[_PARAM_MAX];
        char **list[_PARAM_MAX];
        size_t n_list[_PARAM_MAX];
        Tag *tags;
        size_t n_tags;
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
        hmacd_close(c->hmacd);
}

static bool isempty(const char *s) {
        return !s || !*s;
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

/* Prints a failed call the way the aws CLI prints a failed request, and returns the exit code. */
static int report_error(const Context *c, const char *operation, int r, const HmacdError *e) {
        const char *exception;

        if (e && e->name) {
                if (!e->service && error_is_unreachable(e->name)) {
                        fprintf(stderr, "Could not connect to the hmacd service (%s) on the %s: %s\n",
                                HMACD_BUS_NAME, bus_name(c), isempty(e->message) ? e->name : e->message);
                        return EXIT_UNREACHABLE;
                }

                exception = e->name;
                if (!e->service && (streq(e->name, SD_BUS_ERROR_ACCESS_DENIED) ||
                                    streq(e->name, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)))
                        exception = "AccessDeniedException";

                fprintf(stderr, "\nAn error occurred (%s) when calling the %s operation: %s\n", exception,
                        operation, strempty(e->message));
                return EXIT_SERVICE;
        }

        if (errno_is_unreachable(r)) {
                fprintf(stderr, "Could not connect to the hmacd service (%s) on the %s: %s\n",
                        HMACD_BUS_NAME, bus_name(c), strerror(-r));
                return EXIT_UNREACHABLE;
        }

        fprintf(stderr, "hmacctl: %s failed: %s\n", operation, strerror(-r));
        return EXIT_OTHER;
}

static int print_result(const Context *c, JsonValue *v) {
        int r;

        r = c->output == OUTPUT_TEXT ? json_print_text(stdout, v) : json_print(stdout, v);
        if (r < 0) {
                fprintf(stderr, "hmacctl: Failed to format the output: %s\n", strerror(-r));
                return EXIT_OTHER;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "hmacctl: Failed to write the output: %m\n");
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
        if (m->owner) {
                json_add(o, "Owner", json_string(m->owner));
                json_add(o, "OwnerUid", json_unsigned(m->owner_uid));
        }
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
        r = hmacd_describe_key(c->hmacd, key_id, &m, NULL);
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

        r = hmacd_create_key(c->hmacd, c->string[PARAM_KEY_SPEC], c->string[PARAM_KEY_USAGE],
                             c->string[PARAM_DESCRIPTION], tags, c->n_tags, c->string[PARAM_ORIGIN], &m, &e);
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        return print_key_metadata(c, m);
}

static int verb_describe_key(Context *c) {
        _cleanup_(hmacd_key_metadata_freep) HmacdKeyMetadata *m = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = hmacd_describe_key(c->hmacd, c->string[PARAM_KEY_ID], &m, &e);
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

        r = hmacd_generate_mac(c->hmacd, c->string[PARAM_KEY_ID], c->blob[PARAM_MESSAGE].data,
                               c->blob[PARAM_MESSAGE].size, c->string[PARAM_MAC_ALGORITHM], mac, &mac_size, &arn,
                               &e);
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

        r = hmacd_verify_mac(c->hmacd, c->string[PARAM_KEY_ID], c->blob[PARAM_MESSAGE].data,
                             c->blob[PARAM_MESSAGE].size, c->string[PARAM_MAC_ALGORITHM],
                             c->blob[PARAM_MAC].data, c->blob[PARAM_MAC].size, &arn, &e);
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

/* The list subcommands, all three alike: with --limit, one page and a NextToken when there is more (the
 * service's marker, passed through), to be given back with --starting-token; without it, every page
 * from the --starting-token on, as the aws CLI paginates by default. The service's Truncated and
 * NextMarker are not printed, as the aws CLI does not print them for a paginated operation. */
static int list_pages(Context *c, const char *result_key, ParamId limit_id, ListPageFunction page) {
        _cleanup_(json_value_freep) JsonValue *root = json_object(), *items = json_array();
        _cleanup_free_ char *marker = NULL, *next_token = NULL;
        uint32_t limit = c->set[limit_id] ? c->number[limit_id] : 0;
        int r;

        if (!root || !items)
                return report_error(c, c->verb->operation, -ENOMEM, NULL);
        if (c->string[PARAM_STARTING_TOKEN]) {
                marker = strdup(c->string[PARAM_STARTING_TOKEN]);
                if (!marker)
                        return report_error(c, c->verb->operation, -ENOMEM, NULL);
        }

        for (;;) {
                _cleanup_(hmacd_error_clear) HmacdError e = {};
                _cleanup_free_ char *next = NULL;
                bool truncated = false;

                r = page(c, limit, marker, items, &next, &truncated, &e);
                if (r < 0)
                        return report_error(c, c->verb->operation, r, &e);

                if (!truncated)
                        break;

                if (c->set[limit_id]) {
                        next_token = TAKE_PTR(next);
                        break;
                }

                /* A marker that does not move on would have us loop for ever. */
                if (isempty(next) || (marker && streq(marker, next))) {
                        fprintf(stderr, "hmacctl: %s returned a truncated page without a new marker\n",
                                c->verb->operation);
                        return EXIT_OTHER;
                }
                free(marker);
                marker = TAKE_PTR(next);
        }

        json_add(root, result_key, TAKE_PTR(items));
        if (next_token)
                json_add(root, "NextToken", json_string(next_token));
        return print_result(c, root);
}

static int page_keys(Context *c, uint32_t limit, const char *marker, JsonValue *items,
                     char **ret_next_marker, bool *ret_truncated, HmacdError *e) {
        _cleanup_(hmacd_key_list_freep) HmacdKeyList *l = NULL;
        int r;

        r = hmacd_list_keys(c->hmacd, limit, marker, &l, e);
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

        r = hmacd_list_aliases(c->hmacd, c->string[PARAM_FILTER_KEY_ID], limit, marker, &l, e);
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

        r = hmacd_list_resource_tags(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], limit, marker, &l, e);
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

        r = hmacd_enable_key(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e);
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_disable_key(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = hmacd_disable_key(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e);
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
        r = hmacd_schedule_key_deletion(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                        c->set[PARAM_PENDING_WINDOW_IN_DAYS] ?
                                                c->number[PARAM_PENDING_WINDOW_IN_DAYS] : 0,
                                        &deletion_date, &days, &e);
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

        r = hmacd_cancel_key_deletion(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e);
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

        r = hmacd_update_key_description(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                         c->string[PARAM_DESCRIPTION], &e);
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_create_alias(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = hmacd_create_alias(c->hmacd, c->string[PARAM_ALIAS_NAME], c->string[PARAM_TARGET_KEY_ID], &e);
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_update_alias(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = hmacd_update_alias(c->hmacd, c->string[PARAM_ALIAS_NAME], c->string[PARAM_TARGET_KEY_ID], &e);
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_delete_alias(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = hmacd_delete_alias(c->hmacd, c->string[PARAM_ALIAS_NAME], &e);
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_tag_resource(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ HmacdTag *tags = NULL;
        int r;

        r = tags_for_call(c, &tags);
        if (r < 0)
                return report_error(c, c->verb->operation, r, NULL);

        r = hmacd_tag_resource(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], tags, c->n_tags, &e);
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_untag_resource(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = hmacd_untag_resource(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                 (const char *const *) c->list[PARAM_TAG_KEYS], c->n_list[PARAM_TAG_KEYS],
                                 &e);
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

        r = hmacd_get_parameters_for_import(c->hmacd, c->string[PARAM_MANAGED_KEY_ID],
                                            c->string[PARAM_WRAPPING_ALGORITHM],
                                            c->string[PARAM_WRAPPING_KEY_SPEC], &token, &token_size,
                                            &public_key, &public_key_size, &valid_to, &e);
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
        r = hmacd_import_key_material(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], token->data, token->size,
                                      encrypted->data, encrypted->size, c->string[PARAM_EXPIRATION_MODEL],
                                      c->set[PARAM_VALID_TO] ? c->usec[PARAM_VALID_TO] : 0, &e);
        return r < 0 ? report_error(c, c->verb->operation, r, &e) : 0;
}

static int verb_delete_imported_key_material(Context *c) {
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        int r;

        r = hmacd_delete_imported_key_material(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], &e);
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

        r = hmacd_get_parameters_for_import(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], "RSAES_OAEP_SHA_256",
                                            c->string[PARAM_IMPORT_KEY_SPEC] ?: "RSA_2048", &token,
                                            &token_size, &public_key, &public_key_size, NULL, &e);
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

        r = hmacd_import_key_material(c->hmacd, c->string[PARAM_MANAGED_KEY_ID], token, token_size, wrapped,
                                      wrapped_size, model,
                                      c->set[PARAM_VALID_TO] ? c->usec[PARAM_VALID_TO] : 0, &e);
        return r < 0 ? report_error(c, "ImportKeyMaterial", r, &e) : 0;
}

static int verb_generate_mac_batch(Context *c) {
        _cleanup_(json_value_freep) JsonValue *root = NULL, *macs = NULL;
        _cleanup_(hmacd_error_clear) HmacdError e = {};
        _cleanup_free_ struct iovec *messages = NULL;
        _cleanup_free_ uint8_t *raw = NULL;
        _cleanup_free_ char *arn = NULL;
        const Buffer *input = &c->blob[PARAM_MESSAGES];
        MessageFormat format = MESSAGE_FORMAT_LINES;
        size_t n = 0, mac_size = 0, offset = 0;
        int r;

        if (c->string[PARAM_MESSAGE_FORMAT])
                format = message_format_from_string(c->string[PARAM_MESSAGE_FORMAT]);

        /* More than the service takes in one call is refused here: it bounds what we hold in memory.
         * Everything else (no message at all, empty or too long ones) is the service's to refuse. */
        r = split_messages(input->data, input->size, format, KMS_BATCH_MAX, &messages, &n, &offset);
        if (r == -EBADMSG) {
                param_error(&params[PARAM_MESSAGES],
                            "the length-prefixed record at byte %zu runs past the end of the input", offset);
                return EXIT_USAGE;
        }
        if (r == -E2BIG) {
                param_error(&params[PARAM_MESSAGES], "more than %u messages; GenerateMacBatch takes at most "
                            "%u in one call", KMS_BATCH_MAX, KMS_BATCH_MAX);
                return EXIT_USAGE;
        }
        if (r < 0)
                return report_error(c, c->verb->operation, r, NULL);

        raw = malloc(MAX(n, (size_t) 1) * HMACD_MAC_SIZE_MAX);
        if (!raw)
                return report_error(c, c->verb->operation, -ENOMEM, NULL);

        r = hmacd_generate_mac_batch(c->hmacd, c->string[PARAM_KEY_ID], messages, n,
                                     c->string[PARAM_MAC_ALGORITHM], raw, &mac_size, &e);
        if (r < 0)
                return report_error(c, c->verb->operation, r, &e);

        /* Text: the MACs alone, one per line, line i for message i, to be piped on; JSON: a list. */
        macs = json_array();
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *mac64 = base64_encode(raw + i * HMACD_MAC_SIZE_MAX, mac_size);

                if (!mac64) {
                        explicit_bzero(raw, n * HMACD_MAC_SIZE_MAX);
                        return report_error(c, c->verb->operation, -ENOMEM, NULL);
                }
                if (c->output == OUTPUT_TEXT)
                        printf("%s\n", mac64);
                else
                        json_add(macs, NULL, json_string(mac64));
                explicit_bzero(mac64, strlen(mac64));
        }
        explicit_bzero(raw, n * HMACD_MAC_SIZE_MAX);

        if (c->output == OUTPUT_TEXT) {
                if (fflush(stdout) != 0 || ferror(stdout)) {
                        fprintf(stderr, "hmacctl: Failed to write the output: %m\n");
                        return EXIT_OTHER;
                }
                return 0;
        }

        arn = resolve_key_arn(c, c->string[PARAM_KEY_ID]);
        root = json_object();
        json_add(root, "KeyId", json_string(arn));
        json_add(root, "MacAlgorithm", json_string(c->string[PARAM_MAC_ALGORITHM]));
        json_add(root, "Macs", TAKE_PTR(macs));
        return print_result(c, root);
}

#define REQ(p) { p, true }
#define OPT(p) { p, false }

static const char paging_notes[] =
        "Paging: without --limit every page is fetched and printed as one list, as the aws CLI does by\n"
        "default; with --limit one page, and a \"NextToken\" (NEXTTOKEN in text output) when there is\n"
        "more, to pass to --starting-token for the next page.";

static const char quiet_notes[] = "On success it prints nothing, as the aws CLI does.";

static const char alias_notes[] =
        "An alias may then stand for its key wherever generate-mac, verify-mac and describe-key take a\n"
        "--key-id. On success it prints nothing, as the aws CLI does.";

static const char list_resource_tags_notes[] =
        "Paging: the same as list-keys and list-aliases, and as the aws CLI v2 itself, whose\n"
        "list-resource-tags is a paginated operation (--starting-token): without --limit every page is\n"
        "fetched and printed as one {\"Tags\": [...]}; with --limit one page, and a \"NextToken\" when\n"
        "there is more, to pass to --starting-token. The service's Truncated and NextMarker are not\n"
        "printed, and there is no --marker.";

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

static const Verb verbs[] = {
        { "create-key", "CreateKey", verb_create_key, "Create an HMAC key",
          { OPT(PARAM_KEY_SPEC), OPT(PARAM_KEY_USAGE), OPT(PARAM_DESCRIPTION), OPT(PARAM_TAGS),
            OPT(PARAM_ORIGIN) } },
        { "generate-mac", "GenerateMac", verb_generate_mac, "Compute the HMAC of a message with a key",
          { REQ(PARAM_KEY_ID), REQ(PARAM_MESSAGE), REQ(PARAM_MAC_ALGORITHM) } },
        { "verify-mac", "VerifyMac", verb_verify_mac, "Verify the HMAC of a message",
          { REQ(PARAM_KEY_ID), REQ(PARAM_MESSAGE), REQ(PARAM_MAC_ALGORITHM), REQ(PARAM_MAC) } },
        { "generate-mac-batch", "GenerateMacBatch", verb_generate_mac_batch,
          "Compute the HMACs of many messages with a key in one call",
          { REQ(PARAM_KEY_ID), REQ(PARAM_MAC_ALGORITHM), REQ(PARAM_MESSAGES), OPT(PARAM_MESSAGE_FORMAT) },
          generate_mac_batch_notes },
        { "describe-key", "DescribeKey", verb_describe_key, "Show the metadata of a key",
          { REQ(PARAM_KEY_ID) } },
        { "list-keys", "ListKeys", verb_list_keys, "List the keys (key ID and key ARN)",
          { OPT(PARAM_LIMIT), OPT(PARAM_STARTING_TOKEN) }, paging_notes },
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
          { OPT(PARAM_FILTER_KEY_ID), OPT(PARAM_ALIAS_LIMIT), OPT(PARAM_STARTING_TOKEN) }, paging_notes },
        { "tag-resource", "TagResource", verb_tag_resource,
          "Add tags to a key, or replace the values of its tags",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_TAGS) }, quiet_notes },
        { "untag-resource", "UntagResource", verb_untag_resource, "Remove tags from a key",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_TAG_KEYS) }, quiet_notes },
        { "list-resource-tags", "ListResourceTags", verb_list_resource_tags,
          "List the tags of a key, by tag key",
          { REQ(PARAM_MANAGED_KEY_ID), OPT(PARAM_TAG_LIMIT), OPT(PARAM_STARTING_TOKEN) },
          list_resource_tags_notes },
        { "get-parameters-for-import", "GetParametersForImport", verb_get_parameters_for_import,
          "Get a wrapping public key and an import token for importing key material",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_WRAPPING_ALGORITHM), REQ(PARAM_WRAPPING_KEY_SPEC) },
          get_parameters_for_import_notes },
        { "import-key-material", "ImportKeyMaterial", verb_import_key_material,
          "Import wrapped key material into a key created with --origin EXTERNAL",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_IMPORT_TOKEN), REQ(PARAM_ENCRYPTED_KEY_MATERIAL),
            OPT(PARAM_EXPIRATION_MODEL), OPT(PARAM_VALID_TO) },
          import_key_material_notes },
        { "delete-imported-key-material", "DeleteImportedKeyMaterial", verb_delete_imported_key_material,
          "Delete imported key material; the key waits for an import again",
          { REQ(PARAM_MANAGED_KEY_ID) }, delete_imported_key_material_notes },
        { "import-key", "GetParametersForImport and ImportKeyMaterial", verb_import_key,
          "Wrap a secret from a file here and import it into an EXTERNAL key",
          { REQ(PARAM_MANAGED_KEY_ID), REQ(PARAM_KEY_MATERIAL), OPT(PARAM_IMPORT_KEY_SPEC),
            OPT(PARAM_IMPORT_EXPIRATION_MODEL), OPT(PARAM_VALID_TO) },
          import_key_notes },
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
        "hmacctl [--system|--user] [--output json|text] [--no-ask-password] <subcommand> [parameters]";

static void print_verb_usage(FILE *f, const Verb *v) {
        fprintf(f, "usage: hmacctl [global options] %s", v->name);
        for (size_t i = 0; i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++) {
                const Param *p = &params[v->params[i].id];

                fprintf(f, v->params[i].required ? " --%s %s" : " [--%s %s]", p->name, p->metavar);
        }
        fputc('\n', f);
}

static void help_verb(const Verb *v) {
        print_verb_usage(stdout, v);
        printf("\n%s (%s).\n\nParameters:\n", v->summary, v->operation);
        for (size_t i = 0; i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++) {
                const Param *p = &params[v->params[i].id];

                printf("  --%s %s%s\n        %s\n", p->name, p->metavar,
                       v->params[i].required ? " (required)" : "", p->help);
        }
        if (v->notes)
                printf("\n%s\n", v->notes);
        printf("\nGlobal options: --system, --user, --output json|text, --no-ask-password "
               "(see hmacctl --help).\n");
}

static void help_global(void) {
        int width = 24;

        printf("usage: %s\n\n"
               "Command-line client of hmacd, the local AWS-KMS-style HMAC key service, with the\n"
               "subcommands, options and output of `aws kms`.\n\n"
               "Subcommands:\n", global_usage);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                width = MAX(width, (int) strlen(verbs[i].name));
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-*s %s\n", width, verbs[i].name, verbs[i].summary);
        printf("\nGlobal options:\n"
               "  --system                 Use the service on the system bus (the default;\n"
               "                           DBUS_SYSTEM_BUS_ADDRESS is honoured)\n"
               "  --user                   Use the service on the session bus (hmacd --user)\n"
               "  --output json|text       Output format (default: json)\n"
               "  --no-ask-password        Do not let polkit ask for a password\n"
               "  --help                   Show this help; hmacctl <subcommand> --help shows its own\n"
               "\nExit status: 0 success, 252 bad command line, 253 the service cannot be reached,\n"
               "254 the service returned an error (an invalid MAC included), 255 any other failure.\n");
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

static int param_convert_blob(const Param *p, const char *value, Buffer *ret) {
        int r;

        if (p->kind == PARAM_BASE64_BLOB && strncmp(value, "fileb://", 8) != 0) {
                r = base64_decode(value, ret);
                if (r == -EINVAL)
                        return param_error(p, "Invalid base64: '%s'", value);
                return r;
        }

        r = param_load_file(p, value, ret);
        if (r != 0)
                return r < 0 ? r : 0;

        /* Text: its bytes, without the terminating NUL. */
        ret->size = strlen(value);
        ret->data = malloc(ret->size + 1);
        if (!ret->data)
                return -ENOMEM;
        memcpy(ret->data, value, ret->size);
        return 0;
}

static int param_convert_tag(Context *c, const Param *p, const char *value) {
        const char *problem = NULL;
        Tag t = {}, *a;
        int r;

        if (value[0] == '[' || value[0] == '{')
                return param_error(p, "JSON is not supported here, use the shorthand TagKey=K,TagValue=V");

        r = parse_tag_shorthand(value, &t.key, &t.value, &problem);
        if (r == -EINVAL)
                return param_error(p, "%s, received: '%s'", problem, value);
        if (r < 0)
                return r;

        a = reallocarray(c->tags, c->n_tags + 1, sizeof *a);
        if (!a) {
                free(t.key);
                free(t.value);
                return -ENOMEM;
        }
        c->tags = a;
        c->tags[c->n_tags++] = t;
        return 0;
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

static int param_convert(Context *c, ParamId id, const char *value) {
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

        case PARAM_TEXT_BLOB:
        case PARAM_BASE64_BLOB: {
                Buffer b = {};

                r = param_convert_blob(p, value, &b);
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
static char *join(const char *const *items, size_t n, const char *prefix) {
        size_t size = 1;
        char *s, *p;

        for (size_t i = 0; i < n; i++)
                size += strlen(prefix) + strlen(items[i]) + 2;
        s = p = malloc(size);
        if (!s)
                return NULL;
        *p = 0;
        for (size_t i = 0; i < n; i++)
                p = stpcpy(stpcpy(stpcpy(p, i > 0 ? ", " : ""), prefix), items[i]);
        return s;
}

/* The global options, valid before and after the subcommand. Returns 1 when arg was one, 0 when it
 * was not, -EINVAL for a bad one. *i moves on when the option took the next argument. */
static int parse_global_option(Context *c, int argc, char *argv[], int *i) {
        const char *name = argv[*i] + 2, *eq = strchr(name, '='), *o;
        size_t len = eq ? (size_t) (eq - name) : strlen(name);

        if (option_is(name, len, "system") || option_is(name, len, "user") ||
            option_is(name, len, "no-ask-password")) {
                if (eq)
                        return usage_error(c->verb, "argument --%.*s: ignored explicit argument '%s'",
                                           (int) len, name, eq + 1);
                if (option_is(name, len, "system"))
                        c->bus_type = HMACD_BUS_SYSTEM;
                else if (option_is(name, len, "user"))
                        c->bus_type = HMACD_BUS_USER;
                else
                        c->ask_password = false;
                return 1;
        }

        if (!option_is(name, len, "output"))
                return 0;

        o = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!o)
                return usage_error(c->verb, "argument --output: expected one argument");
        if (streq(o, "json"))
                c->output = OUTPUT_JSON;
        else if (streq(o, "text"))
                c->output = OUTPUT_TEXT;
        else
                return usage_error(c->verb, "argument --output: Invalid choice '%s', valid choices are:\n\n"
                                            "json | text", o);
        return 1;
}

/* Returns 1 to go on and run the subcommand, 0 when help was printed, or a negative errno after saying
 * what is wrong (-EINVAL for a bad command line). Values are only converted (files read, base64
 * decoded) once the command line as a whole is known to be good, and not at all for --help. */
static int parse_argv(Context *c, int argc, char *argv[]) {
        _cleanup_free_ const char **values = NULL, **unknown = NULL, **missing = NULL;
        _cleanup_free_ ParamId *ids = NULL;
        _cleanup_free_ char *list = NULL;
        size_t n_values = 0, n_unknown = 0, n_missing = 0;
        bool help = false;
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

        for (size_t i = 0; i < ELEMENTSOF(c->verb->params) && c->verb->params[i].id > 0; i++) {
                bool given = false;

                for (size_t j = 0; j < n_values && !given; j++)
                        given = ids[j] == c->verb->params[i].id;
                if (c->verb->params[i].required && !given)
                        missing[n_missing++] = params[c->verb->params[i].id].name;
        }
        if (n_missing > 0) {
                list = join(missing, n_missing, "--");
                if (!list)
                        return -ENOMEM;
                return usage_error(c->verb, "the following arguments are required: %s", list);
        }

        for (size_t i = 0; i < n_values; i++) {
                r = param_convert(c, ids[i], values[i]);
                if (r < 0)
                        return r;
        }

        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(context_done) Context c = {
                .output = OUTPUT_JSON,
                .bus_type = HMACD_BUS_SYSTEM,
                .ask_password = true,
        };
        int r;

        r = parse_argv(&c, argc, argv);
        if (r == -EINVAL)
                return EXIT_USAGE;
        if (r < 0) {
                fprintf(stderr, "hmacctl: %s\n", strerror(-r));
                return EXIT_OTHER;
        }
        if (r == 0)
                return fflush(stdout) == 0 ? 0 : EXIT_OTHER;

        r = hmacd_open(c.bus_type, &c.hmacd);
        if (r < 0) {
                fprintf(stderr, "Could not connect to the %s: %s\n", bus_name(&c), strerror(-r));
                return EXIT_UNREACHABLE;
        }
        hmacd_set_allow_interactive_authorization(c.hmacd, c.ask_password);

        return c.verb->run(&c);
}
