#!/usr/bin/env bash
# The chapter's "Hyper-V Network Virtualization: Simple setup", for real:
# Host 1 (PA 192.168.0.22; Contoso1 10.0.1.101, Contoso2 10.0.1.102) and
# Host 2 (PA 192.168.0.33; Contoso3 10.0.1.103) on VSID 6000, RDID
# {12345678-1000-2000-3000-123456780001}. Every host and VM is a network
# namespace this script creates; the hosts run the HNV dataplane on DPDK
# (net_af_packet on veths), joined by a provider network (a bridge in its own
# namespace). Each host runs hnv-vswitch with the chapter's YAML
# (config/examples/chapter/). Prints the Get-* views (hnvctl, the chapter's
# cmdlets), a ping matrix and the dataplane counters, then removes everything
# it created (also on failure).
# (The gateway host and the Contoso physical host join when hnv-gateway lands.)
#
#   scripts/lab.sh            build, bring up, ping matrix, tear down
#   scripts/lab.sh --keep     leave it running; prints the command to tear down
#   scripts/lab.sh --test     also assert: pings, NVGRE on the wire (tshark),
#                             no ARP and no same-host traffic on the wire,
#                             a 100 MB TCP transfer intact; exit 1 on failure
#   scripts/lab.sh down PFX   tear down a lab left with --keep
set -euo pipefail
cd "$(dirname "$0")/.."

KEEP=0 TEST=0 BUILD=1 BIN=build/vswitch/hnv-vswitch HNVCTL=build/config/hnvctl
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --test) TEST=1 ;;
    --no-build) BUILD=0 ;;
    --bin) BIN=$2; shift ;;
    --hnvctl) HNVCTL=$2; shift ;;
    down) P=$2; for n in c1 c2 c3 h1 h2 pn; do ip netns pids "${P}$n" 2>/dev/null | xargs -r kill 2>/dev/null || true; done
          sleep 1; for n in c1 c2 c3 h1 h2 pn; do ip netns del "${P}$n" 2>/dev/null || true; done
          rm -rf "/tmp/$P"; echo "lab $P removed"; exit 0 ;;
    *) echo "usage: $0 [--keep] [--test] | $0 down PREFIX" >&2; exit 2 ;;
  esac
  shift
done
if [ "$(id -u)" != 0 ]; then echo "lab: needs root (network namespaces)"; exit 77; fi

if [ $BUILD = 1 ]; then
  scripts/install-deps.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build hnv-vswitch hnvctl >/dev/null
fi

P=hl$(( $$ % 10000 ))   # prefix of every namespace and interface we create
W=/tmp/$P; mkdir -p "$W"
PIDS=()
FAIL=0
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for n in c1 c2 c3 h1 h2 pn; do ip netns del "${P}$n" 2>/dev/null || true; done
  rm -rf "$W"
}
if [ $KEEP = 0 ]; then trap cleanup EXIT; fi

ns() { ip netns exec "${P}$1" "${@:2}"; }
link() {  # link NS_A IF_A NS_B IF_B
  ip link add "${P}x" type veth peer name "${P}y"
  ip link set "${P}x" netns "${P}$1"; ip link set "${P}y" netns "${P}$3"
  ns "$1" ip link set "${P}x" name "$2"; ns "$3" ip link set "${P}y" name "$4"
  ns "$1" ip link set "$2" up; ns "$3" ip link set "$4" up
}
vm() {  # vm NS IP MAC
  ns "$1" ip link set eth0 address "$3"
  ns "$1" ip addr add "$2/24" dev eth0
  ns "$1" ip route add default via 10.0.1.1
  # The kernel would leave TCP/UDP checksums to an offload that NVGRE hides.
  ns "$1" ethtool -K eth0 tx off >/dev/null
}

for n in c1 c2 c3 h1 h2 pn; do ip netns add "${P}$n"; ns "$n" ip link set lo up; done
link c1 eth0 h1 vm1; link c2 eth0 h1 vm2; link c3 eth0 h2 vm1
link h1 uplink pn h1; link h2 uplink pn h2
ns pn ip link add br0 type bridge; ns pn ip link set br0 up
ns pn ip link set h1 master br0; ns pn ip link set h2 master br0
vm c1 10.0.1.101 60:00:60:00:01:01
vm c2 10.0.1.102 60:00:60:00:01:02
vm c3 10.0.1.103 60:00:60:00:02:03

mkdir -p /run/dpdk
CONF=config/examples/chapter
start_host() {  # start_host N LCORES: hnv-vswitch with the chapter's YAML for host N
  local h=$1 lc=$2
  ip netns exec "${P}h$h" sh -c 'mount -t tmpfs tmpfs /run/dpdk && exec "$@"' _ \
    "$BIN" --config "$CONF/host$h.yaml" --journal "$W/h$h.journal" --socket "$W/h$h.sock" \
    --max-records 65536 --max-routes 4096 -- \
    -l "$lc" --main-lcore "${lc%%,*}" --no-huge -m 512 --no-shconf --no-pci \
    --file-prefix "${P}h$h" --log-level=error --no-telemetry >"$W/h$h.log" 2>&1 &
  PIDS+=($!)
}
hnvctl() { local h=$1; shift; "$HNVCTL" --socket "$W/h$h.sock" "$@"; }
start_host 1 0,1
start_host 2 1,0
for h in 1 2; do
  for _ in $(seq 100); do grep -q running "$W/h$h.log" 2>/dev/null && break; sleep 0.1; done
  grep -q running "$W/h$h.log" || { echo "host $h did not start:"; cat "$W/h$h.log"; exit 1; }
done
echo "== Host 1, asked through its control socket (hnvctl, the chapter's cmdlets)"
echo "PS> Get-VMNetworkAdapter * | fl VMName,MacAddress,VirtualSubnetId,SwitchName"
hnvctl 1 Get-VMNetworkAdapter '*'; echo
for c in Get-NetVirtualizationCustomerRoute Get-NetVirtualizationLookupRecord \
         Get-NetVirtualizationProviderAddress; do
  echo "PS> $c"; hnvctl 1 "$c"; echo
done

if [ $TEST = 1 ]; then
  ns pn timeout 90 tshark -i br0 -s 160 -w "$W/provider.pcap" -q >/dev/null 2>&1 &
  CAP=$!; PIDS+=($CAP); sleep 2
fi

echo "== ping matrix (3 echo requests each)"
declare -A NAME=([10.0.1.101]=Contoso1 [10.0.1.102]=Contoso2 [10.0.1.103]=Contoso3 [10.0.1.1]=DFGW)
printf '%-10s' from; for d in 10.0.1.101 10.0.1.102 10.0.1.103 10.0.1.1; do printf '%-10s' "${NAME[$d]}"; done; echo
for s in c1 c2 c3; do
  printf '%-10s' "Contoso${s#c}"
  for d in 10.0.1.101 10.0.1.102 10.0.1.103 10.0.1.1; do
    if ns "$s" ip -4 addr show dev eth0 | grep -q "$d/"; then printf '%-10s' "-"; continue; fi
    if ns "$s" ping -c 3 -i 0.2 -W 2 -q "$d" >/dev/null 2>&1; then printf '%-10s' ok; else printf '%-10s' FAIL; FAIL=1; fi
  done; echo
done

if [ $TEST = 1 ]; then
  echo "== 100 MB TCP transfer Contoso3 -> Contoso1"
  head -c 100000000 /dev/urandom > "$W/blob"
  want=$(sha256sum < "$W/blob" | cut -d' ' -f1)
  ns c1 timeout 60 sh -c "nc -l -d -p 5001 | sha256sum > $W/got" &
  RCV=$!; sleep 0.5
  T0=$(date +%s.%N)
  ns c3 timeout 60 nc -N 10.0.1.101 5001 < "$W/blob" || true
  wait $RCV || true
  got=$(cut -d' ' -f1 < "$W/got" 2>/dev/null || true)
  T1=$(date +%s.%N)
  if [ "$got" = "$want" ]; then echo "transfer intact (sha256 $want, $(echo "scale=2; 800/($T1-$T0)" | bc) Mbit/s)"; else echo "transfer FAILED (got '$got')"; FAIL=1; fi
  rm -f "$W/blob"
  kill -INT $CAP 2>/dev/null || true; wait $CAP 2>/dev/null || true
  echo "== provider network (tshark on the bridge)"
  set +e
  nvgre=$(tshark -r "$W/provider.pcap" -Y 'gre.proto == 0x6558 && gre.key >= 0x00177000 && gre.key <= 0x001770ff' -T fields -e ip.src -e ip.dst 2>/dev/null | sort | uniq -c)
  echo "NVGRE frames with VSID 6000 in the key (count, outer/inner source, outer/inner destination):"; echo "$nvgre"
  pairs=$(tshark -r "$W/provider.pcap" -Y 'gre && icmp' -T fields -e ip.src -e ip.dst 2>/dev/null | sort -u)
  echo "$pairs" | grep -q '192.168.0.22,10.0.1.101	192.168.0.33,10.0.1.103' || { echo "FAIL: no NVGRE Contoso1->Contoso3 between the PAs"; FAIL=1; }
  echo "$pairs" | grep -q '192.168.0.33,10.0.1.103	192.168.0.22,10.0.1.101' || { echo "FAIL: no NVGRE Contoso3->Contoso1 between the PAs"; FAIL=1; }
  bad=$(tshark -r "$W/provider.pcap" -Y 'gre && gre.flags.key == 1 && !(gre.flags.checksum == 0 && gre.flags.sequence_number == 0 && gre.proto == 0x6558)' 2>/dev/null | wc -l)
  [ "$bad" = 0 ] || { echo "FAIL: $bad malformed NVGRE frames"; FAIL=1; }
  same=$(tshark -r "$W/provider.pcap" -Y 'ip.addr == 10.0.1.101 && ip.addr == 10.0.1.102' 2>/dev/null | wc -l)
  [ "$same" = 0 ] && echo "Contoso1<->Contoso2 never on the wire" || { echo "FAIL: $same same-host frames on the wire"; FAIL=1; }
  arps=$(tshark -r "$W/provider.pcap" -Y 'arp.dst.proto_ipv4 == 10.0.1.0/24 || arp.src.proto_ipv4 == 10.0.1.0/24' 2>/dev/null | wc -l)
  [ "$arps" = 0 ] && echo "no customer ARP on the wire" || { echo "FAIL: $arps customer ARP frames on the wire"; FAIL=1; }
  set -e
fi

if [ $KEEP = 1 ]; then
  echo "lab $P left running: 'ip netns exec ${P}c1 ping 10.0.1.103'; tear down with: $0 down $P"
  exit $FAIL
fi
for h in 1 2; do echo "== Host $h dataplane counters (hnvctl counters)"; hnvctl $h counters || true; done
for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()
[ $FAIL = 0 ] && echo "lab: all checks passed" || echo "lab: FAILED"
exit $FAIL
