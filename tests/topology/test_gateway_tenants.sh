#!/usr/bin/env bash
# Two tenants with the same customer prefixes (10.0.1.0/24 VMs, 10.0.2.2 the
# gateway CA) through one hnv-gateway, on VLANs 10 (Contoso) and 20
# (Woodgrove) of one external port (a userspace 802.1Q switch, vlan_switch.py,
# as the kernel has no VLAN support), each reaching its own physical host; both
# physical hosts are 10.1.3.100. Host 1 runs Contoso1 and Woodgrove1
# (tests/topology/configs/gateway/). Asserts:
#  - Contoso1 reaches its physical host; Woodgrove1 reaches nothing outside
#    until the Woodgrove tenant file is added and `hnvctl apply` runs;
#  - then each tenant's echo requests (ping -p pattern) arrive at its own
#    physical host and never at the other's, with its own VLAN on the wire;
#  - each tenant has a NAT (nat: Contoso 10.1.3.10, Woodgrove 10.1.3.11):
#    Contoso1 and Woodgrove1, the same 10.0.1.101, connect to the same
#    10.1.3.100:7000 and arrive from their own tenant's address; `hnvctl nat`
#    of each tenant lists only its own sessions;
#  - removing the Woodgrove file + `hnvctl apply` removes its compartment
#    (namespace gone, hnvctl no longer lists it) and Woodgrove1 loses the
#    outside again;
#  - a ping from Contoso1 running through the add and the removal (300
#    echo requests, 50 ms apart) loses nothing.
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=gateway_tenants
topo_init gt "$@"
CONF=$TOPO_ROOT/tests/topology/configs/gateway
CHAPTER=$TOPO_ROOT/config/examples/chapter
GWC=$W/gateway
mkdir -p "$GWC/tenants"

step "configuration: the gateway with Contoso on VLAN 10 ($GWC)"
cat >"$GWC/gateway.yaml" <<YAML
host:
  name: gateway
ports:
  - name: uplink
    device: net_af_packet0,iface=uplink
  - name: external
    device: net_af_packet1,iface=external
provider_addresses:
  - address: 192.168.0.11
    prefix_length: 24
    mac: 223344556677
    port: uplink
gateway:
  tenants_dir: tenants
YAML
# tenant_file NAME RDID VSID POLICY_FILE VLAN MAC NAT_ADDRESS: a tenant's
# file (printed).
tenant_file() {
  cat <<YAML
include: $4
tenant:
  name: $1
  rdid: "$2"
  vm_network:
    vsid: $3
    address: 10.0.2.2/24
  external:
    - interface: ext$5
      port: external
      vlan: $5
      mac: $6
      addresses: [10.1.3.2/24]
  routes:
    - destination: 10.0.1.0/24
      next_hop: 10.0.2.1
nat:
  addresses: [$7]
YAML
}
tenant_file contoso "{12345678-1000-2000-3000-123456780001}" 6001 "$CHAPTER/contoso.yaml" 10 600160010302 10.1.3.10 \
  >"$GWC/tenants/contoso.yaml"

step "topology: Host 1 (Contoso1, Woodgrove1), the gateway host, a VLAN switch, two physical hosts"
topo_infra h1 gw pn sw pc pw
topo_ns c1 w1
topo_link c1 eth0 h1 vm1; topo_link w1 eth0 h1 vm2
topo_provider pn h1 gw
topo_link gw external sw gwx
topo_link pc eth0 sw pc; topo_link pw eth0 sw pw
# This kernel has no VLAN devices and no VLAN-filtering bridge: the external
# switch is tests/topology/vlan_switch.py (VLAN 10 -> pc, VLAN 20 -> pw).
topo_bg ip netns exec "${P}sw" "$TOPO_PY" "$TOPO_ROOT/tests/topology/vlan_switch.py" gwx 10:pc 20:pw \
  --seconds 200 >"$W/vlan_switch.log" 2>&1
topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
topo_vm w1 10.0.1.101/24 60:00:70:00:01:01 10.0.1.1
topo_physical_host pc; topo_physical_host pw   # both are 10.1.3.100
topo_compartments contoso woodgrove
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_gateway gw "$GWC/gateway.yaml" 1,0
topo_wait_host h1
hnv gw compartments

step "before Woodgrove's tenant file: Contoso reaches out, Woodgrove does not"
wait_ping c1 10.1.3.100 10 && pass "Contoso1 -> its physical host" || fail "Contoso1 -> 10.1.3.100: no reply"
if ping_ok w1 10.1.3.100 2; then fail "Woodgrove1 reached 10.1.3.100 with no Woodgrove compartment"; else pass "Woodgrove1 has no way out yet"; fi

step "captures on both physical hosts and on the VLAN trunk"
cap_start pc pc eth0
cap_start pw pw eth0
cap_start trunk sw gwx

step "Contoso1 pings its physical host throughout (300 x 50 ms, pattern Contoso!)"
ns c1 ping -c 300 -i 0.05 -w 40 -p 436f6e746f736f21 10.1.3.100 >"$W/ping-long.txt" 2>&1 &
LONG=$!
TOPO_PIDS+=("$LONG")
sleep 2

step "add Woodgrove live: tenant file + hnvctl apply"
tenant_file woodgrove "{12345678-1000-2000-3000-123456780002}" 7001 "$CONF/woodgrove.yaml" 20 600170010302 10.1.3.11 \
  >"$GWC/tenants/woodgrove.yaml"
if out=$(hnv gw apply 2>&1); then pass "apply with Woodgrove: $out"; else fail "apply with Woodgrove refused: $out"; fi
grep -q "^${P}woodgrove\b" <<<"$(ip netns list)" && pass "namespace ${P}woodgrove exists" || fail "no namespace ${P}woodgrove"
hnv gw compartments
if wait_ping w1 10.1.3.100 10; then pass "Woodgrove1 -> its physical host"; else fail "Woodgrove1 -> 10.1.3.100: no reply"; fi
ping_ok w1 10.1.3.100 20 0.05 -p 576f6f6467726f76 && pass "Woodgrove1: 20 echo requests (pattern Woodgrov) answered" \
  || fail "Woodgrove1: echo requests lost"
ping_ok w1 10.0.2.2 3 && pass "Woodgrove1 -> its compartment 10.0.2.2" || fail "Woodgrove1 -> 10.0.2.2 failed"

step "NAT: the same CA 10.0.1.101 of both tenants, each to its own address"
hello_server pc 10.1.3.100 7000 contoso-phys 30
hello_server pw 10.1.3.100 7000 woodgrove-phys 30
sleep 0.5
got_c=$(hello c1 10.1.3.100 7000 || true)
got_w=$(hello w1 10.1.3.100 7000 || true)
[ "$got_c" = "contoso-phys 10.1.3.10" ] && [ "$got_w" = "woodgrove-phys 10.1.3.11" ] \
  && pass "Contoso1 arrives from 10.1.3.10, Woodgrove1 from 10.1.3.11 (\"$got_c\", \"$got_w\")" \
  || fail "NAT per tenant: Contoso1 \"$got_c\", Woodgrove1 \"$got_w\""
# Every session of a tenant's NAT: "inside outside remote" (TCP to 7000).
tenant_sessions() {
  hnv gw --json nat "$1" | "$TOPO_PY" -c '
import json, sys
n = json.load(sys.stdin)
print(sorted({s["outside"].split(":")[0] for s in n["sessions"]}), n["sessions_live"])'
}
sc=$(tenant_sessions contoso); sw=$(tenant_sessions woodgrove)
log "contoso NAT sessions: $sc; woodgrove: $sw"
[[ $sc == "['10.1.3.10'] "* ]] && [[ $sw == "['10.1.3.11'] "* ]] \
  && pass "each tenant's hnvctl nat lists only its own sessions" \
  || fail "sessions seen: contoso $sc, woodgrove $sw"
sleep 1

step "remove Woodgrove live: tenant file gone + hnvctl apply"
rm "$GWC/tenants/woodgrove.yaml"
if out=$(hnv gw apply 2>&1); then pass "apply without Woodgrove: $out"; else fail "apply without Woodgrove refused: $out"; fi
if grep -q "^${P}woodgrove\b" <<<"$(ip netns list)"; then fail "namespace ${P}woodgrove left behind"; else pass "namespace ${P}woodgrove removed"; fi
if grep -q woodgrove <<<"$(hnv gw compartments)"; then fail "hnvctl still lists woodgrove"; else pass "hnvctl no longer lists woodgrove"; fi
if ping_ok w1 10.1.3.100 2; then fail "Woodgrove1 still reaches 10.1.3.100"; else pass "Woodgrove1 has no way out again"; fi

step "the long Contoso ping lost nothing"
wait "$LONG" || true
got=$(grep -o '[0-9]* received' "$W/ping-long.txt" | cut -d' ' -f1)
if [ "${got:-0}" = 300 ]; then pass "Contoso1: 300/300 replies through the add and the removal"
else fail "Contoso1: ${got:-0}/300 replies"; tail -3 "$W/ping-long.txt" >&2; fi
cap_stop pc pw trunk

step "isolation at the physical hosts and VLANs on the trunk"
read -r c_mine c_leak <<<"$(tcounts pc 'icmp && frame contains "Contoso!"' 'frame contains "Woodgrov"')"
read -r w_mine w_leak <<<"$(tcounts pw 'icmp && frame contains "Woodgrov"' 'frame contains "Contoso!"')"
[ "$c_mine" -ge 300 ] && [ "$c_leak" = 0 ] && pass "Contoso's physical host: $c_mine Contoso frames, none of Woodgrove" \
  || fail "Contoso's physical host: $c_mine Contoso frames, $c_leak Woodgrove frames"
[ "$w_mine" -ge 20 ] && [ "$w_leak" = 0 ] && pass "Woodgrove's physical host: $w_mine Woodgrove frames, none of Contoso" \
  || fail "Woodgrove's physical host: $w_mine Woodgrove frames, $w_leak Contoso frames"
read -r c_vlan c_any w_vlan w_any <<<"$(tcounts trunk 'vlan.id == 10 && frame contains "Contoso!"' \
  'frame contains "Contoso!"' 'vlan.id == 20 && frame contains "Woodgrov"' 'frame contains "Woodgrov"')"
[ "$c_vlan" = "$c_any" ] && [ "$w_vlan" = "$w_any" ] && [ "$w_any" -gt 0 ] \
  && pass "trunk: Contoso only on VLAN 10 ($c_vlan), Woodgrove only on VLAN 20 ($w_vlan)" \
  || fail "trunk: Contoso $c_vlan/$c_any on VLAN 10, Woodgrove $w_vlan/$w_any on VLAN 20"
topo_done
