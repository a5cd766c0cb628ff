#!/usr/bin/env bash
# VM migration while traffic flows: Contoso3 moves from Host 2 to Host 1.
# Contoso3's namespace has its NIC on Host 2's port vm1 and a second, unplugged
# cable to Host 1's spare port vm3 (config/examples/chapter/host1-spare-port.yaml). During a
# continuous ping from Contoso1 (ping -D -i 0.1), the move is:
#   Host 1: hnvctl new vm-network-adapter Contoso3 on port vm3
#   the VM: its address and MAC leave eth0 (Host 2) for eth1 (Host 1)
#   both hosts: Set-NetVirtualizationLookupRecord 10.0.1.103 -> PA 192.168.0.22
#   Host 2: hnvctl remove vm-network-adapter Contoso3
# Asserts: the ping resumes within one second of the change: from ping's own
# reply timestamps, the first reply after the last command of the move
# returned comes at most 1 s later, and the outage across the move is at
# most the move's own duration plus 1 s (the move is four hnvctl calls and a
# re-plug, which on a loaded 2-CPU machine can take over a second). Both
# hosts show the new PA and the adapter on Host 1 only; afterwards
# Contoso3's traffic stays on Host 1 (never on the provider network).
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=migration
topo_init mg "$@"
CHAPTER=$TOPO_ROOT/config/examples/chapter
MAX_GAP=${MAX_GAP:-1.0}

step "topology: the chapter's lab; Host 1 has a spare port vm3 wired to Contoso3's eth1 (down)"
topo_infra h1 h2 pn
topo_ns c1 c2 c3
topo_link c1 eth0 h1 vm1; topo_link c2 eth0 h1 vm2; topo_link c3 eth0 h2 vm1
topo_provider pn h1 h2
topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
topo_vm c2 10.0.1.102/24 60:00:60:00:01:02 10.0.1.1
topo_vm c3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1
topo_spare_nic c3 h1 vm3 60:00:60:00:02:03
topo_host h1 "$CHAPTER/host1-spare-port.yaml" 0,1 --no-wait
topo_host h2 "$CHAPTER/host2.yaml" 1,0 --no-wait
topo_wait_host h1
topo_wait_host h2
wait_ping c1 10.0.1.103 10 || die "Contoso1 -> Contoso3 does not work before the move"
pass "Contoso1 -> Contoso3 before the move (Host 1 -> Host 2)"

step "continuous ping Contoso1 -> Contoso3 (every 0.1 s, 120 requests); the move after 4 s"
ns c1 ping -D -i 0.1 -c 120 -w 25 10.0.1.103 >"$W/ping.txt" 2>&1 &
PING=$!
TOPO_PIDS+=("$PING")
sleep 4
T0=$(date +%s.%N)
hnv h1 new vm-network-adapter vm_name=Contoso3 mac=600060000203 vsid=6000 port=vm3 >/dev/null ||
  fail "Host 1: new vm-network-adapter Contoso3 refused"
topo_replug c3 10.0.1.103/24 10.0.1.1
hnv h1 Set-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.103 -VirtualSubnetID 6000 \
  -ProviderAddress 192.168.0.22 >/dev/null || fail "Host 1: Set-NetVirtualizationLookupRecord refused"
hnv h2 set lookup-record customer_address=10.0.1.103 vsid=6000 provider_address=192.168.0.22 \
  >/dev/null || fail "Host 2: set lookup-record refused"
hnv h2 remove vm-network-adapter vm_name=Contoso3 || fail "Host 2: remove vm-network-adapter refused"
T1=$(date +%s.%N)
log "the change took $(echo "($T1 - $T0) * 1000" | bc | cut -d. -f1) ms"
wait "$PING" || true

step "the gap in the replies"
grep -E 'packets transmitted' "$W/ping.txt" | sed 's/^/  /'
# From ping's reply timestamps: the first reply after the move completed
# (T1), and the largest gap between replies that ends during the move or at
# that first reply (the outage the move caused); the largest gap overall is
# reported too.
read -r before after resume mgap mfrom mto gap <<<"$(awk -v t0="$T0" -v t1="$T1" '
  /bytes from/ { t = substr($1, 2, length($1) - 2) + 0
                 if (t < t0) nb++; else na++
                 if (prev && t - prev > gap) gap = t - prev
                 if (prev && t >= t0 && !res && t - prev > mgap) { mgap = t - prev; mf = prev; mt = t }
                 if (t >= t1 && !res) res = t
                 prev = t }
  END { printf "%d %d %.3f %.3f %.3f %.3f %.3f\n", nb, na, (res ? res - t1 : -1), mgap, mf, mt, gap }' "$W/ping.txt")"
log "replies: $before before the change, $after after; the move ran $T0..$T1" \
    "($(echo "($T1 - $T0) * 1000" | bc | cut -d. -f1) ms); first reply $resume s after it completed;" \
    "largest gap across the move $mgap s ($mfrom..$mto), overall $gap s"
if [ "$before" -lt 10 ]; then fail "only $before replies before the move"; fi
if [ "$after" -lt 50 ]; then fail "only $after replies after the move: the ping did not resume"; fi
# Resumed within MAX_GAP of the move completing (the move itself is four
# hnvctl calls and a re-plug, which on a loaded 2-CPU machine can take over a
# second), and no outage longer than the move plus MAX_GAP.
move=$(echo "$T1 - $T0" | bc)
if [ "$(echo "$resume >= 0 && $resume <= $MAX_GAP && $mgap <= $move + $MAX_GAP" | bc)" = 1 ]; then
  pass "ping resumed $resume s after the move completed (<= $MAX_GAP s); outage across the move $mgap s"
else
  fail "ping resumed $resume s after the move completed, outage across the move $mgap s (bounds: $MAX_GAP s after the move, move + $MAX_GAP s)"
  grep -E '^\[' "$W/ping.txt" | awk -v a="$mfrom" -v b="$mto" '{t=substr($1,2,length($1)-2)+0} t>=a-0.5 && t<=b+0.5' >&2
fi

step "the lookup record on both hosts"
for h in h1 h2; do
  rec=$(hnv "$h" get lookup-record customer_address=10.0.1.103 vsid=6000)
  if grep -q 'ProviderAddress: 192.168.0.22' <<<"$rec"; then
    pass "$h: 10.0.1.103 is at PA 192.168.0.22"
  else
    fail "$h: 10.0.1.103 is not at PA 192.168.0.22:"$'\n'"$rec"
  fi
done
hnv h1 Get-VMNetworkAdapter '*' | grep -A3 'VMName: Contoso3' >/dev/null &&
  pass "Host 1 lists Contoso3's adapter" || fail "Host 1 does not list Contoso3's adapter"
hnv h2 Get-VMNetworkAdapter '*' | grep -q 'VMName: Contoso3' &&
  fail "Host 2 still lists Contoso3's adapter" || pass "Host 2 no longer lists Contoso3's adapter"

step "after the move: Contoso3 is switched and answered on Host 1, never on the provider network"
cap_start wire pn br0
expect_ping c1 10.0.1.103 "Contoso1 -> Contoso3 (now both on Host 1)"
expect_ping c3 10.0.1.102 "Contoso3 -> Contoso2 (both on Host 1)"
expect_ping c3 10.0.1.1 "Contoso3 -> DFGW on Host 1"
cap_stop wire
n=$(tcount wire "ip.addr == 10.0.1.103")
[ "$n" = 0 ] && pass "no frame of Contoso3 on the provider network" ||
  fail "$n frames of Contoso3 on the provider network after the move"
for h in h1 h2; do log "-- $h drops: $(drops $h | tr '\n' ' ')"; done
topo_done
