/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The output formats of AWS CLI v2 (--output json|text|table|yaml|yaml-stream,
 * --color on|off|auto), printed byte
 * for byte as awscli 2.9.19's formatters print a response or a --query result (awscli/formatter.py,
 * text.py, table.py; YAML as ruamel.yaml's safe dumper over libyaml's emitter prints it). */
#pragma once

#include <errno.h>
#include <stdio.h>

#include "json.h"

typedef enum OutputFormat {
        OUTPUT_FORMAT_JSON,
        OUTPUT_FORMAT_TEXT,
        OUTPUT_FORMAT_TABLE,
        OUTPUT_FORMAT_YAML,
        OUTPUT_FORMAT_YAML_STREAM, /* each page as a list of one; without pagination, one list */
        _OUTPUT_FORMAT_MAX,
        _OUTPUT_FORMAT_INVALID = -EINVAL,
} OutputFormat;

typedef enum OutputColor {
        OUTPUT_COLOR_AUTO, /* on when the stream is a terminal, as aws's default */
        OUTPUT_COLOR_ON,
        OUTPUT_COLOR_OFF,
        _OUTPUT_COLOR_MAX,
        _OUTPUT_COLOR_INVALID = -EINVAL,
} OutputColor;

const char *output_format_to_string(OutputFormat f);
OutputFormat output_format_from_string(const char *s);
const char *output_color_to_string(OutputColor c);
OutputColor output_color_from_string(const char *s);

typedef struct OutputOptions {
        OutputFormat format;
        OutputColor color; /* table only: colours rows and borders, as aws does */
        const char *title; /* table only: the title row, the operation's name ("DescribeKey") */
        unsigned width;    /* table only: the terminal's width; 0 asks the stream's terminal, 80 if none */
} OutputOptions;

/* Prints v (a response or a --query result; NULL counts as JSON null) as aws prints it. Nothing is
 * written when it fails: -EINVAL where aws's own formatter fails on the data (a table of rows of
 * different lengths, text of a list mixing objects and other values), -ENOMEM, -EIO. */
int output_print(FILE *f, const JsonValue *v, const OutputOptions *options);

/* The formats one by one, into a string. */
int output_format(const JsonValue *v, const OutputOptions *options, char **ret);
