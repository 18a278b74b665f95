# shellcheck shell=sh
# tools/deps.sh: installs the Debian 12 packages Hearth needs, when missing.
# Sourced by tools/run and tools/test; call hearth_install_deps.

HEARTH_BUILD_PACKAGES="gcc libc6-dev meson ninja-build pkg-config python3 gettext \
libglib2.0-dev libglib2.0-bin libsqlite3-dev libsodium-dev libjson-glib-dev libxml2-dev tzdata \
libmicrohttpd-dev libcurl4-openssl-dev"

hearth_install_deps () {
  missing=""
  for pkg in $HEARTH_BUILD_PACKAGES "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
      *"ok installed"*) ;;
      *) missing="$missing $pkg" ;;
    esac
  done
  [ -z "$missing" ] && return 0

  echo "Installing Debian packages:$missing"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  else
    echo "Not root and no sudo: ask an administrator to run" >&2
    echo "  apt-get install$missing" >&2
    return 1
  fi
}

# Configures (once) and builds the tree in build/, warnings as errors.
hearth_build () {
  if [ ! -f build/build.ninja ]; then
    meson setup build --werror --buildtype=debugoptimized
  fi
  ninja -C build
}
