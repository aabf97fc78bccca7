"""Failure scenarios on the isp topology, each checked with real traffic.

Order matters (each starts from the state the previous one left):
controller killed -> restarted -> flows wiped -> bridge re-added -> reload -> broken reload
-> a standalone bridge fails open (scenarios_failopen.py).
"""

import os
import signal
import time

from . import controller as ctl
from . import procs, scenarios_failopen, traffic, transport

RESTORE_LIMIT_SECS = 15  # reconnect back-off (1 s), handshake, sync, and margin
# A wipe is healed by the switch's FLOW_REMOVED (our flows carry send_flow_rem), not by the audit
# (60 s in the topologies' policies): allowed traffic must be back well before an audit could run.
WIPE_RESTORE_LIMIT_SECS = 3


def run_all(f):
    controller_killed(f)
    controller_restarted(f)
    flows_wiped(f)
    bridge_readded(f)
    policy_reloaded(f)
    broken_policy_rejected(f)
    scenarios_failopen.standalone_fails_open(f)


def controller_killed(f, s='ctl-killed'):
    f.controller.kill()
    f.check(s, 'controller SIGKILLed', 'process gone', 'exit status %s' % f.controller.proc.returncode,
            not f.controller.alive())
    gone, secs = procs.wait_until(lambda: not any(ctl.connected(b) for b in f.topo.SWITCHES), 10)
    f.check(s, 'every bridge sees its controller gone', 'is_connected=false',
            '%s after %.1f s' % ('all disconnected' if gone else 'still connected', secs), gone)
    time.sleep(1)
    for fam in (4, 6):
        f.expect_blocked(s, 'sub1', 'mail', 25, fam)
        f.expect_banner(s, 'sub1', 'relay', 25, fam)
    f.expect_banner(s, 'sub2', 'mail', 587, 4)
    f.expect_banner(s, 'biz', 'mail', 25, 4)
    ok, out = traffic.ping(f.host('sub3'), f.addr('web', 6))
    f.check(s, 'ping sub3 -> web v6', 'reply', out, ok)


def controller_restarted(f, s='ctl-restart'):
    probers = [(fam, traffic.start_prober(f.host('sub2'), f.addr('mail', fam), 25)) for fam in (4, 6)]
    time.sleep(1)
    f.controller.start()
    ok, secs, how = f.controller.wait_sync(f.topo.SWITCHES, timeout=30)
    f.check(s, 'switches in sync after restart', 'in sync <= 30 s',
            '%s after %.1f s (%s)' % ('in sync' if ok else 'NOT in sync', secs, how), ok)
    time.sleep(1)
    for fam, prober in probers:
        result = prober.stop()
        f.check(s, 'port-25 attempts every 50 ms during restart v%d' % fam, '0 banners',
                '%s attempts, %s banners' % (result.get('attempts'), result.get('banners')),
                result.get('attempts', 0) > 0 and result.get('banners') == 0)
    f.expect_blocked(s, 'sub1', 'mail', 25, 4)
    f.expect_banner(s, 'sub1', 'mail', 587, 4)
    f.expect_banner(s, 'sub1', 'relay', 25, 6)


def measure_restore(f, s, what, sub, exempt, upset, limit=RESTORE_LIMIT_SECS):
    """Runs upset() (which breaks sub's edge), then probes until allowed traffic works again.

    A prober (50 ms) to mail:25 runs from just before the upset until after the restore: not one
    banner may get through.  Records how long after the upset allowed traffic (mail:587) worked
    again (resolution about 0.5 s, one probe timeout), then re-checks blocked/open/exempt.
    """
    prober = traffic.start_prober(f.host(sub), f.addr('mail', 4), 25)
    upset_at = time.monotonic()
    upset()

    def allowed_works():
        return traffic.smtp(f.host(sub), f.addr('mail', 4), 587, timeout=0.5).get('ok')

    ok, _ = procs.wait_until(allowed_works, limit, interval=0.05)
    restored = time.monotonic() - upset_at
    time.sleep(0.5)
    result = prober.stop()
    print('*** %s: allowed traffic back after %.2f s' % (what, restored), flush=True)
    f.check(s, 'allowed %s -> mail:587 back (time to restore)' % sub, '<= %d s' % limit,
            '%s after %.2f s' % ('restored' if ok else 'NOT restored', restored), ok)
    f.check(s, 'port-25 attempts every 50 ms while restoring', '0 banners',
            '%s attempts, %s banners' % (result.get('attempts'), result.get('banners')),
            result.get('attempts', 0) > 0 and result.get('banners') == 0)
    for fam in (4, 6):
        f.expect_blocked(s, sub, 'mail', 25, fam)
        f.expect_banner(s, sub, 'relay', 25, fam)
    f.expect_banner(s, exempt, 'mail', 25, 4)


def flows_wiped(f, s='flows-wiped'):
    def wipe():
        code, out = procs.run('ovs-ofctl -O OpenFlow13 del-flows o25e1')
        f.check(s, 'ovs-ofctl del-flows o25e1', 'exit 0', 'exit %d %s' % (code, out.strip()), code == 0)

    measure_restore(f, s, 'flows wiped on o25e1', 'sub1', 'biz', wipe, limit=WIPE_RESTORE_LIMIT_SECS)


def bridge_readded(f, s='bridge-readded'):
    switch = f.net.get('o25e2')

    def readd():
        code, out = procs.run('ovs-vsctl del-br o25e2')
        f.check(s, 'ovs-vsctl del-br o25e2', 'exit 0', 'exit %d %s' % (code, out.strip()), code == 0)
        time.sleep(0.5)
        switch.start(f.net.controllers)  # same name, dpid, ports, fail_mode=secure, in one transaction

    measure_restore(f, s, 'bridge o25e2 deleted and re-added', 'sub3', 'biz', readd)


def all_synced_generation(f, newer_than):
    """(ok, description): the API's policy generation is > newer_than and every switch synced it."""
    snapshot = f.controller.api_generations()
    if snapshot is None:
        return False, 'API not answering'
    generation, synced = snapshot
    behind = [dpid for dpid in f.topo.SWITCHES.values() if synced.get(dpid) != generation]
    ok = generation > newer_than and not behind
    return ok, 'generation %s, switches behind: %s' % (generation, behind or 'none')


def replace_policy(f, source):
    """The live policy becomes `source` (on this run's transport), then SIGHUP."""
    transport.write_live_policy(source, f.controller.policy_path, f.transport)
    offset = f.controller.log_size()
    f.controller.signal(signal.SIGHUP)
    return offset


def policy_reloaded(f, s='reload'):
    here = os.path.dirname(f.topo.POLICY)
    f.expect_blocked(s, 'sub1', 'relay2', 25, 4)  # before: relay2 is not a relay yet (control)
    f.expect_banner(s, 'biz', 'mail', 25, 4)      # before: the business line is exempt
    before = f.controller.api_generations()
    generation_before = before[0] if before else 0
    session, started = traffic.start_session(f.host('sub2'), f.addr('mail', 4), 587, interval=0.1)
    f.check(s, 'long-lived sub2 -> mail:587 session opened', 'banner read', 'started' if started else 'failed',
            started)
    replace_policy(f, os.path.join(here, 'isp-reload.toml'))
    hup_at = time.monotonic()

    def relay2_open():
        return traffic.smtp(f.host('sub1'), f.addr('relay2', 4), 25, timeout=0.5).get('ok')

    ok, _ = procs.wait_until(relay2_open, 15, interval=0.1)
    secs = time.monotonic() - hup_at
    print('*** reload: relay2 reachable %.2f s after SIGHUP' % secs, flush=True)
    f.check(s, 'SIGHUP applied (relay2 reachable)', '<= 15 s', '%s after %.1f s' % ('yes' if ok else 'no', secs), ok)
    state = {}

    def synced():
        state['ok'], state['text'] = all_synced_generation(f, generation_before)
        return state['ok']

    procs.wait_until(synced, 10, interval=0.2)
    f.check(s, 'API: every switch synced the new generation', '> %s on all' % generation_before,
            state['text'], state['ok'])
    for fam in (4, 6):
        f.expect_banner(s, 'sub1', 'relay2', 25, fam)
        f.expect_blocked(s, 'biz', 'mail', 25, fam)
    f.expect_banner(s, 'sub3', 'relay', 25, 4)
    f.expect_blocked(s, 'sub1', 'mail', 25, 4)
    time.sleep(1)
    result = session.stop()
    f.check(s, 'session kept across reload (NOOP every 100 ms)', '0 errors',
            '%s exchanges, %s errors %s' % (result.get('exchanges'), result.get('errors'),
                                            result.get('first_error') or ''),
            result.get('exchanges', 0) > 0 and result.get('errors') == 0)


def broken_policy_rejected(f, s='broken-reload'):
    broken = os.path.join(os.path.dirname(f.topo.POLICY), 'isp-broken.toml')
    code, out = procs.run('%s check --config %s' % (f.controller.binary, broken))
    f.check(s, 'op25b check isp-broken.toml', 'exit 1', 'exit %d: %s' % (code, out.strip()[-80:]), code == 1)
    before = f.controller.api_generations()
    offset = replace_policy(f, broken)
    time.sleep(2)
    after = f.controller.api_generations()
    f.check(s, 'API: policy generation unchanged', 'same generation',
            '%s -> %s' % (before and before[0], after and after[0]),
            before is not None and after is not None and before[0] == after[0])
    new_log = f.controller.log_since(offset)
    rejected = [line for line in new_log.splitlines()
                if any(word in line.lower() for word in ('reject', 'invalid', 'error'))]
    shown = rejected[0].split('Z ', 1)[-1].strip() if rejected else 'nothing logged: %r' % new_log[-120:]
    f.check(s, 'controller log says the policy was rejected', 'a reject/invalid/error line', shown,
            bool(rejected))
    f.check(s, 'controller still running', 'running', 'running' if f.controller.alive() else 'exited',
            f.controller.alive())
    f.expect_banner(s, 'sub1', 'relay2', 25, 4)   # the reloaded policy stays in force
    f.expect_blocked(s, 'biz', 'mail', 25, 4)
    f.expect_blocked(s, 'sub1', 'mail', 25, 6)
    f.expect_banner(s, 'sub2', 'mail', 587, 4)
