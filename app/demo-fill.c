/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * demo-fill.c: a store filled with the made-up county for benchmarks
 * (hearth_demo_fill_store() in demo-generate.h).
 *
 * Three steps, each through the code real data takes:
 * 1. The registry of demo-generate.c, written a few thousand households at
 *    a time to a file in the store's folder (removed at once) and imported
 *    by hearth_case_import_registry().
 * 2. A few dozen visit answer sets, each filled through a form session of
 *    the bundled household-visit form with a household of the store as its
 *    `case` instance and finalised: the form computes their risk levels
 *    and follow-up intervals.
 * 3. The visits, in date order over two years: each takes an answer set
 *    fitting its household (a household's profile, drawn from its
 *    category, makes it steadily safe, watched or at risk), gets its own
 *    instance id, household, dates and next visit date, and is recorded by
 *    hearth_case_record_submission() as the worker; the cases it raises
 *    are reviewed as the clerk and the county would, through
 *    hearth_case_transition(). The case stores' wall clock follows the
 *    visit times and never repeats a millisecond, so every clock stamp is
 *    distinct and the audit log is in date order.
 */
#define G_LOG_DOMAIN "hearth-demo"

#include "demo-generate.h"
#include "record-id.h"
#include "case-store.h"
#include "form-session.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* Households per registry file imported in one transaction. */
#define IMPORT_CHUNK 2500
/* Visits per transaction. */
#define VISIT_CHUNK 250
/* Distinct answer sets filled through the form session. */
#define N_ANSWER_SETS 48
/* Visits fall on the days of this window before the reference date. */
#define WINDOW_DAYS 730

enum { LEVEL_NONE, LEVEL_YELLOW, LEVEL_ORANGE, LEVEL_RED, N_LEVELS };
static const char *const level_names[N_LEVELS] = { "none", "yellow", "orange", "red" };

/* The chance, in percent, of each risk level on a visit, per household
 * profile: steadily safe, watched, at risk. */
static const guint profile_levels[3][N_LEVELS] = {
  { 85, 15, 0, 0 },
  { 40, 40, 20, 0 },
  { 0, 20, 50, 30 },
};
/* Visits a household of each profile gets, relative to the others. */
static const guint profile_weights[3] = { 10, 13, 20 };

static const char *const risk_descriptions[] = {
  "家中主要劳动力患慢性病，长期服药，医疗自付费用较高。",
  "今年春季干旱，玉米减产，种植收入明显下降。",
  "子女上高中，教育支出增加，务工收入不稳定。",
  "房屋经鉴定为C级危房，需要改造。",
  "外出务工人员年初失业返乡，工资性收入减少。",
};
static const char *const needs[] = {
  "living", "social_protection", "microcredit", "industry", "public_job", "casual_work", "regular_job",
  "education", "health", "housing", "water", "temporary_relief", "insurance",
};

typedef struct {
  xmlDoc *doc;
  xmlNode *start, *end, *today, *last_visit, *next_visit, *instance_id, *instance_name, *entity, *label;
  guint level;
  int next_days;   /* from the visit day to the next visit */
} AnswerSet;

typedef struct {
  guint32 day;       /* from the window's first day */
  guint32 household;
  guint32 seq;
  guint8 level;
} Visit;

typedef struct {
  gint64 ms;
} Clock;

static gint64
clock_now (gpointer data)
{
  Clock *c = data;

  return c->ms++;
}

static gboolean
failed (GError **error, const char *step, GError *cause)
{
  g_set_error (error, HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_FAILED, _("Filling the demo store failed (%s): %s"), step,
               cause != NULL ? cause->message : "");
  g_clear_error (&cause);
  return FALSE;
}

static gboolean
sql_failed (sqlite3 *db, GError **error, const char *step)
{
  g_set_error (error, HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_FAILED, _("Filling the demo store failed (%s): %s"), step,
               sqlite3_errmsg (db));
  return FALSE;
}

static guint
draw (GRand *r, guint n)
{
  return (guint) g_rand_int_range (r, 0, (gint32) n);
}

/* ---- step 1: the registry ------------------------------------------------ */

static gboolean
import_registry (HearthCaseStore *worker, HearthStore *store, const HearthDemoFillOptions *o,
                 HearthDemoFillResult *result, GError **error)
{
  g_autoptr(HearthDemoGenerator) gen = hearth_demo_generator_new (o->seed, o->county, error);
  g_autofree char *path = g_build_filename (hearth_store_get_data_dir (store), "demo-registry.csv", NULL);

  if (gen == NULL)
    return FALSE;
  hearth_demo_generator_set_larger (gen, o->larger_households);
  for (guint first = 0; first < o->households; first += IMPORT_CHUNK)
    {
      g_autoptr(GString) csv = g_string_new ("\xef\xbb\xbf");
      g_autoptr(GPtrArray) problems = NULL;
      GError *local = NULL;
      guint households = 0, members = 0;
      gboolean ok;

      g_string_append (csv, hearth_demo_registry_header ());
      for (guint i = first; i < o->households && i < first + IMPORT_CHUNK; i++)
        hearth_demo_generator_next (gen, csv);
      if (!g_file_set_contents_full (path, csv->str, (gssize) csv->len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
        return failed (error, "import", local);
      ok = hearth_case_import_registry (worker, path, &households, &members, &problems, NULL, &local);
      g_unlink (path);
      if (!ok)
        {
          if (problems != NULL && problems->len > 0)
            g_prefix_error (&local, "%s: ", (char *) problems->pdata[0]);
          return failed (error, "import", local);
        }
      result->households += households;
      result->members += members;
      if (o->progress != NULL)
        o->progress ("import", result->households, o->households, o->user_data);
    }
  return TRUE;
}

/* ---- step 2: answer sets --------------------------------------------------- */

static xmlNode *
child (xmlNode *parent, const char *name)
{
  for (xmlNode *c = parent != NULL ? parent->children : NULL; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, (const xmlChar *) name))
      return c;
  return NULL;
}

static void
set_text (xmlNode *node, const char *text)
{
  /* xmlNodeAddContent() takes text as it is (xmlNodeSetContent() would
   * read & as an entity reference). */
  xmlNodeSetContent (node, NULL);
  xmlNodeAddContent (node, (const xmlChar *) text);
}

/* Answers for the visit form that should make risk level @band (the form
 * decides: the set is filed under the level it computes). */
static GPtrArray *
draw_answers (GRand *r, guint band)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  guint size = 1 + draw (r, 6);
  guint per_capita = band == LEVEL_NONE     ? 10000 + draw (r, 20000)
                     : band == LEVEL_YELLOW ? 7900 + draw (r, 1400)
                     : band == LEVEL_ORANGE ? 4500 + draw (r, 3100)
                                            : 2500 + draw (r, 4500);
  guint net = per_capita * size, costs = net * (10 + draw (r, 16)) / 100, gross = net + costs;
  guint wages = draw (r, 10) == 0 ? 0 : gross * (30 + draw (r, 26)) / 100;
  guint pension = draw (r, 3) == 0 ? MIN (gross - wages, 2400u + draw (r, 3600)) : 0;
  guint transfer = (gross - wages - pension) * draw (r, 15) / 100;
  guint property = (gross - wages - pension - transfer) * draw (r, 6) / 100;
  guint production = gross - wages - pension - transfer - property;
  gboolean warning = band == LEVEL_ORANGE && draw (r, 3) == 0;
  gboolean spending = band == LEVEL_RED && draw (r, 3) == 0;
  const char *risk_types = "";

  if (wages > 0 && wages < 100)
    production += wages, wages = 0;
#define ANSWER(path, ...) (g_ptr_array_add (a, g_strdup (path)), g_ptr_array_add (a, g_strdup_printf (__VA_ARGS__)))
  ANSWER ("/data/intro/visit_reason", "%s",
          band == LEVEL_NONE ? "routine" : band == LEVEL_YELLOW ? (draw (r, 2) ? "routine" : "sweep")
          : band == LEVEL_ORANGE ? (draw (r, 2) ? "warning" : "verification") : (draw (r, 2) ? "warning" : "declaration"));
  ANSWER ("/data/income/household_size", "%u", size);
  ANSWER ("/data/income/wages_public", "%u", wages);
  ANSWER ("/data/income/wages_other", "%u", 0u);
  ANSWER ("/data/income/production", "%u", production);
  ANSWER ("/data/income/property", "%u", property);
  ANSWER ("/data/income/pension", "%u", pension);
  ANSWER ("/data/income/dibao", "%u", 0u);
  ANSWER ("/data/income/tekun", "%u", 0u);
  ANSWER ("/data/income/transfer_other", "%u", transfer);
  ANSWER ("/data/income/production_costs", "%u", costs);
  ANSWER ("/data/guarantees/food", "yes");
  ANSWER ("/data/guarantees/clothing", "yes");
  ANSWER ("/data/guarantees/schooling", "%s", draw (r, 2) ? "ok" : "na");
  ANSWER ("/data/guarantees/medical_insurance", "%s", band == LEVEL_RED && draw (r, 3) == 0 ? "not_all" : "all");
  ANSWER ("/data/guarantees/housing_grade", "%s", band == LEVEL_RED && draw (r, 2) ? "C" : draw (r, 2) ? "A" : "B");
  ANSWER ("/data/guarantees/water_quantity", "yes");
  ANSWER ("/data/guarantees/water_quality", "%s", band == LEVEL_RED && draw (r, 3) == 0 ? "no" : "yes");
  if (band == LEVEL_ORANGE)
    risk_types = (const char *const[]) { "", "01", "04", "05" }[draw (r, 4)];
  else if (band == LEVEL_RED)
    risk_types = (const char *const[]) { "01 04", "0201", "03", "05 06" }[draw (r, 4)];
  ANSWER ("/data/risks/risk_types", "%s", risk_types);
  /* More than last year's income at once: red. */
  ANSWER ("/data/risks/sudden_spending", "%u", spending ? net + 5000 + draw (r, 20000) : 0);
  ANSWER ("/data/risks/medical_self_pay", "%u", warning ? 10500 + draw (r, 20000) : draw (r, 5000));
  ANSWER ("/data/risks/education_spending", "%u", draw (r, 3000));
  if (risk_types[0] != '\0')
    ANSWER ("/data/risks/risk_description", "%s", risk_descriptions[draw (r, G_N_ELEMENTS (risk_descriptions))]);
  if (band >= LEVEL_ORANGE)
    ANSWER ("/data/assistance/assistance_needs", "%s %s", needs[draw (r, G_N_ELEMENTS (needs))],
            needs[draw (r, G_N_ELEMENTS (needs))]);
  ANSWER ("/data/assistance/propose_monitoring", "%s", band >= LEVEL_ORANGE || (band == LEVEL_YELLOW && draw (r, 5) == 0)
                                                       ? "yes" : "no");
  ANSWER ("/data/assistance/consent", "yes");
#undef ANSWER
  return a;
}

static gboolean
fill_answer_set (const char *form_path, const char *media, xmlDoc *case_doc, GRand *r, guint band, AnswerSet *set,
                 GError **error)
{
  g_autoptr(GHashTable) instances = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) answers = draw_answers (r, band);
  g_autoptr(HearthFormSession) session = NULL;
  g_autoptr(GPtrArray) issues = NULL;
  g_autofree char *xml = NULL;
  HearthFormSessionOptions options = { 0 };
  HearthForm *form;
  GError *local = NULL;
  xmlNode *root, *assessment, *meta;
  GDate today, next;

  form = hearth_form_load (form_path, media, &local);
  if (form == NULL)
    return failed (error, "visit form", local);
  g_hash_table_insert (instances, (gpointer) "case", case_doc);
  options.now = HEARTH_DEMO_REFERENCE_DATE "T09:00:00+08:00";
  options.instances = instances;
  session = hearth_form_session_new (form, &options, &local);
  if (session == NULL)
    return failed (error, "visit form", local);
  for (guint i = 0; i + 1 < answers->len; i += 2)
    {
      /* Consent is asked only for some answers: skip it where it is not. */
      if (!hearth_form_session_is_relevant (session, answers->pdata[i]))
        continue;
      if (!hearth_form_session_set_value (session, answers->pdata[i], answers->pdata[i + 1], &local))
        return failed (error, "visit answers", local);
    }
  xml = hearth_form_session_finalise (session, &issues, &local);
  if (xml == NULL)
    {
      if (issues != NULL && issues->len > 0)
        g_prefix_error (&local, "%s: %s: ", ((HearthFormIssue *) issues->pdata[0])->path,
                        ((HearthFormIssue *) issues->pdata[0])->message);
      return failed (error, "visit answers", local);
    }
  set->doc = xmlReadMemory (xml, (int) strlen (xml), "visit.xml", "UTF-8", XML_PARSE_NONET);
  root = xmlDocGetRootElement (set->doc);
  assessment = child (root, "assessment");
  meta = child (root, "meta");
  set->start = child (root, "start");
  set->end = child (root, "end");
  set->today = child (root, "today");
  set->last_visit = child (assessment, "last_visit_date");
  set->next_visit = child (assessment, "next_visit_date");
  set->instance_id = child (meta, "instanceID");
  set->instance_name = child (meta, "instanceName");
  set->entity = child (meta, "entity");
  set->label = child (set->entity, "label");
  if (set->start == NULL || set->end == NULL || set->today == NULL || set->last_visit == NULL ||
      set->next_visit == NULL || set->instance_id == NULL || set->instance_name == NULL || set->label == NULL)
    return failed (error, "visit answers",
                   g_error_new_literal (HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_FAILED,
                                        "the visit form's submission lacks a dated or meta element"));
  {
    g_autofree char *level = (char *) xmlNodeGetContent (child (assessment, "risk_level"));
    g_autofree char *next_text = (char *) xmlNodeGetContent (set->next_visit);
    g_autofree char *today_text = (char *) xmlNodeGetContent (set->today);

    set->level = LEVEL_NONE;
    for (guint l = 0; l < N_LEVELS; l++)
      if (g_strcmp0 (level, level_names[l]) == 0)
        set->level = l;
    g_date_clear (&today, 1);
    g_date_clear (&next, 1);
    g_date_set_parse (&today, today_text);
    g_date_set_parse (&next, next_text);
    set->next_days = g_date_valid (&today) && g_date_valid (&next) ? g_date_days_between (&today, &next) : 90;
  }
  return TRUE;
}

/* ---- step 3: visits -------------------------------------------------------- */

static int
compare_visits (const void *a, const void *b)
{
  const Visit *x = a, *y = b;

  if (x->day != y->day)
    return x->day < y->day ? -1 : 1;
  if (x->household != y->household)
    return x->household < y->household ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* When each household is visited and at which risk level, in date order. */
static Visit *
schedule (GRand *r, guint n_households, const guint8 *profiles, guint n_visits)
{
  Visit *visits = g_new0 (Visit, MAX (n_visits, 1));
  g_autofree guint *counts = g_new0 (guint, n_households);
  guint64 total_weight = 0;
  guint given = 0, k = 0;

  for (guint h = 0; h < n_households; h++)
    total_weight += profile_weights[profiles[h]];
  for (guint h = 0; h < n_households; h++)
    {
      counts[h] = (guint) ((guint64) n_visits * profile_weights[profiles[h]] / total_weight);
      given += counts[h];
    }
  for (; given < n_visits; given++)
    counts[draw (r, n_households)]++;
  for (guint h = 0; h < n_households; h++)
    for (guint s = 0; s < counts[h]; s++)
      {
        guint p = draw (r, 100), level = 0;

        while (p >= profile_levels[profiles[h]][level])
          p -= profile_levels[profiles[h]][level++];
        visits[k++] = (Visit) { .day = draw (r, WINDOW_DAYS), .household = h, .seq = s, .level = (guint8) level };
      }
  qsort (visits, n_visits, sizeof (Visit), compare_visits);
  return visits;
}

static char *
query_text (sqlite3_stmt *st, int column)
{
  const unsigned char *t = sqlite3_column_text (st, column);

  return g_strdup (t != NULL ? (const char *) t : "");
}

/* The clerk's and the county's reviews of the case a visit raised, and the
 * elimination of a monitored household found safe; with @worker_only, the
 * worker's proposal of it only. */
static gboolean
review (HearthCaseStore *worker, HearthCaseStore *clerk, HearthCaseStore *county, gboolean worker_only,
        sqlite3_stmt *status_st, const char *household, guint level, GRand *r, guint *moves, GError **error)
{
  g_autofree char *state = NULL;
  GError *local = NULL;
  guint p = draw (r, 100);
  gboolean ok = TRUE;

  sqlite3_reset (status_st);
  sqlite3_bind_text (status_st, 1, household, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (status_st) == SQLITE_ROW)
    state = query_text (status_st, 0);
  sqlite3_reset (status_st);
  if (g_strcmp0 (state, "pending_village_review") == 0 && !worker_only)
    {
      if (p < 75)
        {
          ok = hearth_case_transition (clerk, household, HEARTH_ROLE_CLERK, "approve", NULL, NULL, &local);
          (*moves)++;
          if (ok && draw (r, 10) < 9)
            {
              ok = hearth_case_transition (county, household, HEARTH_ROLE_COUNTY, "approve", NULL, NULL, &local);
              (*moves)++;
            }
        }
      else if (p < 85)
        {
          ok = hearth_case_transition (clerk, household, HEARTH_ROLE_CLERK, "return", "请补充收入证明材料后重新核实。",
                                       NULL, &local);
          (*moves)++;
        }
    }
  else if (g_strcmp0 (state, "monitored") == 0 && level == LEVEL_NONE && p < 35)
    {
      ok = hearth_case_transition (worker, household, HEARTH_ROLE_WORKER, "propose-elimination", NULL, NULL, &local);
      (*moves)++;
      if (ok && !worker_only)
        {
          ok = hearth_case_transition (clerk, household, HEARTH_ROLE_CLERK, "approve", NULL, NULL, &local) &&
               hearth_case_transition (county, household, HEARTH_ROLE_COUNTY, "approve", NULL, NULL, &local);
          *moves += 2;
        }
    }
  return ok || failed (error, "reviews", local);
}

/* Milliseconds since 1970 of @date at @minute past midnight, UTC+8. */
static gint64
local_ms (const GDate *date, guint minute)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_offset (8 * 3600);
  g_autoptr(GDateTime) dt = g_date_time_new (tz, g_date_get_year (date), g_date_get_month (date),
                                             g_date_get_day (date), (int) (minute / 60), (int) (minute % 60), 0);

  return g_date_time_to_unix (dt) * 1000;
}

static char *
format_date (const GDate *date)
{
  char text[16];

  g_date_strftime (text, sizeof text, "%Y-%m-%d", date);
  return g_strdup (text);
}

static gboolean
record_visits (HearthStore *store, HearthCaseStore *worker, HearthCaseStore *clerk, HearthCaseStore *county,
               Clock *clock, const HearthDemoFillOptions *o, HearthDemoFillResult *result, GError **error)
{
  sqlite3 *db = hearth_store_get_db (store);
  g_autofree char *form_path = g_build_filename (o->forms_dir, "household-visit.xml", NULL);
  g_autofree char *media = g_build_filename (o->forms_dir, "media", NULL);
  g_autoptr(GRand) r = g_rand_new_with_seed (o->seed ^ 0x9e3779b9u);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) profiles = g_array_new (FALSE, FALSE, sizeof (guint8));
  g_autoptr(HearthForm) form = NULL;
  g_autofree Visit *visits = NULL;
  AnswerSet sets[N_ANSWER_SETS] = { 0 };
  GPtrArray *by_level[N_LEVELS];
  sqlite3_stmt *st = NULL, *household_st = NULL, *status_st = NULL;
  GError *local = NULL;
  GDate first;
  gboolean ok = FALSE, open = FALSE;
  guint day = G_MAXUINT, of_day = 0;

  for (guint l = 0; l < N_LEVELS; l++)
    by_level[l] = g_ptr_array_new ();

  /* Households in registry order, each with a profile from its category. */
  if (sqlite3_prepare_v2 (db, "SELECT id, category FROM households WHERE deleted = 0 ORDER BY registry_no", -1, &st,
                          NULL) != SQLITE_OK)
    {
      sql_failed (db, error, "visits");
      goto out;
    }
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      const char *category = (const char *) sqlite3_column_text (st, 1);
      guint p = draw (r, 100);
      guint8 profile = category == NULL || category[0] == '\0' ? (p < 80 ? 0 : p < 95 ? 1 : 2)
                       : category[0] == '2'                    ? (p < 20 ? 0 : p < 60 ? 1 : 2)
                                                               : (p < 40 ? 0 : p < 80 ? 1 : 2);

      g_ptr_array_add (ids, query_text (st, 0));
      g_array_append_val (profiles, profile);
    }
  g_clear_pointer (&st, sqlite3_finalize);
  if (ids->len == 0)
    {
      ok = TRUE;
      goto out;
    }

  /* The answer sets, filled for a household with a working member (so
   * the form does not find the household short of labour). */
  {
    g_autofree char *case_household = NULL;
    xmlDoc *case_doc;

    if (sqlite3_prepare_v2 (db, "SELECT household_id FROM members WHERE deleted = 0 AND labour IN ('ordinary', 'skilled')"
                                " ORDER BY household_id LIMIT 1", -1, &st, NULL) != SQLITE_OK)
      {
        sql_failed (db, error, "visits");
        goto out;
      }
    case_household = sqlite3_step (st) == SQLITE_ROW ? query_text (st, 0) : g_strdup (ids->pdata[0]);
    g_clear_pointer (&st, sqlite3_finalize);
    case_doc = hearth_case_build_instance (worker, case_household, &local);
    if (case_doc == NULL)
      {
        failed (error, "visit form", local);
        goto out;
      }
    for (guint i = 0; i < N_ANSWER_SETS; i++)
      if (!fill_answer_set (form_path, media, case_doc, r, i % N_LEVELS, &sets[i], error))
        {
          xmlFreeDoc (case_doc);
          goto out;
        }
      else
        g_ptr_array_add (by_level[sets[i].level], &sets[i]);
    xmlFreeDoc (case_doc);
    result->answer_sets = N_ANSWER_SETS;
  }
  form = hearth_form_load (form_path, media, &local);
  if (form == NULL)
    {
      failed (error, "visit form", local);
      goto out;
    }

  visits = schedule (r, ids->len, (const guint8 *) profiles->data, o->visits);
  g_date_clear (&first, 1);
  g_date_set_parse (&first, HEARTH_DEMO_REFERENCE_DATE);
  g_date_subtract_days (&first, WINDOW_DAYS);
  if (sqlite3_prepare_v2 (db, "SELECT head_name, address, entity_version FROM households WHERE id = ?", -1,
                          &household_st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "SELECT monitoring_status FROM households WHERE id = ?", -1, &status_st,
                          NULL) != SQLITE_OK)
    {
      sql_failed (db, error, "visits");
      goto out;
    }

  for (guint i = 0; i < o->visits; i++)
    {
      const Visit *v = &visits[i];
      const char *household = ids->pdata[v->household];
      GPtrArray *fitting = by_level[v->level];
      AnswerSet *set;
      g_autofree char *date = NULL, *next = NULL, *start = NULL, *end = NULL, *instance = NULL, *name = NULL;
      g_autofree char *head = NULL, *address = NULL, *version = NULL, *label = NULL, *recorded = NULL;
      g_autofree char *uuid = hearth_record_id_new ();
      xmlChar *xml = NULL;
      int xml_len = 0;
      GDate when, due;
      guint minute;

      /* A level no answer set reached: any set will do. */
      for (guint l = 0; fitting->len == 0; l++)
        fitting = by_level[(v->level + l) % N_LEVELS];
      set = fitting->pdata[draw (r, fitting->len)];
      if (!open)
        {
          if (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
            {
              sql_failed (db, error, "visits");
              goto out;
            }
          open = TRUE;
        }
      when = first;
      g_date_add_days (&when, v->day);
      of_day = v->day == day ? of_day + 1 : 0;
      day = v->day;
      /* Visits from 08:00, two minutes apart, into the evening at most. */
      minute = 8 * 60 + (of_day * 2) % (12 * 60);
      clock->ms = MAX (clock->ms, local_ms (&when, minute + 25));
      due = when;
      if (set->next_days >= 0)
        g_date_add_days (&due, (guint) set->next_days);
      date = format_date (&when);
      next = format_date (&due);
      start = g_strdup_printf ("%sT%02u:%02u:00+08:00", date, minute / 60, minute % 60);
      end = g_strdup_printf ("%sT%02u:%02u:00+08:00", date, (minute + 25) / 60, (minute + 25) % 60);

      sqlite3_reset (household_st);
      sqlite3_bind_text (household_st, 1, household, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (household_st) != SQLITE_ROW)
        {
          sql_failed (db, error, "visits");
          goto out;
        }
      head = query_text (household_st, 0);
      address = query_text (household_st, 1);
      version = query_text (household_st, 2);
      sqlite3_reset (household_st);
      instance = g_strconcat ("uuid:", uuid, NULL);
      name = g_strdup_printf ("%s %s", head, date);
      label = g_strdup_printf ("%s · %s", head, address);
      set_text (set->start, start);
      set_text (set->end, end);
      set_text (set->today, date);
      set_text (set->last_visit, date);
      set_text (set->next_visit, next);
      set_text (set->instance_id, instance);
      set_text (set->instance_name, name);
      set_text (set->label, label);
      xmlSetProp (set->entity, (const xmlChar *) "id", (const xmlChar *) household);
      xmlSetProp (set->entity, (const xmlChar *) "baseVersion", (const xmlChar *) version);
      xmlSetProp (set->entity, (const xmlChar *) "trunkVersion", (const xmlChar *) version);
      xmlDocDumpMemoryEnc (set->doc, &xml, &xml_len, "UTF-8");
      recorded = hearth_case_record_submission (worker, form, (const char *) xml, household, &local);
      xmlFree (xml);
      if (recorded == NULL)
        {
          failed (error, "visits", local);
          goto out;
        }
      if (!review (worker, clerk, county, o->worker_only, status_st, household, set->level, r, &result->transitions, error))
        goto out;
      result->visits++;
      if (result->visits % VISIT_CHUNK == 0 || i + 1 == o->visits)
        {
          if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            {
              sql_failed (db, error, "visits");
              goto out;
            }
          open = FALSE;
          if (o->progress != NULL)
            o->progress ("visits", result->visits, o->visits, o->user_data);
        }
    }
  ok = TRUE;

out:
  if (open)
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_finalize (st);
  sqlite3_finalize (household_st);
  sqlite3_finalize (status_st);
  for (guint i = 0; i < N_ANSWER_SETS; i++)
    if (sets[i].doc != NULL)
      xmlFreeDoc (sets[i].doc);
  for (guint l = 0; l < N_LEVELS; l++)
    g_ptr_array_unref (by_level[l]);
  return ok;
}

gboolean
hearth_demo_fill_store (HearthStore *store, const HearthDemoFillOptions *o, HearthDemoFillResult *result,
                        GError **error)
{
  HearthDemoFillResult local_result = { 0 };
  g_autoptr(HearthCaseStore) worker = NULL;
  g_autoptr(HearthCaseStore) clerk = NULL;
  g_autoptr(HearthCaseStore) county = NULL;
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  gint64 existing = -1, t0;
  Clock clock;
  GDate start;
  GError *local = NULL;

  g_return_val_if_fail (store != NULL && o != NULL, FALSE);
  if (result == NULL)
    result = &local_result;
  *result = (HearthDemoFillResult) { 0 };
  if (o->households < 1 || o->households > HEARTH_DEMO_MAX_HOUSEHOLDS || o->forms_dir == NULL ||
      o->visits > 1000u * o->households)
    {
      g_set_error (error, HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_INVALID,
                   _("A demo store needs 1 to %d households, at most 1000 visits per household and the bundled forms' folder."),
                   HEARTH_DEMO_MAX_HOUSEHOLDS);
      return FALSE;
    }
  db = hearth_store_get_db (store);
  if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM households", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    existing = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  if (existing != 0)
    {
      g_set_error_literal (error, HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_INVALID,
                           _("A demo store is filled only when it has no households yet."));
      return FALSE;
    }

  /* The registry is imported a month before the first visit. */
  g_date_clear (&start, 1);
  g_date_set_parse (&start, HEARTH_DEMO_REFERENCE_DATE);
  g_date_subtract_days (&start, WINDOW_DAYS + 30);
  clock.ms = local_ms (&start, 9 * 60);
  worker = hearth_case_store_new (store, "demo-worker", &local);
  clerk = worker != NULL ? hearth_case_store_new (store, "demo-clerk", &local) : NULL;
  county = clerk != NULL ? hearth_case_store_new (store, "demo-county", &local) : NULL;
  if (county == NULL)
    return failed (error, "case store", local);
  hearth_case_store_set_wall_clock (worker, clock_now, &clock);
  hearth_case_store_set_wall_clock (clerk, clock_now, &clock);
  hearth_case_store_set_wall_clock (county, clock_now, &clock);

  t0 = g_get_monotonic_time ();
  if (!import_registry (worker, store, o, result, error))
    return FALSE;
  result->import_seconds = (g_get_monotonic_time () - t0) / 1e6;
  t0 = g_get_monotonic_time ();
  if (!record_visits (store, worker, clerk, county, &clock, o, result, error))
    return FALSE;
  result->visit_seconds = (g_get_monotonic_time () - t0) / 1e6;
  return TRUE;
}
