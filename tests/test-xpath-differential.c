/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-xpath-differential.c: Hearth's XPath evaluator against Enketo's
 * (npm openrosa-xpath-evaluator, run by node over jsdom), expression by
 * expression.
 *
 * tests/differential/cases.json holds the instances and a few hundred
 * expressions; tests/differential/enketo-eval.mjs evaluates them with
 * Enketo and prints the string results; this program evaluates them with
 * Hearth and compares. Each case is one TAP test:
 *
 * - equal results pass;
 * - a difference listed in known_differences[] (an Enketo quirk, or a
 *   deliberate Hearth choice, each with the words of the ODK XForms
 *   specification, or of XPath 1.0 where ODK says "as in XPath 1.0", that
 *   make Hearth's result the right one) passes while both sides still give
 *   exactly the results listed, and fails once they change, so the table
 *   stays true;
 * - a difference listed in hearth_bugs[] (Hearth is wrong; to be fixed in
 *   the evaluator) is a TODO while it lasts, and fails once Hearth agrees
 *   (then remove the entry) or its results change;
 * - a case that Hearth cannot evaluate because it lacks a function
 *   ("unknown function") is a TODO until the function exists, and from
 *   then on is compared like any other;
 * - any other difference fails, and so does a case that neither side can
 *   evaluate (it would prove nothing).
 *
 * Enketo comes from npm: the test copies package.json and package-lock.json
 * into a folder of the build tree and runs `npm ci` there (once; again when
 * the lock file changes), with a time limit. Without node or npm, or when
 * the packages cannot be installed, the test is one skip with the reason,
 * after the checks that need Hearth only (every case parses, every table
 * entry names a case).
 *
 * Both sides run with TZ=UTC: the ODK functions that read the device's time
 * zone give the same results everywhere.
 */
#include "test-util.h"
#include "xpath-eval.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Either side's result when it fails to evaluate the expression. */
#define ERROR_RESULT "(error)"

#define NPM_TIMEOUT_S 240
#define NODE_TIMEOUT_S 60

typedef struct {
  const char *expr;
  const char *context;  /* the context node's path; NULL: /data */
  const char *hearth;   /* Hearth's result, or ERROR_RESULT */
  const char *enketo;   /* Enketo's result, or ERROR_RESULT */
  const char *why;
  const char *expected; /* hearth_bugs[]: the result the specification asks for */
} Difference;

/*
 * The words that justify each known difference. "ODK" quotes the ODK
 * XForms specification (getodk.github.io/xforms-spec: "XPath Operators",
 * "XPath Functions", "Data Types"); where ODK says a function is "As in
 * XPath 1.0", the W3C XPath 1.0 Recommendation is quoted.
 */
#define WHY_15_DIGITS \
  "Hearth's choice: a number is written with at most 15 significant digits (shared/INTERFACES.md, " \
  "\"Numbers\": \"0.1 + 0.2 -> 0.3\"), because ODK stores every result as text (\"expression results are " \
  "stored in the XForms model as strings using the string() function\") in a decimal field (\"decimal: As in " \
  "XML 1.0\", xs:decimal), where the 16th-17th digits are binary noise. Enketo writes JavaScript's " \
  "shortest round-trip digits, which is what XPath 1.0 string() strictly asks for: a deliberate deviation"
#define WHY_15_DIGITS_BIG \
  WHY_15_DIGITS "; note that integers above 10^15 lose their last digits (2^53 is exact in a double)"
#define WHY_NO_EXPONENT \
  "Enketo quirk: XPath 1.0 string() of a number: \"if the number is an integer, the number is represented in " \
  "decimal form as a Number with no decimal point and no leading zeros [...] Otherwise, the number is " \
  "represented in decimal form as a Number including a decimal point\"; a Number has no exponent, and Enketo " \
  "writes JavaScript's 1e-7 and 1e+21"
#define WHY_UNARY_MINUS \
  "Enketo quirk: ODK: \"All XPath 1.0 operators are supported, i.e. |, and, or, mod, div, =, !=, <=, <, >=, >, " \
  "+, -\"; XPath 1.0: \"UnaryExpr ::= UnionExpr | '-' UnaryExpr\". Enketo's tokenizer fails on a minus " \
  "before a path (\"Too many tokens\")"
#define WHY_UNION \
  "Enketo quirk: ODK: \"All XPath 1.0 operators are supported, i.e. |, and, [...]\"; XPath 1.0: \"The | " \
  "operator computes the union of its operands, which must be node-sets\" (a node-set: no duplicates; its " \
  "string-value and [1] follow document order). Enketo 3.1.0 turns a union into a JavaScript array that " \
  "count(), sum() and string() reject"
#define WHY_XPATH_NUMBER \
  "Enketo quirk: ODK number(): \"As in XPath 1.0\"; XPath 1.0: \"a string that consists of optional " \
  "whitespace followed by an optional minus sign followed by a Number followed by whitespace is converted to " \
  "the IEEE 754 number that is nearest [...]; any other string is converted to NaN\", and \"Number ::= Digits " \
  "('.' Digits?)? | '.' Digits\" (no plus sign, exponent, hexadecimal or Infinity). Enketo uses JavaScript's " \
  "unary plus"
#define WHY_NUMBER_LITERAL \
  "Enketo quirk: XPath 1.0: \"Number ::= Digits ('.' Digits?)? | '.' Digits\": 1e3 is no number literal, and " \
  "Hearth refuses the expression where Enketo reads 1000"
#define WHY_BOOLEAN_FROM_STRING \
  "Enketo quirk: ODK boolean-from-string(): \"it returns false for any argument that is not \\\"true\\\" or " \
  "\\\"1\\\"\" (Enketo returns true for any positive integer)"
#define WHY_NODESET_EQUALITY \
  "Enketo quirk: XPath 1.0: \"If both objects to be compared are node-sets, then the comparison will be true " \
  "if and only if there is a node in the first node-set and a node in the second node-set such that the " \
  "result of performing the comparison on the string-values of the two nodes is true\": the strings " \
  "2024-02-29T19:00:00.000-05:00 and 2024-03-01 differ (ODK extends number(), not string equality)"
#define WHY_CHARACTERS \
  "Enketo quirk: XPath 1.0: \"The string-length function returns the number of characters in the string\"; " \
  "U+1D11E is one XML character (Char includes [#x10000-#x10FFFF]), which Enketo counts (and regex '.' " \
  "matches) as two UTF-16 code units"
#define WHY_SUBSTRING \
  "Enketo quirk (its fallback to jsdom's XPath): ODK substring() is XPath 1.0's, whose examples are " \
  "substring(\"12345\", 0, 3) returns \"12\", substring(\"12345\", 0 div 0, 3) returns \"\" and " \
  "substring(\"12345\", -1 div 0, 1 div 0) returns \"\""
#define WHY_NORMALIZE_SPACE \
  "Enketo quirk: ODK normalize-space(): \"As in XPath 1.0\"; XPath 1.0: \"Whitespace characters are the same " \
  "as those allowed by the S production in XML\" (S ::= (#x20 | #x9 | #xD | #xA)+): the ideographic space " \
  "U+3000 of Chinese text is not whitespace, and JavaScript's \\s collapses it"
#define WHY_SELECTED_ITEM \
  "Enketo quirk: ODK selected(): \"Checks if value is equal to an item in a space-separated list\": the " \
  "empty string is no item of \"  a  b  \"; Enketo splits on every single space and finds empty items"
#define WHY_SELECTED_AT \
  "Enketo quirk: ODK selected-at(): \"Returns the value of the item at the 0-based index of a space-separated " \
  "list\": the items of \"  a  b  \" are a and b; Enketo splits on every single space"
#define WHY_XS_DATE \
  "Enketo quirk: ODK: \"date: As in XML 1.0\" (xs:date: YYYY-MM-DD with two-digit month and day, a day that " \
  "exists in the month), and number() converts only \"date- and dateTime-formatted strings\": 2023-02-29 and " \
  "2024-2-9 are no dates, so number() is XPath 1.0's NaN and date() gives the empty string; Enketo lets " \
  "JavaScript's Date roll 2023-02-29 over to March 1"
#define WHY_ROUND_DECIMAL \
  "Hearth's choice: ODK round(): \"a second argument may be provided to specify the number of decimals\", and " \
  "Hearth rounds the decimal the user sees, half away from zero (shared/INTERFACES.md: \"round(47.225, 2) -> " \
  "47.23\"): 1.005 to 2 decimals is 1.01. Enketo multiplies the double by 100 (100.49999999999999) first"
#define WHY_REVERSE_AXIS \
  "Enketo quirk: XPath 1.0: \"the proximity position of a member of a node-set with respect to an axis is " \
  "defined to be the position of the node in the node-set ordered [...] in reverse document order if the " \
  "axis is a reverse axis\": preceding-sibling::member[1] is the nearest sibling. (ODK itself supports only " \
  "the parent, child and self axes)"
#define WHY_DATE_IS_DATE \
  "Enketo quirk: ODK date(): \"Converts to a string in the [...] date format\" (a date, YYYY-MM-DD), never a " \
  "dateTime; Enketo writes a dateTime whenever the time is not midnight, with the offset -00:00"
#define WHY_AS_WRITTEN \
  "Hearth's choice: ODK: \"dateTime: Deviates from XML 1.0, in that it includes the timezone offset (i.e. not " \
  "normalized to UTC)\": Hearth keeps the date and clock time as written with their offset; Enketo converts " \
  "them to the device's time zone (UTC here), so its result depends on where the form is opened"
#define WHY_DATE_TIME \
  "Hearth's choice: date-time() is not in ODK's function table; Hearth returns a dateTime as ODK's dateTime " \
  "type defines it (\"The offset may also equal \\\"Z\\\"\"), where Enketo makes it an alias of date() and writes " \
  "the offset -00:00"
#define WHY_DIGEST \
  "Enketo quirk: ODK digest(): \"As in XForms 1.1\"; XForms 1.1: \"The data string is serialized as UTF-8, " \
  "the hash value is then computed using the indicated hash algorithm\": Hearth's is SHA-1 of the UTF-8 bytes " \
  "of 张三丰; Enketo hands node-forge JavaScript's UTF-16 string (or, for a node-set, its array) unencoded"

/*
 * Known differences: Hearth's result is the one the specification asks
 * for, or Hearth's documented choice; Enketo's is a quirk of Enketo. Sorted
 * by reason. The last entries are for functions Hearth does not have yet
 * (their cases are TODOs until then): the difference their 15-digit
 * numbers will make.
 */
static const Difference known_differences[] = {
  { "0.1 + 0.2", NULL, "0.3", "0.30000000000000004", WHY_15_DIGITS },
  { "/data/d01 + /data/d02", NULL, "0.3", "0.30000000000000004", WHY_15_DIGITS },
  { "/data/d01 * 3", NULL, "0.3", "0.30000000000000004", WHY_15_DIGITS },
  { "1 div 3", NULL, "0.333333333333333", "0.3333333333333333", WHY_15_DIGITS },
  { "2 div 3", NULL, "0.666666666666667", "0.6666666666666666", WHY_15_DIGITS },
  { "/data/price mod 1", NULL, "0.225000000000001", "0.22500000000000142", WHY_15_DIGITS },
  { "1.1 * 1.1", NULL, "1.21", "1.2100000000000002", WHY_15_DIGITS },
  { "3 * 1.1", NULL, "3.3", "3.3000000000000003", WHY_15_DIGITS },
  { "100 - 99.9", NULL, "0.0999999999999943", "0.09999999999999432", WHY_15_DIGITS },
  { "concat(1 div 3)", NULL, "0.333333333333333", "0.3333333333333333", WHY_15_DIGITS },
  { "concat(0.1 + 0.2)", NULL, "0.3", "0.30000000000000004", WHY_15_DIGITS },
  { "if(1, 0.1 + 0.2, 0)", NULL, "0.3", "0.30000000000000004", WHY_15_DIGITS },
  { "pow(2, 0.5)", NULL, "1.4142135623731", "1.4142135623730951", WHY_15_DIGITS },
  { "pow(1.1, 2)", NULL, "1.21", "1.2100000000000002", WHY_15_DIGITS },
  { "sum(/data/household/member/age) div count(/data/household/member)", NULL, "29.3333333333333", "29.333333333333332", WHY_15_DIGITS },
  { "decimal-date-time(/data/dt_min)", NULL, "19783.0104166667", "19783.010416666668", WHY_15_DIGITS },
  { "sum(instance('crops')/root/item/price)", NULL, "47.525", "47.525000000000006", WHY_15_DIGITS },
  { "/data/big + 0", NULL, "123456789012346000", "123456789012345680", WHY_15_DIGITS_BIG },
  { "pow(2, 53)", NULL, "9007199254740990", "9007199254740992", WHY_15_DIGITS_BIG },
  { "date(/data/dt_ny)", NULL, "2024-02-29", "2024-03-01", WHY_AS_WRITTEN },
  { "format-date-time(/data/dt_cn, '%Y-%m-%d %H:%M')", NULL, "2024-02-29 20:00", "2024-02-29 12:00", WHY_AS_WRITTEN },
  { "format-date(/data/dt_ny, '%Y-%m-%d')", NULL, "2024-02-29", "2024-03-01", WHY_AS_WRITTEN },
  { "boolean-from-string(2)", NULL, "false", "true", WHY_BOOLEAN_FROM_STRING },
  { "string-length('𝄞')", NULL, "1", "2", WHY_CHARACTERS },
  { "regex('𝄞', '^.$')", NULL, "true", "false", WHY_CHARACTERS },
  { "date(19782.75)", NULL, "2024-02-29", "2024-02-29T18:00:00.000-00:00", WHY_DATE_IS_DATE },
  { "date(/data/dt_cn)", NULL, "2024-02-29", "2024-02-29T12:00:00.000-00:00", WHY_DATE_IS_DATE },
  { "date('2024-02-29T10:00:00')", NULL, "2024-02-29", "2024-02-29T10:00:00.000-00:00", WHY_DATE_IS_DATE },
  { "date-time(19782.5)", NULL, "2024-02-29T12:00:00.000Z", "2024-02-29T12:00:00.000-00:00", WHY_DATE_TIME },
  { "date-time('2024-02-29')", NULL, "2024-02-29T00:00:00.000Z", "2024-02-29", WHY_DATE_TIME },
  { "/data/dt_ny = /data/date2", NULL, "false", "true", WHY_NODESET_EQUALITY },
  { "normalize-space(/data/ideo)", NULL, "中文\u3000abc", "中文 abc", WHY_NORMALIZE_SPACE },
  { "/data/tiny * 1", NULL, "0.0000001", "1e-7", WHY_NO_EXPONENT },
  { "1000000 * 1000000 * 1000000 * 1000", NULL, "1000000000000000000000", "1e+21", WHY_NO_EXPONENT },
  { "pow(10, 21)", NULL, "1000000000000000000000", "1e+21", WHY_NO_EXPONENT },
  { "1e3", NULL, ERROR_RESULT, "1000", WHY_NUMBER_LITERAL },
  { "/data/household/member[last()]/preceding-sibling::member[1]/name", NULL, "李四", "张三", WHY_REVERSE_AXIS },
  { "round(1.005, 2)", NULL, "1.01", "1", WHY_ROUND_DECIMAL },
  { "round(-1.005, 2)", NULL, "-1.01", "-1", WHY_ROUND_DECIMAL },
  { "selected-at(/data/multi_sp, 0)", NULL, "a", "", WHY_SELECTED_AT },
  { "selected-at(/data/multi_sp, 1)", NULL, "b", "", WHY_SELECTED_AT },
  { "selected(/data/multi_sp, '')", NULL, "false", "true", WHY_SELECTED_ITEM },
  { "substring('12345', 0, 3)", NULL, "12", "5", WHY_SUBSTRING },
  { "substring('12345', 0 div 0, 3)", NULL, "", "123", WHY_SUBSTRING },
  { "substring('12345', -1 div 0, 1 div 0)", NULL, "", "12345", WHY_SUBSTRING },
  { "-/data/int", NULL, "-42", ERROR_RESULT, WHY_UNARY_MINUS },
  { "sum(/data/d01 | /data/d02)", NULL, "0.3", ERROR_RESULT, WHY_UNION },
  { "count(/data/int | /data/neg)", NULL, "2", ERROR_RESULT, WHY_UNION },
  { "(/data/neg | /data/int)[1]", NULL, "42", ERROR_RESULT, WHY_UNION },
  { "string(/data/neg | /data/int)", NULL, "42", ERROR_RESULT, WHY_UNION },
  { "count(/data/int | /data/int)", NULL, "1", ERROR_RESULT, WHY_UNION },
  { "/data/sci + 0", NULL, "NaN", "1000", WHY_XPATH_NUMBER },
  { "/data/plus + 0", NULL, "NaN", "5", WHY_XPATH_NUMBER },
  { "number('1e3')", NULL, "NaN", "1000", WHY_XPATH_NUMBER },
  { "number('0x10')", NULL, "NaN", "16", WHY_XPATH_NUMBER },
  { "number('Infinity')", NULL, "NaN", "Infinity", WHY_XPATH_NUMBER },
  { "number(/data/plus)", NULL, "NaN", "5", WHY_XPATH_NUMBER },
  { "number(/data/date_bad)", NULL, "NaN", "19417", WHY_XS_DATE },
  { "date('2023-02-29')", NULL, "", "2023-03-01", WHY_XS_DATE },
  { "date('2024-2-9')", NULL, "", "2024-02-09", WHY_XS_DATE },
  { "digest(/data/name, 'SHA-1', 'hex')", NULL, "9dc8f18d51e728c73eb68d8efe4e9d266e2e5bf2",
    "d873bc2423f67df069c0a335b8c90e547bc110d1", WHY_DIGEST },
  { "digest('张三丰', 'SHA-1', 'hex')", NULL, "9dc8f18d51e728c73eb68d8efe4e9d266e2e5bf2",
    "155d230cb5ecb48901049c3c55616421855e97bc", WHY_DIGEST },
  { "sqrt(2)", NULL, "1.4142135623731", "1.4142135623730951", WHY_15_DIGITS },
  { "pi()", NULL, "3.14159265358979", "3.141592653589793", WHY_15_DIGITS },
  { "number(/data/dt_min)", NULL, "19783.0104166667", "19783.010416666668", WHY_15_DIGITS },
  { "decimal-time(/data/time)", NULL, "0.395833333333333", "0.0625", WHY_AS_WRITTEN },
  { NULL }
};

/*
 * Hearth bugs found by this test, expected to be fixed in Hearth: each is a
 * TODO while Hearth gives the result listed, and fails once it changes
 * (remove the entry then, or move it to known_differences[] if Enketo still
 * differs from the expected result).
 */
static const Difference hearth_bugs[] = {
  /* All found so far are fixed: the dateTime number, concat() of node-sets,
   * regex() \uXXXX escapes, format-date() of a number, substr() from the
   * end, selected() of a value with a space, and "/" inside predicates
   * over a secondary instance. */
  { NULL }
};

typedef struct {
  guint index;
  char *expr;
  char *context;
  char *enketo;        /* Enketo's result, or NULL */
  char *enketo_error;  /* else why Enketo failed */
} Case;

static struct {
  char *cases_path;
  xmlDoc *primary;
  GHashTable *instances;  /* (element-type utf8 xmlDoc) */
  GPtrArray *cases;       /* (element-type Case) */
  char *enketo_version;
  char *skip_reason;      /* the oracle cannot run here */
  char *oracle_failure;   /* the oracle ran and failed */
} fixture;

static void
case_free (Case *c)
{
  g_free (c->expr);
  g_free (c->context);
  g_free (c->enketo);
  g_free (c->enketo_error);
  g_free (c);
}

/* ---- the cases and Hearth's side ---------------------------------------- */

static char *
join_xml (JsonNode *node)
{
  GString *out = g_string_new (NULL);

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        g_string_append (out, json_array_get_string_element (a, i));
    }
  else
    g_string_append (out, json_node_get_string (node));
  return g_string_free (out, FALSE);
}

static xmlDoc *
parse_xml (JsonNode *node, const char *name)
{
  g_autofree char *xml = join_xml (node);
  xmlDoc *doc = xmlReadMemory (xml, (int) strlen (xml), name, "UTF-8", XML_PARSE_NONET);

  if (doc == NULL)
    g_error ("%s: the instance %s is not well-formed XML", fixture.cases_path, name);
  return doc;
}

static void
load_cases (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *secondary;
  JsonArray *cases;
  g_autoptr(GList) ids = NULL;

  if (!json_parser_load_from_file (parser, fixture.cases_path, &error))
    g_error ("%s: %s", fixture.cases_path, error->message);
  root = json_node_get_object (json_parser_get_root (parser));
  fixture.primary = parse_xml (json_object_get_member (root, "primary"), "primary");
  fixture.instances = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) xmlFreeDoc);
  secondary = json_object_get_object_member (root, "secondary");
  ids = json_object_get_members (secondary);
  for (GList *l = ids; l != NULL; l = l->next)
    g_hash_table_insert (fixture.instances, g_strdup (l->data),
                         parse_xml (json_object_get_member (secondary, l->data), l->data));

  fixture.cases = g_ptr_array_new_with_free_func ((GDestroyNotify) case_free);
  cases = json_object_get_array_member (root, "cases");
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *o = json_array_get_object_element (cases, i);
      Case *c = g_new0 (Case, 1);

      c->index = i;
      c->expr = g_strdup (json_object_get_string_member (o, "expr"));
      if (json_object_has_member (o, "context"))
        c->context = g_strdup (json_object_get_string_member (o, "context"));
      g_ptr_array_add (fixture.cases, c);
    }
}

/* Hearth's string result, or NULL with *error_out set. */
static char *
hearth_evaluate (const Case *c, char **error_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthXPathExpr) expr = NULL;
  g_autoptr(HearthXValue) value = NULL;
  HearthXPathContext ctx = { 0 };
  xmlNode *node = xmlDocGetRootElement (fixture.primary);

  if (c->context != NULL)
    {
      g_autoptr(HearthXPathExpr) path = hearth_xpath_parse (c->context, &error);
      g_autoptr(HearthXValue) nodes = NULL;

      if (path != NULL)
        {
          ctx.node = node;
          ctx.instances = fixture.instances;
          nodes = hearth_xpath_evaluate (path, &ctx, &error);
        }
      if (nodes == NULL || nodes->type != HEARTH_XVALUE_NODESET || nodes->nodes->len != 1)
        g_error ("the context %s of case %u does not name one node%s%s", c->context, c->index,
                 error != NULL ? ": " : "", error != NULL ? error->message : "");
      node = g_ptr_array_index (nodes->nodes, 0);
    }

  expr = hearth_xpath_parse (c->expr, &error);
  if (expr == NULL)
    {
      *error_out = g_strdup (error->message);
      return NULL;
    }
  ctx.node = node;
  ctx.current = node;
  ctx.position = 1;
  ctx.size = 1;
  ctx.instances = fixture.instances;
  ctx.today = "2024-03-15";
  ctx.now = "2024-03-15T10:00:00.000+08:00";
  value = hearth_xpath_evaluate (expr, &ctx, &error);
  if (value == NULL)
    {
      *error_out = g_strdup (error->message);
      return NULL;
    }
  return hearth_xvalue_to_string (value);
}

static const Difference *
find_difference (const Difference *table, const Case *c)
{
  for (gsize i = 0; table[i].expr != NULL; i++)
    if (g_str_equal (table[i].expr, c->expr) && g_strcmp0 (table[i].context, c->context) == 0)
      return &table[i];
  return NULL;
}

#define KNOWN(c) find_difference (known_differences, (c))
#define BUG(c) find_difference (hearth_bugs, (c))

/* Runs without node: the cases and the tables are consistent. */
static void
test_cases_consistent (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const Difference *tables[] = { known_differences, hearth_bugs };
  guint evaluated = 0;

  g_assert_cmpuint (fixture.cases->len, >=, 300);
  for (guint i = 0; i < fixture.cases->len; i++)
    {
      const Case *c = g_ptr_array_index (fixture.cases, i);
      g_autofree char *error = NULL;
      g_autofree char *value = NULL;
      char *key = g_strdup_printf ("%s\n%s", c->expr, c->context != NULL ? c->context : "");

      if (!g_hash_table_add (seen, key))
        g_error ("case %u (%s) is listed twice", i, c->expr);
      if (KNOWN (c) != NULL && BUG (c) != NULL)
        g_error ("case %u (%s) is both a known difference and a Hearth bug", i, c->expr);
      value = hearth_evaluate (c, &error);
      if (value != NULL)
        evaluated++;
    }
  /* Most cases must evaluate in Hearth, or the comparison is hollow. */
  g_assert_cmpuint (evaluated, >=, fixture.cases->len * 8 / 10);

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    for (gsize i = 0; tables[t][i].expr != NULL; i++)
      {
        const Difference *d = &tables[t][i];
        g_autofree char *key = g_strdup_printf ("%s\n%s", d->expr, d->context != NULL ? d->context : "");

        if (!g_hash_table_contains (seen, key))
          g_error ("%s lists \"%s\", which is not a case of %s",
                   t == 0 ? "known_differences" : "hearth_bugs", d->expr, fixture.cases_path);
        if (g_str_equal (d->hearth, d->enketo))
          g_error ("\"%s\" is listed as a difference but both results are \"%s\"", d->expr, d->hearth);
        if (d->why == NULL || strlen (d->why) < 20)
          g_error ("\"%s\" needs the specification's words", d->expr);
        if ((t == 1) != (d->expected != NULL))
          g_error ("\"%s\": a Hearth bug, and only a bug, names the expected result", d->expr);
        if (t == 1 && g_str_equal (d->expected, d->hearth))
          g_error ("\"%s\": the expected result is Hearth's already", d->expr);
      }
}

static guint n_equal, n_known, n_bugs, n_todo, n_failed;

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *hearth_error = NULL;
  g_autofree char *hearth = hearth_evaluate (c, &hearth_error);
  const char *h = hearth != NULL ? hearth : ERROR_RESULT;
  const char *e = c->enketo != NULL ? c->enketo : ERROR_RESULT;
  const Difference *known = KNOWN (c);
  const Difference *bug = BUG (c);

  g_test_message ("%s%s%s", c->expr, c->context != NULL ? "   context: " : "",
                  c->context != NULL ? c->context : "");
  g_test_message ("Hearth: \"%s\"%s%s", h, hearth_error != NULL ? " " : "",
                  hearth_error != NULL ? hearth_error : "");
  g_test_message ("Enketo: \"%s\"%s%s", e, c->enketo_error != NULL ? " " : "",
                  c->enketo_error != NULL ? c->enketo_error : "");

  if (hearth == NULL && c->enketo == NULL)
    {
      n_failed++;
      g_test_fail_printf ("neither side evaluates \"%s\": the case proves nothing", c->expr);
      return;
    }
  if (hearth == NULL && strstr (hearth_error, "unknown function") != NULL)
    {
      n_todo++;
      g_test_incomplete_printf ("Hearth lacks a function: %s (Enketo: \"%s\")", hearth_error, e);
      return;
    }
  if (bug != NULL)
    {
      if (!g_str_equal (h, bug->hearth) || !g_str_equal (e, bug->enketo))
        {
          n_failed++;
          if (g_str_equal (h, bug->expected))
            g_test_fail_printf ("Hearth bug fixed: \"%s\" now gives \"%s\" (Enketo \"%s\"): remove it from "
                                "hearth_bugs[]%s", c->expr, h, e,
                                g_str_equal (h, e) ? "" : " and list it in known_differences[]");
          else
            g_test_fail_printf ("\"%s\": hearth_bugs[] says Hearth \"%s\", Enketo \"%s\"; now Hearth \"%s\", "
                                "Enketo \"%s\" (expected \"%s\"): update the entry", c->expr, bug->hearth,
                                bug->enketo, h, e, bug->expected);
        }
      else
        {
          n_bugs++;
          g_test_incomplete_printf ("Hearth bug, to be fixed: \"%s\" gives \"%s\", expected \"%s\" "
                                    "(Enketo \"%s\"): %s", c->expr, h, bug->expected, e, bug->why);
        }
      return;
    }
  if (known != NULL)
    {
      if (g_str_equal (h, e))
        {
          n_failed++;
          g_test_fail_printf ("\"%s\" no longer differs (both \"%s\"): remove it from known_differences[]",
                              c->expr, h);
        }
      else if (!g_str_equal (h, known->hearth) || !g_str_equal (e, known->enketo))
        {
          n_failed++;
          g_test_fail_printf ("\"%s\": known_differences[] says Hearth \"%s\", Enketo \"%s\"; now Hearth "
                              "\"%s\", Enketo \"%s\"", c->expr, known->hearth, known->enketo, h, e);
        }
      else
        {
          n_known++;
          g_test_message ("known difference: %s", known->why);
        }
      return;
    }
  if (!g_str_equal (h, e))
    {
      n_failed++;
      g_test_fail_printf ("\"%s\"%s%s: Hearth \"%s\", Enketo \"%s\" (a new difference: fix Hearth, or list it "
                          "with the specification's words)", c->expr, c->context != NULL ? " at " : "",
                          c->context != NULL ? c->context : "", h, e);
      return;
    }
  n_equal++;
}

static void
test_summary (void)
{
  g_test_message ("Enketo (openrosa-xpath-evaluator) %s: %u cases, %u equal, %u known differences, "
                  "%u Hearth bugs (TODO), %u missing in Hearth (TODO), %u failed",
                  fixture.enketo_version, fixture.cases->len, n_equal, n_known, n_bugs, n_todo, n_failed);
  /* Nothing passes trivially: when every case ran, most agreed. */
  if (n_equal + n_known + n_bugs + n_todo + n_failed == fixture.cases->len)
    g_assert_cmpuint (n_equal, >=, fixture.cases->len / 2);
}

/* Without Enketo, the one test is a skip (so that meson reports it), after
 * the checks that need Hearth only. */
static void
test_skipped (void)
{
  test_cases_consistent ();
  g_test_skip (fixture.skip_reason);
}

static void
test_oracle_failed (void)
{
  g_test_fail_printf ("%s", fixture.oracle_failure);
}

/* ---- Enketo's side -------------------------------------------------------- */

static void
child_setup (gpointer data)
{
  /* Its own process group, so that a time-out ends npm's children too. */
  setpgid (0, 0);
}

static gboolean
on_timeout (gpointer data)
{
  GSubprocess *proc = data;
  const char *id = g_subprocess_get_identifier (proc);

  if (id != NULL)
    kill (-(pid_t) g_ascii_strtoll (id, NULL, 10), SIGKILL);
  return G_SOURCE_REMOVE;
}

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  GAsyncResult **out = data;
  *out = g_object_ref (result);
}

/*
 * Runs @argv with the @env pairs added, in @cwd, for at most @timeout_s
 * seconds. Returns FALSE with *why when it could not start or was killed;
 * else TRUE with its exit status (-1: killed by a signal) and its outputs.
 */
static gboolean
run (const char * const *argv, const char * const *env, const char *cwd, guint timeout_s,
     int *status, char **out, char **err, char **why)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSource) timeout = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  gboolean timed_out, ok;

  for (guint i = 0; env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  g_main_context_push_thread_default (context);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (proc == NULL)
    {
      g_main_context_pop_thread_default (context);
      *why = g_strdup_printf ("cannot run %s: %s", argv[0], error->message);
      return FALSE;
    }
  timeout = g_timeout_source_new_seconds (timeout_s);
  g_source_set_callback (timeout, on_timeout, proc, NULL);
  g_source_attach (timeout, context);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, on_communicated, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  timed_out = g_source_is_destroyed (timeout);
  g_source_destroy (timeout);
  ok = g_subprocess_communicate_utf8_finish (proc, result, out, err, &error);
  g_subprocess_wait (proc, NULL, NULL);
  g_main_context_pop_thread_default (context);
  if (timed_out)
    {
      *why = g_strdup_printf ("%s did not finish within %u s", argv[0], timeout_s);
      return FALSE;
    }
  if (!ok)
    {
      *why = g_strdup_printf ("cannot read the output of %s: %s", argv[0], error->message);
      return FALSE;
    }
  *status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  return TRUE;
}

/* A program's messages on one line, for a skip or failure reason: the
 * first @lines lines (npm says what went wrong first). */
static char *
excerpt (const char *text, guint lines)
{
  g_auto(GStrv) all = g_strsplit (text != NULL ? text : "", "\n", -1);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; all[i] != NULL && i < lines; i++)
    {
      g_strstrip (all[i]);
      if (all[i][0] == '\0')
        continue;
      if (out->len > 0)
        g_string_append (out, " / ");
      g_string_append (out, all[i]);
    }
  if (out->len > 500)
    g_string_truncate (out, 500);
  return g_strdup (out->str);
}

static gboolean
same_file (const char *a, const char *b)
{
  g_autofree char *x = NULL, *y = NULL;
  gsize nx, ny;

  return g_file_get_contents (a, &x, &nx, NULL) && g_file_get_contents (b, &y, &ny, NULL) &&
         nx == ny && memcmp (x, y, nx) == 0;
}

static gboolean
copy_file (const char *from, const char *to)
{
  g_autofree char *text = NULL;
  gsize n;

  return g_file_get_contents (from, &text, &n, NULL) && g_file_set_contents (to, text, (gssize) n, NULL);
}

/*
 * Installs the packages of tests/differential/package-lock.json into @dir
 * (in the build tree) unless they are there already for that lock file.
 * Returns NULL, or why Enketo cannot run here.
 */
static char *
install_packages (const char *source_dir, const char *dir)
{
  g_autofree char *npm = g_find_program_in_path ("npm");
  g_autofree char *lock = g_build_filename (source_dir, "package-lock.json", NULL);
  g_autofree char *manifest = g_build_filename (source_dir, "package.json", NULL);
  g_autofree char *lock_copy = g_build_filename (dir, "package-lock.json", NULL);
  g_autofree char *manifest_copy = g_build_filename (dir, "package.json", NULL);
  g_autofree char *installed = g_build_filename (dir, "node_modules", ".hearth-installed", NULL);
  g_autofree char *out = NULL, *err = NULL, *why = NULL;
  int status;
  const char *argv[] = { npm, "ci", "--prefix", dir, "--no-audit", "--no-fund", "--ignore-scripts",
                         "--loglevel=error", "--fetch-retries=1", "--fetch-timeout=60000", NULL };
  const char *env[] = { "npm_config_update_notifier", "false", "npm_config_engine_strict", "false", NULL };

  if (g_file_test (installed, G_FILE_TEST_EXISTS) && same_file (lock, lock_copy) &&
      same_file (manifest, manifest_copy))
    return NULL;
  if (npm == NULL)
    return g_strdup ("npm is not in PATH, so Enketo's evaluator cannot be installed");
  if (g_mkdir_with_parents (dir, 0755) != 0 || !copy_file (lock, lock_copy) ||
      !copy_file (manifest, manifest_copy))
    return g_strdup_printf ("cannot prepare %s: %s", dir, g_strerror (errno));
  g_printerr ("# npm ci --prefix %s (at most %u s)\n", dir, NPM_TIMEOUT_S);
  if (!run (argv, env, dir, NPM_TIMEOUT_S, &status, &out, &err, &why))
    return g_strdup_printf ("npm ci failed: %s", why);
  if (status != 0)
    {
      g_autofree char *what = excerpt (err, 4);
      return g_strdup_printf ("npm ci failed (exit status %d): %s", status, what);
    }
  if (!g_file_set_contents (installed, "", 0, NULL))
    return g_strdup_printf ("cannot write %s", installed);
  return NULL;
}

/* Runs Enketo over the cases; sets fixture.skip_reason or .oracle_failure
 * when it cannot. */
static void
run_oracle (void)
{
  const char *source = g_getenv ("HEARTH_SOURCE_DIR");
  const char *scratch = g_getenv ("HEARTH_TEST_TMPDIR");
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *source_dir = g_build_filename (source, "tests", "differential", NULL);
  g_autofree char *script = g_build_filename (source_dir, "enketo-eval.mjs", NULL);
  /* Beside the tests' scratch folders; run by hand, in ./test-scratch as
   * the other tests do (never in the source tree). */
  g_autofree char *scratch_parent = scratch != NULL ? g_path_get_dirname (scratch) : g_strdup ("test-scratch");
  g_autofree char *dir = g_build_filename (scratch_parent, "xpath-differential-node", NULL);
  g_autofree char *out = NULL, *err = NULL, *why = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *results;
  int status;
  const char *env[] = { "TZ", "UTC", "LC_ALL", "C.UTF-8", "LANG", "C.UTF-8", "NODE_OPTIONS", "", NULL };

  if (node == NULL)
    {
      fixture.skip_reason = g_strdup ("node is not in PATH: Enketo's evaluator cannot run, nothing compared");
      return;
    }
  fixture.skip_reason = install_packages (source_dir, dir);
  if (fixture.skip_reason != NULL)
    return;
  {
    const char *argv[] = { node, script, dir, fixture.cases_path, NULL };
    if (!run (argv, env, NULL, NODE_TIMEOUT_S, &status, &out, &err, &why))
      {
        fixture.oracle_failure = g_strdup_printf ("enketo-eval.mjs: %s", why);
        return;
      }
  }
  if (status == 77)
    {
      g_autofree char *what = excerpt (err, 4);
      fixture.skip_reason = g_strdup_printf ("Enketo cannot run here: %s", what);
      return;
    }
  if (status != 0)
    {
      g_autofree char *what = excerpt (err, 20);
      fixture.oracle_failure = g_strdup_printf ("enketo-eval.mjs failed (exit status %d): %s", status, what);
      return;
    }
  if (!json_parser_load_from_data (parser, out, -1, &error))
    {
      fixture.oracle_failure = g_strdup_printf ("enketo-eval.mjs printed no JSON: %s", error->message);
      return;
    }
  fixture.enketo_version = g_strdup (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)),
                                                                    "enketo"));
  results = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "results");
  if (json_array_get_length (results) != fixture.cases->len)
    {
      fixture.oracle_failure = g_strdup_printf ("enketo-eval.mjs gave %u results for %u cases",
                                                json_array_get_length (results), fixture.cases->len);
      return;
    }
  for (guint i = 0; i < fixture.cases->len; i++)
    {
      Case *c = g_ptr_array_index (fixture.cases, i);
      JsonObject *r = json_array_get_object_element (results, i);

      if (json_object_has_member (r, "value"))
        c->enketo = g_strdup (json_object_get_string_member (r, "value"));
      else
        c->enketo_error = g_strdup (json_object_get_string_member (r, "error"));
    }
}

int
main (int argc, char **argv)
{
  const char *source;
  int status;
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  /* Report every case, not only the first that fails. */
  for (int i = 0; i < argc; i++)
    g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, (char *) "--keep-going");
  g_ptr_array_add (args, NULL);
  argc = (int) args->len - 1;
  argv = (char **) args->pdata;

  /* Hearth's messages in English (a missing function is told by its
   * message), and UTF-8 output whatever the environment's locale. */
  g_setenv ("LANGUAGE", "C", TRUE);
  /* The device's time zone, on both sides: UTC. */
  g_setenv ("TZ", "UTC", TRUE);
  tzset ();
  if (setlocale (LC_ALL, "C.UTF-8") == NULL)
    setlocale (LC_ALL, "");
  test_init (&argc, &argv);
  source = g_getenv ("HEARTH_SOURCE_DIR");
  if (source == NULL)
    g_error ("HEARTH_SOURCE_DIR is not set (meson test sets it)");
  fixture.cases_path = g_build_filename (source, "tests", "differential", "cases.json", NULL);
  load_cases ();

  run_oracle ();
  if (fixture.skip_reason != NULL)
    g_test_add_func ("/xpath/differential/enketo", test_skipped);
  else if (fixture.oracle_failure != NULL)
    g_test_add_func ("/xpath/differential/enketo", test_oracle_failed);
  else
    {
      g_test_add_func ("/xpath/differential/cases-consistent", test_cases_consistent);
      for (guint i = 0; i < fixture.cases->len; i++)
        {
          g_autofree char *path = g_strdup_printf ("/xpath/differential/%03u", i);
          g_test_add_data_func (path, g_ptr_array_index (fixture.cases, i), test_case);
        }
      g_test_add_func ("/xpath/differential/summary", test_summary);
    }

  status = g_test_run ();
  g_ptr_array_unref (fixture.cases);
  g_hash_table_unref (fixture.instances);
  xmlFreeDoc (fixture.primary);
  g_free (fixture.cases_path);
  g_free (fixture.enketo_version);
  g_free (fixture.skip_reason);
  g_free (fixture.oracle_failure);
  return status;
}
