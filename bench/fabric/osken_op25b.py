"""A minimal os-ken (Ryu) application enforcing OP25B: on switch features it installs the
same flow set as reference_flows.py (uplink forward, relay allows, exempt allow, TCP/25
drops, catch-all NORMAL), and nothing more: no audit, no re-sync, no state.

Run: osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port 6703 osken_op25b.py
"""

import ipaddress

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3

UPLINK_PORT = 3
RELAY_V4 = "192.0.2.25/32"
RELAY_V6 = "2001:db8::25/128"
EXEMPT_V4 = "203.0.113.0/29"
BLOCKED_PORT = 25
ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
IPPROTO_TCP = 6


def _net(prefix):
    net = ipaddress.ip_network(prefix)
    return (str(net.network_address), str(net.netmask))


class Op25bApp(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        parser = dp.ofproto_parser
        ofp = dp.ofproto
        normal = [parser.OFPInstructionActions(
            ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(ofp.OFPP_NORMAL)])]

        def add(priority, match, instructions):
            dp.send_msg(parser.OFPFlowMod(
                datapath=dp, priority=priority, match=match, instructions=instructions,
                buffer_id=ofp.OFP_NO_BUFFER, out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY))

        add(400, parser.OFPMatch(in_port=UPLINK_PORT), normal)
        add(300, parser.OFPMatch(eth_type=ETH_IPV4, ip_proto=IPPROTO_TCP,
                                 ipv4_dst=_net(RELAY_V4), tcp_dst=BLOCKED_PORT), normal)
        add(300, parser.OFPMatch(eth_type=ETH_IPV6, ip_proto=IPPROTO_TCP,
                                 ipv6_dst=_net(RELAY_V6), tcp_dst=BLOCKED_PORT), normal)
        add(300, parser.OFPMatch(eth_type=ETH_IPV4, ipv4_src=_net(EXEMPT_V4)), normal)
        drop = self.drop_instructions(parser, ofp)
        add(200, parser.OFPMatch(eth_type=ETH_IPV4, ip_proto=IPPROTO_TCP, tcp_dst=BLOCKED_PORT), drop)
        add(200, parser.OFPMatch(eth_type=ETH_IPV6, ip_proto=IPPROTO_TCP, tcp_dst=BLOCKED_PORT), drop)
        add(0, parser.OFPMatch(), normal)

    def drop_instructions(self, parser, ofp):
        """What the TCP/25 drops do: nothing (osken_op25b_samples.py also samples)."""
        return []
