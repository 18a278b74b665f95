#!/bin/sh
# The tablet app's desktop file and AppStream metainfo, as the build made
# them (translations merged): valid for desktop-file-validate and
# appstreamcli, and carrying the Chinese translation.
set -eu
desktop=${1:?desktop file}
metainfo=${2:?metainfo file}
for tool in desktop-file-validate appstreamcli; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool is not installed (tools/deps.sh installs desktop-file-utils and appstream)"
    exit 77
  fi
done
desktop-file-validate "$desktop"
appstreamcli validate --no-net "$metainfo"
grep -q '^Name\[zh_CN\]=' "$desktop" || { echo "$desktop has no Chinese name"; exit 1; }
grep -q 'xml:lang="zh_CN"' "$metainfo" || { echo "$metainfo has no Chinese text"; exit 1; }
echo "desktop file and metainfo are valid"
