#!/usr/bin/env bash
# How fast hnv-vswitch takes 100,000 lookup records: from YAML at start, on a
# reload (SIGHUP / hnvctl apply) and through hnvctl, one record at a time.
#
# The policy (tests/bench/e2e_gen_records.py): routing domain Bench, VSID 6000
# on 10.0.0.0/15, its DFGW record and N Static records (CA 10.0.0.2 + i,
# MAC 02:b0:..., PA one of 100 remote hosts 192.168.1.1..100 inside the host's
# PA subnet 192.168.0.22/16). The daemon runs in a namespace of its own with
# one port (the uplink, net_af_packet on a veth whose other end is idle),
# --max-records 200000, EAL -l 0,1 --no-huge -m 1024.
#
# Measured (wall clock; the daemon's "running" / "reloaded" log lines are
# polled every 10 ms):
#   start-empty    start with no records (EAL + ports + socket): the baseline
#   start-N        start with N records in YAML, until "running"
#   apply-same     hnvctl apply, nothing changed
#   sighup-1       one record's MAC changed in the file, kill -HUP, until
#                  "reloaded"
#   apply-1        the record changed back, hnvctl apply (returns when done)
#   apply-batch    a daemon started empty, then the N-record file swapped in
#                  and hnvctl apply: the protocol has no batch operation, so
#                  the file + apply is the batch form
#   hnvctl new     SAMPLE × `hnvctl new lookup-record ...` (a process each) on
#                  the empty daemon and LARGE_SAMPLE × on the N-record daemon;
#                  the N-record total is extrapolated from both ends (linear
#                  in between: before the indexed lookup-record path each
#                  change copied and revalidated the whole policy, so the cost
#                  grew with the table), and says so
#   socket new     the same requests over one connection (e2e_ctl_pipe.py):
#                  the server's share without the process start
#   start-N+J      a restart with the N records and the first J (20) of the
#                  changes hnvctl journalled: every start and reload replays
#                  the journal over the YAML policy
#
#   tests/bench/apply_bench.sh [--records N] [--sample S] [--large-sample S]
#                              [--journal J] [--out DIR] [--bin hnv-vswitch] [--hnvctl hnvctl]
# Needs root. Everything created (namespaces, daemons, files) is removed on
# exit; --out DIR keeps apply.tsv, apply_machine.txt and the daemon logs.
set -euo pipefail
SELF=$(realpath "$0")
HERE=$(dirname "$SELF")
ROOT=$(cd "$HERE/../.." && pwd)

N=100000 SAMPLE=2000 LARGE=100 JOURNAL=20 OUT="" LIBARGS=()
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --records) N=$2; shift ;;
    --sample) SAMPLE=$2; shift ;;
    --large-sample) LARGE=$2; shift ;;
    --journal) JOURNAL=$2; shift ;;
    --out) OUT=$2; shift ;;
    --bin|--hnvctl) LIBARGS+=("$1" "$(realpath "$2")"); shift ;;
    -h|--help) sed -n '2,38p' "$SELF"; exit 0 ;;
    *) echo "usage: $0 [--records N] [--sample S] [--large-sample S] [--journal J] [--out DIR] [--bin P] [--hnvctl P]" >&2; exit 2 ;;
  esac
  shift
done

. "$ROOT/tests/topology/lib.sh"
. "$HERE/e2e_machine.sh"
topo_limit "${APPLY_BENCH_LIMIT:-2400}" "$SELF" "${ARGS[@]}"
TOPO_NAME=apply_bench
topo_init apb "${LIBARGS[@]}"
ORIG_BIN=$(realpath "$BIN")
mkdir -p "$W/bin"
cp "$BIN" "$W/bin/hnv-vswitch"; cp "$HNVCTL" "$W/bin/hnvctl"   # others may rebuild build/
BIN=$W/bin/hnv-vswitch HNVCTL=$W/bin/hnvctl
[ -n "$OUT" ] && { mkdir -p "$OUT"; OUT=$(realpath "$OUT"); }
R=${OUT:-$W}
: >"$R/apply.tsv"
PY=/usr/bin/python3
GEN=$HERE/e2e_gen_records.py
LIMIT=${APPLY_BENCH_LIMIT:-2400}

res() { printf '%s\t%s\n' "$1" "$2" >>"$R/apply.tsv"; printf '  %-28s %s\n' "$1" "$2"; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

step "policies: $N records (and an empty one)"
t=$(now); "$PY" "$GEN" "$W/big" "$N"; echo "  generated $W/big/tenant.yaml ($(du -h "$W/big/tenant.yaml" | cut -f1)) in $(since "$t") s"
"$PY" "$GEN" "$W/small" 0

topo_infra hv pn
topo_link hv uplink pn hv

# bench_start DIR TAG [JOURNAL]: hnv-vswitch on DIR/host.yaml in namespace hv,
# with a fresh journal (or a copy of JOURNAL); sets DPID (the daemon) and STARTUP (seconds until "running").
bench_start() {
  local dir=$1 tag=$2 journal=${3:-} t0 i pid
  rm -f "$W/$tag.journal"
  [ -n "$journal" ] && cp "$journal" "$W/$tag.journal"
  : >"$W/$tag.log"
  t0=$(now)
  ip netns exec "${P}hv" sh -c 'mount -t tmpfs tmpfs /run/dpdk && exec "$@"' _ \
    timeout -s TERM -k 5 "$LIMIT" \
    "$BIN" --config "$dir/host.yaml" --journal "$W/$tag.journal" --socket "$W/$tag.sock" \
    --max-records 200000 --max-routes 4096 -- \
    -l 0,1 --main-lcore 0 --no-huge -m 1024 --no-shconf --no-pci \
    --file-prefix "${P}$tag" --log-level=error --no-telemetry >>"$W/$tag.log" 2>&1 &
  pid=$!
  TOPO_PIDS+=("$pid")
  HOST_PID[$tag]=$pid
  for i in $(seq 30000); do   # at most ~10 min
    grep -q ' running: ' "$W/$tag.log" && break
    kill -0 "$pid" 2>/dev/null || die "daemon $tag exited: $(cat "$W/$tag.log")"
    sleep 0.01
  done
  STARTUP=$(since "$t0")
  grep -q ' running: ' "$W/$tag.log" || die "daemon $tag did not start: $(cat "$W/$tag.log")"
  DPID=$(pgrep -P "$pid" | head -1)
  SOCK=$W/$tag.sock
}
bench_stop() {
  kill -TERM "${HOST_PID[$1]}" 2>/dev/null || true
  wait "${HOST_PID[$1]}" 2>/dev/null || true
}
ctl() { "$HNVCTL" --socket "$SOCK" --timeout 900000 "$@"; }
nrecords() { ctl --json get lookup-record | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# wait_log FILE PATTERN COUNT: until PATTERN occurs COUNT times in FILE
wait_log() {
  local i
  for i in $(seq 60000); do
    [ "$(grep -c -- "$2" "$1")" -ge "$3" ] && return 0
    sleep 0.01
  done
  return 1
}
# new_sample FIRST COUNT: COUNT × hnvctl new, a process each; prints seconds
new_sample() {
  local first=$1 count=$2 t0
  "$PY" - "$first" "$count" >"$W/new.cmds" <<EOF
import sys
sys.path.insert(0, "$HERE")
from e2e_gen_records import ca, mac, pa
f, c = int(sys.argv[1]), int(sys.argv[2])
for i in range(f, f + c):
    print("customer_address=%s vsid=6000 mac=%s provider_address=%s" % (ca(i), mac(i), pa(i)))
EOF
  t0=$(now)
  while read -r a b c d; do
    "$HNVCTL" --socket "$SOCK" --timeout 120000 new lookup-record "$a" "$b" "$c" "$d" >/dev/null ||
      { fail "hnvctl new lookup-record $a $b $c $d"; break; }
  done <"$W/new.cmds"
  since "$t0"
}

{
  echo "date: $(date -Is)  kernel: $(uname -r)  cpus: $(nproc)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "hnv-vswitch: $ORIG_BIN ($(stat -c %y "$ORIG_BIN"), git $(git -C "$ROOT" rev-parse --short HEAD))"
  echo "CPU in use over 2 s at the start (nothing of ours running): $(e2e_cpu_busy 2) % of one CPU"
  e2e_top 5 | sed 's/^/top at start (pid %cpu command): /'
} >"$R/apply_machine.txt"

# ------------------------------------------------------------------ empty
step "daemon with no records: baseline start, hnvctl new on an empty table"
bench_start "$W/small" e0   # twice: the first start of a run pays for cold page cache and memory
bench_stop e0
s0=$STARTUP
bench_start "$W/small" e
res start_empty_s "$(echo "if ($s0 < $STARTUP) $s0 else $STARTUP" | bc)"
s=$(new_sample 0 "$SAMPLE")
res "hnvctl_new_at_0_x${SAMPLE}_s" "$s"
res hnvctl_new_at_0_ms_per_record "$(echo "scale=3; $s * 1000 / $SAMPLE" | bc)"
s=$("$PY" "$HERE/e2e_ctl_pipe.py" "$SOCK" "$SAMPLE" "$SAMPLE")
res "socket_new_at_${SAMPLE}_x${SAMPLE}_s" "$s"
res "socket_new_at_${SAMPLE}_ms_per_record" "$(echo "scale=3; $s * 1000 / $SAMPLE" | bc)"
[ "$(nrecords)" = $((2 * SAMPLE + 1)) ] || fail "empty daemon: expected $((2 * SAMPLE + 1)) records"
bench_stop e

step "batch: a daemon started empty, the $N-record file swapped in, hnvctl apply"
cp -r "$W/small" "$W/swap"
bench_start "$W/swap" s
cp "$W/big/tenant.yaml" "$W/swap/tenant.yaml.new"; mv "$W/swap/tenant.yaml.new" "$W/swap/tenant.yaml"
t0=$(now); ctl apply >/dev/null || fail "hnvctl apply of $N records"; s=$(since "$t0")
res apply_batch_s "$s"
res apply_batch_records_per_s "$(echo "$N / $s" | bc)"
[ "$(nrecords)" = $((N + 1)) ] || fail "after the batch apply: not $((N + 1)) records"
bench_stop s

# ------------------------------------------------------------------ big
step "daemon with $N records in YAML"
bench_start "$W/big" b
res "start_${N}_s" "$STARTUP"
res "start_${N}_net_s" "$(echo "$STARTUP - $(grep -P '^start_empty_s\t' "$R/apply.tsv" | cut -f2)" | bc)"
res "start_${N}_records_per_s" "$(echo "$N / $STARTUP" | bc)"
res "daemon_peak_rss_mib" "$(awk '/VmHWM/ {printf "%d", $2/1024}' /proc/"$DPID"/status)"
[ "$(nrecords)" = $((N + 1)) ] || fail "big daemon: not $((N + 1)) records"

t0=$(now); ctl apply >/dev/null || fail "hnvctl apply (no change)"; res apply_same_s "$(since "$t0")"

K=$((N / 2))
CA=$("$PY" -c "import sys; sys.path.insert(0, '$HERE'); from e2e_gen_records import ca; print(ca($K))")
"$PY" "$GEN" "$W/big" "$N" --change "$K"
c=$(grep -c 'reloaded' "$W/b.log" || true)
t0=$(now); kill -HUP "$DPID"
wait_log "$W/b.log" reloaded $((c + 1)) || fail "no 'reloaded' after SIGHUP"
res sighup_1_changed_s "$(since "$t0")"
ctl get lookup-record customer_address="$CA" | grep -qi '12B000' || fail "SIGHUP: record $CA did not get its new MAC"

"$PY" "$GEN" "$W/big" "$N"
t0=$(now); ctl apply >/dev/null || fail "hnvctl apply (1 changed)"; res apply_1_changed_s "$(since "$t0")"
ctl get lookup-record customer_address="$CA" | grep -qi '02B000' || fail "apply: record $CA did not get its MAC back"

step "hnvctl new on the $N-record daemon ($LARGE records)"
s=$(new_sample "$N" "$LARGE")
res "hnvctl_new_at_${N}_x${LARGE}_s" "$s"
res "hnvctl_new_at_${N}_ms_per_record" "$(echo "scale=3; $s * 1000 / $LARGE" | bc)"
s=$("$PY" "$HERE/e2e_ctl_pipe.py" "$SOCK" $((N + LARGE)) "$LARGE")
res "socket_new_at_${N}_x${LARGE}_s" "$s"
res "socket_new_at_${N}_ms_per_record" "$(echo "scale=3; $s * 1000 / $LARGE" | bc)"
[ "$(nrecords)" = $((N + 2 * LARGE + 1)) ] || fail "big daemon: not $((N + 2 * LARGE + 1)) records after the hnvctl samples"
bench_stop b

step "restart with $N records in YAML and $JOURNAL journalled hnvctl changes"
# every start and reload replays the journal over the YAML policy
head -n "$JOURNAL" "$W/b.journal" >"$W/j.journal.keep"
bench_start "$W/big" j "$W/j.journal.keep"
res "start_${N}_journal_${JOURNAL}_s" "$STARTUP"
[ "$(nrecords)" = $((N + JOURNAL + 1)) ] || fail "restart: not $((N + JOURNAL + 1)) records"
bench_stop j

# ------------------------------------------------------------------ summary
{
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); CPU in use over 2 s at the end: $(e2e_cpu_busy 2) % of one CPU"
  e2e_top 5 | sed 's/^/top at the end (pid %cpu command): /'
} >>"$R/apply_machine.txt"
step "summary ($N records)"
"$PY" - "$R/apply.tsv" "$N" "$SAMPLE" "$LARGE" "$JOURNAL" <<'EOF'
import sys
v = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if "\t" in l)
N, S, L, J = (int(x) for x in sys.argv[2:6])
f = lambda k: float(v[k])
# Per-record cost of a `new` as a linear function of the table size n (it
# was, when the whole policy was copied, validated and diffed; it is about
# flat with the indexed lookup-record path): fit c(n) = a + b*n through the two
# samples at the table sizes they ran at (their midpoints), then the N-record
# total from an empty table is N*a + b*N^2/2.
def extrapolate(m0, n0, m1, n1):
    b = (m1 - m0) / (n1 - n0)
    a = m0 - b * n0
    return (N * a + b * N * N / 2) / 1000.0, a, b
hn, ha, hb = extrapolate(f("hnvctl_new_at_0_ms_per_record"), S / 2,
                         f("hnvctl_new_at_%d_ms_per_record" % N), N + L / 2)
sn, sa, sb = extrapolate(f("socket_new_at_%d_ms_per_record" % S), 1.5 * S,
                         f("socket_new_at_%d_ms_per_record" % N), N + 1.5 * L)
with open(sys.argv[1], "a") as out:
    out.write("hnvctl_new_%d_extrapolated_s\t%.1f\n" % (N, hn))
    out.write("socket_new_%d_extrapolated_s\t%.1f\n" % (N, sn))
rows = [
    ("start, no records (baseline: EAL, port, socket)", f("start_empty_s"), None),
    ("start with %d records in YAML, until 'running'" % N, f("start_%d_s" % N), N / f("start_%d_s" % N)),
    ("  the same minus the baseline", f("start_%d_net_s" % N), N / f("start_%d_net_s" % N)),
    ("batch: started empty, %d-record file, hnvctl apply" % N, f("apply_batch_s"), N / f("apply_batch_s")),
    ("reload, nothing changed (hnvctl apply)", f("apply_same_s"), None),
    ("reload, 1 record changed (SIGHUP -> 'reloaded')", f("sighup_1_changed_s"), None),
    ("reload, 1 record changed (hnvctl apply)", f("apply_1_changed_s"), None),
    ("restart with %d records + %d journalled changes" % (N, J), f("start_%d_journal_%d_s" % (N, J)), None),
    ("hnvctl new: %d records on a table of 0..%d" % (S, S), f("hnvctl_new_at_0_x%d_s" % S), S / f("hnvctl_new_at_0_x%d_s" % S)),
    ("hnvctl new: %d records on a table of %d.." % (L, N), f("hnvctl_new_at_%d_x%d_s" % (N, L)), L / f("hnvctl_new_at_%d_x%d_s" % (N, L))),
    ("hnvctl new x %d from empty, EXTRAPOLATED" % N, hn, N / hn),
    ("one connection: %d records on %d..%d" % (S, S, 2 * S), f("socket_new_at_%d_x%d_s" % (S, S)), S / f("socket_new_at_%d_x%d_s" % (S, S))),
    ("one connection: %d records on %d.." % (L, N + L), f("socket_new_at_%d_x%d_s" % (N, L)), L / f("socket_new_at_%d_x%d_s" % (N, L))),
    ("one connection x %d from empty, EXTRAPOLATED" % N, sn, N / sn),
]
print("| %-56s | %10s | %10s |" % ("how", "seconds", "records/s"))
print("|%s|%s|%s|" % ("-" * 58, "-" * 12, "-" * 12))
for name, sec, rate in rows:
    print("| %-56s | %10.3f | %10s |" % (name, sec, "" if rate is None else ("%.1f" % rate if rate < 100 else "%.0f" % rate)))
print("hnvctl new costs about %.2f ms + %.2f us per record already in the table; one connection %.2f ms + %.2f us"
      % (ha, hb * 1000, sa, sb * 1000))
print("daemon peak RSS with %d records: %s MiB" % (N, v.get("daemon_peak_rss_mib", "?")))
EOF
[ -n "$OUT" ] && { cp "$W"/*.log "$OUT"/ 2>/dev/null || true; echo "raw results in $OUT"; }
topo_done
