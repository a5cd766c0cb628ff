#!/usr/bin/env bash
# Bad input of every kind against the chapter's lab (run from a copy of
# config/examples/chapter in the work directory):
#  (a) 1,000 malformed and random frames (bad_frames.py, scapy) on every port:
#      from each VM (runts, truncated and inconsistent IPv4/IPv6/ARP, 802.1Q,
#      spoofed MACs, random bytes, ...) and from the provider network towards
#      each host's PA (bad GRE flags and versions, not 0x6558, reserved and
#      unknown VSIDs, inner VLANs, truncated inner frames, spoofed inner
#      sources, outer fragments and bad checksums, ...). The daemons stay
#      alive, `hnvctl counters` shows the drops by reason, no provider garbage
#      reaches a VM, and the ping matrix still works.
#  (b) an invalid YAML edit, then `hnvctl apply` (Host 1) and SIGHUP (Host 2):
#      refused with `file:line: field: message` on hnvctl's stderr and in the
#      daemon's log, the running policy unchanged (hnvctl get, pings); invalid
#      hnvctl input (bad MAC, unknown VSID, duplicate CA, ...) gets one error
#      line and a non-zero exit and changes nothing (policy, journal).
#  (c) kill -9 of Host 2's daemon, restarted with the same configuration and
#      journal: a record added with hnvctl before the kill is back and traffic
#      resumes.
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=bad_input
topo_init bi "$@"
CONF=$W/conf
mkdir -p "$CONF"
cp "$TOPO_ROOT"/config/examples/chapter/*.yaml "$CONF/"

step "topology: the chapter's lab (configuration copied to $CONF)"
topo_infra h1 h2 pn
topo_ns c1 c2 c3
topo_link c1 eth0 h1 vm1; topo_link c2 eth0 h1 vm2; topo_link c3 eth0 h2 vm1
topo_provider pn h1 h2
topo_vm c1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
topo_vm c2 10.0.1.102/24 60:00:60:00:01:02 10.0.1.1
topo_vm c3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_host h2 "$CONF/host2.yaml" 1,0 --no-wait
topo_wait_host h1
topo_wait_host h2

# ping_matrix LABEL: every VM to every other VM and to the DFGW (in parallel).
ping_matrix() {
  local s d bad=0 pids=() pairs=() i
  for s in c1 c2 c3; do
    for d in 10.0.1.101 10.0.1.102 10.0.1.103 10.0.1.1; do
      [ "$d" = "10.0.1.10${s#c}" ] && continue
      ping_ok "$s" "$d" 2 0.2 &
      pids+=("$!")
      pairs+=("$s $d")
    done
  done
  TOPO_PIDS+=("${pids[@]}")
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      read -r s d <<<"${pairs[$i]}"
      fail "$1: $s -> $d: no reply; $s's neighbours: $(ns "$s" ip neigh show dev eth0 | tr '\n' ';')"
      bad=1
    fi
  done
  if [ $bad = 0 ]; then pass "$1: ping matrix (3 VMs x 3 peers + DFGW) complete"; fi
}
ping_matrix "before"

# ---------------------------------------------------------------- (a)
step "(a) 1,000 malformed and random frames on every port"
declare -A BEFORE
for h in h1 h2; do BEFORE[$h]=$(drops $h | awk '{ s += $2 } END { print s + 0 }'); done
for v in c1 c2 c3; do cap_start "vm-$v" "$v" eth0 "" 128; done
SEED=${SEED:-$RANDOM}
declare -A MAC=([c1]=60:00:60:00:01:01 [c2]=60:00:60:00:01:02 [c3]=60:00:60:00:02:03)
declare -A CA=([c1]=10.0.1.101 [c2]=10.0.1.102 [c3]=10.0.1.103)
# All five senders at once (each paced, bounded by timeout).
senders=()
for v in c1 c2 c3; do
  ns "$v" timeout 60 "$TOPO_PY" "$TOPO_ROOT/tests/topology/bad_frames.py" vm eth0 --count 1000 \
    --seed $((SEED + ${v#c})) --mac "${MAC[$v]}" --ca "${CA[$v]}" --dfgw-mac 60:00:60:00:01:00 &
  senders+=("$!:$v")
done
# From the provider network, on each host's bridge port: towards Host 1's PA
# as if from Host 2's, and towards Host 2's as if from Host 1's.
ns pn timeout 60 "$TOPO_PY" "$TOPO_ROOT/tests/topology/bad_frames.py" provider h1 --count 1000 \
  --seed $((SEED + 11)) --dst-mac 32:44:55:66:77:88 --dst-pa 192.168.0.22 \
  --src-mac 44:55:66:77:88:99 --src-pa 192.168.0.33 &
senders+=("$!:pn/h1")
ns pn timeout 60 "$TOPO_PY" "$TOPO_ROOT/tests/topology/bad_frames.py" provider h2 --count 1000 \
  --seed $((SEED + 12)) --dst-mac 44:55:66:77:88:99 --dst-pa 192.168.0.33 \
  --src-mac 32:44:55:66:77:88 --src-pa 192.168.0.22 &
senders+=("$!:pn/h2")
for sp in "${senders[@]}"; do
  TOPO_PIDS+=("${sp%%:*}")
  wait "${sp%%:*}" || fail "bad_frames.py on ${sp#*:} failed"
done
sleep 0.5
cap_stop vm-c1 vm-c2 vm-c3
for h in h1 h2; do
  if topo_alive $h && hnv $h version >/dev/null 2>&1; then pass "$h: daemon alive and answering"; else
    die "$h: the daemon died under malformed input:
$(tail -20 "$W/$h.log")"; fi
done
for h in h1 h2; do
  log "-- $h drops by reason (hnvctl counters):"
  hnv $h counters | sed -n '/DROP REASON/,/^total/p' | sed 's/^/   /'
done
# reason_at HOST REASON: the reason's counter is non-zero on the host.
expect_reason() {
  local h=$1 r n all
  shift
  all=$(drops "$h")
  for r in "$@"; do
    n=$(awk -v r="$r" '$1 == r { print $2 }' <<<"$all")
    [ "${n:-0}" -gt 0 ] && pass "$h counts $r ($n)" || fail "$h: drop reason $r not counted"
  done
}
# From the VMs (Host 1 has two, Host 2 one) and from the provider network.
# (Not outer-fragment: net_af_packet's socket reassembles IP fragments in the
# kernel (PACKET_FANOUT_FLAG_DEFRAG), so a fragment never reaches the
# dataplane: incomplete ones vanish, complete ones arrive reassembled.)
VM_REASONS="malformed vlan-from-vm src-mac-spoof unknown-dst-mac ttl-expired no-record not-ip to-dfgw"
PROVIDER_REASONS="bad-gre-flags bad-gre-version not-teb reserved-vsid unknown-vsid inner-vlan
  malformed-inner source-check not-for-us pa-not-gre bad-outer-checksum wrong-vlan"
for h in h1 h2; do
  # shellcheck disable=SC2086
  expect_reason $h $VM_REASONS $PROVIDER_REASONS
  after=$(drops $h | awk '{ s += $2 } END { print s + 0 }')
  n=$((after - BEFORE[$h]))
  want=$([ $h = h1 ] && echo 2000 || echo 1000)
  [ "$n" -ge "$want" ] && pass "$h: $n frames dropped, each counted under a reason" ||
    fail "$h: only $n drops counted for the bad frames (expected >= $want)"
done
leak=0
for v in c1 c2 c3; do
  n=$(tcount "vm-$v" 'frame contains "HNVBADP"')
  [ "$n" = 0 ] || { fail "$v received $n frames of the provider-side garbage"; leak=1; }
done
[ $leak = 0 ] && pass "no provider-side garbage reached any VM"
ping_matrix "after the garbage"

# ---------------------------------------------------------------- (b)
step "(b) an invalid YAML edit: hnvctl apply (Host 1) and SIGHUP (Host 2) refused"
for h in h1 h2; do json_get $h lookup-record >"$W/$h.records.before"; done
cp "$CONF/contoso.yaml" "$W/contoso.yaml.good"
# refuse_edit DESCRIPTION SED-EXPR FIELD-REGEX: applies the edit to
# contoso.yaml and expects both reload paths to refuse it, naming the line.
refuse_edit() {
  local what=$1 expr=$2 field=$3 line err rc lines
  cp "$W/contoso.yaml.good" "$CONF/contoso.yaml"
  sed -i "$expr" "$CONF/contoso.yaml"
  cmp -s "$W/contoso.yaml.good" "$CONF/contoso.yaml" && die "the edit '$expr' changed nothing"
  line=$(diff "$W/contoso.yaml.good" "$CONF/contoso.yaml" | head -1 | grep -o '^[0-9]*' || true)
  set +e
  err=$(hnv h1 apply 2>&1 >/dev/null)
  rc=$?
  set -e
  log "   hnvctl apply -> exit $rc: $err"
  local re="contoso\\.yaml:$line: $field: .+"
  if [ "$rc" != 0 ] && grep -Eq "$re" <<<"$err" && grep -q '^hnvctl: ' <<<"$err"; then
    pass "$what: hnvctl apply refused with file:line: field: message"
  else
    fail "$what: hnvctl apply: exit $rc, stderr '$err' (expected a line matching '$re')"
  fi
  lines=$(grep -c . "$W/h2.log")
  kill -HUP "${HOST_DPID[h2]}"
  local i
  for i in $(seq 50); do
    [ "$(grep -c . "$W/h2.log")" -gt "$lines" ] && grep -q 'reload' <(tail -n +$((lines + 1)) "$W/h2.log") && break
    sleep 0.1
  done
  sleep 0.2
  local logged
  logged=$(tail -n +$((lines + 1)) "$W/h2.log")
  log "   SIGHUP -> log: $(tr '\n' '|' <<<"$logged")"
  if grep -q 'refused' <<<"$logged" && grep -Eq "$re" <<<"$logged"; then
    pass "$what: SIGHUP refused, the daemon log names file:line: field"
  else
    fail "$what: after SIGHUP the log has no refusal matching '$re'"
  fi
}
refuse_edit "a bad MAC" 's/^    mac: 600060000203$/    mac: 6000600002zz/' 'lookup_records\[[0-9]+\]\.mac'
refuse_edit "a VSID out of range" '0,/^      - vsid: 6000/s//      - vsid: 70000000/' \
  'routing_domains\[0\]\.virtual_subnets\[0\]\.vsid'
refuse_edit "a duplicate CA" 's/^  - customer_address: 10\.0\.1\.103 .*$/  - customer_address: 10.0.1.101/' \
  'lookup_records\[[0-9]+\]\.customer_address'
cp "$W/contoso.yaml.good" "$CONF/contoso.yaml"
for h in h1 h2; do
  json_get $h lookup-record >"$W/$h.records.after"
  if cmp -s "$W/$h.records.before" "$W/$h.records.after"; then
    pass "$h: running policy unchanged (hnvctl get lookup-record)"
  else
    fail "$h: the lookup records changed:"$'\n'"$(diff "$W/$h.records.before" "$W/$h.records.after")"
  fi
done
ping_matrix "after the refused reloads"
if hnv h1 apply >/dev/null; then pass "the restored file applies (hnvctl apply exit 0)"; else fail "hnvctl apply of the restored file failed"; fi

step "(b) invalid hnvctl input: one error line, non-zero exit, nothing changed"
touch "$W/h1.journal"
journal_before=$(sha256sum <"$W/h1.journal")
refuse_cmd() {  # DESCRIPTION hnvctl-args...
  local what=$1 out err rc
  shift
  set +e
  out=$(hnv h1 "$@" 2>"$W/err.txt")
  rc=$?
  set -e
  err=$(cat "$W/err.txt")
  if [ "$rc" != 0 ] && [ "$(wc -l <"$W/err.txt")" = 1 ] && grep -q '^hnvctl: ' "$W/err.txt" && [ -z "$out" ]; then
    pass "$what: exit $rc, $err"
  else
    fail "$what: exit $rc, stdout '$out', stderr '$err' (expected one 'hnvctl: ' line and a non-zero exit)"
  fi
}
refuse_cmd "bad MAC" new lookup-record customer_address=10.0.1.104 vsid=6000 mac=60006000zz04 \
  provider_address=192.168.0.33
refuse_cmd "bad MAC (cmdlet)" New-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.104 \
  -VirtualSubnetID 6000 -MACAddress 6000-6000-0204 -ProviderAddress 192.168.0.33 -Rule TranslationMethodEncap
refuse_cmd "unknown VSID" new lookup-record customer_address=10.0.1.104 vsid=9999 mac=600060000204 \
  provider_address=192.168.0.33
refuse_cmd "VSID out of range" New-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.104 \
  -VirtualSubnetID 70000000 -MACAddress 600060000204 -ProviderAddress 192.168.0.33 -Rule TranslationMethodEncap
refuse_cmd "duplicate CA" new lookup-record customer_address=10.0.1.101 vsid=6000 mac=600060000299 \
  provider_address=192.168.0.33
refuse_cmd "duplicate MAC" new lookup-record customer_address=10.0.1.104 vsid=6000 mac=600060000101 \
  provider_address=192.168.0.33
refuse_cmd "CA outside its subnet" new lookup-record customer_address=10.0.9.104 vsid=6000 \
  mac=600060000204 provider_address=192.168.0.33
refuse_cmd "a second record for the DFGW address" new lookup-record customer_address=10.0.1.1 vsid=6000 mac=600060000299 \
  provider_address=192.168.0.33
refuse_cmd "bad IP" new lookup-record customer_address=10.0.1.300 vsid=6000 mac=600060000204 \
  provider_address=192.168.0.33
refuse_cmd "set of a record that does not exist" set lookup-record customer_address=10.0.1.250 vsid=6000 \
  provider_address=192.168.0.33
refuse_cmd "remove of a record that does not exist" remove lookup-record customer_address=10.0.1.250 vsid=6000
refuse_cmd "unknown field" new lookup-record customer_address=10.0.1.104 vsid=6000 macc=600060000204
refuse_cmd "vm adapter on an unknown port" new vm-network-adapter vm_name=X mac=600060000299 vsid=6000 port=vm9
json_get h1 lookup-record >"$W/h1.records.after2"
cmp -s "$W/h1.records.before" "$W/h1.records.after2" && pass "h1: lookup records unchanged" ||
  fail "h1: lookup records changed:"$'\n'"$(diff "$W/h1.records.before" "$W/h1.records.after2")"
[ "$(sha256sum <"$W/h1.journal")" = "$journal_before" ] && pass "h1: journal unchanged" ||
  fail "h1: the journal changed: $(cat "$W/h1.journal")"

# ---------------------------------------------------------------- (c)
step "(c) kill -9 Host 2's daemon; restart with the same configuration and journal"
hnv h2 new lookup-record customer_address=10.0.1.104 vsid=6000 mac=600060000204 \
  provider_address=192.168.0.33 vm_name=Contoso4 >/dev/null || fail "hnvctl new lookup-record on Host 2 refused"
hnv h2 get lookup-record customer_address=10.0.1.104 | grep -q 'MACAddress: 600060000204' ||
  fail "the new record is not listed before the kill"
topo_stop_host h2 KILL
topo_alive h2 && die "Host 2's daemon survived kill -9"
ns c1 ping -c 2 -i 0.2 -W 1 -q 10.0.1.103 >/dev/null 2>&1 && fail "Contoso1 -> Contoso3 still answers with Host 2's daemon dead" ||
  pass "Host 2 is down (Contoso1 -> Contoso3 gets no reply)"
topo_host h2 "$CONF/host2.yaml" 1,0
pass "Host 2 restarted: $(grep 'hnv-vswitch: running:' "$W/h2.log" | tail -1 | cut -c1-100)"
rec=$(hnv h2 get lookup-record customer_address=10.0.1.104 2>&1 || true)
grep -q 'MACAddress: 600060000204' <<<"$rec" && grep -q 'VMName: Contoso4' <<<"$rec" &&
  pass "the record added before the kill is back (hnvctl get)" ||
  fail "the record added before the kill is missing after the restart:"$'\n'"$rec"
if wait_ping c1 10.0.1.103 15; then pass "Contoso1 -> Contoso3 resumed"; else fail "Contoso1 -> Contoso3 did not resume"; fi
expect_ping c3 10.0.1.102 "Contoso3 -> Contoso2 after the restart"
expect_ping c3 10.0.1.1 "Contoso3 -> DFGW after the restart"
topo_done
