"""A private Open vSwitch (ovsdb-server + ovs-vswitchd) inside the runner's own network namespace.

The machine's ovs-vswitchd is shared with everything else on the host: when another user adds
or removes hundreds of bridges it stalls for seconds (seen here: 15 s without forwarding or
echo replies), and our bridge names and controller ports could clash with theirs.  The runner
therefore re-executes itself under `unshare --net` and starts these two daemons from the same
Debian binaries, with their database, sockets and logs in one directory.  Every Open vSwitch
tool the runner or Mininet calls finds them through OVS_RUNDIR / OVS_DBDIR / OVS_LOGDIR.
When the runner exits, the namespace and everything in it disappear.
"""

import os
import shutil
import signal
import time

from . import procs

SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'


def use(directory):
    """Points this process and its children at the private instance's sockets."""
    for name in ('OVS_RUNDIR', 'OVS_DBDIR', 'OVS_LOGDIR'):
        os.environ[name] = directory


def start(directory):
    """Fresh database, ovsdb-server, ovs-vswitchd; loopback up.  Raises on failure."""
    stop(directory)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    use(directory)
    procs.run('ip link set lo up', check=True)
    procs.run('ovsdb-tool create %s/conf.db %s' % (directory, SCHEMA), check=True)
    procs.run('ovsdb-server %s/conf.db --remote=punix:%s/db.sock --pidfile=%s/ovsdb-server.pid '
              '--log-file=%s/ovsdb-server.log --detach' % ((directory,) * 4), check=True)
    procs.run('ovs-vsctl --no-wait init', check=True)
    procs.run('ovs-vswitchd unix:%s/db.sock --pidfile=%s/ovs-vswitchd.pid --log-file=%s/ovs-vswitchd.log '
              '--detach' % ((directory,) * 3), check=True)
    ok, _ = procs.wait_until(lambda: procs.run('ovs-vsctl --timeout=2 show')[0] == 0, 10)
    if not ok:
        raise RuntimeError('private ovs-vswitchd did not start; see %s/ovs-vswitchd.log' % directory)


def stop(directory):
    """Ends the daemons recorded in directory's pidfiles (only if they are ours)."""
    for daemon in ('ovs-vswitchd', 'ovsdb-server'):
        try:
            with open(os.path.join(directory, '%s.pid' % daemon)) as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            continue
        line = procs.cmdline(pid)
        if line is None or daemon not in line or directory not in line:
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            continue
        procs.wait_until(lambda: procs.cmdline(pid) is None, 5)
        if procs.cmdline(pid) is not None:
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
