#!/usr/bin/python3
"""Fragmented TCP SYNs (scapy), run inside Mininet hosts.

  send  --iface I --src-mac M --dst-mac M --src A --dst A --port P --tag N
        sends one TCP SYN to A:P split into IP fragments (IPv4 or IPv6 by
        address family); the IP identification / fragment id is N.
  sniff --iface I --src A --tag N --secs S
        counts the fragments from A carrying identification N seen on I
        within S seconds; prints {"ready": true} once listening, then
        {"fragments": n}.  This is the server-side oracle: a blocked
        fragmented SYN must leave n == 0.
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


def build(args):
    payload = Raw(b'op25b-fragment-test-' * 4)  # 80 bytes: gives the SYN several fragments
    tcp = TCP(sport=40000 + args.tag % 20000, dport=args.port, flags='S', seq=args.tag) / payload
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


def matches(args, pkt):
    if IP in pkt:
        return pkt[IP].src == args.src and pkt[IP].id == args.tag and (pkt[IP].flags.MF or pkt[IP].frag > 0)
    if IPv6ExtHdrFragment in pkt:
        return pkt[IPv6].src == args.src and pkt[IPv6ExtHdrFragment].id == args.tag
    return False


def cmd_sniff(args):
    sniffer = AsyncSniffer(iface=args.iface, store=True, lfilter=lambda p: matches(args, p))
    sniffer.start()
    time.sleep(0.5)
    emit({'ready': True})
    time.sleep(args.secs)
    sniffer.stop()
    emit({'fragments': len(sniffer.results or [])})


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
    sniff.add_argument('--tag', type=int, required=True)
    sniff.add_argument('--secs', type=float, default=2.0)
    args = parser.parse_args()
    {'send': cmd_send, 'sniff': cmd_sniff}[args.cmd](args)


if __name__ == '__main__':
    main()
