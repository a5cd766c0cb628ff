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
