"""Mininet node classes and helpers shared by op25b's test topologies.

Every topology in this directory is one flat layer-2 segment forwarded by the
controller's NORMAL action.  Each host owns a single IPv4 /32 and a single IPv6
/128 and has on-link default routes (``default dev <intf>``), so it resolves
every other host directly with ARP / neighbour discovery whatever the prefix:
the addresses can come from the documentation ranges that make the policy
readable (subscribers 10.0.0.0/16, relay 192.0.2.25, internet 198.51.100.0/24,
business line 203.0.113.0/29, IPv6 2001:db8::/32) without any router.

Switches are Open vSwitch bridges on the userspace (netdev) datapath, speak
OpenFlow 1.3 only and run in fail_mode=secure so a missing controller never
turns them into learning switches that leak port 25.
"""

import tomllib
from functools import partial

from mininet.node import Host, OVSSwitch, RemoteController


class DualStackHost(Host):
    """A Mininet host with one IPv4 /32, one IPv6 /128 and on-link default routes.

    Extra parameter: ``ip6`` (e.g. ``"2001:db8:a::1/128"``).  TX checksum
    offload is switched off on the interface: with the userspace datapath TCP
    between hosts silently fails otherwise.
    """

    def config(self, ip6=None, **params):
        result = super().config(**params)
        intf = self.defaultIntf()
        if intf is None:
            return result
        self.cmd('sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0')
        self.cmd('ethtool -K %s tx off >/dev/null 2>&1' % intf)
        self.cmd('ip route replace default dev %s' % intf)
        if ip6:
            self.cmd('ip -6 addr add %s dev %s nodad' % (ip6, intf))
            self.cmd('ip -6 route replace default dev %s' % intf)
        return result


def edge_switch_class():
    """The switch class every op25b topology uses: OVS userspace, OF1.3, fail_mode=secure."""
    return partial(OVSSwitch, datapath='user', protocols='OpenFlow13', failMode='secure')


def dpid(number):
    """Mininet's dpid string (16 hex digits) for an integer datapath id."""
    return '%016x' % number


def policy_listen(policy_path):
    """(protocol, ip, port) of a policy file's OpenFlow listener: ``ssl`` and ``[controller]
    tls_listen`` when it has one (mutual TLS; the switches need ``ovs-vsctl set-ssl``), else
    ``tcp`` and ``listen``."""
    with open(policy_path, 'rb') as handle:
        policy = tomllib.load(handle)
    section = policy.get('controller', {})
    protocol = 'ssl' if 'tls_listen' in section else 'tcp'
    listen = section.get('tls_listen', section.get('listen', '127.0.0.1:6653'))
    host, _, port = listen.rpartition(':')
    return protocol, host.strip('[]'), int(port)


def policy_controller(policy_path, name='op25b'):
    """A Mininet RemoteController pointing at the policy's listener (``ssl:`` or ``tcp:``)."""
    protocol, ip, port = policy_listen(policy_path)
    return RemoteController(name, ip=ip, port=port, protocol=protocol)


def controller_class(policy_path):
    """Controller class for ``mn --custom ... --controller op25b``."""
    protocol, ip, port = policy_listen(policy_path)
    return partial(RemoteController, ip=ip, port=port, protocol=protocol)
