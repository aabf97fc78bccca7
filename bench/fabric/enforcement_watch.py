"""Polls every bridge with ofproto/trace, round after round, and records a FleetTimeline."""

import time

from policy_probes import PROBES, TraceParseError, bridge_correct
from timeline import FleetTimeline
from unixctl import UnixctlError


class WatchError(Exception):
    """A trace failed for a reason other than the policy (bridge missing, parse error)."""


def trace_round(client, bridges):
    """Traces every probe on every bridge in one pipelined burst.

    Returns [(bridge, correct, t_answer)], t_answer being when the bridge's last probe was answered.
    """
    params = [[b, p.flow] for b in bridges for p in PROBES]
    answers = client.call_many("ofproto/trace", params)
    out = []
    k = len(PROBES)
    for i, b in enumerate(bridges):
        chunk = answers[i * k : (i + 1) * k]
        texts = []
        for result, error, _ in chunk:
            if error is not None:
                raise WatchError(f"ofproto/trace on {b}: {error}")
            texts.append(result)
        try:
            ok = bridge_correct(texts)
        except TraceParseError as err:
            raise WatchError(f"{b}: {err}") from err
        out.append((b, ok, chunk[-1][2]))
    return out


def watch(client, bridges, t0, timeout, settle, gap=0.005):
    """Polls until every bridge has been correct for `settle` seconds, or `timeout` after t0.

    Times are seconds after t0 (a time.monotonic() value). `gap` is the pause between rounds,
    leaving ovs-vswitchd's main loop time for its OpenFlow connections.
    """
    tl = FleetTimeline(list(bridges))
    while True:
        try:
            results = trace_round(client, bridges)
        except UnixctlError as err:
            raise WatchError(str(err)) from err
        for b, ok, t in results:
            tl.observe(b, t - t0, ok)
        now = time.monotonic()
        tl.end_round(now - t0)
        settled = tl.settled_at()
        if settled is not None and now - t0 >= settled + settle:
            return tl
        if now - t0 >= timeout:
            return tl
        time.sleep(gap)
