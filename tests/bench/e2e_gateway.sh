#!/usr/bin/env bash
# Transit forwarding through one gateway compartment, end to end through the
# lab, against the Linux kernel forwarding the same traffic, in one run.
#
# How to run it (root; builds nothing, so build first):
#
#   ninja -C build hnv-vswitch hnv-gateway hnvctl
#   tests/bench/e2e_gateway.sh --runs 3 --out /tmp/e2e-gw     # about 12 min
#   tests/bench/e2e_gateway.sh --runs 1 --duration 3          # a quick check
#   ninja -C build e2e_conn_rate                              # and for the NAT:
#   tests/bench/e2e_gateway.sh --variants "hnv-nat kernel-nat kernel-nat-txoff"
#
#   tests/bench/e2e_gateway.sh [--runs N] [--duration S] [--udp-pps "P..."]
#       [--out DIR] [--variants "hnv kernel kernel-txoff"] [--max-load L]
#       [--conns N] [--conn-rate e2e_conn_rate]
#       [--bin hnv-vswitch] [--gateway hnv-gateway] [--hnvctl hnvctl]
#
# The service path is the chapter's flow 6 (VM to a physical host through the
# gateway), both ways:
#   (hnv)     tests/topology/lib.sh's topo_gateway_lab, as scripts/lab.sh and
#             test_gateway_fastpath.sh build it: Contoso1 (10.0.1.101, VM
#             netns) ↔ veth ↔ Host 1 netns with hnv-vswitch
#             (config/examples/chapter/host1.yaml: distributed router, the
#             0.0.0.0/0 customer route to MT-GW 10.0.2.2 on VSID 6001) ↔ NVGRE
#             over the provider bridge ↔ the gateway host netns with
#             hnv-gateway (gateway/gateway.yaml, compartment "contoso": fast
#             path from VSID 6001 to the external port) ↔ veth `external` ↔ the
#             Contoso physical host netns (10.1.3.100, routes to 10.0.1.0/24
#             and 10.0.2.0/24 via 10.1.3.2).
#   (kernel)  the same service path from the kernel alone (this kernel has no
#             GRE; VXLAN is its closest overlay): the VM netns (same CA, MAC)
#             ↔ veth ↔ a kernel "host 1" netns (bridge br0 = {vm1, vxlan0},
#             VXLAN VNI 6000 from PA 192.168.0.22, static FDB entries as the
#             lookup records, as tests/bench/e2e_vswitch.sh does it) ↔ the
#             same kind of provider bridge ↔ a kernel "gateway" netns (PA
#             192.168.0.11) whose vxlan0 terminates VNI 6000 and holds the VMs'
#             default gateway 10.0.1.1/24 (MAC 60:00:60:00:01:00, the DFGW's),
#             ip_forward=1, and forwards to ext0 10.1.3.2/24 ↔ veth ↔ the
#             physical host netns (10.1.3.100, the same routes).
#             Differences by construction: the kernel path routes once (in the
#             gateway netns); hnv routes twice (Host 1's distributed router
#             into VSID 6001, then the compartment). VNI 6000 is used both
#             ways in the kernel; hnv sends on 6001 and returns on 6000.
#   kernel       the kernel's default offloads in the VM and the physical host
#                (TX checksum, TSO, GSO on: 64 KB segments cross veth, bridge,
#                VXLAN and the forwarding path unsegmented until the last hop).
#   kernel-txoff `ethtool -K eth0 tx off` in the VM and the physical host, as
#                on the hnv path (topo_vm and topo_gateway_lab do that: NVGRE
#                hides the checksum offload, and the gateway's external port
#                is read by net_af_packet).
#   hnv-nat, kernel-nat, kernel-nat-txoff (issue 11: the gateway's NAT against
#             the kernel's): the same two paths and offloads, now translating.
#             The physical host loses its routes to 10.0.1.0/24 and
#             10.0.2.0/24, so only what a NAT translated comes back. hnv-nat:
#             the gateway runs a copy of the chapter's gateway files
#             (lib.sh topo_gateway_config) whose Contoso tenant gets `nat:`:
#             NAPT to 10.1.3.10 (limits.sessions_per_host 262144, so that one
#             VM's new connections are not capped at the default 8,192), and
#             port forwards 10.1.3.2 tcp/5201, udp/5201 (iperf3) and tcp/5300
#             (the connection test) to Contoso1. kernel-nat*: the kernel
#             gateway netns gets an nftables table: masquerade of 10.0.0.0/8
#             leaving ext0 (to 10.1.3.2) and DNAT of 10.1.3.2 tcp/5201,
#             udp/5201, tcp/5300 to 10.0.1.101 (conntrack in that netns),
#             with counters (the masquerade rule counts the connections it
#             translated); removed after the variant. The physical host
#             reaches Contoso1 at 10.1.3.2 in these variants.
# MTU: the underlay is 1500. hnv: VM 1500, Host 1 clamps the inner TCP MSS
# (mtu_policy icmp-and-clamp), the compartment's vmnet is 1458, its external
# side and the physical host 1500. Kernel: VM and the gateway's vxlan0 1450
# (VXLAN's 50 bytes), ext0 and the physical host 1500: TCP's MSS follows the
# smaller side's SYN.
#
# Per variant and run: ping RTT Contoso1 → 10.1.3.100 (50 × 20 ms); new TCP
# connections per second, Contoso1 → physical host and back
# (tests/bench/e2e_conn_rate.cc, built as build/tests/bench/e2e_conn_rate: at
# most --conns connections, default 30,000, 32 at a time, for at most -t S;
# each is connect, the server's FIN, the client's FIN; connection i from
# source port 20000 + i, so no port twice: each is a new NAPT session in
# hnv-nat and a new conntrack entry in kernel-nat); iperf3 TCP, 1 stream,
# physical host → Contoso1 and Contoso1 → physical host (-t S);
# iperf3 UDP, 64-byte payload at bounded offered rates (--udp-pps, default
# "100000 200000" packets/s, i.e. -l 64 -b 51.2M / 102.4M; -w 2M on both
# sides, the same for every variant, so the receiving iperf3 loses less to
# scheduling), Contoso1 → physical host and back: packets/s the receiver got,
# the loss, and how much of it the receiver's own socket dropped (Udp
# RcvbufErrors in its namespace: lost by the load generator, not by the
# path). The iperf3 server runs in the
# destination with -1 under timeout(1); every client has -t and runs under
# timeout(1). The hnv daemons run only while hnv is measured (they busy-poll
# both CPUs: Host 1 worker on CPU 1, the gateway's on CPU 0, as lab.sh); they
# are started and stopped (SIGTERM) once per run. After each hnv measurement
# the script prints the compartment's counters (hnvctl --json compartment
# contoso): to_external / to_vm packets against the packets the compartment
# namespace's kernel interfaces saw, to show the transit took the fast path.
#
# Machine load: before anything is built the script waits while the 1-minute
# load average is above --max-load (default 1.5; sleep 60, at most 10 times),
# then goes on and records the load it ran under (uptime; CPU in use before
# each run, from /proc/stat, with nothing of ours running; the busiest other
# processes). Figures: best of N runs (highest rate, lowest RTT), median and
# range, and the ratios hnv/kernel (hnv-nat/kernel-nat) of the best and of
# the medians.
# --out DIR keeps results.tsv (run, variant, metric, value), every iperf3
# JSON, the daemons' logs and counters, the offloads and machine.txt.
# Everything it creates is removed on exit (lib.sh's trap: its own PIDs, its
# namespaces, under the prefix egw<PID>, its work directory); nothing is
# addressed in the root namespace.
set -euo pipefail
SELF=$(realpath "$0")
HERE=$(dirname "$SELF")
ROOT=$(cd "$HERE/../.." && pwd)

RUNS=3 DUR=10 UDP_PPS="100000 200000" UDP_WIN=2M OUT="" VARIANTS="hnv kernel kernel-txoff" MAXLOAD=1.5 LIBARGS=()
CONNS=30000 CONN_RATE=$ROOT/build/tests/bench/e2e_conn_rate
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --udp-pps) UDP_PPS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --variants) VARIANTS=$2; shift ;;
    --max-load) MAXLOAD=$2; shift ;;
    --conns) CONNS=$2; shift ;;
    --conn-rate) CONN_RATE=$2; shift ;;
    --bin|--hnvctl|--gateway) LIBARGS+=("$1" "$(realpath "$2")"); shift ;;
    -h|--help) sed -n '2,107p' "$SELF"; exit 0 ;;
    *) echo "usage: $0 [--runs N] [--duration S] [--udp-pps P] [--out DIR] [--variants LIST] [--max-load L] [--conns N] [--conn-rate P] [--bin P] [--gateway P] [--hnvctl P]" >&2; exit 2 ;;
  esac
  shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $DUR =~ ^[1-9][0-9]*$ && $CONNS =~ ^[1-9][0-9]*$ && $CONNS -le 45000 && $UDP_PPS =~ ^[1-9][0-9]{3,}( [1-9][0-9]{3,})*$ ]] ||
  { echo "--runs, --duration and --conns (at most 45000) are positive integers, --udp-pps a list of rates >= 1000" >&2; exit 2; }
for v in $VARIANTS; do
  case $v in hnv|kernel|kernel-txoff|hnv-nat|kernel-nat|kernel-nat-txoff) ;;
    *) echo "unknown variant $v (hnv kernel kernel-txoff hnv-nat kernel-nat kernel-nat-txoff)" >&2; exit 2 ;; esac
done
[ -x "$CONN_RATE" ] || { echo "no e2e_conn_rate at $CONN_RATE (ninja -C build e2e_conn_rate, or give --conn-rate)" >&2; exit 2; }
CONN_RATE=$(realpath "$CONN_RATE")

# Wait for a quiet machine before anything exists (so outside the time limit
# and without anything to clean up): at most 10 × 60 s.
if [ -z "${TOPO_LIMITED:-}" ]; then
  LOADLOG="before the run: $(uptime)"
  for i in $(seq 10); do
    l=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$l" -v m="$MAXLOAD" 'BEGIN {exit !(l > m)}' || break
    echo "load average $l > $MAXLOAD: waiting 60 s ($i/10)"
    LOADLOG+=$'\n'"waited 60 s (load average $l > $MAXLOAD)"
    sleep 60
  done
  LOADLOG+=$'\n'"measured runs start: $(uptime)"
  export E2E_GW_LOADLOG=$LOADLOG
fi

. "$ROOT/tests/topology/lib.sh"
. "$HERE/e2e_machine.sh"
NV=$(wc -w <<<"$VARIANTS") NT=$(( 4 + 2 * $(wc -w <<<"$UDP_PPS") ))
# per variant: ping and NT tests (iperf3, connections) of DUR s, each with up to ~12 s around it
topo_limit $(( 120 + RUNS * NV * (NT * DUR + 12 * NT + 20) )) "$SELF" "${ARGS[@]}"
TOPO_NAME=e2e_gateway
TOPO_DAEMON_LIMIT=$(( 120 + NT * DUR + 12 * NT + 20 ))
topo_init egw "${LIBARGS[@]}"

# Our own copies of the binaries: others may rebuild build/ while we run.
ORIG_BIN=$(realpath "$BIN") ORIG_GW=$(realpath "$GW_BIN") ORIG_CTL=$(realpath "$HNVCTL")
mkdir -p "$W/bin"
cp "$BIN" "$W/bin/hnv-vswitch"; cp "$GW_BIN" "$W/bin/hnv-gateway"; cp "$HNVCTL" "$W/bin/hnvctl"; cp "$CONN_RATE" "$W/bin/"
BIN=$W/bin/hnv-vswitch GW_BIN=$W/bin/hnv-gateway HNVCTL=$W/bin/hnvctl CONN_RATE=$W/bin/e2e_conn_rate
[ -n "$OUT" ] && { mkdir -p "$OUT"; OUT=$(realpath "$OUT"); }
R=${OUT:-$W}
: >"$R/results.tsv"; : >"$R/offloads.txt"
PY=/usr/bin/python3
CONF=$ROOT/config/examples/chapter

{
  echo "command: $0 ${ARGS[*]}"
  echo "date: $(date -Is)  kernel: $(uname -r)  cpus: $(nproc)  iperf3: $(iperf3 --version | head -1)"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo " (work tree has uncommitted changes: $(git -C "$ROOT" diff --name-only | tr '\n' ' '))")"
  for b in "$ORIG_BIN" "$ORIG_GW" "$ORIG_CTL"; do echo "binary: $b built $(stat -c %y "$b")"; done
  echo "${E2E_GW_LOADLOG:-}"
} >"$R/machine.txt"
cat "$R/machine.txt"

# ---------------------------------------------------------------- topologies
step "topology: hnv (topo_gateway_lab's, daemons started per run), kernel VXLAN + forwarding"
# hnv: topo_gateway_lab's namespaces and links, without starting the daemons.
topo_gateway_lab_net

# kernel: VM kc1 - veth - kh1 (br0 = vm1 + vxlan0) - uplink - kpn (br0) - uplink - kgw (vxlan0 10.0.1.1, ext0) - veth - kphys
topo_infra kh1 kgw kpn
topo_ns kc1 kphys
topo_link kc1 eth0 kh1 vm1
topo_link kphys eth0 kgw ext0
topo_provider kpn kh1 kgw
ip -n "${P}kc1" link set eth0 down
ip -n "${P}kc1" link set eth0 address 60:00:60:00:01:01 mtu 1450
ip -n "${P}kc1" link set eth0 up
ip -n "${P}kc1" addr add 10.0.1.101/24 dev eth0
ip -n "${P}kc1" route add default via 10.0.1.1
# host 1: a bridge and VXLAN, no address on the VM side (pure L2, like a vswitch)
ip -n "${P}kh1" addr add 192.168.0.22/24 dev uplink
ip -n "${P}kh1" link add vxlan0 type vxlan id 6000 local 192.168.0.22 dev uplink dstport 4789 nolearning
ip -n "${P}kh1" link add br0 type bridge
ip -n "${P}kh1" link set vm1 master br0
ip -n "${P}kh1" link set vxlan0 master br0
ip -n "${P}kh1" link set vxlan0 up
ip -n "${P}kh1" link set br0 up
ns kh1 bridge fdb add 60:00:60:00:01:00 dev vxlan0 dst 192.168.0.11 static   # the gateway (10.0.1.1)
ns kh1 bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst 192.168.0.11       # broadcast (ARP)
# the gateway: terminates VNI 6000 (the VMs' default gateway) and forwards to ext0
ip -n "${P}kgw" addr add 192.168.0.11/24 dev uplink
ip -n "${P}kgw" link add vxlan0 type vxlan id 6000 local 192.168.0.11 dev uplink dstport 4789 nolearning
ip -n "${P}kgw" link set vxlan0 address 60:00:60:00:01:00
ip -n "${P}kgw" link set vxlan0 up
ip -n "${P}kgw" addr add 10.0.1.1/24 dev vxlan0
ns kgw bridge fdb add 60:00:60:00:01:01 dev vxlan0 dst 192.168.0.22 static
ns kgw bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst 192.168.0.22
ip -n "${P}kgw" link set ext0 address 60:01:60:01:03:02
ip -n "${P}kgw" addr add 10.1.3.2/24 dev ext0
ns kgw sysctl -qw net.ipv4.ip_forward=1
ip -n "${P}kphys" addr add 10.1.3.100/24 dev eth0
ip -n "${P}kphys" route add 10.0.1.0/24 via 10.1.3.2
ip -n "${P}kphys" route add 10.0.2.0/24 via 10.1.3.2

declare -A VM=([hnv]=c1 [kernel]=kc1 [kernel-txoff]=kc1 [hnv-nat]=c1 [kernel-nat]=kc1 [kernel-nat-txoff]=kc1)
declare -A PH=([hnv]=phys [kernel]=kphys [kernel-txoff]=kphys [hnv-nat]=phys [kernel-nat]=kphys [kernel-nat-txoff]=kphys)

# The NAT variants: the gateway files with Contoso's nat: (hnv-nat), the
# kernel gateway's nftables table (kernel-nat*); the physical hosts' routes
# to the VM network go while a NAT variant is measured.
NATCONF=$W/natconf
topo_gateway_config "$NATCONF"
cat >>"$NATCONF/tenants/contoso.yaml" <<'EOF'
nat:
  addresses: [10.1.3.10]
  limits: {sessions_per_host: 262144}
  port_forwards:
    - {protocol: tcp, external: 10.1.3.2, external_port: 5201, internal: 10.0.1.101, internal_port: 5201}
    - {protocol: udp, external: 10.1.3.2, external_port: 5201, internal: 10.0.1.101, internal_port: 5201}
    - {protocol: tcp, external: 10.1.3.2, external_port: 5300, internal: 10.0.1.101, internal_port: 5300}
EOF
nat_on() {  # VARIANT
  [[ $1 == *-nat* ]] || return 0
  ip -n "$P${PH[$1]}" route del 10.0.1.0/24; ip -n "$P${PH[$1]}" route del 10.0.2.0/24
  [[ $1 == kernel-nat* ]] || return 0
  ns kgw nft -f - <<'EOF'
table ip e2e_nat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "ext0" ip saddr 10.0.0.0/8 counter masquerade
  }
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "ext0" ip daddr 10.1.3.2 tcp dport { 5201, 5300 } counter dnat to 10.0.1.101
    iifname "ext0" ip daddr 10.1.3.2 udp dport 5201 counter dnat to 10.0.1.101
  }
}
EOF
}
nat_off() {  # VARIANT
  [[ $1 == *-nat* ]] || return 0
  ip -n "$P${PH[$1]}" route add 10.0.1.0/24 via 10.1.3.2; ip -n "$P${PH[$1]}" route add 10.0.2.0/24 via 10.1.3.2
  [[ $1 == kernel-nat* ]] || return 0
  local n
  n=$(ns kgw nft list chain ip e2e_nat post | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
  echo "  kernel NAT: masquerade translated $n connections (first packets); DNAT (first packets) $(ns kgw nft list chain ip e2e_nat pre | sed -n 's/.* \(tcp\|udp\) dport \(.*\) counter packets \([0-9]*\).*/\1 \2: \3;/p' | tr '\n' ' ')"
  echo "  kernel conntrack entries now: $(ns kgw cat /proc/sys/net/netfilter/nf_conntrack_count)"
  res "$1" nat_masquerade_conns "$n"
  ns kgw nft delete table ip e2e_nat
}

# ---------------------------------------------------------------- measuring
res() { printf '%s\t%s\t%s\t%s\n' "$RUN" "$1" "$2" "$3" >>"$R/results.tsv"; }

# offloads NS IFACE: the interface's MTU and offload state in one line
offloads() {
  echo -n "mtu=$(ip -n "$P$1" -o link show "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p') "
  ns "$1" ethtool -k "$2" | awk -F': ' '
    { sub(/^[ \t]+/, "", $1) }
    $1 ~ /^(rx-checksumming|tx-checksumming|scatter-gather|tx-tcp-segmentation|generic-segmentation-offload|generic-receive-offload)$/ {
      split($2, a, " "); printf "%s=%s ", $1, a[1] }' |
    sed 's/tx-tcp-segmentation/tso/;s/generic-segmentation-offload/gso/;s/generic-receive-offload/gro/;s/scatter-gather/sg/'
}

# server_bg NS PORT CMD...: a test's server, CMD in namespace NS in the
# background (its PID in SRV, also stopped by the cleanup); returns once
# something listens on TCP PORT there (at most 5 s).
server_bg() {
  local n=$1 port=$2 i
  shift 2
  ns "$n" "$@" &
  SRV=$!
  TOPO_PIDS+=("$SRV")
  for i in $(seq 50); do
    ns "$n" ss -ltn 2>/dev/null | grep -q ":$port " && break
    sleep 0.1
  done
}

# iperf_pair NAME SRC_NS DST_NS DST_ADDR[>CONNECT_ADDR] ARGS...: server on DST_ADDR
# in DST_NS (-1, under timeout), client in SRC_NS to DST_ADDR (or
# CONNECT_ADDR: a NAT's address; -t DUR, under timeout); JSON into
# $R/NAME.{srv,cli}.json.
iperf_pair() {
  local name=$1 s=$2 d=$3 a=${4%>*} to=${4#*>} srv
  shift 4
  server_bg "$d" 5201 timeout $((DUR + 30)) iperf3 -s -1 -B "$a" -p 5201 -J >"$R/$name.srv.json" 2>&1
  srv=$SRV
  ns "$s" timeout $((DUR + 25)) iperf3 -c "$to" -p 5201 -t "$DUR" --connect-timeout 10000 -J "$@" \
    >"$R/$name.cli.json" 2>&1 || true
  wait "$srv" 2>/dev/null || true
}

# conn_pair NAME SRC_NS DST_NS DST_ADDR[>CONNECT_ADDR]: new TCP connections per
# second (e2e_conn_rate, port 5300, at most CONNS in DUR s); JSON into
# $R/NAME.json, "accepted N" of the server into $R/NAME.srv.
conn_pair() {
  local name=$1 s=$2 d=$3 a=${4%>*} to=${4#*>} srv
  server_bg "$d" 5300 timeout $((DUR + 10)) "$CONN_RATE" server --bind "$a" --port 5300 --seconds $((DUR + 3)) \
    >"$R/$name.srv" 2>&1
  srv=$SRV
  ns "$s" timeout $((DUR + 5)) "$CONN_RATE" client --to "$to" --port 5300 --count "$CONNS" --seconds "$DUR" --first-port 20000 \
    >"$R/$name.json" 2>&1 || true
  kill -TERM "$srv" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
}

# jget FILE EXPR: a value from a JSON file, j (e: its "end", as iperf3 writes it);
# "nan" when missing (a failed test)
jget() {
  "$PY" - "$1" "$2" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print(eval(sys.argv[2], {}, {"j": j, "e": j.get("end")}))
except Exception:
    print("nan")
EOF
}

# udp_rcvbuf_errors NS: datagrams the namespace's UDP sockets dropped for a full
# receive buffer (/proc/net/snmp Udp: RcvbufErrors), i.e. lost in the receiver
udp_rcvbuf_errors() {
  ns "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# hnv_ports: the two daemons' port counters (JSON of both, one line)
hnv_ports() { echo "[$(hnv h1 --json counters), $(hnv gw --json counters)]" | tr -d '\n'; }
# hnv_path DIR PPS BEFORE AFTER JSONBASE: where the UDP test's packets went
# (port counter deltas of both daemons, whole test incl. iperf3's control
# connection), also into hnv_udp_path.txt
hnv_path() {
  "$PY" - "$@" <<'EOF' | tee -a "$R/hnv_udp_path.txt" || true
import json, sys
d, pps, a, b, base = sys.argv[1:6]
def ports(x):
    h1, gw = json.loads(x)
    return {(n, p["name"]): p for n, j in (("h1", h1), ("gw", gw)) for p in j["ports"]}
a, b = ports(a), ports(b)
def delta(h, port, k): return b[(h, port)][k] - a[(h, port)][k]
try:
    sent = json.load(open(base + ".cli.json"))["end"]["sum_sent"]["packets"]
    r = json.load(open(base + ".srv.json"))["end"]["sum_received"]
    got = r["packets"] - r["lost_packets"]
except Exception:
    sent = got = "?"
if d == "c1-p":
    hops = [("Host 1 took from Contoso1 (vm1 rx)", "h1", "vm1", "rx_packets"), ("Host 1 uplink tx", "h1", "uplink", "tx_packets"),
            ("gateway uplink rx", "gw", "uplink", "rx_packets"), ("gateway external tx", "gw", "external", "tx_packets")]
else:
    hops = [("gateway took from the physical host (external rx)", "gw", "external", "rx_packets"), ("gateway uplink tx", "gw", "uplink", "tx_packets"),
            ("Host 1 uplink rx", "h1", "uplink", "rx_packets"), ("Host 1 to Contoso1 (vm1 tx)", "h1", "vm1", "tx_packets")]
print(f"  hnv UDP path {d} at {int(pps) // 1000} kpps offered (packets): iperf3 sent {sent} -> "
      + " -> ".join(f"{l} {delta(h, p, k)}" for l, h, p, k in hops) + f" -> iperf3 received {got}")
EOF
}

# comp_snap: "to_external to_vm namespace-kernel-packets" of the compartment
comp_snap() {
  echo "$(comp_json gw contoso "c['counters']['to_external']['packets'], c['counters']['to_vm']['packets']" | tr -d '(),') $(tap_packets contoso)"
}

measure() {  # VARIANT
  local v=$1 c=${VM[$1]} p=${PH[$1]} tag="r$RUN-$1" rtt rmin ravg rmax c1a=10.0.1.101
  [[ $v == *-nat* ]] && c1a='10.0.1.101>10.1.3.2'   # the physical host reaches Contoso1 by the port forwards
  if ! wait_ping "$c" 10.1.3.100 15; then fail "$v: Contoso1 cannot reach the physical host"; return; fi
  [[ $v == *-nat* ]] || wait_ping "$p" 10.0.1.101 5 || fail "$v: the physical host cannot reach Contoso1"
  echo "$v: VM eth0: $(offloads "$c" eth0)" >>"$R/offloads.txt"
  echo "$v: physical host eth0: $(offloads "$p" eth0)" >>"$R/offloads.txt"
  rtt=$(ns "$c" ping -c 50 -i 0.02 -w 10 -q 10.1.3.100 2>/dev/null | awk -F'[/ =]+' '/^rtt/ {print $6, $7, $8}')
  if [ -n "$rtt" ]; then
    read -r rmin ravg rmax <<<"$rtt"
    res "$v" rtt_min_ms "$rmin"; res "$v" rtt_avg_ms "$ravg"; res "$v" rtt_max_ms "$rmax"
  else fail "$v: ping RTT"; fi
  # new connections both ways
  local dir
  for dir in c1-p p-c1; do
    if [ $dir = c1-p ]; then conn_pair "$tag-conn-$dir" "$c" "$p" 10.1.3.100
    else conn_pair "$tag-conn-$dir" "$p" "$c" "$c1a"; fi
    res "$v" "conn_${dir//-/_}_per_s" "$(jget "$R/$tag-conn-$dir.json" 'j["rate"]')"
    res "$v" "conn_${dir//-/_}_failed" "$(jget "$R/$tag-conn-$dir.json" 'j["failed"] + j["timed_out"]')"
  done
  # TCP both ways
  iperf_pair "$tag-tcp-p-c1" "$p" "$c" "$c1a"
  res "$v" tcp_p_c1_gbps "$(jget "$R/$tag-tcp-p-c1.cli.json" 'round(e["sum_received"]["bits_per_second"]/1e9, 3)')"
  res "$v" tcp_p_c1_retr "$(jget "$R/$tag-tcp-p-c1.cli.json" 'e["sum_sent"]["retransmits"]')"
  iperf_pair "$tag-tcp-c1-p" "$c" "$p" 10.1.3.100
  res "$v" tcp_c1_p_gbps "$(jget "$R/$tag-tcp-c1-p.cli.json" 'round(e["sum_received"]["bits_per_second"]/1e9, 3)')"
  res "$v" tcp_c1_p_retr "$(jget "$R/$tag-tcp-c1-p.cli.json" 'e["sum_sent"]["retransmits"]')"
  # small packets at bounded rates, both ways (the same socket buffers everywhere)
  local s d a m rb0 pps
  for pps in $UDP_PPS; do
    for dir in c1-p p-c1; do
      if [ $dir = c1-p ]; then s=$c d=$p a=10.1.3.100; else s=$p d=$c a=$c1a; fi
      m=udp64_${dir//-/_}_$((pps / 1000))k
      rb0=$(udp_rcvbuf_errors "$d")
      [[ $v == hnv* ]] && pc0=$(hnv_ports)
      iperf_pair "$tag-udp64-$dir-$((pps / 1000))k" "$s" "$d" "$a" -u -l 64 -b $((pps * 64 * 8)) -w "$UDP_WIN"
      [[ $v == hnv* ]] && hnv_path "$dir" "$pps" "$pc0" "$(hnv_ports)" "$R/$tag-udp64-$dir-$((pps / 1000))k"
      res "$v" "${m}_rcvbuf_err" $(( $(udp_rcvbuf_errors "$d") - rb0 ))
      res "$v" "${m}_rx_kpps" "$(jget "$R/$tag-udp64-$dir-$((pps / 1000))k.srv.json" 'round((e["sum_received"]["packets"]-e["sum_received"]["lost_packets"])/e["sum_received"]["seconds"]/1e3, 1)')"
      res "$v" "${m}_tx_kpps" "$(jget "$R/$tag-udp64-$dir-$((pps / 1000))k.cli.json" 'round(e["sum_sent"]["packets"]/e["sum_sent"]["seconds"]/1e3, 1)')"
      res "$v" "${m}_loss_pct" "$(jget "$R/$tag-udp64-$dir-$((pps / 1000))k.srv.json" 'round(e["sum_received"]["lost_percent"], 2)')"
    done
  done
  grep -P "^$RUN\t$v\t" "$R/results.tsv" | cut -f3,4 | tr '\t\n' '= ' | sed "s/^/  $v: /"; echo
}

stop_daemons() {
  local h i
  for h in h1 gw; do kill -TERM "${HOST_PID[$h]}" 2>/dev/null || true; done
  for h in h1 gw; do
    for i in $(seq 150); do kill -0 "${HOST_PID[$h]}" 2>/dev/null || break; sleep 0.1; done
    wait "${HOST_PID[$h]}" 2>/dev/null || true
  done
}

for RUN in $(seq "$RUNS"); do
  busy=$(e2e_cpu_busy 2)
  step "run $RUN/$RUNS (load average $(cut -d' ' -f1-3 /proc/loadavg); CPU in use before the run: $busy % of one CPU)"
  echo "run $RUN: load average $(cut -d' ' -f1-3 /proc/loadavg); CPU in use over 2 s before the run (nothing of ours running): $busy % of one CPU" >>"$R/machine.txt"
  e2e_top 5 | sed "s/^/run $RUN top (pid %cpu command): /" >>"$R/machine.txt"
  for v in $VARIANTS; do
    nat_on "$v"
    case $v in
      hnv|hnv-nat)
        gwconf=$CONF/gateway/gateway.yaml
        [ "$v" = hnv-nat ] && gwconf=$NATCONF/gateway.yaml
        topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
        topo_gateway gw "$gwconf" 1,0 --no-wait
        topo_wait_host h1; topo_wait_host gw
        snap0=$(comp_snap)
        measure "$v"
        snap1=$(comp_snap)
        read -r e0 m0 k0 <<<"$snap0"; read -r e1 m1 k1 <<<"$snap1"
        echo "  compartment contoso during the $v tests: fast path to_external $((e1 - e0)) packets, to_vm $((m1 - m0)) packets; the namespace's kernel interfaces (TAPs) $((k1 - k0)) packets"
        res "$v" fastpath_to_external_pkts $((e1 - e0)); res "$v" fastpath_to_vm_pkts $((m1 - m0)); res "$v" namespace_kernel_pkts $((k1 - k0))
        if [ "$v" = hnv-nat ]; then
          hnv gw --json nat contoso --limit 1 >"$R/r$RUN-nat.json" 2>&1 || true
          "$PY" - "$R/r$RUN-nat.json" <<'EOF' || true
import json, sys
n = json.load(open(sys.argv[1]))
print(f"  hnv NAT: sessions created {n['counters']['sessions_created']}, live {n['sessions_live']}; "
      f"drops {json.dumps(n['dropped'])}")
EOF
          res "$v" nat_sessions_created "$(jget "$R/r$RUN-nat.json" 'j["counters"]["sessions_created"]')"
        fi
        hnv gw --json compartment contoso >"$R/r$RUN-compartment.json" 2>&1 || true
        hnv gw counters >"$R/r$RUN-gw.counters.txt" 2>&1 || true
        hnv h1 counters >"$R/r$RUN-h1.counters.txt" 2>&1 || true
        echo "  drops: h1: $(drops h1 2>/dev/null | tr '\n' ' ') gw: $(drops gw 2>/dev/null | tr '\n' ' ')"
        echo "  h1 mss_clamped: $(counter h1 mss_clamped 2>/dev/null || echo ?)"
        if [ "$RUN" = 1 ]; then
          { echo "hnv: host h1 vm1 (af_packet): $(offloads h1 vm1)"
            echo "hnv: host h1 uplink (af_packet): $(offloads h1 uplink)"
            echo "hnv: gateway uplink (af_packet): $(offloads gw uplink)"
            echo "hnv: gateway external (af_packet): $(offloads gw external)"
            for i in $(ip -n "${P}contoso" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
              echo "hnv: compartment namespace $i (TAP): $(offloads contoso "$i")"
            done; } >>"$R/offloads.txt"
        fi
        stop_daemons ;;
      kernel|kernel-nat)
        for n in kc1 kphys; do ns "$n" ethtool -K eth0 tx on sg on tso on gso on >/dev/null 2>&1 || true; done
        measure "$v" ;;
      kernel-txoff|kernel-nat-txoff)
        for n in kc1 kphys; do ns "$n" ethtool -K eth0 tx off >/dev/null; done
        measure "$v" ;;
    esac
    nat_off "$v"
    others=$(e2e_top 6 | awk '$2 > 10' | grep -v " top$" | tr '\n' ';' || true)
    echo "run $RUN after $v: others above 10 % CPU: ${others:-none}" >>"$R/machine.txt"
    [ -n "$others" ] && echo "  note: other processes busy after $v: $others"
  done
done
{
  echo "kernel: host kh1 uplink: $(offloads kh1 uplink)"
  echo "kernel: host kh1 vxlan0: $(offloads kh1 vxlan0)"
  echo "kernel: host kh1 vm1: $(offloads kh1 vm1)"
  echo "kernel: gateway kgw vxlan0: $(offloads kgw vxlan0)"
  echo "kernel: gateway kgw ext0: $(offloads kgw ext0)"
  echo "kernel: gateway kgw uplink: $(offloads kgw uplink)"
} >>"$R/offloads.txt"

step "offloads and MTUs (ethtool -k; the VM/physical host rows per variant)"
sort -u "$R/offloads.txt"
if [ -f "$R/r$RUNS-compartment.json" ]; then
  step "gateway compartment after the last run's hnv tests (hnvctl --json compartment contoso; counters)"
  "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
c = r["compartments"][0] if "compartments" in r else r
print(json.dumps(c.get("counters", c), indent=1))' "$R/r$RUNS-compartment.json" || cat "$R/r$RUNS-compartment.json"
fi
step "machine"
cat "$R/machine.txt"
step "results ($RUNS run(s), $DUR s per iperf3 test, UDP offered $UDP_PPS pkt/s; command: $0 ${ARGS[*]})"
"$PY" - "$R/results.tsv" <<'EOF'
import collections, math, statistics, sys
LOWER = ("rtt_", "_retr", "_loss", "_failed")
import re
DIRS = {"c1_p": "Contoso1→physical", "p_c1": "physical→Contoso1"}
ROWS = [("tcp_p_c1_gbps", "TCP physical host→Contoso1 (Gbit/s)"),
        ("tcp_c1_p_gbps", "TCP Contoso1→physical host (Gbit/s)"),
        ("conn_c1_p_per_s", "new TCP connections/s Contoso1→physical host"),
        ("conn_c1_p_failed", "  failed or timed out (conns)"),
        ("conn_p_c1_per_s", "new TCP connections/s physical host→Contoso1"),
        ("conn_p_c1_failed", "  failed or timed out (conns)")]
udp = sorted({(int(m.group(2)), m.group(1)) for l in open(sys.argv[1])
              for m in [re.match(r"udp64_(c1_p|p_c1)_(\d+)k_", l.split("\t")[2] if l.count("\t") == 3 else "")] if m})
for k, d in udp:
    b = f"udp64_{d}_{k}k"
    ROWS += [(f"{b}_rx_kpps", f"UDP 64 B {DIRS[d]} at {k} kpps offered: received (kpps)"),
             (f"{b}_loss_pct", f"  loss (%)"),
             (f"{b}_rcvbuf_err", f"  of which lost in the receiver's socket (pkts)"),
             (f"{b}_tx_kpps", f"  sent (kpps)")]
ROWS += [
    ("rtt_min_ms", "ping RTT min (ms)"),
    ("rtt_avg_ms", "ping RTT avg (ms)"),
    ("rtt_max_ms", "ping RTT max (ms)"),
    ("tcp_p_c1_retr", "TCP phys→C1 retransmits"),
    ("tcp_c1_p_retr", "TCP C1→phys retransmits"),
    ("fastpath_to_external_pkts", "hnv: compartment fast path to_external (pkts)"),
    ("fastpath_to_vm_pkts", "hnv: compartment fast path to_vm (pkts)"),
    ("namespace_kernel_pkts", "hnv: compartment namespace kernel (pkts)"),
    ("nat_sessions_created", "hnv-nat: NAT sessions created"),
    ("nat_masquerade_conns", "kernel-nat: connections masqueraded"),
]
NORATIO = ("_retr", "_loss", "_tx_", "_pkts", "_err", "_failed", "nat_")
INTEGER = ("_retr", "_pkts", "_err", "_failed", "nat_", "_per_s")
data, variants, runs = collections.defaultdict(list), [], set()
for line in open(sys.argv[1]):
    p = line.rstrip("\n").split("\t")
    if len(p) != 4:
        continue
    runs.add(p[0])
    if p[1] not in variants:
        variants.append(p[1])
    try:
        v = float(p[3])
    except ValueError:
        continue
    if not math.isnan(v):
        data[(p[1], p[2])].append(v)
def fmt(v, m=""):
    if v is None: return "n/a"
    if any(s in m for s in INTEGER): return f"{v:,.0f}"
    if abs(v) >= 100: return f"{v:,.0f}"
    if abs(v) >= 10: return f"{v:.1f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"
def best(k, m):
    x = data.get((k, m))
    return None if not x else (min(x) if any(s in m for s in LOWER) else max(x))
def med(k, m):
    x = data.get((k, m))
    return statistics.median(x) if x else None
# ratios: hnv against the plain kernel variants, hnv-nat against the NAT ones
pairs = [(h, k) for h, ks in (("hnv", ("kernel", "kernel-txoff")), ("hnv-nat", ("kernel-nat", "kernel-nat-txoff")))
         if h in variants for k in ks if k in variants]
head = ["metric"] + variants + [f"{h}/{k}" for h, k in pairs]
out = []
for m, label in ROWS:
    if not any((v, m) in data for v in variants):
        continue
    row = [label]
    for v in variants:
        x = data.get((v, m), [])
        row.append("" if not x else fmt(x[0], m) if len(x) == 1 else f"{fmt(best(v, m), m)} (med {fmt(med(v, m), m)}, {fmt(min(x), m)}..{fmt(max(x), m)})")
    for h, k in pairs:
        b, kb, mh, mk = best(h, m), best(k, m), med(h, m), med(k, m)
        if b is None or not kb or any(s in m for s in NORATIO):
            row.append("")
        else:
            row.append(f"{b / kb:.2f}" if len(runs) == 1 else f"{b / kb:.2f} (med {mh / mk:.2f})")
    out.append(row)
w = [max(len(r[i]) for r in [head] + out) for i in range(len(head))]
line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"
print(line(head)); print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in out: print(line(r))
print(f"\n{len(runs)} run(s); a cell is best (median, min..max); ratios hnv/kernel (hnv-nat/kernel-nat) of the best (and of the medians); for RTT a ratio above 1 means hnv is slower")
EOF
[ -n "$OUT" ] && { cp "$W"/h1.log "$W"/gw.log "$OUT"/ 2>/dev/null || true; echo "raw results in $OUT"; }
topo_done
