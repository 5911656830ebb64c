/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmacctl's command line (cli/hmacctl.c): the input, split at its NUL bytes, is argv[1...] (at most
 * 64 arguments). parse_argv() is static, so this file includes hmacctl.c itself, with its main()
 * renamed and its one file access, read_file_bounded() (fileb://, file://, fileb://-), pointed at a
 * small in-memory file system below: nothing on disk is read, and nothing in cli/ changes for it.
 * hmacctl's own standard output and error (usage, help, error lines) go to /dev/null.
 *
 * parse_argv() must return 1 (go on), 0 (help printed), -EINVAL (usage error, said on stderr) or
 * -EBADMSG (a blob that is not base64, which the aws CLI answers with 255) and never crash or leak;
 * when it says go on, a subcommand was chosen, every parameter it requires was given (but for
 * --generate-cli-skeleton input, which needs none and converts none), every parameter set is one of
 * that subcommand's, and each converted value obeys its parameter's rules (strings and list items at
 * least 'min' long, numbers at least 'min', tags with a key and a value, files no longer than their
 * limit). */
#include <errno.h>
#include <stdio.h>

static FILE *fuzz_report;
#define FUZZ_REPORT fuzz_report
#include "fuzz.h"

/* hmacctl.c, with main() renamed and its reads of files going to fuzz_read_file_bounded(). */
#define main hmacctl_main
#define read_file_bounded fuzz_read_file_bounded
int hmacctl_main(int argc, char *argv[]);
#include "../cli/hmacctl.c"
#undef main
#undef read_file_bounded

/* The in-memory files: "-" (standard input) and a few paths of chosen sizes; every other path does
 * not exist. Their bytes are a repeating pattern. */
static const struct {
        const char *path;
        size_t size;
} files[] = {
        { "-", 41 },      { "/empty", 0 },     { "/msg", 16 },        { "/key32", 32 },
        { "/key64", 64 }, { "/key129", 129 },  { "/4096", 4096 },     { "/4097", 4097 },
        { "/mac", 64 },   { "/batch", 70000 }, { "/big", 20u << 20 },
};

int fuzz_read_file_bounded(const char *path, size_t max, Buffer *ret) {
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                uint8_t *data;

                if (strcmp(files[i].path, path) != 0)
                        continue;
                if (files[i].size > max)
                        return -EFBIG;
                data = malloc(files[i].size + 1);
                if (!data)
                        return -ENOMEM;
                for (size_t j = 0; j < files[i].size; j++)
                        data[j] = j % 61 == 60 ? '\n' : (uint8_t) ('a' + j % 26);
                *ret = (Buffer){ .data = data, .size = files[i].size };
                return 0;
        }
        return -ENOENT;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        FILE *null = fopen("/dev/null", "we");

        if (!null)
                abort();
        fuzz_report = stderr;
        stdout = null;
        stderr = null;
        return 0;
}

static bool verb_has(const Verb *v, ParamId id, bool *ret_required) {
        for (size_t i = 0; i < ELEMENTSOF(v->params) && v->params[i].id > 0; i++)
                if (v->params[i].id == id) {
                        *ret_required = v->params[i].required;
                        return true;
                }
        return false;
}

static void check_context(const Context *c) {
        fuzz_check(c->verb, "no subcommand, and yet parse_argv() says go on");

        for (ParamId id = 1; id < _PARAM_MAX; id++) {
                const Param *p = &params[id];
                bool required = false, has = verb_has(c->verb, id, &required);

                /* --generate-cli-skeleton input or yaml-input prints a skeleton and needs nothing else,
                 * as in aws: nothing is converted then. */
                if (c->skeleton == SKELETON_INPUT || c->skeleton == SKELETON_YAML_INPUT) {
                        fuzz_check(!c->set[id], "%s --generate-cli-skeleton with --%s converted", c->verb->name,
                                   p->name);
                        continue;
                }
                if (required)
                        fuzz_check(c->set[id], "%s without its required --%s", c->verb->name, p->name);
                if (!c->set[id])
                        continue;
                fuzz_check(has, "%s with --%s, which is not one of its options", c->verb->name, p->name);

                switch (p->kind) {
                case PARAM_STRING:
                case PARAM_CHOICE:
                        fuzz_check(c->string[id] && strlen(c->string[id]) >= p->min, "--%s", p->name);
                        break;
                case PARAM_STRING_LIST:
                        fuzz_check(c->n_list[id] > 0, "--%s", p->name);
                        for (size_t i = 0; i < c->n_list[id]; i++)
                                fuzz_check(c->list[id][i] && strlen(c->list[id][i]) >= p->min, "--%s",
                                           p->name);
                        break;
                case PARAM_UINT32:
                        fuzz_check(c->number[id] >= p->min, "--%s %u", p->name, c->number[id]);
                        break;
                case PARAM_TAG_LIST:
                        /* JSON may give none at all ("--tags []"), as the aws CLI takes it. */
                        for (size_t i = 0; i < c->n_tags; i++)
                                fuzz_check(c->tags[i].key && c->tags[i].value, "--%s", p->name);
                        break;
                case PARAM_FILE:
                        fuzz_check(c->blob[id].size <= (p->max > 0 ? p->max : PARAM_FILE_MAX), "--%s",
                                   p->name);
                        break;
                case PARAM_BLOB:
                        fuzz_check(c->blob[id].data || c->blob[id].size == 0, "--%s", p->name);
                        break;
                default:
                        break;
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *copy = fuzz_strndup(data, size), *argv[66] = { (char *) "hmacctl" };
        int argc = 1, r;
        Context c = {
                .output = OUTPUT_FORMAT_JSON,
                .bus_type = HMACD_BUS_SYSTEM,
                .ask_password = true,
        };

        /* Each NUL ends an argument; the bytes after the last one are the last argument. An empty
         * input is no argument at all. */
        for (size_t i = 0; size > 0 && i <= size && argc < 65;) {
                size_t n = strlen(copy + i);
                argv[argc++] = copy + i;
                i += n + 1;
        }
        argv[argc] = NULL;

        r = parse_argv(&c, argc, argv);
        fuzz_check(r == 1 || r == 0 || r == -EINVAL || r == -EBADMSG, "parse_argv() returned %d", r);
        if (r == 1)
                check_context(&c);

        context_done(&c);
        free(copy);
        return 0;
}
