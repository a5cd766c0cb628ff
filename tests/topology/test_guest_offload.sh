#!/usr/bin/env bash
# VMs keep their offloads (issue 16, items 1-2): the chapter's Host 1 and
# Host 2 with their VM ports as VnetPorts (hnv_vnet: AF_PACKET with the
# virtio-net header, dataplane/runtime/vnet_port.h) and mixed offloads:
#   Contoso1 (Host 1)  TSO, checksum offload, SG on   port hnv_vnet1 (gso=1)
#   Contoso2 (Host 1)  the same                       port hnv_vnet2 (gso=1)
#   Contoso3 (Host 2)  no offloads (tx off)           port hnv_vnet1,gso=0
# Checks, with real packets:
#  - pings both ways between all three;
#  - Contoso1 -> Contoso3, 20 MB over TCP, intact: Contoso1's 64 KB segments
#    (Host 1's `segmented` counter) leave Host 1 as NVGRE frames of at most
#    the underlay MTU (tshark on the provider veth, whole frames: outer and
#    inner IPv4 checksums, inner TCP checksums, no frame over 1514 bytes or
#    TCP payload over the clamped MSS, inner IPv4 IDs not repeated);
#  - Contoso3 -> Contoso1, intact: Contoso3's MSS frames are merged before
#    Contoso1's port (Host 1's `coalesced` counter);
#  - Contoso1 -> Contoso2 on one host, intact (large segments passed whole);
#  - no TCP checksum error in any VM's kernel, no drop for an unsupported
#    large segment;
#  - `hnvctl capture` on a VnetPort is refused and names its interface.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
topo_limit 150 "$0" "$@"
TOPO_NAME=guest_offload
topo_init go "$@"

CONF=$W/conf
mkdir -p "$CONF"
cp "$TOPO_ROOT"/config/examples/chapter/*.yaml "$CONF/"
topo_vnet_ports "$CONF/host1.yaml" "$CONF/host2.yaml"
sed -i 's/hnv_vnet1,iface=vm1$/&,gso=0/' "$CONF/host2.yaml"   # Contoso3 takes no large segments
grep -q 'hnv_vnet1,iface=vm1,gso=0' "$CONF/host2.yaml" || die "host2.yaml: VM port not rewritten"

step "namespaces, VMs (mixed offloads), two hosts with VnetPorts"
topo_chapter_hosts_net
topo_offloads c1 on; topo_offloads c2 on; topo_offloads c3 off
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_host h2 "$CONF/host2.yaml" 1,0
topo_wait_host h1
log "-- Contoso1 eth0: $(topo_offload_state c1)"
log "-- Contoso3 eth0: $(topo_offload_state c3)"

step "pings"
wait_ping c1 10.0.1.103 15 || die "Contoso1 cannot reach Contoso3"
expect_ping c1 10.0.1.103; expect_ping c3 10.0.1.101; expect_ping c1 10.0.1.102
expect_ping c2 10.0.1.103; expect_ping c3 10.0.1.102

csum_errors() { ns "$1" nstat -az TcpInCsumErrors | awk '$1=="TcpInCsumErrors" {print $2}'; }

step "Contoso1 (TSO) -> Contoso3 (no offloads), 20 MB; the provider veth captured whole"
# Host 1's end of its uplink, in the provider namespace; the first 3,000
# frames (about 4 MB) are enough for tshark to check each one.
cap_start wire pn h1 "ip proto 47" 1600 3000
seg0=$(counter h1 segmented)
if tcp_transfer c1 c3 10.0.1.103 20 5001; then
  pass "Contoso1 -> Contoso3 intact ($TCP_RATE Mbit/s)"
else
  fail "Contoso1 -> Contoso3: transfer failed or corrupted"
fi
cap_stop wire
segs=$(( $(counter h1 segmented) - seg0 ))
if [ "$segs" -gt 0 ]; then pass "Host 1 split $segs large segments from Contoso1"
else fail "Host 1 split no large segment: Contoso1 sent none (offloads not kept?)"; fi

# One pass: per NVGRE frame of the transfer (inner 10.0.1.101 -> .103, data):
# frame length, outer and inner IPv4 checksum status, TCP checksum status,
# TCP payload length, inner IPv4 ID.
tsh wire -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
  -Y 'gre.proto == 0x6558 && ip.src == 10.0.1.101 && ip.dst == 10.0.1.103 && tcp.len > 0' \
  -T fields -E separator='|' -E occurrence=a -e frame.len -e ip.checksum.status \
  -e tcp.checksum.status -e tcp.len -e ip.id >"$W/wire.txt" || true
read -r frames maxlen maxpay bad_ip bad_tcp dup_ids < <(awk -F'|' '
  { n++; if ($1 > ml) ml = $1; if ($4 > mp) mp = $4
    split($2, s, ","); for (i in s) if (s[i] != "1") bi++
    if ($3 != "1") bt++
    split($5, id, ","); if (seen[id[2]]++) dup++ }
  END { printf "%d %d %d %d %d %d\n", n, ml, mp, bi, bt, dup }' "$W/wire.txt")
log "-- on the wire: $frames data frames, longest $maxlen bytes, TCP payload up to $maxpay"
[ "$frames" -ge 1000 ] && pass "$frames NVGRE data frames of the transfer captured" ||
  fail "only $frames NVGRE data frames of the transfer captured"
[ "$maxlen" -le 1514 ] && [ "$maxlen" -ge 1400 ] && pass "frames of the underlay MTU (longest $maxlen bytes)" ||
  fail "longest NVGRE frame $maxlen bytes (want 1400..1514)"
[ "$maxpay" -le 1418 ] && pass "TCP payload within the clamped MSS ($maxpay <= 1418)" ||
  fail "TCP payload of $maxpay bytes: over the MSS that fits the underlay"
[ "$bad_ip" = 0 ] && pass "outer and inner IPv4 checksums good" || fail "$bad_ip IPv4 checksums not good"
[ "$bad_tcp" = 0 ] && pass "inner TCP checksums good" || fail "$bad_tcp TCP checksums not good"
[ "$dup_ids" = 0 ] && pass "inner IPv4 IDs not repeated" || fail "$dup_ids repeated inner IPv4 IDs"

step "Contoso3 (no offloads) -> Contoso1 (GRO before its port), 20 MB"
co0=$(counter h1 coalesced)
if tcp_transfer c3 c1 10.0.1.101 20 5002; then
  pass "Contoso3 -> Contoso1 intact ($TCP_RATE Mbit/s)"
else
  fail "Contoso3 -> Contoso1: transfer failed or corrupted"
fi
co=$(( $(counter h1 coalesced) - co0 ))
[ "$co" -gt 0 ] && pass "Host 1 merged $co frames into large segments for Contoso1" ||
  fail "Host 1 merged nothing before Contoso1's port"

step "Contoso1 -> Contoso2 on one host, 20 MB (large segments passed whole)"
seg0=$(counter h1 segmented)
if tcp_transfer c1 c2 10.0.1.102 20 5003; then
  pass "Contoso1 -> Contoso2 intact ($TCP_RATE Mbit/s)"
else
  fail "Contoso1 -> Contoso2: transfer failed or corrupted"
fi
[ "$(counter h1 segmented)" = "$seg0" ] && pass "nothing split between two VMs that take large segments" ||
  fail "Host 1 split large segments between Contoso1 and Contoso2"

step "hnvctl capture on a VnetPort: refused, naming the interface to capture on"
if hnv h1 capture Contoso1 "$W/vm.pcap" --count 1 --seconds 1 >"$W/cap.txt" 2>&1; then
  fail "hnvctl capture Contoso1 succeeded on a VnetPort (it sees none of its frames)"
elif grep -q 'dumpcap -i vm1' "$W/cap.txt"; then
  pass "hnvctl capture Contoso1 refused: $(head -c 120 "$W/cap.txt")"
else
  fail "hnvctl capture Contoso1: $(cat "$W/cap.txt")"
fi

step "checksum errors and drops"
for n in c1 c2 c3; do
  e=$(csum_errors "$n")
  [ "${e:-0}" = 0 ] && pass "$n: no TCP checksum error" || fail "$n: $e TCP checksum errors"
done
for h in h1 h2; do
  d=$(drops "$h" | awk '$1 ~ /gso|no-mbuf|malformed/' | tr '\n' ' ')
  [ -z "$d" ] && pass "$h: no gso-unsupported, no-mbuf or malformed drops" || fail "$h: drops $d"
done
topo_done
