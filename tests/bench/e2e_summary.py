#!/usr/bin/python3
"""Summary table of tests/bench/e2e_vswitch.sh's results.tsv.

Rows (run, variant, metric, value). For each metric and variant: the best
run (highest rate, lowest RTT / retransmits / loss), the median and the range
over runs; then hnv (and hnv-vnet) / kernel ratios of the best and of the medians.
  e2e_summary.py results.tsv
"""
import collections
import math
import statistics
import sys

LOWER_IS_BETTER = ("rtt_", "_retr", "_loss")
ORDER = ["tcp_c1_c3_gbps", "tcp_c3_c1_gbps", "udp64_rx_kpps", "udp64_tx_kpps", "udp64_loss_pct",
         "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "tcp_c1_c3_retr", "tcp_c3_c1_retr"]
LABEL = {
    "tcp_c1_c3_gbps": "TCP Contoso1->Contoso3 (Gbit/s)",
    "tcp_c3_c1_gbps": "TCP Contoso3->Contoso1 (Gbit/s)",
    "udp64_rx_kpps": "UDP 64 B received (kpps)",
    "udp64_tx_kpps": "UDP 64 B sent (kpps)",
    "udp64_loss_pct": "UDP 64 B loss (%)",
    "rtt_min_ms": "ping RTT min (ms)",
    "rtt_avg_ms": "ping RTT avg (ms)",
    "rtt_max_ms": "ping RTT max (ms)",
    "tcp_c1_c3_retr": "TCP C1->C3 retransmits",
    "tcp_c3_c1_retr": "TCP C3->C1 retransmits",
}


def num(x):
    try:
        v = float(x)
        return None if math.isnan(v) else v
    except ValueError:
        return None


def fmt(v):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def main():
    data = collections.defaultdict(list)  # (variant, metric) -> values
    variants, runs = [], set()
    for line in open(sys.argv[1]):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 4:
            continue
        run, var, metric, value = parts
        runs.add(run)
        if var not in variants:
            variants.append(var)
        v = num(value)
        if v is not None:
            data[(var, metric)].append(v)
    metrics = [m for m in ORDER if any((v, m) in data for v in variants)]

    def best(var, m):
        vals = data.get((var, m))
        if not vals:
            return None
        return min(vals) if any(k in m for k in LOWER_IS_BETTER) else max(vals)

    def med(var, m):
        vals = data.get((var, m))
        return statistics.median(vals) if vals else None

    kernels = [k for k in ("kernel", "kernel-txoff") if k in variants]
    ours = [v for v in ("hnv", "hnv-vnet", "hnv-xdp") if v in variants]
    head = ["metric"] + variants + [f"{h}/{k}" for h in ours for k in kernels]
    rows = []
    for m in metrics:
        row = [LABEL.get(m, m)]
        for var in variants:
            vals = data.get((var, m), [])
            if not vals:
                row.append("n/a")
            elif len(vals) == 1:
                row.append(fmt(vals[0]))
            else:
                row.append(f"{fmt(best(var, m))} (med {fmt(med(var, m))}, {fmt(min(vals))}..{fmt(max(vals))})")
        for h in ours:
            for k in kernels:
                b, kb = best(h, m), best(k, m)
                mh, mk = med(h, m), med(k, m)
                if b is None or not kb or "_retr" in m or "_loss" in m:
                    row.append("")
                elif len(runs) == 1:
                    row.append(f"{b / kb:.2f}")
                else:
                    row.append(f"{b / kb:.2f} (med {mh / mk:.2f})")
        rows.append(row)
    width = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(width[i]) for i, c in enumerate(r)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in width) + "|")
    for r in rows:
        print(line(r))
    print(f"\n{len(runs)} run(s); with several runs a cell is: best (median, min..max)")


if __name__ == "__main__":
    main()
