"""Polls every bridge with ofproto/trace, round after round, and records a FleetTimeline."""

import time
from concurrent.futures import ThreadPoolExecutor

from policy_probes import PROBES, SCREEN_PROBES, TraceParseError, verdict
from timeline import FleetTimeline
from unixctl import UnixctlClient, UnixctlError, find_vswitchd_socket


class WatchError(Exception):
    """A trace failed for a reason other than the policy (bridge missing, parse error)."""


class TracePool:
    """Several unixctl connections used in parallel.

    ovs-vswitchd serves only a few requests per connection per main-loop iteration, and an
    iteration over 200 bridges is slow: one connection gave ~0.75 s for a 200-bridge round
    here, 16 connections ~0.1 s.
    """

    def __init__(self, connections=16):
        path = find_vswitchd_socket()
        self.clients = [UnixctlClient(path) for _ in range(connections)]
        self._pool = ThreadPoolExecutor(max_workers=connections)

    def submit(self, fn, *args):
        return self._pool.submit(fn, *args)

    def close(self):
        self._pool.shutdown()
        for c in self.clients:
            c.close()


def trace_round(pool, bridges, verified=frozenset()):
    """Traces the probes on every bridge, spread over the pool's connections.

    Bridges in `verified` (seen passing all probes in the previous round) get only the screening
    probes, which still catch a wiped or half-programmed table. Returns [(bridge, correct,
    t_answer)], t_answer being when the bridge's last probe was answered.
    """
    k = len(pool.clients)
    groups = [bridges[i::k] for i in range(k)]
    jobs = [pool.submit(_trace_group, c, g, verified) for c, g in zip(pool.clients, groups) if g]
    out = []
    for job in jobs:
        out += job.result()
    return out


def _answers_ok(bridge, probes, chunk):
    for probe, (result, error, _) in zip(probes, chunk):
        if error is not None:
            raise WatchError(f"ofproto/trace on {bridge}: {error}")
        try:
            if verdict(result) != probe.expect:
                return False
        except TraceParseError as err:
            raise WatchError(f"{bridge}: {err}") from err
    return True


def _trace_probes(client, bridges, probes):
    """[(bridge, ok, t_answer)] for `probes` traced on each of `bridges`."""
    params = [[b, p.flow] for b in bridges for p in probes]
    answers = client.call_many("ofproto/trace", params)
    k = len(probes)
    out = []
    for i, b in enumerate(bridges):
        chunk = answers[i * k : (i + 1) * k]
        out.append((b, _answers_ok(b, probes, chunk), chunk[-1][2]))
    return out


def _trace_group(client, bridges, verified):
    """Screens every bridge with the first SCREEN_PROBES probes, then traces the rest only on
    bridges that passed and are not already verified: a bridge with no flows, or only some,
    fails the screen, so most rounds cost 2 traces per bridge instead of 8."""
    screened = _trace_probes(client, bridges, PROBES[:SCREEN_PROBES])
    passed = [b for b, ok, _ in screened if ok and b not in verified]
    rest = {b: (ok, t) for b, ok, t in _trace_probes(client, passed, PROBES[SCREEN_PROBES:])} if passed else {}
    out = []
    for b, ok, t in screened:
        if ok and b in rest:
            ok, t = rest[b]
        out.append((b, ok, t))
    return out


def watch(client, bridges, t0, timeout, settle, gap=0.01):
    """Polls until every bridge has been correct for `settle` seconds, or `timeout` after t0.

    Times are seconds after t0 (a time.monotonic() value). `gap` is the pause between rounds,
    leaving ovs-vswitchd's main loop time for its OpenFlow connections.
    """
    tl = FleetTimeline(list(bridges))
    while True:
        verified = frozenset(b for b, h in tl.history.items() if h.correct)
        _observe_round(tl, client, bridges, t0, verified)
        now = time.monotonic()
        settled = tl.settled_at()
        if settled is not None and now - t0 >= settled + settle:
            # Settled on screening probes: confirm with every probe on every bridge.
            _observe_round(tl, client, bridges, t0, frozenset())
            if tl.all_correct():
                return tl
        if now - t0 >= timeout:
            return tl
        time.sleep(gap)


def _observe_round(tl, client, bridges, t0, verified):
    try:
        results = trace_round(client, bridges, verified)
    except UnixctlError as err:
        raise WatchError(str(err)) from err
    for b, ok, t in results:
        tl.observe(b, t - t0, ok)
    tl.end_round(time.monotonic() - t0)
