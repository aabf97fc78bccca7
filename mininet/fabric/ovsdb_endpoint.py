"""Points the live policy's `[ovsdb] endpoints` at the Open vSwitch database the fabric runs on.

With it, op25b's continuous bridge-settings check (the doctor's monitor) watches the fabric's
bridges, so a bridge set to `fail_mode=standalone` is reported before its controller goes away.
The database is the runner's private one (OVS_RUNDIR, set by private_ovs.use) or, with
--system-ovs, the machine's.
"""

import os


def socket_path():
    return os.path.join(os.environ.get('OVS_RUNDIR', '/var/run/openvswitch'), 'db.sock')


def add_to(text):
    """A policy text with the `[ovsdb]` table appended (unchanged if it has one)."""
    if '\n[ovsdb]' in text:
        return text
    return text + ('\n# Added by the scenario runner: the fabric\'s own database.\n'
                   '[ovsdb]\nendpoints = ["unix:%s"]\n' % socket_path())
