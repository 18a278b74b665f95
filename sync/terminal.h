/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * hearth_terminal_clean:
 * @text: text to print, UTF-8 or not
 *
 * What hearth-cli and hearth-center print of @text: bytes that are not UTF-8 made U+FFFD,
 * and so are control characters other than line feed and tab (C0, DEL,
 * C1: a terminal acts on ESC and CSI sequences, so a name or comment
 * synced from another tablet could move the cursor, retitle the window or
 * rewrite what was printed before it) and the characters that change the
 * direction of text (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to
 * U+2069, Unicode TR 9 section 2: they can make a line read other than
 * it is).
 *
 * Returns: (transfer full): the cleaned text. Thread-safe.
 */
char *hearth_terminal_clean (const char *text);

/**
 * hearth_terminal_one_line:
 * @text: (nullable): a stored value to print within one line of a listing
 *
 * @text with line feeds, carriage returns and tabs made spaces, so that a
 * name or comment cannot make a line of its own in a listing (a made-up
 * row) or shift its columns.
 *
 * Returns: (transfer full): the text on one line ("" for %NULL).
 *   Thread-safe.
 */
char *hearth_terminal_one_line (const char *text);

/**
 * hearth_terminal_escape_json:
 * @json: a JSON text (RFC 8259) as json-glib writes it
 *
 * @json with the characters hearth_terminal_clean() replaces written as
 * \\u escapes (such as \\u001B) instead (RFC 8259 section 7), so a program reading it
 * gets the data exactly and a terminal showing it gets no control or
 * direction-changing character. Outside strings JSON holds only ASCII
 * structure and white space (line feed, space), which are kept.
 *
 * Returns: (transfer full): the escaped JSON text. Thread-safe.
 */
char *hearth_terminal_escape_json (const char *json);

/**
 * hearth_terminal_install:
 *
 * Makes g_print() and g_printerr() print through hearth_terminal_clean(),
 * converted to the locale's character set as GLib's own handlers do.
 * Call once at start, before any output. Not thread-safe.
 */
void hearth_terminal_install (void);

G_END_DECLS
