"""DEV ONLY: a hand-written stand-in for the controller's flows.

Used by `run-scenarios --dev-flows` to prove the topologies, probes and
teardown work before (or without) the real controller.  It is not the
product: no result obtained with it says anything about op25b.
"""

import ipaddress
import tomllib

from . import procs
from .controller import COOKIE_FILTER

COOKIE = '0x4f50323542000000'


def flows_for(policy, dpid):
    """ovs-ofctl flow lines for one switch under a policy (NORMAL forwarding)."""
    entry = next((s for s in policy.get('switch', []) if int(s['dpid'].replace(':', ''), 16) == dpid), {})
    ports = entry.get('subscriber_ports', [])
    relays = [ipaddress.ip_network(r) for r in policy['policy'].get('relays', [])]
    exempt = [ipaddress.ip_network(e) for e in policy['policy'].get('exempt_sources', [])]
    lines = ['cookie=%s,priority=0,actions=NORMAL' % COOKIE]
    for port in ports:
        for blocked in policy['policy'].get('blocked_ports', [25]):
            for proto, src, dst in (('tcp', 'nw_src', 'nw_dst'), ('tcp6', 'ipv6_src', 'ipv6_dst')):
                version = 4 if proto == 'tcp' else 6
                for net in relays:
                    if net.version == version:
                        for tp in (blocked, 0):
                            lines.append('cookie=%s,priority=300,in_port=%d,%s,%s=%s,tp_dst=%d,actions=NORMAL'
                                         % (COOKIE, port, proto, dst, net, tp))
                for net in exempt:
                    if net.version == version:
                        for tp in (blocked, 0):
                            lines.append('cookie=%s,priority=300,in_port=%d,%s,%s=%s,tp_dst=%d,actions=NORMAL'
                                         % (COOKIE, port, proto, src, net, tp))
                lines.append('cookie=%s,priority=200,in_port=%d,%s,tp_dst=%d,actions=drop' % (COOKIE, port, proto, blocked))
                lines.append('cookie=%s,priority=200,in_port=%d,%s,tp_dst=0,actions=drop' % (COOKIE, port, proto))
    return lines


def install(policy_path, switches):
    """Replaces the op25b-cookie flows on each bridge {name: dpid}."""
    with open(policy_path, 'rb') as handle:
        policy = tomllib.load(handle)
    for name, dpid in switches.items():
        procs.run('ovs-ofctl -O OpenFlow13 del-flows %s %s' % (name, COOKIE_FILTER), check=True)
        flows = '\n'.join(flows_for(policy, dpid)) + '\n'
        path = '%s/devflows-%s.txt' % (procs.STATE_DIR, name)
        with open(path, 'w') as handle:
            handle.write(flows)
        procs.run('ovs-ofctl -O OpenFlow13 add-flows %s %s' % (name, path), check=True)
