#!/usr/bin/env python3
"""Summarizes dataplane_bench's JSON output (--benchmark_out_format=json).

Prints, per benchmark, the median of the repetitions (or the single run when
there are no aggregates): the full-path packet rate and time per packet, the
refill cost measured on its own (BM_RefillOnly) and the pipeline cost without
it, the ratio to a bare rte_hash_lookup_bulk over the same keys, table memory
per record, the update rate with traffic running, and each of the issue's
targets as met / not met.

    python3 tests/bench/summarize.py build-bench/bench.json
"""
import json
import sys

TARGETS = {
    # (flow, records): Mpps per core
    ("Encap", 1_000_000): 15.0,
    ("Decap", 1_000_000): 15.0,
    ("Encap", 1_000): 30.0,
    ("Decap", 1_000): 30.0,
}
UPDATE_TARGET = 500_000.0  # records/s with traffic running
REFILL_NAME = {"Encap": "encap", "Decap": "decap", "RouteLocal": "route_local",
               "RouteEncap": "route_encap"}
FLOWS = ["Encap", "Decap", "RouteLocal", "RouteEncap"]


def load(path):
    with open(path) as f:
        doc = json.load(f)
    runs, cv = {}, {}
    has_aggregates = any(b.get("run_type") == "aggregate" for b in doc["benchmarks"])
    for b in doc["benchmarks"]:
        if b.get("error_occurred"):
            runs[b["run_name"]] = {"error": b.get("error_message", "error")}
            continue
        name = b["run_name"]
        if has_aggregates:
            if b.get("run_type") != "aggregate":
                continue
            if b["aggregate_name"] == "median":
                runs[name] = b
            elif b["aggregate_name"] == "cv":
                cv[name] = b
        else:
            runs[name] = b
    return doc.get("context", {}), runs, cv


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def get(runs, name, key):
    b = runs.get(name)
    if b is None or "error" in b:
        return None
    return b.get(key)


def cv_pct(cv, name, key):
    b = cv.get(name)
    return None if b is None or key not in b else 100.0 * b[key]


def table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).rjust(w) for x, w in zip(r, widths))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ctx, runs, cv = load(sys.argv[1])
    errors = {n: b["error"] for n, b in runs.items() if "error" in b}
    records_list = sorted({int(n.split("/")[1]) for n in runs
                           if n.split("/")[0] in ("BM_" + f for f in FLOWS)})
    lens = sorted({int(n.split("/")[2]) for n in runs
                   if n.split("/")[0] in ("BM_" + f for f in FLOWS)})
    print(f"host: {ctx.get('num_cpus')} CPUs @ {ctx.get('mhz_per_cpu')} MHz, "
          f"load avg {ctx.get('load_avg')}, eal: {ctx.get('eal')}")
    print(f"figures: median of {'the repetitions' if cv else 'the single run'}; "
          "cv = coefficient of variation of ns/pkt across repetitions\n")

    print("Full pipeline, one core, bursts of 32 (with refill = alloc + copy + patch + "
          "free of each mbuf; pipeline = with refill - BM_RefillOnly)")
    rows = []
    pipe = {}
    for flow in FLOWS:
        for n in records_list:
            for ln in lens:
                name = f"BM_{flow}/{n}/{ln}"
                if name not in runs:
                    continue
                if name in errors:
                    rows.append([flow, n, ln, "ERROR: " + errors[name], "", "", "", "", "", ""])
                    continue
                ns = get(runs, name, "ns_per_pkt")
                refill = get(runs, f"BM_RefillOnly/{REFILL_NAME[flow]}/{ln}", "ns_per_pkt")
                net = ns - refill if ns is not None and refill is not None else None
                bare = get(runs, f"BM_BareHashLookupBulk/{n}", "ns_per_pkt")
                pipe[(flow, n, ln)] = (ns, net)
                rows.append([flow, n, ln, fmt(1e3 / ns, ".2f"), fmt(ns, ".1f"), fmt(refill, ".1f"),
                             fmt(net, ".1f"), fmt(1e3 / net if net else None, ".2f"),
                             fmt(net / bare if net and bare else None, ".1f") + "x",
                             fmt(cv_pct(cv, name, "ns_per_pkt"), ".1f")])
    table(["flow", "records", "bytes", "Mpps", "ns/pkt", "refill ns", "pipe ns", "pipe Mpps",
           "pipe/bare", "cv%"], rows)

    print("\nLookups alone (ns per key; same keys, bursts of 32)")
    rows = []
    for n in records_list:
        rows.append([n] + [fmt(get(runs, f"{b}/{n}", "ns_per_pkt"), ".1f") for b in
                           ("BM_BareHashLookupBulk", "BM_BareHashLookup", "BM_FindCaBulk",
                            "BM_FindCa")])
    table(["records", "rte_hash_lookup_bulk", "rte_hash_lookup", "FindCaBulk", "FindCa"], rows)

    print("\nTable memory (PolicyTables::Memory(); tables sized for 1,100,000 records)")
    rows = []
    for n in records_list:
        name = next((f"BM_{f}/{n}/{ln}" for f in FLOWS for ln in lens
                     if get(runs, f"BM_{f}/{n}/{ln}", "bytes_per_record") is not None), None)
        if name is None:
            continue
        rows.append([n, fmt(get(runs, name, "bytes_per_record"), ".0f"),
                     fmt(get(runs, name, "table_bytes") / 2**20, ".1f"),
                     fmt(get(runs, name, "pool_bytes") / 2**20, ".1f"),
                     fmt(get(runs, name, "ctl_bytes_per_record"), ".0f")])
    table(["records", "bytes/record", "tables MiB", "free lists MiB", "control bytes/record"], rows)

    print("\nPolicy updates with traffic running (UpsertRecord moving a record to another PA; "
          "worker on the other core)")
    rows = []
    updates = {}
    for flow in ("encap", "decap"):
        for n in records_list:
            name = f"BM_UpdateWithTraffic/{flow}/{n}/real_time"
            if name not in runs:
                continue
            if name in errors:
                rows.append([flow, n, "ERROR: " + errors[name], "", ""])
                continue
            ups = get(runs, name, "updates_per_s")
            updates[(flow, n)] = ups
            rows.append([flow, n, fmt(ups, ",.0f"), fmt(get(runs, name, "updates_per_cpu_s"), ",.0f"),
                         fmt(get(runs, name, "worker_Mpps"), ".2f"),
                         fmt(get(runs, name, "worker_drop_pct"), ".3f")])
    table(["traffic", "records", "updates/s", "per CPU-s", "worker Mpps", "worker drop %"], rows)

    print("\nTargets (64-byte frames; 'pipeline' excludes the benchmark's refill, "
          "'with refill' includes it)")
    rows = []
    for (flow, n), mpps in TARGETS.items():
        ns, net = pipe.get((flow, n, 64), (None, None))
        if ns is None:
            continue
        verdict = lambda x: "n/a" if x is None else ("met" if 1e3 / x >= mpps else "NOT met")
        rows.append([f"{flow} {n:,} records", f">= {mpps:g} Mpps (<= {1e3 / mpps:.0f} ns)",
                     fmt(1e3 / net if net else None, ".2f"), verdict(net),
                     fmt(1e3 / ns, ".2f"), verdict(ns)])
    for (flow, n), ups in sorted(updates.items()):
        ok = ups is not None and ups >= UPDATE_TARGET
        rows.append([f"updates, {flow} traffic, {n:,} records", f">= {UPDATE_TARGET:,.0f}/s",
                     fmt(ups, ",.0f"), "met" if ok else "NOT met", "", ""])
    table(["target", "wanted", "pipeline", "", "with refill", ""], rows)
    if errors:
        print(f"\n{len(errors)} benchmark(s) failed:")
        for n, e in errors.items():
            print(f"  {n}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
