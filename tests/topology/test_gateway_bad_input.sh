#!/usr/bin/env bash
# Bad input against hnv-gateway (the chapter's setup without Host 2, run from
# a copy of config/examples/chapter in the work directory):
#  (a) 2,000 malformed and random frames (bad_frames.py) on the external port
#      (from the physical host, towards the compartment's external MAC) and
#      2,000 on the provider port (towards the gateway's PA): the daemon stays
#      alive, counts them, and Contoso1 still reaches the physical host;
#  (b) a tenant file with errors + `hnvctl apply`: refused with
#      `file:line: field: message`, nothing changes (compartments, traffic);
#  (c) kill -9 of the gateway, then a restart from the same YAML: the
#      compartment's namespace is reused (exactly one), the state is rebuilt
#      (addresses, routes, traffic); a clean stop (SIGTERM) leaves it for the
#      next start (tests/topology/test_restart.sh tests the adoption).
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=gateway_bad_input
topo_init gb "$@"
CONF=$W/conf
cp -r "$TOPO_ROOT/config/examples/chapter" "$CONF"

step "topology: Host 1, the gateway host, the physical host (configuration copied to $CONF)"
topo_gateway_lab "$CONF"

step "(a) malformed frames on the external port and on the provider port"
phys_mac=$(ip -n "${P}phys" -j link show eth0 | "$TOPO_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
ns phys "$TOPO_PY" "$TOPO_ROOT/tests/topology/bad_frames.py" vm eth0 --mac "$phys_mac" --ca 10.1.3.100 \
  --dfgw-mac 60:01:60:01:03:02 --count 2000 --seed 7 || fail "bad_frames.py (external) failed"
ns pn "$TOPO_PY" "$TOPO_ROOT/tests/topology/bad_frames.py" provider gw --dst-mac 22:33:44:55:66:77 \
  --dst-pa 192.168.0.11 --src-mac 32:44:55:66:77:88 --src-pa 192.168.0.22 --count 2000 --seed 8 \
  || fail "bad_frames.py (provider) failed"
sleep 1
topo_alive gw && pass "hnv-gateway alive after 4,000 bad frames" || die "hnv-gateway died on bad frames"
log "-- HNV drops: $(drops gw | tr '\n' ' ')"
log "-- compartment drops and punts:"
comp_json gw contoso "{k: v for k, v in list(c['counters']['dropped'].items()) + list(c['counters']['punted'].items()) if v}"
hnv_drops=$(drops gw | awk '{s += $2} END {print s + 0}')
[ "$hnv_drops" -gt 0 ] && pass "provider garbage counted ($hnv_drops HNV drops)" || fail "no HNV drops counted"
ext_bad=$(comp_json gw contoso "sum(c['counters']['dropped'].values()) + sum(c['counters']['punted'].values())")
[ "$ext_bad" -gt 0 ] && pass "external garbage counted ($ext_bad dropped or punted)" || fail "nothing counted on the external side"
expect_ping c1 10.1.3.100 "Contoso1 -> physical host after the bad frames"

step "(b) a tenant file with errors changes nothing"
cat >"$CONF/gateway/tenants/broken.yaml" <<YAML
include: ../../contoso.yaml
tenant:
  name: broken
  rdid: "{12345678-1000-2000-3000-123456780001}"
  vm_network:
    vsid: 6001
    address: 10.0.2.2/24
  external:
    - interface: ext1
      port: external
      vlan: 5000
      mac: 600160010399
      addresses: [10.1.4.2/24]
YAML
before=$(hnv gw --json compartments | "$TOPO_PY" -c 'import json,sys; print(sorted(c["name"] for c in json.load(sys.stdin)["compartments"]))')
if out=$(hnv gw apply 2>&1); then
  fail "apply with a broken tenant file succeeded: $out"
else
  log "$out"
  grep -qE 'broken\.yaml:[0-9]+: tenant\.external\[0\]\.vlan: .*5000' <<<"$out" \
    && pass "refused with file:line: field: message" || fail "refusal does not name broken.yaml, its line and tenant.external[0].vlan"
fi
after=$(hnv gw --json compartments | "$TOPO_PY" -c 'import json,sys; print(sorted(c["name"] for c in json.load(sys.stdin)["compartments"]))')
[ "$before" = "$after" ] && pass "compartments unchanged: $after" || fail "compartments changed: $before -> $after"
grep -q "^${P}broken" <<<"$(ip netns list)" && fail "a namespace was made for the broken tenant" || pass "no namespace for the broken tenant"
expect_ping c1 10.1.3.100 "Contoso1 -> physical host after the refused apply"
rm "$CONF/gateway/tenants/broken.yaml"

step "(c) kill -9, restart from YAML: the namespace is reused, the state rebuilt"
topo_stop_host gw KILL
n=$(ip netns list | grep -c "^${P}contoso\b" || true)
log "after kill -9: $n namespace(s) ${P}contoso"
topo_gateway gw "$CONF/gateway/gateway.yaml" 1,0
n=$(ip netns list | grep -c "^${P}contoso\b" || true)
[ "$n" = 1 ] && pass "exactly one namespace ${P}contoso after the restart" || fail "$n namespaces ${P}contoso after the restart"
addrs=$(cns contoso ip -4 addr show)   # (not piped into grep -q: with pipefail ip may die of SIGPIPE)
grep -q "10.0.2.2/24" <<<"$addrs" && grep -q "10.1.3.2/24" <<<"$addrs" \
  && pass "addresses rebuilt in the namespace" || fail "addresses missing after the restart"
grep -q "10.0.1.0/24 via 10.0.2.1" <<<"$(cns contoso ip route show)" && pass "static route rebuilt" || fail "static route 10.0.1.0/24 missing"
if wait_ping c1 10.1.3.100 15; then pass "Contoso1 -> physical host after the restart"; else fail "no traffic after the restart"; fi
expect_ping phys 10.0.2.2 "physical host -> MT-GW after the restart"

step "clean stop detaches: the compartment's namespace stays for the next start"
topo_stop_host gw TERM
grep -q "^${P}contoso\b" <<<"$(ip netns list)" && pass "SIGTERM left ${P}contoso" || fail "SIGTERM removed ${P}contoso"
grep -q "stopped" "$W/gw.log" && pass "the daemon logged a clean stop" || fail "no clean stop in the log"
topo_done
