"""A spraying subscriber is flagged within seconds; a one-server client is not; /metrics parses.

Real TCP: sub2 makes non-blocking port-25 connects, IPv4 and IPv6 interleaved, to SPRAY_HOSTS
foreign addresses that do not exist (static neighbour entries with mail's MAC make the kernel
send the SYNs; the edge drops them and samples them through its meter). At the same time sub3,
a "misconfigured mail client", makes as many attempts to the one real mail server.
The policy thresholds are the defaults (30 attempts to >= 5 distinct hosts within 600 s).
"""

import time

from prometheus_client.parser import text_string_to_metric_families

from . import traffic

SPRAY_HOSTS = 7
ATTEMPTS_PER_FAMILY = 35
SPRAY_INTERVAL = 0.07  # 2 families x 35 attempts in ~5 s: ~14 SYN/s, under the 20 pps meter
FLAG_DEADLINE = 10.0
WAIT = 15.0
THRESHOLD_ATTEMPTS = 30
THRESHOLD_DESTINATIONS = 5


def spray_addresses(family):
    if family == 4:
        return ['198.51.100.%d' % (101 + i) for i in range(SPRAY_HOSTS)]
    return ['2001:db8:5100::%x' % (0x101 + i) for i in range(SPRAY_HOSTS)]


def scrape(f):
    """(samples {(name, ((label, value), ...)): value}, error text or None) from GET /metrics."""
    text = f.controller.api_text('/metrics')
    if text is None:
        return None, 'no answer'
    samples = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    except Exception as err:  # any parser complaint is the failure this check looks for
        return None, 'parse error: %s: %s' % (type(err).__name__, err)
    if not samples:
        return None, 'no samples'
    return samples, None


def per_switch(samples, name, dpid):
    if samples is None:
        return None
    return samples.get((name, (('dpid', '00:00:00:00:00:00:00:%02x' % dpid),)))


def offenders_by_ip(f):
    body = f.controller.api_get('/api/offenders?limit=1000')
    if not isinstance(body, dict):
        return {}
    return {str(e['source_ip']): e for e in body.get('offenders', []) if isinstance(e, dict) and 'source_ip' in e}


def set_neighbours(host, mac, add):
    intf = host.defaultIntf().name
    for family in (4, 6):
        ip = 'ip' if family == 4 else 'ip -6'
        for address in spray_addresses(family):
            if add:
                host.cmd('%s neigh replace %s lladdr %s dev %s nud permanent' % (ip, address, mac, intf))
            else:
                host.cmd('%s neigh del %s dev %s' % (ip, address, intf))


def describe(entry):
    if not entry:
        return 'not listed'
    return 'flagged=%s attempts=%s distinct=%s dpid=%s port=%s' % (
        entry.get('flagged'), entry.get('attempts'), entry.get('distinct_destinations'), entry.get('dpid'),
        entry.get('port'))


def spray_flagged(f, s='offenders'):
    before, error = scrape(f)
    f.check(s, 'GET /metrics parses (prometheus_client) before spray', 'parsed', error or '%d samples' % len(before),
            error is None)
    sprayer, client = f.host('sub2'), f.host('sub3')
    set_neighbours(sprayer, f.mac('mail'), add=True)
    try:
        interleaved = [a for pair in zip(spray_addresses(4), spray_addresses(6)) for a in pair]
        spray = traffic.start_spray(sprayer, 25, interleaved, 2 * ATTEMPTS_PER_FAMILY, SPRAY_INTERVAL)
        misconfigured = traffic.start_spray(client, 25, [f.addr('mail', 4)], ATTEMPTS_PER_FAMILY, 0.1)
        flagged_seen = {}
        listed = {}
        deadline = time.time() + WAIT
        while time.time() < deadline:
            listed = offenders_by_ip(f)
            for family in (4, 6):
                entry = listed.get(f.addr('sub2', family))
                if family not in flagged_seen and entry and entry.get('flagged') is True:
                    flagged_seen[family] = time.time()
            client_entry = listed.get(f.addr('sub3', 4)) or {}
            if len(flagged_seen) == 2 and (client_entry.get('attempts') or 0) >= ATTEMPTS_PER_FAMILY:
                break
            time.sleep(0.2)
        spray_result = spray.wait_json(WAIT)
        client_result = misconfigured.wait_json(WAIT)
    finally:
        set_neighbours(sprayer, f.mac('mail'), add=False)
    first = spray_result.get('first_attempt_epoch')
    f.check(s, 'sub2 spray made its attempts', '%d attempts, 0 connected' % (2 * ATTEMPTS_PER_FAMILY),
            '%s attempts, %s connected, %s errors in %s s' % (spray_result.get('attempts'), spray_result.get(
                'connected'), spray_result.get('errors'), spray_result.get('secs')),
            spray_result.get('attempts') == 2 * ATTEMPTS_PER_FAMILY and spray_result.get('connected') == 0
            and spray_result.get('errors') == 0)
    for family in (4, 6):
        address = f.addr('sub2', family)
        entry = listed.get(address)
        seen = flagged_seen.get(family)
        secs = (seen - first) if (seen is not None and first is not None) else None
        print('*** offenders: sub2 %s flagged %s after its first attempt' % (
            address, 'NOT' if secs is None else '%.2f s' % secs), flush=True)
        f.check(s, 'spraying sub2 %s flagged (%d hosts x %d attempts)' % (address, SPRAY_HOSTS,
                                                                         ATTEMPTS_PER_FAMILY // SPRAY_HOSTS),
                'flagged <= %.0f s, dpid=1 port=2, attempts>=%d distinct>=%d' % (
                    FLAG_DEADLINE, THRESHOLD_ATTEMPTS, THRESHOLD_DESTINATIONS),
                '%s; %s' % ('not flagged' if secs is None else 'flagged after %.2f s' % secs, describe(entry)),
                secs is not None and secs <= FLAG_DEADLINE and bool(entry) and entry.get('dpid') == 1
                and entry.get('port') == 2 and (entry.get('attempts') or 0) >= THRESHOLD_ATTEMPTS
                and (entry.get('distinct_destinations') or 0) >= THRESHOLD_DESTINATIONS)
    entry = listed.get(f.addr('sub3', 4))
    f.check(s, 'one-server client sub3 listed, not flagged', 'flagged=False attempts>=%d distinct<%d dpid=2 port=1' % (
        ATTEMPTS_PER_FAMILY, THRESHOLD_DESTINATIONS), '%s (client made %s attempts)' % (describe(entry), client_result.get('attempts')),
        bool(entry) and entry.get('flagged') is False and (entry.get('attempts') or 0) >= ATTEMPTS_PER_FAMILY
        and (entry.get('distinct_destinations') or 0) < THRESHOLD_DESTINATIONS and entry.get('dpid') == 2 and entry.get('port') == 1)
    for family in (4, 6):
        entry = listed.get(f.addr('sub1', family))
        f.check(s, 'few-attempts sub1 %s listed, not flagged' % f.addr('sub1', family), 'flagged=False',
                describe(entry), bool(entry) and entry.get('flagged') is False)
    metrics_after(f, s, before, spray_result.get('attempts') or 0)


def metrics_after(f, s, before, sent):
    """The flag and the spraying switch's counters in /metrics (blocked counters wait for the poll)."""
    blocked = 'op25b_blocked_packets_total'
    sampled = 'op25b_sampled_attempts_total'
    after, error = None, 'not scraped'
    deadline = time.time() + WAIT
    while time.time() < deadline:
        after, error = scrape(f)
        if error is not None:
            break
        grown = (per_switch(after, blocked, 1) or 0) - (per_switch(before, blocked, 1) or 0)
        if grown >= sent:
            break
        time.sleep(0.5)
    f.check(s, 'GET /metrics parses (prometheus_client) after spray', 'parsed', error or '%d samples' % len(after),
            error is None)
    flagged = after.get(('op25b_offenders_flagged', ())) if after else None
    f.check(s, 'metric op25b_offenders_flagged', '>= 2 (sub2 v4 and v6)', repr(flagged),
            flagged is not None and flagged >= 2)
    for name, least in ((sampled, 2 * THRESHOLD_ATTEMPTS), (blocked, sent)):
        was, now = per_switch(before, name, 1), per_switch(after, name, 1)
        grown = (now - was) if (now is not None and was is not None) else None
        f.check(s, 'metric %s{dpid o25e1} grew by the spray' % name, '+>= %d' % least,
                '%s -> %s' % (was, now), grown is not None and grown >= least)
