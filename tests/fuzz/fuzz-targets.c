/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "store-countykey.h"
#include "xpath-expr.h"
#include "xpath-eval.h"
#include "form-model.h"
#include "form-session.h"
#include "record-id.h"
#include "store-error.h"
#include "store-keyslot.h"
#include "store-packed.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Layout facts from store-keyslot.h. */
#define KEYSLOT_CHECKSUM_OFFSET 268
#define KEYSLOT_CHECKSUM_SIZE 32
#define COUNTY_KEY_FILE_MAX 256  /* KEY_FILE_MAX in store-countykey.c */

G_STATIC_ASSERT (KEYSLOT_CHECKSUM_OFFSET + KEYSLOT_CHECKSUM_SIZE == HEARTH_KEYSLOT_SIZE);

void
hearth_fuzz_fail (const char *file, int line, const char *expr)
{
  fprintf (stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, expr);
  fflush (stderr);
  abort ();
}

void
hearth_fuzz_check_message (const GError *error)
{
  fuzz_check (error != NULL);
  fuzz_check (error->message != NULL && error->message[0] != '\0');
  fuzz_check (g_utf8_validate (error->message, -1, NULL));
}

static void
fuzz_init_sodium (void)
{
  /* Idempotent and cheap after the first call; the keyslot checksum uses
   * libsodium's BLAKE2b, which wants it. */
  fuzz_check (sodium_init () >= 0);
}

/* The error must exist, be of @code and carry a valid, non-empty message. */
static void
check_refusal (const GError *error, int code)
{
  fuzz_check (error != NULL);
  fuzz_check (error->domain == HEARTH_STORE_ERROR);
  fuzz_check (error->code == code);
  fuzz_check (error->message != NULL && error->message[0] != '\0');
  fuzz_check (g_utf8_validate (error->message, -1, NULL));
}

/* ---------------------------------------------------------------- keyslot */

static gboolean
keyslot_equal (const HearthKeyslot *a, const HearthKeyslot *b)
{
  /* Field by field: the struct has padding, which memcmp() would compare. */
  return a->generation == b->generation &&
         memcmp (a->file_id, b->file_id, sizeof a->file_id) == 0 &&
         a->opslimit == b->opslimit &&
         a->memlimit == b->memlimit &&
         memcmp (a->salt, b->salt, sizeof a->salt) == 0 &&
         memcmp (a->nonce, b->nonce, sizeof a->nonce) == 0 &&
         memcmp (a->wrapped, b->wrapped, sizeof a->wrapped) == 0 &&
         !a->has_envelope == !b->has_envelope &&
         memcmp (a->county_public_key, b->county_public_key, sizeof a->county_public_key) == 0 &&
         memcmp (a->envelope, b->envelope, sizeof a->envelope) == 0;
}

static void
check_keyslot (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  HearthKeyslot slot, again;
  const guint8 *out;
  gsize out_len;

  if (!hearth_keyslot_parse (data, size, &slot, &error))
    {
      check_refusal (error, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT);
      return;
    }
  fuzz_check (error == NULL);
  fuzz_check (size == HEARTH_KEYSLOT_SIZE);
  /* derive_kek() hands the memlimit to crypto_pwhash() as a size_t. */
  fuzz_check (slot.memlimit <= G_MAXSIZE);

  /* A slot that parses must be the one encoding of its fields: every byte
   * of the file is either a field or a checksum over the fields. */
  bytes = hearth_keyslot_serialise (&slot);
  out = g_bytes_get_data (bytes, &out_len);
  fuzz_check (out_len == size);
  fuzz_check (memcmp (out, data, size) == 0);

  fuzz_check (hearth_keyslot_parse (out, out_len, &again, &error));
  fuzz_check (error == NULL);
  fuzz_check (keyslot_equal (&slot, &again));
}

/* The county recovery record (the envelope kept beside the keyslot): a
 * record that parses is the one encoding of its fields. */
static void
check_recovery_record (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  HearthKeyslot rec;

  if (!hearth_recovery_record_parse (data, size, &rec, &error))
    {
      check_refusal (error, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT);
      return;
    }
  fuzz_check (size == HEARTH_RECOVERY_RECORD_SIZE);
  fuzz_check (rec.has_envelope);
  bytes = hearth_recovery_record_serialise (&rec);
  fuzz_check (g_bytes_get_size (bytes) == size);
  fuzz_check (memcmp (g_bytes_get_data (bytes, NULL), data, size) == 0);
}

void
hearth_fuzz_keyslot (const guint8 *data, gsize size)
{
  fuzz_init_sodium ();
  check_keyslot (data, size);
  check_recovery_record (data, size);
  if (size == HEARTH_RECOVERY_RECORD_SIZE)
    {
      guint8 fixed[HEARTH_RECOVERY_RECORD_SIZE];
      gsize sum_at = HEARTH_RECOVERY_RECORD_SIZE - 32;

      memcpy (fixed, data, sum_at);
      crypto_generichash (fixed + sum_at, 32, fixed, sum_at, NULL, 0);
      check_recovery_record (fixed, sizeof fixed);
    }

  /* Again with the checksum made right, or every mutation that survives the
   * header checks would stop at the checksum. */
  if (size >= KEYSLOT_CHECKSUM_OFFSET)
    {
      guint8 fixed[HEARTH_KEYSLOT_SIZE];

      memcpy (fixed, data, KEYSLOT_CHECKSUM_OFFSET);
      crypto_generichash (fixed + KEYSLOT_CHECKSUM_OFFSET, KEYSLOT_CHECKSUM_SIZE,
                          fixed, KEYSLOT_CHECKSUM_OFFSET, NULL, 0);
      if (size != HEARTH_KEYSLOT_SIZE || memcmp (fixed, data, size) != 0)
        check_keyslot (fixed, sizeof fixed);
    }
}

/* ------------------------------------------------------------- county key */

static char *scratch_tmp_path;  /* only when memfd_create() is unavailable */

static void
remove_scratch_tmp (void)
{
  if (scratch_tmp_path != NULL)
    g_unlink (scratch_tmp_path);
}

int
hearth_fuzz_scratch_file (const char **path_out)
{
  static int fd = -1;
  static char *path;

  if (fd < 0)
    {
      fd = memfd_create ("hearth-fuzz-scratch", MFD_CLOEXEC);
      if (fd >= 0)
        {
          path = g_strdup_printf ("/proc/self/fd/%d", fd);
          if (access (path, R_OK) != 0)  /* no /proc */
            {
              close (fd);
              fd = -1;
              g_clear_pointer (&path, g_free);
            }
        }
      if (fd < 0)
        {
          g_autoptr(GError) error = NULL;

          fd = g_file_open_tmp ("hearth-fuzz-scratch-XXXXXX", &path, &error);
          if (fd < 0)
            {
              fprintf (stderr, "fuzz: no scratch file: %s\n", error->message);
              abort ();
            }
          scratch_tmp_path = path;
          atexit (remove_scratch_tmp);
        }
    }
  *path_out = path;
  return fd;
}

char *
hearth_fuzz_make_dir (const char *name)
{
  const char *base = g_getenv ("HEARTH_TEST_TMPDIR");
  g_autofree char *tmpl = NULL;
  char *dir;

  if (base == NULL || base[0] == '\0')
    base = g_get_tmp_dir ();
  fuzz_check (g_mkdir_with_parents (base, 0700) == 0);
  tmpl = g_strdup_printf ("%s/hearth-fuzz-%s-XXXXXX", base, name);
  dir = g_mkdtemp (g_steal_pointer (&tmpl));
  fuzz_check (dir != NULL);
  return dir;
}

void
hearth_fuzz_write_file (int fd, const guint8 *data, gsize size)
{
  gsize done = 0;

  fuzz_check (ftruncate (fd, 0) == 0);
  while (done < size)
    {
      ssize_t n = pwrite (fd, data + done, size - done, (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      fuzz_check (n > 0);
      done += (gsize) n;
    }
}

/* An accepted key file must read "@header\n" + base64 (@key) + optional "\n". */
static void
check_canonical_key_file (const guint8 *data, gsize size, const char *header,
                          const guint8 *key)
{
  char b64[sodium_base64_ENCODED_LEN (HEARTH_COUNTY_KEY_SIZE, sodium_base64_VARIANT_ORIGINAL)];
  gsize header_len = strlen (header);
  gsize b64_len;

  sodium_bin2base64 (b64, sizeof b64, key, HEARTH_COUNTY_KEY_SIZE, sodium_base64_VARIANT_ORIGINAL);
  b64_len = strlen (b64);

  fuzz_check (size <= COUNTY_KEY_FILE_MAX);
  fuzz_check (size == header_len + 1 + b64_len || size == header_len + 1 + b64_len + 1);
  fuzz_check (memcmp (data, header, header_len) == 0);
  fuzz_check (data[header_len] == '\n');
  fuzz_check (memcmp (data + header_len + 1, b64, b64_len) == 0);
  fuzz_check (size == header_len + 1 + b64_len || data[size - 1] == '\n');
  sodium_memzero (b64, sizeof b64);
}

void
hearth_fuzz_county_key (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  guint8 public_key[HEARTH_COUNTY_KEY_SIZE];
  const char *path;
  gboolean public_ok;
  int fd;

  fuzz_init_sodium ();
  fd = hearth_fuzz_scratch_file (&path);
  hearth_fuzz_write_file (fd, data, size);

  public_ok = hearth_county_key_read_public (path, public_key, &error);
  if (public_ok)
    {
      fuzz_check (error == NULL);
      check_canonical_key_file (data, size, HEARTH_COUNTY_PUBLIC_HEADER, public_key);
    }
  else
    check_refusal (error, HEARTH_STORE_ERROR_BAD_FILE);
  g_clear_error (&error);

  secret = hearth_county_key_read_secret (path, &error);
  if (secret != NULL)
    {
      fuzz_check (error == NULL);
      fuzz_check (!public_ok);
      fuzz_check (hearth_secret_get_size (secret) == HEARTH_COUNTY_KEY_SIZE);
      check_canonical_key_file (data, size, HEARTH_COUNTY_SECRET_HEADER,
                                hearth_secret_peek (secret));
    }
  else
    check_refusal (error, HEARTH_STORE_ERROR_BAD_FILE);
}

void
hearth_fuzz_xpath (const guint8 *data, gsize size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (text, &error);
  g_autoptr(HearthXPathExpr) again = NULL;
  g_autofree char *out = NULL;
  g_autofree char *out2 = NULL;

  if (e == NULL)
    {
      fuzz_check (error != NULL && error->domain == HEARTH_XPATH_ERROR && error->message[0] != '\0');
      return;
    }
  fuzz_check (error == NULL);
  out = hearth_xpath_expr_to_string (e);
  again = hearth_xpath_parse (out, &error);
  /* Writing back may make a string longer (axes spelled out) than the
   * bound, or nest a little deeper; anything else must parse again. */
  if (again == NULL)
    {
      fuzz_check (error != NULL && error->code == HEARTH_XPATH_ERROR_TOO_COMPLEX);
      return;
    }
  out2 = hearth_xpath_expr_to_string (again);
  fuzz_check (g_str_equal (out, out2));
}

void
hearth_fuzz_form (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthForm) form = NULL;
  const char *path;
  int fd = hearth_fuzz_scratch_file (&path);

  hearth_fuzz_write_file (fd, data, size);
  form = hearth_form_load (path, NULL, &error);
  if (form == NULL)
    {
      fuzz_check (error != NULL && error->domain == HEARTH_FORM_ERROR && error->message[0] != '\0');
      return;
    }
  fuzz_check (error == NULL);
  fuzz_check (form->primary != NULL && xmlDocGetRootElement (form->primary) != NULL);

  /* Fill it: start a session, walk the pages answering each question with
   * its first choice or a fixed text, add one instance of each repeat,
   * finalise, and resume the result as a draft. Errors are fine; crashes,
   * leaks and invalid messages are not. */
  {
    HearthFormSessionOptions options = { .now = "2026-11-29T10:00:00+08:00",
                                         .instance_id = "11111111-2222-4333-8444-555555555555" };
    g_autoptr(HearthFormSession) session = hearth_form_session_new (g_steal_pointer (&form), &options, &error);
    g_autoptr(GPtrArray) pages = NULL;
    g_autoptr(GPtrArray) issues = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *draft = NULL;

    if (session == NULL)
      {
        fuzz_check (error != NULL && g_utf8_validate (error->message, -1, NULL));
        return;
      }
    pages = hearth_form_session_pages (session);
    for (guint i = 0; i < pages->len && i < 64; i++)
      {
        HearthFormPage *page = pages->pdata[i];

        if (page->kind == HEARTH_FORM_PAGE_REPEAT_PROMPT)
          {
            g_autofree char *where = g_strdup_printf ("%s/%s", page->path, strrchr (page->repeat, '/') + 1);
            hearth_form_session_add_repeat (session, where, NULL, NULL);
            continue;
          }
        for (guint k = 0; k < page->questions->len; k++)
          {
            HearthFormQuestion *q = page->questions->pdata[k];
            const char *value = q->choices != NULL && q->choices->len > 0
                                ? ((HearthFormChoiceItem *) q->choices->pdata[0])->value : "3";
            g_autoptr(GError) set_error = NULL;

            if (!hearth_form_session_set_value (session, q->path, value, &set_error))
              fuzz_check (set_error != NULL && g_utf8_validate (set_error->message, -1, NULL));
          }
      }
    g_clear_error (&error);
    xml = hearth_form_session_finalise (session, &issues, &error);
    fuzz_check (xml != NULL || error != NULL);
    draft = hearth_form_session_save_draft (session);
    fuzz_check (draft != NULL && g_utf8_validate (draft, -1, NULL));
    if (xml != NULL)
      fuzz_check (g_utf8_validate (xml, -1, NULL));
  }
}

/* ------------------------------------------------------------ xpath-eval */

/* The instance an expression runs over when the input brings none: what
 * real forms hold (Chinese text, dates, blanks, repeats, geopoints). */
static const char fuzz_instance_xml[] =
  "<data id=\"f\" version=\"1\">"
  "<household><head_name>张三</head_name><size>4</size><income>9000.5</income>"
  "<visit_date>2024-03-05</visit_date><visit_time>2024-03-05T09:07:03.250+08:00</visit_time>"
  "<blank/><water>piped well</water></household>"
  "<members><name>张三</name><age>40</age><health>healthy</health></members>"
  "<members><name>李四</name><age>38</age><health>chronic</health></members>"
  "<members><name>小明</name><age>10</age><health/></members>"
  "<plots><plot><crop>稻</crop><sample><kg>3</kg></sample><sample><kg>5</kg></sample></plot>"
  "<plot><crop>麦</crop><sample><kg>7</kg></sample></plot></plots>"
  "<geo><shape>39.9 116.3 0 0; 39.9 116.31 0 0; 39.91 116.31 0 0; 39.9 116.3 0 0</shape>"
  "<pt>31.2 121.5 10 5</pt></geo>"
  "<note><![CDATA[a <b> c]]><!-- comment --><?pi x?></note>"
  "</data>";

static const char fuzz_cities_xml[] =
  "<root><item><name>北京</name><country>cn</country></item>"
  "<item><name>Paris</name><country>fr</country></item>"
  "<item><name>上海</name><country>cn</country></item></root>";

static xmlDoc *
fuzz_read_xml (const char *text, gsize len)
{
  return xmlReadMemory (text, (int) MIN (len, (gsize) G_MAXINT), "fuzz.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static char *
fuzz_choice_name (gpointer host, const char *value, xmlNode *node)
{
  return g_strdup_printf ("%s:%s", value, node->name != NULL ? (const char *) node->name : "");
}

static char *
fuzz_itext (gpointer host, const char *id)
{
  return id[0] == 'k' ? g_strdup_printf ("文本 %s", id) : NULL;
}

/* A node inside the second instance of a repeat: the first element whose
 * previous element sibling has its name, or its first element child. */
static xmlNode *
fuzz_repeat_node (xmlNode *root)
{
  for (xmlNode *n = root; n != NULL;)
    {
      if (n->type == XML_ELEMENT_NODE)
        {
          xmlNode *prev = n->prev;
          while (prev != NULL && prev->type != XML_ELEMENT_NODE)
            prev = prev->prev;
          if (prev != NULL && xmlStrEqual (prev->name, n->name))
            {
              for (xmlNode *c = n->children; c != NULL; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                  return c;
              return n;
            }
        }
      if (n->type == XML_ELEMENT_NODE && n->children != NULL)
        n = n->children;
      else
        {
          while (n != root && n->next == NULL)
            n = n->parent;
          if (n == root)
            break;
          n = n->next;
        }
    }
  return root;
}

static void
check_xpath_result (HearthXValue *v, const GError *error, xmlDoc *primary, xmlDoc *secondary)
{
  if (v == NULL)
    {
      fuzz_check (error != NULL && error->domain == HEARTH_XPATH_ERROR);
      fuzz_check (error->code == HEARTH_XPATH_ERROR_EVAL || error->code == HEARTH_XPATH_ERROR_TOO_COSTLY);
      fuzz_check (error->message != NULL && error->message[0] != '\0');
      fuzz_check (g_utf8_validate (error->message, -1, NULL));
      return;
    }
  fuzz_check (error == NULL);
  if (v->type == HEARTH_XVALUE_STRING)
    {
      fuzz_check (v->string != NULL && g_utf8_validate (v->string, -1, NULL));
      fuzz_check (strlen (v->string) <= HEARTH_XPATH_MAX_STRING);
    }
  else if (v->type == HEARTH_XVALUE_NODESET)
    {
      fuzz_check (v->nodes != NULL);
      for (guint i = 0; i < v->nodes->len; i++)
        {
          xmlNode *n = g_ptr_array_index (v->nodes, i);
          fuzz_check (n != NULL);
          fuzz_check (n == (xmlNode *) primary || n == (xmlNode *) secondary ||
                      n->doc == primary || n->doc == secondary);
          /* Document order, no duplicates: the same node never twice. */
          fuzz_check (i == 0 || g_ptr_array_index (v->nodes, i - 1) != n);
        }
    }
  {
    g_autofree char *text = hearth_xvalue_to_string (v);
    fuzz_check (text != NULL && g_utf8_validate (text, -1, NULL));
  }
}

/* The budget of each evaluation: small, so that the fuzzer runs fast; a
 * run with HEARTH_FUZZ_XPATH_BUDGET=10000000 (the default of forms) shows
 * which expressions are slow for the steps they are charged. */
static guint64
fuzz_xpath_budget (void)
{
  static guint64 budget;

  if (budget == 0)
    {
      const char *env = g_getenv ("HEARTH_FUZZ_XPATH_BUDGET");
      budget = env != NULL ? g_ascii_strtoull (env, NULL, 10) : 0;
      if (budget == 0)
        budget = 200000;
    }
  return budget;
}

void
hearth_fuzz_xpath_eval (const guint8 *data, gsize size)
{
  static xmlDoc *fixed, *cities;
  const guint8 *newline = memchr (data, '\n', size);
  gsize expr_len = newline != NULL ? (gsize) (newline - data) : size;
  g_autofree char *text = g_strndup ((const char *) data, expr_len);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (text, &error);
  g_autoptr(GHashTable) instances = NULL;
  xmlDoc *own = NULL, *doc;

  if (e == NULL)
    {
      fuzz_check (error != NULL && error->domain == HEARTH_XPATH_ERROR && error->message[0] != '\0');
      return;
    }
  if (fixed == NULL)
    {
      fixed = fuzz_read_xml (fuzz_instance_xml, sizeof fuzz_instance_xml - 1);
      cities = fuzz_read_xml (fuzz_cities_xml, sizeof fuzz_cities_xml - 1);
      fuzz_check (fixed != NULL && cities != NULL);
    }
  if (newline != NULL && size - expr_len > 1)
    {
      own = fuzz_read_xml ((const char *) newline + 1, size - expr_len - 1);
      if (own != NULL && xmlDocGetRootElement (own) == NULL)
        g_clear_pointer (&own, xmlFreeDoc);
    }
  doc = own != NULL ? own : fixed;
  instances = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (instances, (char *) "cities", cities);

  for (int pass = 0; pass < 2; pass++)
    {
      xmlNode *root = xmlDocGetRootElement (doc);
      xmlNode *node = pass == 0 ? root : fuzz_repeat_node (root);
      HearthXPathContext ctx = {
        .node = node, .current = node, .instances = instances,
        .today = "2024-03-05", .now = "2024-03-05T10:00:00.000+08:00",
        .contextualise = pass == 1,
        .choice_name = fuzz_choice_name, .itext = fuzz_itext, .host = NULL,
        .budget = fuzz_xpath_budget (),
      };
      g_autoptr(GError) eval_error = NULL;
      g_autoptr(HearthXValue) v = hearth_xpath_evaluate (e, &ctx, &eval_error);

      check_xpath_result (v, eval_error, doc, cities);
    }
  g_clear_pointer (&own, xmlFreeDoc);
}

/* A packed text's round trip: packing @text (when it packs) and unpacking
 * that gives @text again. */
static void
check_packs_back (const char *text, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *packed = NULL;
  g_autofree char *again = NULL;
  gsize packed_len;

  packed = hearth_text_pack (text, len, &packed_len);
  if (packed == NULL)
    return;
  fuzz_check (packed_len < len);
  again = hearth_text_unpack (packed, packed_len, "fuzz", &error);
  fuzz_check (again != NULL && error == NULL);
  fuzz_check (strlen (again) == len && memcmp (again, text, len) == 0);
}

void
hearth_fuzz_packed (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  text = hearth_text_unpack (data, size, "submissions fuzz-record, instance_xml", &error);
  if (text == NULL)
    {
      check_refusal (error, HEARTH_STORE_ERROR_CORRUPT);
      fuzz_check (strstr (error->message, "fuzz-record") != NULL);
    }
  else
    {
      gsize len = strlen (text);

      fuzz_check (error == NULL);
      fuzz_check (len <= HEARTH_PACKED_TEXT_MAX);
      fuzz_check (g_utf8_validate (text, (gssize) len, NULL));
      check_packs_back (text, len);
    }
  /* The input as a text, as a writer would store it. */
  if (memchr (data, '\0', size) == NULL && g_utf8_validate ((const char *) data, (gssize) size, NULL))
    {
      g_autofree char *plain = g_strndup ((const char *) data, size);

      check_packs_back (plain, size);
    }
}

/* The value of @c as a lowercase hexadecimal digit, or -1. */
static int
record_id_hex (guint8 c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

void
hearth_fuzz_record_id (const guint8 *data, gsize size)
{
  guint64 ms = 0;
  gboolean taken = hearth_record_id_time ((const char *) data, size, &ms);
  /* What hearth_record_id_format() writes: 36 lowercase digits and
   * dashes, version 7, variant 10 (checked here on its own terms). */
  gboolean shaped = size == HEARTH_RECORD_ID_LEN;
  guint8 nibbles[32];
  guint n = 0;

  for (gsize i = 0; shaped && i < size; i++)
    {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        shaped = data[i] == '-';
      else if (record_id_hex (data[i]) < 0)
        shaped = FALSE;
      else
        nibbles[n++] = (guint8) record_id_hex (data[i]);
    }
  shaped = shaped && nibbles[12] == 7 && (nibbles[16] & 0xc) == 0x8;
  fuzz_check (taken == shaped);
  if (taken)
    {
      char text[HEARTH_RECORD_ID_LEN + 1];
      char copy[HEARTH_RECORD_ID_LEN + 1];
      guint8 random[10], b[16];

      fuzz_check (ms < G_GUINT64_CONSTANT (1) << 48);
      for (guint i = 0; i < 16; i++)
        b[i] = (guint8) (nibbles[2 * i] << 4 | nibbles[2 * i + 1]);
      /* rand_a's 12 bits, rand_b's 62 (hearth_record_id_format()'s
       * @random). */
      random[0] = b[6] & 0x0f;
      random[1] = b[7];
      random[2] = b[8] & 0x3f;
      memcpy (random + 3, b + 9, 7);
      hearth_record_id_format (ms, random, text);
      memcpy (copy, data, HEARTH_RECORD_ID_LEN);
      copy[HEARTH_RECORD_ID_LEN] = '\0';
      fuzz_check (strcmp (text, copy) == 0);
      fuzz_check (g_uuid_string_is_valid (copy));
    }
}
