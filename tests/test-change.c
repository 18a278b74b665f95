/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-change.c: what a change goes through on the wire before any store
 * sees it: the change codec (sync/change.h: a round trip, and every
 * refusal naming the member at fault), the raw nesting count
 * (sync/json-depth.h), request signing (sync/sign.h) and the center's push
 * body parser, with the push fuzz target's saved inputs.
 */
#include "test-util.h"
#include "fuzz/fuzz-targets.h"

#include "center-push-parse.h"
#include "center-sync.h"
#include "change.h"
#include "change-scan.h"
#include "json-depth.h"
#include "sign.h"
#include "workflow.h"

#include <sodium.h>
#include <string.h>

#ifndef HEARTH_FUZZ_CORPUS_DIR
#error "HEARTH_FUZZ_CORPUS_DIR must name tests/fuzz"
#endif

#define ID "0b6c3f0e-6f7e-4a53-9d57-3a1c2f7e9b10"
#define HH "5d0f4c52-0a8b-4d9e-bb71-9c1e7f2a6d33"
#define HLC "001764460800000-00000002-dev-a"
#define HLC_P "001764400000000-00000003-dev-b"

static JsonNode *
parse (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (parser));
}

/* ---- the codec ---------------------------------------------------------------------- */

/* The direct writer (hearth_change_append_json()) gives json-glib's text
 * byte for byte, whole and as the push digest hashes it: digests stored
 * before it must keep matching. */
static void
assert_direct_json (const HearthChange *c)
{
  g_autoptr(JsonNode) node = hearth_change_to_json (c);
  g_autofree char *whole = json_to_string (node, FALSE);
  g_autofree char *digest_text = NULL;
  g_autoptr(GString) direct = g_string_new ("prefix");

  hearth_change_append_json (c, FALSE, direct);
  g_assert_cmpstr (direct->str + strlen ("prefix"), ==, whole);
  json_object_remove_member (json_node_get_object (node), "seq");
  json_object_remove_member (json_node_get_object (node), "household");
  json_object_remove_member (json_node_get_object (node), "village");
  digest_text = json_to_string (node, FALSE);
  g_string_truncate (direct, 0);
  hearth_change_append_json (c, TRUE, direct);
  g_assert_cmpstr (direct->str, ==, digest_text);
  if (c->kind == HEARTH_CHANGE_RECORD)
    {
      g_autofree char *fields = json_to_string (json_object_get_member (json_node_get_object (node), "fields"), FALSE);

      g_string_truncate (direct, 0);
      hearth_change_append_fields_json (c, direct);
      g_assert_cmpstr (direct->str, ==, fields);
    }
}

static void
assert_round_trip (const char *text)
{
  g_autoptr(JsonNode) node = parse (text);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthChange) c = hearth_change_from_json (node, NULL, &error);
  g_autoptr(JsonNode) written = NULL;
  g_autoptr(JsonNode) rewritten = NULL;
  g_autoptr(HearthChange) again = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (c);
  written = hearth_change_to_json (c);
  again = hearth_change_from_json (written, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hearth_change_equal (c, again));
  g_assert_cmpint (again->seq, ==, c->seq);
  g_assert_cmpint (again->cursor, ==, c->cursor);
  rewritten = hearth_change_to_json (again);
  first = json_to_string (written, FALSE);
  second = json_to_string (rewritten, FALSE);
  g_assert_cmpstr (first, ==, second);
  assert_direct_json (c);
}

static void
test_round_trip (void)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(HearthChange) c = NULL;
  g_autoptr(GError) error = NULL;

  assert_round_trip ("{\"seq\": 41, \"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", "
                     "\"household\": \"" ID "\", \"village\": \"361102001201\", \"field\": \"phone\", "
                     "\"value\": \"13800000000\", \"hlc\": \"" HLC "\", \"parents\": [\"" HLC_P "\"], "
                     "\"wall\": \"2026-11-30T08:00:00+08:00\"}");
  /* A first value (no parents), a blank value, Chinese text, a cursor. */
  assert_round_trip ("{\"cursor\": 1043, \"kind\": \"edit\", \"table\": \"members\", \"id\": \"" ID "\", "
                     "\"household\": \"" HH "\", \"village\": \"361102001201\", \"field\": \"name\", "
                     "\"value\": \"王芳\", \"hlc\": \"" HLC "\", \"parents\": []}");
  assert_round_trip ("{\"kind\": \"edit\", \"table\": \"tasks\", \"id\": \"" ID "\", \"field\": \"status\", "
                     "\"value\": \"\", \"hlc\": \"" HLC "\"}");
  assert_round_trip ("{\"seq\": 7, \"kind\": \"record\", \"table\": \"submissions\", \"id\": \"" ID "\", "
                     "\"household\": \"" HH "\", \"village\": \"361102001201\", \"fields\": {\"form_id\": "
                     "\"hearth_household_visit\", \"instance_xml\": \"<data id=\\\"x\\\">收入</data>\"}}");
  assert_round_trip ("{\"kind\": \"record\", \"table\": \"audit\", \"id\": \"" ID "\", \"fields\": {}}");
  /* One write of several fields under one version, given in any order. */
  assert_round_trip ("{\"seq\": 42, \"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", "
                     "\"household\": \"" ID "\", \"village\": \"361102001201\", \"hlc\": \"" HLC "\", "
                     "\"fields\": {\"risk_level\": {\"value\": \"2\", \"parents\": [\"" HLC_P "\"]}, "
                     "\"head_name\": {\"parents\": [], \"value\": \"王芳\"}, \"phone\": {\"value\": \"\"}}, "
                     "\"wall\": \"2026-11-30T08:00:00+08:00\"}");
  assert_round_trip ("{\"cursor\": 9, \"kind\": \"edits\", \"table\": \"measures\", \"id\": \"" ID "\", "
                     "\"hlc\": \"" HLC "\", \"fields\": {\"kind\": {\"value\": \"a\\\"b\", \"parents\": null}}}");

  /* What was read is what was sent. */
  node = parse ("{\"seq\": 3, \"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"household\": \"" ID
                "\", \"village\": \"361102001201\", \"field\": \"phone\", \"value\": \"1\", \"hlc\": \"" HLC "\", "
                "\"parents\": [\"" HLC_P "\", \"" HLC "\"]}");
  c = hearth_change_from_json (node, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->kind, ==, HEARTH_CHANGE_EDIT);
  g_assert_cmpint (c->seq, ==, 3);
  g_assert_cmpstr (c->table, ==, "households");
  g_assert_cmpstr (c->village, ==, "361102001201");
  g_assert_cmpstr (c->value, ==, "1");
  g_assert_cmpuint (c->parents->len, ==, 2);
  g_assert_null (c->wall);
  g_clear_pointer (&c, hearth_change_free);
  g_clear_pointer (&node, json_node_unref);

  /* An "edits" change: its fields in name order, each with its value and
   * parents, the version and wall time the write's. */
  node = parse ("{\"seq\": 5, \"kind\": \"edits\", \"table\": \"members\", \"id\": \"" ID "\", \"household\": \""
                HH "\", \"village\": \"361102001201\", \"hlc\": \"" HLC "\", \"wall\": \"w\", \"fields\": "
                "{\"name\": {\"value\": \"王芳\", \"parents\": [\"" HLC_P "\"]}, \"id_number\": {\"value\": \"x\"}}}");
  c = hearth_change_from_json (node, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->kind, ==, HEARTH_CHANGE_EDITS);
  g_assert_true (hearth_change_valid (c));
  g_assert_null (c->field);
  g_assert_null (c->parents);
  g_assert_null (c->fields);
  g_assert_cmpuint (c->edits->len, ==, 2);
  g_assert_cmpstr (((HearthChangeField *) c->edits->pdata[0])->field, ==, "id_number");
  g_assert_cmpuint (((HearthChangeField *) c->edits->pdata[0])->parents->len, ==, 0);
  g_assert_cmpstr (hearth_change_find_edit (c, "name")->value, ==, "王芳");
  g_assert_null (hearth_change_find_edit (c, "phone"));
  {
    g_autoptr(GPtrArray) expanded = hearth_change_expand (c);
    g_autoptr(HearthChange) copy = hearth_change_copy (c);
    HearthChange *name;

    g_assert_true (hearth_change_equal (c, copy));
    g_assert_cmpint (copy->seq, ==, 5);
    g_assert_cmpuint (expanded->len, ==, 2);
    name = expanded->pdata[1];
    g_assert_cmpint (name->kind, ==, HEARTH_CHANGE_EDIT);
    g_assert_true (hearth_change_valid (name));
    g_assert_cmpint (name->seq, ==, 5);
    g_assert_cmpstr (name->field, ==, "name");
    g_assert_cmpstr (name->value, ==, "王芳");
    g_assert_cmpstr (name->hlc, ==, HLC);
    g_assert_cmpstr (name->wall, ==, "w");
    g_assert_cmpstr (name->household, ==, HH);
    g_assert_cmpstr (name->village, ==, "361102001201");
    g_assert_cmpstr (name->parents->pdata[0], ==, HLC_P);
    g_assert_cmpstr (((HearthChange *) expanded->pdata[0])->field, ==, "id_number");
    /* Another value of a field: another change. */
    hearth_change_add_edit (copy, "name", "王芳芳", NULL);
    g_assert_cmpuint (copy->edits->len, ==, 2);
    g_assert_false (hearth_change_equal (c, copy));
    g_assert_true (hearth_change_valid (copy));
  }
}

static void
test_equal (void)
{
  g_autoptr(JsonNode) a_node = parse ("{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", "
                                      "\"field\": \"phone\", \"value\": \"1\", \"hlc\": \"" HLC "\", "
                                      "\"parents\": [\"" HLC_P "\", \"" HLC "\"]}");
  g_autoptr(JsonNode) b_node = parse ("{\"seq\": 9, \"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID
                                      "\", \"field\": \"phone\", \"value\": \"1\", \"hlc\": \"" HLC "\", "
                                      "\"parents\": [\"" HLC "\", \"" HLC_P "\"], \"wall\": \"later\"}");
  g_autoptr(JsonNode) c_node = parse ("{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", "
                                      "\"field\": \"phone\", \"value\": \"2\", \"hlc\": \"" HLC "\", "
                                      "\"parents\": [\"" HLC_P "\", \"" HLC "\"]}");
  g_autoptr(JsonNode) r1 = parse ("{\"kind\": \"record\", \"table\": \"reviews\", \"id\": \"" ID "\", "
                                  "\"fields\": {\"to\": \"monitored\", \"from\": \"none\"}}");
  g_autoptr(JsonNode) r2 = parse ("{\"kind\": \"record\", \"table\": \"reviews\", \"id\": \"" ID "\", "
                                  "\"fields\": {\"from\": \"none\", \"to\": \"monitored\"}}");
  g_autoptr(JsonNode) r3 = parse ("{\"kind\": \"record\", \"table\": \"reviews\", \"id\": \"" ID "\", "
                                  "\"fields\": {\"from\": \"none\", \"to\": \"returned\"}}");
  g_autoptr(HearthChange) a = hearth_change_from_json (a_node, NULL, NULL);
  g_autoptr(HearthChange) b = hearth_change_from_json (b_node, NULL, NULL);
  g_autoptr(HearthChange) c = hearth_change_from_json (c_node, NULL, NULL);
  g_autoptr(HearthChange) x = hearth_change_from_json (r1, NULL, NULL);
  g_autoptr(HearthChange) y = hearth_change_from_json (r2, NULL, NULL);
  g_autoptr(HearthChange) z = hearth_change_from_json (r3, NULL, NULL);

  /* Parents are a set; seq and the display-only wall time do not count. */
  g_assert_true (hearth_change_equal (a, b));
  g_assert_false (hearth_change_equal (a, c));
  g_assert_true (hearth_change_equal (x, y));
  g_assert_false (hearth_change_equal (x, z));
  g_assert_false (hearth_change_equal (a, x));

  /* Of "edits": the same version, fields, values and parent sets. */
  {
    g_autoptr(JsonNode) e1 = parse ("{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \""
                                    HLC "\", \"fields\": {\"phone\": {\"value\": \"1\", \"parents\": [\"" HLC_P "\", \""
                                    HLC "\"]}, \"size\": {\"value\": \"4\"}}}");
    g_autoptr(JsonNode) e2 = parse ("{\"seq\": 3, \"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID
                                    "\", \"hlc\": \"" HLC "\", \"wall\": \"x\", \"fields\": {\"size\": {\"value\": \"4\", "
                                    "\"parents\": []}, \"phone\": {\"value\": \"1\", \"parents\": [\"" HLC "\", \"" HLC_P
                                    "\"]}}}");
    g_autoptr(JsonNode) e3 = parse ("{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \""
                                    HLC "\", \"fields\": {\"phone\": {\"value\": \"1\", \"parents\": [\"" HLC_P
                                    "\"]}, \"size\": {\"value\": \"4\"}}}");
    g_autoptr(JsonNode) e4 = parse ("{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \""
                                    HLC "\", \"fields\": {\"phone\": {\"value\": \"1\", \"parents\": [\"" HLC_P "\", \""
                                    HLC "\"]}}}");
    g_autoptr(HearthChange) p = hearth_change_from_json (e1, NULL, NULL);
    g_autoptr(HearthChange) q = hearth_change_from_json (e2, NULL, NULL);
    g_autoptr(HearthChange) r = hearth_change_from_json (e3, NULL, NULL);
    g_autoptr(HearthChange) t = hearth_change_from_json (e4, NULL, NULL);

    g_assert_true (hearth_change_equal (p, q));
    g_assert_false (hearth_change_equal (p, r));
    g_assert_false (hearth_change_equal (p, t));
    g_assert_false (hearth_change_equal (t, a));
  }
}

/* Every refusal names where (the element given) and the member at fault. */
static void
test_refusals (void)
{
  g_autofree char *big = NULL;
  g_autoptr(GString) many_parents = g_string_new ("[");
  g_autoptr(GString) many_fields = g_string_new ("{");
  g_autofree char *many_edits_json = NULL;
  struct {
    const char *json;
    const char *member;
  } cases[] = {
    { "[]", "JSON object" },
    { "{\"table\": \"households\"}", "“kind”" },
    { "{\"kind\": 1}", "“kind”" },
    { "{\"kind\": \"gossip\"}", "“kind”" },
    { "{\"kind\": \"edit\", \"seq\": 0}", "“seq”" },
    { "{\"kind\": \"edit\", \"seq\": \"1\"}", "“seq”" },
    { "{\"kind\": \"edit\", \"seq\": 1.5}", "“seq”" },
    { "{\"kind\": \"edit\", \"cursor\": -1}", "“cursor”" },
    { "{\"kind\": \"edit\", \"id\": \"" ID "\"}", "“table”" },
    { "{\"kind\": \"edit\", \"table\": \"users\", \"id\": \"" ID "\"}", "“table”" },
    { "{\"kind\": \"edit\", \"table\": \"submissions\", \"id\": \"" ID "\"}", "“table”" },
    { "{\"kind\": \"record\", \"table\": \"households\", \"id\": \"" ID "\"}", "“table”" },
    { "{\"kind\": \"edit\", \"table\": \"households\"}", "“id”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"42\"}", "“id”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"household\": \"x\"}", "“household”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"household\": [\"" HH "\"]}",
      "“household”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"village\": \"3611\"}", "“village”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"village\": \"36110200120a\"}",
      "“village”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"value\": \"1\", \"hlc\": \"" HLC "\"}",
      "“field”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"Phone\", \"value\": \"1\", "
      "\"hlc\": \"" HLC "\"}",
      "“field”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"hlc\": \"" HLC "\"}",
      "“value”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": 138, "
      "\"hlc\": \"" HLC "\"}",
      "“value”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": \"1\"}",
      "“hlc”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": \"1\", "
      "\"hlc\": \"yesterday\"}",
      "“hlc”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": \"1\", "
      "\"hlc\": \"" HLC "\", \"wall\": 5}",
      "“wall”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": \"1\", "
      "\"hlc\": \"" HLC "\", \"parents\": \"" HLC_P "\"}",
      "“parents”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": \"1\", "
      "\"hlc\": \"" HLC "\", \"parents\": [1]}",
      "“parents”" },
    { "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": \"1\", "
      "\"hlc\": \"" HLC "\", \"parents\": [\"last week\"]}",
      "“parents”" },
    { "{\"kind\": \"record\", \"table\": \"submissions\", \"id\": \"" ID "\"}", "“fields”" },
    { "{\"kind\": \"record\", \"table\": \"submissions\", \"id\": \"" ID "\", \"fields\": [\"a\"]}", "“fields”" },
    { "{\"kind\": \"record\", \"table\": \"submissions\", \"id\": \"" ID "\", \"fields\": {\"Form\": \"x\"}}",
      "“fields”" },
    { "{\"kind\": \"record\", \"table\": \"submissions\", \"id\": \"" ID "\", \"fields\": {\"form_id\": 3}}",
      "“fields.form_id”" },
    { "{\"kind\": \"edits\", \"table\": \"submissions\", \"id\": \"" ID "\"}", "“table”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"fields\": {}}", "“hlc”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": {}}", "“fields”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": [\"a\"]}", "“fields”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": {\"phone\": \"1\"}}", "“fields.phone”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": {\"Phone\": {\"value\": \"1\"}}}", "“Phone”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": {\"phone\": {\"parents\": []}}}", "“fields.phone.value”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": {\"phone\": {\"value\": 1}}}", "“fields.phone.value”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": {\"phone\": {\"value\": \"1\", \"hlc\": \"" HLC "\"}}}", "“hlc”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": {\"phone\": {\"value\": \"1\", \"parents\": [\"soon\"]}}}", "“fields.phone.parents”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"fields\": {\"phone\": {\"value\": \"1\", \"parents\": \"" HLC_P "\"}}}",
      "“fields.phone.parents”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", " "\"wall\": 3, \"fields\": {\"phone\": {\"value\": \"1\"}}}", "“wall”" },
    { "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"now\", "
      "\"fields\": {\"phone\": {\"value\": \"1\"}}}", "“hlc”" },
    { NULL, "“fields”" },   /* 65 fields of an edits change */
    { NULL, "“value”" },    /* a value over 1 MiB, below */
    { NULL, "“parents”" },  /* 17 parents */
    { NULL, "“fields”" },   /* 65 fields */
  };

  big = g_strnfill (HEARTH_CHANGE_MAX_VALUE + 1, 'x');
  cases[G_N_ELEMENTS (cases) - 3].json = g_strdup_printf (
    "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": \"%s\", "
    "\"hlc\": \"" HLC "\"}", big);
  for (int i = 0; i <= HEARTH_CHANGE_MAX_PARENTS; i++)
    g_string_append_printf (many_parents, "%s\"" HLC_P "\"", i > 0 ? ", " : "");
  g_string_append (many_parents, "]");
  cases[G_N_ELEMENTS (cases) - 2].json = g_strdup_printf (
    "{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"field\": \"phone\", \"value\": \"1\", "
    "\"hlc\": \"" HLC "\", \"parents\": %s}", many_parents->str);
  {
    g_autoptr(GString) many_edits = g_string_new ("{");
    guint at = 0;

    for (int i = 0; i <= HEARTH_CHANGE_MAX_FIELDS; i++)
      g_string_append_printf (many_edits, "%s\"f%d\": {\"value\": \"v\"}", i > 0 ? ", " : "", i);
    g_string_append (many_edits, "}");
    while (cases[at].json != NULL)
      at++;
    cases[at].json = many_edits_json = g_strdup_printf (
      "{\"kind\": \"edits\", \"table\": \"households\", \"id\": \"" ID "\", \"hlc\": \"" HLC "\", "
      "\"fields\": %s}", many_edits->str);
  }
  for (int i = 0; i <= HEARTH_CHANGE_MAX_FIELDS; i++)
    g_string_append_printf (many_fields, "%s\"f%d\": \"v\"", i > 0 ? ", " : "", i);
  g_string_append (many_fields, "}");
  cases[G_N_ELEMENTS (cases) - 1].json = g_strdup_printf (
    "{\"kind\": \"record\", \"table\": \"reviews\", \"id\": \"" ID "\", \"fields\": %s}", many_fields->str);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = parse (cases[i].json);
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthChange) c = hearth_change_from_json (node, "changes[7]", &error);

      g_test_message ("%.120s -> %s", cases[i].json, error != NULL ? error->message : "accepted");
      g_assert_null (c);
      g_assert_error (error, HEARTH_CHANGE_ERROR, HEARTH_CHANGE_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, "changes[7]: "));
      g_assert_nonnull (strstr (error->message, cases[i].member));
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
  for (guint i = G_N_ELEMENTS (cases) - 3; i < G_N_ELEMENTS (cases); i++)
    g_free ((char *) cases[i].json);
}

/* ---- nesting -------------------------------------------------------------------------- */

static gboolean
depth_ok (const char *text, guint max, guint *depth)
{
  return hearth_json_check_depth (text, strlen (text), max, depth, NULL);
}

static void
test_json_depth (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *deep = NULL;
  g_autofree char *open = g_strnfill (32, '[');
  g_autofree char *close = g_strnfill (32, ']');
  guint depth = 0;
  gsize n = 100000;

  g_assert_true (depth_ok ("", 32, &depth));
  g_assert_cmpuint (depth, ==, 0);
  g_assert_true (depth_ok ("[[{\"a\": [1]}]]", 32, &depth));
  g_assert_cmpuint (depth, ==, 4);
  /* Brackets in strings, escaped quotes, backslashes and slashes in them. */
  g_assert_true (depth_ok ("[\"[[[[{{{{\"]", 1, &depth));
  g_assert_cmpuint (depth, ==, 1);
  g_assert_true (depth_ok ("[\"\\\"[[[[\"]", 1, &depth));
  g_assert_true (depth_ok ("[\"\\\\\", \"a/b\"]", 1, &depth));
  g_assert_false (depth_ok ("[\"\\\\\", [[", 2, &depth));  /* the string ended at the quote */

  /* The limit, exactly. */
  deep = g_strconcat (open, close, NULL);
  g_assert_true (depth_ok (deep, 32, &depth));
  g_assert_cmpuint (depth, ==, 32);
  g_clear_pointer (&deep, g_free);
  deep = g_strdup_printf ("{\"a\":\n  %s}", open);
  g_assert_false (hearth_json_check_depth (deep, strlen (deep), 32, NULL, &error));
  g_assert_error (error, HEARTH_JSON_DEPTH_ERROR, HEARTH_JSON_DEPTH_ERROR_TOO_DEEP);
  g_assert_true (g_str_has_prefix (error->message, "line 2, column 34:"));
  g_clear_error (&error);
  g_clear_pointer (&deep, g_free);

  /* 100,000 levels: refused, at once. */
  deep = g_malloc (2 * n + 1);
  memset (deep, '[', n);
  memset (deep + n, ']', n);
  deep[2 * n] = '\0';
  g_assert_false (depth_ok (deep, HEARTH_JSON_MAX_DEPTH, &depth));
  g_assert_cmpuint (depth, ==, HEARTH_JSON_MAX_DEPTH + 1);

  /* What json-glib would read otherwise than this count: refused. */
  g_assert_false (hearth_json_check_depth ("[/* \" */ 1]", 11, 32, NULL, &error));
  g_assert_error (error, HEARTH_JSON_DEPTH_ERROR, HEARTH_JSON_DEPTH_ERROR_NOT_JSON);
  g_assert_true (g_str_has_prefix (error->message, "line 1, column 2:"));
  g_clear_error (&error);
  g_assert_false (hearth_json_check_depth ("['\"', 1]", 8, 32, NULL, &error));
  g_assert_error (error, HEARTH_JSON_DEPTH_ERROR, HEARTH_JSON_DEPTH_ERROR_NOT_JSON);
}

/* ---- signing ----------------------------------------------------------------------------- */

static void
test_sign (void)
{
  g_autoptr(HearthSecret) sk = NULL;
  g_autoptr(HearthSecret) other_sk = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *nonce = hearth_sign_nonce ();
  g_autofree char *other_nonce = hearth_sign_nonce ();
  guint8 pk[32], other_pk[32], decoded[32];
  const guint8 body[] = "{\"changes\": []}";
  const char *dev = ID;
  char key_b64[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_ORIGINAL)];

  /* The message of PROTOCOL.md section 4, byte for byte; BLAKE2b-256 of
   * zero bytes for an empty body. */
  message = hearth_sign_message ("GET", "/v1/pull?cursor=12&limit=500", NULL, 0, dev, 1764460800000, "AAAA");
  g_assert_cmpstr (message, ==,
                   "hearth-sync-v1\nGET\n/v1/pull?cursor=12&limit=500\n"
                   "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8\n" ID "\n1764460800000\nAAAA");

  sk = hearth_sign_keypair (pk);
  other_sk = hearth_sign_keypair (other_pk);
  g_assert_cmpuint (hearth_secret_get_size (sk), ==, HEARTH_SIGN_SECRET_KEY_BYTES);
  signature = hearth_sign_request (hearth_secret_peek (sk), "POST", "/v1/push", body, sizeof body - 1, dev, 42, nonce);
  g_assert_cmpuint (strlen (signature), ==, 88);
  g_assert_true (hearth_sign_verify (pk, signature, "POST", "/v1/push", body, sizeof body - 1, dev, 42, nonce,
                                     &error));
  g_assert_no_error (error);

  /* Anything changed: no longer verifies. */
  g_assert_false (hearth_sign_verify (pk, signature, "POST", "/v1/push", body, sizeof body - 2, dev, 42, nonce, &error));
  g_assert_error (error, HEARTH_SIGN_ERROR, HEARTH_SIGN_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  g_assert_false (hearth_sign_verify (pk, signature, "POST", "/v1/pull", body, sizeof body - 1, dev, 42, nonce, NULL));
  g_assert_false (hearth_sign_verify (pk, signature, "GET", "/v1/push", body, sizeof body - 1, dev, 42, nonce, NULL));
  g_assert_false (hearth_sign_verify (pk, signature, "POST", "/v1/push", body, sizeof body - 1, HH, 42, nonce, NULL));
  g_assert_false (hearth_sign_verify (pk, signature, "POST", "/v1/push", body, sizeof body - 1, dev, 43, nonce, NULL));
  g_assert_false (hearth_sign_verify (pk, signature, "POST", "/v1/push", body, sizeof body - 1, dev, 42, other_nonce,
                                      NULL));
  g_assert_false (hearth_sign_verify (other_pk, signature, "POST", "/v1/push", body, sizeof body - 1, dev, 42, nonce,
                                      NULL));
  /* Not a signature at all. */
  g_assert_false (hearth_sign_verify (pk, "c2lnbmF0dXJl", "POST", "/v1/push", body, sizeof body - 1, dev, 42, nonce,
                                      &error));
  g_assert_error (error, HEARTH_SIGN_ERROR, HEARTH_SIGN_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Nonces: fresh, 16 bytes, one spelling. */
  g_assert_cmpstr (nonce, !=, other_nonce);
  g_assert_true (hearth_sign_nonce_is_valid (nonce));
  g_assert_false (hearth_sign_nonce_is_valid ("AAAA"));
  g_assert_false (hearth_sign_nonce_is_valid ("AAAAAAAAAAAAAAAAAAAAAAAAA=="));   /* 17 bytes */
  g_assert_false (hearth_sign_nonce_is_valid ("AAAAAAAAAAAAAAAAAAAAAB=="));     /* stray bits */
  g_assert_false (hearth_sign_nonce_is_valid ("AAAAAAAAAAAAAAAAAAAAAA"));       /* unpadded */
  g_assert_true (hearth_sign_nonce_is_valid ("AAAAAAAAAAAAAAAAAAAAAA=="));

  /* Public keys at enrolment. */
  sodium_bin2base64 (key_b64, sizeof key_b64, pk, 32, sodium_base64_VARIANT_ORIGINAL);
  g_assert_true (hearth_sign_decode_key (key_b64, decoded, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (decoded, 32, pk, 32);
  g_assert_false (hearth_sign_decode_key ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", decoded, &error));  /* zero */
  g_assert_error (error, HEARTH_SIGN_ERROR, HEARTH_SIGN_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (hearth_sign_decode_key ("c2hvcnQ=", decoded, NULL));
  g_assert_false (hearth_sign_decode_key (NULL, decoded, NULL));
}

/* ---- the push body --------------------------------------------------------------------- */

static HearthPushBatch *
parse_push (const char *text, char **field, GError **error)
{
  return hearth_center_parse_push (text, strlen (text), field, error);
}

#define EDIT(seq) \
  "{\"seq\": " #seq ", \"kind\": \"edit\", \"table\": \"households\", \"id\": \"" ID "\", \"household\": \"" ID \
  "\", \"village\": \"361102001201\", \"field\": \"phone\", \"value\": \"1\", \"hlc\": \"" HLC "\"}"

static void
test_push_body (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;
  g_autoptr(HearthPushBatch) batch = NULL;
  g_autoptr(GString) many = g_string_new ("{\"device_id\": \"" HH "\", \"changes\": [");

  batch = parse_push ("{\"device_id\": \"" HH "\", \"changes\": [" EDIT (41) ", {\"seq\": 42, \"kind\": \"edit\"}]}",
                      &field, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (batch->device_id, ==, HH);
  g_assert_cmpuint (batch->items->len, ==, 2);
  g_assert_nonnull (((HearthPushItem *) batch->items->pdata[0])->change);
  g_assert_cmpint (((HearthPushItem *) batch->items->pdata[0])->seq, ==, 41);
  /* A malformed change is the change's refusal, not the batch's. */
  g_assert_null (((HearthPushItem *) batch->items->pdata[1])->change);
  g_assert_true (g_str_has_prefix (((HearthPushItem *) batch->items->pdata[1])->refusal, "changes[1]: "));
  g_clear_pointer (&batch, hearth_push_batch_free);

  /* The batch itself malformed: refused whole, naming the member. */
  {
    struct {
      const char *body;
      int code;
      const char *field;
      const char *says;
    } cases[] = {
      { "", HEARTH_CENTER_ERROR_BAD_JSON, NULL, "empty" },
      { "{\"device_id\": \"" HH "\",\n \"changes\": [1,]}", HEARTH_CENTER_ERROR_BAD_JSON, NULL, "line 2, column " },
      { "{\"device_id\": \"\xff\"}", HEARTH_CENTER_ERROR_BAD_JSON, NULL, "UTF-8" },
      { "[]", HEARTH_CENTER_ERROR_BAD_REQUEST, NULL, "object" },
      { "{\"changes\": []}", HEARTH_CENTER_ERROR_BAD_REQUEST, "device_id", "device_id" },
      { "{\"device_id\": \"" HH "\"}", HEARTH_CENTER_ERROR_BAD_REQUEST, "changes", "changes" },
      { "{\"device_id\": \"" HH "\", \"changes\": [" EDIT (3) ", " EDIT (5) "]}", HEARTH_CENTER_ERROR_BAD_CHANGE,
        "changes[1].seq", "changes[1]" },
      { "{\"device_id\": \"" HH "\", \"changes\": [{\"kind\": \"edit\"}]}", HEARTH_CENTER_ERROR_BAD_CHANGE,
        "changes[0].seq", "“seq”" },
      { "{\"device_id\": \"" HH "\", \"changes\": [\"text\"]}", HEARTH_CENTER_ERROR_BAD_CHANGE, "changes[0].seq",
        "changes[0]" },
      { "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 10000000000000000}]}", HEARTH_CENTER_ERROR_BAD_CHANGE,
        "changes[0].seq", "“seq”" },
      { NULL, HEARTH_CENTER_ERROR_TOO_DEEP, NULL, "32" },  /* 33 levels, below */
    };

    g_autofree char *open = g_strnfill (32, '[');
    g_autofree char *close = g_strnfill (32, ']');
    g_autofree char *deep = g_strdup_printf ("{\"a\": %s%s}", open, close);

    cases[G_N_ELEMENTS (cases) - 1].body = deep;
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *shown = g_strescape (cases[i].body, NULL);

        g_test_message ("%s", shown);
        batch = parse_push (cases[i].body, &field, &error);
        g_assert_null (batch);
        g_assert_error (error, HEARTH_CENTER_ERROR, cases[i].code);
        g_assert_cmpstr (field, ==, cases[i].field);
        g_assert_nonnull (strstr (error->message, cases[i].says));
        g_clear_error (&error);
        g_clear_pointer (&field, g_free);
      }
  }

  /* HEARTH_CENTER_MAX_CHANGES changes, not one more. */
  for (int i = 1; i <= HEARTH_CENTER_MAX_CHANGES + 1; i++)
    {
      if (i > 1)
        g_string_append_c (many, ',');
      g_string_append_printf (many, "{\"seq\": %d, \"kind\": \"record\", \"table\": \"audit\", \"id\": \"" ID
                                    "\", \"fields\": {}}", i);
      if (i == HEARTH_CENTER_MAX_CHANGES)
        {
          g_autofree char *exactly = g_strconcat (many->str, "]}", NULL);
          batch = parse_push (exactly, NULL, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (batch->items->len, ==, HEARTH_CENTER_MAX_CHANGES);
          g_clear_pointer (&batch, hearth_push_batch_free);
        }
    }
  g_string_append (many, "]}");
  batch = parse_push (many->str, &field, &error);
  g_assert_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_TOO_MANY);
  g_assert_cmpstr (field, ==, "changes");
}

/* ---- the fuzz target's saved inputs ------------------------------------------------------- */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static guint
replay_dir (const char *subdir)
{
  g_autofree char *dir_path = g_build_filename (HEARTH_FUZZ_CORPUS_DIR, subdir, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, &error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_strcmp0 (name, "README.md") != 0)
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir_path, g_ptr_array_index (names, i), NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      g_test_message ("replaying %s", path);
      g_assert_true (g_file_get_contents (path, &contents, &len, &error));
      hearth_fuzz_push_body ((const guint8 *) contents, len);
    }
  return names->len;
}

static void
test_push_corpus (void)
{
  g_assert_cmpuint (replay_dir ("push-seeds"), >=, 5);
  replay_dir ("push-crashes");
}

/* Random text of every byte json-glib escapes its own way (control
 * characters, 0x1f, 0x7f, quotes, backslashes) and of UTF-8. */
static char *
random_text (GRand *rand)
{
  static const char *const pieces[] = { "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x01", "\x0b", "\x1e",
                                        "\x1f", "\x7f", " ", "a", "Z", "9", "收入", "\xe2\x80\xa8", "\xf0\x9f\x98\x80",
                                        "<data id=\"x\">", "{", "}", "[", "]", ",", ":" };
  GString *out = g_string_new (NULL);
  guint n = g_rand_int_range (rand, 0, 12);

  for (guint i = 0; i < n; i++)
    g_string_append (out, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
  return g_string_free (out, FALSE);
}

static void
test_direct_json (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  for (guint round = 0; round < 2000; round++)
    {
      static const HearthChangeKind kinds[] = { HEARTH_CHANGE_EDIT, HEARTH_CHANGE_RECORD, HEARTH_CHANGE_EDITS };
      g_autoptr(HearthChange) c = hearth_change_new (kinds[g_rand_int_range (rand, 0, 3)]);

      c->seq = g_rand_boolean (rand) ? g_rand_int_range (rand, 1, G_MAXINT32) : 0;
      c->cursor = g_rand_boolean (rand) ? (gint64) g_rand_int_range (rand, 1, G_MAXINT32) * 1000 : 0;
      c->table = random_text (rand);
      c->id = random_text (rand);
      c->household = g_rand_boolean (rand) ? random_text (rand) : NULL;
      c->village = g_rand_boolean (rand) ? random_text (rand) : NULL;
      if (c->kind == HEARTH_CHANGE_EDIT)
        {
          guint parents = g_rand_int_range (rand, 0, 4);

          c->field = random_text (rand);
          c->value = g_rand_int_range (rand, 0, 8) > 0 ? random_text (rand) : NULL;
          c->hlc = random_text (rand);
          for (guint i = 0; i < parents; i++)
            g_ptr_array_add (c->parents, random_text (rand));
          c->wall = g_rand_boolean (rand) ? random_text (rand) : NULL;
        }
      else if (c->kind == HEARTH_CHANGE_EDITS)
        {
          c->hlc = random_text (rand);
          for (guint i = g_rand_int_range (rand, 1, 5); i > 0; i--)
            {
              g_autofree char *field = random_text (rand);
              g_autofree char *value = random_text (rand);
              g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func (g_free);

              for (guint p = g_rand_int_range (rand, 0, 3); p > 0; p--)
                g_ptr_array_add (parents, random_text (rand));
              hearth_change_add_edit (c, field, value, parents);
            }
          c->wall = g_rand_boolean (rand) ? random_text (rand) : NULL;
        }
      else
        {
          guint fields = g_rand_int_range (rand, 0, 6);

          for (guint i = 0; i < fields; i++)
            g_hash_table_insert (c->fields, g_strdup_printf ("f%u%s", g_rand_int_range (rand, 0, 100),
                                                             i % 2 ? "_x" : ""), random_text (rand));
        }
      assert_direct_json (c);
    }
}

/* A push body as a device writes it (json-glib's generator), of changes
 * whose values hold @text. */
static char *
device_body (GPtrArray *changes)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "device_id");
  json_builder_add_string_value (b, HH);
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < changes->len; i++)
    json_builder_add_value (b, hearth_change_to_json (changes->pdata[i]));
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* The combined reader gives what the tree reader gives, digests too. */
static void
assert_same_batch (const char *body)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) tree_error = NULL;
  g_autofree char *field = NULL;
  g_autofree char *tree_field = NULL;
  g_autoptr(HearthPushBatch) batch = hearth_center_parse_push (body, strlen (body), &field, &error);
  g_autoptr(HearthPushBatch) tree = hearth_center_parse_push_tree (body, strlen (body), &tree_field, &tree_error);

  /* Aborts when the one-pass reader takes the body otherwise. */
  hearth_fuzz_push_body ((const guint8 *) body, strlen (body));
  g_assert_true ((batch == NULL) == (tree == NULL));
  g_assert_cmpstr (field, ==, tree_field);
  if (batch == NULL)
    {
      g_assert_cmpint (error->code, ==, tree_error->code);
      g_assert_cmpstr (error->message, ==, tree_error->message);
      return;
    }
  g_assert_cmpuint (batch->items->len, ==, tree->items->len);
  for (guint i = 0; i < batch->items->len; i++)
    {
      HearthPushItem *a = batch->items->pdata[i];
      HearthPushItem *b = tree->items->pdata[i];

      g_assert_cmpstr (a->digest, ==, b->digest);
      g_assert_cmpstr (a->refusal, ==, b->refusal);
      /* The fields stored, whether the fast reader took them from the
       * body as they came or wrote them again. */
      g_assert_true ((a->fields == NULL) == (b->fields == NULL));
      if (a->fields != NULL)
        g_assert_true (g_bytes_equal (a->fields, b->fields));
      g_assert_null (a->fields_text);
    }
}

/* A record's fields taken from the body as they came (when they are as
 * the center writes them, the escapes it writes included) or written
 * again (names out of order, whitespace, other escapes, a byte 0x7f): the same digest and
 * stored fields as the tree reader's either way. */
static void
test_push_fields_as_sent (void)
{
  static const char *const fields[] = {
    "{}",
    "{ }",
    "{\"a\":\"1\",\"b\":\"2\"}",
    "{\"b\":\"2\",\"a\":\"1\"}",
    "{\"a\":\"1\", \"b\":\"2\"}",
    "{\"a\" :\"1\",\"b\":\"2\" }",
    "{\"a\":\"x\\/y\",\"b\":\"2\"}",
    "{\"a\":\"x\\\"y\",\"b\":\"\\u00e9\"}",
    "{\"a\":\"\x7f\",\"b\":\"2\"}",
    "{\"a\":\"\xe6\x94\xb6\xe5\x85\xa5\",\"aa\":\"\",\"b\":\"2\"}",
    "{\"aa\":\"1\",\"a\":\"2\"}",
    "{\"a\":\"1\",\"a_b\":\"\xc3\xa9\",\"ab\":\"2\"}",
    "{\"a\":\"1\",\"ab\":\"2\",\"a_b\":\"3\"}",
    "{\"a\":\"<x a=\\\"1\\\">\\n\\t\\\\</x>\\b\\f\\r\",\"b\":\"\\u0001\\u001e\\u000b\"}",
    "{\"a\":\"\\u001E\"}",
    "{\"a\":\"\\u000a\"}",
    "{\"a\":\"\\u001f\"}",
    "{\"a\":\"\\u0041\"}",
    "{\"a\": \"1\"}",
    "{\"a\":\"1\",\"b\": \"2\"}",
    "{ \"a\":\"1\"}",
    "{\n\"a\":\"1\",\"b\":\"2\"}",
  };
  /* Whether each is taken as it came. */
  static const gboolean as_sent[] = { TRUE, FALSE, TRUE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, TRUE, FALSE, TRUE, FALSE,
                                      TRUE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE };

  G_STATIC_ASSERT (G_N_ELEMENTS (as_sent) == G_N_ELEMENTS (fields));

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autoptr(GString) big = g_string_new ("{\"a\":\"");
      g_autofree char *body = g_strdup_printf ("{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 5, \"kind\": "
                                               "\"record\", \"table\": \"submissions\", \"id\": \"" ID "\", "
                                               "\"household\": \"" HH "\", \"village\": \"361102001201\", "
                                               "\"fields\": %s}]}", fields[i]);
      g_autofree char *big_body = NULL;

      assert_same_batch (body);
      {
        g_autoptr(HearthPushBatch) fast = hearth_center_parse_push_fast (body, strlen (body));
        HearthPushItem *item = fast->items->pdata[0];

        g_assert_cmpint (item->fields_text != NULL, ==, as_sent[i]);
        if (as_sent[i])
          g_assert_cmpmem (item->fields_text, item->fields_len, fields[i], strlen (fields[i]));
      }
      /* Long enough to be packed (center-store.c). */
      for (guint k = 0; k < 200; k++)
        g_string_append (big, "answer ");
      g_string_append (big, "\",");
      g_string_append (big, fields[i][1] == '}' || fields[i][1] == ' ' ? "\"z\":\"1\"}" : fields[i] + 1);
      big_body = g_strdup_printf ("{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 5, \"kind\": \"record\", "
                                  "\"table\": \"audit\", \"id\": \"" ID "\", \"fields\": %s}]}", big->str);
      assert_same_batch (big_body);
    }
}

/* A change that came exactly as a device writes it (app/sync-run.c:
 * hearth_change_append_json()) is hashed from the body's own text, in
 * three pieces; any other spelling of it is written again first. Either
 * way the digest is that of the change as the center writes it. */
static void
test_push_digest_as_sent (void)
{
  static const struct {
    const char *change;
    gboolean as_sent;
  } cases[] = {
    /* As written: each kind, with and without household, village, wall, parents. */
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"household\":\"" HH "\",\"village\":\"361102001201\",\"field\":\"name\",\"value\":\"a\\\"b\\n\\u0001\",\"hlc\":\"" HLC "\",\"parents\":[\"" HLC_P "\"],\"wall\":\"2025-01-01T00:00:00Z\"}", TRUE },
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"\",\"hlc\":\"" HLC "\",\"parents\":[]}", TRUE },
    { "{\"seq\":5,\"kind\":\"edits\",\"table\":\"members\",\"id\":\"" ID "\",\"household\":\"" HH "\",\"village\":\"361102001201\",\"hlc\":\"" HLC "\",\"fields\":{\"name\":{\"value\":\"\xe6\x94\xb6\",\"parents\":[]},\"phone\":{\"value\":\"1\",\"parents\":[\"" HLC_P "\"]}},\"wall\":\"w\"}", TRUE },
    { "{\"seq\":5,\"kind\":\"record\",\"table\":\"audit\",\"id\":\"" ID "\",\"fields\":{\"a\":\"1\",\"b\":\"2\"}}", TRUE },
    { "{\"seq\":5,\"kind\":\"record\",\"table\":\"submissions\",\"id\":\"" ID "\",\"household\":\"" HH "\",\"fields\":{}}", TRUE },
    { "{\"seq\":5,\"kind\":\"record\",\"table\":\"submissions\",\"id\":\"" ID "\",\"village\":\"361102001201\",\"fields\":{\"a\":\"1\"}}", TRUE },
    /* Not as written: white space, order, a member the writer adds, escapes. */
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"a\",\"hlc\":\"" HLC "\",\"parents\": []}", FALSE },
    { "{ \"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"a\",\"hlc\":\"" HLC "\",\"parents\":[]}", FALSE },
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"a\",\"hlc\":\"" HLC "\",\"parents\":[]\n}", FALSE },
    { "{\"kind\":\"edit\",\"seq\":5,\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"a\",\"hlc\":\"" HLC "\",\"parents\":[]}", FALSE },
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"hlc\":\"" HLC "\",\"value\":\"a\",\"parents\":[]}", FALSE },
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"village\":\"361102001201\",\"household\":\"" HH "\",\"field\":\"name\",\"value\":\"a\",\"hlc\":\"" HLC "\",\"parents\":[]}", FALSE },
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"a\",\"hlc\":\"" HLC "\"}", FALSE },
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"a\\/b\",\"hlc\":\"" HLC "\",\"parents\":[]}", FALSE },
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"\\u0041\",\"hlc\":\"" HLC "\",\"parents\":[]}", FALSE },
    { "{\"seq\":5,\"kind\":\"edit\",\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"\x7f\",\"hlc\":\"" HLC "\",\"parents\":[]}", FALSE },
    { "{\"seq\":5,\"kind\":\"edits\",\"table\":\"members\",\"id\":\"" ID "\",\"hlc\":\"" HLC "\",\"fields\":{\"phone\":{\"value\":\"1\",\"parents\":[]},\"name\":{\"value\":\"2\",\"parents\":[]}}}", FALSE },
    { "{\"seq\":5,\"kind\":\"edits\",\"table\":\"members\",\"id\":\"" ID "\",\"hlc\":\"" HLC "\",\"fields\":{\"name\":{\"parents\":[],\"value\":\"2\"}}}", FALSE },
    { "{\"seq\":5,\"kind\":\"edits\",\"table\":\"members\",\"id\":\"" ID "\",\"hlc\":\"" HLC "\",\"fields\":{\"name\":{\"value\":\"2\"}}}", FALSE },
    { "{\"seq\":5,\"kind\":\"edits\",\"table\":\"members\",\"id\":\"" ID "\",\"fields\":{\"name\":{\"value\":\"2\",\"parents\":[]}},\"hlc\":\"" HLC "\"}", FALSE },
    { "{\"seq\":5,\"kind\":\"record\",\"table\":\"audit\",\"id\":\"" ID "\",\"fields\":{\"b\":\"1\",\"a\":\"2\"}}", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"device_id\":\"" HH "\",\"changes\":[%s]}", cases[i].change);
      g_autoptr(HearthPushBatch) fast = hearth_center_parse_push_fast (body, strlen (body));
      g_autoptr(GString) want = g_string_new (NULL);
      g_autoptr(GString) got = g_string_new (NULL);
      HearthPushItem *item;

      g_test_message ("case %u: %s", i, cases[i].change);
      g_assert_nonnull (fast);
      item = fast->items->pdata[0];
      g_assert_cmpuint (item->n_digest_text, ==, cases[i].as_sent ? 3 : 0);
      if (cases[i].as_sent)
        {
          hearth_change_append_json (item->change, FALSE, got);
          g_assert_cmpstr (got->str, ==, cases[i].change);
          g_string_truncate (got, 0);
          for (guint k = 0; k < item->n_digest_text; k++)
            g_string_append_len (got, item->digest_text[k], (gssize) item->digest_len[k]);
          hearth_change_append_json (item->change, TRUE, want);
          g_assert_cmpstr (got->str, ==, want->str);
        }
      /* The digests and fields as the tree reader's. */
      assert_same_batch (body);
    }
}

static void
test_push_fast (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  static const char *const texts[] = { "", "1", "收入 2000 元", "a\"b\\c/d", "\b\f\n\r\t", "\x01\x0b\x1e\x7f",
                                       "\xe2\x80\xa8\xf0\x9f\x98\x80", "<data id=\"x\">{}[],:</data>" };

  /* Bodies as devices write them: read in one pass, as the tree reads them. */
  for (guint round = 0; round < 200; round++)
    {
      g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autofree char *body = NULL;
      guint n = g_rand_int_range (rand, 1, 8);
      gint64 seq = g_rand_int_range (rand, 1, 1000000);

      for (guint i = 0; i < n; i++)
        {
          static const HearthChangeKind kinds[] = { HEARTH_CHANGE_EDIT, HEARTH_CHANGE_RECORD, HEARTH_CHANGE_EDITS };
          HearthChange *c = hearth_change_new (kinds[g_rand_int_range (rand, 0, 3)]);

          c->seq = seq + i;
          c->id = g_strdup (ID);
          if (c->kind == HEARTH_CHANGE_EDITS)
            {
              static const char *const names[] = { "name", "phone", "id_number", "risk_level" };

              c->table = g_strdup ("members");
              c->household = g_strdup (HH);
              c->village = g_strdup ("361102001201");
              c->hlc = g_strdup (HLC);
              for (guint f = g_rand_int_range (rand, 1, 5); f > 0; f--)
                {
                  g_autoptr(GPtrArray) parents = g_ptr_array_new ();

                  for (guint p = g_rand_int_range (rand, 0, 3); p > 0; p--)
                    g_ptr_array_add (parents, (gpointer) (p == 1 ? HLC_P : HLC));
                  hearth_change_add_edit (c, names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))],
                                          texts[g_rand_int_range (rand, 0, G_N_ELEMENTS (texts))], parents);
                }
              c->wall = g_rand_boolean (rand) ? g_strdup (texts[g_rand_int_range (rand, 0, G_N_ELEMENTS (texts))])
                                              : NULL;
            }
          else if (c->kind == HEARTH_CHANGE_EDIT)
            {
              c->table = g_strdup ("members");
              c->household = g_strdup (HH);
              c->village = g_strdup ("361102001201");
              c->field = g_strdup ("name");
              c->value = g_strdup (texts[g_rand_int_range (rand, 0, G_N_ELEMENTS (texts))]);
              c->hlc = g_strdup (HLC);
              for (guint p = g_rand_int_range (rand, 0, 3); p > 0; p--)
                g_ptr_array_add (c->parents, g_strdup (HLC_P));
              c->wall = g_rand_boolean (rand) ? g_strdup (texts[g_rand_int_range (rand, 0, G_N_ELEMENTS (texts))])
                                              : NULL;
            }
          else
            {
              gboolean audit = g_rand_boolean (rand);

              c->table = g_strdup (audit ? "audit" : "submissions");
              c->household = audit ? NULL : g_strdup (HH);
              c->village = audit ? NULL : g_strdup ("361102001201");
              for (guint f = g_rand_int_range (rand, 0, 5); f > 0; f--)
                g_hash_table_insert (c->fields, g_strdup_printf ("f%u", f),
                                     g_strdup (texts[g_rand_int_range (rand, 0, G_N_ELEMENTS (texts))]));
            }
          g_ptr_array_add (changes, c);
        }
      body = device_body (changes);
      /* json-glib writes 0x1f as it is, which the one-pass reader leaves
       * to the tree; every other body of a device it reads. */
      {
        g_autoptr(HearthPushBatch) fast = hearth_center_parse_push_fast (body, strlen (body));
        g_assert_nonnull (fast);
      }
      assert_same_batch (body);
    }

  /* JSON a device does not write but the one-pass reader takes. */
  {
    static const char *const taken[] = {
      " \n{ \"changes\" :\t[ ] ,\r\n \"device_id\" : \"" HH "\" } \n",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 9, \"kind\": \"edit\", \"table\": \"households\", \"id\": "
      "\"" ID "\", \"household\": \"" ID "\", \"village\": \"361102001201\", \"field\": \"phone\", \"value\": "
      "\"\\u00e9\\ud83d\\ude00\\/\\u0001\\u001f\", \"hlc\": \"" HLC "\", \"parents\": []}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 9, \"kind\": \"edits\", \"table\": \"households\", \"id\": "
      "\"" ID "\", \"household\": \"" ID "\", \"village\": \"361102001201\", \"fields\": { \"phone\" : { \"parents\": "
      "[ ], \"value\": \"1\" }, \"size\": {\"value\": \"\"}}, \"hlc\": \"" HLC "\"}]}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (taken); i++)
      {
        g_autoptr(HearthPushBatch) fast = hearth_center_parse_push_fast (taken[i], strlen (taken[i]));

        g_test_message ("%s", taken[i]);
        g_assert_nonnull (fast);
        assert_same_batch (taken[i]);
      }
  }

  /* What it leaves to the tree reader, which accepts, refuses or names the
   * fault as before. */
  {
    static const char *const left[] = {
      "{\"device_id\": \"" HH "\", \"changes\": [" EDIT (1) "], \"more\": 1}",
      "{\"device_id\": \"" HH "\", \"device_id\": \"" HH "\", \"changes\": []}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"seq\": 1, \"kind\": \"record\", \"table\": "
      "\"audit\", \"id\": \"" ID "\", \"fields\": {}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
      "\"" ID "\", \"fields\": {\"a\": \"1\", \"a\": \"2\"}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
      "\"" ID "\", \"household\": null, \"fields\": {}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
      "\"" ID "\", \"value\": \"x\", \"fields\": {}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1.0, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
      "\"" ID "\", \"fields\": {}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"cursor\": 4, \"kind\": \"record\", \"table\": "
      "\"audit\", \"id\": \"" ID "\", \"fields\": {}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
      "\"" ID "\", \"fields\": {\"a\": \"\\u0000\"}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
      "\"" ID "\", \"fields\": {\"a\": \"\\ud83d\"}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
      "\"" ID "\", \"fields\": {\"a\": \"\x1f\"}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
      "\"not-a-uuid\", \"fields\": {}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [" EDIT (1) ", {\"seq\": 2, \"kind\": \"edit\"}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [" EDIT (1) ", " EDIT (3) "]}",
      "{\"device_id\": \"" HH "\", \"changes\": [" EDIT (10000000000000000) "]}",
      "{\"device_id\": \"" HH "\", \"changes\": [" EDIT (01) "]}",
      "{\"device_id\": \"" HH "\", \"changes\": []} x",
      "{\"device_id\": \"" HH "\", \"changes\": [],}",
      "{\"device_id\": \"5D0F4C52-0A8B-4D9E-BB71-9C1E7F2A6D33\", \"changes\": []}",
      "{\"device_id\": \"" HH "\", \"changes\": [" EDIT (1) "] /* */}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"edits\", \"table\": \"households\", \"id\": "
      "\"" ID "\", \"household\": \"" ID "\", \"village\": \"361102001201\", \"hlc\": \"" HLC "\", \"fields\": {}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"edits\", \"table\": \"households\", \"id\": "
      "\"" ID "\", \"household\": \"" ID "\", \"village\": \"361102001201\", \"hlc\": \"" HLC "\", \"fields\": "
      "{\"phone\": {\"value\": \"1\"}, \"phone\": {\"value\": \"2\"}}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"edits\", \"table\": \"households\", \"id\": "
      "\"" ID "\", \"household\": \"" ID "\", \"village\": \"361102001201\", \"hlc\": \"" HLC "\", \"fields\": "
      "{\"phone\": {\"value\": \"1\", \"wall\": \"x\"}}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"edits\", \"table\": \"households\", \"id\": "
      "\"" ID "\", \"household\": \"" ID "\", \"village\": \"361102001201\", \"hlc\": \"" HLC "\", \"fields\": "
      "{\"phone\": {\"value\": \"1\"}, \"size\": \"2\"}}]}",
      "{\"device_id\": \"" HH "\", \"changes\": [{\"seq\": 1, \"kind\": \"edits\", \"table\": \"households\", \"id\": "
      "\"" ID "\", \"household\": \"" ID "\", \"village\": \"361102001201\", \"hlc\": \"" HLC "\", \"field\": "
      "\"phone\", \"fields\": {\"phone\": {\"value\": \"1\"}}}]}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (left); i++)
      {
        g_autoptr(HearthPushBatch) fast = hearth_center_parse_push_fast (left[i], strlen (left[i]));

        g_test_message ("%s", left[i]);
        g_assert_null (fast);
        assert_same_batch (left[i]);
      }
  }
}

/* Bytes biased to what UTF-8 and JSON escapes turn on: ASCII, the
 * characters escaped, NUL, lead and continuation bytes, and bytes that
 * never start a sequence. */
static void
random_bytes (GRand *rand, GString *s, guint len)
{
  static const guchar interesting[] = { 'a', ' ', '"', '\\', 0x1e, 0x1f, 0x20, 0x7f, 0x7e, 0x00, 0x0a,
                                        0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
                                        0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x8f, 0x90 };
  static const char *const pieces[] = { "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xc3\xa9", "\xed\xa0\x80",
                                        "\xef\xbf\xbf", "\xf4\x90\x80\x80", "\xe0\x80\xaf", "plain text " };

  g_string_truncate (s, 0);
  while (s->len < len)
    switch (g_rand_int_range (rand, 0, 4))
      {
      case 0: g_string_append_c (s, (char) interesting[g_rand_int_range (rand, 0, G_N_ELEMENTS (interesting))]); break;
      case 1: g_string_append_c (s, (char) g_rand_int_range (rand, 0, 256)); break;
      default: g_string_append (s, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]); break;
      }
  g_string_truncate (s, len);
}

/* hearth_center_push_text_is_utf8() says what g_utf8_validate_len() says,
 * at every length and offset around its sixteen- and eight-byte steps. */
static void
test_push_utf8 (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GString) s = g_string_new (NULL);
  guint valid = 0;

  g_assert_true (hearth_center_push_text_is_utf8 ("", 0));
  g_assert_false (hearth_center_push_text_is_utf8 ("abcdefgh\0", 9));
  g_assert_false (hearth_center_push_text_is_utf8 ("abcdefghijklmno\xe4\xb8", 17));
  g_assert_true (hearth_center_push_text_is_utf8 ("abcdefghijklmno\xe4\xb8\xad", 18));
  for (guint n = 0; n < 200000; n++)
    {
      gboolean expected;

      random_bytes (rand, s, (guint) g_rand_int_range (rand, 0, 72));
      /* Most texts plain but for one byte somewhere. */
      if (n % 2 == 0)
        for (gsize k = 0; k < s->len; k++)
          if (g_rand_int_range (rand, 0, 8) != 0)
            s->str[k] = 'x';
      expected = g_utf8_validate_len (s->str, s->len, NULL);
      valid += expected;
      g_assert_cmpint (hearth_center_push_text_is_utf8 (s->str, s->len), ==, expected);
    }
  /* Both answers were met often. */
  g_assert_cmpuint (valid, >, 20000);
  g_assert_cmpuint (valid, <, 180000);
}

/* Hostile push bodies around the one-pass reader's sixteen-byte steps and
 * its 16 KiB blocks of strings: a value and a field name holding a quote,
 * an escape, \u0000, lone and paired surrogates (escaped and as UTF-8),
 * an overlong sequence, a code point past U+10FFFF or a control byte at
 * every place of a run of plain bytes; the body cut right after the
 * string; strings longer than a block; names repeated in order and out of
 * order. Each is read as the tree reader reads it (assert_same_batch()),
 * and a NUL inside the body is refused. */
static void
test_push_hostile_strings (void)
{
  static const char *const pieces[] = {
    "\"", "\\\"", "\\n", "\\u0000", "\\ud800", "\\udc00", "\\ud800\\udc00", "\\ud800x", "\xed\xa0\x80",
    "\xc0\x80", "\xe0\x80\xaf", "\xf4\x90\x80\x80", "\xc3\xa9", "\xe6\x94\xb6", "\x7f", "\x01", "\x1f", "\\",
  };

  for (guint len = 0; len < 40; len++)
    for (guint k = 0; k <= len; k++)
      for (guint i = 0; i < G_N_ELEMENTS (pieces); i++)
        {
          g_autoptr(GString) s = g_string_new (NULL);
          g_autofree char *value_body = NULL;
          g_autofree char *name_body = NULL;

          for (guint j = 0; j < k; j++)
            g_string_append_c (s, 'a');
          g_string_append (s, pieces[i]);
          for (guint j = k; j < len; j++)
            g_string_append_c (s, 'b');
          value_body = g_strdup_printf ("{\"device_id\":\"" HH "\",\"changes\":[{\"seq\":5,\"kind\":\"edit\","
                                        "\"table\":\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":"
                                        "\"%s\",\"hlc\":\"" HLC "\",\"parents\":[]}]}", s->str);
          name_body = g_strdup_printf ("{\"device_id\":\"" HH "\",\"changes\":[{\"seq\":5,\"kind\":\"record\","
                                       "\"table\":\"audit\",\"id\":\"" ID "\",\"fields\":{\"a\":\"1\",\"%s\":"
                                       "\"2\",\"zz\":\"%s\"}}]}", s->str, s->str);
          assert_same_batch (value_body);
          assert_same_batch (name_body);
          /* Cut inside the string, right at its end and just after. */
          for (gsize cut = strstr (value_body, "\",\"hlc\"") - value_body - 2;
               cut < (gsize) (strstr (value_body, "\",\"hlc\"") - value_body) + 3; cut++)
            {
              g_autofree char *part = g_strndup (value_body, cut);

              assert_same_batch (part);
            }
        }

  /* Strings longer than a block of strings, and many of them. */
  for (guint n = 16 * 1024 - 40; n < 16 * 1024 + 40; n += 7)
    {
      g_autoptr(GString) body = g_string_new ("{\"device_id\":\"" HH "\",\"changes\":[");

      for (guint c = 0; c < 3; c++)
        {
          g_autoptr(GString) v = g_string_new (NULL);

          for (guint j = 0; j < n + c; j++)
            g_string_append_c (v, j % 97 == 0 ? ' ' : (char) ('a' + j % 26));
          g_string_append_printf (body, "%s{\"seq\":%u,\"kind\":\"record\",\"table\":\"audit\",\"id\":\"" ID
                                  "\",\"fields\":{\"a\":\"%s\",\"b\":\"\xe6\x94\xb6%s\"}}", c ? "," : "", 5 + c,
                                  v->str, v->str);
        }
      g_string_append (body, "]}");
      assert_same_batch (body->str);
    }

  /* Names repeated: in order and out of order, near and far. */
  {
    static const char *const fields[] = {
      "{\"a\":\"1\",\"a\":\"2\"}",
      "{\"a\":\"1\",\"b\":\"2\",\"a\":\"3\"}",
      "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"b\":\"4\"}",
      "{\"b\":\"1\",\"a\":\"2\",\"b\":\"3\"}",
      "{\"b\":\"1\",\"a\":\"2\",\"c\":\"3\",\"a\":\"4\"}",
      "{\"a\":\"1\",\"a\\u0000\":\"2\"}",
      "{\"a\":\"1\",\"\\u0061\":\"2\"}",
      "{\"a\":\"1\",\"b\":\"2\",\"\\u0061\":\"3\"}",
      "{\"\xc3\xa9\":\"1\",\"\\u00e9\":\"2\"}",
      "{\"a\":\"1\",\"ab\":\"2\",\"abc\":\"3\",\"ab\":\"4\"}",
      "{\"a\":\"1\",\"ab\":\"2\",\"b\":\"3\",\"ab\":\"4\"}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
      {
        g_autofree char *body = g_strdup_printf ("{\"device_id\":\"" HH "\",\"changes\":[{\"seq\":5,\"kind\":"
                                                 "\"record\",\"table\":\"audit\",\"id\":\"" ID "\",\"fields\":%s}]}",
                                                 fields[i]);
        g_autoptr(HearthPushBatch) fast = hearth_center_parse_push_fast (body, strlen (body));

        assert_same_batch (body);
        /* Every one of these names a field twice but the one with \u0000. */
        if (strstr (fields[i], "\\u0000") == NULL)
          g_assert_null (fast);
      }
  }

  /* A NUL inside a string of the body. */
  {
    static const char body[] = "{\"device_id\":\"" HH "\",\"changes\":[{\"seq\":5,\"kind\":\"edit\",\"table\":"
                               "\"members\",\"id\":\"" ID "\",\"field\":\"name\",\"value\":\"abcdefghijklmno\0"
                               "pqrstuvwxyz\",\"hlc\":\"" HLC "\",\"parents\":[]}]}";
    g_autoptr(GError) error = NULL;
    g_autofree char *field = NULL;
    g_autoptr(HearthPushBatch) batch = hearth_center_parse_push (body, sizeof body - 1, &field, &error);

    g_assert_null (batch);
    g_assert_nonnull (error);
    g_assert_null (hearth_center_parse_push_fast (body, sizeof body - 1));
  }
}

/* A string read by hearth_scan_string() ends, escapes or is refused at
 * the byte that says so wherever it lies around the reader's sixteen- and
 * eight-byte steps: a quote ends it, an escape is undone, a control
 * character is refused, and a byte from 0x80 has the string checked for
 * UTF-8 (unless the text is known to be UTF-8). */
static void
test_scan_string_steps (void)
{
  static const struct {
    const char *at;      /* put at place k of a run of 'a's */
    const char *gives;   /* what stands for it in the string read, or NULL: refused */
    gboolean ends;       /* the string ends there */
  } cases[] = {
    { "\"", "", TRUE },
    { "\\n", "\n", FALSE },
    { "\\\"", "\"", FALSE },
    { "\x01", NULL, FALSE },
    { "\x1f", NULL, FALSE },
    { "\x7f", "\x7f", FALSE },
    { "\xc3\xa9", "\xc3\xa9", FALSE },
    { "\xff", NULL, FALSE },
  };

  for (guint len = 0; len < 72; len++)
    for (guint k = 0; k <= len; k++)
      for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
        {
          g_autoptr(GString) text = g_string_new ("\"");
          g_autoptr(GString) expected = g_string_new (NULL);
          g_autofree char *got = NULL;
          HearthScan r = { 0 };

          for (guint j = 0; j < k; j++)
            g_string_append_c (text, 'a');
          g_string_append (text, cases[i].at);
          for (guint j = k; j < len; j++)
            g_string_append_c (text, 'a');
          g_string_append_c (text, '"');
          r.p = text->str;
          r.end = text->str + text->len;
          got = hearth_scan_string (&r);
          if (cases[i].gives == NULL)
            {
              g_assert_null (got);
              continue;
            }
          for (guint j = 0; j < k; j++)
            g_string_append_c (expected, 'a');
          if (!cases[i].ends)
            {
              g_string_append (expected, cases[i].gives);
              for (guint j = k; j < len; j++)
                g_string_append_c (expected, 'a');
            }
          g_assert_cmpstr (got, ==, expected->str);
          /* Just past the quote that ended it. */
          g_assert_true (r.p == (cases[i].ends ? text->str + 1 + k + 1 : r.end));
        }
}

/* The escapes a change's JSON writes (sync/change.c append_string()), as
 * they were written one byte at a time: what the digests of changes
 * already stored were made of. */
static void
reference_escape (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) text; *p != 0; p++)
    switch (*p)
      {
      case '"': g_string_append (out, "\\\""); break;
      case '\\': g_string_append (out, "\\\\"); break;
      case '\b': g_string_append (out, "\\b"); break;
      case '\t': g_string_append (out, "\\t"); break;
      case '\n': g_string_append (out, "\\n"); break;
      case '\f': g_string_append (out, "\\f"); break;
      case '\r': g_string_append (out, "\\r"); break;
      default:
        if (*p < 0x1f || *p == 0x7f)
          g_string_append_printf (out, "\\u00%02x", *p);
        else
          g_string_append_c (out, (char) *p);
      }
  g_string_append_c (out, '"');
}

/* A change's JSON escapes its texts as ever (reference_escape()), eight
 * bytes at a time or one. */
static void
test_json_escapes (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint n = 0; n < 50000; n++)
    {
      g_autoptr(HearthChange) c = hearth_change_new (HEARTH_CHANGE_EDIT);
      g_autoptr(GString) got = g_string_new (NULL);
      g_autoptr(GString) expected = g_string_new ("{\"kind\":\"edit\",\"table\":\"households\",\"id\":\"" ID "\","
                                                  "\"field\":\"phone\",\"value\":");

      random_bytes (rand, s, (guint) g_rand_int_range (rand, 0, 40));
      if (n % 2 == 0)
        for (gsize k = 0; k < s->len; k++)
          if (g_rand_int_range (rand, 0, 6) != 0)
            s->str[k] = 'x';
      c->table = g_strdup ("households");
      c->id = g_strdup (ID);
      c->field = g_strdup ("phone");
      c->value = g_strdup (s->str);   /* up to its first NUL, as a text is */
      c->hlc = g_strdup (HLC);
      hearth_change_append_json (c, TRUE, got);
      reference_escape (expected, c->value);
      g_string_append (expected, ",\"hlc\":\"" HLC "\",\"parents\":[]}");
      g_assert_cmpstr (got->str, ==, expected->str);
    }
}

/* hearth_change_is_uuid() says what g_uuid_string_is_valid() says: UUIDs
 * of either case, and each with one character changed, cut or added. */
static void
test_is_uuid (void)
{
  const char *fixed[] = { "", "-", "0", "00000000-0000-0000-0000-000000000000", "ABCDEF01-2345-6789-abcd-ef0123456789",
                          "00000000-0000-0000-0000-00000000000", "00000000-0000-0000-0000-0000000000000",
                          "00000000+0000-0000-0000-000000000000", "0000000-00000-0000-0000-000000000000",
                          "g0000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-00000000000G" };
  const char alphabet[] = "0123456789abcdefABCDEFgG-_ z\xc3";
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  g_assert_false (hearth_change_is_uuid (NULL));
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_assert_cmpint (hearth_change_is_uuid (fixed[i]), ==, g_uuid_string_is_valid (fixed[i]));
  for (guint n = 0; n < 20000; n++)
    {
      g_autofree char *uuid = g_uuid_string_random ();
      g_autofree char *upper = g_ascii_strup (uuid, -1);
      g_autoptr(GString) s = g_string_new (n % 2 == 0 ? uuid : upper);
      guint at = (guint) g_rand_int_range (rand, 0, 37);
      char c = alphabet[g_rand_int_range (rand, 0, (gint32) strlen (alphabet))];

      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0: break;
        case 1: if (at < s->len) s->str[at] = c; break;
        case 2: g_string_truncate (s, at); break;
        default: g_string_insert_c (s, at, c); break;
        }
      g_assert_cmpint (hearth_change_is_uuid (s->str), ==, g_uuid_string_is_valid (s->str));
    }
}

/* A field's name as hearth_change_valid() takes it: a lowercase ASCII
 * letter, then lowercase letters, digits and "_", at most
 * HEARTH_CHANGE_MAX_NAME bytes (the rule as change.c wrote it before
 * its table of bytes). */
static gboolean
name_reference (const char *s)
{
  gsize n = strlen (s);

  if (n == 0 || n > HEARTH_CHANGE_MAX_NAME || !g_ascii_islower (s[0]))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_islower (s[i]) && !g_ascii_isdigit (s[i]) && s[i] != '_')
      return FALSE;
  return TRUE;
}

/* An edit's, an edits change's and a record's field names are taken as
 * name_reference() says: names of every length around the bound, made
 * of a name's bytes and a few others (capitals, "-", a space, a byte of
 * UTF-8, 0x7f). */
static void
test_valid_names (void)
{
  const char alphabet[] = "abcxyz0189_AZ- \xc3\x7f";
  g_autoptr(GRand) rand = g_rand_new_with_seed (26);

  for (guint n = 0; n < 20000; n++)
    {
      g_autoptr(GString) name = g_string_new (NULL);
      gsize len = (gsize) g_rand_int_range (rand, 0, HEARTH_CHANGE_MAX_NAME + 3);
      g_autoptr(HearthChange) edit = hearth_change_new (HEARTH_CHANGE_EDIT);
      g_autoptr(HearthChange) edits = hearth_change_new (HEARTH_CHANGE_EDITS);
      g_autoptr(HearthChange) record = hearth_change_new (HEARTH_CHANGE_RECORD);
      gboolean want;

      for (gsize i = 0; i < len; i++)
        /* Mostly a name's bytes, so that long names are made too. */
        g_string_append_c (name, g_rand_int_range (rand, 0, 8) != 0
                                   ? "abz09_"[g_rand_int_range (rand, 0, 6)]
                                   : alphabet[g_rand_int_range (rand, 0, (gint32) strlen (alphabet))]);
      want = name_reference (name->str);
      edit->table = g_strdup ("households");
      edit->id = g_strdup (ID);
      edit->field = g_strdup (name->str);
      edit->value = g_strdup ("x");
      edit->hlc = g_strdup (HLC);
      g_assert_cmpint (hearth_change_valid (edit), ==, want);
      edits->table = g_strdup ("households");
      edits->id = g_strdup (ID);
      edits->hlc = g_strdup (HLC);
      hearth_change_add_edit (edits, name->str, "x", NULL);
      g_assert_cmpint (hearth_change_valid (edits), ==, want);
      record->table = g_strdup ("submissions");
      record->id = g_strdup (ID);
      g_hash_table_insert (record->fields, g_strdup (name->str), g_strdup ("x"));
      g_assert_cmpint (hearth_change_valid (record), ==, want);
    }
}

/* The center's writer asks the workflow about an edit only when its
 * field is guarded or its parents' values (two or more found) may
 * disagree (center-sync.c check_edit_role()): every other edit is one
 * hearth_workflow_check_edit() allows, whatever the role, the value and
 * the number of parents. Held here for every field of every table, so
 * that a rule on an unguarded field fails this test rather than be
 * skipped by the writer. */
static void
test_workflow_unguarded (void)
{
  static const char *const tables[] = { "households", "members", "tasks", "measures" };
  static const char *const values[] = { "", "1", "done", "eliminated" };
  guint asked = 0;

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      const char *const *fields = hearth_change_table_fields (tables[t]);

      g_assert_nonnull (fields);
      for (guint f = 0; fields[f] != NULL; f++)
        {
          if (hearth_workflow_guards_field (tables[t], fields[f]))
            continue;
          for (int role = 0; role < HEARTH_ROLE_COUNT; role++)
            for (guint v = 0; v < G_N_ELEMENTS (values); v++)
              for (guint parents = 0; parents <= 3; parents++)
                for (guint known = 0; known <= MIN (parents, 1); known++)
                  {
                    const char *found[1] = { values[(v + 1) % G_N_ELEMENTS (values)] };
                    g_autoptr(GError) error = NULL;

                    g_assert_true (hearth_workflow_check_edit ((HearthRole) role, tables[t], fields[f], values[v],
                                                               parents, known > 0 ? found : NULL, known, &error));
                    g_assert_no_error (error);
                    asked++;
                  }
        }
    }
  /* Each table has unguarded fields. */
  g_assert_cmpuint (asked, >, 4 * 4 * 4 * 6);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/change/round-trip", test_round_trip);
  g_test_add_func ("/change/direct-json", test_direct_json);
  g_test_add_func ("/change/equal", test_equal);
  g_test_add_func ("/change/refusals", test_refusals);
  g_test_add_func ("/change/json-depth", test_json_depth);
  g_test_add_func ("/change/sign", test_sign);
  g_test_add_func ("/change/push-body", test_push_body);
  g_test_add_func ("/change/push-body/corpus", test_push_corpus);
  g_test_add_func ("/change/push-body/one-pass", test_push_fast);
  g_test_add_func ("/change/push-body/fields-as-sent", test_push_fields_as_sent);
  g_test_add_func ("/change/push-body/digest-as-sent", test_push_digest_as_sent);
  g_test_add_func ("/change/is-uuid", test_is_uuid);
  g_test_add_func ("/change/valid-names", test_valid_names);
  g_test_add_func ("/change/push-body/utf8", test_push_utf8);
  g_test_add_func ("/change/scan-string-steps", test_scan_string_steps);
  g_test_add_func ("/change/push-body/hostile-strings", test_push_hostile_strings);
  g_test_add_func ("/change/json-escapes", test_json_escapes);
  g_test_add_func ("/change/workflow-unguarded", test_workflow_unguarded);
  return g_test_run ();
}
