#!/bin/sh
# check-fields-dict.sh TOOL FORMS_DIR DICT: TOOL (tests/bench/fields-dict)
# makes DICT again; the file in the tree must be exactly that.
set -eu
tool=$1; forms=$2; dict=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$tool" "$forms" "$out"
if ! cmp -s "$out" "$dict"; then
  echo "$dict is not what $tool makes: make it again with '$tool $forms $dict'" >&2
  exit 1
fi
