#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes tests/output-golden.h: sample hmacctl results and what awscli's own formatters (Debian 12's
# awscli 2.9.19, /usr/lib/python3/dist-packages/awscli/formatter.py) print for them in each output
# format, for tests/test-output.c to compare cli/output.c with byte for byte.
#   /usr/bin/python3 tests/output-golden.py > tests/output-golden.h   (stdout not a terminal: width 80)
import argparse
import io
import json
import os

import awscli.table
from awscli.formatter import get_formatter

ARN = "arn:aws:kms:local:000000000000:key/"
K1 = "1234abcd-12ab-34cd-56ef-1234567890ab"
K2 = "0987dcba-09fe-87dc-65ba-ab0987654321"
K3 = "11111111-2222-3333-4444-555555555555"
CREATED = "2026-11-22T10:00:00.123000+00:00"

DESCRIBE_KEY = {"KeyMetadata": {
    "KeyId": K1, "Arn": ARN + K1, "CreationDate": CREATED, "Enabled": True,
    "Description": "HMAC key for the build server", "KeyUsage": "GENERATE_VERIFY_MAC",
    "KeyState": "Enabled", "Origin": "AWS_KMS", "KeyManager": "CUSTOMER",
    "CustomerMasterKeySpec": "HMAC_256", "KeySpec": "HMAC_256", "MultiRegion": False,
    "MacAlgorithms": ["HMAC_SHA_256"], "Owner": "alice", "OwnerUid": 1000}}

CASES = [
    ("describe_key", "DescribeKey", DESCRIBE_KEY),
    ("generate_mac", "GenerateMac", {
        "Mac": "tdjXmk6zGp7z0CUEc1uqlFcG3ZbNNc0bxnOEZn/NkwA=", "MacAlgorithm": "HMAC_SHA_256",
        "KeyId": ARN + K1}),
    ("verify_mac", "VerifyMac", {"KeyId": ARN + K1, "MacValid": True, "MacAlgorithm": "HMAC_SHA_384"}),
    ("list_keys", "ListKeys", {"Keys": [
        {"KeyId": K1, "KeyArn": ARN + K1}, {"KeyId": K2, "KeyArn": ARN + K2},
        {"KeyId": K3, "KeyArn": ARN + K3}]}),
    ("list_keys_empty", "ListKeys", {"Keys": []}),
    ("list_aliases", "ListAliases", {"Aliases": [
        {"AliasName": "alias/build", "AliasArn": "arn:aws:kms:local:000000000000:alias/build",
         "TargetKeyId": K1, "CreationDate": CREATED, "LastUpdatedDate": CREATED},
        {"AliasName": "alias/aws/hmac", "AliasArn": "arn:aws:kms:local:000000000000:alias/aws/hmac"}]}),
    ("list_tags", "ListResourceTags", {"Tags": [
        {"TagKey": "team", "TagValue": "build"}, {"TagKey": "cost-center", "TagValue": "42"},
        {"TagKey": "empty", "TagValue": ""}, {"TagKey": "note", "TagValue": "yes: it's #1 - true"}],
        "Truncated": False}),
    ("schedule_deletion", "ScheduleKeyDeletion", {
        "KeyId": ARN + K1, "DeletionDate": "2026-12-22T10:00:00+00:00", "KeyState": "PendingDeletion",
        "PendingWindowInDays": 30}),
    ("mac_batch", "GenerateMacBatch", {"KeyId": ARN + K1, "MacAlgorithm": "HMAC_SHA_256", "Macs": [
        "AAAA", "BBBB", "CCCC"]}),
    # --query results.
    ("query_string", "DescribeKey", K1),
    ("query_number", "DescribeKey", 1000),
    ("query_float", "DescribeKey", 2.5),
    ("query_float_integral", "DescribeKey", [2.0, -0.0, 1e15, 1e16, 3, 0.1]),
    ("query_true", "DescribeKey", True),
    ("query_null", "DescribeKey", None),
    ("query_list", "ListKeys", [K1, K2, K3]),
    ("query_list_of_lists", "ListAliases", [["alias/build", K1], ["alias/aws/hmac", None],
                                            ["alias/x", 3, True]]),
    ("query_object", "DescribeKey", {"Id": K1, "State": "Enabled", "Algorithms": ["HMAC_SHA_256"],
                                     "Enabled": True}),
    ("query_empty_object", "DescribeKey", {}),
    ("query_empty_list", "ListKeys", []),
    ("query_empty_string", "DescribeKey", ""),
    ("query_list_of_objects", "ListKeys", [{"Id": K1, "N": 1}, {"Id": K2, "Extra": "x"}]),
    ("query_mixed_list", "ListKeys", ["a", 1, [2, 3], {"b": "c"}, None, False]),
    ("nested", "DescribeKey", {"A": {"B": {"C": "deep", "D": [1, 2]}, "E": [{"F": "g", "H": {"I": "j"}}]},
                               "Z": "last", "M": [[{"N": 1}], "s"]}),
    # Strings YAML must quote, and wide characters a table must count twice.
    ("yaml_strings", "DescribeKey", {
        "true": "true", "num": "123", "float": "1.5", "null": "null", "tilde": "~", "empty": "",
        "colon": "a: b", "hash": "a #b", "dash": "- x", "star": "*x", "amp": "&x", "quote": "it's",
        "dquote": "say \"hi\"", "lead": " x", "trail": "x ", "tab": "a\tb", "newline": "a\nb",
        "date": "2026-11-22", "stamp": CREATED, "at": "@x", "bang": "!x", "pct": "%x", "bq": "`x",
        "brace": "{x}", "bracket": "[x]", "comma": "a, b", "q": "?x", "pipe": "|", "gt": ">x",
        "yes": "yes", "off": "Off", "hex": "0x1F", "octal": "0o17", "inf": ".inf", "nan": ".NaN",
        "e": "é", "cjk": "鍵の説明", "emoji": "🔑", "ctrl": "a\x01b", "del": "a\x7fb", "bom": "\ufeffx",
        "nel": "a\x85b", "ls": "a\u2028b", "long": "word " * 30 + "end",
        "longword": "x" * 100, "multi": "line one\nline two\n", "crlf": "a\r\nb", "slash": "a/b:c",
        "Key With Space": "v", "k:colon": "v", "": "empty key", "nested": {"": [], "x": {}}}),
    ("wide_table", "DescribeKey", {"Keys": [
        {"KeyId": K1, "KeyArn": ARN + K1, "Description": "a rather long description of this key"},
        {"KeyId": K2, "KeyArn": ARN + K2, "Description": "鍵の説明"}]}),
    ("unicode", "DescribeKey", {"Description": "clé ☃ 鍵", "Note": "ascii"}),
    # Folding of long strings in each YAML style, long and multi-line keys, numbers.
    ("yaml_folding", "DescribeKey", {
        "single": "key: " + "value " * 20 + "end", "double": "tab\t" + "word " * 20 + "end",
        "double_spaces": "\t" + "ab  " * 30, "plain_in_list": ["word " * 25 + "x", "y"],
        "k" * 130: "long key", "multi\nline key": "v", "spaces": "a" + " " * 100 + "b",
        "numbers": [0, -1, 2.5, -0.125, 1e16, 1.5e-7, 123456789012, 18446744073709551615],
        "nested_lists": [[["a"]], [[]], [{}], [{"k": [1, {"x": None}]}]]}),
    ("falsy_values", "DescribeKey", {"Zero": 0, "False": False, "None": None, "Empty": "", "List": [],
                                     "Obj": {}, "One": 1}),
    ("query_zero", "DescribeKey", 0),
    ("query_false", "DescribeKey", False),
    ("query_scalar_list_table", "ListKeys", [1, "two", None, True, 2.5]),
    ("query_lists_same_length", "ListKeys", [["a", 1], ["b", 2], [["nested"], "x"]]),
    ("list_with_object_after_scalar", "ListKeys", ["a", {"b": "c"}]),
    ("list_of_lists_of_dicts", "ListKeys", [[{"A": 1, "B": [1, 2]}, {"A": 2}], [{"C": "x"}]]),
    ("dicts_with_lists", "ListKeys", {"Keys": [
        {"KeyId": K1, "Tags": [{"TagKey": "a", "TagValue": "1"}], "Algorithms": ["X", "Y"]},
        {"KeyId": K2, "Tags": []}, {"KeyId": K3, "Tags": [{"TagKey": "b", "TagValue": "2"}]}]}),
    ("scalar_in_dict_column", "ListKeys", [{"A": 1, "B": "x"}, {"A": [1, "two"], "B": {"k": "it's"}}]),
]

FORMATS = ["json", "text", "table", "yaml", "yaml-stream"]


class Query:
    """Stands for a --query expression whose result is given."""

    def __init__(self, result):
        self.result = result

    def search(self, data):
        return self.result


def render(fmt, title, data, color="off"):
    """What aws prints; None where it fails (the table formatter raises on ragged lists)."""
    # Every sample goes through --query, so that results that are not objects take the path they
    # take in aws (which only ever gets an object from a service).
    args = argparse.Namespace(query=Query(data), color=color)
    out = io.StringIO()
    formatter = get_formatter(fmt, args)
    try:
        formatter(title, {}, out)
    except Exception:
        return None
    return out.getvalue()


def c_string(s):
    if s is None:
        return "NULL"
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif 0x20 <= b < 0x7f and c != "?":
            out.append(c)
        else:
            out.append('""\\x%02x""' % b)
    s = '"' + "".join(out) + '"'
    return s.replace('""""', "").replace('"""', '"')


def main():
    out = []
    print = lambda s="": out.append(s + "\n")  # noqa: E731 (colorama wraps sys.stdout)
    print("/* SPDX-License-Identifier: LGPL-2.1-or-later */")
    print("/* Generated by tests/output-golden.py from awscli 2.9.19's formatters; do not edit. */")
    print("#pragma once")
    print()
    print("typedef struct OutputGolden {")
    print("        const char *name, *title, *data;")
    print("        const char *json, *text, *table, *yaml, *yaml_stream;")
    print("} OutputGolden;")
    print()
    print("static const OutputGolden output_golden[] = {")
    for name, title, data in CASES:
        print("        {")
        print("                .name = %s," % c_string(name))
        print("                .title = %s," % c_string(title))
        print("                .data = %s," % c_string(json.dumps(data, ensure_ascii=False)))
        for fmt in FORMATS:
            print("                .%s = %s," % (fmt.replace("-", "_"), c_string(render(fmt, title, data))))
        print("        },")
    print("};")
    print()
    # The same table with colours, and at other terminal widths.
    print("static const char *const output_golden_table_color = %s;" %
          c_string(render("table", "ListAliases", CASES[5][2], color="on")))
    for width in (40, 400):
        awscli.table.determine_terminal_width = lambda default_width=80, w=width: w
        print("static const char *const output_golden_table_width%d = %s;" %
              (width, c_string(render("table", "DescribeKey", DESCRIBE_KEY))))
    os.write(1, "".join(out).encode("utf-8"))


if __name__ == "__main__":
    main()
