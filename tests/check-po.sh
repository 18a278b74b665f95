#!/bin/sh
# Every translatable string of the sources has a Simplified Chinese
# translation, and the catalogue passes msgfmt --check.
set -eu
src=${HEARTH_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
xgettext --files-from=po/POTFILES.in --from-code=UTF-8 --keyword=_ --keyword=N_ \
  --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 --add-comments -o "$tmp/hearth.pot"
# Every source file with a translatable string is listed in POTFILES.in.
# So is every .ui template with a translatable string, and the desktop
# file and the AppStream metainfo (xgettext reads .ui files by gtk4's ITS
# rules, the metainfo by appstream's, the desktop file by its own).
for f in $(grep -l -E '\b(N?_|N?C_)\("' app/*.c app/*/*.c schema/*.c sync/*.c ui/*.c 2>/dev/null) \
         $(grep -l 'translatable="yes"' ui/*.ui 2>/dev/null) ui/*.desktop.in ui/*.metainfo.xml.in; do
  grep -qx "$f" po/POTFILES.in || { echo "not in po/POTFILES.in: $f"; exit 1; }
done
# So is every script of tools/ that speaks through gettext, as a symbolic
# link po/tools-NAME.sh to it: xgettext knows a shell script by its
# extension, and they have none.
for f in $(grep -l -E "(^|[^_[:alnum:]])(eval_)?gettext [\"']" tools/* 2>/dev/null); do
  link="po/tools-$(basename "$f").sh"
  [ "$(readlink "$link" 2>/dev/null)" = "../$f" ] || { echo "$link is not a symbolic link to ../$f"; exit 1; }
  grep -qx "$link" po/POTFILES.in || { echo "not in po/POTFILES.in: $link (for $f)"; exit 1; }
done
# The templates' strings were really extracted (an ITS rule missing from
# this system would drop them silently).
grep -q '^#: ui/hearth-unlock-page.ui' "$tmp/hearth.pot" || { echo "xgettext extracted nothing from ui/*.ui"; exit 1; }
grep -q '^#: ui/org.hearth.Hearth.metainfo.xml.in' "$tmp/hearth.pot" || { echo "xgettext extracted nothing from the metainfo"; exit 1; }
grep -q '^#: po/tools-run.sh:' "$tmp/hearth.pot" || { echo "xgettext extracted nothing from tools/run"; exit 1; }
msgfmt --check --statistics -o "$tmp/zh_CN.mo" po/zh_CN.po 2> "$tmp/stats"
cat "$tmp/stats"
if grep -qE 'untranslated|fuzzy' "$tmp/stats"; then
  echo "po/zh_CN.po is incomplete"; exit 1
fi
msgcmp po/zh_CN.po "$tmp/hearth.pot"
echo "po/zh_CN.po is complete"
