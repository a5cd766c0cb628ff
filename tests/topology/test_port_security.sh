#!/usr/bin/env bash
# Port security in the chapter's lab (config/examples/chapter/: Contoso1 and
# Contoso2 on Host 1, Contoso3 on Host 2), with real frames from Contoso1
# (scapy on its eth0). Asserts, with the defaults (anti-spoofing, DhcpGuard
# and RouterGuard on):
#  - ARP poisoning: Contoso1's ARP replies and gratuitous ARP saying
#    "10.0.1.103 is at Contoso1's MAC" are dropped on Host 1 (arp-spoof,
#    exactly as many as sent) and Contoso2's neighbour entry for 10.0.1.103
#    keeps Contoso3's MAC;
#  - IP spoofing: UDP from Contoso1 with Contoso3's address as source to
#    Contoso2, and with Contoso2's to Contoso3, never arrives (captures in
#    both VMs; ip-spoof counts them exactly), while the same datagrams with
#    Contoso1's own address arrive;
#  - a DHCP offer from Contoso1 is dropped (dhcp-guard) and Contoso2 sees none;
#  - no VM's own traffic (ARP, IPv6 DAD, MLD from ::, ...) is dropped by a
#    guard on either host: the counters hold only what the attack sent.
# Then `hnvctl Set-VMNetworkAdapter -VMName Contoso1 -MacAddressSpoofing On
# -DhcpGuard Off`, live: Get-VMNetworkAdapter shows it, the same ARP
# poisoning, spoofed UDP and DHCP offer reach Contoso2, and no guard counts
# them. Switched back on, Contoso2 pings Contoso3 again.
# Port ACLs, live through hnvctl on Host 1, while Contoso2 pings Contoso3
# (60 echo requests, none may be lost): a stateful extended ACL lets
# Contoso1 open TCP to Contoso3 and refuses TCP that Contoso3 opens to
# Contoso1 (acl-extended-deny); a Meter ACL counts Contoso1's traffic with
# Contoso3 (Get-VMNetworkAdapterAcl); the rules survive `hnvctl apply` (the
# journal); removed, Contoso3 reaches Contoso1 again.
. "$(dirname "$0")/lib.sh"
topo_limit 130 "$0" "$@"
TOPO_NAME=port_security
topo_init ps "$@"
CONF=$TOPO_ROOT/config/examples/chapter
C1=60:00:60:00:01:01 C2=60:00:60:00:01:02 C3=60:00:60:00:02:03

step "the chapter's lab: Contoso1, Contoso2 on Host 1, Contoso3 on Host 2"
topo_infra h1 h2 pn
topo_ns c1 c2 c3
topo_link c1 eth0 h1 vm1; topo_link c2 eth0 h1 vm2; topo_link c3 eth0 h2 vm1
topo_provider pn h1 h2
topo_vm c1 10.0.1.101/24 $C1 10.0.1.1
topo_vm c2 10.0.1.102/24 $C2 10.0.1.1
topo_vm c3 10.0.1.103/24 $C3 10.0.1.1
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_host h2 "$CONF/host2.yaml" 1,0 --no-wait
topo_wait_host h1
topo_wait_host h2
hnv h1 'Get-VMNetworkAdapter Contoso1 | fl VMName,MacAddressSpoofing,DhcpGuard,RouterGuard' |
  sed 's/^/  /'

# attack PHASE: Contoso1 sends, on its eth0: 3 ARP replies to Contoso2 and 3
# gratuitous ARP claiming 10.0.1.103; 5 UDP datagrams 10.0.1.103 -> Contoso2
# and 5 10.0.1.102 -> Contoso3 (port 5000 + PHASE); 3 DHCP offers
# (broadcast, UDP 67 -> 68); and, with its own address, 5 UDP datagrams to
# each of Contoso2 and Contoso3 (port 5100 + PHASE).
attack() {
  ns c1 timeout 60 "$TOPO_PY" - "$1" <<EOF
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, BOOTP, DHCP, IP, UDP, Ether, conf, sendp
conf.verb = 0
phase = int(sys.argv[1])
c1, c2, c3 = "$C1", "$C2", "$C3"
frames = []
frames += [Ether(src=c1, dst=c2) / ARP(op=2, hwsrc=c1, psrc="10.0.1.103", hwdst=c2, pdst="10.0.1.102")] * 3
frames += [Ether(src=c1, dst="ff:ff:ff:ff:ff:ff") /
           ARP(op=1, hwsrc=c1, psrc="10.0.1.103", hwdst="00:00:00:00:00:00", pdst="10.0.1.103")] * 3
for src, dst, mac in (("10.0.1.103", "10.0.1.102", c2), ("10.0.1.102", "10.0.1.103", c3)):
    frames += [Ether(src=c1, dst=mac) / IP(src=src, dst=dst) / UDP(sport=4000, dport=5000 + phase) / b"SPOOF"] * 5
frames += [Ether(src=c1, dst="ff:ff:ff:ff:ff:ff") / IP(src="10.0.1.101", dst="255.255.255.255") /
           UDP(sport=67, dport=68) / BOOTP(op=2, yiaddr="10.0.1.102", chaddr=bytes.fromhex(c2.replace(":", ""))) /
           DHCP(options=[("message-type", "offer"), "end"])] * 3
for dst, mac in (("10.0.1.102", c2), ("10.0.1.103", c3)):
    frames += [Ether(src=c1, dst=mac) / IP(src="10.0.1.101", dst=dst) / UDP(sport=4000, dport=5100 + phase) / b"OWN"] * 5
sendp(frames, iface="eth0", inter=0.01)
EOF
}
# neigh NS ADDR: the MAC of ADDR in the namespace's neighbour table.
neigh() { ns "$1" ip neigh show "$2" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }
# guard_drops [HOST]: "arp-spoof ip-spoof nd-spoof dhcp-guard router-guard" (Host 1).
guard_drops() {
  hnv "${1:-h1}" --json counters | "$TOPO_PY" -c '
import json, sys
d = json.load(sys.stdin)["drops"]
print(" ".join(str(d.get(k, 0)) for k in ("arp-spoof", "ip-spoof", "nd-spoof", "dhcp-guard", "router-guard")))'
}
# delta BEFORE AFTER: the element-wise difference of two guard_drops lines.
delta() {
  local -a b=($1) a=($2) out=()
  local i
  for i in "${!a[@]}"; do out+=($((a[i] - b[i]))); done
  echo "${out[*]}"
}

step "Contoso2 knows Contoso3; captures in Contoso2 and Contoso3"
expect_ping c2 10.0.1.103 "Contoso2 -> Contoso3"
expect_ping c1 10.0.1.102 "Contoso1 -> Contoso2"
[ "$(neigh c2 10.0.1.103)" = "$C3" ] || die "Contoso2's entry for 10.0.1.103 is '$(neigh c2 10.0.1.103)', not $C3"
cap_start c2 c2 eth0 "arp or udp"
cap_start c3 c3 eth0 "udp"
sleep 1.1   # past the neighbour entry's locktime: a forged reply would now replace it

step "guards on (the default): ARP poisoning, IP spoofing and a DHCP offer from Contoso1"
before=$(guard_drops)
attack 1 || die "scapy could not send"
sleep 0.3
got=$(delta "$before" "$(guard_drops)")
log "  Host 1 arp-spoof ip-spoof nd-spoof dhcp-guard router-guard: +${got// / +}"
[ "$got" = "6 10 0 3 0" ] && pass "Host 1 dropped 6 ARP (arp-spoof), 10 UDP (ip-spoof), 3 DHCP offers (dhcp-guard), nothing else of Contoso1's" ||
  fail "Host 1's guard drops grew by '$got', expected '6 10 0 3 0' (arp ip nd dhcp router)"
mac=$(neigh c2 10.0.1.103)
[ "$mac" = "$C3" ] && pass "Contoso2 still has 10.0.1.103 at Contoso3's MAC $C3" ||
  fail "Contoso2's entry for 10.0.1.103 became '$mac' (poisoned)"

step "guards off, live: Set-VMNetworkAdapter -VMName Contoso1 -MacAddressSpoofing On -DhcpGuard Off"
hnv h1 Set-VMNetworkAdapter -VMName Contoso1 -MacAddressSpoofing On -DhcpGuard Off ||
  fail "hnvctl Set-VMNetworkAdapter failed"
view=$(hnv h1 'Get-VMNetworkAdapter Contoso1 | fl MacAddressSpoofing,DhcpGuard,RouterGuard' | tr '\n' ' ')
[ "$view" = "MacAddressSpoofing: On DhcpGuard: Off RouterGuard: On " ] && pass "Get-VMNetworkAdapter: $view" ||
  fail "Get-VMNetworkAdapter shows '$view'"
sleep 1.1
before=$(guard_drops)
attack 2 || die "scapy could not send"
sleep 0.3
got=$(delta "$before" "$(guard_drops)")
[ "$got" = "0 0 0 0 0" ] && pass "no guard drop with the switches off" ||
  fail "guard drops grew by '$got' with the switches off"
mac=$(neigh c2 10.0.1.103)
[ "$mac" = "$C1" ] && pass "unguarded, Contoso1's forged ARP reaches Contoso2: 10.0.1.103 at $mac" ||
  fail "unguarded, Contoso2's entry for 10.0.1.103 is '$mac', not Contoso1's $C1 (the test's ARP would not poison)"
cap_stop c2 c3

step "what Contoso2 and Contoso3 received"
read -r s2_1 own2_1 s2_2 own2_2 arp2_1 dhcp2 <<<"$(tcounts c2 \
  "udp.dstport == 5001 && ip.src == 10.0.1.103" "udp.dstport == 5101 && ip.src == 10.0.1.101" \
  "udp.dstport == 5002 && ip.src == 10.0.1.103" "udp.dstport == 5102 && ip.src == 10.0.1.101" \
  "arp.src.proto_ipv4 == 10.0.1.103 && arp.src.hw_mac == $C1" "udp.dstport == 68")"
read -r s3_1 own3_1 s3_2 own3_2 <<<"$(tcounts c3 \
  "udp.dstport == 5001 && ip.src == 10.0.1.102" "udp.dstport == 5101 && ip.src == 10.0.1.101" \
  "udp.dstport == 5002 && ip.src == 10.0.1.102" "udp.dstport == 5102 && ip.src == 10.0.1.101")"
log "  Contoso2: spoofed $s2_1 / own $own2_1 (guarded), spoofed $s2_2 / own $own2_2 (unguarded); forged ARP $arp2_1; DHCP offers $dhcp2"
log "  Contoso3: spoofed $s3_1 / own $own3_1 (guarded), spoofed $s3_2 / own $own3_2 (unguarded)"
[ "$s2_1" = 0 ] && [ "$s3_1" = 0 ] && pass "guarded: no spoofed datagram reached Contoso2 or Contoso3" ||
  fail "guarded: spoofed datagrams arrived (Contoso2 $s2_1, Contoso3 $s3_1)"
[ "$own2_1" = 5 ] && [ "$own3_1" = 5 ] && pass "guarded: Contoso1's datagrams with its own address arrived (5 + 5)" ||
  fail "guarded: Contoso1's own datagrams: Contoso2 $own2_1, Contoso3 $own3_1 of 5"
[ "$s2_2" = 5 ] && pass "unguarded: the spoofed datagrams reach Contoso2 (5)" ||
  fail "unguarded: $s2_2 of 5 spoofed datagrams reached Contoso2"
[ "$own2_2" = 5 ] || fail "unguarded: $own2_2 of Contoso1's own 5 datagrams reached Contoso2"
[ "$arp2_1" = 6 ] && pass "forged ARP at Contoso2: only the 6 sent unguarded" ||
  fail "forged ARP frames at Contoso2: $arp2_1, expected the 6 of the unguarded phase"
[ "$dhcp2" = 3 ] && pass "DHCP offers at Contoso2: only the 3 sent with DhcpGuard Off" ||
  fail "DHCP offers at Contoso2: $dhcp2, expected the 3 of the unguarded phase"

step "switched back on: Contoso2 relearns Contoso3 and pings it"
hnv h1 Set-VMNetworkAdapter -VMName Contoso1 -MacAddressSpoofing Off -DhcpGuard On ||
  fail "hnvctl Set-VMNetworkAdapter failed"
ns c2 ip neigh flush dev eth0
expect_ping c2 10.0.1.103 "Contoso2 -> Contoso3"
[ "$(neigh c2 10.0.1.103)" = "$C3" ] && pass "Contoso2 has 10.0.1.103 at $C3 again" ||
  fail "Contoso2's entry for 10.0.1.103 is '$(neigh c2 10.0.1.103)'"
expect_ping c1 10.0.1.103 "Contoso1 -> Contoso3"
got="$(guard_drops h1) / $(guard_drops h2)"
[ "$got" = "6 10 0 3 0 / 0 0 0 0 0" ] && pass "the guards dropped only the attack, on either host" ||
  fail "guard drops (arp ip nd dhcp router) Host 1 / Host 2: '$got', expected '6 10 0 3 0 / 0 0 0 0 0'"

step "port ACLs, live: Contoso1 may open TCP to Contoso3, Contoso3 may not to Contoso1"
hello_server c3 10.0.1.103 7003 Contoso3 40
hello_server c1 10.0.1.101 7001 Contoso1 40
sleep 0.5
[ "$(hello c3 10.0.1.101 7001)" = "Contoso1 10.0.1.103" ] || fail "without ACLs, Contoso3 cannot reach Contoso1's TCP server"
ns c2 ping -c 60 -i 0.05 -w 20 -q 10.0.1.103 >"$W/acl-ping.txt" 2>&1 &
acl_ping=$!
TOPO_PIDS+=("$acl_ping")
hnv h1 Add-VMNetworkAdapterExtendedAcl -VMName Contoso1 -Action Allow -Direction Outbound \
  -RemoteIPAddress 10.0.1.103 -Protocol TCP -Weight 100 -Stateful '$true' -IdleSessionTimeout 60 >/dev/null &&
  hnv h1 Add-VMNetworkAdapterExtendedAcl -VMName Contoso1 -Action Deny -Direction Inbound \
    -Protocol TCP -Weight 10 >/dev/null &&
  hnv h1 Add-VMNetworkAdapterAcl -VMName Contoso1 -RemoteIPAddress 10.0.1.103 -Direction Both \
    -Action Meter >/dev/null || fail "hnvctl Add-VMNetworkAdapter(Extended)Acl failed"
hnv h1 'Get-VMNetworkAdapterExtendedAcl Contoso1 | fl Direction,Action,Weight,Stateful' | sed 's/^/  /'
acl_deny() {
  hnv h1 --json counters | "$TOPO_PY" -c 'import json, sys; print(json.load(sys.stdin)["drops"].get("acl-extended-deny", 0))'
}
deny0=$(acl_deny)
got=$(hello c1 10.0.1.103 7003 || true)
[ "$got" = "Contoso3 10.0.1.101" ] && pass "Contoso1 opens TCP to Contoso3 (its replies ride the session)" ||
  fail "Contoso1 -> Contoso3 TCP: got '$got'"
got=$(hello c3 10.0.1.101 7001 || true)
[ -z "$got" ] && pass "Contoso3 cannot open TCP to Contoso1" || fail "Contoso3 -> Contoso1 TCP got through: '$got'"
deny1=$(acl_deny)
[ "$deny1" -gt "$deny0" ] && pass "acl-extended-deny counted Contoso3's SYNs (+$((deny1 - deny0)))" ||
  fail "acl-extended-deny did not grow ($deny0 -> $deny1)"
metered=$(hnv h1 'Get-VMNetworkAdapterAcl -VMName Contoso1 | fl MeteredPackets' | awk '{print $2}')
[ "${metered:-0}" -gt 0 ] && pass "Get-VMNetworkAdapterAcl: the Meter ACL counted $metered packets" ||
  fail "Get-VMNetworkAdapterAcl shows MeteredPackets '$metered'"
hnv h1 apply >/dev/null || fail "hnvctl apply failed"
got=$(hello c3 10.0.1.101 7001 || true)
[ -z "$got" ] && pass "after hnvctl apply (journal), still refused" || fail "after hnvctl apply, Contoso3 -> Contoso1 TCP: '$got'"
wait "$acl_ping"
loss=$(grep -o '[0-9.]*% packet loss' "$W/acl-ping.txt")
[ "$loss" = "0% packet loss" ] && pass "Contoso2 -> Contoso3: 60 pings during the ACL changes, $loss" ||
  fail "Contoso2 -> Contoso3 during the ACL changes: $(tail -2 "$W/acl-ping.txt" | tr '\n' ' ')"
hnv h1 Remove-VMNetworkAdapterExtendedAcl -VMName Contoso1 -Direction Inbound -Weight 10 &&
  hnv h1 Remove-VMNetworkAdapterExtendedAcl -VMName Contoso1 -Direction Outbound -Weight 100 &&
  hnv h1 Remove-VMNetworkAdapterAcl -VMName Contoso1 -RemoteIPAddress 10.0.1.103 -Direction Both \
    -Action Meter || fail "hnvctl Remove-VMNetworkAdapter(Extended)Acl failed"
got=$(hello c3 10.0.1.101 7001 || true)
[ "$got" = "Contoso1 10.0.1.103" ] && pass "removed: Contoso3 opens TCP to Contoso1 again" ||
  fail "removed: Contoso3 -> Contoso1 TCP: '$got'"
[ -z "$(hnv h1 Get-VMNetworkAdapterExtendedAcl -VMName Contoso1)" ] || fail "extended ACLs left after Remove"
for h in h1 h2; do log "-- $h drops: $(drops $h | tr '\n' ' ')"; done
topo_done
