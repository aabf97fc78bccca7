"""The sampled blocked attempts reach the offender table (GET /api/offenders).

Runs after the traffic scenario, which made blocked port-25 attempts from sub1 and sub3
(IPv4 and IPv6) and allowed ones from biz and the relay. Then offender_spray: a spraying
subscriber is flagged within seconds, a one-server client is not, /metrics parses; then
reports.check_reports: its X-ARF v4 reports (file and report_command) validate against the schema.
"""

import os
import time

from . import offender_spray, reports


def token_required(f, s):
    """/api/offenders answers only with the bearer token the controller created ([api] token_file)."""
    mode = None
    try:
        mode = oct(os.stat(f.controller.token_file).st_mode & 0o777)
    except OSError as err:
        mode = str(err)
    f.check(s, 'API token file created by the controller', 'mode 0o600', mode, mode == '0o600')
    without, with_token = (f.controller.api_status('/api/offenders', token) for token in (False, True))
    f.check(s, 'GET /api/offenders without / with the token', '401 / 200', '%s / %s' % (without, with_token),
            without == 401 and with_token == 200)


def offenders(f, s='offenders'):
    token_required(f, s)
    body = None
    for _ in range(10):  # samples travel switch -> PACKET_IN -> table: allow a moment
        body = f.controller.api_get('/api/offenders?limit=1000')
        if isinstance(body, dict) and body.get('offenders'):
            break
        time.sleep(0.3)
    if not isinstance(body, dict):
        f.check(s, 'GET /api/offenders', 'JSON object', 'no answer: %r' % (body,), False)
        return
    listed = {}
    for entry in body.get('offenders', []):
        if isinstance(entry, dict) and 'source_ip' in entry:
            listed[str(entry['source_ip'])] = entry
    for name, dpid, port in (('sub1', 1, 1), ('sub3', 2, 1)):
        for fam in (4, 6):
            address = f.addr(name, fam)
            entry = listed.get(address)
            observed = ('attempts=%s dpid=%s port=%s' % (entry.get('attempts'), entry.get('dpid'), entry.get('port'))
                        if entry else 'not listed (%d entries)' % len(listed))
            f.check(s, '%s %s listed as offender' % (name, address), 'attempts>=1 dpid=%d port=%d' % (dpid, port),
                    observed, bool(entry) and (entry.get('attempts') or 0) >= 1
                    and entry.get('dpid') == dpid and entry.get('port') == port)
    for name in ('biz', 'relay', 'sub2'):
        address = f.addr(name, 4)
        f.check(s, '%s %s not an offender' % (name, address), 'not listed',
                'listed' if address in listed else 'not listed', address not in listed)
    offender_spray.spray_flagged(f, s)
    # The spray flagged sub2 (IPv4 and its IPv6 /64) on switch 1 port 2: both reported.
    reports.check_reports(f, s, {f.addr('sub2', 4): (1, 2), f.addr('sub2', 6): (1, 2)})
