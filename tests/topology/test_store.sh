#!/usr/bin/env bash
# The central policy store with real etcd and real daemons: three hosts
# (Contoso1 on Host 1, Contoso3 on Host 2 with an L2Only record, Contoso4 on
# Host 3; tests/topology/configs/store/) follow one etcd over TLS, each with
# its own client certificate, configured once with `hnvctl --store URL
# apply`. Asserts:
#  - etcd roles (`hnvctl store init`): Host 1's certificate may not write
#    Host 2's status nor a tenant's policy (etcdctl and hnvctl refused,
#    nothing written), while each daemon publishes its own status;
#  - a learned record reaches a third host: Contoso1 pings Contoso3, Host 2
#    learns Contoso3's address from its ARP reply and publishes it; Host 3,
#    which never saw that exchange, carries the Dynamic record and answers
#    Contoso4's ARP for it itself;
#  - etcd stopped for 30 s under traffic: a ping every 0.1 s across hosts
#    loses nothing; `hnvctl status` fails meanwhile; after etcd returns, a
#    change (a new record, `--wait`) reaches every host;
#  - a host killed (-9) and restarted: a change made while it is down is
#    refused by `--wait` for that host only; the dead host leaves `hnvctl
#    status` within its lease; restarted, it rebuilds from the store (the
#    change included) and forwards again;
#  - the VM's port goes (hnvctl --store --host host2 remove
#    vm-network-adapter): its learned record leaves the store and Host 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_store.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=store
topo_init sto "$@"
CONF=$TOPO_ROOT/tests/topology/configs/store
OUTAGE=${OUTAGE:-30}

step "topology: three hosts, one VM each, a TLS etcd on the management network"
topo_infra h1 h2 h3 pn
topo_ns c1 c3 c4
topo_link c1 eth0 h1 vm1; topo_link c3 eth0 h2 vm1; topo_link c4 eth0 h3 vm1
topo_provider pn h1 h2 h3
topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
topo_vm c3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1
topo_vm c4 10.0.1.104/24 60:00:60:00:03:04 10.0.1.1
topo_store --tls h1 h2 h3
hs store init --hosts host1,host2,host3 >/dev/null || die "hnvctl store init failed"
STORE_AS=hnv-writer
hs apply "$CONF/host1.yaml" "$CONF/host2.yaml" "$CONF/host3.yaml" || die "the store refused the files"
topo_host h1 store:host1 0,1 --no-wait
topo_host h2 store:host2 1,0 --no-wait
topo_host h3 store:host3 0,1 --no-wait
topo_wait_host h1; topo_wait_host h2; topo_wait_host h3
store_wait_current host1 host2 host3 && pass "every host runs the store's generation (hnvctl status)" ||
  fail "not every host applied the store's policy: $(hs status)"
hs status | sed 's/^/  /'

step "roles: Host 1's certificate writes only Host 1's status and learned records"
if out=$(STORE_CTL_AS=host1 store_ctl put /hnv/v1/status/host2 forged 2>&1); then
  fail "Host 1 wrote Host 2's status"
else
  grep -q "permission denied" <<<"$out" && pass "Host 1 writing Host 2's status: $out" ||
    fail "Host 1 writing Host 2's status failed for another reason: $out"
fi
if out=$(hs_as host1 New-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.150 \
      -VirtualSubnetID 6000 -MACAddress 600060000150 -ProviderAddress 192.168.0.22 \
      -Rule TranslationMethodEncap 2>&1); then
  fail "Host 1 changed the tenant's policy"
else
  grep -q "permission denied" <<<"$out" && pass "Host 1 writing a tenant's policy: ${out%%$'\n'*}" ||
    fail "Host 1 writing a tenant's policy failed for another reason: $out"
fi
[ -z "$(store_ctl get --prefix /hnv/v1/ --keys-only | grep -e 10.0.1.150 -e forged)" ] &&
  [ "$(store_ctl get /hnv/v1/status/host2 --print-value-only | grep -c forged)" = 0 ] &&
  pass "nothing of theirs was written" || fail "a refused write left something in the store"
grep -q '"host":"host1"' <<<"$(store_ctl get /hnv/v1/status/host1 --print-value-only)" &&
  pass "Host 1's own status is written with its certificate" || fail "no status of Host 1"

# dyn HOST CA: the host's Dynamic record for CA ("ca mac pa"), if any.
dyn() {
  hnv "$1" --json get lookup-record | "$TOPO_PY" -c '
import json, sys
for r in json.load(sys.stdin):
    if r.get("customer_address") == sys.argv[1] and r.get("type", "").lower() == "dynamic":
        print(r["customer_address"], r["mac"], r["provider_address"])' "$2"
}

# (Checks read a command's whole output before grep -q: under pipefail, grep
# leaving early can fail the pipeline with the writer's SIGPIPE.)
step "a learned record reaches a third host"
[ -z "$(dyn h3 10.0.1.103)" ] || fail "Host 3 has a Dynamic record for 10.0.1.103 before any traffic"
ping_ok c1 10.0.1.103 3 && pass "Contoso1 -> Contoso3 (learned on Host 2 from its ARP reply)" ||
  fail "Contoso1 -> Contoso3: no replies"
for _ in $(seq 50); do [ -n "$(dyn h3 10.0.1.103)" ] && break; sleep 0.1; done
got=$(dyn h3 10.0.1.103)
[ "$got" = "10.0.1.103 600060000203 192.168.0.33" ] && pass "Host 3 carries the Dynamic record: $got" ||
  fail "Host 3: expected '10.0.1.103 600060000203 192.168.0.33', got '${got:-nothing}'"
log "  store: $(store_ctl get --prefix /hnv/v1/learned/ --keys-only | grep -v '^$' | tr '\n' ' ')"
grep -q 10.0.1.103 <<<"$(store_ctl get --prefix /hnv/v1/learned/host2/ --keys-only)" &&
  pass "published by Host 2, under learned/host2/" || fail "not published under learned/host2/"
cap_start wire pn br0
ns c4 ip neigh flush dev eth0
expect_ping c4 10.0.1.103 "Contoso4 (Host 3) -> Contoso3 (Host 2)"
cap_stop wire
asked=$(tcount wire "arp.opcode == 1 && arp.dst.proto_ipv4 == 10.0.1.103 && eth.dst == ff:ff:ff:ff:ff:ff")
[ "$asked" = 0 ] && pass "Host 3 answered Contoso4's ARP for 10.0.1.103 itself (nothing on the wire)" ||
  fail "$asked ARP requests for 10.0.1.103 crossed the provider network"

step "etcd stopped for $OUTAGE s under traffic"
ns c1 ping -i 0.1 -c $(( (OUTAGE + 8) * 10 )) -w $((OUTAGE + 15)) -q 10.0.1.104 >"$W/outage.txt" 2>&1 &
PING=$!
TOPO_PIDS+=("$PING")
sleep 2
store_stop
T0=$(date +%s)
sleep 1
hs status >/dev/null 2>&1 && fail "hnvctl status answered with etcd stopped" ||
  pass "hnvctl status fails while etcd is stopped"
sleep $((OUTAGE - 1 - ($(date +%s) - T0) > 0 ? OUTAGE - 1 - ($(date +%s) - T0) : 0))
store_start
log "  etcd back after $(( $(date +%s) - T0 )) s"
t=$(date +%s.%N)
hs New-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.105 -VirtualSubnetID 6000 \
  -MACAddress 600060000305 -ProviderAddress 192.168.0.44 -Rule TranslationMethodEncap \
  --wait --wait-timeout 20 >"$W/wait.txt" 2>&1 &&
  pass "a change after etcd returned reached every host in $(echo "($(date +%s.%N) - $t) * 1000" | bc | cut -d. -f1) ms: $(grep applied "$W/wait.txt")" ||
  fail "a change after etcd returned did not reach every host: $(cat "$W/wait.txt")"
for h in h1 h2 h3; do
  grep -q 'ProviderAddress: 192.168.0.44' <<<"$(hnv "$h" get lookup-record customer_address=10.0.1.105)" ||
    fail "$h does not have 10.0.1.105"
done
wait "$PING" || true
read -r sent got <<<"$(awk '/packets transmitted/ {print $1, $4}' "$W/outage.txt")"
[ "$sent" -ge $((OUTAGE * 10)) ] && [ "$sent" = "$got" ] &&
  pass "Contoso1 -> Contoso4 across the outage: $got of $sent answered" ||
  fail "Contoso1 -> Contoso4 across the outage: $got of $sent answered"

step "a host killed and restarted rebuilds from the store"
topo_stop_host h2 KILL
out=$(hs remove lookup-record customer_address=10.0.1.105 vsid=6000 --wait --wait-timeout 3 2>&1) &&
  fail "--wait did not notice that Host 2 is down" ||
  { grep -q "host host2 did not apply" <<<"$out" && ! grep -q "host host[13]" <<<"$out" &&
      pass "--wait: Host 1 and Host 3 applied, Host 2 (dead) did not" || fail "--wait said: $out"; }
for _ in $(seq 150); do grep -q '^host2 .*no status' <<<"$(hs status)" && break; sleep 0.1; done
grep -q '^host2 .*no status' <<<"$(hs status)" && pass "the dead Host 2 left hnvctl status (its lease expired)" ||
  fail "Host 2 still has a status: $(hs status)"
topo_host h2 store:host2 1,0
store_wait_current host2 && pass "Host 2 restarted and runs the store's generation" || fail "Host 2 is not current"
[ -z "$(hnv h2 get lookup-record customer_address=10.0.1.105)" ] &&
  pass "Host 2 rebuilt from the store: the record removed while it was down is gone" ||
  fail "Host 2 still has 10.0.1.105"
wait_ping c1 10.0.1.103 10 && pass "Contoso1 -> Contoso3 after Host 2's restart" ||
  fail "Contoso1 -> Contoso3 does not work after Host 2's restart"

step "Contoso3's port goes: its learned record leaves the store and Host 3"
for _ in $(seq 50); do [ -n "$(dyn h3 10.0.1.103)" ] && break; sleep 0.1; done
[ -n "$(dyn h3 10.0.1.103)" ] || fail "Host 3 lost the learned record before the port went"
hs --host host2 remove vm-network-adapter vm_name=Contoso3 --wait >/dev/null ||
  fail "removing Contoso3's adapter was refused"
for _ in $(seq 50); do [ -z "$(dyn h3 10.0.1.103)" ] && break; sleep 0.1; done
[ -z "$(dyn h3 10.0.1.103)" ] && pass "Host 3 no longer carries 10.0.1.103" ||
  fail "Host 3 still carries the learned 10.0.1.103"
[ -z "$(store_ctl get --prefix /hnv/v1/learned/ --keys-only | grep 10.0.1.103)" ] &&
  pass "the learned record left the store" || fail "the learned record is still in the store"
for h in h1 h2 h3; do log "-- $h drops: $(drops $h | tr '\n' ' ')"; done
topo_done
