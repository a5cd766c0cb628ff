#!/usr/bin/env bash
# hnvctl's diagnostics on the chapter's lab:
#  - `hnvctl trace` of a described Contoso1 -> Contoso3 ICMP frame shows the
#    nvgre-encap step and the frame leaving on the uplink (port 0) as NVGRE
#    192.168.0.22 -> 192.168.0.33 with VSID 6000, and the output frame decodes
#    (tshark) as that; a frame to a CA without a record shows a drop and no
#    output;
#  - `hnvctl capture uplink FILE --count 10` during a ping writes a pcap that
#    tshark decodes as GRE with the key of VSID 6000 around the ICMP; a
#    capture on Contoso1's adapter holds the plain ICMP.
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=trace_capture
topo_init tc "$@"
CHAPTER=$TOPO_ROOT/config/examples/chapter

step "topology: the chapter's lab"
topo_chapter_hosts_net
topo_host h1 "$CHAPTER/host1.yaml" 0,1 --no-wait
topo_host h2 "$CHAPTER/host2.yaml" 1,0 --no-wait
topo_wait_host h1
topo_wait_host h2
wait_ping c1 10.0.1.103 10 || fail "Contoso1 -> Contoso3 does not work"

step "hnvctl trace Contoso1 --describe 'eth ... / ipv4 10.0.1.101 -> 10.0.1.103 / icmp'"
DESC='eth src=60:00:60:00:01:01 dst=60:00:60:00:02:03 / ipv4 src=10.0.1.101 dst=10.0.1.103 / icmp id=7 seq=1 / payload len=32'
if ! hnv h1 trace Contoso1 --describe "$DESC" >"$W/trace.txt" 2>&1; then
  fail "hnvctl trace failed: $(cat "$W/trace.txt")"
fi
sed 's/^/  /' "$W/trace.txt" | cut -c1-160
grep -Eq '^[0-9]+\. nvgre-encap' "$W/trace.txt" && pass "the trace has the nvgre-encap step" ||
  fail "no nvgre-encap step in the trace"
grep -Eq '^-> port 0: .*NVGRE 192\.168\.0\.22 -> 192\.168\.0\.33 VSID 6000 ' "$W/trace.txt" &&
  pass "the frame leaves on port 0 (uplink) as NVGRE 192.168.0.22 -> 192.168.0.33, VSID 6000" ||
  fail "no output on port 0 (uplink) as NVGRE .22 -> .33 VSID 6000"
[ "$(grep -c '^-> ' "$W/trace.txt")" = 1 ] && pass "exactly one frame leaves" ||
  fail "$(grep -c '^-> ' "$W/trace.txt") frames leave (expected 1)"
# The traced output frame, decoded by tshark.
hex=$(awk '/^-> port 0/ { getline; print $2; exit }' "$W/trace.txt")
if [ -n "$hex" ]; then
  frame_pcap "$hex" "$W/trace-out.pcap"
  dec=$(tshark -r "$W/trace-out.pcap" -T fields -e eth.dst -e ip.src -e ip.dst -e gre.proto \
        -e gre.key -e icmp.type 2>/dev/null)
  log "  tshark: $dec"
  if [[ $dec == 44:55:66:77:88:99*192.168.0.22,10.0.1.101*192.168.0.33,10.0.1.103*0x6558*0x001770*8 ]]; then
    pass "the traced output frame decodes as NVGRE to Host 2's PA MAC with the ICMP echo inside"
  else
    fail "the traced output frame decodes as: $dec"
  fi
else
  fail "the trace shows no output frame bytes"
fi
hnv h1 trace vm1 --describe "$DESC" >/dev/null 2>&1 && pass "trace by port name (vm1) works" ||
  fail "trace by port name vm1 fails"

step "hnvctl trace of a frame to a CA with no record"
hnv h1 trace Contoso1 --describe 'eth src=60:00:60:00:01:01 dst=60:00:60:00:01:99 / ipv4 src=10.0.1.101 dst=10.0.1.199 / icmp' \
  >"$W/trace2.txt" 2>&1 || fail "hnvctl trace (no record) failed: $(cat "$W/trace2.txt")"
sed 's/^/  /' "$W/trace2.txt"
grep -q 'no frame leaves' "$W/trace2.txt" && grep -Eqi 'drop|unknown-dst-mac' "$W/trace2.txt" &&
  pass "a frame to an unknown MAC is dropped with a reason, nothing leaves" ||
  fail "the trace of a frame to an unknown MAC shows no drop"

step "hnvctl capture uplink FILE --count 10 during a ping"
ns c1 ping -c 40 -i 0.2 -w 15 -q 10.0.1.103 >/dev/null 2>&1 &
TOPO_PIDS+=("$!")
if hnv h1 capture uplink "$W/uplink.pcap" --count 10 --seconds 20 >"$W/cap.txt" 2>&1; then
  log "  $(cat "$W/cap.txt")"
else
  fail "hnvctl capture failed: $(cat "$W/cap.txt")"
fi
hnv h1 capture Contoso1 "$W/vm.pcap" --count 8 --seconds 20 >"$W/cap2.txt" 2>&1 ||
  fail "hnvctl capture Contoso1 failed: $(cat "$W/cap2.txt")"
[ -s "$W/uplink.pcap" ] || fail "no pcap written"
tshark -r "$W/uplink.pcap" -T fields -e ip.src -e ip.dst -e gre.key -e icmp.type -e arp.opcode 2>/dev/null | head -12 |
  sed 's/^/  /'
# Besides the NVGRE frames the uplink carries the PAs' own ARP, and the
# IGMP reports the lab's kernels send on their provider veths after link-up
# (0.0.0.0 -> 224.0.0.22; CI saw one in the capture): not ours, not counted.
frames=$(tshark -r "$W/uplink.pcap" 2>/dev/null | wc -l)
ipf=$(tshark -r "$W/uplink.pcap" -Y 'ip && !igmp' 2>/dev/null | wc -l)
gre=$(tshark -r "$W/uplink.pcap" -Y "gre.proto == 0x6558 && icmp && $(gre_key_range 6000)" 2>/dev/null | wc -l)
[ "$frames" -ge 10 ] && pass "the uplink pcap has $frames frames" || fail "the uplink pcap has $frames frames (expected >= 10)"
[ "$gre" = "$ipf" ] && [ "$gre" -ge 5 ] &&
  pass "tshark decodes all $gre IP frames as GRE (0x6558) with the key of VSID 6000 around ICMP" ||
  fail "only $gre of $ipf IP frames on the uplink decode as NVGRE VSID 6000 with ICMP"
vm=$(tshark -r "$W/vm.pcap" -Y '!gre && icmp && ip.addr == 10.0.1.101' 2>/dev/null | wc -l)
tshark -r "$W/vm.pcap" 2>/dev/null | sed "s/^/  vm: /"
[ "$vm" -ge 4 ] && pass "Contoso1's adapter pcap holds $vm plain ICMP frames" ||
  fail "Contoso1's adapter pcap holds $vm plain ICMP frames (expected >= 4)"
for h in h1 h2; do log "-- $h drops: $(drops $h | tr '\n' ' ')"; done
topo_done
