#!/usr/bin/env bash
# The gateway's fast path and punt path (the chapter's setup without Host 2,
# tests/topology/lib.sh topo_gateway_lab):
#  - transit: 200 echo requests Contoso1 -> the physical host are forwarded
#    by the dataplane: the compartment's counters show them both ways, the
#    kernel in the compartment's namespace does not (its interfaces' packet
#    counters barely move);
#  - mirroring: a route added with `ip route` in the compartment's namespace
#    (10.9.9.0/24 via the physical host, which holds 10.9.9.9) is in the fast
#    path within one second and carries traffic; deleted, it is gone from the
#    fast path within one second and the traffic stops;
#  - routing rules: with `ip rule add pref 100 lookup 100` and 10.9.9.0/24
#    in table 100 through a veth of the namespace, 50 echo requests to
#    10.9.9.9 are punted by the fast path (counter "route"), the kernel
#    sends them out of that veth, and a capture on the physical host sees
#    none (main still routes 10.9.9.0/24 there); without the rule they are
#    forwarded again and the capture sees them;
#  - punt path: Contoso1 pings the compartment (10.0.2.2); a TCP listener in
#    the namespace is reached from the physical host (10.1.3.2) and from
#    Contoso1 (10.0.2.2).
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=gateway_fastpath
topo_init gf "$@"

step "topology: Host 1, the gateway host, the physical host (chapter configuration)"
topo_gateway_lab "$TOPO_ROOT/config/examples/chapter"
hnv gw compartment contoso

step "transit Contoso1 <-> physical host is forwarded by the dataplane, not the namespace"
to_ext0=$(comp_json gw contoso "c['counters']['to_external']['packets']")
to_vm0=$(comp_json gw contoso "c['counters']['to_vm']['packets']")
k0=$(tap_packets contoso)
ping_ok c1 10.1.3.100 200 0.01 && pass "200 echo requests answered" || fail "echo requests to 10.1.3.100 lost"
to_ext=$(( $(comp_json gw contoso "c['counters']['to_external']['packets']") - to_ext0 ))
to_vm=$(( $(comp_json gw contoso "c['counters']['to_vm']['packets']") - to_vm0 ))
k=$(( $(tap_packets contoso) - k0 ))
log "dataplane: $to_ext to the external network, $to_vm to the VM network; namespace interfaces: $k packets"
[ "$to_ext" -ge 200 ] && [ "$to_vm" -ge 200 ] && pass "the compartment's fast path forwarded both directions" \
  || fail "fast path counters: $to_ext out, $to_vm in (want >= 200 each)"
[ "$k" -lt 20 ] && pass "the namespace's kernel saw $k packets (not the transit)" \
  || fail "the namespace's kernel saw $k packets during 400 transit packets"

step "a route added in the namespace reaches the fast path within one second"
ip -n "${P}phys" addr add 10.9.9.9/32 dev lo
ping_ok c1 10.9.9.9 1 && fail "10.9.9.9 reachable before the route exists" || pass "10.9.9.9 unreachable before"
in_fib() { comp_json gw contoso "any(r['destination'] == '10.9.9.0/24' and r['fast_path'] == 'forward' for r in c['routes'])"; }
t0=$(date +%s.%N)
ip -n "${P}contoso" route add 10.9.9.0/24 via 10.1.3.100
seen=
for i in $(seq 40); do
  if [ "$(in_fib)" = True ]; then seen=$(echo "$(date +%s.%N) - $t0" | bc); break; fi
  sleep 0.05
done
if [ -n "$seen" ] && [ "$(echo "$seen < 1" | bc)" = 1 ]; then pass "route 10.9.9.0/24 in the fast path after ${seen} s"
else fail "route 10.9.9.0/24 not in the fast path within 1 s (${seen:-never} s)"; fi
comp_json gw contoso "[r for r in c['routes'] if r['destination'] == '10.9.9.0/24']"
to_ext0=$(comp_json gw contoso "c['counters']['to_external']['packets']")
k0=$(tap_packets contoso)
ping_ok c1 10.9.9.9 50 0.01 && pass "Contoso1 -> 10.9.9.9 over the new route" || fail "Contoso1 -> 10.9.9.9 failed"
to_ext=$(( $(comp_json gw contoso "c['counters']['to_external']['packets']") - to_ext0 ))
k=$(( $(tap_packets contoso) - k0 ))
[ "$to_ext" -ge 50 ] && [ "$k" -lt 10 ] && pass "forwarded by the dataplane ($to_ext packets; namespace $k)" \
  || fail "over the new route: dataplane $to_ext packets, namespace $k"

t0=$(date +%s.%N)
ip -n "${P}contoso" route del 10.9.9.0/24 via 10.1.3.100
gone=
for i in $(seq 40); do
  if [ "$(in_fib)" = False ]; then gone=$(echo "$(date +%s.%N) - $t0" | bc); break; fi
  sleep 0.05
done
if [ -n "$gone" ] && [ "$(echo "$gone < 1" | bc)" = 1 ]; then pass "route 10.9.9.0/24 left the fast path after ${gone} s"
else fail "route 10.9.9.0/24 still in the fast path after 1 s"; fi
ping_ok c1 10.9.9.9 2 && fail "10.9.9.9 still reachable after the route was deleted" || pass "10.9.9.9 unreachable again"

step "a routing rule before main: the fast path leaves that table's prefixes to the kernel"
# As strongSwan's policy-based tunnels do (table 220 at priority 220): a
# table consulted before main holds 10.9.9.0/24 through a device of the
# namespace (a veth pair inside it, gfd0 -> gfd1, with a static neighbour: it
# counts what the kernel sends there, and nothing answers). Main still
# routes 10.9.9.0/24 to the physical host, so forwarding it would send in
# the clear, out of the external port, what the kernel sends elsewhere.
ip -n "${P}contoso" link add gfd0 type veth peer name gfd1
ip -n "${P}contoso" link set gfd0 up
ip -n "${P}contoso" link set gfd1 up
ip -n "${P}contoso" neigh add 10.9.9.9 lladdr 02:00:5e:00:99:09 dev gfd0 nud permanent
ip -n "${P}contoso" route add 10.9.9.0/24 via 10.1.3.100
fp_of() { comp_json gw contoso "[r['fast_path'] for r in c['routes'] if r['destination'] == '10.9.9.0/24' and r.get('table', 'main') == 'main'][0]"; }
for i in $(seq 40); do [ "$(fp_of)" = forward ] && break; sleep 0.05; done
[ "$(fp_of)" = forward ] || fail "10.9.9.0/24 not forwarded by the fast path before the rule: $(fp_of)"
ip -n "${P}contoso" route add 10.9.9.0/24 dev gfd0 table 100
ip -n "${P}contoso" rule add pref 100 lookup 100
for i in $(seq 40); do [ "$(fp_of)" = "punt (table 100 precedes main)" ] && break; sleep 0.05; done
[ "$(fp_of)" = "punt (table 100 precedes main)" ] && pass "hnvctl: 10.9.9.0/24 is 'punt (table 100 precedes main)'" \
  || fail "10.9.9.0/24 in the fast path with the rule: $(fp_of)"
log "-- $(hnv gw compartment contoso | grep '^  fast path')"
dummy_tx() { ip -n "${P}contoso" -s -j link show gfd0 | "$TOPO_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'; }
to_ext0=$(comp_json gw contoso "c['counters']['to_external']['packets']")
punt0=$(comp_json gw contoso "c['counters']['punted']['route']")
d0=$(dummy_tx)
cap_start rule phys eth0 icmp
# Exactly 50 echo requests (no deadline: ping would send more), none answered.
ns c1 timeout 10 ping -c 50 -i 0.01 -W 1 -q 10.9.9.9 >/dev/null 2>&1 && fail "10.9.9.9 answered despite the rule" || true
cap_stop rule
to_ext=$(( $(comp_json gw contoso "c['counters']['to_external']['packets']") - to_ext0 ))
punt=$(( $(comp_json gw contoso "c['counters']['punted']['route']") - punt0 ))
d=$(( $(dummy_tx) - d0 ))
seen=$(tcount rule "icmp.type == 8 && ip.dst == 10.9.9.9")
log "with the rule: fast path forwarded $to_ext, punted (route) $punt; the kernel sent $d out of gfd0; the physical host saw $seen echo requests"
[ "$punt" -ge 50 ] && [ "$to_ext" -lt 5 ] && pass "the fast path punted the 50 echo requests ($punt) instead of forwarding them ($to_ext)" \
  || fail "fast path with the rule: forwarded $to_ext, punted $punt (want >= 50 punted, none forwarded)"
[ "$d" -ge 50 ] && pass "the kernel routed them by table 100 ($d out of gfd0)" || fail "gfd0 sent $d packets (want >= 50)"
[ "$seen" = 0 ] && pass "nothing reached the external network" || fail "the physical host saw $seen echo requests to 10.9.9.9"
ip -n "${P}contoso" rule del pref 100 lookup 100
for i in $(seq 40); do [ "$(fp_of)" = forward ] && break; sleep 0.05; done
[ "$(fp_of)" = forward ] && pass "the rule removed: 10.9.9.0/24 forwarded by the fast path again" \
  || fail "10.9.9.0/24 after the rule was removed: $(fp_of)"
cap_start norule phys eth0 icmp
ping_ok c1 10.9.9.9 50 0.01 && pass "Contoso1 -> 10.9.9.9 through the fast path again" || fail "Contoso1 -> 10.9.9.9 failed after the rule was removed"
cap_stop norule
seen=$(tcount norule "icmp.type == 8 && ip.dst == 10.9.9.9")
[ "$seen" -ge 50 ] && pass "the capture sees them on the external network ($seen)" || fail "the capture saw $seen echo requests without the rule"
ip -n "${P}contoso" route del 10.9.9.0/24 via 10.1.3.100

step "punt path: the compartment's own addresses"
expect_ping c1 10.0.2.2 "Contoso1 -> MT-GW 10.0.2.2 (punted to the namespace)"
expect_ping phys 10.1.3.2 "physical host -> MT-GW 10.1.3.2"
expect_ping phys 10.0.2.2 "physical host -> MT-GW 10.0.2.2"
for pair in "phys 10.1.3.2 7001" "c1 10.0.2.2 7002"; do
  read -r src addr port <<<"$pair"
  rm -f "$W/tcp-$port.txt"
  cns contoso timeout 20 sh -c "nc -4 -l -d -p $port > $W/tcp-$port.txt" &
  TOPO_PIDS+=("$!")
  lpid=$!
  for i in $(seq 50); do grep -q ":$port " <<<"$(cns contoso ss -ltn)" && break; sleep 0.1; done
  echo "hello from $src" | ns "$src" timeout 10 nc -N "$addr" "$port" || true
  wait "$lpid" || true
  if grep -q "hello from $src" "$W/tcp-$port.txt" 2>/dev/null; then pass "TCP $src -> listener in the namespace at $addr:$port"
  else fail "TCP $src -> $addr:$port: nothing arrived"; fi
done
losses=$(hnv gw --json counters | "$TOPO_PY" -c '
import json, sys
ports = json.load(sys.stdin)["ports"]
print(" ".join(p["name"] + ":" + str(p.get("rx_missed", "none")) for p in ports))')
log "-- ports' receive-ring losses (rx_missed): $losses"
[[ $losses == *uplink:[0-9]* && $losses == *external:[0-9]* ]] && pass "hnvctl counters shows the ports' own losses" \
  || fail "hnvctl counters lacks rx_missed for the ethdev ports: $losses"
log "-- compartment counters:"; hnv gw compartment contoso | sed -n '/ounters/,$p' | head -30
topo_done
