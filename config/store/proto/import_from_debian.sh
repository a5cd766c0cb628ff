#!/usr/bin/env bash
# etcd's v3 API definitions for the build, from Debian's archive. They are
# etcd's files (Apache-2.0), so they are never kept in this repository: the
# build takes them from Debian's golang-etcd-server-dev (the same source
# version as the etcd-server we run) on the machine that builds.
#
#   import_from_debian.sh --download CACHE_DIR
#       puts golang-etcd-server-dev_*.deb into CACHE_DIR (apt-get download)
#       unless one is there (scripts/install-deps.sh: /var/cache/hnv)
#   import_from_debian.sh OUT_DIR [CACHE_DIR...]
#       writes OUT_DIR/etcd/{etcdserver/etcdserverpb/rpc,mvcc/mvccpb/kv,
#       auth/authpb/auth}.proto from the .deb found in a CACHE_DIR (default
#       /var/cache/hnv), downloading it into OUT_DIR when none has it
#       (CMake runs this at configure time into the build tree)
#
# The files are etcd's, unchanged except that the gogoproto and google.api
# (HTTP gateway) options and their imports are removed: neither changes a
# message, a field number or a method name, so the wire protocol is etcd's;
# dropping them spares us gogoproto's and googleapis' own .proto files (and
# the 140 Go source packages golang-etcd-server-dev depends on: the .deb is
# only downloaded and unpacked, never installed). OUT_DIR/stamp names the
# .deb they came from; a second run with the same .deb does nothing.
set -euo pipefail
PKG=golang-etcd-server-dev

# download DIR: the .deb into DIR (the apt sandbox user cannot write a
# root-owned DIR: download as root then, which is what the warning is about).
download() {
  local dir=$1 sandbox=()
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
  (cd "$dir" && apt-get "${sandbox[@]}" download "$PKG" >/dev/null) ||
    { echo "import_from_debian: apt-get download $PKG failed (is Debian's archive reachable?)" >&2; exit 1; }
}

if [ "${1:-}" = --download ]; then
  [ $# = 2 ] || { echo "usage: $0 --download CACHE_DIR" >&2; exit 2; }
  compgen -G "$2/${PKG}_*.deb" >/dev/null || download "$2"
  exit 0
fi
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [CACHE_DIR...] | $0 --download CACHE_DIR" >&2; exit 2; }
out=$1
shift
caches=("$@")
[ ${#caches[@]} = 0 ] && caches=(/var/cache/hnv)

deb=
for c in "${caches[@]}" "$out/deb"; do
  # The newest one when several versions were cached.
  f=$(compgen -G "$c/${PKG}_*.deb" | sort -V | tail -1 || true)
  if [ -n "$f" ]; then deb=$f; break; fi
done
if [ -z "$deb" ]; then
  download "$out/deb"
  deb=$(compgen -G "$out/deb/${PKG}_*.deb" | sort -V | tail -1)
fi
version=$(dpkg-deb -f "$deb" Version)
if [ "$(cat "$out/stamp" 2>/dev/null)" = "$version" ] && [ -f "$out/etcd/etcdserver/etcdserverpb/rpc.proto" ] &&
   [ -f "$out/etcd/mvcc/mvccpb/kv.proto" ] && [ -f "$out/etcd/auth/authpb/auth.proto" ]; then
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work"
src="$work/usr/share/gocode/src/go.etcd.io/etcd"
for f in etcdserver/etcdserverpb/rpc.proto mvcc/mvccpb/kv.proto auth/authpb/auth.proto; do
  mkdir -p "$out/etcd/$(dirname "$f")"
  python3 - "$src/$f" "$out/etcd/$f" "$version" "$f" <<'PY'
import re, sys
src, dst, version, name = sys.argv[1:5]
text = open(src).read()
text = re.sub(r'^import "gogoproto/gogo.proto";\n', '', text, flags=re.M)
text = re.sub(r'^// for grpc-gateway\n', '', text, flags=re.M)
text = re.sub(r'^import "google/api/annotations.proto";\n', '', text, flags=re.M)
text = re.sub(r'^option \(gogoproto\.[a-z_]+\) = (true|false);\n', '', text, flags=re.M)
# rpc X(A) returns (B) { option (google.api.http) = { ... }; }  ->  rpc X(A) returns (B) {}
text = re.sub(r'\{\s*option \(google\.api\.http\) = \{(?:[^{}]|\{[^{}]*\})*\};\s*\}', '{}', text)
text = re.sub(r'\s*\[\(gogoproto\.[^\]]*\]', '', text)
assert 'gogoproto' not in text and 'google.api' not in text, name
header = ("// etcd %s: %s from Debian's golang-etcd-server-dev %s (Apache-2.0),\n"
          "// with the gogoproto and google.api options removed by import_from_debian.sh.\n"
          % (version.split('-')[0], name, version))
# Written whole or not at all: a build never sees half a file.
open(dst + '.tmp', 'w').write(header + text)
PY
  mv "$out/etcd/$f.tmp" "$out/etcd/$f"
done
echo "$version" >"$out/stamp"
echo "import_from_debian: etcd API definitions from $PKG $version into $out"
