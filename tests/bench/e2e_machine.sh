# Sourced by tests/bench/e2e_vswitch.sh and apply_bench.sh: what else the
# machine is doing right now.
# e2e_cpu_busy [SECONDS]: CPU time used by everything over SECONDS (default
# 2), in percent of one CPU (from /proc/stat; 200 = both vCPUs busy).
e2e_cpu_busy() {
  local s=${1:-2} u n y i w q sq st t0 i0 t1 i1
  read -r _ u n y i w q sq st _ </proc/stat; t0=$((u + n + y + i + w + q + sq + st)); i0=$((i + w))
  sleep "$s"
  read -r _ u n y i w q sq st _ </proc/stat; t1=$((u + n + y + i + w + q + sq + st)); i1=$((i + w))
  echo $(( 100 * $(nproc) * ((t1 - t0) - (i1 - i0)) / (t1 - t0) ))
}
# e2e_top [N]: the N (default 5) processes using the most CPU right now
# (top's second sample, 1 s), as "PID %CPU COMMAND".
e2e_top() {
  top -b -n 2 -d 1 -w 200 | awk -v n="${1:-5}" '/^top -/ {k++} k == 2 && /^ *PID/ {p = 1; next} p && c < n {print $1, $9, $12; c++}'
}
