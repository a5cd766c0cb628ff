#!/bin/bash
# s2s: the FRR design choice, measured (issue 12 item 2). For N tenants, each
# a network namespace with a BGP instance (AS 65001, one network, one
# neighbour that does not answer: Active, a connect attempt every 5 s):
#   per-tenant  zebra + bgpd per namespace (what s2s/frr.h runs), every
#               path private to the instance (RECIPES.md §2);
#   shared      one zebra with the netns VRF backend (-n) and one bgpd with a
#               `router bgp 65001 vrf <netns>` per tenant.
# Prints, per tenant: memory at idle (PSS, RSS, private), CPU at idle over
# IDLE seconds, and the time to bring one tenant's BGP up (daemons started
# and answering vtysh, or the VRF instance added to the shared bgpd).
#
# Usage (root): flock /work/.heavy.lock tests/bench/s2s_frr_design.sh [N]   (N default 20)
# Everything runs in a private mount namespace whose /run/netns is a fresh
# tmpfs: the namespaces made here are the only ones the shared zebra sees
# (its netns backend takes every name in /run/netns as a VRF), nothing of
# the host's /run/netns is touched, and they all vanish with the script.
# No traffic leaves the namespaces (the neighbour address is TEST-NET-1,
# routed nowhere).
set -euo pipefail
N=${1:-20}
IDLE=${IDLE:-30}
if [ "$(id -u)" != 0 ]; then echo "needs root" >&2; exit 77; fi
if [ "${S2S_BENCH_INNER:-}" != 1 ]; then
  S2S_BENCH_INNER=1 exec unshare -m --propagation private "$0" "$@"
fi
mount -t tmpfs -o size=1m s2sbench /run/netns
B=$(mktemp -d /tmp/s2s-frr-bench.XXXXXX)
chmod 755 "$B"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for n in $(ip netns list | awk '{print $1}'); do ip netns del "$n"; done
  rm -rf "$B"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# pss rss private (kB) summed over the PIDs given.
mem() {
  local pss=0 rss=0 priv=0
  for p in "$@"; do
    read -r a b c < <(awk '/^Pss:/{p=$2} /^Rss:/{r=$2} /^Private_(Clean|Dirty):/{v+=$2} END{print p, r, v}' "/proc/$p/smaps_rollup")
    pss=$((pss + a)); rss=$((rss + b)); priv=$((priv + c))
  done
  echo "$pss $rss $priv"
}
# utime+stime ticks summed over the PIDs given.
ticks() {
  local t=0
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo $t
}
HZ=$(getconf CLK_TCK)
report() { # NAME PIDS...
  local name=$1; shift
  sleep 5
  read -r pss rss priv < <(mem "$@")
  local t0; t0=$(ticks "$@")
  sleep "$IDLE"
  local t1; t1=$(ticks "$@")
  awk -v n="$N" -v name="$name" -v pss="$pss" -v rss="$rss" -v priv="$priv" -v dt=$((t1 - t0)) \
      -v hz="$HZ" -v idle="$IDLE" 'BEGIN{
    printf "%-11s per tenant: PSS %6.0f kB  RSS %6.0f kB  private %6.0f kB  CPU %.3f %% of a core (idle %ds)\n",
      name, pss/n, rss/n, priv/n, dt/hz/idle/n*100, idle }'
}

for i in $(seq "$N"); do
  ip netns add "t$i"
  ip -n "t$i" link set lo up
  ip -n "t$i" addr add "10.$((i / 250)).$((i % 250)).1/24" dev lo
done
chown frr:frr "$B"

bgp_block() { # I [vrf]
  local i=$1 vrf=${2:-}
  printf 'router bgp 65001%s\n bgp router-id 10.%d.%d.1\n no bgp default ipv4-unicast\n' \
    "${vrf:+ vrf $vrf}" $((i / 250)) $((i % 250))
  printf ' neighbor 192.0.2.1 remote-as 65002\n neighbor 192.0.2.1 timers connect 5\n'
  printf ' address-family ipv4 unicast\n  network 10.%d.%d.0/24\n  neighbor 192.0.2.1 activate\n exit-address-family\nexit\n' \
    $((i / 250)) $((i % 250))
}

# --- per tenant ------------------------------------------------------------
starts=()
for i in $(seq "$N"); do
  D=$B/per/t$i; mkdir -p "$D/run"; touch "$D/vtysh.conf"
  echo "hostname t$i" > "$D/zebra.conf"
  { echo "hostname t$i"; bgp_block "$i"; } > "$D/bgpd.conf"
  chown -R frr:frr "$B/per"
  C="-u frr -g frr -P 0 --vty_socket $D/run -z $D/run/zserv.api"
  t0=$(now_ms)
  ip netns exec "t$i" /usr/lib/frr/zebra $C -f "$D/zebra.conf" -i "$D/run/zebra.pid" >/dev/null 2>&1 &
  PIDS+=($!)
  while [ ! -S "$D/run/zserv.api" ]; do sleep 0.01; done
  ip netns exec "t$i" /usr/lib/frr/bgpd $C -f "$D/bgpd.conf" -i "$D/run/bgpd.pid" >/dev/null 2>&1 &
  PIDS+=($!)
  until vtysh --vty_socket "$D/run" --config_dir "$D" -c 'show bgp summary' 2>/dev/null | grep -q 192.0.2.1; do
    sleep 0.01
  done
  starts+=($(( $(now_ms) - t0 )))
done
echo "FRR 8.4, $N tenants; machine: $(nproc) vCPUs, loaded by other work: figures are provisional"
printf 'per-tenant  start of one tenant (zebra + bgpd up, answering): median %s ms\n' \
  "$(printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')"
report per-tenant "${PIDS[@]}"
for p in "${PIDS[@]}"; do kill "$p"; done
sleep 1
PIDS=()

# --- shared: one zebra (netns VRFs), one bgpd --------------------------------
D=$B/shared; mkdir -p "$D/run"; touch "$D/vtysh.conf"
echo "hostname shared" > "$D/zebra.conf"
{ echo "hostname shared"; for i in $(seq $((N - 1))); do bgp_block "$i" "t$i"; done; } > "$D/bgpd.conf"
chown -R frr:frr "$D"
C="-u frr -g frr -P 0 --vty_socket $D/run -z $D/run/zserv.api"
t0=$(now_ms)
/usr/lib/frr/zebra -n $C -f "$D/zebra.conf" -i "$D/run/zebra.pid" >"$D/zebra.out" 2>&1 &
PIDS+=($!)
while [ ! -S "$D/run/zserv.api" ]; do sleep 0.01; done
/usr/lib/frr/bgpd $C -f "$D/bgpd.conf" -i "$D/run/bgpd.pid" >"$D/bgpd.out" 2>&1 &
PIDS+=($!)
vt() { vtysh --vty_socket "$D/run" --config_dir "$D" "$@"; }
until [ "$(vt -c 'show bgp vrf all summary' 2>/dev/null | grep -c '^192.0.2.1')" -ge $((N - 1)) ]; do
  sleep 0.05
  if [ $(( $(now_ms) - t0 )) -gt 60000 ]; then
    echo "shared: the VRF instances did not come up; zebra/bgpd said:"; tail -5 "$D"/*.out
    vt -c 'show vrf' || true; exit 1
  fi
done
printf 'shared      start of the shared daemons with %d VRFs: %s ms\n' $((N - 1)) $(( $(now_ms) - t0 ))
sleep 3
read -r pss_before _ priv_before < <(mem "${PIDS[@]}")
t0=$(now_ms)
bgp_block "$N" "t$N" | sed 's/^ *//' > "$D/add.conf"
args=(-c 'configure terminal'); while read -r l; do args+=(-c "$l"); done < "$D/add.conf"
vt "${args[@]}" >/dev/null
until vt -c "show bgp vrf t$N summary" 2>/dev/null | grep -q 192.0.2.1; do sleep 0.01; done
printf 'shared      start of one more tenant (a VRF instance added through vtysh): %s ms\n' $(( $(now_ms) - t0 ))
sleep 3
read -r pss_after _ priv_after < <(mem "${PIDS[@]}")
printf 'shared      the %dth tenant added: PSS +%d kB, private +%d kB\n' "$N" \
  $((pss_after - pss_before)) $((priv_after - priv_before))
report shared "${PIDS[@]}"
# How the shared daemons take a SIGTERM (FRR 8.4's netns backend).
for p in "${PIDS[@]}"; do
  name=$(cat "/proc/$p/comm"); kill "$p"; st=0; wait "$p" || st=$?
  printf "shared      %s stopped by SIGTERM: exit status %d%s\n" "$name" "$st" \
    "$([ "$st" -ge 128 ] && echo " (signal $((st - 128)))")"
done
PIDS=()
