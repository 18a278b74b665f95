#!/bin/sh
# Runs a UI test (tests/test-ui-*.c) the way CI does: a virtual X server
# (Xvfb through xvfb-run) and a D-Bus session of its own, GTK drawing with
# cairo and its test accessibility backend. Skips, saying why, only when no
# X server can be started here.
set -u
for tool in dbus-run-session xvfb-run Xvfb xauth; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "1..0 # SKIP $tool is not installed (tools/deps.sh installs xvfb xauth dbus)"
    exit 77
  fi
done
screen="-screen 0 1280x1280x24 -nolisten tcp"
if ! xvfb-run -a -s "$screen" true >/dev/null 2>&1; then
  echo "1..0 # SKIP no X server can be started (xvfb-run -a true failed)"
  exit 77
fi
export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=test GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1
exec dbus-run-session -- xvfb-run -a -s "$screen" "$@"
