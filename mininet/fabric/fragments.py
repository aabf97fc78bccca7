#!/usr/bin/python3
"""Fragmented TCP SYNs (scapy), run inside Mininet hosts.

  send  --iface I --src-mac M --dst-mac M --src A --dst A --port P --tag N
        sends one TCP SYN to A:P split into IP fragments (IPv4 or IPv6 by
        address family); the IP identification / fragment id is N.
  sniff --iface I --src A --port P --tag N --secs S
        runs on the server: for S seconds counts the fragments from A carrying
        identification N, and the TCP segments the server sends back to A for
        that SYN (a SYN-ACK means the server's TCP stack reassembled and got
        the SYN).  Prints {"ready": true} once listening, then
        {"fragments": n, "replies": m, "reply_flags": [...]}.
"""

import argparse
import ipaddress
import json
import sys
import time

from scapy.all import IP, IPv6, Ether, IPv6ExtHdrFragment, TCP, Raw, fragment, fragment6, sendp  # noqa: E402
from scapy.sendrecv import AsyncSniffer


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def source_port(tag):
    return 40000 + tag % 20000


def build(args):
    payload = Raw(b'op25b-fragment-test-' * 4)  # 80 bytes: gives the SYN several fragments
    tcp = TCP(sport=source_port(args.tag), dport=args.port, flags='S', seq=args.tag) / payload
    if ipaddress.ip_address(args.dst).version == 4:
        packet = IP(src=args.src, dst=args.dst, id=args.tag) / tcp
        frags = fragment(packet, fragsize=16)
    else:
        packet = IPv6(src=args.src, dst=args.dst) / IPv6ExtHdrFragment(id=args.tag) / tcp
        frags = fragment6(packet, 40 + 8 + 24)
    return [Ether(src=args.src_mac, dst=args.dst_mac) / f for f in frags]


def cmd_send(args):
    frames = build(args)
    sendp(frames, iface=args.iface, verbose=False)
    emit({'sent': len(frames)})


def is_reply(args, pkt):
    """A TCP segment from the server back to the sender's SYN source port."""
    if TCP not in pkt or pkt[TCP].dport != source_port(args.tag) or pkt[TCP].sport != args.port:
        return False
    if IP in pkt:
        return pkt[IP].dst == args.src
    return IPv6 in pkt and pkt[IPv6].dst == args.src


def is_fragment(args, pkt):
    if IP in pkt:
        return pkt[IP].src == args.src and pkt[IP].id == args.tag and (pkt[IP].flags.MF or pkt[IP].frag > 0)
    if IPv6ExtHdrFragment in pkt:
        return pkt[IPv6].src == args.src and pkt[IPv6ExtHdrFragment].id == args.tag
    return False


def cmd_sniff(args):
    sniffer = AsyncSniffer(iface=args.iface, store=True,
                           lfilter=lambda p: is_fragment(args, p) or is_reply(args, p))
    sniffer.start()
    time.sleep(0.5)
    emit({'ready': True})
    time.sleep(args.secs)
    sniffer.stop()
    packets = list(sniffer.results or [])
    replies = [p for p in packets if is_reply(args, p)]
    emit({'fragments': len(packets) - len(replies), 'replies': len(replies),
          'reply_flags': [str(p[TCP].flags) for p in replies]})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='cmd', required=True)
    send = sub.add_parser('send')
    for opt in ('--iface', '--src-mac', '--dst-mac', '--src', '--dst'):
        send.add_argument(opt, required=True)
    send.add_argument('--port', type=int, required=True)
    send.add_argument('--tag', type=int, required=True)
    sniff = sub.add_parser('sniff')
    sniff.add_argument('--iface', required=True)
    sniff.add_argument('--src', required=True)
    sniff.add_argument('--port', type=int, required=True)
    sniff.add_argument('--tag', type=int, required=True)
    sniff.add_argument('--secs', type=float, default=2.0)
    args = parser.parse_args()
    {'send': cmd_send, 'sniff': cmd_sniff}[args.cmd](args)


if __name__ == '__main__':
    main()
