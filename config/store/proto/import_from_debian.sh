#!/usr/bin/env bash
# Re-creates the etcd v3 API definitions in this directory from Debian's
# golang-etcd-server-dev (the etcd-server we run is the same source
# version): etcd/etcdserver/etcdserverpb/rpc.proto, etcd/mvcc/mvccpb/kv.proto
# and etcd/auth/authpb/auth.proto, unchanged except that the gogoproto and
# google.api (HTTP gateway) options and their imports are removed. Neither
# changes a message, a field number or a method name, so the wire protocol is
# etcd's; dropping them spares us gogoproto's and googleapis' own .proto files
# (and the 140 Go source packages golang-etcd-server-dev depends on).
#
# Usage: config/store/proto/import_from_debian.sh   (needs apt-get download)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download golang-etcd-server-dev >/dev/null)
dpkg-deb -x "$work"/golang-etcd-server-dev_*.deb "$work/x"
src="$work/x/usr/share/gocode/src/go.etcd.io/etcd"
version="$(dpkg-deb -f "$work"/golang-etcd-server-dev_*.deb Version)"
for f in etcdserver/etcdserverpb/rpc.proto mvcc/mvccpb/kv.proto auth/authpb/auth.proto; do
  mkdir -p "$here/etcd/$(dirname "$f")"
  python3 - "$src/$f" "$here/etcd/$f" "$version" "$f" <<'PY'
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
open(dst, 'w').write(header + text)
PY
done
echo "imported etcd API definitions from golang-etcd-server-dev $version"
