/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-publish-target.c: the documents the county center publishes
 * (fuzz-targets.h, hearth_fuzz_publish()). */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "center-publish.h"
#include "change.h"
#include "store-error.h"

#include <libxml/parser.h>
#include <string.h>

#define FUZZ_NAME "thresholds.xml"

/* A version or a form id as devices key published documents by. */
static gboolean
one_line (const char *s)
{
  if (s == NULL || s[0] == '\0' || strlen (s) > 128 || !g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

static void
check_thresholds (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;
  g_autofree char *county = NULL;
  xmlDoc *doc;
  xmlNode *root;

  if (!hearth_center_read_thresholds (FUZZ_NAME, (const char *) data, size, &version, &county, &error))
    {
      hearth_fuzz_check_message (error);
      fuzz_check (error->domain == HEARTH_CENTER_PUBLISH_ERROR && error->code == HEARTH_CENTER_PUBLISH_ERROR_INVALID);
      fuzz_check (g_str_has_prefix (error->message, FUZZ_NAME));
      fuzz_check (version == NULL && county == NULL);
      /* XML that is not well-formed is named by its line. */
      if (strstr (error->message, "not well-formed") != NULL)
        fuzz_check (g_str_has_prefix (error->message, FUZZ_NAME ": line "));
      return;
    }
  fuzz_check (error == NULL);
  /* What devices receive as the record's "xml": a change value. */
  fuzz_check (size >= 1 && size <= HEARTH_CHANGE_MAX_VALUE);
  fuzz_check (g_utf8_validate ((const char *) data, (gssize) size, NULL) && memchr (data, '\0', size) == NULL);
  fuzz_check (one_line (version));
  fuzz_check (!g_ascii_isspace (version[0]) && !g_ascii_isspace (version[strlen (version) - 1]));
  fuzz_check (county == NULL || (county[0] != '\0' && g_utf8_validate (county, -1, NULL)));
  /* Read again as a tablet would read it: the same root, no DOCTYPE. */
  doc = xmlReadMemory ((const char *) data, (int) size, FUZZ_NAME, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  fuzz_check (doc != NULL);
  root = xmlDocGetRootElement (doc);
  fuzz_check (root != NULL && xmlStrEqual (root->name, (const xmlChar *) HEARTH_CENTER_THRESHOLDS_ROOT));
  fuzz_check (doc->intSubset == NULL && doc->extSubset == NULL);
  xmlFreeDoc (doc);
}

static void
check_form (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *xml = NULL;
  g_autoptr(HearthForm) form = NULL;
  const char *path;
  int fd = hearth_fuzz_scratch_file (&path);

  hearth_fuzz_write_file (fd, data, size);
  form = hearth_center_read_form (path, &xml, &error);
  if (form == NULL)
    {
      hearth_fuzz_check_message (error);
      fuzz_check (error->domain == HEARTH_CENTER_PUBLISH_ERROR || error->domain == HEARTH_FORM_ERROR ||
                  error->domain == HEARTH_STORE_ERROR || error->domain == G_FILE_ERROR);
      fuzz_check (xml == NULL);
      return;
    }
  fuzz_check (error == NULL);
  fuzz_check (one_line (form->form_id) && one_line (form->version));
  /* Published as read, byte for byte. */
  fuzz_check (xml != NULL && strlen (xml) == size && memcmp (xml, data, size) == 0);
}

void
hearth_fuzz_publish (const guint8 *data, gsize size)
{
  check_thresholds (data, size);
  check_form (data, size);
}
