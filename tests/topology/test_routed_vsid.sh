#!/usr/bin/env bash
# Routing between two virtual subnets of one routing domain (the chapter's
# flows 2 and 5): Contoso's VSID 6000 (10.0.1.0/24) and a second subnet VSID
# 6002 (10.0.3.0/24, DFGW 10.0.3.1), with Contoso1 (6000) and Contoso4 (6002)
# on Host 1, Contoso3 (6000) and Contoso5 (6002) on Host 2
# (tests/topology/configs/routed/). Asserts:
#  - TTL 1 gets ICMP time exceeded from the sender's DFGW;
#  - same host, 6000 <-> 6002: pings answer with the TTL decremented once by
#    the filter, and no frame of theirs is ever on the provider network;
#  - across hosts: encapsulated with the DESTINATION's VSID in the GRE key
#    (6002 towards 10.0.3.x, 6000 towards 10.0.1.x), inner TTL already
#    decremented by the sending host's filter.
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=routed_vsid
topo_init rv "$@"
CONF=$TOPO_ROOT/tests/topology/configs/routed

step "topology: Host 1 (Contoso1 on 6000, Contoso4 on 6002), Host 2 (Contoso3 on 6000, Contoso5 on 6002)"
topo_infra h1 h2 pn
topo_ns c1 c3 c4 c5
topo_link c1 eth0 h1 vm1; topo_link c4 eth0 h1 vm2
topo_link c3 eth0 h2 vm1; topo_link c5 eth0 h2 vm2
topo_provider pn h1 h2
topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
topo_vm c3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1
topo_vm c4 10.0.3.104/24 60:02:60:00:01:04 10.0.3.1
topo_vm c5 10.0.3.105/24 60:02:60:00:02:05 10.0.3.1
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_host h2 "$CONF/host2.yaml" 1,0 --no-wait
topo_wait_host h1
topo_wait_host h2
hnv h1 Get-NetVirtualizationCustomerRoute

cap_start wire pn br0

# routed_ping NS DST LABEL: 5 echo requests; the replies must come back
# routed (TTL 63: the peer's 64 minus the one hop of the filter).
routed_ping() {
  local n=$1 d=$2 label=$3 out
  out=$(ns "$n" ping -c 5 -i 0.2 -w 10 "$d" 2>&1) || true
  local got ttls
  got=$(grep -o '[0-9]* received' <<<"$out" | cut -d' ' -f1)
  ttls=$(grep -o 'ttl=[0-9]*' <<<"$out" | sort -u | tr '\n' ' ')
  if [ "${got:-0}" -lt 5 ]; then
    fail "$label: ${got:-0}/5 replies"; echo "$out" >&2
  elif [ "$ttls" != "ttl=63 " ]; then
    fail "$label: replies with $ttls(expected ttl=63: routed once)"
  else
    pass "$label: 5/5 replies, ttl=63"
  fi
}

step "same host, 6000 <-> 6002 (flow 2: routed by the filter, never on the wire)"
routed_ping c1 10.0.3.104 "Contoso1 -> Contoso4 (Host 1)"
routed_ping c4 10.0.1.101 "Contoso4 -> Contoso1 (Host 1)"
routed_ping c3 10.0.3.105 "Contoso3 -> Contoso5 (Host 2)"
step "different hosts, 6000 <-> 6002 (flow 5: routed, then NVGRE with the destination VSID)"
routed_ping c1 10.0.3.105 "Contoso1 -> Contoso5 (Host 1 -> Host 2)"
routed_ping c5 10.0.1.101 "Contoso5 -> Contoso1 (Host 2 -> Host 1)"
routed_ping c4 10.0.1.103 "Contoso4 -> Contoso3 (Host 1 -> Host 2)"
step "the DFGW of 6002 answers"
if ping_ok c4 10.0.3.1 3; then pass "Contoso4 -> 10.0.3.1"; else fail "Contoso4 -> 10.0.3.1: no reply"; fi
if ping_ok c5 10.0.3.1 3; then pass "Contoso5 -> 10.0.3.1"; else fail "Contoso5 -> 10.0.3.1: no reply"; fi
cap_stop wire

step "TTL 1 at the distributed router: time exceeded from the sender's DFGW (traceroute's first hop)"
for pair in "c1 10.0.3.105 10.0.1.1" "c4 10.0.1.103 10.0.3.1"; do
  read -r n d gw <<<"$pair"
  out=$(ns "$n" ping -c 1 -t 1 -W 3 "$d" 2>&1) || true
  if grep -q "From $gw icmp_seq=1 Time to live exceeded" <<<"$out"; then
    pass "$n -> $d with TTL 1: time exceeded from $gw"
  else
    fail "$n -> $d with TTL 1: no time exceeded from $gw"; echo "$out" >&2
  fi
done

step "provider network"
tsh wire -Y 'gre && icmp' -T fields -e ip.src -e ip.dst -e ip.ttl -e gre.key | sort | uniq -c |
  sed 's/^/  /'
# One pass: same-host pairs, then every routed frame on the wire with the
# destination's VSID and the decremented inner TTL, in both directions.
read -r same1 same2 to6002 to6002_ok to6000 to6000_ok arps <<<"$(tcounts wire \
  "ip.addr == 10.0.1.101 && ip.addr == 10.0.3.104" "ip.addr == 10.0.1.103 && ip.addr == 10.0.3.105" \
  "gre && icmp && ip.src == 10.0.1.0/24 && ip.dst == 10.0.3.0/24" \
  "gre && icmp && ip.src == 10.0.1.0/24 && ip.dst == 10.0.3.0/24 && $(gre_key_range 6002) && ip.ttl == 63" \
  "gre && icmp && ip.src == 10.0.3.0/24 && ip.dst == 10.0.1.0/24" \
  "gre && icmp && ip.src == 10.0.3.0/24 && ip.dst == 10.0.1.0/24 && $(gre_key_range 6000) && ip.ttl == 63" \
  "arp.src.proto_ipv4 == 10.0.0.0/16 || arp.dst.proto_ipv4 == 10.0.0.0/16")"
[ "$same1" = 0 ] && pass "10.0.1.101 <-> 10.0.3.104 (same host) never on the wire" ||
  fail "$same1 frames between 10.0.1.101 and 10.0.3.104 (same host) on the provider network"
[ "$same2" = 0 ] && pass "10.0.1.103 <-> 10.0.3.105 (same host) never on the wire" ||
  fail "$same2 frames between 10.0.1.103 and 10.0.3.105 (same host) on the provider network"
if [ "$to6002" -gt 0 ] && [ "$to6002" = "$to6002_ok" ]; then
  pass "10.0.1.x -> 10.0.3.x: $to6002 NVGRE frames, all with VSID 6002 (destination) and inner TTL 63"
else
  fail "10.0.1.x -> 10.0.3.x: $to6002_ok of $to6002 NVGRE frames with VSID 6002 and inner TTL 63"
fi
if [ "$to6000" -gt 0 ] && [ "$to6000" = "$to6000_ok" ]; then
  pass "10.0.3.x -> 10.0.1.x: $to6000 NVGRE frames, all with VSID 6000 (destination) and inner TTL 63"
else
  fail "10.0.3.x -> 10.0.1.x: $to6000_ok of $to6000 NVGRE frames with VSID 6000 and inner TTL 63"
fi
[ "$arps" = 0 ] && pass "no customer ARP on the wire" || fail "$arps customer ARP frames on the wire"
for h in h1 h2; do
  r=$(counter $h routed)
  [ "$r" -gt 0 ] && pass "$h routed $r packets" || fail "$h: routed counter is 0"
  log "-- $h drops: $(drops $h | tr '\n' ' ')"
done
topo_done
