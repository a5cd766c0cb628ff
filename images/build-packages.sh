#!/usr/bin/env bash
# Builds the Debian packages (Debian 12, amd64) from the one CMake build:
# hnvctl, hnv-vswitch, hnv-gateway (+ their -dbgsym), with debhelper
# (images/debian/), versioned from git, then checks them: lintian (no error),
# the CPU baseline (no -march=native in any compile command, no AVX register
# in the code: the baseline is Debian's DPDK's, corei7).
#
#   images/build-packages.sh [--out DIR] [--version-suffix SUFFIX] [--no-lintian]
#                            [--from-build BUILD]
#
# --out DIR            where the .deb files go (default build-deb/out)
# --version-suffix S   appended to the version (e.g. +up1: a higher version of
#                      the same tree, for upgrade tests)
# --from-build BUILD    package the binaries of BUILD, a tree configured as
#                      the packages are (images/lib.sh hnv_package_configure;
#                      scripts/test.sh does) and built, instead of building
#                      again: CI ships what it tested
# Work directory: build-deb/ (a copy of the tree and the build objects, kept
# so that a second run builds incrementally). Needs no root (Rules-Requires-Root:
# no), but installs its tools with scripts/install-deps.sh (apt-get) when
# missing: debhelper, lintian and the project's build dependencies.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${HNV_DEB_WORK:-$ROOT/build-deb}
OUT=$WORK/out
SUFFIX=
LINTIAN=1
PREBUILT=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift ;;
    --version-suffix) SUFFIX=$2; shift ;;
    --no-lintian) LINTIAN=0 ;;
    --from-build) PREBUILT=$(realpath "$2"); shift ;;
    *) echo "usage: $0 [--out DIR] [--version-suffix SUFFIX] [--no-lintian] [--from-build BUILD]" >&2; exit 2 ;;
  esac
  shift
done
T0=$(date +%s.%N)

"$ROOT/scripts/install-deps.sh"
. "$ROOT/images/lib.sh"
if [ -n "$PREBUILT" ]; then
  hnv_package_configured "$PREBUILT" || {
    echo "build-packages: $PREBUILT was not configured as the packages are" \
         "(images/lib.sh: hnv_package_configure SRC $PREBUILT)" >&2
    exit 1
  }
  ninja -C "$PREBUILT" hnv-vswitch hnv-gateway hnvctl >/dev/null
fi

# The version from git: the last tag when there is one (v0.3-12-gabcdef0 ->
# 0.3+12.gabcdef0), else 0~git<commits>.g<hash>; ".dirty" when the work tree
# has uncommitted changes (they are built in).
version() {
  local d
  cd "$ROOT"
  if d=$(git describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
    d=${d#v}
    echo "$d" | sed -E 's/-([0-9]+)-g([0-9a-f]+)$/+\1.g\2/'
  else
    echo "0~git$(git rev-list --count HEAD).g$(git rev-parse --short=8 HEAD)"
  fi
}
VERSION=$(version)
if [ -n "$(cd "$ROOT" && git status --porcelain --untracked-files=no)" ]; then VERSION+=.dirty; fi
VERSION+=$SUFFIX

# The source: every tracked and untracked-but-not-ignored file, as it is in
# the work tree; the packaging (images/debian) becomes debian/.
SRC=$WORK/src
mkdir -p "$SRC" "$OUT"
OUT=$(realpath "$OUT")
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
  rsync -a --delete --from0 --files-from=- --exclude=/obj-hnv "$ROOT/" "$SRC/"
# --files-from does not delete files gone from the tree: remove them.
(cd "$ROOT" && git ls-files --cached --others --exclude-standard | sort) >"$WORK/files.txt"
(cd "$SRC" && find . -path ./obj-hnv -prune -o -path ./debian -prune -o -type f -printf '%P\n' | sort) |
  comm -13 "$WORK/files.txt" - | (cd "$SRC" && xargs -r -d '\n' rm -f)
rm -rf "$SRC/debian"
cp -a "$ROOT/images/debian" "$SRC/debian"
cat >"$SRC/debian/changelog" <<EOF
hnv ($VERSION) bookworm; urgency=medium

  * Built from git $(cd "$ROOT" && git rev-parse HEAD)$( [[ $VERSION == *.dirty* ]] && echo " with local changes").

 -- HNV on Linux developers <hnv-devel@lists.example.org>  $(date -R)
EOF

echo "build-packages: hnv $VERSION in $SRC"
export HNV_CCACHE= HNV_PREBUILT=$PREBUILT
command -v ccache >/dev/null && HNV_CCACHE=1
OBJ=$SRC/obj-hnv
[ -n "$PREBUILT" ] && OBJ=$PREBUILT
cd "$SRC"
# -nc: keep obj-hnv from the last run (incremental); -b: binary packages only.
rm -f ../*.deb ../*.ddeb ../*.changes ../*.buildinfo
dpkg-buildpackage -b -nc -us -uc -j"$(nproc)" >"$WORK/build.log" 2>&1 ||
  { tail -n 60 "$WORK/build.log"; echo "build-packages: dpkg-buildpackage failed (log $WORK/build.log)" >&2; exit 1; }
T1=$(date +%s.%N)

# The CPU baseline: Debian's DPDK's (-march=corei7 from libdpdk.pc), never
# the build machine's.
if grep -q -- '-march=native' "$OBJ/compile_commands.json"; then
  echo "build-packages: -march=native in $OBJ/compile_commands.json" >&2; exit 1
fi
march=$(grep -o -- '-march=[a-z0-9-]*' "$OBJ/compile_commands.json" | sort -u | tr '\n' ' ')
for b in "$OBJ/vswitch/hnv-vswitch" "$OBJ/gateway/hnv-gateway" "$OBJ/config/hnvctl"; do
  if objdump -d --no-show-raw-insn "$b" | grep -qE '%[yz]mm[0-9]'; then
    echo "build-packages: $b uses AVX registers (above the corei7 baseline)" >&2; exit 1
  fi
done

DEBS=()
for f in ../*_"$VERSION"_amd64.deb ../*_"$VERSION"_amd64.ddeb; do [ -e "$f" ] && DEBS+=("$f"); done
[ ${#DEBS[@]} -ge 3 ] || { echo "build-packages: expected 3 packages, found: ${DEBS[*]}" >&2; exit 1; }
rm -f "$OUT"/*.deb "$OUT"/*.ddeb
cp "${DEBS[@]}" "$OUT/"

if [ $LINTIAN = 1 ]; then
  # --fail-on error: errors fail the build; warnings are printed (there are
  # none today; one that is kept gets images/debian/PKG.lintian-overrides
  # with the reason).
  lintian --fail-on error --tag-display-limit 0 ../hnv_"$VERSION"_amd64.changes |
    tee "$WORK/lintian.txt" || { echo "build-packages: lintian found errors" >&2; exit 1; }
fi

printf 'build-packages: hnv %s, code built for %s in %.0f s:\n' "$VERSION" "$march" "$(echo "$T1 - $T0" | bc)"
for f in "$OUT"/*.deb; do
  printf '  %-44s %6s KiB (installed %s KiB)\n' "$(basename "$f")" $(($(stat -c %s "$f") / 1024)) \
    "$(dpkg-deb -f "$f" Installed-Size)"
done
echo "$VERSION" >"$OUT/VERSION"
# Which binaries: a build tree (--from-build), or none (built here).
echo "$PREBUILT" >"$OUT/FROM_BUILD"
