# shellcheck shell=bash
# Shared by images/build-image.sh and the package and image tests
# (tests/images/): where Debian packages come from, and a fresh Debian 12
# root made with mmdebstrap.

# The Debian archive this machine's apt is configured with (deb822 file),
# unless HNV_APT_SOURCES names another sources file or a mirror URL.
hnv_apt_sources() {
  if [ -n "${HNV_APT_SOURCES:-}" ]; then
    echo "$HNV_APT_SOURCES"
  elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
    echo /etc/apt/sources.list.d/debian.sources
  elif [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
    echo /etc/apt/sources.list
  else
    echo http://deb.debian.org/debian
  fi
}

# hnv_mmdebstrap ROOT VARIANT [mmdebstrap options...]: a fresh Debian 12
# (bookworm) root directory, packages from hnv_apt_sources. Local .deb files
# can be given with --include=/path/x.deb (apt resolves what they depend on).
# HNV_MMDEBSTRAP_VERBOSE=1 shows what it does (when it fails).
hnv_mmdebstrap() {
  local root=$1 variant=$2 verbosity=--quiet
  shift 2
  [ -n "${HNV_MMDEBSTRAP_VERBOSE:-}" ] && verbosity=--verbose
  mmdebstrap "$verbosity" --mode=root --variant="$variant" "$@" bookworm "$root" "$(hnv_apt_sources)"
}

# hnv_package_configure SRC BUILD [cmake options...]: configures BUILD as
# debian/rules does (dh_auto_configure: install directories under /usr, the
# compiler and linker flags of dpkg-buildflags with hardening=+all,
# RelWithDebInfo), with the tests in. scripts/test.sh builds and tests that
# tree, then images/build-packages.sh --from-build BUILD packages its
# binaries as they are: what CI tests is what it ships, built once.
hnv_package_configure() {
  local src=$1 build=$2
  shift 2
  (
    export DEB_BUILD_MAINT_OPTIONS=hardening=+all
    eval "$(cd "$src" && dpkg-buildflags --export=sh)"
    # debhelper hands cmake CPPFLAGS inside CFLAGS and CXXFLAGS. Given as
    # cache values (not the environment) so that an existing tree takes them.
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS="$CFLAGS $CPPFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS $CPPFLAGS" \
        -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$LDFLAGS" \
        -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_INSTALL_LOCALSTATEDIR=/var \
        -DCMAKE_INSTALL_RUNSTATEDIR=/run -DCMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu \
        -DHNV_PACKAGE_FROM_BUILD=ON "$@"
  )
}

# hnv_package_configured BUILD: true when BUILD was configured by
# hnv_package_configure (what build-packages.sh --from-build requires).
hnv_package_configured() {
  local cache=$1/CMakeCache.txt
  [ -f "$cache" ] &&
    grep -qx 'CMAKE_INSTALL_PREFIX:PATH=/usr' "$cache" &&
    grep -qx 'CMAKE_BUILD_TYPE:STRING=RelWithDebInfo' "$cache" &&
    grep -q '^CMAKE_CXX_FLAGS:STRING=.*-fstack-protector-strong.*-D_FORTIFY_SOURCE=2' "$cache"
}
