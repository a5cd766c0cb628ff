#!/usr/bin/env bash
# Restart and reload without a black hole (the chapter's setup without Host 2,
# from a copy of config/examples/chapter): probes every PROBE_MS ms (ping, the
# echo's sequence numbers tell which were lost) from Contoso1 to the physical
# host, through Host 1's hnv-vswitch and the gateway's compartment, while:
#  (a) hnv-gateway is restarted as a package upgrade does (SIGTERM, wait for
#      the exit, start): the loss is measured (target < 1 s), and the
#      compartment survives: the same namespace (inode), a route an operator
#      added in it, a process running in it;
#  (b) hnv-vswitch on Host 1 is restarted the same way: the loss is measured;
#  (c) `hnvctl apply` and SIGHUP on both daemons: nothing is lost;
#  (d) removing the tenant (its file gone, `hnvctl apply`) removes its
#      namespace, and a clean stop after that leaves no namespace behind.
# The figures are printed as "restart loss: ..." lines (README, "Restarts").
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=restart
topo_init rs "$@"
CONF=$W/conf
cp -r "$TOPO_ROOT/config/examples/chapter" "$CONF"
PROBE_MS=${PROBE_MS:-2}
LIMIT_MS=${RESTART_LIMIT_MS:-1000}

step "topology: Host 1, the gateway host, the physical host"
topo_gateway_lab "$CONF"

# probe_start NAME: pings from Contoso1 to the physical host every PROBE_MS ms.
probe_start() {
  ns c1 ping -n -i "0.00$PROBE_MS" -W 1 -w 60 10.1.3.100 >"$W/$1.ping" 2>&1 &
  PROBE_PID=$!
  TOPO_PIDS+=("$PROBE_PID")
  sleep 1
}
# probe_stop NAME LABEL: stops the probe and prints the longest run of lost
# echoes (in ms) and the total lost, from the replies' sequence numbers.
probe_stop() {
  sleep 1
  kill -INT "$PROBE_PID" 2>/dev/null || true
  wait "$PROBE_PID" 2>/dev/null || true
  "$TOPO_PY" - "$W/$1.ping" "$PROBE_MS" "$2" <<'PY'
import re, sys
path, ms, label = sys.argv[1], float(sys.argv[2]), sys.argv[3]
seqs = sorted({int(m.group(1)) for m in re.finditer(r"icmp_seq=(\d+)", open(path).read())})
sent = re.search(r"(\d+) packets transmitted", open(path).read())
sent = int(sent.group(1)) if sent else (seqs[-1] if seqs else 0)
gap = max((b - a - 1 for a, b in zip(seqs, seqs[1:])), default=sent)
lost = sent - len(seqs)
print(f"{label}: {gap * ms:.0f} ms without replies ({gap} probes of {ms:g} ms; {lost} of {sent} lost in all)")
print(f"GAP_MS={gap * ms:.0f} LOST={lost}", file=sys.stderr)
PY
}
loss_of() { sed -n 's/.*GAP_MS=\([0-9]*\).*/\1/p' "$W/$1.loss"; }
lost_of() { sed -n 's/.*LOST=\([0-9]*\).*/\1/p' "$W/$1.loss"; }

step "(a) hnv-gateway: SIGTERM, then start (as a package upgrade)"
inode_before=$(stat -L -c %i "/run/netns/${P}contoso")
cns contoso ip route add 10.9.0.0/16 via 10.1.3.254
cns contoso sleep 300 &
SLEEPER=$!
TOPO_PIDS+=("$SLEEPER")
probe_start gw
t0=$(date +%s.%N)
topo_stop_host gw
t1=$(date +%s.%N)
topo_gateway gw "$CONF/gateway/gateway.yaml" 1,0
t2=$(date +%s.%N)
probe_stop gw "restart loss: hnv-gateway" 2>"$W/gw.loss"
log "   (stop took $(echo "($t1 - $t0) * 1000 / 1" | bc) ms, start until \"running\" $(echo "($t2 - $t1) * 1000 / 1" | bc) ms)"
grep -E 'started in' "$W/gw.log" | tail -1 || true
gap=$(loss_of gw)
[ "$gap" -lt "$LIMIT_MS" ] && pass "gateway restart: $gap ms without replies (< $LIMIT_MS)" \
  || fail "gateway restart: $gap ms without replies (limit $LIMIT_MS)"
inode_after=$(stat -L -c %i "/run/netns/${P}contoso" 2>/dev/null || echo none)
[ "$inode_before" = "$inode_after" ] && pass "the compartment's namespace survived (inode $inode_after)" \
  || fail "the compartment's namespace changed ($inode_before -> $inode_after)"
cns contoso ip route show 10.9.0.0/16 | grep -q 'via 10.1.3.254' && pass "the operator's route survived" \
  || fail "the operator's route 10.9.0.0/16 is gone"
kill -0 "$SLEEPER" 2>/dev/null && pass "the process in the namespace survived" || fail "the process in the namespace is gone"
[ "$(ip netns list | grep -c "^${P}contoso")" = 1 ] && pass "exactly one namespace for the tenant" \
  || fail "namespaces: $(ip netns list | grep "^$P" | tr '\n' ' ')"
grep -q "namespace ${P}contoso exists, reused" "$W/gw.log" && pass "the gateway adopted the namespace" \
  || fail "no \"exists, reused\" in the gateway's log"
expect_ping c1 10.1.3.100 "Contoso1 -> physical host after the restart"

step "(b) hnv-vswitch on Host 1: SIGTERM, then start"
probe_start h1
t0=$(date +%s.%N)
topo_stop_host h1
t1=$(date +%s.%N)
topo_host h1 "$CONF/host1.yaml" 0,1
t2=$(date +%s.%N)
probe_stop h1 "restart loss: hnv-vswitch" 2>"$W/h1.loss"
log "   (stop took $(echo "($t1 - $t0) * 1000 / 1" | bc) ms, start until \"running\" $(echo "($t2 - $t1) * 1000 / 1" | bc) ms)"
grep -E 'started in' "$W/h1.log" | tail -1 || true
gap=$(loss_of h1)
[ "$gap" -lt "$LIMIT_MS" ] && pass "vswitch restart: $gap ms without replies (< $LIMIT_MS)" \
  || fail "vswitch restart: $gap ms without replies (limit $LIMIT_MS)"

step "(c) reloads: hnvctl apply and SIGHUP on both daemons lose nothing"
probe_start reload
hnv gw apply >/dev/null || fail "hnvctl apply (gateway) failed"
hnv h1 apply >/dev/null || fail "hnvctl apply (Host 1) failed"
kill -HUP "${HOST_DPID[gw]}"
kill -HUP "${HOST_DPID[h1]}"
sleep 1
hnv gw apply >/dev/null || fail "hnvctl apply (gateway) failed"
probe_stop reload "reload loss: hnvctl apply + SIGHUP, both daemons" 2>"$W/reload.loss"
lost=$(lost_of reload)
[ "$lost" = 0 ] && pass "reloads lost no probe" || fail "reloads lost $lost probes"

step "(d) a removed tenant loses its namespace; a clean stop then leaves none"
rm "$CONF/gateway/tenants/contoso.yaml"
hnv gw apply >/dev/null || fail "hnvctl apply without the tenant failed"
[ -e "/run/netns/${P}contoso" ] && fail "the removed tenant's namespace is still there" \
  || pass "the removed tenant's namespace is gone"
kill "$SLEEPER" 2>/dev/null || true
topo_stop_host gw
[ -e "/run/netns/${P}contoso" ] && fail "a namespace is left after the stop" || pass "nothing left after the stop"
topo_done
