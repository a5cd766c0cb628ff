#!/usr/bin/env bash
# The central policy store's benchmark (config/store/README.md "Benchmark"):
# a fresh single-node etcd (Debian's etcd-server) on loopback, a free port
# and a temporary data directory, then store_bench (store_bench.cc) against
# it; etcd is stopped and its directory removed at the end.
#
#   tests/bench/store/store_bench.sh [--bin PATH] [store_bench options]
#   flock /work/.heavy.lock tests/bench/store/store_bench.sh          # the README's figures
#   tests/bench/store/store_bench.sh --hosts 5 --changes 2 --bulk-vms 100 \
#       --bulk-tenants 10 --bulk-hosts 10 --spread 2                  # the smoke run (CTest)
set -euo pipefail
BIN=$(cd "$(dirname "$0")/../../.." && pwd)/build/tests/bench/store_bench
if [ "${1:-}" = --bin ]; then BIN=$2; shift 2; fi
[ -x "$BIN" ] || { echo "store_bench.sh: no $BIN (ninja -C build store_bench)" >&2; exit 1; }
dir=$(mktemp -d /tmp/hnv-store-bench.XXXXXX)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
client=$(free_port) peer=$(free_port)
etcd --name bench --data-dir "$dir/data" \
  --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "bench=http://127.0.0.1:$peer" --logger=zap --log-level=warn \
  --max-txn-ops=100000 --max-request-bytes=33554432 --quota-backend-bytes=8589934592 \
  >"$dir/etcd.log" 2>&1 &
pid=$!
# (etcd's status after the kill is not ours: set -e holds in the trap too.)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  etcdctl --endpoints "127.0.0.1:$client" endpoint health >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/etcd.log" >&2; exit 1; }
  sleep 0.1
done
echo "store_bench: etcd $(etcd --version | head -1 | awk '{print $3}') on 127.0.0.1:$client," \
     "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%FT%TZ)"
"$BIN" --etcd "127.0.0.1:$client" "$@"
