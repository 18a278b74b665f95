#!/usr/bin/env python3
"""Counts subtests in meson's testlog.json and prints the closing line
"N passed, N failed, N skipped". A TAP test counts its "ok" and "not ok"
lines; a test program that died without reporting counts one failure more."""
import json
import re
import sys

passed = failed = skipped = 0
reasons = []
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        entry = json.loads(line)
        out = entry.get("stdout") or ""
        result = entry.get("result", "")
        oks = len(re.findall(r"^ok \d+", out, re.M))
        skips = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
        fails = len(re.findall(r"^not ok \d+", out, re.M))
        oks -= skips
        for m in re.finditer(r"^ok \d+ (\S+).*# SKIP ?(.*)$", out, re.M):
            reasons.append(f"{entry.get('name')}: {m.group(1)}: {m.group(2)}")
        if oks + skips + fails == 0:
            if result in ("OK", "EXPECTEDFAIL"):
                oks = 1
            elif result == "SKIP":
                skips = 1
                # A whole program skipped ("1..0 # SKIP why", exit 77): say why.
                m = re.search(r"^1\.\.0 # SKIP ?(.*)$", out, re.M)
                if m:
                    reasons.append(f"{entry.get('name')}: {m.group(1)}")
        if result not in ("OK", "EXPECTEDFAIL", "SKIP") and fails == 0:
            fails = 1
        passed += oks
        failed += fails
        skipped += skips
for reason in reasons:
    print(f"skipped {reason}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
