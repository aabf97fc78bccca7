#!/usr/bin/python3
"""Frames that try to carry a TCP SYN past a port-25 drop (scapy), run inside Mininet hosts.

  send  --iface I --frames JSON
        JSON is a list of {"kind", "src_mac", "dst_mac", "src", "dst", "port", "tag"}:
        for each, one frame of that kind (see build()) is sent twice: a TCP SYN from
        src to dst:port whose payload is the marker "op25b-bypass-<tag>" (ARP and
        neighbour solicitations carry the marker as Ethernet padding instead).
        Prints {"sent": {"<tag>": frames sent}}.
  sniff --iface I [--secs S]
        counts the frames on I that hold a marker, by tag (whatever wraps the
        packet: VLAN tags, MPLS, PPPoE), until SIGINT/SIGTERM or S seconds.  Prints
        {"ready": true} once listening, then {"tags": {"<tag>": count, ...}}.
"""

import argparse
import ipaddress
import json
import re
import signal
import sys
import threading
from types import SimpleNamespace

from scapy.all import (ARP, IP, IPv6, PPP, PPPoE, TCP, Dot1AD, Dot1Q, Ether, ICMPv6ND_NS,  # noqa: E402
                       IPOption_RR, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, Padding, Raw, sendp)
from scapy.contrib.mpls import MPLS  # noqa: E402
from scapy.sendrecv import AsyncSniffer  # noqa: E402

MARKER = re.compile(rb'op25b-bypass-(\d+)')


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def marker(tag):
    return b'op25b-bypass-%d' % tag


def syn(args, ip_options=None):
    """The IPv4 or IPv6 TCP SYN (by the destination's family) carrying the marker."""
    tcp = TCP(sport=40000 + args.tag % 20000, dport=args.port, flags='S', seq=args.tag) / Raw(marker(args.tag))
    if ':' in args.dst:
        return IPv6(src=args.src, dst=args.dst) / tcp
    if ip_options:
        return IP(src=args.src, dst=args.dst, options=ip_options) / tcp
    return IP(src=args.src, dst=args.dst) / tcp


def solicited_node(address):
    """The solicited-node multicast group of an IPv6 address, and its Ethernet address."""
    low = tuple(ipaddress.IPv6Address(address).packed[-3:])
    return 'ff02::1:ff%02x:%02x%02x' % low, '33:33:ff:%02x:%02x:%02x' % low


def build(args):
    """One frame of kind args.kind (plain, qinq, dot1q2, dot1q, dot1ad, mpls, mplsm, pppoe, v6ext,
    v4opt, arp, nd)."""
    eth = Ether(src=args.src_mac, dst=args.dst_mac)
    kind = args.kind
    if kind == 'plain':
        return eth / syn(args)
    if kind == 'qinq':
        return eth / Dot1AD(vlan=100) / Dot1Q(vlan=200) / syn(args)
    if kind == 'dot1q2':
        return eth / Dot1Q(vlan=100) / Dot1Q(vlan=200) / syn(args)
    if kind == 'dot1q':
        return eth / Dot1Q(vlan=100) / syn(args)
    if kind == 'dot1ad':
        return eth / Dot1AD(vlan=100) / syn(args)
    if kind == 'mpls':
        return Ether(src=args.src_mac, dst=args.dst_mac, type=0x8847) / MPLS(label=16, s=1, ttl=64) / syn(args)
    if kind == 'mplsm':
        return Ether(src=args.src_mac, dst=args.dst_mac, type=0x8848) / MPLS(label=16, s=1, ttl=64) / syn(args)
    if kind == 'pppoe':
        return eth / PPPoE(sessionid=1) / PPP(proto=0x0021) / syn(args)
    if kind == 'v6ext':
        packet = syn(args)
        return eth / IPv6(src=args.src, dst=args.dst) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / packet[TCP]
    if kind == 'v4opt':
        return eth / syn(args, ip_options=[IPOption_RR(routers=['0.0.0.0'])])
    if kind == 'arp':
        return (Ether(src=args.src_mac, dst='ff:ff:ff:ff:ff:ff')
                / ARP(op=1, hwsrc=args.src_mac, psrc=args.src, pdst=args.dst) / Padding(marker(args.tag)))
    if kind == 'nd':
        group, mac = solicited_node(args.dst)
        return (Ether(src=args.src_mac, dst=mac) / IPv6(src=args.src, dst=group, hlim=255)
                / ICMPv6ND_NS(tgt=args.dst) / Padding(marker(args.tag)))
    raise SystemExit('unknown kind %r' % kind)


def cmd_send(args):
    sent = {}
    for spec in json.loads(args.frames):
        frame = build(SimpleNamespace(**spec))
        sendp([frame, frame], iface=args.iface, verbose=False)
        sent[str(spec['tag'])] = 2
    emit({'sent': sent})


def cmd_sniff(args):
    counts = {}
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())

    def seen(pkt):
        for tag in MARKER.findall(bytes(pkt)):
            key = tag.decode()
            counts[key] = counts.get(key, 0) + 1

    sniffer = AsyncSniffer(iface=args.iface, store=False, prn=seen)
    sniffer.start()
    stop.wait(0.5)
    emit({'ready': True})
    stop.wait(args.secs)
    sniffer.stop()
    emit({'tags': counts})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='cmd', required=True)
    send = sub.add_parser('send')
    send.add_argument('--iface', required=True)
    send.add_argument('--frames', required=True)
    sniff = sub.add_parser('sniff')
    sniff.add_argument('--iface', required=True)
    sniff.add_argument('--secs', type=float, default=60.0)
    args = parser.parse_args()
    {'send': cmd_send, 'sniff': cmd_sniff}[args.cmd](args)


if __name__ == '__main__':
    main()
