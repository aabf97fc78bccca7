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
_running_args = {}  # directory: the extra arguments its ovs-vswitchd was started with


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
    start_vswitchd(directory)


def start_vswitchd(directory, extra_args=()):
    """Starts ovs-vswitchd on the private database (extra_args: e.g. --ssl-protocols=TLSv1.2)."""
    procs.run('ovs-vswitchd unix:%s/db.sock --pidfile=%s/ovs-vswitchd.pid --log-file=%s/ovs-vswitchd.log '
              '--detach %s' % ((directory,) * 3 + (' '.join(extra_args),)), check=True)
    # ovs-vsctl without --no-wait returns once ovs-vswitchd has applied the database
    ok, _ = procs.wait_until(lambda: procs.run('ovs-vsctl --timeout=2 set Open_vSwitch . '
                                               'other_config:op25b-runner=up')[0] == 0, 10)
    if not ok:
        raise RuntimeError('private ovs-vswitchd did not start; see %s/ovs-vswitchd.log' % directory)
    _running_args[directory] = list(extra_args)


def restart_vswitchd(directory, extra_args):
    """ovs-vswitchd again with other command-line arguments; the database (bridges, SSL) stays.
    Does nothing if the running one was started with exactly these."""
    if list(extra_args) == _running_args.get(directory):
        return
    stop(directory, daemons=('ovs-vswitchd',))
    start_vswitchd(directory, extra_args)


def set_ssl(key, cert, ca_cert):
    """The switch side of mutual TLS, for every bridge of this ovs-vswitchd (absolute paths)."""
    procs.run('ovs-vsctl set-ssl %s %s %s' % (key, cert, ca_cert), check=True)


def read_pid(directory, daemon):
    try:
        with open(os.path.join(directory, '%s.pid' % daemon)) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def stop(directory, daemons=('ovs-vswitchd', 'ovsdb-server')):
    """Ends the daemons recorded in directory's pidfiles (only if they are ours)."""
    for daemon in daemons:
        pid = read_pid(directory, daemon)
        if pid is None:
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
