#!/usr/bin/env bash
# An IPv6 VM network end to end over the two hosts' IPv4 PAs: Fabrikam's
# routing domain with VSID 7000 (fd00:1::/64: Fabrikam1, Fabrikam2 on Host 1,
# Fabrikam3 on Host 2) and VSID 7001 (fd00:2::/64: Fabrikam4 on Host 2)
# (tests/topology/configs/ipv6/). Asserts:
#  - ping6 between VMs on one host, across hosts, across subnets (hop limit
#    decremented once by the filter) and to each subnet's DFGW;
#  - a 20 MB TCP transfer (nc) across hosts arrives intact;
#  - on the wire: IPv6 inside NVGRE with the destination's VSID in the key,
#    no neighbour discovery of customer addresses, same-host traffic absent.
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=ipv6
topo_init v6 "$@"
CONF=$TOPO_ROOT/tests/topology/configs/ipv6

step "topology: Host 1 (Fabrikam1, Fabrikam2 on 7000), Host 2 (Fabrikam3 on 7000, Fabrikam4 on 7001)"
topo_infra h1 h2 pn
topo_ns f1 f2 f3 f4
topo_link f1 eth0 h1 vm1; topo_link f2 eth0 h1 vm2
topo_link f3 eth0 h2 vm1; topo_link f4 eth0 h2 vm2
topo_provider pn h1 h2
topo_vm f1 fd00:1::101/64 70:00:70:00:01:01 fd00:1::1
topo_vm f2 fd00:1::102/64 70:00:70:00:01:02 fd00:1::1
topo_vm f3 fd00:1::103/64 70:00:70:00:02:03 fd00:1::1
topo_vm f4 fd00:2::104/64 70:01:70:00:02:04 fd00:2::1
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_host h2 "$CONF/host2.yaml" 1,0 --no-wait
topo_wait_host h1
topo_wait_host h2
hnv h2 Get-NetVirtualizationLookupRecord -VirtualSubnetID 7001

cap_start wire pn br0

# ping6 NS DST LABEL [HLIM]: 5 echo requests, all answered (with hop limit HLIM).
ping6() {
  local n=$1 d=$2 label=$3 want=${4:-} out got hl
  out=$(ns "$n" ping -6 -c 5 -i 0.2 -w 10 "$d" 2>&1) || true
  got=$(grep -o '[0-9]* received' <<<"$out" | cut -d' ' -f1)
  hl=$(grep -o 'ttl=[0-9]*' <<<"$out" | sort -u | tr '\n' ' ')
  if [ "${got:-0}" -lt 5 ]; then
    fail "$label: ${got:-0}/5 replies"; echo "$out" >&2
  elif [ -n "$want" ] && [ "$hl" != "ttl=$want " ]; then
    fail "$label: hop limit $hl(expected $want)"
  else
    pass "$label: 5/5 replies (${hl% })"
  fi
}
step "ping6"
ping6 f1 fd00:1::102 "Fabrikam1 -> Fabrikam2 (same host, switched)" 64
ping6 f1 fd00:1::103 "Fabrikam1 -> Fabrikam3 (Host 1 -> Host 2, NVGRE)" 64
ping6 f3 fd00:1::101 "Fabrikam3 -> Fabrikam1 (Host 2 -> Host 1, NVGRE)" 64
ping6 f1 fd00:2::104 "Fabrikam1 -> Fabrikam4 (7000 -> 7001, routed, NVGRE)" 63
ping6 f3 fd00:2::104 "Fabrikam3 -> Fabrikam4 (7000 -> 7001, routed on Host 2)" 63
ping6 f4 fd00:1::102 "Fabrikam4 -> Fabrikam2 (7001 -> 7000, routed, NVGRE)" 63
for v in f1 f2 f3; do ping6 "$v" fd00:1::1 "$v -> DFGW fd00:1::1"; done
ping6 f4 fd00:2::1 "f4 -> DFGW fd00:2::1"

cap_stop wire

step "20 MB TCP transfer Fabrikam3 -> Fabrikam1 over IPv6"
cap_start bulk pn br0 "" 128
if tcp_transfer f3 f1 fd00:1::101 20 5001; then
  pass "transfer intact (sha256 $TCP_SHA, $TCP_RATE Mbit/s)"
else
  fail "transfer damaged or incomplete (want sha256 $TCP_SHA)"
fi
log "-- MSS clamped: Host 1 $(counter h1 mss_clamped), Host 2 $(counter h2 mss_clamped)"
cap_stop bulk
read -r tcp tcp_other <<<"$(tsh bulk -Y 'gre && tcp' -T fields -e gre.key |
  awk '{ n++; if (substr($1, 1, 8) != "0x001b58") o++ } END { print n + 0, o + 0 }')"
[ "$tcp" -gt 10000 ] && [ "$tcp_other" = 0 ] &&
  pass "the transfer's $tcp NVGRE frames all carry VSID 7000" ||
  fail "of the transfer's $tcp NVGRE frames, $tcp_other carry another key"

step "provider network"
tsh wire -Y 'gre && icmpv6' -T fields -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e gre.key |
  awk '{ $5 = substr($5, 1, 8) "xx"; print }' | sort | uniq -c | sed 's/^/  /'
read -r t1 r1 t2 r2 routed routed_ok same1 same2 nd <<<"$(tcounts wire \
  "gre && ipv6.dst == fd00:1::/64" "gre && ipv6.dst == fd00:1::/64 && $(gre_key_range 7000)" \
  "gre && ipv6.dst == fd00:2::/64" "gre && ipv6.dst == fd00:2::/64 && $(gre_key_range 7001)" \
  "gre && icmpv6.type == 128 && ipv6.dst == fd00:2::/64 && ipv6.src == fd00:1::/64" \
  "gre && icmpv6.type == 128 && ipv6.dst == fd00:2::/64 && ipv6.src == fd00:1::/64 && ipv6.hlim == 63" \
  "ipv6.addr == fd00:1::101 && ipv6.addr == fd00:1::102" \
  "ipv6.addr == fd00:1::103 && ipv6.addr == fd00:2::104" \
  "icmpv6.type == 135 || icmpv6.type == 136")"
for spec in "fd00:1::/64 7000 $t1 $r1" "fd00:2::/64 7001 $t2 $r2"; do
  set -- $spec
  if [ "$3" -gt 0 ] && [ "$3" = "$4" ]; then
    pass "$3 NVGRE frames to $1, all with VSID $2"
  else
    fail "$4 of $3 NVGRE frames to $1 with VSID $2"
  fi
done
[ "$routed" -gt 0 ] && [ "$routed" = "$routed_ok" ] &&
  pass "routed echo requests on the wire have hop limit 63 ($routed)" ||
  fail "$routed_ok of $routed routed echo requests on the wire have hop limit 63"
[ "$same1" = 0 ] && pass "Fabrikam1 <-> Fabrikam2 never on the wire" || fail "$same1 same-host frames on the wire"
[ "$same2" = 0 ] && pass "Fabrikam3 <-> Fabrikam4 (routed on Host 2) never on the wire" ||
  fail "$same2 frames of Host 2's routed traffic on the wire"
[ "$nd" = 0 ] && pass "no neighbour discovery on the wire" || fail "$nd ND frames on the wire"
for h in h1 h2; do log "-- $h drops: $(drops $h | tr '\n' ' ')"; done
topo_done
