"""The `edge` topology: one edge switch, two subscribers, the relay and "the internet".

    sub1 --1+
    sub2 --2+ o25edge (dpid 0x10) +3-- relay  192.0.2.25     2001:db8::25
                                  +4-- mail   198.51.100.25  2001:db8:5100::25

    sub1 10.0.0.1 2001:db8:a::1      sub2 10.0.0.2 2001:db8:a::2

Ports 1 and 2 are subscriber ports (policed), 3 and 4 uplinks.  One flat L2
segment (see fabric_nodes.py).

Written for Mininet's command line (on a machine of your own: a failing `mn` runs a
machine-wide cleanup that deletes every OVS bridge and Mininet host):
    mn --custom topologies/edge.py --topo edge --controller op25b
"""

import inspect
import os
import sys

from mininet.topo import Topo

_HERE = os.path.dirname(os.path.abspath(inspect.currentframe().f_code.co_filename))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fabric_nodes import DualStackHost, controller_class, dpid, edge_switch_class  # noqa: E402

POLICY = os.path.join(_HERE, 'edge.toml')

# name: (switch, port on that switch, IPv4, IPv6, MAC)
HOSTS = {
    'sub1': ('o25edge', 1, '10.0.0.1', '2001:db8:a::1', '00:00:00:00:0a:01'),
    'sub2': ('o25edge', 2, '10.0.0.2', '2001:db8:a::2', '00:00:00:00:0a:02'),
    'relay': ('o25edge', 3, '192.0.2.25', '2001:db8::25', '00:00:00:00:02:25'),
    'mail': ('o25edge', 4, '198.51.100.25', '2001:db8:5100::25', '00:00:00:51:00:25'),
}

SWITCHES = {'o25edge': 0x10}

TRUNKS = []


class EdgeTopo(Topo):
    """One edge switch: two subscribers, the ISP relay, a host standing for the internet."""

    def build(self):
        switch_cls = edge_switch_class()
        for name, number in SWITCHES.items():
            self.addSwitch(name, cls=switch_cls, dpid=dpid(number))
        for name, (switch, port, ip4, ip6, mac) in HOSTS.items():
            self.addHost(name, cls=DualStackHost, ip=ip4 + '/32', ip6=ip6 + '/128', mac=mac)
            self.addLink(name, switch, port2=port)


topos = {'edge': EdgeTopo}
controllers = {'op25b': controller_class(POLICY)}
