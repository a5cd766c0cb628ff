#!/usr/bin/env bash
# End-to-end throughput between VMs on two hosts: hnv-vswitch (NVGRE, DPDK on
# veths) against the Linux kernel doing the same overlay job, in one run.
#
#   (hnv)      the chapter's lab exactly as scripts/lab.sh builds it
#              (tests/topology/lib.sh): VMs Contoso1/2 on Host 1, Contoso3 on
#              Host 2, each host a namespace running hnv-vswitch with
#              config/examples/chapter/host{1,2}.yaml, a bridge in a provider
#              namespace between the hosts' uplinks.
#   (hnv-vnet) the same with the VM ports as VnetPorts (hnv_vnet: AF_PACKET
#              with the virtio-net header, dataplane/runtime/vnet_port.h) and
#              the VMs' offloads on as in the kernel variant: 64 KB TSO
#              segments split after encapsulation, GRO before the VM.
#   (hnv-xdp)  hnv-vnet with the hosts' uplinks on net_af_xdp instead of
#              net_af_packet (an XDP program on the veth hands the frames to
#              an AF_XDP socket; copy mode: veths have no zero-copy).
#   (kernel)   the same shape with the kernel as the host switch: VM ↔ veth ↔
#              host namespace with a bridge + a VXLAN device (VNI 6000; this
#              kernel has no GRE, VXLAN is the closest kernel overlay), the
#              host's uplink on the same kind of provider bridge, the same
#              PAs (192.168.0.22 / .33), CAs and MACs. Static FDB entries play
#              the lookup records (no learning); the all-zero FDB entry
#              carries broadcast (ARP) to the other host.
#   (veth)     reference only: Contoso1 and Contoso3 on one veth pair, no
#              overlay, no host (what the load generator itself can do).
#
# Kernel variants, for fairness about offloads:
#   kernel       the kernel's defaults: TX checksum/TSO/GSO on in the VMs, so
#                64 KB TSO segments cross veth, bridge and VXLAN unsegmented.
#   kernel-txoff the VMs as on the hnv path: `ethtool -K eth0 tx off` (which
#                also turns TSO off), so the VMs send MTU-sized frames.
# On the hnv path (net_af_packet VM ports) the VMs must have tx off (NVGRE
# hides the checksum offload, RECIPES §6): that is what topo_vm does; on the
# hnv-vnet path they keep the veth's defaults.
# MTU: the underlay is 1500 everywhere. hnv clamps the inner TCP MSS
# (mtu_policy icmp-and-clamp, VM MTU 1500); the kernel VMs get MTU 1450
# (VXLAN's 50 bytes), as a kernel VXLAN deployment would.
#
# Per variant: ping RTT (Contoso1 → Contoso3, 50 × 20 ms), iperf3 TCP 1
# stream Contoso1 → Contoso3 and Contoso3 → Contoso1 (-t DURATION, -J), iperf3
# UDP 64-byte payload unlimited (-u -l 64 -b 0) Contoso1 → Contoso3: the pps
# the receiver got. The iperf3 server runs in the destination VM with -1
# under timeout. hnv daemons run only while the hnv variant is measured (they
# busy-poll both CPUs); the variants take turns within each run.
#
#   tests/bench/e2e_vswitch.sh [--runs N] [--duration S] [--out DIR]
#                              [--variants "hnv hnv-vnet hnv-xdp kernel kernel-txoff veth"]
#                              [--bin hnv-vswitch] [--hnvctl hnvctl]
#
# --out DIR keeps results.tsv (run, variant, metric, value), every iperf3
# JSON, the daemons' logs and counters and the offload listing; without it
# they go with the work directory. Needs root; builds nothing (build first:
# ninja -C build hnv-vswitch hnvctl). Everything it creates is removed on
# exit (lib.sh's trap: its own PIDs, its namespaces, its work directory).
set -euo pipefail
SELF=$(realpath "$0")
HERE=$(dirname "$SELF")
ROOT=$(cd "$HERE/../.." && pwd)

RUNS=1 DUR=10 OUT="" VARIANTS="hnv hnv-vnet kernel kernel-txoff veth" LIBARGS=()
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --out) OUT=$2; shift ;;
    --variants) VARIANTS=$2; shift ;;
    --bin|--hnvctl) LIBARGS+=("$1" "$(realpath "$2")"); shift ;;
    -h|--help) sed -n '2,54p' "$SELF"; exit 0 ;;
    *) echo "usage: $0 [--runs N] [--duration S] [--out DIR] [--variants LIST] [--bin P] [--hnvctl P]" >&2; exit 2 ;;
  esac
  shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $DUR =~ ^[1-9][0-9]*$ ]] || { echo "--runs and --duration are positive integers" >&2; exit 2; }

. "$ROOT/tests/topology/lib.sh"
. "$HERE/e2e_machine.sh"
# The whole run is bounded: per variant about 3 × DURATION + 15 s, plus setup.
NV=$(wc -w <<<"$VARIANTS")
topo_limit $(( 90 + RUNS * NV * (3 * DUR + 25) )) "$SELF" "${ARGS[@]}"
TOPO_NAME=e2e_vswitch
TOPO_DAEMON_LIMIT=$(( 60 + RUNS * (3 * DUR + 40) ))
topo_init e2e "${LIBARGS[@]}"

# Our own copies of the binaries: others may rebuild build/ while we run.
ORIG_BIN=$(realpath "$BIN")
mkdir -p "$W/bin"
cp "$BIN" "$W/bin/hnv-vswitch"; cp "$HNVCTL" "$W/bin/hnvctl"
BIN=$W/bin/hnv-vswitch HNVCTL=$W/bin/hnvctl
[ -n "$OUT" ] && { mkdir -p "$OUT"; OUT=$(realpath "$OUT"); }
R=${OUT:-$W}
: >"$R/results.tsv"
PY=/usr/bin/python3
CONF=$ROOT/config/examples/chapter
VCONF=$W/conf-vnet   # the same with VnetPorts for the VMs
mkdir -p "$VCONF"; cp "$CONF"/*.yaml "$VCONF/"; topo_vnet_ports "$VCONF/host1.yaml" "$VCONF/host2.yaml"
XCONF=$W/conf-xdp    # and the uplinks on net_af_xdp
mkdir -p "$XCONF"; cp "$VCONF"/*.yaml "$XCONF/"
sed -i 's/net_af_packet0,iface=uplink/net_af_xdp0,iface=uplink/' "$XCONF/host1.yaml" "$XCONF/host2.yaml"

# ---------------------------------------------------------------- topologies
step "topology: hnv (scripts/lab.sh's), kernel VXLAN, reference veth"
# hnv: exactly scripts/lab.sh's (Contoso2 idle: host1.yaml has its port).
topo_chapter_hosts_net

# kernel: VM (kc1, kc3) - veth - host (kh1, kh2: br0 = vm1 + vxlan0) - uplink - provider bridge (kpn)
topo_infra kh1 kh2 kpn
topo_ns kc1 kc3
topo_link kc1 eth0 kh1 vm1; topo_link kc3 eth0 kh2 vm1
topo_provider kpn kh1 kh2
kvm() {  # NS ADDR MAC
  ip -n "$P$1" link set eth0 down
  ip -n "$P$1" link set eth0 address "$3" mtu 1450
  ip -n "$P$1" link set eth0 up
  ip -n "$P$1" addr add "$2" dev eth0
}
khost() {  # NS PA REMOTE_PA REMOTE_VM_MAC
  local n=$P$1
  ip -n "$n" addr add "$2/24" dev uplink
  ip -n "$n" link add vxlan0 type vxlan id 6000 local "$2" dev uplink dstport 4789 nolearning
  ip -n "$n" link add br0 type bridge
  ip -n "$n" link set vm1 master br0
  ip -n "$n" link set vxlan0 master br0
  ip -n "$n" link set vxlan0 up
  ip -n "$n" link set br0 up
  # the lookup record of the remote VM, and where broadcast (ARP) goes
  ip netns exec "$n" bridge fdb add "$4" dev vxlan0 dst "$3" static
  ip netns exec "$n" bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst "$3"
}
kvm kc1 10.0.1.101/24 60:00:60:00:01:01
kvm kc3 10.0.1.103/24 60:00:60:00:02:03
khost kh1 192.168.0.22 192.168.0.33 60:00:60:00:02:03
khost kh2 192.168.0.33 192.168.0.22 60:00:60:00:01:01

# reference: Contoso1 and Contoso3 on one veth pair
topo_ns vc1 vc3
topo_link vc1 eth0 vc3 eth0
ip -n "${P}vc1" addr add 10.0.1.101/24 dev eth0
ip -n "${P}vc3" addr add 10.0.1.103/24 dev eth0

# VM namespaces of each variant (source = Contoso1, destination = Contoso3)
declare -A SRC=([hnv]=c1 [hnv-vnet]=c1 [hnv-xdp]=c1 [kernel]=kc1 [kernel-txoff]=kc1 [veth]=vc1)
declare -A DST=([hnv]=c3 [hnv-vnet]=c3 [hnv-xdp]=c3 [kernel]=kc3 [kernel-txoff]=kc3 [veth]=vc3)
for v in $VARIANTS; do [ -n "${SRC[$v]:-}" ] || die "unknown variant $v (hnv hnv-vnet hnv-xdp kernel kernel-txoff veth)"; done

# ---------------------------------------------------------------- measuring
res() { printf '%s\t%s\t%s\t%s\n' "$RUN" "$1" "$2" "$3" >>"$R/results.tsv"; }

# iperf_pair NAME SRC_NS DST_NS DST_ADDR ARGS...: server in DST_NS (-1, under
# timeout), client in SRC_NS; both JSON into $R/NAME.{srv,cli}.json.
iperf_pair() {
  local name=$1 s=$2 d=$3 a=$4 i srv
  shift 4
  ns "$d" timeout $((DUR + 30)) iperf3 -s -1 -B "$a" -p 5201 -J >"$R/$name.srv.json" 2>&1 &
  srv=$!
  TOPO_PIDS+=("$srv")
  for i in $(seq 50); do
    ns "$d" ss -ltn 2>/dev/null | grep -q ":5201 " && break
    sleep 0.1
  done
  ns "$s" timeout $((DUR + 25)) iperf3 -c "$a" -p 5201 -t "$DUR" --connect-timeout 10000 -J "$@" \
    >"$R/$name.cli.json" 2>&1 || true
  wait "$srv" 2>/dev/null || true
}

# jget FILE EXPR: a value from an iperf3 JSON ("nan" when missing: a failed test)
jget() {
  "$PY" - "$1" "$2" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print(eval(sys.argv[2], {}, {"j": j, "e": j["end"]}))
except Exception:
    print("nan")
EOF
}

# hnv_ports: "h1 vm1 rx, h1 uplink tx, h2 uplink rx, h2 vm1 tx" packet counters
hnv_ports() {
  local a b
  a=$(hnv h1 --json counters) b=$(hnv h2 --json counters)
  "$PY" -c '
import json, sys
h1, h2 = (dict((p["name"], p) for p in json.loads(x)["ports"]) for x in sys.argv[1:3])
print(h1["vm1"]["rx_packets"], h1["uplink"]["tx_packets"], h2["uplink"]["rx_packets"], h2["vm1"]["tx_packets"])' "$a" "$b"
}

# stop_hosts NAME...: TERM to every daemon at once, then wait (at most 15 s).
stop_hosts() {
  local h i
  for h in "$@"; do kill -TERM "${HOST_PID[$h]}" 2>/dev/null || true; done
  for h in "$@"; do
    for i in $(seq 150); do kill -0 "${HOST_PID[$h]}" 2>/dev/null || break; sleep 0.1; done
    wait "${HOST_PID[$h]}" 2>/dev/null || true
  done
}

measure() {  # VARIANT
  local v=$1 s=${SRC[$1]} d=${DST[$1]} tag rtt
  tag="r$RUN-$v"
  if ! wait_ping "$s" 10.0.1.103 10; then fail "$v: Contoso1 cannot reach Contoso3"; return; fi
  wait_ping "$d" 10.0.1.101 5 || fail "$v: Contoso3 cannot reach Contoso1"
  echo "$v offloads: Contoso1 eth0: $(topo_offload_state "$s" eth0)" >>"$R/offloads.txt"
  # ping RTT
  rtt=$(ns "$s" ping -c 50 -i 0.02 -w 10 -q 10.0.1.103 2>/dev/null | awk -F'[/ =]+' '/^rtt/ {print $6, $7, $8}')
  if [ -n "$rtt" ]; then
    read -r rmin ravg rmax <<<"$rtt"
    res "$v" rtt_min_ms "$rmin"; res "$v" rtt_avg_ms "$ravg"; res "$v" rtt_max_ms "$rmax"
  else fail "$v: ping RTT"; fi
  # TCP both ways
  iperf_pair "$tag-tcp-fwd" "$s" "$d" 10.0.1.103
  res "$v" tcp_c1_c3_gbps "$(jget "$R/$tag-tcp-fwd.cli.json" 'round(e["sum_received"]["bits_per_second"]/1e9, 3)')"
  res "$v" tcp_c1_c3_retr "$(jget "$R/$tag-tcp-fwd.cli.json" 'e["sum_sent"]["retransmits"]')"
  iperf_pair "$tag-tcp-rev" "$d" "$s" 10.0.1.101
  res "$v" tcp_c3_c1_gbps "$(jget "$R/$tag-tcp-rev.cli.json" 'round(e["sum_received"]["bits_per_second"]/1e9, 3)')"
  res "$v" tcp_c3_c1_retr "$(jget "$R/$tag-tcp-rev.cli.json" 'e["sum_sent"]["retransmits"]')"
  # small packets: UDP 64-byte payload, unlimited offered rate
  local c0=""
  if [[ $v == hnv* ]]; then c0=$(hnv_ports); fi
  iperf_pair "$tag-udp64" "$s" "$d" 10.0.1.103 -u -l 64 -b 0
  if [[ $v == hnv* ]]; then
    # where the small packets went: per-port deltas of both daemons over the UDP test
    "$PY" - "$c0" "$(hnv_ports)" "$R/$tag-udp64.cli.json" "$R/$tag-udp64.srv.json" <<'EOF' | tee -a "$R/hnv_udp_path.txt"
import json, sys
a, b = (dict(zip(("h1_vm1_rx", "h1_uplink_tx", "h2_uplink_rx", "h2_vm1_tx"), map(int, x.split()))) for x in sys.argv[1:3])
d = {k: b[k] - a[k] for k in a}
try:
    sent = json.load(open(sys.argv[3]))["end"]["sum_sent"]["packets"]
    r = json.load(open(sys.argv[4]))["end"]["sum_received"]
    got = r["packets"] - r["lost_packets"]
except Exception:
    sent = got = "?"
print("  hnv UDP path (packets, whole test incl. control): iperf3 sent %s -> Host 1 took from Contoso1 %d -> "
      "Host 1 uplink tx %d -> Host 2 uplink rx %d -> Host 2 to Contoso3 %d -> iperf3 received %s"
      % (sent, d["h1_vm1_rx"], d["h1_uplink_tx"], d["h2_uplink_rx"], d["h2_vm1_tx"], got))
EOF
  fi
  res "$v" udp64_rx_kpps "$(jget "$R/$tag-udp64.srv.json" 'round((e["sum_received"]["packets"]-e["sum_received"]["lost_packets"])/e["sum_received"]["seconds"]/1e3, 1)')"
  res "$v" udp64_tx_kpps "$(jget "$R/$tag-udp64.cli.json" 'round(e["sum_sent"]["packets"]/e["sum_sent"]["seconds"]/1e3, 1)')"
  res "$v" udp64_loss_pct "$(jget "$R/$tag-udp64.srv.json" 'round(e["sum_received"]["lost_percent"], 1)')"
  grep -P "^$RUN\t$v\t" "$R/results.tsv" | cut -f3,4 | tr '\t\n' '= ' | sed "s/^/  $v: /"; echo
}

{
  echo "date: $(date -Is)  kernel: $(uname -r)  cpus: $(nproc)  iperf3: $(iperf3 --version | head -1)"
  echo "hnv-vswitch: $ORIG_BIN ($(stat -c %y "$ORIG_BIN"), git $(git -C "$ROOT" rev-parse --short HEAD))"
} >"$R/machine.txt"

for RUN in $(seq "$RUNS"); do
  busy=$(e2e_cpu_busy 2)
  step "run $RUN/$RUNS (load average $(cut -d' ' -f1-3 /proc/loadavg); CPU in use before the run: $busy % of one CPU)"
  echo "run $RUN: load average $(cut -d' ' -f1-3 /proc/loadavg); CPU in use over 2 s before the run (nothing of ours running): $busy % of one CPU" >>"$R/machine.txt"
  e2e_top 5 | sed "s/^/run $RUN top (pid %cpu command): /" >>"$R/machine.txt"
  for v in $VARIANTS; do
    case $v in
      hnv|hnv-vnet|hnv-xdp)
        conf=$CONF
        if [ "$v" != hnv ]; then
          conf=$VCONF
          [ "$v" = hnv-xdp ] && conf=$XCONF
          for n in c1 c2 c3; do topo_offloads "$n" on; done
        else
          for n in c1 c2 c3; do ns "$n" ethtool -K eth0 tx off >/dev/null; done
        fi
        topo_host h1 "$conf/host1.yaml" 0,1 --no-wait
        topo_host h2 "$conf/host2.yaml" 1,0 --no-wait
        topo_wait_host h1; topo_wait_host h2
        measure "$v"
        for h in h1 h2; do
          hnv "$h" counters >"$R/r$RUN-$v-$h.counters.txt" 2>&1 || true
          echo "  $h drops: $(drops "$h" 2>/dev/null | tr '\n' ' ')"
        done
        [ "$v" != hnv ] && echo "  h1 segmented $(counter h1 segmented), coalesced $(counter h1 coalesced); h2 segmented $(counter h2 segmented), coalesced $(counter h2 coalesced)"
        stop_hosts h1 h2 ;;
      kernel)
        # the veth's defaults (a previous run's kernel-txoff turned them off)
        for n in kc1 kc3; do ns "$n" ethtool -K eth0 tx on sg on tso on gso on >/dev/null 2>&1 || true; done
        measure kernel ;;
      kernel-txoff)
        for n in kc1 kc3; do ns "$n" ethtool -K eth0 tx off >/dev/null; done
        measure kernel-txoff ;;
      veth) measure veth ;;
    esac
    # nothing of ours runs now: anything busy belongs to someone else
    others=$(e2e_top 6 | awk '$2 > 10' | grep -v " top$" | tr '\n' ';' || true)
    echo "run $RUN after $v: others above 10 % CPU: ${others:-none}" >>"$R/machine.txt"
    [ -n "$others" ] && echo "  note: other processes busy after $v: $others"
  done
done
if [ "$RUN" -ge 1 ]; then
  {
    echo "host uplink (hnv h1): $(topo_offload_state h1 uplink)"
    echo "host vm1 (hnv h1, af_packet): $(topo_offload_state h1 vm1)"
    echo "host uplink (kernel kh1): $(topo_offload_state kh1 uplink)"
    echo "vxlan0 (kernel kh1): $(topo_offload_state kh1 vxlan0)"
  } >>"$R/offloads.txt"
fi

step "offloads (ethtool -k)"
sort -u "$R/offloads.txt"
step "results ($RUNS run(s), $DUR s each test; best and spread over runs)"
"$PY" "$HERE/e2e_summary.py" "$R/results.tsv"
[ -n "$OUT" ] && { cp "$W"/h1.log "$W"/h2.log "$OUT"/ 2>/dev/null || true; echo "raw results in $OUT"; }
topo_done
