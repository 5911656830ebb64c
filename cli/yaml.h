/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The YAML that --cli-input-yaml takes, read into the JSON values of json.h: block mappings and
 * sequences, plain, single- and double-quoted scalars, literal (|) and folded (>) block scalars,
 * flow collections written as JSON, comments, and tags (!!binary and the like) skipped. Scalars
 * resolve as YAML 1.2's core schema does (null, true/false, numbers, else strings). No anchors,
 * aliases or multiple documents: what `--generate-cli-skeleton yaml-input` prints, and what people
 * write by hand from it. */
#pragma once

#include <stddef.h>

#include "json.h"

/* Returns 0, -EINVAL (not UTF-8, or not YAML this reader takes; *ret_line, if not NULL, says
 * where), -E2BIG (too large or too deep), -ENOMEM. */
int yaml_parse(const char *text, size_t size, JsonValue **ret, unsigned *ret_line);
