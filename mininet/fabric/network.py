"""Bringing a topology up and down, with cleanup of anything a crashed run left behind."""

import os
import time

from mininet.log import setLogLevel
from mininet.net import Mininet

from . import procs


def leftover_links(topo_module):
    """Root-namespace interface names a topology creates (for cleanup after a crash)."""
    names = set(topo_module.SWITCHES)
    for host, (switch, port, *_rest) in topo_module.HOSTS.items():
        names.add('%s-eth0' % host)
        names.add('%s-eth%d' % (switch, port))
    for left, left_port, right, right_port in topo_module.TRUNKS:
        names.add('%s-eth%d' % (left, left_port))
        names.add('%s-eth%d' % (right, right_port))
    return sorted(names)


def clean_leftovers(topo_module):
    """Deletes this topology's bridges and links if a previous run left them (never anyone else's)."""
    procs.kill_remembered()
    bridges = ' '.join('-- --if-exists del-br %s' % name for name in topo_module.SWITCHES)
    procs.run('ovs-vsctl %s' % bridges)
    for name in leftover_links(topo_module):
        if os.path.exists('/sys/class/net/%s' % name):
            procs.run('ip link del %s' % name)


def ensure_ovs():
    code, _ = procs.run('ovs-vsctl --timeout=5 show')
    if code != 0:
        procs.run('/usr/share/openvswitch/scripts/ovs-ctl start --system-id=random', check=True)


def start(topo_module, topo_cls, controller):
    """Builds and starts the Mininet network (controller: a Mininet RemoteController)."""
    setLogLevel('warning')
    net = Mininet(topo=topo_cls(), controller=None, build=False, autoSetMacs=False,
                  autoStaticArp=False, waitConnected=False)
    net.addController(controller)
    net.build()
    net.start()
    for host in net.hosts:
        procs.remember_pid(host.pid, 'mininet:%s' % host.name)
    return net


def stop(net):
    if net is None:
        return
    setLogLevel('error')
    try:
        net.stop()
    except Exception as err:  # teardown must go on whatever Mininet says
        print('warning: Mininet stop: %s' % err)
    time.sleep(0.2)
