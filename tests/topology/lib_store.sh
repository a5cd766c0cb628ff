# shellcheck shell=bash disable=SC2034  # (variables are for the sourcing scripts)
# The central policy store in topology tests and the lab: a single-node etcd
# (Debian's etcd-server) in its own namespace ${P}etcd, reached by the hosts
# over a management network, and the daemons following it. Source after
# lib.sh:
#
#   . "$(dirname "$0")/lib_store.sh"
#   topo_store [--tls] h1 h2 gw      # etcd in ${P}etcd; a veth "mgmt" into each host
#   hs apply host1.yaml host2.yaml   # hnvctl --store (as the writer), run in ${P}etcd
#   topo_host h1 store:host1 0,1     # hnv-vswitch --store URL --host host1 (lib.sh)
#   topo_gateway gw store:gateway 1,0
#   store_stop; ...; store_start     # etcd down and up again (same data)
#
# The management network: a bridge in ${P}etcd holding etcd's address
# 10.254.0.254/24 and one veth per host namespace ("mgmt", 10.254.0.N/24).
# It lives inside the test's namespaces like every other address (nothing
# in the root namespace); the dataplane never attaches it. hnvctl and
# etcdctl run inside ${P}etcd and reach etcd on its loopback.
#
# With --tls, etcd serves https with client certificates required
# (--client-cert-auth); $W/pki holds a CA, etcd's certificate and one client
# certificate per name (store_cert CN): "root", the writer "hnv-writer" and
# each host by its store name. A daemon started with store:NAME uses NAME's
# certificate (its CN is its etcd user: `hs store init` gives it a role that
# writes only its own status and learned records).

STORE_IP=10.254.0.254
STORE_SCHEME=http
STORE_TLS=0
STORE_PID=
STORE_AS=root   # whose certificate hs uses (TLS); "hnv-writer" once auth is on
STORE_ARGS_ETCD=()

# store_cert CN: a client certificate $W/pki/CN.crt (and .key) signed by the CA.
store_cert() {
  local cn=$1 d=$W/pki
  [ -f "$d/$cn.crt" ] && return 0
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/$cn.key" \
    -out "$d/$cn.csr" -subj "/CN=$cn" >/dev/null 2>&1
  printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
  openssl x509 -req -in "$d/$cn.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/$cn.crt" -days 2 -extfile "$d/client.ext" >/dev/null 2>&1
}

store_pki() {
  local d=$W/pki key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  mkdir -p "$d"
  openssl req -x509 "${key[@]}" -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
    -subj "/CN=hnv-lab-ca" >/dev/null 2>&1
  openssl req "${key[@]}" -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=etcd" >/dev/null 2>&1
  printf 'subjectAltName=IP:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' "$STORE_IP" >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/server.crt" -days 2 -extfile "$d/server.ext" >/dev/null 2>&1 ||
    die "cannot make the store's certificates"
  store_cert root
  store_cert hnv-writer
}

# topo_store [--tls] HOST...: etcd in ${P}etcd and the management network to
# each HOST namespace; waits until etcd answers. STORE_URL is its address
# for the daemons.
topo_store() {
  local n=0 h
  if [ "${1:-}" = --tls ]; then STORE_TLS=1; STORE_SCHEME=https; shift; fi
  topo_ns etcd
  ip -n "${P}etcd" link add br0 type bridge
  ip -n "${P}etcd" addr add "$STORE_IP/24" dev br0
  ip -n "${P}etcd" link set br0 up
  for h in "$@"; do
    n=$((n + 1))
    topo_link "$h" mgmt etcd "m$h"
    ip -n "${P}etcd" link set "m$h" master br0
    ip -n "$P$h" addr add "10.254.0.$n/24" dev mgmt
  done
  STORE_URL=$STORE_SCHEME://$STORE_IP:2379
  STORE_ARGS_ETCD=(--name lab --data-dir "$W/etcd"
    --listen-client-urls "$STORE_SCHEME://$STORE_IP:2379,$STORE_SCHEME://127.0.0.1:2379"
    --advertise-client-urls "$STORE_URL"
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380
    --initial-cluster lab=http://127.0.0.1:2380 --logger=zap --log-level=warn
    --max-txn-ops=100000 --max-request-bytes=33554432)
  if [ "$STORE_TLS" = 1 ]; then
    store_pki
    STORE_ARGS_ETCD+=(--cert-file "$W/pki/server.crt" --key-file "$W/pki/server.key"
      --trusted-ca-file "$W/pki/ca.crt" --client-cert-auth)
  fi
  store_start
}

# store_start: etcd (again, on the same data), until it answers (20 s).
store_start() {
  local i
  ip netns exec "${P}etcd" etcd "${STORE_ARGS_ETCD[@]}" >>"$W/etcd.log" 2>&1 &
  STORE_PID=$!
  TOPO_LATE_PIDS+=("$STORE_PID")
  for i in $(seq 200); do
    store_ctl endpoint health >/dev/null 2>&1 && return 0
    kill -0 "$STORE_PID" 2>/dev/null || break
    sleep 0.1
  done
  die "etcd did not start (log $W/etcd.log):
$(tail -20 "$W/etcd.log")"
}

# store_stop: etcd stops (TERM, by its PID) and is waited for.
store_stop() {
  kill -TERM "$STORE_PID" 2>/dev/null || true
  { wait "$STORE_PID"; } 2>/dev/null || true
}

# store_tls_args NAME: TLS client options of hnvctl/the daemons as NAME.
store_tls_args() {
  STORE_TLS_ARGS=()
  if [ "$STORE_TLS" = 1 ]; then
    store_cert "$1"
    STORE_TLS_ARGS=(--store-ca "$W/pki/ca.crt" --store-cert "$W/pki/$1.crt" --store-key "$W/pki/$1.key")
  fi
}

# store_daemon_args NAME: a daemon's options to follow the store as host NAME
# (lib.sh's topo_source).
store_daemon_args() {
  store_tls_args "$1"
  STORE_ARGS=(--store "$STORE_URL" --host "$1" "${STORE_TLS_ARGS[@]}")
}

# hs ARGS...: hnvctl --store, inside ${P}etcd, as $STORE_AS.
hs() {
  store_tls_args "$STORE_AS"
  ip netns exec "${P}etcd" "$HNVCTL" --store "$STORE_SCHEME://127.0.0.1:2379" "${STORE_TLS_ARGS[@]}" "$@"
}

# hs_as NAME ARGS...: hnvctl --store with NAME's certificate.
hs_as() {
  local who=$1
  shift
  STORE_AS=$who hs "$@"
}

# store_ctl ARGS...: etcdctl inside ${P}etcd (as root with TLS).
store_ctl() {
  local tls=()
  if [ "$STORE_TLS" = 1 ]; then
    tls=(--cacert "$W/pki/ca.crt" --cert "$W/pki/${STORE_CTL_AS:-root}.crt" --key "$W/pki/${STORE_CTL_AS:-root}.key")
  fi
  ip netns exec "${P}etcd" etcdctl --endpoints "$STORE_SCHEME://127.0.0.1:2379" "${tls[@]}" "$@"
}

# store_wait_current HOST...: until `hnvctl status` shows each HOST current (20 s).
store_wait_current() {
  local i h ok
  for i in $(seq 100); do
    ok=1
    for h in "$@"; do
      hs status 2>/dev/null | awk -v h="$h" '$1 == h && $NF == "current" {f=1} END {exit !f}' || ok=0
    done
    [ $ok = 1 ] && return 0
    sleep 0.2
  done
  return 1
}
