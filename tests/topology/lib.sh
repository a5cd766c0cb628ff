# shellcheck shell=bash disable=SC2034  # (variables are for the sourcing scripts)
# Shared plumbing of the topology tests and scripts/lab.sh: network
# namespaces joined by veths, VMs, hnv-vswitch daemons, hnvctl, captures,
# bounded waits and checks. Source it from bash (set -euo pipefail is set):
#
#   . "$(dirname "$0")/lib.sh"
#   topo_limit 220 "$0" "$@"     # the whole test bounded (below CTest's TIMEOUT)
#   topo_init st "$@"            # needs root (else exit 77); parses --bin/--hnvctl
#   topo_infra h1 h2 pn          # namespaces ${P}h1 ... for hosts and the provider net
#   topo_ns c1 c3                # namespaces for VMs (lo up)
#   topo_link c1 eth0 h1 vm1     # a veth pair, one end in each
#   topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
#   topo_offloads c1 on          # the VM keeps TSO/checksum offload (a VnetPort VM)
#   topo_vnet_ports CONF/host1.yaml   # its VM ports become hnv_vnet (VnetPorts)
#   topo_provider pn h1 h2       # a bridge br0 in pn joining the hosts' uplinks
#   topo_host h1 CONFIG.yaml 0,1 # hnv-vswitch in ${P}h1, waits until it runs
#   hnv h1 get lookup-record     # hnvctl on h1's control socket
#   expect_ping c1 10.0.1.103
#   cap_start wire pn br0; ...; cap_stop wire; tcounts wire 'gre' 'arp'
#   topo_done                    # exit 0, or 1 when a check failed
#
# Everything lives under a unique prefix $P (namespaces ${P}NAME) and a work
# directory $W. Interfaces are created directly inside their namespaces, so
# nothing is ever added to the root namespace. An EXIT trap (also on failure,
# on a signal and on the test's own time limit) stops the processes this
# script started, by PID, deletes every namespace it created and $W.
#
# Each test runs under its own time limit (TOPO_LIMIT seconds, below CTest's
# TIMEOUT): the script re-executes itself under timeout(1), which sends
# SIGTERM to the whole process group when the limit is reached, so the trap
# still cleans up before CTest would kill the process tree.
set -euo pipefail

TOPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOPO_PY=/usr/bin/python3   # Debian's python3 has scapy (python3-scapy); a pyenv one may not
BIN=${BIN:-$TOPO_ROOT/build/vswitch/hnv-vswitch}
HNVCTL=${HNVCTL:-$TOPO_ROOT/build/config/hnvctl}
GW_BIN=${GW_BIN:-$TOPO_ROOT/build/gateway/hnv-gateway}
TOPO_DPDK_DIRS=() # DPDK runtime directories of daemons run without a private /run/dpdk
TOPO_NSES=()      # namespaces we created (short names)
TOPO_PIDS=()      # background processes we started
TOPO_LATE_PIDS=() # ... stopped after those (the policy store)
declare -A HOST_PID=() HOST_DPID=() HOST_CONF=() HOST_LCORES=() CAP_PID=()   # per host / capture
FAIL=0
TOPO_T0=$(date +%s.%N)

log() { printf '%s\n' "$*"; }
step() { printf '== [%5.1f s] %s\n' "$(echo "$(date +%s.%N) - $TOPO_T0" | bc)" "$*"; }
# A failed check: reported, the test goes on and fails at topo_done.
fail() { printf 'FAIL: %s\n' "$*" >&2; FAIL=1; }
# A failure after which nothing else makes sense.
die() {
  printf 'FAIL: %s\n' "$*" >&2
  FAIL=1
  topo_dump_logs
  exit 1
}
pass() { printf 'ok: %s\n' "$*"; }

# topo_init TAG [--bin PATH] [--hnvctl PATH] [--keep]
# TAG is a short name (letters) of the test; the prefix is TAG + PID.
# --keep (or TOPO_KEEP=1) keeps the work directory (logs, captures).
topo_init() {
  local tag=$1
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --bin) BIN=$2; shift ;;
      --hnvctl) HNVCTL=$2; shift ;;
      --gateway) GW_BIN=$2; shift ;;
      --keep) TOPO_KEEP=1 ;;
      *) echo "usage: $0 [--bin hnv-vswitch] [--hnvctl hnvctl] [--gateway hnv-gateway] [--keep]" >&2; exit 2 ;;
    esac
    shift
  done
  if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (network namespaces)"; exit 77; fi
  [ -x "$BIN" ] || { echo "FAIL: no hnv-vswitch at $BIN (build it, or give --bin)" >&2; exit 1; }
  [ -x "$HNVCTL" ] || { echo "FAIL: no hnvctl at $HNVCTL (build it, or give --hnvctl)" >&2; exit 1; }
  P=${TOPO_PREFIX:-$tag${TOPO_LIMIT_PID:-$(( $$ % 100000 ))}}
  W=${TOPO_WORK:-/tmp/hnv-$P}
  mkdir -p "$W"
  trap topo_cleanup EXIT
  trap 'echo "FAIL: interrupted (signal or time limit)" >&2; exit 143' TERM INT HUP PIPE
  mkdir -p /run/dpdk   # mount point of each daemon's private tmpfs
}

# topo_limit SECONDS "$0" "$@": re-executes the calling script under
# timeout(1) once (call it first thing). TOPO_LIMIT overrides SECONDS.
# The script runs as a child (not exec'd) so that this shell can sweep up
# after it: bash runs the TERM trap (topo_cleanup) only when the command in
# the foreground returns, so a command that hangs past the limit gets the
# script killed 15 s later without its cleanup (seen in CI: a lab left its
# namespaces and a busy-polling hnv-gateway behind). topo_sweep then removes
# every namespace of the script's prefix and what runs in it.
topo_limit() {
  local limit=${TOPO_LIMIT:-$1} script=$2 rc=0
  shift 2
  if [ -z "${TOPO_LIMITED:-}" ]; then
    export TOPO_LIMITED=1 TOPO_LIMIT_PID=$(( $$ % 10000 ))
    timeout -s TERM -k 15 "$limit" "$script" "$@" || rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      echo "FAIL: over the time limit of $limit s" >&2
      topo_sweep "$TOPO_LIMIT_PID"
    fi
    exit "$rc"
  fi
}

# topo_sweep ID: kills what runs in the namespaces named <tag>ID<name>
# (topo_init's prefix) and deletes them.
topo_sweep() {
  local id=$1 n left
  left=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^[a-z]+${id}[a-z]") || return 0
  echo "topo_sweep: removing what the script left: $(echo $left)" >&2
  for n in $left; do ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; done
  sleep 0.5
  for n in $left; do ip netns del "$n" 2>/dev/null; done
  return 0
}

topo_cleanup() {
  local rc=$? pid n i
  set +e
  trap - TERM INT HUP PIPE
  if [ -n "${TOPO_LEAVE:-}" ] && [ "$rc" = 0 ]; then exit 0; fi   # lab.sh --keep
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then FAIL=1; fi
  for n in "${!CAP_PID[@]}"; do kill -TERM "${CAP_PID[$n]}" 2>/dev/null; done
  # The daemons first, then what they depend on (the policy store), so that
  # they stop cleanly.
  local late
  for late in "" 1; do
    local pids=("${TOPO_PIDS[@]}")
    [ -n "$late" ] && pids=("${TOPO_LATE_PIDS[@]}")
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for i in $(seq 50); do
      local alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do { wait "$pid"; } 2>/dev/null; done
  done
  # Anything still inside our namespaces was started by this script (in the
  # background, through a helper): stop it before the namespace goes.
  for n in "${TOPO_NSES[@]}"; do
    for pid in $(ip netns pids "$P$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  for n in "${TOPO_NSES[@]}"; do ip netns del "$P$n" 2>/dev/null; done
  for n in "${TOPO_DPDK_DIRS[@]}"; do rm -rf "/run/dpdk/$n"; done
  if [ -n "${TOPO_KEEP:-}" ] || { [ "$FAIL" != 0 ] && [ -n "${TOPO_KEEP_ON_FAIL:-}" ]; }; then
    echo "work directory kept: $W"
  else
    rm -rf "$W"
  fi
  printf 'time: %.1f s\n' "$(echo "$(date +%s.%N) - $TOPO_T0" | bc)"
  exit "$rc"
}

# The end of a test: exit 0 when every check passed.
topo_done() {
  if [ "$FAIL" = 0 ]; then
    echo "PASS: ${TOPO_NAME:-test}"
    exit 0
  fi
  topo_dump_logs
  echo "FAILED: ${TOPO_NAME:-test}" >&2
  exit 1
}

topo_dump_logs() {
  local h
  for h in "${!HOST_PID[@]}"; do
    [ -f "$W/$h.log" ] || continue
    echo "---- $h daemon log (last 30 lines): $W/$h.log" >&2
    tail -n 30 "$W/$h.log" >&2 || true
  done
}

ns() { ip netns exec "$P$1" "${@:2}"; }

# topo_ns NAME...: new namespaces ${P}NAME with lo up.
topo_ns() {
  local n
  for n in "$@"; do
    ip netns add "$P$n"
    TOPO_NSES+=("$n")
    ip -n "$P$n" link set lo up
  done
}

# topo_infra NAME...: like topo_ns, for hosts and the provider network: the
# kernel there keeps quiet (no IPv6, so no ND, MLD or router solicitations on
# the daemon's interfaces: net_af_packet hands the dataplane the frames the
# host's kernel sends on an interface too, which it would count as drops).
topo_infra() {
  local n
  topo_ns "$@"
  for n in "$@"; do
    ip netns exec "$P$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
}

# topo_link NS_A IF_A NS_B IF_B: a veth pair created inside the namespaces.
topo_link() {
  ip link add "$2" netns "$P$1" type veth peer name "$4" netns "$P$3"
  ip -n "$P$1" link set "$2" up
  ip -n "$P$3" link set "$4" up
}

# topo_vm NS ADDR/PLEN MAC GATEWAY [IFACE]: a VM's NIC (IPv4 or IPv6).
topo_vm() {
  local n=$1 addr=$2 mac=$3 gw=$4 dev=${5:-eth0}
  # The MAC changes while the link is down: nothing leaves with the old one.
  ip -n "$P$n" link set "$dev" down
  ip -n "$P$n" link set "$dev" address "$mac"
  ip -n "$P$n" link set "$dev" up
  if [[ $addr == *:* ]]; then
    ip -n "$P$n" -6 addr add "$addr" dev "$dev" nodad
    ip -n "$P$n" -6 route add default via "$gw" dev "$dev"
  else
    ip -n "$P$n" addr add "$addr" dev "$dev"
    ip -n "$P$n" route add default via "$gw" dev "$dev"
  fi
  # The kernel would leave TCP/UDP checksums to an offload that NVGRE hides.
  ns "$n" ethtool -K "$dev" tx off >/dev/null
}

# topo_spare_nic VM HOST PORT MAC: the VM's second NIC, eth1, wired to the
# host's port PORT and down (a VM that migrates there; topo_replug moves it).
topo_spare_nic() {
  topo_link "$1" eth1 "$2" "$3"
  ns "$1" ip link set eth1 down
  ns "$1" ip link set eth1 address "$4"
  ns "$1" ethtool -K eth1 tx off >/dev/null
}

# topo_replug VM ADDR/PLEN GATEWAY: the VM moves: its address and default
# route leave eth0 for eth1 (topo_spare_nic), in one ip batch.
topo_replug() {
  ns "$1" ip -batch - <<EOF
link set eth0 down
addr flush dev eth0
link set eth1 up
addr add $2 dev eth1
route add default via $3 dev eth1
EOF
}

# topo_offloads NS on|off [IFACE]: a VM's checksum offload, scatter-gather,
# TSO and GSO together (a VM on a VnetPort keeps them on; topo_vm turned
# them off).
topo_offloads() {
  ns "$1" ethtool -K "${3:-eth0}" tx "$2" sg "$2" tso "$2" gso "$2" >/dev/null
}

# topo_offload_state NS [IFACE]: the interface's offloads in one line
# (IFACE default eth0).
topo_offload_state() {
  ns "$1" ethtool -k "${2:-eth0}" | awk -F': ' '
    { sub(/^[ \t]+/, "", $1) }
    $1 ~ /^(rx-checksumming|tx-checksumming|scatter-gather|tx-tcp-segmentation|generic-segmentation-offload|generic-receive-offload)$/ {
      split($2, a, " "); printf "%s=%s ", $1, a[1] }' |
    sed 's/tx-tcp-segmentation/tso/;s/generic-segmentation-offload/gso/;s/generic-receive-offload/gro/;s/scatter-gather/sg/'
}

# topo_vnet_ports FILE...: the VM ports of host YAML files
# (net_af_packetN,iface=vmX) become VnetPorts (hnv_vnetN,iface=vmX: the VM
# keeps its offloads), in place.
topo_vnet_ports() {
  sed -i -E 's/net_af_packet([0-9]+),iface=(vm[0-9]+)/hnv_vnet\1,iface=\2/' "$@"
}

# topo_provider NS HOST...: the provider network, a bridge br0 in NS with one
# port per host (the host's "uplink").
topo_provider() {
  local pn=$1 h
  shift
  ip -n "$P$pn" link add br0 type bridge
  ip -n "$P$pn" link set br0 up
  for h in "$@"; do
    topo_link "$h" uplink "$pn" "$h"
    ip -n "$P$pn" link set "$h" master br0
  done
}

# topo_bg CMD...: a background process we own (its PID is $TOPO_BG).
topo_bg() {
  "$@" &
  TOPO_BG=$!
  TOPO_PIDS+=("$TOPO_BG")
}

# topo_source CONFIG: the daemon's policy options in TOPO_SRC: --config
# CONFIG, or for "store:NAME" the policy store's host NAME (lib_store.sh).
topo_source() {
  if [[ $1 == store:* ]]; then
    store_daemon_args "${1#store:}"
    TOPO_SRC=("${STORE_ARGS[@]}")
  else
    TOPO_SRC=(--config "$1")
  fi
}

# topo_host NAME CONFIG LCORES [--no-wait]: hnv-vswitch in namespace
# ${P}NAME with its socket, journal and log in $W (NAME.sock/.journal/.log).
# LCORES like "0,1" (main lcore first); two daemons use "0,1" and "1,0".
# TOPO_METRICS=HOST:PORT: the daemons (this and topo_gateway) serve
# --metrics there, in their own network namespace.
# The daemon gets a private /run/dpdk (ip netns exec has its own mount
# namespace) and runs at most TOPO_DAEMON_LIMIT seconds. CONFIG "store:NAME"
# follows the policy store as host NAME instead (lib_store.sh).
topo_host() {
  local h=$1 conf=$2 lc=$3 wait=${4:-}
  HOST_CONF[$h]=$conf
  HOST_LCORES[$h]=$lc
  topo_source "$conf"
  ip netns exec "$P$h" sh -c 'mount -t tmpfs tmpfs /run/dpdk && exec "$@"' _ \
    timeout -s TERM -k 5 "${TOPO_DAEMON_LIMIT:-600}" \
    "$BIN" "${TOPO_SRC[@]}" --journal "$W/$h.journal" --socket "$W/$h.sock" \
    --max-records 65536 --max-routes 4096 ${TOPO_METRICS:+--metrics "$TOPO_METRICS"} -- \
    -l "$lc" --main-lcore "${lc%%,*}" --no-huge -m 512 --no-shconf --no-pci \
    --file-prefix "$P$h" --log-level=error --no-telemetry >>"$W/$h.log" 2>&1 &
  HOST_PID[$h]=$!
  TOPO_PIDS+=("$!")
  [ "$wait" = --no-wait ] || topo_wait_host "$h"
}

# topo_gateway NAME CONFIG LCORES [--no-wait]: hnv-gateway in namespace
# ${P}NAME, socket/log/state in $W (NAME.sock, NAME.log, NAME.state/). Its
# compartment namespaces are ${P}<tenant> (--namespace-prefix $P): register
# them with topo_compartments so the cleanup removes them even after a crash.
# It runs with nsenter --net, not ip netns exec: the named namespaces it
# creates (bind mounts under /run/netns) must be visible to this script, so
# it shares our mount namespace, and its DPDK runtime directory
# /run/dpdk/${P}NAME is removed by the cleanup.
topo_gateway() {
  local h=$1 conf=$2 lc=$3 wait=${4:-}
  [ -x "$GW_BIN" ] || die "no hnv-gateway at $GW_BIN (build it, or give --gateway)"
  HOST_CONF[$h]=$conf
  HOST_LCORES[$h]=$lc
  TOPO_DPDK_DIRS+=("$P$h")
  topo_source "$conf"
  nsenter --net="/run/netns/$P$h" -- \
    timeout -s TERM -k 5 "${TOPO_DAEMON_LIMIT:-600}" \
    "$GW_BIN" "${TOPO_SRC[@]}" --socket "$W/$h.sock" --state-dir "$W/$h.state" \
    --namespace-prefix "$P" --max-records 65536 --max-routes 4096 ${TOPO_METRICS:+--metrics "$TOPO_METRICS"} -- \
    -l "$lc" --main-lcore "${lc%%,*}" --no-huge -m 512 --no-shconf --no-pci \
    --file-prefix "$P$h" --log-level=error --no-telemetry >>"$W/$h.log" 2>&1 &
  HOST_PID[$h]=$!
  TOPO_PIDS+=("$!")
  [ "$wait" = --no-wait ] || topo_wait_host "$h"
}

# topo_compartments TENANT...: namespaces ${P}TENANT made by a gateway.
topo_compartments() { TOPO_NSES+=("$@"); }

# cns TENANT CMD...: a command in a gateway compartment's namespace.
cns() { ip netns exec "$P$1" "${@:2}"; }

# topo_wait_host NAME: until the daemon says "running:" (once more than
# before: a restart appends to the same log), at most 20 s.
topo_wait_host() {
  local h=$1 i
  for i in $(seq 200); do
    if [ "$(grep -cE 'hnv-(vswitch|gateway): running:' "$W/$h.log" 2>/dev/null)" -gt "${HOST_STARTS[$h]:-0}" ]; then
      HOST_STARTS[$h]=$(grep -cE 'hnv-(vswitch|gateway): running:' "$W/$h.log")
      HOST_DPID[$h]=$(pgrep -P "${HOST_PID[$h]}" | head -1)
      return 0
    fi
    kill -0 "${HOST_PID[$h]}" 2>/dev/null || break
    sleep 0.1
  done
  die "host $h did not start (log $W/$h.log):
$(cat "$W/$h.log")"
}
declare -A HOST_STARTS=()

# topo_stop_host NAME [SIGNAL]: stop the daemon (TERM by default; KILL for a
# crash) and wait for it.
topo_stop_host() {
  local h=$1 sig=${2:-TERM} i
  if [ "$sig" = KILL ]; then
    kill -KILL "${HOST_DPID[$h]}"
  else
    kill -TERM "${HOST_PID[$h]}"
  fi
  for i in $(seq 100); do kill -0 "${HOST_PID[$h]}" 2>/dev/null || break; sleep 0.1; done
  { wait "${HOST_PID[$h]}"; } 2>/dev/null || true   # (quiet: no "Killed" job report)
}

# topo_alive NAME: the daemon process still exists.
topo_alive() { kill -0 "${HOST_DPID[$1]}" 2>/dev/null; }

# hnv NAME ARGS...: hnvctl on the control socket of host NAME.
hnv() { local h=$1; shift; "$HNVCTL" --socket "$W/$h.sock" "$@"; }

# json_get NAME KIND: the host's objects of KIND as JSON lines, sorted, one
# object per line (to compare or grep).
json_get() {
  hnv "$1" --json get "$2" | "$TOPO_PY" -c '
import json, sys
for o in sorted(json.dumps(x, sort_keys=True) for x in json.load(sys.stdin)): print(o)'
}

# drops NAME: "reason count" lines of the host's non-zero drop counters.
drops() {
  hnv "$1" --json counters | "$TOPO_PY" -c '
import json, sys
for k, v in sorted(json.load(sys.stdin)["drops"].items()):
    if v: print(k, v)'
}

# counter NAME KEY: one top-level counter (encapsulated, routed, ...).
counter() {
  hnv "$1" --json counters | "$TOPO_PY" -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

# ping_ok NS DST [COUNT] [INTERVAL] [extra ping args...]: COUNT echo replies
# within a deadline.
ping_ok() {
  local n=$1 d=$2 c=${3:-3} i=${4:-0.2}
  ns "$n" ping -c "$c" -i "$i" -w $((c + 5)) -q "${@:5}" "$d" >/dev/null 2>&1
}

# wait_ping NS DST [SECONDS]: until one echo reply comes back.
wait_ping() {
  local n=$1 d=$2 s=${3:-10} i
  for i in $(seq "$s"); do
    ns "$n" ping -c 1 -W 1 -q "$d" >/dev/null 2>&1 && return 0
  done
  return 1
}

# expect_ping NS DST [LABEL]: a check.
expect_ping() {
  if ping_ok "$1" "$2" 3; then pass "${3:-$1 -> $2}"; else fail "${3:-$1 -> $2}: no echo reply"; fi
}

# Captures run dumpcap (light, quick to start), bounded; tshark reads them.
# cap_start NAME NS IFACE [CAPTURE-FILTER] [SNAPLEN] [PACKETS]: capture into
# $W/NAME.pcapng, for at most TOPO_CAP_LIMIT seconds and, when given, the
# first PACKETS frames (so that tshark's pass stays short on a slow machine).
cap_start() {
  local name=$1 n=$2 dev=$3 filter=${4:-} snap=${5:-256} packets=${6:-} i
  local args=(-i "$dev" -s "$snap" -q -a "duration:${TOPO_CAP_LIMIT:-120}" -w "$W/$name.pcapng")
  [ -n "$filter" ] && args+=(-f "$filter")
  [ -n "$packets" ] && args+=(-c "$packets")
  ip netns exec "$P$n" dumpcap "${args[@]}" 2>"$W/$name.dumpcap.log" &
  CAP_PID[$name]=$!
  TOPO_PIDS+=("$!")
  # dumpcap says "Capturing on" before it opens the interface; it writes the
  # file's header after: a non-empty file means the capture is armed. On a
  # loaded machine (CI with busy-polling daemons) that takes seconds: 20 s.
  for i in $(seq 400); do
    [ -s "$W/$name.pcapng" ] && return 0
    kill -0 "${CAP_PID[$name]}" 2>/dev/null || break
    sleep 0.05
  done
  die "capture $name on $n/$dev did not start: $(cat "$W/$name.dumpcap.log")"
}

# cap_stop NAME...: stop captures (the files are complete afterwards).
cap_stop() {
  local name
  sleep 0.3   # frames in flight
  for name in "$@"; do kill -TERM "${CAP_PID[$name]}" 2>/dev/null || true; done
  for name in "$@"; do wait "${CAP_PID[$name]}" 2>/dev/null || true; unset "CAP_PID[$name]"; done
}

# tsh NAME ARGS...: tshark on capture NAME.
tsh() { local name=$1; shift; tshark -r "$W/$name.pcapng" "$@" 2>/dev/null; }
# tcount NAME FILTER: how many frames of capture NAME match a display filter.
tcount() { tsh "$1" -Y "$2" | wc -l; }

# tcounts NAME FILTER...: the number of frames matching each display filter,
# space-separated, in one pass over the capture (tshark's io,stat; a filter
# must not contain a comma).
tcounts() {
  local name=$1 spec=io,stat,0 f
  shift
  for f in "$@"; do spec+=",$f"; done
  tsh "$name" -q -z "$spec" | awk -v n=$# '
    /<>/ { split($0, c, "|"); line = ""
           for (i = 0; i < n; i++) line = line (i ? " " : "") (c[3 + 2 * i] + 0) }
    END { if (line == "") for (i = 0; i < n; i++) line = line (i ? " " : "") 0; print line }'
}

# gre_key_range VSID: the display-filter range of NVGRE keys of a VSID (any FlowID).
gre_key_range() {
  printf 'gre.key >= 0x%06x00 && gre.key <= 0x%06xff' "$1" "$1"
}

# blob FILE MB: random data for transfers.
blob() { head -c $(($2 * 1000000)) /dev/urandom >"$1"; }

# tcp_transfer SRC_NS DST_NS DST_ADDR MB PORT: sends MB of random data with
# nc and compares sha256 on both ends (bounded at 60 s). Prints the rate.
tcp_transfer() {
  local s=$1 d=$2 a=$3 mb=$4 port=${5:-5001} want got t0 t1 rcv
  blob "$W/blob" "$mb"
  want=$(sha256sum <"$W/blob" | cut -d' ' -f1)
  rm -f "$W/got"
  local fam=-4
  [[ $a == *:* ]] && fam=-6   # nc -l listens on one family only
  ns "$d" timeout 60 sh -c "nc $fam -l -d -p $port | sha256sum > $W/got" &
  rcv=$!
  TOPO_PIDS+=("$rcv")
  local i
  for i in $(seq 50); do
    ns "$d" ss -ltn 2>/dev/null | grep -q ":$port " && break
    sleep 0.1
  done
  t0=$(date +%s.%N)
  ns "$s" timeout 60 nc -N "$a" "$port" <"$W/blob" || true
  wait "$rcv" || true
  t1=$(date +%s.%N)
  got=$(cut -d' ' -f1 <"$W/got" 2>/dev/null || true)
  rm -f "$W/blob"
  TCP_RATE=$(echo "scale=2; $mb * 8 / ($t1 - $t0)" | bc)
  TCP_SHA=$want
  [ "$got" = "$want" ]
}

# topo_chapter_hosts_net: the chapter's Host 1 (Contoso1, Contoso2) and
# Host 2 (Contoso3) as namespaces h1, h2, c1, c2, c3, the provider bridge in
# pn; VM ports vm1, vm2 on Host 1 and vm1 on Host 2 (the chapter's
# host1.yaml / host2.yaml); no daemons.
topo_chapter_hosts_net() {
  topo_infra h1 h2 pn
  topo_ns c1 c2 c3
  topo_link c1 eth0 h1 vm1; topo_link c2 eth0 h1 vm2; topo_link c3 eth0 h2 vm1
  topo_provider pn h1 h2
  topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
  topo_vm c2 10.0.1.102/24 60:00:60:00:01:02 10.0.1.1
  topo_vm c3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1
}

# topo_gateway_lab CONF_DIR: the chapter's simple setup without Host 2: Host 1
# (Contoso1, Contoso2; CONF_DIR/host1.yaml), the gateway host
# (CONF_DIR/gateway/gateway.yaml, compartment ${P}contoso) and the Contoso
# physical host (10.1.3.100), joined by the provider bridge and the external
# veth. CONF_DIR is config/examples/chapter or a copy of it. Waits until the
# daemons run and Contoso1 reaches the physical host.
# topo_physical_host NS: the chapter's Contoso physical host in namespace NS
# (eth0 10.1.3.100/24, routes to 10.0.1.0/24 and 10.0.2.0/24 via MT-GW
# 10.1.3.2; the chapter's New-NetIPAddress / New-NetRoute).
topo_physical_host() {
  ip -n "$P$1" addr add 10.1.3.100/24 dev eth0
  ip -n "$P$1" route add 10.0.1.0/24 via 10.1.3.2
  ip -n "$P$1" route add 10.0.2.0/24 via 10.1.3.2
  ns "$1" ethtool -K eth0 tx off >/dev/null
}

# topo_gateway_lab_net: topo_gateway_lab's namespaces and links, no daemons.
topo_gateway_lab_net() {
  topo_infra h1 gw pn
  topo_ns c1 c2 phys
  topo_link c1 eth0 h1 vm1; topo_link c2 eth0 h1 vm2
  topo_link phys eth0 gw external
  topo_provider pn h1 gw
  topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
  topo_vm c2 10.0.1.102/24 60:00:60:00:01:02 10.0.1.1
  topo_physical_host phys
  topo_compartments contoso
}

topo_gateway_lab() {
  local conf=$1
  topo_gateway_lab_net
  topo_host h1 "$conf/host1.yaml" 0,1 --no-wait
  topo_gateway gw "$conf/gateway/gateway.yaml" 1,0
  topo_wait_host h1
  wait_ping c1 10.1.3.100 15 || die "Contoso1 cannot reach the physical host 10.1.3.100"
}

# frame_pcap HEX FILE: one frame (hex, as `hnvctl trace` prints it) as a
# pcap file, for tshark.
frame_pcap() {
  "$TOPO_PY" - "$1" "$2" <<'PY'
import struct, sys
frame = bytes.fromhex(sys.argv[1])
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
PY
}

# comp_json GW TENANT EXPR: a Python expression over the compartment's
# `hnvctl --json compartment` object `c` (e.g. "c['counters']['to_external']['packets']").
comp_json() {
  hnv "$1" --json compartment "$2" | "$TOPO_PY" -c "
import json, sys
r = json.load(sys.stdin)
c = r['compartments'][0] if 'compartments' in r else r
print($3)"
}

# tap_packets TENANT: rx+tx packets of every interface of the compartment's
# namespace but lo, i.e. what went through the kernel there.
tap_packets() {
  ip -n "$P$1" -s -j link show | "$TOPO_PY" -c '
import json, sys
print(sum(l["stats64"]["rx"]["packets"] + l["stats64"]["tx"]["packets"]
          for l in json.load(sys.stdin) if l["ifname"] != "lo"))'
}

# topo_gateway_config DIR: a copy of the chapter's gateway configuration in
# DIR (gateway.yaml, tenants/contoso.yaml including the chapter's
# contoso.yaml by its absolute path), for scripts that add to it.
topo_gateway_config() {
  local d=$1 chapter=$TOPO_ROOT/config/examples/chapter
  mkdir -p "$d/tenants"
  cp "$chapter/gateway/gateway.yaml" "$d/gateway.yaml"
  sed -e "s|^include: .*|include: $chapter/contoso.yaml|" "$chapter/gateway/tenants/contoso.yaml" \
    >"$d/tenants/contoso.yaml"
}

# ---- Contoso's "Internet" (issue 11): beyond MT-GW, reached through its NAT ----
# The gateway host gets a third port, "internet" (net_af_packet2 on the veth
# `internet` of its namespace), and Contoso's compartment a second external
# interface ext1 there (198.51.100.2/24) with the default route to the
# Internet's router 198.51.100.1 and a NAPT (pool 198.51.100.10, on ext1
# only: the physical host 10.1.3.100 on ext0 still sees the VMs' own
# addresses). The Internet (topo_internet) knows only public addresses: no
# route to 10.0.0.0/8, so only what the NAT translated gets an answer.
# topo_internet_config DIR: adds that to the gateway configuration in DIR
# (topo_gateway_config, topo_vpn_gateway_config).
topo_internet_config() {
  "$TOPO_PY" - "$1/gateway.yaml" "$1/tenants/contoso.yaml" <<'PY'
import sys, yaml
gw_file, tenant_file = sys.argv[1], sys.argv[2]
gw = yaml.safe_load(open(gw_file))
gw["ports"].append({"name": "internet", "device": "net_af_packet2,iface=internet"})
t = yaml.safe_load(open(tenant_file))
t["tenant"]["external"].append({"interface": "ext1", "port": "internet", "vlan": 0,
    "mac": "600160010303", "addresses": ["198.51.100.2/24"], "mtu": 1500})
t["tenant"]["routes"].append({"destination": "0.0.0.0/0", "next_hop": "198.51.100.1",
    "interface": "ext1", "metric": 0})
t["nat"] = {"addresses": ["198.51.100.10"], "interfaces": ["ext1"]}
for f, d in ((gw_file, gw), (tenant_file, t)):
    with open(f, "w") as out:
        out.write("# generated by tests/topology/lib.sh (topo_internet_config)\n")
        yaml.safe_dump(d, out, sort_keys=False)
PY
}

# topo_internet NS: the Internet in namespace NS (its eth0 wired to the
# gateway's port "internet"): its router 198.51.100.1/24 on eth0 and a
# server address 203.0.113.80 on lo; no other route.
topo_internet() {
  ip -n "$P$1" addr add 198.51.100.1/24 dev eth0
  ip -n "$P$1" addr add 203.0.113.80/32 dev lo
  ns "$1" ethtool -K eth0 tx off >/dev/null
}

# hello_server NS ADDR PORT NAME SECONDS: a TCP server that answers each
# connection with "NAME PEER-ADDRESS", for at most SECONDS (and stopped by
# the cleanup); its PID in $W/NAME-PORT.pid.
hello_server() {
  ns "$1" timeout "$5" "$TOPO_PY" -c '
import os, socket, sys
open(sys.argv[4], "w").write(str(os.getpid()))
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64)
while True:
    c, peer = s.accept()
    c.sendall(("%s %s\n" % (sys.argv[3], peer[0])).encode()); c.close()
' "$2" "$3" "$4" "$W/$4-$3.pid" >/dev/null 2>&1 &
  TOPO_PIDS+=("$!")
}
# hello NS ADDR PORT: the line hello_server answers (empty on failure).
hello() {
  ns "$1" timeout 5 "$TOPO_PY" -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
print(c.makefile().readline().strip())' "$2" "$3" 2>/dev/null
}

# The VPN site and configuration helpers.
. "$TOPO_ROOT/tests/topology/lib_vpn.sh"
