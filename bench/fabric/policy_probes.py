"""The OP25B policy as a list of probe packets with the verdict each must get, and the
pure function that reads a verdict out of `ofproto/trace` output.

A bridge "enforces the policy" when every probe gets its expected verdict.
"""

import re
from dataclasses import dataclass

FORWARDED = "forwarded"
BLOCKED = "blocked"

# Locally administered unicast MACs; not Faucet's own 0e:00:00:00:00:01 (it drops that source).
SRC_MAC = "02:00:00:00:10:01"
DST_MAC = "02:00:00:00:10:02"

SUBSCRIBER_V4 = "10.0.0.1"
SUBSCRIBER_V6 = "2001:db8:1::1"
FOREIGN_V4 = "198.51.100.7"
FOREIGN_V6 = "2001:db8:2::7"
RELAY_V4 = "192.0.2.25"
RELAY_V6 = "2001:db8::25"
EXEMPT_V4 = "203.0.113.3"


@dataclass(frozen=True)
class Probe:
    name: str
    flow: str  # an ofproto/trace flow description
    expect: str  # FORWARDED or BLOCKED


def _v4(in_port, src, dst, dport):
    return (
        f"in_port={in_port},tcp,dl_src={SRC_MAC},dl_dst={DST_MAC},"
        f"nw_src={src},nw_dst={dst},tp_src=40000,tp_dst={dport}"
    )


def _v6(in_port, src, dst, dport):
    return (
        f"in_port={in_port},tcp6,dl_src={SRC_MAC},dl_dst={DST_MAC},"
        f"ipv6_src={src},ipv6_dst={dst},tp_src=40000,tp_dst={dport}"
    )


PROBES = (
    Probe("v4 587 to foreign", _v4(1, SUBSCRIBER_V4, FOREIGN_V4, 587), FORWARDED),
    Probe("v4 25 to foreign", _v4(1, SUBSCRIBER_V4, FOREIGN_V4, 25), BLOCKED),
    Probe("v6 25 to foreign", _v6(2, SUBSCRIBER_V6, FOREIGN_V6, 25), BLOCKED),
    Probe("v4 25 to relay", _v4(1, SUBSCRIBER_V4, RELAY_V4, 25), FORWARDED),
    Probe("v6 25 to relay", _v6(2, SUBSCRIBER_V6, RELAY_V6, 25), FORWARDED),
    Probe("v6 587 to foreign", _v6(1, SUBSCRIBER_V6, FOREIGN_V6, 587), FORWARDED),
    Probe("v4 25 from exempt", _v4(2, EXEMPT_V4, FOREIGN_V4, 25), FORWARDED),
    Probe("v4 25 from uplink", _v4(3, SUBSCRIBER_V4, FOREIGN_V4, 25), FORWARDED),
)

# The first two probes fail on a bridge with no flows (587 dropped) and on one with only a
# catch-all (25 forwarded): the watcher screens with them before tracing the rest.
SCREEN_PROBES = 2

_ACTIONS_LINE = re.compile(r"^Datapath actions: (.*)$", re.MULTILINE)


class TraceParseError(ValueError):
    """The trace output has no `Datapath actions:` line."""


def _top_level_actions(actions):
    """Splits a datapath action list on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for ch in actions:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if current:
        parts.append("".join(current).strip())
    return [p for p in parts if p]


def verdict(trace_output):
    """FORWARDED if the last `Datapath actions:` line outputs to a datapath port, else BLOCKED.

    Only sending to userspace (a sampled packet-in) or `drop` counts as blocked: the
    packet reaches no port.
    """
    lines = _ACTIONS_LINE.findall(trace_output)
    if not lines:
        raise TraceParseError(f"no 'Datapath actions:' in trace: {trace_output[-200:]!r}")
    return FORWARDED if _outputs_to_port(lines[-1]) else BLOCKED


def _outputs_to_port(actions):
    for action in _top_level_actions(actions):
        if action.isdigit():
            return True
        # clone(...) nests actions that may output; userspace()/meter()/sample() do not.
        if action.startswith("clone(") and action.endswith(")"):
            if _outputs_to_port(action[len("clone(") : -1]):
                return True
    return False


def bridge_correct(trace_outputs):
    """True when trace_outputs (one per probe in PROBES, in order) all match expectations."""
    if len(trace_outputs) != len(PROBES):
        raise ValueError(f"{len(trace_outputs)} traces for {len(PROBES)} probes")
    return all(verdict(out) == p.expect for p, out in zip(PROBES, trace_outputs))
