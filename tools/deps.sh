# shellcheck shell=sh
# tools/deps.sh: installs the Debian 12 packages Hearth needs, when missing.
# Sourced by tools/run and tools/test; call hearth_install_deps.

# gettext-base (gettext, envsubst, gettext.sh) is for tools/run's own
# messages; gettext depends on it, but tools/run uses it directly.
HEARTH_BUILD_PACKAGES="gcc libc6-dev meson ninja-build pkg-config python3 gettext gettext-base \
libglib2.0-dev libglib2.0-bin libsqlite3-dev libsodium-dev libjson-glib-dev libxml2-dev tzdata \
libmicrohttpd-dev libdeflate-dev libzstd-dev liblz4-dev libcurl4-openssl-dev libgtk-4-dev libadwaita-1-dev"

# What the test suite needs beyond the build (tools/test installs them): a
# virtual X server and a D-Bus session for the app's screens, Chinese fonts
# and locale for their Chinese screenshots, and the validators of the
# desktop file and the AppStream metainfo.
HEARTH_TEST_PACKAGES="xvfb xauth dbus fonts-noto-cjk locales appstream desktop-file-utils"

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

# The zh_CN.UTF-8 locale, for the app's Chinese screens under test (a fresh
# Debian has only C.UTF-8). As root directly, else through sudo.
hearth_ensure_locale () {
  if locale -a 2>/dev/null | grep -qix 'zh_CN.utf8'; then
    return 0
  fi
  echo "Generating the zh_CN.UTF-8 locale"
  if [ "$(id -u)" = 0 ]; then
    localedef -i zh_CN -f UTF-8 zh_CN.UTF-8
  elif command -v sudo >/dev/null 2>&1; then
    sudo localedef -i zh_CN -f UTF-8 zh_CN.UTF-8
  else
    echo "Not root and no sudo: ask an administrator to run" >&2
    echo "  localedef -i zh_CN -f UTF-8 zh_CN.UTF-8" >&2
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
