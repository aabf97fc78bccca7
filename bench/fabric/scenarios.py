"""The four measured scenarios (cold, wipe, restart, attach) and the harness floor.

Each scenario leaves the controller running or stopped as documented, and returns one
result dict. Times are seconds from the scenario's trigger (t0).
"""

import os
import time
from dataclasses import dataclass

import proc_stats
from syn_watch import SynDropWatcher
from enforcement_watch import trace_round, watch
from reference_flows import as_ofctl_text

SCENARIOS = ("cold", "wipe", "restart", "attach")


class ScenarioError(Exception):
    """The fabric was not in the state a scenario needs before its trigger."""


@dataclass
class Knobs:
    timeout: float = 20.0  # give up on a scenario this long after t0
    wipe_timeout: float = 5.0  # wipe: a controller that does not notice in this long never will
    settle: float = 1.5  # keep watching for flaps this long after the last bridge became correct
    pre_start: float = 1.0  # cold: bridges point at the dead address this long before the start
    restart_gap: float = 1.0  # restart: controller down this long (flows wiped meanwhile)
    gap: float = 0.01  # pause between trace rounds
    wipe_workers: int = 16


def require_all_broken(client, bridges, what):
    correct = [b for b, ok, _ in trace_round(client, bridges) if ok]
    if correct:
        raise ScenarioError(f"{what}: {len(correct)} bridges already enforce the policy before t0")


def _result(name, ctl, bridges, tl, t0, extra, before_cpu, before_listen, syns=None):
    after_listen = proc_stats.listen_counters()
    dropped_syns = syns.stop() if syns is not None else 0
    proc = proc_stats.sample(ctl.proc.pid) if ctl is not None and ctl.alive() else None
    res = {
        "scenario": name,
        "n": len(bridges),
        "all_correct_s": tl.all_correct_at,
        "settled_s": tl.settled_at(),
        "flaps": tl.flaps(),
        "breaks": tl.breaks(),
        "bridges_broken_after_correct": tl.bridges_flapped(),
        "never_correct": len(tl.never_correct()),
        "rounds": tl.rounds,
        "first_correct_p50_p90_max": tl.first_correct_quantiles(),
        "t0_wall": time.time() - (time.monotonic() - t0),
        "dropped_syns": dropped_syns,  # to this controller's port only
        "listen_overflows": after_listen[0] - before_listen[0],  # system-wide
        "listen_drops": after_listen[1] - before_listen[1],  # system-wide
        "observed_s": time.monotonic() - t0,
        "load1": os.getloadavg()[0],
    }
    if proc is not None:
        res.update({"vm_hwm_kib": proc.vm_hwm_kib, "vm_rss_kib": proc.vm_rss_kib,
                    "cpu_s": round(proc.cpu_s - before_cpu, 3), "cpu_total_s": proc.cpu_s})
    elif ctl is not None:
        res["controller_died"] = True
    res.update(extra)
    return res


def floor(client, bset, knobs):
    """Flows pre-installed by ovs-ofctl, no controller: the time the harness itself needs to see them."""
    bset.del_controller()
    bset.wipe_flows(knobs.wipe_workers)
    bset.add_flows(as_ofctl_text(), knobs.wipe_workers)
    before = proc_stats.listen_counters()
    t0 = time.monotonic()
    tl = watch(client, bset.names, t0, knobs.timeout, 0.0, knobs.gap)
    res = _result("floor", None, bset.names, tl, t0, {"controller": "harness"}, 0.0, before)
    bset.wipe_flows(knobs.wipe_workers)
    return res


def _start_and_watch(name, client, bset, ctl, knobs, extra):
    syns = SynDropWatcher(ctl.spec.port).start()
    before = proc_stats.listen_counters()
    t0 = ctl.start()
    listen_s = ctl.wait_listening()
    tl = watch(client, bset.names, t0, knobs.timeout, knobs.settle, knobs.gap)
    return _result(name, ctl, bset.names, tl, t0, {"listen_s": round(listen_s, 4), **extra}, 0.0, before, syns)


def cold(client, bset, ctl, knobs):
    """Bridges wiped and pointing at the controller's address; then the controller starts.
    Leaves the controller running."""
    bset.del_controller()
    bset.wipe_flows(knobs.wipe_workers)
    bset.set_controller(ctl.spec.target)
    require_all_broken(client, bset.names, "cold")
    time.sleep(knobs.pre_start)
    return _start_and_watch("cold", client, bset, ctl, knobs, {})


def wipe(client, bset, ctl, knobs):
    """Controller running and every bridge correct; `ovs-ofctl del-flows` on every bridge."""
    before_cpu = proc_stats.sample(ctl.proc.pid).cpu_s
    syns = SynDropWatcher(ctl.spec.port).start()
    before = proc_stats.listen_counters()
    t0 = time.monotonic()
    bset.wipe_flows(knobs.wipe_workers)
    burst = time.monotonic() - t0
    tl = watch(client, bset.names, t0, knobs.wipe_timeout, knobs.settle, knobs.gap)
    return _result("wipe", ctl, bset.names, tl, t0, {"trigger_s": round(burst, 4)}, before_cpu, before, syns)


def restart(client, bset, ctl, knobs):
    """Controller stopped, flows wiped while it is down, controller started again."""
    ctl.stop()
    t_stop = time.monotonic()
    bset.wipe_flows(knobs.wipe_workers)
    require_all_broken(client, bset.names, "restart")
    time.sleep(max(0.0, t_stop + knobs.restart_gap - time.monotonic()))
    return _start_and_watch("restart", client, bset, ctl, knobs, {})


def attach(client, bset, ctl, knobs):
    """Controller already listening; all bridges (wiped, no controller) pointed at it in one
    ovs-vsctl transaction."""
    bset.del_controller()
    bset.wipe_flows(knobs.wipe_workers)
    time.sleep(0.3)
    require_all_broken(client, bset.names, "attach")
    before_cpu = proc_stats.sample(ctl.proc.pid).cpu_s
    syns = SynDropWatcher(ctl.spec.port).start()
    before = proc_stats.listen_counters()
    t0 = time.monotonic()
    bset.set_controller(ctl.spec.target)
    vsctl = time.monotonic() - t0
    tl = watch(client, bset.names, t0, knobs.timeout, knobs.settle, knobs.gap)
    return _result("attach", ctl, bset.names, tl, t0, {"trigger_s": round(vsctl, 4)}, before_cpu, before, syns)
