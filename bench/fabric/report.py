"""Turns results.jsonl into markdown tables: one per scenario with medians over repetitions
and ratios against op25b, plus the harness floor and each controller's resources."""

import json
import math
import statistics

ORDER = ("cold", "restart", "wipe", "attach")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _fmt_s(v):
    if v is None:
        return "-"
    if math.isinf(v):
        return "timeout"
    return f"{v:.3f}"


def one_line(r):
    if r.get("scenario") == "error":
        return f"ERROR {r.get('controller')} n={r.get('n')} rep={r.get('rep')}: {r.get('error')}"
    mem = f" hwm={r['vm_hwm_kib'] / 1024:.1f}MiB cpu={r['cpu_s']:.2f}s" if "vm_hwm_kib" in r else ""
    listen = f" listen={r['listen_s'] * 1000:.0f}ms" if "listen_s" in r else ""
    return (f"{r.get('controller', '?'):7s} n={r['n']:<4d} rep={r.get('rep', 0)} {r['scenario']:8s} "
            f"all_correct={_fmt_s(r['all_correct_s'])}s flaps={r['flaps']} never={r['never_correct']} "
            f"dropped_syns={r.get('dropped_syns', '-')} sys_overflows={r['listen_overflows']}{listen}{mem} "
            f"rounds={r['rounds']} load={r['load1']:.2f}")


def median_time(values):
    """Median where a missing value (not correct within the timeout) counts as infinitely slow."""
    vals = [math.inf if v is None else v for v in values]
    return statistics.median(vals) if vals else None


def _ratio(a, b):
    if a is None or b is None or b == 0 or math.isinf(b):
        return "-"
    if math.isinf(a):
        return "inf"
    return f"{a / b:.2f}x"


def _cell(median, values):
    """'median [min-max]', a missing value (timeout) shown as 'timeout'."""
    if not values:
        return "-"
    vals = [math.inf if v is None else v for v in values]
    if all(math.isinf(v) for v in vals):
        return "timeout"
    return f"{_fmt_s(median)} [{_fmt_s(min(vals))}-{_fmt_s(max(vals))}]"


def _group(results):
    g = {}
    for r in results:
        if r.get("scenario") in (None, "error"):
            continue
        g.setdefault((r["scenario"], r["n"], r.get("controller")), []).append(r)
    return g


def render(results, controllers):
    g = _group(results)
    ns = sorted({r["n"] for r in results if "n" in r})
    lines = []
    errors = [r for r in results if r.get("scenario") == "error"]
    floor_rows = [(n, g.get(("floor", n, "harness"), [])) for n in ns]
    lines.append("### Harness floor (flows pre-installed by ovs-ofctl; time for one full trace round)\n")
    lines.append("| N | median s | traces per round |")
    lines.append("|---|---|---|")
    for n, rows in floor_rows:
        if rows:
            lines.append(f"| {n} | {_fmt_s(median_time([r['all_correct_s'] for r in rows]))} | {n * 8} |")
    others = [c for c in controllers if c != "op25b"]
    for sc in ORDER:
        present = [n for n in ns if any((sc, n, c) in g for c in controllers)]
        if not present:
            continue
        lines.append(f"\n### {sc}: seconds until every bridge enforces the policy (median [min-max] of reps)\n")
        head = "| N | " + " | ".join(controllers)
        if "op25b" in controllers:
            head += " | " + " | ".join(f"{c}/op25b" for c in others)
        head += " | flaps | dropped SYNs | never correct |"
        lines.append(head)
        lines.append("|" + "---|" * (head.count("|") - 1))
        for n in present:
            med = {c: median_time([r["all_correct_s"] for r in g.get((sc, n, c), [])]) for c in controllers}
            cells = [_cell(med[c], [r["all_correct_s"] for r in g.get((sc, n, c), [])]) for c in controllers]
            if "op25b" in controllers:
                cells += [_ratio(med[c], med["op25b"]) for c in others]
            agg = {}
            for key in ("flaps", "dropped_syns", "never_correct"):
                agg[key] = "/".join(str(sum(r.get(key, 0) for r in g.get((sc, n, c), []))) for c in controllers)
            lines.append(f"| {n} | " + " | ".join(cells) + f" | {agg['flaps']} | {agg['dropped_syns']} | "
                         f"{agg['never_correct']} |")
    lines.append("\n### Resources (median over reps): start-to-listening, peak RSS (VmHWM), CPU seconds\n")
    lines.append("| controller | N | listen ms (cold, restart) | VmHWM MiB (max over scenarios) | CPU s cold | CPU s restart | CPU s wipe | CPU s attach |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for c in controllers:
        for n in ns:
            rows = [r for (sc, nn, cc), rs in g.items() if cc == c and nn == n for r in rs]
            if not rows:
                continue
            listen = [r["listen_s"] * 1000 for r in rows if r["scenario"] in ("cold", "restart") and "listen_s" in r]
            hwm = [r["vm_hwm_kib"] / 1024 for r in rows if "vm_hwm_kib" in r]

            def cpu(sc, rows=rows):
                v = [r["cpu_s"] for r in rows if r["scenario"] == sc and "cpu_s" in r]
                return f"{statistics.median(v):.2f}" if v else "-"
            lines.append(f"| {c} | {n} | {statistics.median(listen):.0f} | {max(hwm):.1f} | " if listen and hwm
                         else f"| {c} | {n} | - | {max(hwm):.1f} | " if hwm else f"| {c} | {n} | - | - | ")
            lines[-1] += " | ".join(cpu(sc) for sc in ORDER) + " |"
    loads = [r["load1"] for r in results if "load1" in r]
    if loads:
        lines.append(f"\nLoad average (1 min) during measurements: min {min(loads):.2f}, "
                     f"median {statistics.median(loads):.2f}, max {max(loads):.2f}.")
    if errors:
        lines.append("\nErrors:")
        lines += [f"- {one_line(r)}" for r in errors]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    print(render(load(sys.argv[1]), sys.argv[2].split(",") if len(sys.argv) > 2 else ["op25b", "faucet", "osken"]))
