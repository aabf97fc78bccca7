"""The `isp` topology: two edge switches, a core and an internet border.

    sub1 --1+                                 +3-- relay   192.0.2.25   2001:db8::25
    sub2 --2+ o25e1 (dpid 1) 3 --- 1 o25core  +4-- relay2  192.0.2.26   2001:db8::26
                                   (dpid 3)   +5-- mx      192.0.2.10   2001:db8::10
    sub3 --1+ o25e2 (dpid 2) 3 --- 2          +6--- 1 o25inet (dpid 4) 2-- mail  198.51.100.25
    biz  --2+                                                          3-- web   198.51.100.80

    sub1 10.0.0.1 2001:db8:a::1      sub2 10.0.0.2 2001:db8:a::2
    sub3 10.0.1.3 2001:db8:a:1::3    biz  203.0.113.2 2001:db8:b::2 (business line, exempt on its port)
    mail 198.51.100.25 2001:db8:5100::25 (foreign mail server: 25, 465, 587)
    web  198.51.100.80 2001:db8:5100::80 (web server: 80)

Only the edge switches' subscriber ports (1 and 2) are policed; every other
port is an uplink.  relay2 is the second relay that the reload scenario adds
to the policy.  One flat L2 segment (see fabric_nodes.py).

Written for Mininet's command line (on a machine of your own: a failing `mn` runs a
machine-wide cleanup that deletes every OVS bridge and Mininet host):
    mn --custom topologies/isp.py --topo isp --controller op25b
"""

import inspect
import os
import sys

from mininet.topo import Topo

_HERE = os.path.dirname(os.path.abspath(inspect.currentframe().f_code.co_filename))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fabric_nodes import DualStackHost, controller_class, dpid, edge_switch_class  # noqa: E402

POLICY = os.path.join(_HERE, 'isp.toml')

# name: (switch, port on that switch, IPv4, IPv6, MAC)
HOSTS = {
    'sub1': ('o25e1', 1, '10.0.0.1', '2001:db8:a::1', '00:00:00:00:0a:01'),
    'sub2': ('o25e1', 2, '10.0.0.2', '2001:db8:a::2', '00:00:00:00:0a:02'),
    'sub3': ('o25e2', 1, '10.0.1.3', '2001:db8:a:1::3', '00:00:00:00:0a:03'),
    'biz': ('o25e2', 2, '203.0.113.2', '2001:db8:b::2', '00:00:00:00:0b:02'),
    'relay': ('o25core', 3, '192.0.2.25', '2001:db8::25', '00:00:00:00:02:25'),
    'relay2': ('o25core', 4, '192.0.2.26', '2001:db8::26', '00:00:00:00:02:26'),
    'mx': ('o25core', 5, '192.0.2.10', '2001:db8::10', '00:00:00:00:02:10'),
    'mail': ('o25inet', 2, '198.51.100.25', '2001:db8:5100::25', '00:00:00:51:00:25'),
    'web': ('o25inet', 3, '198.51.100.80', '2001:db8:5100::80', '00:00:00:51:00:80'),
}

# bridge name: datapath id (must match the policy's [[switch]] entries)
SWITCHES = {'o25e1': 1, 'o25e2': 2, 'o25core': 3, 'o25inet': 4}

# (switch, port, switch, port)
TRUNKS = [
    ('o25e1', 3, 'o25core', 1),
    ('o25e2', 3, 'o25core', 2),
    ('o25core', 6, 'o25inet', 1),
]


class IspTopo(Topo):
    """Two edges with subscribers, a core with the relays and the MX, an internet border."""

    def build(self):
        switch_cls = edge_switch_class()
        for name, number in SWITCHES.items():
            self.addSwitch(name, cls=switch_cls, dpid=dpid(number))
        for name, (switch, port, ip4, ip6, mac) in HOSTS.items():
            self.addHost(name, cls=DualStackHost, ip=ip4 + '/32', ip6=ip6 + '/128', mac=mac)
            self.addLink(name, switch, port2=port)
        for left, left_port, right, right_port in TRUNKS:
            self.addLink(left, right, port1=left_port, port2=right_port)


topos = {'isp': IspTopo}
controllers = {'op25b': controller_class(POLICY)}
