/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xpath-expr.c: lexer and recursive-descent parser for XPath 1.0
 * expressions (W3C XPath 1.0, section 3; lexical structure, section 3.7).
 * The whole expression is tokenised first, so that the disambiguation rules
 * of section 3.7 (is `*` a multiplication or a name test, is `div` an
 * operator or an element name) can look at the previous token.
 */
#define G_LOG_DOMAIN "hearth-xpath"

#include "xpath-expr.h"
#include "xpath-value.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (hearth-xpath-error-quark, hearth_xpath_error)

typedef enum {
  T_END, T_NUMBER, T_LITERAL, T_NAME, T_FUNC, T_NODETYPE, T_AXIS, T_VAR,
  T_OPNAME, T_MUL, T_SLASH, T_DSLASH, T_PIPE, T_PLUS, T_MINUS,
  T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
  T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_DOT, T_DDOT, T_AT, T_COMMA, T_DCOLON,
} TokKind;

typedef struct {
  TokKind kind;
  char *text;
  double number;
  gsize offset;
} Token;

typedef struct {
  const char *src;
  GArray *tokens;   /* Token */
  guint pos;
  guint depth;
  GError **error;
} Parser;

static guint
column_of (const char *src, gsize offset)
{
  return (guint) g_utf8_pointer_to_offset (src, src + offset) + 1;
}

G_GNUC_PRINTF (3, 4)
static void
syntax_error (Parser *p, gsize offset, const char *fmt, ...)
{
  g_autofree char *what = NULL;
  va_list ap;

  if (p->error == NULL || *p->error != NULL)
    return;
  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (p->error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_SYNTAX,
               _("XPath syntax error at column %u of \"%s\": %s"),
               column_of (p->src, offset), p->src, what);
}

/* ---- lexer ------------------------------------------------------------ */

static gboolean
is_name_start (guchar c)
{
  return g_ascii_isalpha (c) || c == '_' || c >= 0x80;
}

static gboolean
is_name_char (guchar c)
{
  return is_name_start (c) || g_ascii_isdigit (c) || c == '-' || c == '.';
}

static gsize
skip_space (const char *s, gsize i)
{
  while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
    i++;
  return i;
}

/* Section 3.7: after these, `*` is a name test and an NCName is a name. */
static gboolean
prev_allows_operator (GArray *tokens)
{
  TokKind k;

  if (tokens->len == 0)
    return FALSE;
  k = g_array_index (tokens, Token, tokens->len - 1).kind;
  switch (k)
    {
    case T_AT: case T_DCOLON: case T_LPAREN: case T_LBRACK: case T_COMMA:
    case T_OPNAME: case T_MUL: case T_SLASH: case T_DSLASH: case T_PIPE:
    case T_PLUS: case T_MINUS: case T_EQ: case T_NE: case T_LT: case T_LE:
    case T_GT: case T_GE:
      return FALSE;
    default:
      return TRUE;
    }
}

static void
push (GArray *tokens, TokKind kind, char *text, double number, gsize offset)
{
  Token t = { kind, text, number, offset };
  g_array_append_val (tokens, t);
}

static gboolean
lex (Parser *p)
{
  const char *s = p->src;
  gsize i = 0;

  for (;;)
    {
      guchar c;
      gsize start;

      i = skip_space (s, i);
      start = i;
      c = (guchar) s[i];
      if (c == '\0')
        {
          push (p->tokens, T_END, NULL, 0, i);
          return TRUE;
        }
      if (g_ascii_isdigit (c) || (c == '.' && g_ascii_isdigit (s[i + 1])))
        {
          while (g_ascii_isdigit (s[i]))
            i++;
          if (s[i] == '.')
            {
              i++;
              while (g_ascii_isdigit (s[i]))
                i++;
            }
          {
            g_autofree char *digits = g_strndup (s + start, i - start);
            push (p->tokens, T_NUMBER, NULL, g_ascii_strtod (digits, NULL), start);
          }
          continue;
        }
      if (c == '"' || c == '\'')
        {
          const char *end = strchr (s + i + 1, c);
          if (end == NULL)
            {
              syntax_error (p, start, _("the string literal is not closed"));
              return FALSE;
            }
          push (p->tokens, T_LITERAL, g_strndup (s + i + 1, end - (s + i + 1)), 0, start);
          i = end - s + 1;
          continue;
        }
      if (c == '$')
        {
          i++;
          if (!is_name_start ((guchar) s[i]))
            {
              syntax_error (p, i, _("a variable name must follow \"$\""));
              return FALSE;
            }
          start = i;
          while (is_name_char ((guchar) s[i]) || (s[i] == ':' && is_name_start ((guchar) s[i + 1])))
            i++;
          push (p->tokens, T_VAR, g_strndup (s + start, i - start), 0, start - 1);
          continue;
        }
      if (c == '*')
        {
          push (p->tokens, prev_allows_operator (p->tokens) ? T_MUL : T_NAME,
                prev_allows_operator (p->tokens) ? NULL : g_strdup ("*"), 0, start);
          i++;
          continue;
        }
      if (is_name_start (c))
        {
          gsize next;
          g_autofree char *name = NULL;

          while (is_name_char ((guchar) s[i]))
            i++;
          /* A QName's prefix, or prefix:* (but not the axis "::"). */
          if (s[i] == ':' && s[i + 1] != ':')
            {
              if (s[i + 1] == '*')
                i += 2;
              else if (is_name_start ((guchar) s[i + 1]))
                {
                  i++;
                  while (is_name_char ((guchar) s[i]))
                    i++;
                }
            }
          name = g_strndup (s + start, i - start);
          next = skip_space (s, i);
          if (prev_allows_operator (p->tokens))
            {
              if (g_str_equal (name, "and") || g_str_equal (name, "or") ||
                  g_str_equal (name, "mod") || g_str_equal (name, "div"))
                {
                  push (p->tokens, T_OPNAME, g_steal_pointer (&name), 0, start);
                  continue;
                }
              syntax_error (p, start, _("an operator was expected before \"%s\""), name);
              return FALSE;
            }
          if (s[next] == '(')
            {
              gboolean node_type = g_str_equal (name, "node") || g_str_equal (name, "text") ||
                                   g_str_equal (name, "comment") ||
                                   g_str_equal (name, "processing-instruction");
              push (p->tokens, node_type ? T_NODETYPE : T_FUNC, g_steal_pointer (&name), 0, start);
              continue;
            }
          if (s[next] == ':' && s[next + 1] == ':')
            {
              push (p->tokens, T_AXIS, g_steal_pointer (&name), 0, start);
              continue;
            }
          push (p->tokens, T_NAME, g_steal_pointer (&name), 0, start);
          continue;
        }

      i++;
      switch (c)
        {
        case '/':
          if (s[i] == '/')
            {
              i++;
              push (p->tokens, T_DSLASH, NULL, 0, start);
            }
          else
            push (p->tokens, T_SLASH, NULL, 0, start);
          break;
        case '.':
          if (s[i] == '.')
            {
              i++;
              push (p->tokens, T_DDOT, NULL, 0, start);
            }
          else
            push (p->tokens, T_DOT, NULL, 0, start);
          break;
        case ':':
          if (s[i] != ':')
            {
              syntax_error (p, start, _("a lone \":\""));
              return FALSE;
            }
          i++;
          push (p->tokens, T_DCOLON, NULL, 0, start);
          break;
        case '!':
          if (s[i] != '=')
            {
              syntax_error (p, start, _("\"!\" must be followed by \"=\""));
              return FALSE;
            }
          i++;
          push (p->tokens, T_NE, NULL, 0, start);
          break;
        case '<':
          if (s[i] == '=') { i++; push (p->tokens, T_LE, NULL, 0, start); }
          else push (p->tokens, T_LT, NULL, 0, start);
          break;
        case '>':
          if (s[i] == '=') { i++; push (p->tokens, T_GE, NULL, 0, start); }
          else push (p->tokens, T_GT, NULL, 0, start);
          break;
        case '|': push (p->tokens, T_PIPE, NULL, 0, start); break;
        case '+': push (p->tokens, T_PLUS, NULL, 0, start); break;
        case '-': push (p->tokens, T_MINUS, NULL, 0, start); break;
        case '=': push (p->tokens, T_EQ, NULL, 0, start); break;
        case '(': push (p->tokens, T_LPAREN, NULL, 0, start); break;
        case ')': push (p->tokens, T_RPAREN, NULL, 0, start); break;
        case '[': push (p->tokens, T_LBRACK, NULL, 0, start); break;
        case ']': push (p->tokens, T_RBRACK, NULL, 0, start); break;
        case '@': push (p->tokens, T_AT, NULL, 0, start); break;
        case ',': push (p->tokens, T_COMMA, NULL, 0, start); break;
        default:
          {
            gunichar uc = g_utf8_get_char (s + start);
            char buf[8] = { 0 };
            g_unichar_to_utf8 (uc, buf);
            syntax_error (p, start, _("unexpected character \"%s\""), buf);
            return FALSE;
          }
        }
    }
}

/* ---- syntax tree ------------------------------------------------------ */

static void
step_free (gpointer data)
{
  HearthXPathStep *step = data;

  g_free (step->name);
  g_clear_pointer (&step->predicates, g_ptr_array_unref);
  g_free (step);
}

void
hearth_xpath_expr_free (HearthXPathExpr *expr)
{
  if (expr == NULL)
    return;
  g_free (expr->text);
  g_clear_pointer (&expr->args, g_ptr_array_unref);
  g_clear_pointer (&expr->filter, hearth_xpath_expr_free);
  g_clear_pointer (&expr->filter_predicates, g_ptr_array_unref);
  g_clear_pointer (&expr->steps, g_ptr_array_unref);
  g_free (expr);
}

static HearthXPathExpr *
node_new (HearthXPathKind kind, Parser *p, gsize offset)
{
  HearthXPathExpr *e = g_new0 (HearthXPathExpr, 1);

  e->kind = kind;
  e->column = column_of (p->src, offset);
  e->height = 1;
  return e;
}

static guint
max_height (GPtrArray *exprs)
{
  guint h = 0;

  for (guint i = 0; exprs != NULL && i < exprs->len; i++)
    h = MAX (h, ((HearthXPathExpr *) g_ptr_array_index (exprs, i))->height);
  return h;
}

/* Sets @e's height from its parts, without recursion. */
static void
set_height (HearthXPathExpr *e)
{
  guint h = max_height (e->args);

  if (e->filter != NULL)
    h = MAX (h, e->filter->height);
  h = MAX (h, max_height (e->filter_predicates));
  for (guint i = 0; e->steps != NULL && i < e->steps->len; i++)
    h = MAX (h, max_height (((HearthXPathStep *) g_ptr_array_index (e->steps, i))->predicates));
  e->height = h + 1;
}

/* Passes @e through, or frees it and sets TOO_COMPLEX when the tree is too
 * tall for recursion over it. */
static HearthXPathExpr *
too_high (Parser *p, HearthXPathExpr *e)
{
  if (e == NULL || e->height <= HEARTH_XPATH_MAX_HEIGHT)
    return e;
  if (p->error != NULL && *p->error == NULL)
    g_set_error (p->error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_TOO_COMPLEX,
                 _("The XPath expression has more than %d levels of operations"),
                 HEARTH_XPATH_MAX_HEIGHT);
  hearth_xpath_expr_free (e);
  return NULL;
}

static HearthXPathExpr *
binary (HearthXPathOp op, HearthXPathExpr *a, HearthXPathExpr *b)
{
  HearthXPathExpr *e = g_new0 (HearthXPathExpr, 1);

  e->kind = HEARTH_XPATH_BINARY;
  e->op = op;
  e->column = a->column;
  e->args = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_xpath_expr_free);
  g_ptr_array_add (e->args, a);
  g_ptr_array_add (e->args, b);
  set_height (e);
  return e;
}

/* ---- parser ----------------------------------------------------------- */

static Token *
peek (Parser *p)
{
  return &g_array_index (p->tokens, Token, p->pos);
}

static Token *
advance (Parser *p)
{
  Token *t = peek (p);

  if (t->kind != T_END)
    p->pos++;
  return t;
}

static const char *
describe (Token *t)
{
  switch (t->kind)
    {
    case T_END: return _("the end of the expression");
    case T_NUMBER: return _("a number");
    case T_LITERAL: return _("a string");
    default: return NULL;
    }
}

static void
expected (Parser *p, const char *what)
{
  Token *t = peek (p);
  const char *found = describe (t);

  if (found != NULL)
    syntax_error (p, t->offset, _("%s was expected, found %s"), what, found);
  else
    {
      gsize len = MAX (1, t->text ? strlen (t->text) : 1);
      g_autofree char *text = NULL;

      /* The token as written (a variable's "$" is not in its text), ending
       * on a whole character: a message is always valid UTF-8. */
      if (p->src[t->offset] == '$')
        len++;
      len = MIN (len, strlen (p->src + t->offset));
      while (p->src[t->offset + len] != '\0' && ((guchar) p->src[t->offset + len] & 0xC0) == 0x80)
        len++;
      text = g_strndup (p->src + t->offset, len);
      syntax_error (p, t->offset, _("%s was expected, found \"%s\""), what, text);
    }
}

static gboolean
accept (Parser *p, TokKind kind)
{
  if (peek (p)->kind != kind)
    return FALSE;
  advance (p);
  return TRUE;
}

static HearthXPathExpr *parse_expr (Parser *p);

static gboolean
enter (Parser *p)
{
  if (++p->depth > HEARTH_XPATH_MAX_DEPTH)
    {
      if (p->error != NULL && *p->error == NULL)
        g_set_error (p->error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_TOO_COMPLEX,
                     _("The XPath expression is nested more than %d levels deep"),
                     HEARTH_XPATH_MAX_DEPTH);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_predicates (Parser *p, GPtrArray **out)
{
  while (peek (p)->kind == T_LBRACK)
    {
      HearthXPathExpr *pred;

      advance (p);
      pred = parse_expr (p);
      if (pred == NULL)
        return FALSE;
      if (*out == NULL)
        *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_xpath_expr_free);
      g_ptr_array_add (*out, pred);
      if (!accept (p, T_RBRACK))
        {
          expected (p, _("\"]\""));
          return FALSE;
        }
    }
  return TRUE;
}

static const struct { const char *name; HearthXPathAxis axis; } axes[] = {
  { "child", HEARTH_XPATH_AXIS_CHILD }, { "descendant", HEARTH_XPATH_AXIS_DESCENDANT },
  { "parent", HEARTH_XPATH_AXIS_PARENT }, { "ancestor", HEARTH_XPATH_AXIS_ANCESTOR },
  { "following-sibling", HEARTH_XPATH_AXIS_FOLLOWING_SIBLING },
  { "preceding-sibling", HEARTH_XPATH_AXIS_PRECEDING_SIBLING },
  { "following", HEARTH_XPATH_AXIS_FOLLOWING }, { "preceding", HEARTH_XPATH_AXIS_PRECEDING },
  { "attribute", HEARTH_XPATH_AXIS_ATTRIBUTE }, { "namespace", HEARTH_XPATH_AXIS_NAMESPACE },
  { "self", HEARTH_XPATH_AXIS_SELF }, { "descendant-or-self", HEARTH_XPATH_AXIS_DESCENDANT_OR_SELF },
  { "ancestor-or-self", HEARTH_XPATH_AXIS_ANCESTOR_OR_SELF },
};

static HearthXPathStep *
step_new (HearthXPathAxis axis, HearthXPathTestKind test, const char *name)
{
  HearthXPathStep *s = g_new0 (HearthXPathStep, 1);

  s->axis = axis;
  s->test = test;
  s->name = g_strdup (name);
  return s;
}

static gboolean
starts_step (TokKind k)
{
  return k == T_DOT || k == T_DDOT || k == T_AT || k == T_AXIS || k == T_NAME || k == T_NODETYPE;
}

static HearthXPathStep *
parse_step (Parser *p)
{
  Token *t = peek (p);
  HearthXPathAxis axis = HEARTH_XPATH_AXIS_CHILD;
  g_autoptr(GPtrArray) preds = NULL;
  HearthXPathStep *step;

  if (accept (p, T_DOT))
    return step_new (HEARTH_XPATH_AXIS_SELF, HEARTH_XPATH_TEST_NODE, NULL);
  if (accept (p, T_DDOT))
    return step_new (HEARTH_XPATH_AXIS_PARENT, HEARTH_XPATH_TEST_NODE, NULL);
  if (accept (p, T_AT))
    axis = HEARTH_XPATH_AXIS_ATTRIBUTE;
  else if (t->kind == T_AXIS)
    {
      gsize i;
      for (i = 0; i < G_N_ELEMENTS (axes) && !g_str_equal (axes[i].name, t->text); i++)
        ;
      if (i == G_N_ELEMENTS (axes))
        {
          syntax_error (p, t->offset, _("\"%s\" is not an XPath axis"), t->text);
          return NULL;
        }
      axis = axes[i].axis;
      advance (p);
      advance (p);  /* "::" */
    }

  t = peek (p);
  if (t->kind == T_NAME)
    {
      advance (p);
      step = step_new (axis, HEARTH_XPATH_TEST_NAME, t->text);
    }
  else if (t->kind == T_NODETYPE)
    {
      HearthXPathTestKind test = g_str_equal (t->text, "node") ? HEARTH_XPATH_TEST_NODE :
                                 g_str_equal (t->text, "text") ? HEARTH_XPATH_TEST_TEXT :
                                 g_str_equal (t->text, "comment") ? HEARTH_XPATH_TEST_COMMENT :
                                 HEARTH_XPATH_TEST_PI;
      const char *literal = NULL;

      advance (p);
      advance (p);  /* "(" */
      if (test == HEARTH_XPATH_TEST_PI && peek (p)->kind == T_LITERAL)
        literal = advance (p)->text;
      if (!accept (p, T_RPAREN))
        {
          expected (p, _("\")\""));
          return NULL;
        }
      step = step_new (axis, test, literal);
    }
  else
    {
      expected (p, _("a name or a node test"));
      return NULL;
    }
  if (!parse_predicates (p, &preds))
    {
      step_free (step);
      return NULL;
    }
  step->predicates = g_steal_pointer (&preds);
  return step;
}

/* Appends steps: Step (('/' | '//') Step)*; a leading '//' is the
 * caller's. Sets an error and returns FALSE on failure. */
static gboolean
parse_relative_steps (Parser *p, GPtrArray *steps)
{
  for (;;)
    {
      HearthXPathStep *step = parse_step (p);

      if (step == NULL)
        return FALSE;
      g_ptr_array_add (steps, step);
      if (accept (p, T_SLASH))
        continue;
      if (accept (p, T_DSLASH))
        {
          g_ptr_array_add (steps, step_new (HEARTH_XPATH_AXIS_DESCENDANT_OR_SELF,
                                            HEARTH_XPATH_TEST_NODE, NULL));
          continue;
        }
      return TRUE;
    }
}

static HearthXPathExpr *
parse_primary (Parser *p)
{
  Token *t = peek (p);
  HearthXPathExpr *e;

  switch (t->kind)
    {
    case T_NUMBER:
      advance (p);
      e = node_new (HEARTH_XPATH_NUMBER, p, t->offset);
      e->number = t->number;
      return e;
    case T_LITERAL:
      advance (p);
      e = node_new (HEARTH_XPATH_STRING, p, t->offset);
      e->text = g_strdup (t->text);
      return e;
    case T_VAR:
      advance (p);
      e = node_new (HEARTH_XPATH_VARIABLE, p, t->offset);
      e->text = g_strdup (t->text);
      return e;
    case T_LPAREN:
      advance (p);
      e = parse_expr (p);
      if (e == NULL)
        return NULL;
      if (!accept (p, T_RPAREN))
        {
          expected (p, _("\")\""));
          hearth_xpath_expr_free (e);
          return NULL;
        }
      return e;
    case T_FUNC:
      advance (p);
      advance (p);  /* "(" */
      e = node_new (HEARTH_XPATH_FUNCTION, p, t->offset);
      e->text = g_strdup (t->text);
      e->args = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_xpath_expr_free);
      if (accept (p, T_RPAREN))
        return e;
      for (;;)
        {
          HearthXPathExpr *arg = parse_expr (p);
          if (arg == NULL)
            {
              hearth_xpath_expr_free (e);
              return NULL;
            }
          g_ptr_array_add (e->args, arg);
          if (accept (p, T_COMMA))
            continue;
          if (accept (p, T_RPAREN))
            return e;
          expected (p, _("\",\" or \")\""));
          hearth_xpath_expr_free (e);
          return NULL;
        }
    default:
      return NULL;
    }
}

static HearthXPathExpr *parse_path_parts (Parser *p);

/* A path, a filter expression or a primary, with its height set. */
static HearthXPathExpr *
parse_path (Parser *p)
{
  HearthXPathExpr *e = parse_path_parts (p);

  if (e != NULL)
    set_height (e);
  return e;
}

static HearthXPathExpr *
parse_path_parts (Parser *p)
{
  Token *t = peek (p);
  g_autoptr(HearthXPathExpr) e = node_new (HEARTH_XPATH_PATH, p, t->offset);

  e->steps = g_ptr_array_new_with_free_func (step_free);
  if (t->kind == T_SLASH || t->kind == T_DSLASH)
    {
      e->absolute = TRUE;
      advance (p);
      if (t->kind == T_DSLASH)
        {
          g_ptr_array_add (e->steps, step_new (HEARTH_XPATH_AXIS_DESCENDANT_OR_SELF,
                                               HEARTH_XPATH_TEST_NODE, NULL));
          if (!parse_relative_steps (p, e->steps))
            return NULL;
        }
      else if (starts_step (peek (p)->kind) && !parse_relative_steps (p, e->steps))
        return NULL;
      return g_steal_pointer (&e);
    }
  if (t->kind == T_NUMBER || t->kind == T_LITERAL || t->kind == T_VAR ||
      t->kind == T_LPAREN || t->kind == T_FUNC)
    {
      g_autoptr(GPtrArray) preds = NULL;
      HearthXPathExpr *primary = parse_primary (p);

      if (primary == NULL)
        return NULL;
      if (!parse_predicates (p, &preds))
        {
          hearth_xpath_expr_free (primary);
          return NULL;
        }
      if (preds == NULL && peek (p)->kind != T_SLASH && peek (p)->kind != T_DSLASH)
        return primary;
      /* A filter expression: predicates on the primary, maybe a path after. */
      e->filter = primary;
      e->filter_predicates = g_steal_pointer (&preds);
      if (accept (p, T_SLASH))
        {
          if (!parse_relative_steps (p, e->steps))
            return NULL;
        }
      else if (accept (p, T_DSLASH))
        {
          g_ptr_array_add (e->steps, step_new (HEARTH_XPATH_AXIS_DESCENDANT_OR_SELF,
                                               HEARTH_XPATH_TEST_NODE, NULL));
          if (!parse_relative_steps (p, e->steps))
            return NULL;
        }
      return g_steal_pointer (&e);
    }
  if (!starts_step (t->kind))
    {
      expected (p, _("an expression"));
      return NULL;
    }
  if (!parse_relative_steps (p, e->steps))
    return NULL;
  return g_steal_pointer (&e);
}

static HearthXPathExpr *
parse_union (Parser *p)
{
  HearthXPathExpr *left = parse_path (p);

  while (left != NULL && accept (p, T_PIPE))
    {
      HearthXPathExpr *right = parse_path (p);
      if (right == NULL)
        {
          hearth_xpath_expr_free (left);
          return NULL;
        }
      left = binary (HEARTH_XPATH_UNION, left, right);
      left = too_high (p, left);
    }
  return left;
}

static HearthXPathExpr *
parse_unary (Parser *p)
{
  Token *t = peek (p);
  HearthXPathExpr *e, *inner;

  if (t->kind != T_MINUS)
    return parse_union (p);
  advance (p);
  if (!enter (p))
    return NULL;
  inner = parse_unary (p);
  p->depth--;
  if (inner == NULL)
    return NULL;
  e = node_new (HEARTH_XPATH_NEGATE, p, t->offset);
  e->args = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_xpath_expr_free);
  g_ptr_array_add (e->args, inner);
  set_height (e);
  return e;
}

typedef HearthXPathExpr *(*SubParser) (Parser *p);

/* One left-associative level of binary operators. */
static HearthXPathExpr *
parse_level (Parser *p, SubParser sub, const TokKind *kinds, const char *const *names,
             const HearthXPathOp *ops, gsize n)
{
  HearthXPathExpr *left = sub (p);

  while (left != NULL)
    {
      Token *t = peek (p);
      gsize i;

      for (i = 0; i < n; i++)
        if (t->kind == kinds[i] && (names[i] == NULL || g_strcmp0 (t->text, names[i]) == 0))
          break;
      if (i == n)
        break;
      advance (p);
      {
        HearthXPathExpr *right = sub (p);
        if (right == NULL)
          {
            hearth_xpath_expr_free (left);
            return NULL;
          }
        left = binary (ops[i], left, right);
        /* A long chain of one operator is as deep as nesting. */
        left = too_high (p, left);
      }
    }
  return left;
}

static HearthXPathExpr *
parse_multiplicative (Parser *p)
{
  static const TokKind k[] = { T_MUL, T_OPNAME, T_OPNAME };
  static const char *const n[] = { NULL, "div", "mod" };
  static const HearthXPathOp o[] = { HEARTH_XPATH_MUL, HEARTH_XPATH_DIV, HEARTH_XPATH_MOD };
  return parse_level (p, parse_unary, k, n, o, 3);
}

static HearthXPathExpr *
parse_additive (Parser *p)
{
  static const TokKind k[] = { T_PLUS, T_MINUS };
  static const char *const n[] = { NULL, NULL };
  static const HearthXPathOp o[] = { HEARTH_XPATH_ADD, HEARTH_XPATH_SUB };
  return parse_level (p, parse_multiplicative, k, n, o, 2);
}

static HearthXPathExpr *
parse_relational (Parser *p)
{
  static const TokKind k[] = { T_LT, T_LE, T_GT, T_GE };
  static const char *const n[] = { NULL, NULL, NULL, NULL };
  static const HearthXPathOp o[] = { HEARTH_XPATH_LT, HEARTH_XPATH_LE, HEARTH_XPATH_GT, HEARTH_XPATH_GE };
  return parse_level (p, parse_additive, k, n, o, 4);
}

static HearthXPathExpr *
parse_equality (Parser *p)
{
  static const TokKind k[] = { T_EQ, T_NE };
  static const char *const n[] = { NULL, NULL };
  static const HearthXPathOp o[] = { HEARTH_XPATH_EQ, HEARTH_XPATH_NE };
  return parse_level (p, parse_relational, k, n, o, 2);
}

static HearthXPathExpr *
parse_and (Parser *p)
{
  static const TokKind k[] = { T_OPNAME };
  static const char *const n[] = { "and" };
  static const HearthXPathOp o[] = { HEARTH_XPATH_AND };
  return parse_level (p, parse_equality, k, n, o, 1);
}

static HearthXPathExpr *
parse_or (Parser *p)
{
  static const TokKind k[] = { T_OPNAME };
  static const char *const n[] = { "or" };
  static const HearthXPathOp o[] = { HEARTH_XPATH_OR };
  return parse_level (p, parse_and, k, n, o, 1);
}

static HearthXPathExpr *
parse_expr (Parser *p)
{
  HearthXPathExpr *e;

  if (!enter (p))
    return NULL;
  e = parse_or (p);
  p->depth--;
  if (e != NULL)
    set_height (e);  /* paths and calls finished below this level */
  return too_high (p, e);
}

HearthXPathExpr *
hearth_xpath_parse (const char *text, GError **error)
{
  g_autoptr(GError) local = NULL;
  Parser p = { 0 };
  HearthXPathExpr *e = NULL;

  if (strlen (text) > HEARTH_XPATH_MAX_LENGTH)
    {
      g_set_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_TOO_COMPLEX,
                   _("The XPath expression is longer than %d bytes"), HEARTH_XPATH_MAX_LENGTH);
      return NULL;
    }
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_SYNTAX,
                   _("The XPath expression is not valid UTF-8"));
      return NULL;
    }
  p.src = text;
  p.tokens = g_array_new (FALSE, FALSE, sizeof (Token));
  p.error = &local;
  if (lex (&p))
    {
      e = parse_expr (&p);
      if (e != NULL && peek (&p)->kind != T_END)
        {
          expected (&p, _("an operator or the end of the expression"));
          g_clear_pointer (&e, hearth_xpath_expr_free);
        }
      if (e == NULL && local == NULL)
        expected (&p, _("an expression"));
    }
  for (guint i = 0; i < p.tokens->len; i++)
    g_free (g_array_index (p.tokens, Token, i).text);
  g_array_unref (p.tokens);
  if (local != NULL)
    {
      g_clear_pointer (&e, hearth_xpath_expr_free);
      g_propagate_error (error, g_steal_pointer (&local));
    }
  return e;
}

/* ---- writing back ----------------------------------------------------- */

static const char *const op_names[] = {
  "or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod", "|",
};

static void write_expr (GString *s, const HearthXPathExpr *e);

/* XPath 1.0 numbers have no exponent: written as the instance stores them
 * (the lexer reads a literal too large for a double as infinity: "(1 div 0)"). */
static void
write_number (GString *s, double v)
{
  g_autofree char *text = NULL;

  if (isinf (v))
    {
      g_string_append (s, v > 0 ? "(1 div 0)" : "(-1 div 0)");
      return;
    }
  text = hearth_xpath_number_to_string (v);
  g_string_append (s, text);
}

static void
write_predicates (GString *s, GPtrArray *preds)
{
  for (guint i = 0; preds != NULL && i < preds->len; i++)
    {
      g_string_append_c (s, '[');
      write_expr (s, g_ptr_array_index (preds, i));
      g_string_append_c (s, ']');
    }
}

static void
write_step (GString *s, const HearthXPathStep *step)
{
  for (gsize i = 0; i < G_N_ELEMENTS (axes); i++)
    if (axes[i].axis == step->axis)
      g_string_append_printf (s, "%s::", axes[i].name);
  switch (step->test)
    {
    case HEARTH_XPATH_TEST_NAME: g_string_append (s, step->name); break;
    case HEARTH_XPATH_TEST_NODE: g_string_append (s, "node()"); break;
    case HEARTH_XPATH_TEST_TEXT: g_string_append (s, "text()"); break;
    case HEARTH_XPATH_TEST_COMMENT: g_string_append (s, "comment()"); break;
    case HEARTH_XPATH_TEST_PI:
      g_string_append_printf (s, "processing-instruction(%s%s%s)",
                              step->name ? "'" : "", step->name ? step->name : "", step->name ? "'" : "");
      break;
    default: break;
    }
  write_predicates (s, step->predicates);
}

static void
write_expr (GString *s, const HearthXPathExpr *e)
{
  switch (e->kind)
    {
    case HEARTH_XPATH_NUMBER:
      write_number (s, e->number);
      break;
    case HEARTH_XPATH_STRING:
      if (strchr (e->text, '\'') != NULL)
        g_string_append_printf (s, "\"%s\"", e->text);
      else
        g_string_append_printf (s, "'%s'", e->text);
      break;
    case HEARTH_XPATH_VARIABLE:
      g_string_append_printf (s, "$%s", e->text);
      break;
    case HEARTH_XPATH_FUNCTION:
      g_string_append_printf (s, "%s(", e->text);
      for (guint i = 0; i < e->args->len; i++)
        {
          if (i > 0)
            g_string_append (s, ", ");
          write_expr (s, g_ptr_array_index (e->args, i));
        }
      g_string_append_c (s, ')');
      break;
    case HEARTH_XPATH_NEGATE:
      g_string_append (s, "-(");
      write_expr (s, g_ptr_array_index (e->args, 0));
      g_string_append_c (s, ')');
      break;
    case HEARTH_XPATH_BINARY:
      g_string_append_c (s, '(');
      write_expr (s, g_ptr_array_index (e->args, 0));
      g_string_append_printf (s, " %s ", op_names[e->op]);
      write_expr (s, g_ptr_array_index (e->args, 1));
      g_string_append_c (s, ')');
      break;
    case HEARTH_XPATH_PATH:
      if (e->filter != NULL)
        {
          g_string_append_c (s, '(');
          write_expr (s, e->filter);
          g_string_append_c (s, ')');
          write_predicates (s, e->filter_predicates);
        }
      if (e->absolute)
        g_string_append_c (s, '/');
      for (guint i = 0; i < e->steps->len; i++)
        {
          if (i > 0 || e->filter != NULL)
            g_string_append_c (s, '/');
          write_step (s, g_ptr_array_index (e->steps, i));
        }
      break;
    default:
      break;
    }
}

char *
hearth_xpath_expr_to_string (const HearthXPathExpr *expr)
{
  GString *s = g_string_new (NULL);

  write_expr (s, expr);
  return g_string_free (s, FALSE);
}
