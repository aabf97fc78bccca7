"""DEV ONLY: install the flows `op25b plan` prints, without running the controller.

Used by `run-scenarios --dev-flows` to exercise the topologies, probes and
teardown (and the planned flows themselves) while `op25b run` is not usable.
It proves nothing about the controller's session handling: the runner records
a FAIL row saying this mode was used and skips the failure scenarios.
"""

import os

from . import procs
from .controller import COOKIE_FILTER, dpid_text


def install(binary, policy_path, switches):
    """Replaces the op25b-cookie flows on each bridge {name: dpid} with `op25b plan`'s."""
    for name, dpid in switches.items():
        code, plan = procs.run('%s plan --config %s --dpid %s 2>/dev/null' % (binary, policy_path, dpid_text(dpid)))
        if code != 0:
            raise RuntimeError('op25b plan failed for %s (exit %d)' % (name, code))
        procs.run('ovs-ofctl -O OpenFlow13 del-flows %s %s' % (name, COOKIE_FILTER), check=True)
        procs.run('ovs-ofctl -O OpenFlow13 del-meters %s' % name)
        for line in plan.splitlines():
            if line.startswith('# METER_MOD: '):
                command = line[len('# METER_MOD: '):].replace('BRIDGE', name)
                procs.run(command, check=True)
        path = os.path.join(procs.STATE_DIR, 'devflows-%s.txt' % name)
        with open(path, 'w') as handle:
            handle.write('\n'.join(ln for ln in plan.splitlines() if ln.startswith('cookie=')) + '\n')
        procs.run('ovs-ofctl -O OpenFlow13 add-flows %s %s' % (name, path), check=True)
