"""A bridge left in fail_mode=standalone whose controller stops answering (isp topology).

Shows the port-25 leak that follows and what op25b reports of it, before and after.  op25b is
frozen with SIGSTOP rather than killed: to the switches it is the same (no answer, the
connection dropped after the inactivity probe, no reconnect), and the same process, with its
memory of the bridge, sees it come back.  Before the leak: OpenFlow does not carry fail_mode,
but op25b watches the fabric's Open vSwitch database (`[ovsdb] endpoints`, added to the live
policy by the runner), so it must list `fail_mode` among the bridge's `switch_config` problems
in /api/switches within 2 s of `set-fail-mode standalone`, well before the controller freezes.
After SIGCONT it must also report the bridge failed open (`failed_open` in /api/switches:
every one of our flows gone after >= 15 s away).  The bridge is set back to secure at the end,
whatever happened.
"""

import signal
import time

from . import procs, traffic

BRIDGE = 'o25e1'        # sub1's edge
LEAK_LIMIT_SECS = 40    # OVS fails open 3 x 5 s (inactivity probe) after op25b's last message,
                        # which an idle link sends every 5 s: 10 to 15 s after the freeze
REPORT_LIMIT_SECS = 20  # reconnect back-off (1 s), handshake, first flow read
FROZEN_SECS = 21        # > 15 s away by op25b's own clock, whenever in 10..15 s the leak began


def failed_open(f, dpid):
    """(answered, the `failed_open` value of dpid in /api/switches or None)."""
    body = f.controller.api_get('/api/switches')
    if not isinstance(body, dict):
        return False, None
    for entry in body.get('switches', []):
        if entry.get('dpid_int') == dpid:
            return True, entry.get('failed_open')
    return True, None


def standalone_reported(f):
    """Whether /api/switches lists a fail_mode problem of BRIDGE (the bridge-settings monitor)."""
    body = f.controller.api_get('/api/switches')
    if not isinstance(body, dict):
        return False
    return any(p.get('bridge') == BRIDGE and p.get('problem') == 'fail_mode'
               for endpoint in body.get('switch_config', [])
               for p in endpoint.get('problems', []))


def set_fail_mode(f, s, mode):
    code, out = procs.run('ovs-vsctl set-fail-mode %s %s' % (BRIDGE, mode))
    f.check(s, 'ovs-vsctl set-fail-mode %s %s' % (BRIDGE, mode), 'exit 0', 'exit %d %s' % (code, out.strip()),
            code == 0)


def standalone_fails_open(f, s='fail-open'):
    dpid = f.topo.SWITCHES[BRIDGE]
    set_fail_mode(f, s, 'standalone')
    try:
        leak_and_report(f, s, dpid)
    finally:
        f.controller.signal(signal.SIGCONT)
        set_fail_mode(f, s, 'secure')
    ok, secs, how = f.controller.wait_sync(f.topo.SWITCHES, timeout=30)
    f.check(s, 'switches in sync, %s secure again' % BRIDGE, 'in sync <= 30 s',
            '%s after %.1f s (%s)' % ('in sync' if ok else 'NOT in sync', secs, how), ok)
    f.expect_blocked(s, 'sub1', 'mail', 25, 4)


def leak_and_report(f, s, dpid):
    started = time.monotonic()
    reported, _ = procs.wait_until(lambda: standalone_reported(f), 2, interval=0.1)
    f.check(s, 'API: %s reported standalone before the leak' % BRIDGE,
            'switch_config problem fail_mode within 2 s of set-fail-mode',
            '%s after %.1f s' % ('reported' if reported else 'NOT reported', time.monotonic() - started),
            reported)
    f.expect_blocked(s, 'sub1', 'mail', 25, 4)  # standalone blocks while op25b answers
    answered, before = failed_open(f, dpid)
    f.check(s, 'API: %s not yet failed_open before the leak' % BRIDGE,
            'null (failed_open is what OpenFlow shows: only after the leak)',
            before if answered else 'API not answering', answered and before is None)

    f.controller.signal(signal.SIGSTOP)
    frozen_at = time.monotonic()

    def leaks():
        return traffic.smtp(f.host('sub1'), f.addr('mail', 4), 25, timeout=0.5).get('ok')

    leaked, _ = procs.wait_until(leaks, LEAK_LIMIT_SECS, interval=0.2)
    leak_secs = time.monotonic() - frozen_at
    print('*** fail-open: sub1 -> mail:25 banner %.1f s after op25b froze' % leak_secs, flush=True)
    f.check(s, 'sub1 -> mail:25 v4 with op25b frozen (the leak)', 'banner 10 to 15 s after the freeze',
            '%s after %.1f s' % ('banner' if leaked else 'no banner', leak_secs), leaked)
    f.expect_blocked(s, 'sub3', 'mail', 25, 4)  # o25e2 is secure: it keeps blocking
    # op25b reports flows_wiped_while_away only after >= 15 s without a message it read in time
    # (fewer could be a plain reconnect); OVS fails open 10 to 15 s after the freeze (its count
    # starts at op25b's last message), so stay frozen until FROZEN_SECS have passed.
    time.sleep(max(0.0, FROZEN_SECS - (time.monotonic() - frozen_at)))

    f.controller.signal(signal.SIGCONT)
    resumed_at = time.monotonic()
    seen = {}

    def reported():
        seen['answered'], seen['value'] = failed_open(f, dpid)
        return seen['value'] is not None

    ok, _ = procs.wait_until(reported, REPORT_LIMIT_SECS, interval=0.2)
    secs = time.monotonic() - resumed_at
    print('*** fail-open: %s reported %.1f s after op25b resumed: %s' % (BRIDGE, secs, seen.get('value')),
          flush=True)
    f.check(s, 'API: %s failed_open after op25b resumed' % BRIDGE, 'flows_wiped_while_away <= %d s'
            % REPORT_LIMIT_SECS, '%s after %.1f s' % (seen.get('value'), secs),
            ok and (seen['value'] or {}).get('evidence') == 'flows_wiped_while_away')
    others = {name: failed_open(f, number)[1] for name, number in f.topo.SWITCHES.items() if name != BRIDGE}
    f.check(s, 'API: the secure bridges never reported', 'null for all', others,
            all(value is None for value in others.values()))
