#!/usr/bin/env bash
# The chapter's "Hyper-V Network Virtualization: Simple setup", for real:
# Host 1 (PA 192.168.0.22; Contoso1 10.0.1.101, Contoso2 10.0.1.102) and
# Host 2 (PA 192.168.0.33; Contoso3 10.0.1.103) on VSID 6000, the gateway
# host (PA 192.168.0.11) whose hnv-gateway holds Contoso's compartment MT-GW
# (10.0.2.2 on VSID 6001, external 10.1.3.2/24), and the Contoso physical
# host (10.1.3.100, routes to 10.0.1.0/24 and 10.0.2.0/24 via 10.1.3.2); RDID
# {12345678-1000-2000-3000-123456780001}. Every host and VM is a network
# namespace this script creates; the hosts run the HNV dataplane on DPDK
# (net_af_packet on veths), joined by a provider network (a bridge in its own
# namespace). Hosts 1 and 2 run hnv-vswitch, the gateway host hnv-gateway,
# with the chapter's YAML (config/examples/chapter/, gateway/), except that
# the VMs' ports are VnetPorts (hnv_vnetN: the VMs keep TSO and checksum
# offload; a copy of host1/2.yaml in the work directory; --af-packet keeps
# the chapter's net_af_packet ports and the VMs without offloads). Prints the
# Get-* views (hnvctl, the chapter's cmdlets), the gateway's compartment, a
# ping matrix of all five, Contoso's "Internet" reached through the NAT of
# MT-GW (below) and the dataplane counters, then removes everything it
# created (also on failure).
#
# The Internet (issue 11): a namespace beyond MT-GW's second external NIC
# ext1 (198.51.100.2/24, the gateway host's port "internet"), its router
# 198.51.100.1 and a server 203.0.113.80, with no route to any private
# address. The compartment's default route goes there and its NAPT
# translates what leaves by ext1 to 198.51.100.10 (lib.sh
# topo_internet_config adds this to a copy of the chapter's gateway files);
# the physical host on ext0 still sees the VMs' own addresses. The lab
# pings the Internet from every VM, shows the address its server sees, and
# prints `hnvctl nat contoso` (not with --store: the policy store holds no
# nat: sections yet). The plumbing is tests/topology/lib.sh, shared with the
# topology tests.
#
#   scripts/lab.sh            build, bring up, ping matrix, tear down
#   scripts/lab.sh --keep     leave it running; prints the command to tear down
#   scripts/lab.sh --af-packet  VM ports on net_af_packet, VMs' offloads off
#   scripts/lab.sh --test     also assert: pings, NVGRE on the wire (tshark),
#                             no ARP and no same-host traffic on the wire,
#                             100 MB TCP transfers intact (Contoso3 ->
#                             Contoso1, Contoso3 -> the physical host),
#                             the Internet reached only through the NAT;
#                             exit 1 on failure
#   scripts/lab.sh --vpn      the chapter's physical host becomes Contoso's
#                             on-premises site (issue 12): an unmodified
#                             strongSwan and FRR configured by this script
#                             (lib.sh topo_site) at 10.1.3.100, with the host
#                             OnPrem 10.2.0.10 behind it; Contoso's tenant file
#                             gets a site-to-site connection and eBGP to it
#                             (lib.sh topo_vpn_gateway_config), so hnv-gateway
#                             runs charon and FRR in the compartment; the
#                             matrix gains OnPrem, `hnvctl vpn show contoso`
#                             is printed (combine with --keep / --test)
#   scripts/lab.sh --store   the same lab from the central policy store: a
#                             single-node etcd the lab starts in its own
#                             namespace (tests/topology/lib_store.sh), the
#                             chapter's files applied to it once (hnvctl
#                             --store URL apply), every host and the gateway
#                             following it (--store URL --host NAME), then
#                             the chapter's migration of Contoso3 to Host 1
#                             with one command (hnvctl --store URL migrate
#                             Contoso3 --to host1 --port vm3) under a ping
#                             every 10 ms; with --test, asserts the ping
#                             matrix and the loss (MAX_LOSS_MS, 100)
#   scripts/lab.sh down PFX   tear down a lab left with --keep
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$0")/.."

KEEP=0 TEST=0 VPN=0 STORE=0 BUILD=1 VNET=1 BIN=build/vswitch/hnv-vswitch HNVCTL=build/config/hnvctl GW_BIN=build/gateway/hnv-gateway
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --test) TEST=1 ;;
    --vpn) VPN=1 ;;
    --store) STORE=1 ;;
    --no-build) BUILD=0 ;;
    --af-packet) VNET=0 ;;
    --bin) BIN=$2; shift ;;
    --hnvctl) HNVCTL=$2; shift ;;
    --gateway) GW_BIN=$2; shift ;;
    down) P=$2; NSES="c1 c2 c3 phys inet onprem h1 h2 gw pn contoso etcd"
          for n in $NSES; do ip netns pids "${P}$n" 2>/dev/null | xargs -r kill 2>/dev/null || true; done
          pkill -f -- "--file-prefix ${P}gw " 2>/dev/null || true
          sleep 1; for n in $NSES; do ip netns del "${P}$n" 2>/dev/null || true; done
          rm -rf "/tmp/$P" "/run/dpdk/${P}gw"; echo "lab $P removed"; exit 0 ;;
    *) echo "usage: $0 [--keep] [--test] [--vpn] [--store] [--af-packet] | $0 down PREFIX" >&2; exit 2 ;;
  esac
  shift
done
if [ $VPN = 1 ] && [ $STORE = 1 ]; then
  echo "lab: --vpn and --store do not go together yet (the store holds no VPN sections)" >&2; exit 2
fi
if [ "$(id -u)" != 0 ]; then echo "lab: needs root (network namespaces)"; exit 77; fi

. tests/topology/lib.sh
. tests/topology/lib_store.sh

# The chapter's migration of Contoso3 to Host 1, from the store: one command
# moves its records on every host and its adapter to Host 1's port vm3
# (hnvctl --store URL migrate ... --wait returns once every host applied
# it); then the VM moves (its address and MAC from eth0, on Host 2, to eth1,
# on Host 1). A ping from Contoso1 every 10 ms measures what is lost.
lab_store_migration() {
  local rc=0 t0 t1 sent got lost gap ping
  echo "== the chapter's migration: Contoso3 to Host 1, one command, under a ping every 10 ms"
  ns c1 ping -D -i 0.01 -c 500 -w 12 10.0.1.103 >"$W/mig-ping.txt" 2>&1 &
  ping=$!
  TOPO_PIDS+=("$ping")
  sleep 1.5
  t0=$(date +%s.%N)
  echo "PS> hnvctl --store URL migrate Contoso3 --to host1 --port vm3 --wait"
  hs migrate Contoso3 --to host1 --port vm3 --wait || rc=1
  topo_replug c3 10.0.1.103/24 10.0.1.1
  t1=$(date +%s.%N)
  wait "$ping" || true
  [ $rc = 0 ] || { echo "FAIL: the migration was refused or not applied everywhere"; FAIL=1; }
  read -r sent got <<<"$(awk '/packets transmitted/ {print $1, $4}' "$W/mig-ping.txt")"
  # The outage: the largest gap between consecutive replies, less the interval.
  gap=$(awk '/bytes from/ { t = substr($1, 2, length($1) - 2) + 0
                            if (p && t - p > g) g = t - p; p = t }
             END { printf "%.0f", (g - 0.01) * 1000 }' "$W/mig-ping.txt")
  lost=$((sent - got))
  echo "migration: command and re-plug $(echo "($t1 - $t0) * 1000" | bc | cut -d. -f1) ms;" \
       "ping: $sent sent, $got answered, $lost lost (about $((lost * 10)) ms); longest gap $gap ms"
  if [ "$got" -lt 100 ] || [ "$gap" -ge "${MAX_LOSS_MS:-100}" ]; then
    echo "FAIL: loss across the migration $gap ms (target < ${MAX_LOSS_MS:-100} ms)"; FAIL=1
  fi
  echo "PS> Get-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.103   (Host 1)"
  hnv h1 Get-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.103 |
    grep -E 'CustomerAddress|ProviderAddress' || true
  # Host 2 ran Contoso's only VM there: it carries the VM network no more.
  echo "PS> Get-NetVirtualizationLookupRecord   (Host 2: $(hnv h2 --json get lookup-record |
    "$TOPO_PY" -c 'import json,sys; print(len(json.load(sys.stdin)))') records)"
  grep -q 'VMName: Contoso3' <<<"$(hnv h1 Get-VMNetworkAdapter '*')" ||
    { echo "FAIL: Host 1 has no adapter for Contoso3"; FAIL=1; }
  expect_ping c1 10.0.1.103 "Contoso1 -> Contoso3, now on Host 1"
  expect_ping c3 10.1.3.100 "Contoso3 (Host 1) -> the physical host through MT-GW"
  hs status
}
# Contoso's Internet through MT-GW's NAT: every VM pings the Internet's
# server and connects to it; the server sees the NAT's address. The Internet
# has no route to the VMs' addresses: only translated traffic comes back.
lab_internet() {
  local s got
  echo "== Contoso's Internet (203.0.113.80, beyond MT-GW's ext1) through the compartment's NAT (198.51.100.10)"
  hello_server inet 203.0.113.80 80 internet 120
  for s in c1 c2 c3; do
    if ping_ok "$s" 203.0.113.80 3 0.2; then printf '%-10s ping ok' "${SRC[$s]}"
    else printf '%-10s ping FAIL' "${SRC[$s]}"; FAIL=1; fi
    got=
    for _ in 1 2 3; do got=$(hello "$s" 203.0.113.80 80) && [ -n "$got" ] && break; sleep 0.5; done
    if [ "$got" = "internet 198.51.100.10" ]; then echo "; TCP to 203.0.113.80:80: the server sees 198.51.100.10"
    else echo "; TCP to 203.0.113.80:80: FAIL (\"$got\", want \"internet 198.51.100.10\")"; FAIL=1; fi
  done
  echo "PS> hnvctl nat contoso"
  hnv gw nat contoso
}
# As a test, the whole run is bounded (below CTest's TIMEOUT).
# The lab from the store moves no 100 MB and sends no capture through
# tshark: a quiet run takes 30 s, so it is stopped sooner.
if [ $TEST = 1 ] && [ $KEEP = 0 ]; then topo_limit "$([ $STORE = 1 ] && echo 150 || echo 225)" "$SELF" "${ARGS[@]}"; fi

if [ $BUILD = 1 ]; then
  scripts/install-deps.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build hnv-vswitch hnv-gateway hnvctl >/dev/null
fi
BIN=$(realpath "$BIN") HNVCTL=$(realpath "$HNVCTL") GW_BIN=$(realpath "$GW_BIN")

# prefix of every namespace we create, and our work directory
TOPO_PREFIX=hl${TOPO_LIMIT_PID:-$(( $$ % 10000 ))} TOPO_WORK=/tmp/hl${TOPO_LIMIT_PID:-$(( $$ % 10000 ))}
if [ $KEEP = 1 ]; then TOPO_DAEMON_LIMIT=0; fi   # no time limit on a lab left running
TOPO_NAME=lab
topo_init lab
FAIL=0

topo_infra h1 h2 gw pn
# The Internet needs the tenant's nat: section, which the policy store does
# not hold yet: not with --store.
INTERNET=$((1 - STORE))
topo_ns c1 c2 c3 phys
topo_link c1 eth0 h1 vm1; topo_link c2 eth0 h1 vm2; topo_link c3 eth0 h2 vm1
topo_link phys eth0 gw external
if [ $INTERNET = 1 ]; then
  topo_ns inet
  topo_link inet eth0 gw internet
  topo_internet inet
fi
topo_provider pn h1 h2 gw
topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
topo_vm c2 10.0.1.102/24 60:00:60:00:01:02 10.0.1.1
topo_vm c3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1

CONF=$PWD/config/examples/chapter
HCONF=$CONF   # Hosts 1 and 2: the chapter's, or a copy with VnetPorts for the VMs
if [ $VNET = 1 ]; then
  HCONF=$W/conf
  mkdir -p "$HCONF"
  cp "$CONF"/*.yaml "$HCONF/"
  topo_vnet_ports "$HCONF/host1.yaml" "$HCONF/host2.yaml"
  for n in c1 c2 c3; do topo_offloads "$n" on; done
fi
GW_CONF=$W/gateway/gateway.yaml   # the chapter's, with the Internet (lib.sh topo_internet_config)
if [ $VPN = 1 ]; then
  echo "== Contoso's on-premises site (plain strongSwan + FRR at 10.1.3.100; OnPrem 10.2.0.10 behind it)"
  topo_ns onprem
  PSK="lab on-premises pre-shared key $(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  topo_vpn_gateway_config "$W/gateway" "$PSK"
  topo_site phys onprem "$PSK" 10.2.0.0/24
else
  topo_gateway_config "$W/gateway"
  topo_physical_host phys
fi
if [ $INTERNET = 1 ]; then topo_internet_config "$W/gateway"; fi
topo_compartments contoso
if [ $STORE = 1 ]; then
  # Host 1 has a spare port vm3, wired to Contoso3's second NIC (down until
  # Contoso3 migrates there).
  topo_spare_nic c3 h1 vm3 60:00:60:00:02:03
  echo "== the policy store: etcd in ${P}etcd; the chapter's setup applied once"
  topo_store h1 h2 gw
  echo "PS> hnvctl --store URL apply host1-spare-port.yaml host2.yaml gateway/gateway.yaml"
  hs apply "$CONF/host1-spare-port.yaml" "$CONF/host2.yaml" "$GW_CONF"
  topo_host h1 store:host1 0,1 --no-wait
  topo_host h2 store:host2 1,0 --no-wait
  topo_gateway gw store:gateway 1,0 --no-wait
else
  topo_host h1 "$HCONF/host1.yaml" 0,1 --no-wait
  topo_host h2 "$HCONF/host2.yaml" 1,0 --no-wait
  topo_gateway gw "$GW_CONF" 1,0 --no-wait
fi
topo_wait_host h1
topo_wait_host h2
topo_wait_host gw
echo "== Host 1, asked through its control socket (hnvctl, the chapter's cmdlets)"
echo "PS> Get-VMNetworkAdapter * | fl VMName,MacAddress,VirtualSubnetId,SwitchName"
hnv h1 Get-VMNetworkAdapter '*'; echo
for c in Get-NetVirtualizationCustomerRoute Get-NetVirtualizationLookupRecord \
         Get-NetVirtualizationProviderAddress; do
  echo "PS> $c"; hnv h1 "$c"; echo
done

echo "== the gateway's compartments (hnvctl compartments; hnvctl compartment contoso)"
hnv gw compartments; echo
hnv gw compartment contoso; echo
if [ $VPN = 1 ]; then
  echo "== waiting for the tunnel and BGP (10.2.0.0/24 in the compartment)"
  for i in $(seq 300); do
    ip -n "${P}contoso" route show 10.2.0.0/24 | grep -q "proto bgp" && break
    sleep 0.1
  done
  hnv gw vpn show contoso; echo
fi

# The provider network during the pings and the transfer (headers only):
# every ping, and the transfers' first frames. 40,000 frames keep tshark's
# pass over them to seconds; the whole 200 MB (about 215,000 frames) took
# minutes on this VM in a slow hour and ran the test out of time.
if [ $STORE = 1 ]; then
  store_wait_current host1 host2 gateway || { echo "FAIL: not every host applied the store's policy"; FAIL=1; }
  echo "PS> hnvctl --store URL status"; hs status; echo
fi
if [ $TEST = 1 ] && [ $STORE = 0 ]; then cap_start provider pn br0 "" 160 40000; fi

echo "== ping matrix (3 echo requests each; MT-GW is the gateway's compartment)"
DSTS="10.0.1.101 10.0.1.102 10.0.1.103 10.0.2.2 10.1.3.100 10.0.1.1"
declare -A NAME=([10.0.1.101]=Contoso1 [10.0.1.102]=Contoso2 [10.0.1.103]=Contoso3
                 [10.0.2.2]=MT-GW [10.1.3.100]=Physical [10.0.1.1]=DFGW)
declare -A SRC=([c1]=Contoso1 [c2]=Contoso2 [c3]=Contoso3 [contoso]=MT-GW [phys]=Physical)
declare -A OWN=([c1]=10.0.1.101 [c2]=10.0.1.102 [c3]=10.0.1.103 [contoso]=10.0.2.2 [phys]=10.1.3.100)
SRCS="c1 c2 c3 contoso phys" PING_WAIT=2
if [ $VPN = 1 ]; then   # the site is the physical host; OnPrem is behind it, over the tunnel
  NAME[10.1.3.100]=Site SRC[phys]=Site NAME[10.2.0.10]=OnPrem SRC[onprem]=OnPrem OWN[onprem]=10.2.0.10
  DSTS+=" 10.2.0.10" SRCS+=" onprem"
  PING_WAIT=5   # userspace ESP (kernel-libipsec) on a loaded machine: seconds-long RTT spikes seen
fi
printf '%-10s' from; for d in $DSTS; do printf '%-10s' "${NAME[$d]}"; done; echo
for s in $SRCS; do
  printf '%-10s' "${SRC[$s]}"
  for d in $DSTS; do
    # Everyone reaches the DFGW too: the filter answers echo requests to it.
    if [ "$d" = "${OWN[$s]}" ]; then printf '%-10s' "-"; continue; fi
    if ip netns exec "$P$s" ping -c 3 -i 0.2 -W "$PING_WAIT" -q "$d" >/dev/null 2>&1; then printf '%-10s' ok; else printf '%-10s' FAIL; FAIL=1; fi
  done; echo
done

if [ $INTERNET = 1 ]; then lab_internet; fi

if [ $STORE = 1 ]; then lab_store_migration; fi

if [ $TEST = 1 ] && [ $STORE = 0 ]; then
  echo "== 100 MB TCP transfer Contoso3 -> Contoso1"
  if tcp_transfer c3 c1 10.0.1.101 100 5001; then
    echo "transfer intact (sha256 $TCP_SHA, $TCP_RATE Mbit/s)"
  else
    echo "transfer FAILED"; FAIL=1
  fi
  echo "== 100 MB TCP transfer Contoso3 -> the Contoso physical host (through MT-GW)"
  if tcp_transfer c3 phys 10.1.3.100 100 5002; then
    echo "transfer intact (sha256 $TCP_SHA, $TCP_RATE Mbit/s)"
  else
    echo "transfer FAILED"; FAIL=1
  fi
  cap_stop provider
  echo "== provider network (tshark on the bridge)"
  set +e
  # One pass over the capture: the GRE and IP fields of every frame.
  tsh provider -T fields -E separator='|' -e gre.proto -e gre.key -e gre.flags.checksum \
    -e gre.flags.key -e gre.flags.sequence_number -e ip.src -e ip.dst -e icmp.type \
    -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4 >"$W/provider.txt"
  nvgre=$(awk -F'|' '$1=="0x6558" && $2 ~ /^0x001770/ {print $6"\t"$7}' "$W/provider.txt" | sort | uniq -c)
  echo "NVGRE frames with VSID 6000 in the key (count, outer/inner source, outer/inner destination):"; echo "$nvgre"
  pairs=$(awk -F'|' '$1!="" && $8!="" {print $6"\t"$7}' "$W/provider.txt" | sort -u)
  echo "$pairs" | grep -q '192.168.0.22,10.0.1.101	192.168.0.33,10.0.1.103' || { echo "FAIL: no NVGRE Contoso1->Contoso3 between the PAs"; FAIL=1; }
  echo "$pairs" | grep -q '192.168.0.33,10.0.1.103	192.168.0.22,10.0.1.101' || { echo "FAIL: no NVGRE Contoso3->Contoso1 between the PAs"; FAIL=1; }
  # Flow 6: to the physical host through the gateway, on the gateway's VSID
  # 6001 (key 0x001771..); back with the destination's VSID 6000.
  gw_out=$(awk -F'|' '$1=="0x6558" && $2 ~ /^0x001771/ && $6=="192.168.0.33,10.0.1.103" && $7=="192.168.0.11,10.1.3.100"' "$W/provider.txt" | wc -l)
  gw_back=$(awk -F'|' '$1=="0x6558" && $2 ~ /^0x001770/ && $6=="192.168.0.11,10.1.3.100" && $7=="192.168.0.33,10.0.1.103"' "$W/provider.txt" | wc -l)
  echo "Contoso3 -> physical host via MT-GW: $gw_out NVGRE frames on VSID 6001 to PA 192.168.0.11, $gw_back back on VSID 6000"
  [ "$gw_out" -gt 0 ] && [ "$gw_back" -gt 0 ] || { echo "FAIL: flow 6 (VM to physical host through the gateway) not seen on the wire"; FAIL=1; }
  bad=$(awk -F'|' '$4=="1" && !($3=="0" && $5=="0" && $1=="0x6558")' "$W/provider.txt" | wc -l)
  [ "$bad" = 0 ] || { echo "FAIL: $bad malformed NVGRE frames"; FAIL=1; }
  same=$(awk -F'|' '($6 ~ /10\.0\.1\.101/ && $7 ~ /10\.0\.1\.102/) || ($6 ~ /10\.0\.1\.102/ && $7 ~ /10\.0\.1\.101/)' "$W/provider.txt" | wc -l)
  [ "$same" = 0 ] && echo "Contoso1<->Contoso2 never on the wire" || { echo "FAIL: $same same-host frames on the wire"; FAIL=1; }
  arps=$(awk -F'|' '$9 ~ /(^|,)10\.0\.1\./ || $10 ~ /(^|,)10\.0\.1\./' "$W/provider.txt" | wc -l)
  [ "$arps" = 0 ] && echo "no customer ARP on the wire" || { echo "FAIL: $arps customer ARP frames on the wire"; FAIL=1; }
  set -e
fi

if [ $KEEP = 1 ]; then
  echo "lab $P left running: 'ip netns exec ${P}c1 ping 10.0.1.103' (or the Internet, 203.0.113.80); tear down with: $0 down $P"
  TOPO_LEAVE=1
  exit $FAIL
fi
for h in 1 2; do echo "== Host $h dataplane counters (hnvctl counters)"; hnv h$h counters || true; done
echo "== gateway host dataplane counters (hnvctl counters)"; hnv gw counters || true
[ $FAIL = 0 ] && echo "lab: all checks passed" || echo "lab: FAILED"
exit $FAIL
