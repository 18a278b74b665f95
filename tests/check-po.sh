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
for f in $(grep -l -E '\b(N?_|N?C_)\("' app/*.c app/*/*.c schema/*.c sync/*.c ui/*.c 2>/dev/null); do
  grep -qx "$f" po/POTFILES.in || { echo "not in po/POTFILES.in: $f"; exit 1; }
done
msgfmt --check --statistics -o "$tmp/zh_CN.mo" po/zh_CN.po 2> "$tmp/stats"
cat "$tmp/stats"
if grep -qE 'untranslated|fuzzy' "$tmp/stats"; then
  echo "po/zh_CN.po is incomplete"; exit 1
fi
msgcmp po/zh_CN.po "$tmp/hearth.pot"
echo "po/zh_CN.po is complete"
