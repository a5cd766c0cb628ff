#!/usr/bin/env bash
# Dynamic IP address learning (the chapter's flow 4). Host 1 has no record for
# Contoso3's address, only an L2Only record (CA 0.0.0.0) for Contoso3's MAC at
# PA 192.168.0.33; Host 2 likewise has only an L2Only record for Contoso1's
# MAC at 192.168.0.22 (tests/topology/configs/dynamic/). Asserts:
#  - Contoso1 pings Contoso3; its ARP request crossed the provider network as
#    unicast NVGRE (VSID 6000) to Host 2's PA and Contoso3's own reply came
#    back the same way;
#  - afterwards `hnvctl get lookup-record` lists the learned records with type
#    Dynamic (Host 1: 10.0.1.103 at .33; Host 2: 10.0.1.101 at .22) and each
#    host's journal holds them;
#  - with the records learned, a new ARP for Contoso3 is answered by Host 1's
#    filter (no ARP on the wire), and a restarted host still has its learned
#    record (journal replay).
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=dynamic_learning
topo_init dl "$@"
CONF=$TOPO_ROOT/tests/topology/configs/dynamic

step "topology: Contoso1 on Host 1, Contoso3 on Host 2, L2Only records for each other"
topo_infra h1 h2 pn
topo_ns c1 c3
topo_link c1 eth0 h1 vm1; topo_link c3 eth0 h2 vm1
topo_provider pn h1 h2
topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
topo_vm c3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_host h2 "$CONF/host2.yaml" 1,0 --no-wait
topo_wait_host h1
topo_wait_host h2
hnv h1 get lookup-record type=L2Only

# dyn HOST CA: the host's Dynamic records for CA, as "ca mac pa type" lines.
dyn() {
  hnv "$1" --json get lookup-record | "$TOPO_PY" -c '
import json, sys
for r in json.load(sys.stdin):
    if r.get("customer_address") == sys.argv[1] and r.get("type", "").lower() == "dynamic":
        print(r["customer_address"], r["mac"], r["provider_address"], r["type"])' "$2"
}
[ -z "$(dyn h1 10.0.1.103)" ] || fail "Host 1 has a Dynamic record for 10.0.1.103 before any traffic"

step "Contoso1 pings Contoso3 (no record: ARP goes as unicast NVGRE to the L2Only PA)"
cap_start wire pn br0
if ping_ok c1 10.0.1.103 5; then pass "Contoso1 -> Contoso3: 5/5 replies"; else fail "Contoso1 -> Contoso3: no replies"; fi
expect_ping c3 10.0.1.101 "Contoso3 -> Contoso1"
cap_stop wire
tsh wire -Y 'gre && arp' -T fields -e ip.src -e ip.dst -e gre.key -e arp.opcode \
  -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4 | sed 's/^/  /'
req=$(tcount wire "gre && arp.opcode == 1 && ip.src == 192.168.0.22 && ip.dst == 192.168.0.33 && arp.dst.proto_ipv4 == 10.0.1.103 && $(gre_key_range 6000)")
rep=$(tcount wire "gre && arp.opcode == 2 && ip.src == 192.168.0.33 && ip.dst == 192.168.0.22 && arp.src.proto_ipv4 == 10.0.1.103 && $(gre_key_range 6000)")
bcast=$(tcount wire "!gre && arp.dst.proto_ipv4 == 10.0.1.0/24")
[ "$req" -ge 1 ] && pass "the ARP request for 10.0.1.103 crossed as unicast NVGRE 192.168.0.22 -> .33, VSID 6000 ($req)" ||
  fail "no NVGRE-encapsulated ARP request 192.168.0.22 -> 192.168.0.33 for 10.0.1.103"
[ "$rep" -ge 1 ] && pass "Contoso3's own ARP reply came back as NVGRE .33 -> .22 ($rep)" ||
  fail "no NVGRE-encapsulated ARP reply from 10.0.1.103"
[ "$bcast" = 0 ] && pass "no customer ARP un-encapsulated on the provider network" ||
  fail "$bcast customer ARP frames bare on the provider network"
log "-- Host 1 l2only_arp $(counter h1 l2only_arp), events $(counter h1 events)"

step "the learned Dynamic records"
# Learning is reported by the workers and recorded by the control thread:
# allow it a moment.
for _ in $(seq 30); do [ -n "$(dyn h1 10.0.1.103)" ] && [ -n "$(dyn h2 10.0.1.101)" ] && break; sleep 0.1; done
hnv h1 get lookup-record type=Dynamic | sed 's/^/  h1: /'
hnv h2 get lookup-record type=Dynamic | sed 's/^/  h2: /'
check_learned() {  # HOST CA MAC PA
  local got
  got=$(dyn "$1" "$2")
  if [ "$got" = "$2 $3 $4 Dynamic" ]; then
    pass "$1: Dynamic record $2 $3 at PA $4"
  else
    fail "$1: expected a Dynamic record '$2 $3 $4', got '${got:-nothing}'"
  fi
  if hnv "$1" get lookup-record customer_address="$2" type=Dynamic | grep -q 'Type: Dynamic'; then
    pass "$1: hnvctl get lookup-record shows it with Type: Dynamic"
  else
    fail "$1: hnvctl get lookup-record type=Dynamic does not show $2"
  fi
  if grep "\"$2\"" "$W/$1.journal" 2>/dev/null | grep -qi '"dynamic"'; then
    pass "$1: the journal holds it: $(grep "\"$2\"" "$W/$1.journal" | head -1)"
  else
    fail "$1: the journal $W/$1.journal has no Dynamic record for $2:"$'\n'"$(cat "$W/$1.journal" 2>&1)"
  fi
}
check_learned h1 10.0.1.103 600060000203 192.168.0.33
check_learned h2 10.0.1.101 600060000101 192.168.0.22

step "with the records learned, Host 1's filter answers ARP for Contoso3 itself"
ns c1 ip neigh flush dev eth0
cap_start wire2 pn br0
expect_ping c1 10.0.1.103 "Contoso1 -> Contoso3 after an ARP flush"
cap_stop wire2
# Contoso1's broadcast request for 10.0.1.103 must not cross any more. (A
# Linux VM also re-validates a stale entry with a unicast ARP request to the
# cached MAC, its NUD probe: those are switched to the remote MAC's PA like
# any unicast frame and do cross, encapsulated; counted apart.)
read -r asked probes <<<"$(tcounts wire2 \
  "arp.opcode == 1 && arp.dst.proto_ipv4 == 10.0.1.103 && eth.dst == ff:ff:ff:ff:ff:ff" \
  "arp && eth.dst != ff:ff:ff:ff:ff:ff")"
[ "$asked" = 0 ] && pass "Contoso1's ARP for 10.0.1.103 answered on Host 1 (proxy ARP from the Dynamic record), not on the wire" ||
  fail "$asked broadcast ARP requests for 10.0.1.103 on the wire although it is learned"
[ "$probes" = 0 ] || log "-- note: $probes unicast ARP frames (NUD probes and their replies) crossed, encapsulated"

step "a restarted Host 1 still has its learned record (journal replay)"
topo_stop_host h1
topo_host h1 "$CONF/host1.yaml" 0,1
got=$(dyn h1 10.0.1.103)
[ -n "$got" ] && pass "Host 1 after restart: $got" || fail "Host 1 lost the learned record on restart"
wait_ping c1 10.0.1.103 10 && pass "Contoso1 -> Contoso3 after the restart" ||
  fail "Contoso1 -> Contoso3 does not work after Host 1's restart"
for h in h1 h2; do log "-- $h drops: $(drops $h | tr '\n' ' ')"; done
topo_done
