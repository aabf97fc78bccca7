"""Steady-state checks with real TCP: what is blocked, what is allowed, ping, HTTP, ND, fragments."""

import random

from . import traffic


def edge_basic(f):
    s = 'edge'
    for fam in (4, 6):
        f.expect_blocked(s, 'sub1', 'mail', 25, fam)
        f.expect_banner(s, 'sub1', 'relay', 25, fam)
        f.expect_banner(s, 'sub2', 'mail', 587, fam)
        f.expect_banner(s, 'mail', 'sub1', 25, fam)
    ok, out = traffic.ping(f.host('sub2'), f.addr('mail', 4))
    f.check(s, 'ping sub2 -> mail v4', 'reply', out, ok)


def isp_allowed_and_blocked(f, s='traffic'):
    for fam in (4, 6):
        f.expect_blocked(s, 'sub1', 'mail', 25, fam)
        f.expect_blocked(s, 'sub3', 'mail', 25, fam)
        f.expect_banner(s, 'sub1', 'relay', 25, fam)
        f.expect_banner(s, 'sub3', 'relay', 25, fam)
        f.expect_banner(s, 'sub2', 'mail', 587, fam)
        f.expect_banner(s, 'sub2', 'mail', 465, fam)
        f.expect_banner(s, 'biz', 'mail', 25, fam)
        f.expect_banner(s, 'relay', 'mail', 25, fam)
        f.expect_banner(s, 'mail', 'sub1', 25, fam)
        f.expect_banner(s, 'mail', 'mx', 25, fam)


def isp_ping_http_nd(f, s='traffic'):
    for src, dst, fam in (('sub1', 'mail', 4), ('sub3', 'web', 6)):
        ok, out = traffic.ping(f.host(src), f.addr(dst, fam))
        f.check(s, 'ping %s -> %s v%d' % (src, dst, fam), 'reply', out, ok)
    for src, fam in (('sub1', 4), ('sub2', 6), ('sub3', 4)):
        result = traffic.http(f.host(src), f.addr('web', fam))
        f.check(s, 'http %s -> web:80 v%d' % (src, fam), 'HTTP 200',
                result.get('status', result.get('error')), result.get('ok'))
    # IPv6 neighbour discovery from an empty neighbour cache on both ends.
    for name in ('sub2', 'web'):
        f.host(name).cmd('ip -6 neigh flush all')
    before = f.host('sub2').cmd('ip -6 neigh show %s' % f.addr('web', 6)).strip()
    ok, out = traffic.ping(f.host('sub2'), f.addr('web', 6))
    after = f.host('sub2').cmd('ip -6 neigh show %s' % f.addr('web', 6)).strip()
    f.check(s, 'ND: ping6 sub2 -> web, cache flushed', 'reply, neighbour learnt',
            'before=%r after=%r %s' % (before, after, out), ok and not before and bool(after))


def fragments(f, s='fragments'):
    """A SYN split into IP fragments must not reach mail:25: not one fragment arrives on the
    server's interface (IPv6 fragments after the first carry no TCP header, so the switch must
    drop them by their Fragment header), and the server's TCP stack never answers.

    Control: the same fragmented SYN to the relay arrives whole and is answered (SYN-ACK), so the
    check can fail.
    """
    for fam in (4, 6):
        for dst, expect_answer in (('mail', False), ('relay', True)):
            tag = random.randint(1000, 60000)
            sent, seen = traffic.fragmented_syn_arrives(
                f.host('sub1'), f.host(dst), f.addr('sub1', fam), f.addr(dst, fam),
                f.mac('sub1'), f.mac(dst), 25, tag)
            replies = seen.get('replies')
            observed = 'sent %s, server saw %s fragments, answered %s %s' % (
                sent, seen.get('fragments'), replies, '/'.join(seen.get('reply_flags', [])))
            if expect_answer:
                expected = 'SYN-ACK (control)'
                passed = sent > 0 and seen.get('fragments') == sent and 'SA' in seen.get('reply_flags', [])
            else:
                expected = 'no fragment arrives, never answered'
                passed = sent > 0 and seen.get('fragments') == 0 and replies == 0
            f.check(s, 'fragmented SYN sub1 -> %s:25 v%d' % (dst, fam), expected, observed, passed)
