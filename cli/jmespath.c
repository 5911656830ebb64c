/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JMESPath: lexer, Pratt parser (binding powers and grammar as jmespath.py has them), tree interpreter
 * and the built-in functions. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jmespath.h"
#include "kms.h"
#include "macro.h"

#define _fallthrough_ __attribute__((fallthrough))

static bool in_set(int x, const int *set, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (set[i] == x)
                        return true;
        return false;
}
#define IN_SET(x, ...)                                                                                      \
        in_set((x), (const int[]){ __VA_ARGS__ }, sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

/* ---- errors ---- */

const char *jmespath_error_kind_to_string(JmespathErrorKind k) {
        static const char *const table[_JMESPATH_ERROR_KIND_MAX] = {
                [JMESPATH_ERROR_SYNTAX] = "syntax",
                [JMESPATH_ERROR_INVALID_TYPE] = "invalid-type",
                [JMESPATH_ERROR_INVALID_VALUE] = "invalid-value",
                [JMESPATH_ERROR_UNKNOWN_FUNCTION] = "unknown-function",
                [JMESPATH_ERROR_INVALID_ARITY] = "invalid-arity",
                [JMESPATH_ERROR_LIMIT] = "limit-exceeded",
                [JMESPATH_ERROR_SYSTEM] = "system",
        };

        if (k < 0 || k >= _JMESPATH_ERROR_KIND_MAX)
                return NULL;
        return table[k];
}

_printf_(5, 6) static int set_error(JmespathError *e, int r, JmespathErrorKind kind, size_t offset,
                                    const char *format, ...) {
        va_list ap;

        if (!e)
                return r;
        e->kind = kind;
        e->offset = offset;
        va_start(ap, format);
        vsnprintf(e->message, sizeof e->message, format, ap);
        va_end(ap);
        return r;
}

static int oom(JmespathError *e) {
        return set_error(e, -ENOMEM, JMESPATH_ERROR_SYSTEM, 0, "Out of memory");
}

/* ---- lexer ---- */

typedef enum TokenType {
        T_EOF,
        T_UNQUOTED_IDENTIFIER,
        T_QUOTED_IDENTIFIER,
        T_LITERAL,
        T_NUMBER,
        T_DOT,
        T_STAR,
        T_LBRACKET,
        T_RBRACKET,
        T_FILTER,
        T_FLATTEN,
        T_LBRACE,
        T_RBRACE,
        T_LPAREN,
        T_RPAREN,
        T_COMMA,
        T_COLON,
        T_PIPE,
        T_OR,
        T_AND,
        T_NOT,
        T_EXPREF,
        T_CURRENT,
        T_EQ,
        T_NE,
        T_LT,
        T_LTE,
        T_GT,
        T_GTE,
        _T_MAX,
} TokenType;

static const char *const token_names[_T_MAX] = {
        [T_EOF] = "end of expression",
        [T_UNQUOTED_IDENTIFIER] = "identifier",
        [T_QUOTED_IDENTIFIER] = "quoted identifier",
        [T_LITERAL] = "literal",
        [T_NUMBER] = "number",
        [T_DOT] = "'.'",
        [T_STAR] = "'*'",
        [T_LBRACKET] = "'['",
        [T_RBRACKET] = "']'",
        [T_FILTER] = "'[?'",
        [T_FLATTEN] = "'[]'",
        [T_LBRACE] = "'{'",
        [T_RBRACE] = "'}'",
        [T_LPAREN] = "'('",
        [T_RPAREN] = "')'",
        [T_COMMA] = "','",
        [T_COLON] = "':'",
        [T_PIPE] = "'|'",
        [T_OR] = "'||'",
        [T_AND] = "'&&'",
        [T_NOT] = "'!'",
        [T_EXPREF] = "'&'",
        [T_CURRENT] = "'@'",
        [T_EQ] = "'=='",
        [T_NE] = "'!='",
        [T_LT] = "'<'",
        [T_LTE] = "'<='",
        [T_GT] = "'>'",
        [T_GTE] = "'>='",
};

static const unsigned binding_power[_T_MAX] = {
        [T_PIPE] = 1, [T_OR] = 2,   [T_AND] = 3,     [T_EQ] = 5,        [T_NE] = 5,      [T_LT] = 5,
        [T_LTE] = 5,  [T_GT] = 5,   [T_GTE] = 5,     [T_FLATTEN] = 9,   [T_STAR] = 20,   [T_FILTER] = 21,
        [T_DOT] = 40, [T_NOT] = 45, [T_LBRACE] = 50, [T_LBRACKET] = 55, [T_LPAREN] = 60,
};

/* Projections stop at tokens binding less than this. */
#define PROJECTION_STOP 10

typedef struct Token {
        TokenType type;
        size_t offset;
        char *string;     /* identifiers */
        JsonValue *value; /* literals */
        long number;
} Token;

typedef struct Lexer {
        const char *text;
        size_t size, pos;
        Token *tokens;
        size_t n_tokens, allocated;
} Lexer;

static void tokens_free(Token *tokens, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(tokens[i].string);
                json_value_free(tokens[i].value);
        }
        free(tokens);
}

static Token *lexer_push(Lexer *l, TokenType type, size_t offset) {
        if (l->n_tokens >= l->allocated) {
                size_t n = MAX(l->allocated * 2, (size_t) 16);
                Token *t = reallocarray(l->tokens, n, sizeof *t);
                if (!t)
                        return NULL;
                l->tokens = t;
                l->allocated = n;
        }
        l->tokens[l->n_tokens] = (Token){ .type = type, .offset = offset };
        return &l->tokens[l->n_tokens++];
}

/* The end of a lexeme that stops at delimiter, a backslash escaping the next character; or SIZE_MAX. */
static size_t find_delimiter(const Lexer *l, size_t start, char delimiter) {
        for (size_t i = start; i < l->size; i++) {
                if (l->text[i] == '\\') {
                        i++;
                        continue;
                }
                if (l->text[i] == delimiter)
                        return i;
        }
        return SIZE_MAX;
}

/* A copy of text[start, end) with every "\<escaped>" replaced by <escaped>, for ` and '. */
static char *unescape_one(const char *text, size_t start, size_t end, char escaped, size_t *ret_length) {
        char *s = malloc(end - start + 1);
        size_t n = 0;

        if (!s)
                return NULL;
        for (size_t i = start; i < end; i++) {
                if (text[i] == '\\' && i + 1 < end && text[i + 1] == escaped)
                        i++;
                s[n++] = text[i];
        }
        s[n] = 0;
        *ret_length = n;
        return s;
}

static bool is_identifier_start(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static int lex(Lexer *l, JmespathError *e) {
        while (l->pos < l->size) {
                size_t start = l->pos, end, n;
                char c = l->text[l->pos];
                const char *two = l->text + l->pos;
                bool has_next = l->pos + 1 < l->size;
                Token *t;

                if (strchr(" \t\n\r", c) && c != 0) {
                        l->pos++;
                        continue;
                }

#define PUSH(type, length)                                                                                  \
        do {                                                                                                \
                if (!lexer_push(l, (type), start))                                                          \
                        return oom(e);                                                                      \
                l->pos += (length);                                                                         \
        } while (0)

                if (is_identifier_start(c)) {
                        for (end = start + 1;
                             end < l->size && (is_identifier_start(l->text[end]) || is_digit(l->text[end]));
                             end++)
                                ;
                        t = lexer_push(l, T_UNQUOTED_IDENTIFIER, start);
                        if (!t)
                                return oom(e);
                        t->string = strndup(l->text + start, end - start);
                        if (!t->string)
                                return oom(e);
                        l->pos = end;
                        continue;
                }
                if (is_digit(c) || (c == '-' && has_next && is_digit(two[1]))) {
                        char *endp;

                        errno = 0;
                        long v = strtol(l->text + start, &endp, 10);
                        if (errno == ERANGE || v > INT32_MAX || v < INT32_MIN)
                                return set_error(e, -EINVAL, JMESPATH_ERROR_SYNTAX, start,
                                                 "Number out of range at position %zu", start);
                        t = lexer_push(l, T_NUMBER, start);
                        if (!t)
                                return oom(e);
                        t->number = v;
                        l->pos = endp - l->text;
                        continue;
                }

                switch (c) {
                case '.':
                        PUSH(T_DOT, 1);
                        continue;
                case '*':
                        PUSH(T_STAR, 1);
                        continue;
                case ']':
                        PUSH(T_RBRACKET, 1);
                        continue;
                case '{':
                        PUSH(T_LBRACE, 1);
                        continue;
                case '}':
                        PUSH(T_RBRACE, 1);
                        continue;
                case '(':
                        PUSH(T_LPAREN, 1);
                        continue;
                case ')':
                        PUSH(T_RPAREN, 1);
                        continue;
                case ',':
                        PUSH(T_COMMA, 1);
                        continue;
                case ':':
                        PUSH(T_COLON, 1);
                        continue;
                case '@':
                        PUSH(T_CURRENT, 1);
                        continue;
                case '[':
                        if (has_next && two[1] == ']')
                                PUSH(T_FLATTEN, 2);
                        else if (has_next && two[1] == '?')
                                PUSH(T_FILTER, 2);
                        else
                                PUSH(T_LBRACKET, 1);
                        continue;
                case '|':
                        if (has_next && two[1] == '|')
                                PUSH(T_OR, 2);
                        else
                                PUSH(T_PIPE, 1);
                        continue;
                case '&':
                        if (has_next && two[1] == '&')
                                PUSH(T_AND, 2);
                        else
                                PUSH(T_EXPREF, 1);
                        continue;
                case '!':
                        if (has_next && two[1] == '=')
                                PUSH(T_NE, 2);
                        else
                                PUSH(T_NOT, 1);
                        continue;
                case '<':
                        if (has_next && two[1] == '=')
                                PUSH(T_LTE, 2);
                        else
                                PUSH(T_LT, 1);
                        continue;
                case '>':
                        if (has_next && two[1] == '=')
                                PUSH(T_GTE, 2);
                        else
                                PUSH(T_GT, 1);
                        continue;
                case '=':
                        if (has_next && two[1] == '=') {
                                PUSH(T_EQ, 2);
                                continue;
                        }
                        return set_error(e, -EINVAL, JMESPATH_ERROR_SYNTAX, start,
                                         "Unknown token '=' at position %zu, did you mean '=='?", start);
                case '"': {
                        _cleanup_(json_value_freep) JsonValue *v = NULL;

                        end = find_delimiter(l, start + 1, '"');
                        if (end == SIZE_MAX)
                                return set_error(e, -EINVAL, JMESPATH_ERROR_SYNTAX, start,
                                                 "Unterminated quoted identifier at position %zu", start);
                        if (json_parse(l->text + start, end + 1 - start, 1, &v, NULL) < 0 ||
                            json_type(v) != JSON_STRING)
                                return set_error(e, -EINVAL, JMESPATH_ERROR_SYNTAX, start,
                                                 "Invalid quoted identifier at position %zu", start);
                        t = lexer_push(l, T_QUOTED_IDENTIFIER, start);
                        if (!t)
                                return oom(e);
                        t->string = strdup(json_string_value(v));
                        if (!t->string)
                                return oom(e);
                        l->pos = end + 1;
                        continue;
                }
                case '\'': {
                        _cleanup_free_ char *s = NULL;

                        end = find_delimiter(l, start + 1, '\'');
                        if (end == SIZE_MAX)
                                return set_error(e, -EINVAL, JMESPATH_ERROR_SYNTAX, start,
                                                 "Unterminated raw string literal at position %zu", start);
                        s = unescape_one(l->text, start + 1, end, '\'', &n);
                        if (!s)
                                return oom(e);
                        t = lexer_push(l, T_LITERAL, start);
                        if (!t)
                                return oom(e);
                        t->value = json_string_len(s, n);
                        if (!t->value)
                                return oom(e);
                        l->pos = end + 1;
                        continue;
                }
                case '`': {
                        _cleanup_free_ char *s = NULL, *quoted = NULL;
                        const char *p;
                        int r;

                        end = find_delimiter(l, start + 1, '`');
                        if (end == SIZE_MAX)
                                return set_error(e, -EINVAL, JMESPATH_ERROR_SYNTAX, start,
                                                 "Unterminated JSON literal at position %zu", start);
                        s = unescape_one(l->text, start + 1, end, '`', &n);
                        if (!s)
                                return oom(e);
                        t = lexer_push(l, T_LITERAL, start);
                        if (!t)
                                return oom(e);
                        r = json_parse(s, n, 0, &t->value, NULL);
                        if (r == -ENOMEM)
                                return oom(e);
                        if (r < 0) {
                                /* The deprecated form `foo`, a string without its quotes, which
                                 * jmespath.py still takes (JEP 12). */
                                for (p = s; *p && strchr(" \t\n\r", *p); p++)
                                        ;
                                if (asprintf(&quoted, "\"%s\"", p) < 0)
                                        return oom(e);
                                r = json_parse(quoted, strlen(quoted), 0, &t->value, NULL);
                                if (r == -ENOMEM)
                                        return oom(e);
                                if (r < 0)
                                        return set_error(e, -EINVAL, JMESPATH_ERROR_SYNTAX, start,
                                                         "Invalid JSON literal at position %zu", start);
                        }
                        l->pos = end + 1;
                        continue;
                }
                default:
                        return set_error(e, -EINVAL, JMESPATH_ERROR_SYNTAX, start,
                                         "Unknown character '%c' at position %zu", c, start);
                }
#undef PUSH
        }
        if (!lexer_push(l, T_EOF, l->size))
                return oom(e);
        return 0;
}

/* ---- the syntax tree ---- */

typedef enum NodeType {
        N_CURRENT,
        N_FIELD,
        N_SUBEXPRESSION, /* also index expressions: children evaluated in turn */
        N_INDEX,
        N_SLICE,
        N_PROJECTION,
        N_VALUE_PROJECTION,
        N_FILTER_PROJECTION, /* children: left, right, condition */
        N_FLATTEN,
        N_LITERAL,
        N_COMPARATOR,
        N_OR,
        N_AND,
        N_NOT,
        N_PIPE,
        N_MULTI_SELECT_LIST,
        N_MULTI_SELECT_HASH,
        N_FUNCTION,
        N_EXPREF,
} NodeType;

typedef struct Function Function;

typedef struct Node {
        NodeType type;
        unsigned depth;   /* of the tree below, this node included */
        char *name;       /* fields */
        JsonValue *value; /* literals */
        TokenType comparator;
        long index;
        bool has_slice[3];
        long slice[3];
        const Function *function;
        struct Node **children;
        char **keys; /* multi-select hashes */
        size_t n_children;
} Node;

static Node *node_free(Node *n) {
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_children; i++) {
                node_free(n->children[i]);
                if (n->keys)
                        free(n->keys[i]);
        }
        free(n->children);
        free(n->keys);
        free(n->name);
        json_value_free(n->value);
        free(n);
        return NULL;
}
static inline void node_freep(Node **n) {
        node_free(*n);
}

struct Jmespath {
        Node *root;
};

/* ---- functions: the table, used by the parser to check names and arities ---- */

enum {
        A_NULL = 1 << 0,
        A_BOOLEAN = 1 << 1,
        A_NUMBER = 1 << 2,
        A_STRING = 1 << 3,
        A_ARRAY = 1 << 4,
        A_OBJECT = 1 << 5,
        A_EXPREF = 1 << 6,
        A_ARRAY_NUMBER = 1 << 7,
        A_ARRAY_STRING = 1 << 8,
        A_ANY = A_NULL | A_BOOLEAN | A_NUMBER | A_STRING | A_ARRAY | A_OBJECT,
};

typedef struct Eval Eval;

typedef struct Arg {
        JsonValue *value; /* NULL for an expression reference */
        const Node *expref;
} Arg;

#define ARGS_MAX 3

struct Function {
        const char *name;
        size_t n_args; /* exactly, or at least when variadic */
        bool variadic; /* further arguments of the type of the last */
        unsigned types[ARGS_MAX];
        int (*call)(Eval *e, const Arg *args, size_t n, JsonValue **ret);
};

static const Function *function_lookup(const char *name);

/* ---- parser ---- */

typedef struct Parser {
        const char *text;
        Token *tokens;
        size_t n_tokens, index;
        unsigned depth;
        JmespathError *error;
} Parser;

static const Token *current(const Parser *p) {
        return &p->tokens[p->index];
}

static TokenType lookahead(const Parser *p, size_t n) {
        return p->index + n < p->n_tokens ? p->tokens[p->index + n].type : T_EOF;
}

static int syntax_error_at(Parser *p, const Token *t, const char *what) {

        if (t->type == T_EOF)
                return set_error(p->error, -EINVAL, JMESPATH_ERROR_SYNTAX, t->offset,
                                 "%s: unexpected end of expression", what);
        return set_error(p->error, -EINVAL, JMESPATH_ERROR_SYNTAX, t->offset,
                         "%s: unexpected %s at position %zu", what, token_names[t->type], t->offset);
}

static int syntax_error(Parser *p, const char *what) {
        return syntax_error_at(p, current(p), what);
}

static int match(Parser *p, TokenType type) {
        char what[64];

        if (current(p)->type != type) {
                snprintf(what, sizeof what, "Expected %s", token_names[type]);
                return syntax_error(p, what);
        }
        p->index++;
        return 0;
}

static int node_new(Parser *p, NodeType type, size_t n_children, Node **children, Node **ret) {
        Node *n = calloc(1, sizeof *n);
        unsigned depth = 0;

        if (!n)
                goto fail;
        n->type = type;
        if (n_children > 0) {
                n->children = calloc(n_children, sizeof *n->children);
                if (!n->children)
                        goto fail;
                for (size_t i = 0; i < n_children; i++) {
                        n->children[i] = TAKE_PTR(children[i]);
                        depth = MAX(depth, n->children[i]->depth);
                }
                n->n_children = n_children;
        }
        n->depth = depth + 1;
        *ret = n;
        if (n->depth > JMESPATH_DEPTH_MAX)
                return set_error(p->error, -ELOOP, JMESPATH_ERROR_LIMIT, current(p)->offset,
                                 "Expression nested too deep (more than %u levels)", JMESPATH_DEPTH_MAX);
        return 0;

fail:
        for (size_t i = 0; i < n_children; i++)
                children[i] = node_free(children[i]);
        free(n);
        return oom(p->error);
}

static int node2(Parser *p, NodeType type, Node **left, Node **right, Node **ret) {
        Node *c[2] = { TAKE_PTR(*left), TAKE_PTR(*right) };
        return node_new(p, type, 2, c, ret);
}

static int node1(Parser *p, NodeType type, Node **child, Node **ret) {
        Node *c[1] = { TAKE_PTR(*child) };
        return node_new(p, type, 1, c, ret);
}

static int node0(Parser *p, NodeType type, Node **ret) {
        return node_new(p, type, 0, NULL, ret);
}

static int expression(Parser *p, unsigned bp, Node **ret);

static int parse_projection_rhs(Parser *p, unsigned bp, Node **ret);

/* What follows '.': an identifier, '*', a multi-select list or hash. */
static int parse_dot_rhs(Parser *p, unsigned bp, Node **ret);

static int parse_multi_select_list(Parser *p, Node **ret) {
        _cleanup_(node_freep) Node *n = NULL;
        int r;

        r = node0(p, N_MULTI_SELECT_LIST, &n);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(node_freep) Node *c = NULL;
                Node **children;

                r = expression(p, 0, &c);
                if (r < 0)
                        return r;
                children = reallocarray(n->children, n->n_children + 1, sizeof *children);
                if (!children)
                        return oom(p->error);
                n->children = children;
                n->depth = MAX(n->depth, c->depth + 1);
                n->children[n->n_children++] = TAKE_PTR(c);
                if (current(p)->type == T_RBRACKET)
                        break;
                r = match(p, T_COMMA);
                if (r < 0)
                        return r;
        }
        r = match(p, T_RBRACKET);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

static int parse_multi_select_hash(Parser *p, Node **ret) {
        _cleanup_(node_freep) Node *n = NULL;
        int r;

        r = node0(p, N_MULTI_SELECT_HASH, &n);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(node_freep) Node *c = NULL;
                _cleanup_free_ char *key = NULL;
                Node **children;
                char **keys;

                if (!IN_SET(current(p)->type, T_QUOTED_IDENTIFIER, T_UNQUOTED_IDENTIFIER))
                        return syntax_error(p, "Expected an identifier as key in a multi-select hash");
                key = strdup(current(p)->string);
                if (!key)
                        return oom(p->error);
                p->index++;
                r = match(p, T_COLON);
                if (r < 0)
                        return r;
                r = expression(p, 0, &c);
                if (r < 0)
                        return r;
                children = reallocarray(n->children, n->n_children + 1, sizeof *children);
                if (!children)
                        return oom(p->error);
                n->children = children;
                keys = reallocarray(n->keys, n->n_children + 1, sizeof *keys);
                if (!keys)
                        return oom(p->error);
                n->keys = keys;
                n->depth = MAX(n->depth, c->depth + 1);
                n->keys[n->n_children] = TAKE_PTR(key);
                n->children[n->n_children++] = TAKE_PTR(c);
                if (current(p)->type == T_RBRACE)
                        break;
                r = match(p, T_COMMA);
                if (r < 0)
                        return r;
        }
        r = match(p, T_RBRACE);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

static int parse_index_expression(Parser *p, Node **ret) {
        _cleanup_(node_freep) Node *n = NULL;
        int r;

        if (lookahead(p, 0) == T_COLON || lookahead(p, 1) == T_COLON) {
                size_t i = 0;

                r = node0(p, N_SLICE, &n);
                if (r < 0)
                        return r;
                while (current(p)->type != T_RBRACKET && i < 3) {
                        if (current(p)->type == T_COLON) {
                                i++;
                                if (i == 3)
                                        return syntax_error(p, "Too many colons in slice");
                                p->index++;
                        } else if (current(p)->type == T_NUMBER) {
                                n->has_slice[i] = true;
                                n->slice[i] = current(p)->number;
                                p->index++;
                        } else
                                return syntax_error(p, "Expected a number or ':' in slice");
                }
        } else {
                r = node0(p, N_INDEX, &n);
                if (r < 0)
                        return r;
                if (current(p)->type != T_NUMBER)
                        return syntax_error(p, "Expected a number as index");
                n->index = current(p)->number;
                p->index++;
        }
        r = match(p, T_RBRACKET);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

/* left[right], and when right is a slice, a projection of what follows over it. */
static int project_if_slice(Parser *p, Node **left, Node **right, Node **ret) {
        _cleanup_(node_freep) Node *index = NULL, *rhs = NULL;
        bool slice = (*right)->type == N_SLICE;
        int r;

        r = node2(p, N_SUBEXPRESSION, left, right, &index);
        if (r < 0)
                return r;
        if (!slice) {
                *ret = TAKE_PTR(index);
                return 0;
        }
        r = parse_projection_rhs(p, binding_power[T_STAR], &rhs);
        if (r < 0)
                return r;
        return node2(p, N_PROJECTION, &index, &rhs, ret);
}

static int parse_filter(Parser *p, Node **left, Node **ret) {
        _cleanup_(node_freep) Node *condition = NULL, *right = NULL;
        Node *c[3];
        int r;

        r = expression(p, 0, &condition);
        if (r < 0)
                return r;
        r = match(p, T_RBRACKET);
        if (r < 0)
                return r;
        if (current(p)->type == T_FLATTEN)
                r = node0(p, N_CURRENT, &right);
        else
                r = parse_projection_rhs(p, binding_power[T_FILTER], &right);
        if (r < 0)
                return r;
        c[0] = TAKE_PTR(*left);
        c[1] = TAKE_PTR(right);
        c[2] = TAKE_PTR(condition);
        return node_new(p, N_FILTER_PROJECTION, 3, c, ret);
}

static int nud(Parser *p, const Token *t, Node **ret) {
        _cleanup_(node_freep) Node *left = NULL, *right = NULL, *n = NULL;
        int r;

        switch (t->type) {
        case T_LITERAL:
                r = node0(p, N_LITERAL, &n);
                if (r < 0)
                        return r;
                n->value = json_ref(t->value);
                break;
        case T_QUOTED_IDENTIFIER:
                if (current(p)->type == T_LPAREN)
                        return set_error(p->error, -EINVAL, JMESPATH_ERROR_SYNTAX, t->offset,
                                         "Quoted identifier not allowed as a function name at position %zu",
                                         t->offset);
                _fallthrough_;
        case T_UNQUOTED_IDENTIFIER:
                r = node0(p, N_FIELD, &n);
                if (r < 0)
                        return r;
                n->name = strdup(t->string);
                if (!n->name)
                        return oom(p->error);
                break;
        case T_STAR:
                r = node0(p, N_CURRENT, &left);
                if (r < 0)
                        return r;
                if (current(p)->type == T_RBRACKET)
                        r = node0(p, N_CURRENT, &right);
                else
                        r = parse_projection_rhs(p, binding_power[T_STAR], &right);
                if (r < 0)
                        return r;
                return node2(p, N_VALUE_PROJECTION, &left, &right, ret);
        case T_FILTER:
                r = node0(p, N_CURRENT, &left);
                if (r < 0)
                        return r;
                return parse_filter(p, &left, ret);
        case T_LBRACE:
                return parse_multi_select_hash(p, ret);
        case T_LPAREN:
                r = expression(p, 0, &n);
                if (r < 0)
                        return r;
                r = match(p, T_RPAREN);
                if (r < 0)
                        return r;
                break;
        case T_FLATTEN:
                r = node0(p, N_CURRENT, &left);
                if (r < 0)
                        return r;
                r = node1(p, N_FLATTEN, &left, &n);
                if (r < 0)
                        return r;
                r = parse_projection_rhs(p, binding_power[T_FLATTEN], &right);
                if (r < 0)
                        return r;
                return node2(p, N_PROJECTION, &n, &right, ret);
        case T_NOT:
                r = expression(p, binding_power[T_NOT], &left);
                if (r < 0)
                        return r;
                return node1(p, N_NOT, &left, ret);
        case T_LBRACKET:
                if (IN_SET(current(p)->type, T_NUMBER, T_COLON)) {
                        r = parse_index_expression(p, &right);
                        if (r < 0)
                                return r;
                        r = node0(p, N_CURRENT, &left);
                        if (r < 0)
                                return r;
                        return project_if_slice(p, &left, &right, ret);
                }
                if (current(p)->type == T_STAR && lookahead(p, 1) == T_RBRACKET) {
                        p->index += 2;
                        r = node0(p, N_CURRENT, &left);
                        if (r < 0)
                                return r;
                        r = parse_projection_rhs(p, binding_power[T_STAR], &right);
                        if (r < 0)
                                return r;
                        return node2(p, N_PROJECTION, &left, &right, ret);
                }
                return parse_multi_select_list(p, ret);
        case T_CURRENT:
                r = node0(p, N_CURRENT, &n);
                if (r < 0)
                        return r;
                break;
        case T_EXPREF:
                r = expression(p, 0, &left);
                if (r < 0)
                        return r;
                return node1(p, N_EXPREF, &left, ret);
        default:
                return syntax_error_at(p, t, "Invalid expression");
        }
        *ret = TAKE_PTR(n);
        return 0;
}

static int parse_function(Parser *p, Node **left, Node **ret) {
        _cleanup_(node_freep) Node *n = NULL;
        const Function *f;
        size_t offset = current(p)->offset;
        int r;

        if ((*left)->type != N_FIELD)
                return set_error(p->error, -EINVAL, JMESPATH_ERROR_SYNTAX, offset,
                                 "Invalid function name before '(' at position %zu", offset);
        r = node0(p, N_FUNCTION, &n);
        if (r < 0)
                return r;
        n->name = TAKE_PTR((*left)->name);
        *left = node_free(*left);

        while (current(p)->type != T_RPAREN) {
                _cleanup_(node_freep) Node *c = NULL;
                Node **children;

                r = expression(p, 0, &c);
                if (r < 0)
                        return r;
                children = reallocarray(n->children, n->n_children + 1, sizeof *children);
                if (!children)
                        return oom(p->error);
                n->children = children;
                n->depth = MAX(n->depth, c->depth + 1);
                n->children[n->n_children++] = TAKE_PTR(c);
                if (current(p)->type == T_RPAREN)
                        break;
                r = match(p, T_COMMA);
                if (r < 0)
                        return r;
                if (current(p)->type == T_RPAREN)
                        return syntax_error(p, "Expected a function argument after ','");
        }
        r = match(p, T_RPAREN);
        if (r < 0)
                return r;

        f = function_lookup(n->name);
        if (!f)
                return set_error(p->error, -EINVAL, JMESPATH_ERROR_UNKNOWN_FUNCTION, offset,
                                 "Unknown function: %s()", n->name);
        if (f->variadic ? n->n_children < f->n_args : n->n_children != f->n_args)
                return set_error(p->error, -EINVAL, JMESPATH_ERROR_INVALID_ARITY, offset,
                                 "Expected %s%zu argument%s for function %s(), received %zu",
                                 f->variadic ? "at least " : "", f->n_args, f->n_args == 1 ? "" : "s",
                                 f->name, n->n_children);
        n->function = f;
        *ret = TAKE_PTR(n);
        return 0;
}

static int led(Parser *p, const Token *t, Node **left, Node **ret) {
        _cleanup_(node_freep) Node *right = NULL, *n = NULL;
        int r;

        switch (t->type) {
        case T_DOT:
                if (current(p)->type != T_STAR) {
                        r = parse_dot_rhs(p, binding_power[T_DOT], &right);
                        if (r < 0)
                                return r;
                        return node2(p, N_SUBEXPRESSION, left, &right, ret);
                }
                p->index++;
                r = parse_projection_rhs(p, binding_power[T_DOT], &right);
                if (r < 0)
                        return r;
                return node2(p, N_VALUE_PROJECTION, left, &right, ret);
        case T_PIPE:
        case T_OR:
        case T_AND:
                r = expression(p, binding_power[t->type], &right);
                if (r < 0)
                        return r;
                return node2(p,
                             t->type == T_PIPE ? N_PIPE
                             : t->type == T_OR ? N_OR
                                               : N_AND,
                             left, &right, ret);
        case T_LPAREN:
                return parse_function(p, left, ret);
        case T_FILTER:
                return parse_filter(p, left, ret);
        case T_EQ:
        case T_NE:
        case T_LT:
        case T_LTE:
        case T_GT:
        case T_GTE:
                r = expression(p, binding_power[t->type], &right);
                if (r < 0)
                        return r;
                r = node2(p, N_COMPARATOR, left, &right, &n);
                if (r < 0)
                        return r;
                n->comparator = t->type;
                break;
        case T_FLATTEN:
                r = node1(p, N_FLATTEN, left, &n);
                if (r < 0)
                        return r;
                r = parse_projection_rhs(p, binding_power[T_FLATTEN], &right);
                if (r < 0)
                        return r;
                return node2(p, N_PROJECTION, &n, &right, ret);
        case T_LBRACKET:
                if (IN_SET(current(p)->type, T_NUMBER, T_COLON)) {
                        r = parse_index_expression(p, &right);
                        if (r < 0)
                                return r;
                        return project_if_slice(p, left, &right, ret);
                }
                r = match(p, T_STAR);
                if (r < 0)
                        return r;
                r = match(p, T_RBRACKET);
                if (r < 0)
                        return r;
                r = parse_projection_rhs(p, binding_power[T_STAR], &right);
                if (r < 0)
                        return r;
                return node2(p, N_PROJECTION, left, &right, ret);
        default:
                return syntax_error_at(p, t, "Invalid expression");
        }
        *ret = TAKE_PTR(n);
        return 0;
}

static int parse_projection_rhs(Parser *p, unsigned bp, Node **ret) {
        TokenType t = current(p)->type;
        int r;

        if (binding_power[t] < PROJECTION_STOP)
                return node0(p, N_CURRENT, ret);
        if (t == T_LBRACKET || t == T_FILTER)
                return expression(p, bp, ret);
        if (t == T_DOT) {
                p->index++;
                r = parse_dot_rhs(p, bp, ret);
                return r;
        }
        return syntax_error(p, "Invalid token after a projection");
}

static int parse_dot_rhs(Parser *p, unsigned bp, Node **ret) {
        TokenType t = current(p)->type;

        if (IN_SET(t, T_QUOTED_IDENTIFIER, T_UNQUOTED_IDENTIFIER, T_STAR))
                return expression(p, bp, ret);
        if (t == T_LBRACKET) {
                p->index++;
                return parse_multi_select_list(p, ret);
        }
        if (t == T_LBRACE) {
                p->index++;
                return parse_multi_select_hash(p, ret);
        }
        return syntax_error(p, "Expected an identifier, '*', '[' or '{' after '.'");
}

static int expression(Parser *p, unsigned bp, Node **ret) {
        _cleanup_(node_freep) Node *left = NULL;
        const Token *t;
        int r;

        /* The tree's depth is checked as nodes are made; this bounds the parser's own recursion,
         * which may run ahead of it (as in "((((...". */
        if (++p->depth > JMESPATH_DEPTH_MAX)
                return set_error(p->error, -ELOOP, JMESPATH_ERROR_LIMIT, current(p)->offset,
                                 "Expression nested too deep (more than %u levels)", JMESPATH_DEPTH_MAX);

        t = current(p);
        if (t->type != T_EOF)
                p->index++;
        r = nud(p, t, &left);
        if (r < 0)
                return r;
        while (bp < binding_power[current(p)->type]) {
                _cleanup_(node_freep) Node *n = NULL;

                t = current(p);
                p->index++;
                r = led(p, t, &left, &n);
                if (r < 0)
                        return r;
                left = TAKE_PTR(n);
        }
        p->depth--;
        *ret = TAKE_PTR(left);
        return 0;
}

int jmespath_compile(const char *expression_text, Jmespath **ret, JmespathError *ret_error) {
        _cleanup_(jmespath_freep) Jmespath *j = NULL;
        Lexer l = {};
        Parser p = {};
        size_t n;
        int r;

        if (!expression_text || !ret)
                return -EINVAL;
        n = strnlen(expression_text, JMESPATH_EXPRESSION_MAX + 1);
        if (n > JMESPATH_EXPRESSION_MAX)
                return set_error(ret_error, -E2BIG, JMESPATH_ERROR_LIMIT, 0,
                                 "Expression too long (more than %u bytes)", JMESPATH_EXPRESSION_MAX);
        if (utf8_length(expression_text, n) < 0)
                return set_error(ret_error, -EINVAL, JMESPATH_ERROR_SYNTAX, 0, "Expression is not UTF-8");

        l = (Lexer){ .text = expression_text, .size = n };
        r = lex(&l, ret_error);
        if (r < 0)
                goto finish;

        j = calloc(1, sizeof *j);
        if (!j) {
                r = oom(ret_error);
                goto finish;
        }
        p = (Parser){
                .text = expression_text, .tokens = l.tokens, .n_tokens = l.n_tokens, .error = ret_error
        };
        if (p.tokens[0].type == T_EOF) {
                r = set_error(ret_error, -EINVAL, JMESPATH_ERROR_SYNTAX, 0, "Empty expression");
                goto finish;
        }
        r = expression(&p, 0, &j->root);
        if (r < 0)
                goto finish;
        if (current(&p)->type != T_EOF) {
                r = syntax_error(&p, "Unexpected token");
                goto finish;
        }
        *ret = TAKE_PTR(j);
        r = 0;
finish:
        tokens_free(l.tokens, l.n_tokens);
        return r;
}

Jmespath *jmespath_free(Jmespath *j) {
        if (!j)
                return NULL;
        node_free(j->root);
        free(j);
        return NULL;
}

/* ---- the interpreter ---- */

struct Eval {
        JmespathError *error;
        size_t elements;     /* array elements and object members made so far */
        size_t string_bytes; /* bytes of strings made so far */
};

static int type_error(Eval *e, const char *format, ...) _printf_(2, 3);
static int type_error(Eval *e, const char *format, ...) {
        va_list ap;

        if (!e->error)
                return -EINVAL;
        e->error->kind = JMESPATH_ERROR_INVALID_TYPE;
        e->error->offset = 0;
        va_start(ap, format);
        vsnprintf(e->error->message, sizeof e->error->message, format, ap);
        va_end(ap);
        return -EINVAL;
}

static int budget(Eval *e, size_t elements, size_t string_bytes) {
        e->elements += elements;
        e->string_bytes += string_bytes;
        if (e->elements > JMESPATH_ELEMENTS_MAX || e->string_bytes > JMESPATH_STRING_BYTES_MAX)
                return set_error(e->error, -E2BIG, JMESPATH_ERROR_LIMIT, 0, "The result would be too large");
        return 0;
}

static int append(Eval *e, JsonValue *array, JsonValue *child) {
        int r = budget(e, 1, 0);

        if (r < 0) {
                json_value_free(child);
                return r;
        }
        r = json_array_append(array, child);
        return r == -ENOMEM ? oom(e->error) : r;
}

static int make(Eval *e, JsonValue *v, JsonValue **ret) {
        if (!v)
                return oom(e->error);
        *ret = v;
        return 0;
}

static bool is_number(const JsonValue *v) {
        return json_type(v) == JSON_NUMBER;
}

static int visit(Eval *e, const Node *n, JsonValue *v, JsonValue **ret);

/* Runs a projection's right side on each element, dropping nulls. */
static int project(Eval *e, const Node *right, const Node *condition, JsonValue *base, bool values,
                   JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *result = json_array();
        int r;

        if (!result)
                return oom(e->error);
        for (size_t i = 0; i < json_size(base); i++) {
                JsonValue *element = values ? json_object_value(base, i) : json_array_get(base, i);
                JsonValue *x = NULL;

                if (condition) {
                        r = visit(e, condition, element, &x);
                        if (r < 0)
                                return r;
                        bool keep = json_is_truthy(x);
                        x = json_value_free(x);
                        if (!keep)
                                continue;
                }
                r = visit(e, right, element, &x);
                if (r < 0)
                        return r;
                if (json_type(x) == JSON_NULL) {
                        json_value_free(x);
                        continue;
                }
                r = append(e, result, x);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(result);
        return 0;
}

static int visit_slice(Eval *e, const Node *n, JsonValue *v, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *result = NULL;
        long length = json_size(v), start, stop, step = n->has_slice[2] ? n->slice[2] : 1;
        int r;

        if (step == 0)
                return set_error(e->error, -EINVAL, JMESPATH_ERROR_INVALID_VALUE, 0,
                                 "Slice step cannot be 0");
        if (json_type(v) != JSON_ARRAY)
                return make(e, json_null(), ret);

        /* Python's slice.indices(). */
        if (!n->has_slice[0])
                start = step < 0 ? length - 1 : 0;
        else {
                start = n->slice[0];
                if (start < 0) {
                        start += length;
                        if (start < 0)
                                start = step < 0 ? -1 : 0;
                } else if (start >= length)
                        start = step < 0 ? length - 1 : length;
        }
        if (!n->has_slice[1])
                stop = step < 0 ? -1 : length;
        else {
                stop = n->slice[1];
                if (stop < 0) {
                        stop += length;
                        if (stop < 0)
                                stop = step < 0 ? -1 : 0;
                } else if (stop >= length)
                        stop = step < 0 ? length - 1 : length;
        }

        result = json_array();
        if (!result)
                return oom(e->error);
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
                r = append(e, result, json_ref(json_array_get(v, i)));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(result);
        return 0;
}

static int visit_comparator(Eval *e, const Node *n, JsonValue *v, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *a = NULL, *b = NULL;
        int r, c;

        r = visit(e, n->children[0], v, &a);
        if (r < 0)
                return r;
        r = visit(e, n->children[1], v, &b);
        if (r < 0)
                return r;

        if (n->comparator == T_EQ)
                return make(e, json_boolean(json_equal(a, b)), ret);
        if (n->comparator == T_NE)
                return make(e, json_boolean(!json_equal(a, b)), ret);

        /* Ordering: numbers, and (as jmespath.py allows) strings, by code point; null otherwise. */
        if (is_number(a) && is_number(b)) {
                double x = json_number_value(a), y = json_number_value(b);
                c = x < y ? -1 : x > y ? 1 : 0;
        } else if (json_type(a) == JSON_STRING && json_type(b) == JSON_STRING) {
                size_t la = json_string_length(a), lb = json_string_length(b);
                c = memcmp(json_string_value(a), json_string_value(b), MIN(la, lb));
                if (c == 0)
                        c = la < lb ? -1 : la > lb ? 1 : 0;
        } else
                return make(e, json_null(), ret);

        switch (n->comparator) {
        case T_LT:
                return make(e, json_boolean(c < 0), ret);
        case T_LTE:
                return make(e, json_boolean(c <= 0), ret);
        case T_GT:
                return make(e, json_boolean(c > 0), ret);
        default:
                return make(e, json_boolean(c >= 0), ret);
        }
}

static int check_type(Eval *e, const Function *f, size_t i, const Arg *a) {
        unsigned t = f->types[MIN(i, (size_t) ARGS_MAX - 1)];
        JsonType jt;

        if (f->variadic && i >= f->n_args)
                t = f->types[f->n_args - 1];
        if (!a->value)
                return t & A_EXPREF ? 0
                                    : type_error(e, "Invalid type for argument %zu of %s(): expression",
                                                 i + 1, f->name);
        jt = json_type(a->value);
        if (t & (1u << jt))
                return 0;
        if (jt == JSON_ARRAY && (t & (A_ARRAY_NUMBER | A_ARRAY_STRING))) {
                JsonType first = json_type(json_array_get(a->value, 0));
                bool ok = json_size(a->value) == 0 || (first == JSON_NUMBER && (t & A_ARRAY_NUMBER)) ||
                          (first == JSON_STRING && (t & A_ARRAY_STRING));

                for (size_t j = 1; ok && j < json_size(a->value); j++)
                        ok = json_type(json_array_get(a->value, j)) == first;
                if (ok)
                        return 0;
        }
        return type_error(e, "Invalid type for argument %zu of %s(): %s", i + 1, f->name,
                          a->value ? json_type_to_string(jt) : "expression");
}

static int visit_function(Eval *e, const Node *n, JsonValue *v, JsonValue **ret) {
        const Function *f = n->function;
        _cleanup_free_ Arg *args = NULL;
        int r;

        args = calloc(n->n_children, sizeof *args);
        if (!args && n->n_children > 0)
                return oom(e->error);
        for (size_t i = 0; i < n->n_children; i++) {
                if (n->children[i]->type == N_EXPREF) {
                        args[i].expref = n->children[i]->children[0];
                        continue;
                }
                r = visit(e, n->children[i], v, &args[i].value);
                if (r < 0)
                        goto finish;
        }
        for (size_t i = 0; i < n->n_children; i++) {
                r = check_type(e, f, i, &args[i]);
                if (r < 0)
                        goto finish;
        }
        r = f->call(e, args, n->n_children, ret);
finish:
        for (size_t i = 0; i < n->n_children; i++)
                json_value_free(args[i].value);
        return r;
}

static int visit(Eval *e, const Node *n, JsonValue *v, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *base = NULL, *result = NULL;
        int r;

        switch (n->type) {
        case N_CURRENT:
                *ret = json_ref(v);
                return 0;
        case N_FIELD:
                base = json_object_get(v, n->name);
                return base ? (*ret = json_ref(TAKE_PTR(base)), 0) : make(e, json_null(), ret);
        case N_SUBEXPRESSION:
                r = visit(e, n->children[0], v, &base);
                if (r < 0)
                        return r;
                return visit(e, n->children[1], base, ret);
        case N_PIPE:
                r = visit(e, n->children[0], v, &base);
                if (r < 0)
                        return r;
                return visit(e, n->children[1], base, ret);
        case N_INDEX: {
                long i = n->index;

                if (json_type(v) != JSON_ARRAY)
                        return make(e, json_null(), ret);
                if (i < 0)
                        i += (long) json_size(v);
                if (i < 0 || (size_t) i >= json_size(v))
                        return make(e, json_null(), ret);
                *ret = json_ref(json_array_get(v, i));
                return 0;
        }
        case N_SLICE:
                return visit_slice(e, n, v, ret);
        case N_PROJECTION:
        case N_VALUE_PROJECTION:
        case N_FILTER_PROJECTION:
                r = visit(e, n->children[0], v, &base);
                if (r < 0)
                        return r;
                if (json_type(base) != (n->type == N_VALUE_PROJECTION ? JSON_OBJECT : JSON_ARRAY))
                        return make(e, json_null(), ret);
                return project(e, n->children[1], n->type == N_FILTER_PROJECTION ? n->children[2] : NULL,
                               base, n->type == N_VALUE_PROJECTION, ret);
        case N_FLATTEN:
                r = visit(e, n->children[0], v, &base);
                if (r < 0)
                        return r;
                if (json_type(base) != JSON_ARRAY)
                        return make(e, json_null(), ret);
                result = json_array();
                if (!result)
                        return oom(e->error);
                for (size_t i = 0; i < json_size(base); i++) {
                        JsonValue *x = json_array_get(base, i);

                        if (json_type(x) != JSON_ARRAY) {
                                r = append(e, result, json_ref(x));
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        for (size_t j = 0; j < json_size(x); j++) {
                                r = append(e, result, json_ref(json_array_get(x, j)));
                                if (r < 0)
                                        return r;
                        }
                }
                *ret = TAKE_PTR(result);
                return 0;
        case N_LITERAL:
                *ret = json_ref(n->value);
                return 0;
        case N_COMPARATOR:
                return visit_comparator(e, n, v, ret);
        case N_OR:
        case N_AND:
                r = visit(e, n->children[0], v, &base);
                if (r < 0)
                        return r;
                if (json_is_truthy(base) == (n->type == N_OR)) {
                        *ret = TAKE_PTR(base);
                        return 0;
                }
                return visit(e, n->children[1], v, ret);
        case N_NOT:
                r = visit(e, n->children[0], v, &base);
                if (r < 0)
                        return r;
                return make(e, json_boolean(!json_is_truthy(base)), ret);
        case N_MULTI_SELECT_LIST:
        case N_MULTI_SELECT_HASH:
                if (json_type(v) == JSON_NULL)
                        return make(e, json_null(), ret);
                result = n->type == N_MULTI_SELECT_LIST ? json_array() : json_object();
                if (!result)
                        return oom(e->error);
                for (size_t i = 0; i < n->n_children; i++) {
                        JsonValue *x = NULL;

                        r = visit(e, n->children[i], v, &x);
                        if (r < 0)
                                return r;
                        if (n->type == N_MULTI_SELECT_LIST)
                                r = append(e, result, x);
                        else {
                                r = budget(e, 1, 0);
                                if (r < 0) {
                                        json_value_free(x);
                                        return r;
                                }
                                r = json_object_set(result, n->keys[i], x);
                                if (r == -ENOMEM)
                                        return oom(e->error);
                        }
                        if (r < 0)
                                return r;
                }
                *ret = TAKE_PTR(result);
                return 0;
        case N_FUNCTION:
                return visit_function(e, n, v, ret);
        case N_EXPREF:
                /* Only meaningful as a function argument, where visit_function() takes it. */
                return make(e, json_null(), ret);
        }
        return -EINVAL;
}

int jmespath_evaluate(const Jmespath *j, const JsonValue *data, JsonValue **ret, JmespathError *ret_error) {
        Eval e = { .error = ret_error };
        _cleanup_(json_value_freep) JsonValue *null = NULL;

        if (!j || !ret)
                return -EINVAL;
        if (!data) {
                null = json_null();
                if (!null)
                        return oom(ret_error);
                data = null;
        }
        /* The data is not changed; only its reference counts move while results share parts of it. */
        return visit(&e, j->root, (JsonValue *) data, ret);
}

int jmespath_search(const char *expression_text, const JsonValue *data, JsonValue **ret,
                    JmespathError *ret_error) {
        _cleanup_(jmespath_freep) Jmespath *j = NULL;
        int r;

        r = jmespath_compile(expression_text, &j, ret_error);
        if (r < 0)
                return r;
        return jmespath_evaluate(j, data, ret, ret_error);
}

/* ---- the built-in functions ---- */

static size_t utf8_code_points(const char *s, size_t n) {
        size_t count = 0;

        for (size_t i = 0; i < n; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80)
                        count++;
        return count;
}

/* Python's types follow the values: abs() and sum() keep floats floats, avg() is always a float,
 * ceil() and floor() are ints. */
static JsonValue *number_like(double d, bool is_float) {
        return is_float ? json_float(d) : json_number(d);
}

static int f_abs(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return make(e, number_like(fabs(json_number_value(a[0].value)), json_number_is_float(a[0].value)),
                    ret);
}

static int f_ceil(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return make(e, json_number(ceil(json_number_value(a[0].value))), ret);
}

static int f_floor(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return make(e, json_number(floor(json_number_value(a[0].value))), ret);
}

static int f_sum(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        double sum = 0;
        bool is_float = false;

        for (size_t i = 0; i < json_size(a[0].value); i++) {
                sum += json_number_value(json_array_get(a[0].value, i));
                is_float = is_float || json_number_is_float(json_array_get(a[0].value, i));
        }
        return make(e, number_like(sum, is_float), ret);
}

static int f_avg(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        double sum = 0;
        size_t count = json_size(a[0].value);

        if (count == 0)
                return make(e, json_null(), ret);
        for (size_t i = 0; i < count; i++)
                sum += json_number_value(json_array_get(a[0].value, i));
        return make(e, json_float(sum / count), ret);
}

static int f_contains(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        const JsonValue *subject = a[0].value, *search = a[1].value;
        bool found = false;

        if (json_type(subject) == JSON_ARRAY) {
                for (size_t i = 0; !found && i < json_size(subject); i++)
                        found = json_equal(json_array_get(subject, i), search);
        } else if (json_type(search) == JSON_STRING)
                found = memmem(json_string_value(subject), json_string_length(subject),
                               json_string_value(search), json_string_length(search)) != NULL;
        return make(e, json_boolean(found), ret);
}

static int f_starts_with(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        size_t ls = json_string_length(a[0].value), lp = json_string_length(a[1].value);

        return make(e,
                    json_boolean(lp <= ls && memcmp(json_string_value(a[0].value),
                                                    json_string_value(a[1].value), lp) == 0),
                    ret);
}

static int f_ends_with(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        size_t ls = json_string_length(a[0].value), lp = json_string_length(a[1].value);

        return make(e,
                    json_boolean(lp <= ls && memcmp(json_string_value(a[0].value) + ls - lp,
                                                    json_string_value(a[1].value), lp) == 0),
                    ret);
}

static int f_join(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        const JsonValue *glue = a[0].value, *list = a[1].value;
        _cleanup_free_ char *buf = NULL;
        size_t total = 0, pos = 0;
        int r;

        for (size_t i = 0; i < json_size(list); i++)
                total +=
                        json_string_length(json_array_get(list, i)) + (i > 0 ? json_string_length(glue) : 0);
        r = budget(e, 0, total);
        if (r < 0)
                return r;
        buf = malloc(total + 1);
        if (!buf)
                return oom(e->error);
        for (size_t i = 0; i < json_size(list); i++) {
                const JsonValue *s = json_array_get(list, i);

                if (i > 0) {
                        memcpy(buf + pos, json_string_value(glue), json_string_length(glue));
                        pos += json_string_length(glue);
                }
                memcpy(buf + pos, json_string_value(s), json_string_length(s));
                pos += json_string_length(s);
        }
        return make(e, json_string_len(buf, pos), ret);
}

static int f_keys_values(Eval *e, const Arg *a, bool keys, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *result = json_array();
        int r;

        if (!result)
                return oom(e->error);
        for (size_t i = 0; i < json_size(a[0].value); i++) {
                r = append(e, result,
                           keys ? json_string(json_object_key(a[0].value, i))
                                : json_ref(json_object_value(a[0].value, i)));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(result);
        return 0;
}

static int f_keys(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return f_keys_values(e, a, true, ret);
}

static int f_values(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return f_keys_values(e, a, false, ret);
}

static int f_length(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        const JsonValue *v = a[0].value;

        if (json_type(v) == JSON_STRING)
                return make(e, json_number(utf8_code_points(json_string_value(v), json_string_length(v))),
                            ret);
        return make(e, json_number(json_size(v)), ret);
}

static int f_map(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *result = json_array();
        int r;

        if (!result)
                return oom(e->error);
        for (size_t i = 0; i < json_size(a[1].value); i++) {
                JsonValue *x = NULL;

                r = visit(e, a[0].expref, json_array_get(a[1].value, i), &x);
                if (r < 0)
                        return r;
                r = append(e, result, x);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(result);
        return 0;
}

/* Compares two numbers or two strings (of the same type, checked by the callers). */
static int compare_values(const JsonValue *a, const JsonValue *b) {
        if (json_type(a) == JSON_NUMBER) {
                double x = json_number_value(a), y = json_number_value(b);
                return x < y ? -1 : x > y ? 1 : 0;
        }
        size_t la = json_string_length(a), lb = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), MIN(la, lb));
        return c != 0 ? c : la < lb ? -1 : la > lb ? 1 : 0;
}

static int f_max_min(Eval *e, const Arg *a, bool max, JsonValue **ret) {
        const JsonValue *best = NULL;

        for (size_t i = 0; i < json_size(a[0].value); i++) {
                const JsonValue *x = json_array_get(a[0].value, i);
                if (!best || (max ? compare_values(x, best) > 0 : compare_values(x, best) < 0))
                        best = x;
        }
        if (!best)
                return make(e, json_null(), ret);
        *ret = json_ref((JsonValue *) best);
        return 0;
}

static int f_max(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return f_max_min(e, a, true, ret);
}

static int f_min(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return f_max_min(e, a, false, ret);
}

/* The keys an expression gives for each element of an array: all numbers or all strings. */
static int keys_by(Eval *e, const char *function, const JsonValue *array, const Node *expref,
                   JsonValue ***ret) {
        size_t count = json_size(array);
        JsonValue **keys;
        JsonType type = _JSON_TYPE_INVALID;
        int r = 0;

        keys = calloc(count + 1, sizeof *keys);
        if (!keys)
                return oom(e->error);
        for (size_t i = 0; i < count; i++) {
                r = visit(e, expref, json_array_get(array, i), &keys[i]);
                if (r < 0)
                        break;
                if (i == 0)
                        type = json_type(keys[0]);
                if (!IN_SET(json_type(keys[i]), JSON_NUMBER, JSON_STRING) || json_type(keys[i]) != type) {
                        r = type_error(e, "Invalid type for the expression of %s(): %s (expected %s)",
                                       function, json_type_to_string(json_type(keys[i])),
                                       i == 0 ? "number or string" : json_type_to_string(type));
                        break;
                }
        }
        if (r < 0) {
                for (size_t i = 0; i < count; i++)
                        json_value_free(keys[i]);
                free(keys);
                return r;
        }
        *ret = keys;
        return 0;
}

static void keys_free(JsonValue **keys, size_t n) {
        for (size_t i = 0; keys && i < n; i++)
                json_value_free(keys[i]);
        free(keys);
}

static int f_max_min_by(Eval *e, const Arg *a, bool max, JsonValue **ret) {
        JsonValue **keys = NULL;
        size_t count = json_size(a[0].value), best = 0;
        int r;

        if (count == 0)
                return make(e, json_null(), ret);
        r = keys_by(e, max ? "max_by" : "min_by", a[0].value, a[1].expref, &keys);
        if (r < 0)
                return r;
        for (size_t i = 1; i < count; i++) {
                int c = compare_values(keys[i], keys[best]);
                if (max ? c > 0 : c < 0)
                        best = i;
        }
        keys_free(keys, count);
        *ret = json_ref(json_array_get(a[0].value, best));
        return 0;
}

static int f_max_by(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return f_max_min_by(e, a, true, ret);
}

static int f_min_by(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return f_max_min_by(e, a, false, ret);
}

typedef struct SortItem {
        JsonValue *key, *value;
        size_t index;
} SortItem;

static int sort_item_compare(const void *x, const void *y) {
        const SortItem *a = x, *b = y;
        int c = compare_values(a->key, b->key);

        /* qsort() is not stable; the index makes it so, as sort_by() must be. */
        return c != 0 ? c : a->index < b->index ? -1 : 1;
}

static int sort_items(Eval *e, const JsonValue *array, JsonValue **keys, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *result = json_array();
        _cleanup_free_ SortItem *items = NULL;
        size_t count = json_size(array);
        int r;

        if (!result)
                return oom(e->error);
        items = calloc(count + 1, sizeof *items);
        if (!items)
                return oom(e->error);
        for (size_t i = 0; i < count; i++)
                items[i] = (SortItem){
                        .key = keys ? keys[i] : json_array_get(array, i),
                        .value = json_array_get(array, i),
                        .index = i,
                };
        qsort(items, count, sizeof *items, sort_item_compare);
        for (size_t i = 0; i < count; i++) {
                r = append(e, result, json_ref(items[i].value));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(result);
        return 0;
}

static int f_sort(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return sort_items(e, a[0].value, NULL, ret);
}

static int f_sort_by(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        JsonValue **keys = NULL;
        size_t count = json_size(a[0].value);
        int r;

        r = keys_by(e, "sort_by", a[0].value, a[1].expref, &keys);
        if (r < 0)
                return r;
        r = sort_items(e, a[0].value, keys, ret);
        keys_free(keys, count);
        return r;
}

static int f_merge(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *result = json_object();
        int r;

        if (!result)
                return oom(e->error);
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < json_size(a[i].value); j++) {
                        r = budget(e, 1, 0);
                        if (r < 0)
                                return r;
                        r = json_object_set(result, json_object_key(a[i].value, j),
                                            json_ref(json_object_value(a[i].value, j)));
                        if (r < 0)
                                return oom(e->error);
                }
        *ret = TAKE_PTR(result);
        return 0;
}

static int f_not_null(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        for (size_t i = 0; i < n; i++)
                if (json_type(a[i].value) != JSON_NULL) {
                        *ret = json_ref(a[i].value);
                        return 0;
                }
        return make(e, json_null(), ret);
}

static int f_reverse(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        const JsonValue *v = a[0].value;
        _cleanup_(json_value_freep) JsonValue *result = NULL;
        int r;

        if (json_type(v) == JSON_STRING) {
                const char *s = json_string_value(v);
                size_t length = json_string_length(v), pos = 0;
                _cleanup_free_ char *buf = malloc(length + 1);

                if (!buf)
                        return oom(e->error);
                r = budget(e, 0, length);
                if (r < 0)
                        return r;
                /* By code point: copy each UTF-8 sequence, from the last. */
                for (size_t end = length; end > 0;) {
                        size_t start = end - 1;
                        while (start > 0 && ((unsigned char) s[start] & 0xc0) == 0x80)
                                start--;
                        memcpy(buf + pos, s + start, end - start);
                        pos += end - start;
                        end = start;
                }
                return make(e, json_string_len(buf, pos), ret);
        }

        result = json_array();
        if (!result)
                return oom(e->error);
        for (size_t i = json_size(v); i > 0; i--) {
                r = append(e, result, json_ref(json_array_get(v, i - 1)));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(result);
        return 0;
}

static int f_to_array(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *result = NULL;
        int r;

        if (json_type(a[0].value) == JSON_ARRAY) {
                *ret = json_ref(a[0].value);
                return 0;
        }
        result = json_array();
        if (!result)
                return oom(e->error);
        r = append(e, result, json_ref(a[0].value));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(result);
        return 0;
}

static int f_to_string(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        if (json_type(a[0].value) == JSON_STRING) {
                *ret = json_ref(a[0].value);
                return 0;
        }
        /* As jmespath.py: json.dumps(separators=(',', ':')), which escapes non-ASCII. */
        r = json_format(a[0].value, 0, JSON_FORMAT_ASCII, &s);
        if (r < 0)
                return oom(e->error);
        r = budget(e, 0, strlen(s));
        if (r < 0)
                return r;
        return make(e, json_string(s), ret);
}

static int f_to_number(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        const JsonValue *v = a[0].value;
        _cleanup_free_ char *s = NULL;
        const char *p, *end;
        char *endp;
        size_t length;
        double d;

        if (json_type(v) == JSON_NUMBER) {
                *ret = json_ref((JsonValue *) v);
                return 0;
        }
        if (json_type(v) != JSON_STRING)
                return make(e, json_null(), ret);

        /* What Python's int() or float() take: a decimal number with white space around it,
         * "inf" and "nan" too; but not C's hexadecimal forms. */
        p = json_string_value(v);
        length = json_string_length(v);
        if (strlen(p) != length)
                return make(e, json_null(), ret);
        while (*p && strchr(" \t\n\r\f\v", *p))
                p++;
        for (end = p + strlen(p); end > p && strchr(" \t\n\r\f\v", end[-1]); end--)
                ;
        s = strndup(p, end - p);
        if (!s)
                return oom(e->error);
        if (s[0] == 0 || strpbrk(s, "xXpP"))
                return make(e, json_null(), ret);
        errno = 0;
        d = strtod(s, &endp);
        if (*endp != 0 || (errno == ERANGE && isinf(d)))
                return make(e, json_null(), ret);
        /* int() first, then float(), as jmespath.py tries them. */
        return make(e, number_like(d, strpbrk(s, ".eEnNiI")), ret);
}

static int f_type(Eval *e, const Arg *a, size_t n, JsonValue **ret) {
        return make(e, json_string(json_type_to_string(json_type(a[0].value))), ret);
}

static const Function functions[] = {
        { "abs", 1, false, { A_NUMBER }, f_abs },
        { "avg", 1, false, { A_ARRAY_NUMBER }, f_avg },
        { "ceil", 1, false, { A_NUMBER }, f_ceil },
        { "contains", 2, false, { A_ARRAY | A_STRING, A_ANY }, f_contains },
        { "ends_with", 2, false, { A_STRING, A_STRING }, f_ends_with },
        { "floor", 1, false, { A_NUMBER }, f_floor },
        { "join", 2, false, { A_STRING, A_ARRAY_STRING }, f_join },
        { "keys", 1, false, { A_OBJECT }, f_keys },
        { "length", 1, false, { A_STRING | A_ARRAY | A_OBJECT }, f_length },
        { "map", 2, false, { A_EXPREF, A_ARRAY }, f_map },
        { "max", 1, false, { A_ARRAY_NUMBER | A_ARRAY_STRING }, f_max },
        { "max_by", 2, false, { A_ARRAY, A_EXPREF }, f_max_by },
        { "merge", 1, true, { A_OBJECT }, f_merge },
        { "min", 1, false, { A_ARRAY_NUMBER | A_ARRAY_STRING }, f_min },
        { "min_by", 2, false, { A_ARRAY, A_EXPREF }, f_min_by },
        { "not_null", 1, true, { A_ANY }, f_not_null },
        { "reverse", 1, false, { A_STRING | A_ARRAY }, f_reverse },
        { "sort", 1, false, { A_ARRAY_NUMBER | A_ARRAY_STRING }, f_sort },
        { "sort_by", 2, false, { A_ARRAY, A_EXPREF }, f_sort_by },
        { "starts_with", 2, false, { A_STRING, A_STRING }, f_starts_with },
        { "sum", 1, false, { A_ARRAY_NUMBER }, f_sum },
        { "to_array", 1, false, { A_ANY }, f_to_array },
        { "to_number", 1, false, { A_ANY }, f_to_number },
        { "to_string", 1, false, { A_ANY }, f_to_string },
        { "type", 1, false, { A_ANY }, f_type },
        { "values", 1, false, { A_OBJECT }, f_values },
};

static const Function *function_lookup(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(functions); i++)
                if (streq(functions[i].name, name))
                        return &functions[i];
        return NULL;
}
