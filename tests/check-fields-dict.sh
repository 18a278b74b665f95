#!/bin/sh
# check-fields-dict.sh TOOL FORMS_DIR DICT: TOOL (tests/bench/fields-dict)
# makes DICT again; the file in the tree must be exactly that (that it was
# made so, from generated visits, and can be told how).
set -eu
tool=$1; forms=$2; dict=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$tool" "$forms" "$out"
if ! cmp -s "$out" "$dict"; then
  # Never the other way round: every row of format 2 was packed with the
  # file in the tree, and the center stops on any other (its BLAKE2b is in
  # sync/center-store.c).
  echo "$tool no longer makes $dict. Do not overwrite $dict: rows of format 2 were packed with it." >&2
  echo "If the generator changed on purpose, a new dictionary is a new format (fields-dict-3.json," >&2
  echo "format byte 3, a center migration); else make the tool give the same bytes again." >&2
  exit 1
fi
