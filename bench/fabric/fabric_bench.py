#!/usr/bin/python3
"""Real-fabric benchmark: op25b vs Faucet vs a minimal os-ken app on N Open vSwitch bridges.

For each N, creates N userspace bridges (ports 1-3, fail_mode=secure), measures the harness
floor, then for each repetition and each controller runs: cold, wipe, restart, attach
(see scenarios.py). Writes one JSON line per measurement to OUT/results.jsonl and prints
the tables (report.py). Bridges and controllers are removed on exit, even on Ctrl-C.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import controllers  # noqa: E402
import report  # noqa: E402
import scenarios  # noqa: E402
from enforcement_watch import TracePool, WatchError, watch  # noqa: E402
from ovs_bridges import BridgeSet, OvsError, dpid_of, leftover_bridges  # noqa: E402
from proc_stats import ProcError  # noqa: E402
from unixctl import UnixctlError  # noqa: E402

CONTROLLERS = ("op25b", "faucet", "osken")


def parse_args(argv):
    repo = os.path.dirname(os.path.dirname(HERE))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--controllers", default=",".join(CONTROLLERS))
    p.add_argument("--n", default="10,50,100,200", help="bridge counts")
    p.add_argument("--scenarios", default=",".join(scenarios.SCENARIOS))
    p.add_argument("--big-n", type=int, default=200,
                   help="from this N on, only run --big-n-scenarios")
    p.add_argument("--big-n-scenarios", default="wipe,restart,attach")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--op25b-bin", default=os.path.join(repo, "target", "release", "op25b"))
    p.add_argument("--faucet-venv", default="/tmp/faucet-venv")
    p.add_argument("--osken-venv", default="/tmp/fb-osken-venv")
    p.add_argument("--prefix", default="fb", help="bridge name prefix (alphanumeric)")
    p.add_argument("--base-port", type=int, default=6700,
                   help="op25b +1, faucet +2, osken +3; op25b api +11, faucet prometheus +12")
    p.add_argument("--out", default=f"/tmp/bench-fabric-{time.strftime('%Y%m%dT%H%M%S')}")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--wipe-timeout", type=float, default=5.0)
    p.add_argument("--trace-connections", type=int, default=16,
                   help="parallel unixctl connections for ofproto/trace")
    p.add_argument("--gap", type=float, default=0.01, help="pause between trace rounds, s")
    p.add_argument("--settle", type=float, default=1.5)
    p.add_argument("--pre-start", type=float, default=1.0)
    p.add_argument("--restart-gap", type=float, default=1.0)
    return p.parse_args(argv)


def spec_for(name, args, bset, workdir):
    if name == "op25b":
        return controllers.op25b_spec(args.op25b_bin, args.base_port + 1, args.base_port + 11, workdir)
    if name == "faucet":
        pairs = [(b, dpid_of(k)) for k, b in enumerate(bset.names, start=1)]
        return controllers.faucet_spec(args.faucet_venv, args.base_port + 2, args.base_port + 12, workdir, pairs)
    if name == "osken":
        return controllers.osken_spec(args.osken_venv, args.base_port + 3)
    raise ValueError(f"unknown controller {name!r}")


def ensure_connected(client, bset, ctl, knobs):
    """Untimed: starts the controller if needed and waits until every bridge is correct.

    Flows are wiped first: the previous controller's flows would pass the oracle too.
    """
    if not ctl.alive():
        ctl.start()
        ctl.wait_listening()
    bset.del_controller()
    bset.wipe_flows(knobs.wipe_workers)
    scenarios.require_all_broken(client, bset.names, "before connecting")
    bset.set_controller(ctl.spec.target)
    tl = watch(client, bset.names, time.monotonic(), knobs.timeout, 0.0, knobs.gap)
    if not tl.all_correct():
        raise scenarios.ScenarioError(f"{ctl.spec.name}: {len(tl.never_correct())} bridges never correct")


RUNNERS = {"cold": scenarios.cold, "wipe": scenarios.wipe, "restart": scenarios.restart,
           "attach": scenarios.attach}


def run_controller(client, bset, ctl, wanted, knobs, emit):
    for name in scenarios.SCENARIOS:
        if name not in wanted:
            continue
        if name == "cold" and ctl.alive():
            ctl.stop()
        if name == "wipe" or (name == "restart" and not ctl.alive()):
            # restart needs a running controller with the bridges attached to it.
            ensure_connected(client, bset, ctl, knobs)
        if name == "attach" and not ctl.alive():
            ctl.start()
            ctl.wait_listening()
        emit(RUNNERS[name](client, bset, ctl, knobs))


def main(argv):
    args = parse_args(argv)
    names = [c for c in args.controllers.split(",") if c]
    for c in names:
        if c not in CONTROLLERS:
            sys.exit(f"unknown controller {c!r}; choose from {CONTROLLERS}")
    wanted_all = [s for s in args.scenarios.split(",") if s]
    wanted_big = [s for s in args.big_n_scenarios.split(",") if s in wanted_all]
    ns = [int(x) for x in args.n.split(",") if x]
    knobs = scenarios.Knobs(timeout=args.timeout, wipe_timeout=args.wipe_timeout, settle=args.settle, pre_start=args.pre_start,
                            restart_gap=args.restart_gap, gap=args.gap)
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "results.jsonl")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    leftovers = leftover_bridges(args.prefix)
    if leftovers:
        print(f"removing {len(leftovers)} bridges left by an earlier run: {leftovers[:5]}...", flush=True)
        cmd = ["ovs-vsctl"]
        for b in leftovers:
            cmd += ["--", "--if-exists", "del-br", b]
        subprocess.run(cmd, check=True, timeout=600)

    meta = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "args": vars(args),
            "uname": os.uname().release,
            "repo_head": subprocess.run(["git", "-C", HERE, "log", "-1", "--format=%h %s"], capture_output=True,
                                        text=True).stdout.strip(),
            "op25b_bin_mtime": (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(args.op25b_bin)))
                                if os.path.exists(args.op25b_bin) else None), "nproc": os.cpu_count(),
            "ovs": subprocess.run(["ovs-vsctl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]}
    with open(os.path.join(args.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)

    client = TracePool(args.trace_connections)
    out = open(results_path, "a", encoding="utf-8")

    def emit(res):
        out.write(json.dumps(res) + "\n")
        out.flush()
        print(report.one_line(res), flush=True)

    running = []
    bset = None
    try:
        for n in ns:
            wanted = wanted_big if n >= args.big_n else wanted_all
            bset = BridgeSet(args.prefix, n)
            t = time.monotonic()
            bset.create()
            print(f"# N={n}: created {n} bridges in {time.monotonic() - t:.2f}s, load {os.getloadavg()[0]:.2f}", flush=True)
            for rep in range(args.reps):
                emit({**scenarios.floor(client, bset, knobs), "rep": rep})
            for rep in range(args.reps):
                order = names[rep % len(names):] + names[: rep % len(names)]
                for cname in order:
                    workdir = os.path.join(args.out, f"{cname}-n{n}")
                    os.makedirs(workdir, exist_ok=True)
                    ctl = controllers.RunningController(spec_for(cname, args, bset, workdir),
                                                        os.path.join(workdir, f"{cname}.out"))
                    running.append(ctl)

                    def tagged(res, cname=cname, rep=rep):
                        emit({**res, "controller": cname, "rep": rep})
                    try:
                        run_controller(client, bset, ctl, wanted, knobs, tagged)
                    except (controllers.ControllerError, scenarios.ScenarioError, WatchError,
                            OvsError, ProcError) as err:
                        emit({"controller": cname, "rep": rep, "n": n, "scenario": "error", "error": str(err)})
                    finally:
                        ctl.stop()
                        running.remove(ctl)
            t = time.monotonic()
            bset.del_controller()
            bset.destroy()
            print(f"# N={n}: removed bridges in {time.monotonic() - t:.2f}s", flush=True)
            bset = None
    except (UnixctlError, OvsError) as err:
        print(f"aborted: {err}", file=sys.stderr)
        return 1
    finally:
        for ctl in running:
            ctl.stop()
        if bset is not None:
            try:
                bset.destroy()
            except OvsError as err:
                print(f"cleanup: {err}", file=sys.stderr)
        out.close()
        client.close()
    print(report.render(report.load(results_path), names))
    print(f"\nraw results: {results_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
