"""The switches' connections are what the transport says (fabric/transport.py), and a pinned
dpid cannot be claimed by another certificate from the same CA.

`sessions` (every topology, after the first sync): Open vSwitch's own view (each bridge's
controller target is `ssl:`), and the controller's log: one `TLS session established` line per
bridge at least, each with the expected `version` (TLSv1_2 when ovs-vswitchd is forced to it)
and the fingerprint of the run's switch certificate.

`impostor` (isp, whose switches are pinned): a valid switch-CA certificate that is not the pinned
one claims o25e1's dpid from the same host as the real bridge.  Without the pin, a claim from
the holder's own address takes the dpid over (docs/operating.md, "Who speaks for a dpid"); with
it, the controller must hang up at once, send the impostor no flows, log the refusal, and leave
the real bridge's session (same peer address and port) in sync and blocking.
"""

import re

from . import controller as ctl
from . import impostor as fake
from . import procs

SESSION = re.compile(r'TLS session established.*')
FIELD = re.compile(r'\b(version|cert)=(\S+)')
TARGET_BRIDGE = 'o25e1'
# A refused claim is closed at once (seen: a few ms).  Without the pin the impostor takes the dpid
# over and is thrown out only when the real bridge reconnects (seen: 1.4 s, OVS's 1 s back-off).
HANG_UP_SECS = 0.5


def session_lines(text):
    """[{'version': ..., 'cert': ...}] for each `TLS session established` line of a log text."""
    return [dict(FIELD.findall(match.group(0))) for match in SESSION.finditer(text)]


def sessions(f, s, log_offset=0):
    transport = f.transport
    scheme = 'ssl:' if transport.tls else 'tcp:'
    targets = {}
    for bridge in f.topo.SWITCHES:
        _code, out = procs.run('ovs-vsctl --timeout=5 get-controller %s' % bridge)
        targets[bridge] = out.strip()
    f.check(s, "every bridge's controller target", scheme + '...' if transport.tls else
            'tcp:... (--system-ovs: set-ssl is global, never changed on a shared OVS)',
            ' '.join(sorted(set(targets.values()))), all(t.startswith(scheme) for t in targets.values()))
    if not transport.tls:
        return
    secure, plain = (f.controller.api_status('/api/switches', scheme=scheme) for scheme in ('https', 'http'))
    f.check(s, "API over HTTPS (checked against the run's CA) / plain HTTP", 'https 200 / no answer',
            '%s %s / %s' % (f.controller.api_scheme, secure, plain),
            f.controller.api_scheme == 'https' and secure == 200 and not isinstance(plain, int))
    found = session_lines(f.controller.log_since(log_offset))
    versions = sorted({entry.get('version') for entry in found})
    certs = {entry.get('cert') for entry in found}
    want_cert = transport.pki.fingerprint()
    f.check(s, 'TLS sessions in the controller log', '>= %d, all %s' % (len(f.topo.SWITCHES), transport.version),
            '%d sessions, versions %s' % (len(found), versions),
            len(found) >= len(f.topo.SWITCHES) and versions == [transport.version])
    f.check(s, 'certificate presented by the bridges', 'the run\'s switch certificate %s...' % want_cert[:11],
            ', '.join(sorted(str(c)[:11] + '...' for c in certs)), certs == {want_cert})


def session_of(f, dpid):
    """(sync state, peer address:port) of dpid in /api/switches: a new peer port is a new session."""
    body = f.controller.api_get('/api/switches')
    for entry in body.get('switches', []) if isinstance(body, dict) else []:
        if isinstance(entry, dict) and entry.get('dpid_int') == dpid:
            return entry.get('sync_state'), entry.get('peer')
    return None, None


def impostor(f, s='impostor'):
    pki = f.transport.pki
    dpid = f.topo.SWITCHES[TARGET_BRIDGE]
    protocol, host, port = f.controller.listener
    before = session_of(f, dpid)
    offset = f.controller.log_size()
    seen = fake.claim(host, port, pki.switch_cert('impostor'), pki.switch_key('impostor'), pki.controller_ca,
                      dpid)
    f.check(s, 'impostor certificate (switch CA, not pinned): TLS handshake', 'completes (the CA accepts it)',
            seen['handshake'], protocol == 'ssl' and str(seen['handshake']).startswith('TLSv'))
    f.check(s, 'impostor claiming %s (dpid %d) hung up on' % (TARGET_BRIDGE, dpid),
            'closed < %.1f s, no flows sent to it' % HANG_UP_SECS,
            '%s after %.3f s, %d flow messages, message types %s' % (
                'closed' if seen['closed'] else 'still open', seen['secs'] or 0, seen['revealed'], seen['kinds']),
            seen['closed'] and (seen['secs'] or 99) < HANG_UP_SECS and seen['revealed'] == 0)
    refused = [line for line in f.controller.log_since(offset).splitlines() if 'claim refused' in line]
    f.check(s, 'controller log: claim refused (pinned to another certificate)', 'one WARN line',
            refused[0].split('claim refused', 1)[-1][:70] if refused else 'nothing logged',
            any('pinned' in line for line in refused))
    after = session_of(f, dpid)
    f.check(s, '%s keeps its session, in sync' % TARGET_BRIDGE, 'same peer, in_sync before and after, OVS connected',
            '%s %s -> %s %s, connected=%s' % (before + after + (ctl.connected(TARGET_BRIDGE),)),
            before[0] == 'in_sync' and before[1] is not None and after == before and ctl.connected(TARGET_BRIDGE))
    for fam in (4, 6):
        f.expect_blocked(s, 'sub1', 'mail', 25, fam)
    f.expect_banner(s, 'sub1', 'relay', 25, 4)
