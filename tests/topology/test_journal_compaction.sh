#!/usr/bin/env bash
# Journal compaction (vswitch/vswitch.h): Host 1 of the chapter's lab, alone.
#  (a) 1,150 hnvctl changes over one connection (100 new records, 1,000
#      migrations between two PAs, 50 removes), then kill -9: the restart
#      replays the 1,150 entries, finds the policy as before (same records,
#      same order), and rewrites the journal as the 50 records it adds to the
#      files; a second restart comes back with the same policy again;
#  (b) a change made right before a kill -9 is back after the restart;
#  (c) 1,001 more migrations, then `hnvctl apply` compacts too, and the
#      records the files already hold with the same values leave nothing
#      in the journal for them;
#  (d) the files already holding everything: the journal is emptied.
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=journal_compaction
topo_init jc "$@"
CONF=$W/conf
mkdir -p "$CONF"
cp "$TOPO_ROOT"/config/examples/chapter/*.yaml "$CONF/"

step "Host 1 alone (the chapter's configuration, copied to $CONF)"
topo_infra h1 pn
topo_ns c1 c2
topo_link c1 eth0 h1 vm1; topo_link c2 eth0 h1 vm2
topo_provider pn h1
topo_host h1 "$CONF/host1.yaml" 0,1

records() { hnv h1 --json get lookup-record | "$TOPO_PY" -c 'import json,sys; [print(json.dumps(r, sort_keys=True)) for r in json.load(sys.stdin)]'; }
entries() { wc -l <"$W/h1.journal"; }

# changes FILE: sends the JSON requests of FILE over one connection.
changes() {
  "$TOPO_PY" - "$W/h1.sock" "$1" <<'PY' || fail "a change was refused"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rb")
n = 0
for line in open(sys.argv[2]):
    s.sendall(line.encode())
    r = json.loads(f.readline())
    if not r.get("ok"):
        sys.exit("refused: %s: %s" % (line.strip(), r.get("error")))
    n += 1
print("  %d changes accepted" % n)
PY
}
req() {  # OP OBJECT-JSON
  printf '{"version":1,"op":"%s","args":{"kind":"lookup-record","object":%s}}\n' "$1" "$2"
}

step "(a) 1,150 changes, kill -9, restart"
{
  for i in $(seq 150 249); do
    req new "{\"customer_address\":\"10.0.1.$i\",\"vsid\":6000,\"mac\":\"0260000001$(printf %02x $((i - 150)))\",\"provider_address\":\"192.168.0.33\"}"
  done
  for k in $(seq 0 999); do
    i=$((150 + k % 100)); pa=$((k / 100 % 2 == 0 ? 44 : 33))
    req set "{\"customer_address\":\"10.0.1.$i\",\"vsid\":6000,\"provider_address\":\"192.168.0.$pa\"}"
  done
  for i in $(seq 200 249); do req remove "{\"customer_address\":\"10.0.1.$i\",\"vsid\":6000}"; done
} >"$W/a.req"
changes "$W/a.req"
[ "$(entries)" = 1150 ] && pass "the journal holds the 1,150 changes" || fail "journal: $(entries) entries, not 1150"
records >"$W/before"
topo_stop_host h1 KILL
topo_host h1 "$CONF/host1.yaml" 0,1
grep -q 'compacted: 1150 entries -> 50' "$W/h1.log" && pass "at start: $(grep -o 'compacted: .*' "$W/h1.log" | tail -1)" ||
  fail "no compaction at start: $(grep journal "$W/h1.log" | tail -3)"
[ "$(entries)" = 50 ] && pass "the journal holds 50 entries" || fail "journal: $(entries) entries, not 50"
[ ! -e "$W/h1.journal.tmp" ] && pass "no temporary file left" || fail "$W/h1.journal.tmp left behind"
records >"$W/after"
cmp -s "$W/before" "$W/after" && pass "same records, same order after the restart ($(wc -l <"$W/after"))" ||
  fail "records differ after the compacting restart: $(diff "$W/before" "$W/after" | head -5)"
topo_stop_host h1
topo_host h1 "$CONF/host1.yaml" 0,1
records >"$W/after2"
cmp -s "$W/before" "$W/after2" && pass "same records after a second restart (replaying the compacted journal)" ||
  fail "records differ after the second restart: $(diff "$W/before" "$W/after2" | head -5)"

step "(b) a change right before kill -9"
hnv h1 set lookup-record vsid=6000 customer_address=10.0.1.150 provider_address=192.168.0.44 >/dev/null ||
  fail "hnvctl set refused"
topo_stop_host h1 KILL
topo_host h1 "$CONF/host1.yaml" 0,1
hnv h1 --json get lookup-record customer_address=10.0.1.150 | grep -q '192.168.0.44' &&
  pass "the migration made before the kill is back" || fail "the migration made before the kill is lost"

step "(c) 1,001 migrations, then hnvctl apply compacts"
{
  for k in $(seq 0 1000); do
    i=$((150 + k % 50)); pa=$((k % 2 == 0 ? 33 : 44))
    req set "{\"customer_address\":\"10.0.1.$i\",\"vsid\":6000,\"provider_address\":\"192.168.0.$pa\"}"
  done
} >"$W/c.req"
changes "$W/c.req"
records >"$W/before"
hnv h1 apply >/dev/null || fail "hnvctl apply refused"
grep -q 'compacted: 1051 entries -> 50' "$W/h1.log" && pass "after apply: $(grep -o 'compacted: .*' "$W/h1.log" | tail -1)" ||
  fail "no compaction after apply: $(grep journal "$W/h1.log" | tail -3)"
records >"$W/after"
cmp -s "$W/before" "$W/after" && pass "same records after the apply" || fail "records differ after the apply"

step "(d) the files hold everything: the journal is emptied"
{
  for i in $(seq 150 199); do req remove "{\"customer_address\":\"10.0.1.$i\",\"vsid\":6000}"; done
} >"$W/d.req"
changes "$W/d.req"
records >"$W/before"
hnv h1 apply >/dev/null || fail "hnvctl apply refused"
[ "$(entries)" = 0 ] && pass "the journal is empty" || fail "journal: $(entries) entries, not 0"
topo_stop_host h1 KILL
topo_host h1 "$CONF/host1.yaml" 0,1
records >"$W/after"
cmp -s "$W/before" "$W/after" && pass "same records after a restart with the empty journal" ||
  fail "records differ: $(diff "$W/before" "$W/after" | head -5)"
topo_done
