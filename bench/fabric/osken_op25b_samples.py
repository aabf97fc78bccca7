"""The minimal os-ken app (osken_op25b.py) plus the sampling an OP25B app needs to find infected
subscribers, as op25b does it: the TCP/25 drops also send the packet, cut to 128 bytes, to the
controller, and a PACKET_IN handler parses each sample with os-ken's packet library and counts
connection attempts (SYN without ACK) per subscriber (switch, port, source address), flagging one
after 30 attempts to at least 5 distinct hosts. No meter, no trust checks, no expiry, no reports:
the least an app can do with a sample, for the peer comparison of the outbreak benchmark.

Run: osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port 6703 osken_op25b_samples.py
bench/osken/sample_bench.py counts the instructions of `count_sample` (the handler's work).
"""

import collections
import os
import sys

from os_ken.controller import ofp_event
from os_ken.controller.handler import MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ipv4, ipv6, packet, tcp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from osken_op25b import Op25bApp  # noqa: E402

SAMPLE_BYTES = 128
FLAG_ATTEMPTS = 30
FLAG_DESTINATIONS = 5


def count_sample(offenders, flagged, dpid, msg):
    """Parses one PACKET_IN sample and counts it; returns the key when it flags a subscriber."""
    pkt = packet.Packet(msg.data)
    ip = pkt.get_protocol(ipv4.ipv4) or pkt.get_protocol(ipv6.ipv6)
    seg = pkt.get_protocol(tcp.tcp)
    if ip is None or seg is None or not seg.has_flags(tcp.TCP_SYN) or seg.has_flags(tcp.TCP_ACK):
        return None
    key = (dpid, msg.match["in_port"], ip.src)
    recent = offenders.get(key)
    if recent is None:
        recent = offenders[key] = collections.deque(maxlen=FLAG_ATTEMPTS)
    recent.append(ip.dst)
    if key in flagged or len(recent) < FLAG_ATTEMPTS or len(set(recent)) < FLAG_DESTINATIONS:
        return None
    flagged.add(key)
    return key


class Op25bSamplesApp(Op25bApp):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offenders = {}
        self.flagged = set()

    def drop_instructions(self, parser, ofp):
        return [parser.OFPInstructionActions(
            ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, SAMPLE_BYTES)])]

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        key = count_sample(self.offenders, self.flagged, ev.msg.datapath.id, ev.msg)
        if key is not None:
            self.logger.warning("likely infected subscriber %s", key)
