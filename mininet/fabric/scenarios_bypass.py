"""Real frames that try to carry TCP/25 past the port-25 drop (issue 12), and their controls.

From subscriber hosts, scapy sends (fabric/bypass.py) a TCP SYN to mail:25 wrapped in two VLAN
tags (88a8+8100, 8100+8100), MPLS (8847, 8848), a PPPoE session, one 802.1Q or 802.1ad tag,
IPv6 hop-by-hop + destination options headers, IPv4 options, and with the business line's
exempt source address spoofed from other subscriber ports.  A capture on the outside host's
interface must see not one of these frames.

Controls, which must arrive (so every check can fail): the single-tagged, extension-header and
IP-options SYNs to the relay, the business line's own SYNs from its bound port, an ARP request,
an IPv6 neighbour solicitation and an IPv6 SYN to port 587.
"""

import random

from . import traffic

# (check, sender, kind, family, receiver, port, spoofed source (host whose address is used), arrives)
CASES = (
    ('QinQ 88a8+8100 SYN sub1 -> mail:25', 'sub1', 'qinq', 4, 'mail', 25, None, False),
    ('8100+8100 SYN sub1 -> mail:25', 'sub1', 'dot1q2', 4, 'mail', 25, None, False),
    ('MPLS 8847 SYN sub1 -> mail:25', 'sub1', 'mpls', 4, 'mail', 25, None, False),
    ('MPLS 8848 SYN sub1 -> mail:25', 'sub1', 'mplsm', 4, 'mail', 25, None, False),
    ('PPPoE session SYN sub1 -> mail:25', 'sub1', 'pppoe', 4, 'mail', 25, None, False),
    ('802.1Q-tagged SYN sub1 -> mail:25', 'sub1', 'dot1q', 4, 'mail', 25, None, False),
    ('802.1ad-tagged SYN sub1 -> mail:25', 'sub1', 'dot1ad', 4, 'mail', 25, None, False),
    ('IPv6 hop-by-hop+dest-opts SYN sub1 -> mail:25', 'sub1', 'v6ext', 6, 'mail', 25, None, False),
    ('IPv4-options SYN sub1 -> mail:25', 'sub1', 'v4opt', 4, 'mail', 25, None, False),
    ('spoofed exempt source sub3 -> mail:25 v4', 'sub3', 'plain', 4, 'mail', 25, 'biz', False),
    ('spoofed exempt source sub3 -> mail:25 v6', 'sub3', 'plain', 6, 'mail', 25, 'biz', False),
    ('spoofed exempt source sub1 -> mail:25 v4', 'sub1', 'plain', 4, 'mail', 25, 'biz', False),
    # controls
    ('802.1Q-tagged SYN sub1 -> relay:25', 'sub1', 'dot1q', 4, 'relay', 25, None, True),
    ('802.1ad-tagged SYN sub1 -> relay:25', 'sub1', 'dot1ad', 4, 'relay', 25, None, True),
    ('IPv6 hop-by-hop+dest-opts SYN sub1 -> relay:25', 'sub1', 'v6ext', 6, 'relay', 25, None, True),
    ('IPv4-options SYN sub1 -> relay:25', 'sub1', 'v4opt', 4, 'relay', 25, None, True),
    ('exempt source on its bound port biz -> mail:25 v4', 'biz', 'plain', 4, 'mail', 25, None, True),
    ('exempt source on its bound port biz -> mail:25 v6', 'biz', 'plain', 6, 'mail', 25, None, True),
    ('ARP request sub1 -> mail', 'sub1', 'arp', 4, 'mail', 0, None, True),
    ('IPv6 neighbour solicitation sub1 -> mail', 'sub1', 'nd', 6, 'mail', 0, None, True),
    ('IPv6 SYN sub1 -> mail:587', 'sub1', 'plain', 6, 'mail', 587, None, True),
)


def bypass(f, s='bypass'):
    """Captures on mail and relay, sends every case (each frame twice, its own tag; one scapy run
    per sender), stops the captures, and judges each case by whether its tag arrived."""
    first = random.randint(1000, 50000)
    receivers = sorted({case[4] for case in CASES})
    sniffers = {name: traffic.start_marker_sniffer(f.host(name)) for name in receivers}
    by_sender = {}
    for offset, (_check, sender, kind, fam, receiver, port, spoof, _arrives) in enumerate(CASES):
        by_sender.setdefault(sender, []).append({
            'kind': kind, 'src_mac': f.mac(sender), 'dst_mac': f.mac(receiver),
            'src': f.addr(spoof or sender, fam), 'dst': f.addr(receiver, fam), 'port': port,
            'tag': first + offset})
    sent = {}
    for sender, frames in by_sender.items():
        sent.update(traffic.send_bypass_frames(f.host(sender), frames))
    seen = {name: traffic.marker_counts(bg) for name, bg in sniffers.items()}
    for offset, (check, _sender, _kind, _fam, receiver, _port, _spoof, arrives) in enumerate(CASES):
        tag = str(first + offset)
        frames = sent.get(tag, 0)
        captured = seen[receiver]
        if captured is None:
            f.check(s, check, 'a capture on %s' % receiver, 'the capture on %s reported nothing' % receiver, False)
            continue
        got = captured.get(tag, 0)
        observed = 'sent %d, %s captured %d' % (frames, receiver, got)
        if arrives:
            f.check(s, check, 'arrives (control)', observed, frames > 0 and got > 0)
        else:
            f.check(s, check, 'not one frame arrives', observed, frames > 0 and got == 0)
