#!/usr/bin/env bash
# hnvctl trace and capture on hnv-gateway (the chapter's setup without Host 2,
# tests/topology/lib.sh topo_gateway_lab):
#  - `hnvctl trace external` of an echo request from the physical host to
#    Contoso1 shows the compartment's decisions (gw-input on contoso/ext0,
#    gw-route out of contoso/vmnet towards 10.0.2.1, gw-rewrite into the VM
#    network), then the HNV pipeline's nvgre-encap, and exactly one frame
#    leaving on the uplink (port 0), which tshark decodes as NVGRE from the
#    gateway's PA 192.168.0.11 around that echo request; a frame to an
#    address no route covers is punted or dropped with its reason, and the
#    trace leaves the daemon's counters alone;
#  - three captures at once, during 30 echo requests Contoso1 -> physical
#    host: `capture external` (background, by id), `capture contoso/ext0`
#    (the compartment's external interface) and `capture contoso/vmnet`
#    (its interface into the VM network, a virtual port): each pcap holds
#    the plain echo requests and replies (no GRE); while they run, other
#    hnvctl requests are answered at once (each under 1 s);
#  - `capture --stop ID` ends a background capture; errors name the cause;
#  - metrics: both daemons run with --metrics 127.0.0.1:9464 (each in its
#    own namespace); a scrape of each passes `promtool check metrics`; Host
#    1's uplink and the compartment's to_vm counter grew by the 20 echo
#    replies between two scrapes; drop and punt reasons are labelled.
. "$(dirname "$0")/lib.sh"
topo_limit 200 "$0" "$@"
TOPO_NAME=gateway_trace_capture
topo_init gt "$@"
METRICS=127.0.0.1:9464

step "topology: Host 1, the gateway host, the physical host (chapter configuration)"
TOPO_METRICS=$METRICS  # both daemons, each in its own namespace
topo_gateway_lab "$TOPO_ROOT/config/examples/chapter"
PHYS_MAC=$(ip -n "${P}phys" -j link show eth0 | "$TOPO_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
log "physical host MAC $PHYS_MAC"

step "hnvctl trace external: physical host -> Contoso1 through the compartment"
fwd0=$(comp_json gw contoso "c['counters']['to_vm']['packets']")
DESC="eth src=$PHYS_MAC dst=60:01:60:01:03:02 / ipv4 src=10.1.3.100 dst=10.0.1.101 / icmp id=9 seq=1 / payload len=32"
hnv gw trace external --describe "$DESC" >"$W/trace.txt" 2>&1 || fail "hnvctl trace failed: $(cat "$W/trace.txt")"
sed 's/^/  /' "$W/trace.txt" | cut -c1-170
grep -Eq '^[0-9]+\. gw-input: .*contoso/ext0' "$W/trace.txt" && pass "gw-input: in on contoso/ext0" ||
  fail "no gw-input step on contoso/ext0"
grep -Eq '^[0-9]+\. gw-route: .*out contoso/vmnet .*next hop 10\.0\.2\.1' "$W/trace.txt" &&
  pass "gw-route: out contoso/vmnet, next hop 10.0.2.1" || fail "no gw-route step out of contoso/vmnet via 10.0.2.1"
grep -Eq '^[0-9]+\. gw-rewrite: .*into the VM network' "$W/trace.txt" && pass "gw-rewrite: into the VM network" ||
  fail "no gw-rewrite step into the VM network"
grep -Eq '^[0-9]+\. nvgre-encap' "$W/trace.txt" && pass "then the HNV pipeline's nvgre-encap" ||
  fail "no nvgre-encap step after the compartment"
[ "$(grep -c '^-> ' "$W/trace.txt")" = 1 ] && grep -Eq '^-> port 0: .*NVGRE 192\.168\.0\.11 -> ' "$W/trace.txt" &&
  pass "exactly one frame leaves, on port 0 (uplink) as NVGRE from 192.168.0.11" ||
  fail "the trace's outputs: $(grep '^-> ' "$W/trace.txt" | tr '\n' ' ')"
hex=$(awk '/^-> port 0/ { getline; print $2; exit }' "$W/trace.txt")
if [ -n "$hex" ]; then
  frame_pcap "$hex" "$W/trace-out.pcap"
  dec=$(tshark -r "$W/trace-out.pcap" -T fields -e ip.src -e ip.dst -e gre.proto -e icmp.type -e ip.ttl 2>/dev/null)
  log "  tshark: $dec"
  [[ $dec == 192.168.0.11,10.1.3.100*0x6558*8* ]] &&
    pass "the traced output decodes as NVGRE from the gateway's PA around the echo request" ||
    fail "the traced output decodes as: $dec"
else
  fail "the trace shows no output frame bytes"
fi
fwd=$(( $(comp_json gw contoso "c['counters']['to_vm']['packets']") - fwd0 ))
[ "$fwd" = 0 ] && pass "the trace did not touch the compartment's counters" || fail "the trace counted $fwd frames"

step "hnvctl trace of a frame for an address no route covers"
hnv gw trace external --describe "eth src=$PHYS_MAC dst=60:01:60:01:03:02 / ipv4 src=10.1.3.100 dst=10.77.0.1 / icmp" \
  >"$W/trace2.txt" 2>&1 || fail "hnvctl trace failed: $(cat "$W/trace2.txt")"
sed 's/^/  /' "$W/trace2.txt" | cut -c1-170
grep -Eq '^[0-9]+\. gw-route: .*(punted to the kernel|dropped): [a-z-]+ \(' "$W/trace2.txt" &&
  pass "gw-route punts or drops it, with its reason" || fail "no punt or drop with a reason at gw-route"
grep -q '^-> ' "$W/trace2.txt" && fail "a frame leaves" || pass "nothing leaves the gateway"
hnv gw trace nowhere/ext0 --describe "$DESC" >"$W/trace3.txt" 2>&1 && fail "trace on nowhere/ext0 succeeded" ||
  pass "trace on a compartment interface refused: $(head -1 "$W/trace3.txt")"

step "three captures at once during 30 echo requests; hnvctl answers meanwhile"
if ! hnv gw capture external "$W/port.pcap" --count 1000 --seconds 60 --background >"$W/bg.txt" 2>&1; then
  fail "background capture failed: $(cat "$W/bg.txt")"
fi
log "  $(cat "$W/bg.txt")"
ID=$(sed -n 's/^capture \([0-9]*\) running.*/\1/p' "$W/bg.txt")
[ -n "$ID" ] && pass "the background capture has id $ID" || fail "no capture id in: $(cat "$W/bg.txt")"
hnv gw capture contoso/ext0 "$W/ext0.pcap" --count 40 --seconds 25 >"$W/cap-ext0.txt" 2>&1 &
CAP1=$!; TOPO_PIDS+=("$CAP1")
hnv gw capture contoso/vmnet "$W/vmnet.pcap" --count 40 --seconds 25 >"$W/cap-vmnet.txt" 2>&1 &
CAP2=$!; TOPO_PIDS+=("$CAP2")
sleep 0.5
slow=0
for i in 1 2 3 4 5; do
  t0=$(date +%s%N)
  hnv gw compartments >/dev/null 2>&1 || fail "hnvctl compartments failed during the captures"
  hnv gw --json capture --status "$ID" >/dev/null 2>&1 || fail "capture --status $ID failed"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  log "  compartments + capture --status while capturing: $ms ms"
  [ "$ms" -lt 1000 ] || slow=$((slow + 1))
done
[ "$slow" = 0 ] && pass "hnvctl requests answered at once while three captures run" ||
  fail "$slow of 5 hnvctl requests took 1 s or more during the captures"
ping_ok c1 10.1.3.100 30 0.02 && pass "30 echo requests answered during the captures" || fail "echo requests lost during the captures"
wait "$CAP1" && pass "capture contoso/ext0: $(cat "$W/cap-ext0.txt")" || fail "capture contoso/ext0: $(cat "$W/cap-ext0.txt")"
wait "$CAP2" && pass "capture contoso/vmnet: $(cat "$W/cap-vmnet.txt")" || fail "capture contoso/vmnet: $(cat "$W/cap-vmnet.txt")"
hnv gw capture --stop "$ID" >"$W/stop.txt" 2>&1 && pass "capture --stop $ID: $(cat "$W/stop.txt")" ||
  fail "capture --stop $ID: $(cat "$W/stop.txt")"
hnv gw --json capture --status "$ID" | grep -q '"running": false' && pass "capture $ID is no longer running" ||
  fail "capture $ID still running after --stop"
for f in port ext0 vmnet; do
  req=$(tshark -r "$W/$f.pcap" -Y 'icmp.type == 8 && ip.src == 10.0.1.101 && ip.dst == 10.1.3.100 && !gre' 2>/dev/null | wc -l)
  rep=$(tshark -r "$W/$f.pcap" -Y 'icmp.type == 0 && ip.src == 10.1.3.100 && ip.dst == 10.0.1.101 && !gre' 2>/dev/null | wc -l)
  gre=$(tshark -r "$W/$f.pcap" -Y gre 2>/dev/null | wc -l)
  log "  $f.pcap: $req echo requests, $rep replies, $gre GRE frames"
  [ "$req" -ge 15 ] && [ "$rep" -ge 15 ] && [ "$gre" = 0 ] &&
    pass "$f.pcap holds the plain echo requests and replies" || fail "$f.pcap: $req requests, $rep replies, $gre GRE"
done
# On the VM network side the compartment's frames carry its vmnet MAC; on
# the external side its ext0 MAC.
tshark -r "$W/vmnet.pcap" -Y 'icmp && eth.addr == 60:01:60:01:03:01' 2>/dev/null | grep -q . &&
  pass "vmnet.pcap frames carry the compartment's vmnet MAC" || fail "vmnet.pcap frames lack the vmnet MAC"
tshark -r "$W/ext0.pcap" -Y 'icmp && eth.addr == 60:01:60:01:03:02' 2>/dev/null | grep -q . &&
  pass "ext0.pcap frames carry the compartment's ext0 MAC" || fail "ext0.pcap frames lack the ext0 MAC"

step "metrics: a scrape of each daemon, checked by promtool"
scrape() { ip netns exec "$P$1" curl -s --max-time 5 "http://$METRICS/metrics"; }
metric() { sed -n "s/^$2 \([0-9.e+]*\)\$/\1/p" "$W/$1.metrics"; }
grows() {  # grows NAME METRIC: the metric grew by >= 20 from NAME0 to NAME
  local a b
  a=$(metric "${1}0" "$2"); b=$(metric "$1" "$2")
  if [ -n "$a" ] && [ -n "$b" ] && [ $(( ${b%.*} - ${a%.*} )) -ge 20 ]; then pass "$1: $2 grew by the 20 echo replies ($a -> $b)"
  else fail "$1: $2 went $a -> $b (want +20)"; fi
}
sleep 1.2  # published once a second
for h in h1 gw; do scrape "$h" >"$W/${h}0.metrics"; done
ping_ok c1 10.1.3.100 20 0.02 || fail "echo requests lost between the scrapes"
sleep 1.2
for h in h1 gw; do
  scrape "$h" >"$W/$h.metrics"
  log "  $h: $(wc -l <"$W/$h.metrics") lines; $(grep -E '^hnv_(policy_generation|compartments) ' "$W/$h.metrics" | tr '\n' ' ')"
  if promtool check metrics <"$W/$h.metrics" >"$W/$h.promtool" 2>&1; then pass "$h: promtool check metrics accepts the scrape"
  else fail "$h: promtool check metrics: $(head -5 "$W/$h.promtool")"; fi
  grep -q '^hnv_drops_total{reason="malformed"} ' "$W/$h.metrics" && pass "$h: drop reasons are labelled" ||
    fail "$h: no hnv_drops_total{reason=\"malformed\"}"
done
grows h1 'hnv_port_rx_packets_total{port="uplink"}'
grows gw 'hnv_compartment_to_vm_packets_total{compartment="contoso"}'
grep -q '^hnv_compartment_punts_total{compartment="contoso",reason="no-route"} ' "$W/gw.metrics" &&
  pass "gw: the compartment's punts are labelled by reason" || fail "gw: no hnv_compartment_punts_total{compartment=\"contoso\",reason=\"no-route\"}"

step "capture errors"
hnv gw capture contoso/nope "$W/x.pcap" --count 1 --seconds 1 >"$W/e1.txt" 2>&1 && fail "capture contoso/nope succeeded" ||
  { grep -q 'no interface "nope"' "$W/e1.txt" && pass "capture contoso/nope: $(head -1 "$W/e1.txt")" || fail "capture contoso/nope: $(cat "$W/e1.txt")"; }
hnv gw capture --status 9999 >"$W/e2.txt" 2>&1 && fail "capture --status 9999 succeeded" ||
  { grep -q 'no such capture' "$W/e2.txt" && pass "capture --status 9999: $(head -1 "$W/e2.txt")" || fail "capture --status 9999: $(cat "$W/e2.txt")"; }
topo_done
