"""The benchmark's bridges: N userspace bridges with ports 1-3, fail_mode=secure, OpenFlow 1.3.

Every bridge is named PREFIX<k>, so the harness only ever touches bridges it created.
"""

import subprocess
from concurrent.futures import ThreadPoolExecutor

from mgmt_wipe import WipeError, wipe_bridge

DPID_BASE = 0xFB0000


class OvsError(Exception):
    """An ovs-vsctl / ovs-ofctl command failed."""


def _run(cmd, timeout=120):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise OvsError(f"{cmd[0]} {' '.join(cmd[1:4])}...: {err}") from err
    if r.returncode != 0:
        raise OvsError(f"{' '.join(cmd[:6])}... exited {r.returncode}: {r.stderr.strip()[:400]}")
    return r.stdout


def dpid_of(index):
    return DPID_BASE + index


class BridgeSet:
    def __init__(self, prefix, n):
        if not prefix.isalnum() or len(prefix) + len(str(n)) + 2 > 15:
            raise ValueError(f"bridge prefix {prefix!r} must be alphanumeric and leave room for port names")
        self.prefix = prefix
        self.names = [f"{prefix}{k}" for k in range(1, n + 1)]

    def __len__(self):
        return len(self.names)

    def create(self):
        cmd = ["ovs-vsctl"]
        for k, b in enumerate(self.names, start=1):
            cmd += ["--", "--may-exist", "add-br", b]
            cmd += ["--", "set", "bridge", b, "datapath_type=netdev", "fail_mode=secure",
                    "protocols=OpenFlow13", f"other-config:datapath-id={dpid_of(k):016x}"]
            for p in (1, 2, 3):
                cmd += ["--", "--may-exist", "add-port", b, f"{b}p{p}",
                        "--", "set", "interface", f"{b}p{p}", "type=internal", f"ofport_request={p}"]
        _run(cmd, timeout=300)
        self._links_up()

    def port_names(self):
        return [f"{b}p{p}" for b in self.names for p in (1, 2, 3)]

    def _links_up(self):
        """Internal ports start administratively down; Faucet ignores down ports, so bring all up."""
        for p in self.port_names():
            # No IPv6 autoconf chatter (router solicitations, MLD) from 3N tap devices.
            try:
                with open(f"/proc/sys/net/ipv6/conf/{p}/disable_ipv6", "w", encoding="ascii") as f:
                    f.write("1")
            except OSError:
                pass  # IPv6 disabled system-wide: nothing to silence.
        batch = "".join(f"link set {p} up\n" for p in self.port_names())
        try:
            r = subprocess.run(["ip", "-batch", "-"], input=batch, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise OvsError(f"ip -batch link set up: {err}") from err
        if r.returncode != 0:
            raise OvsError(f"ip -batch link set up: {r.stderr.strip()[:400]}")

    def destroy(self):
        cmd = ["ovs-vsctl"]
        for b in self.names:
            cmd += ["--", "--if-exists", "del-br", b]
        _run(cmd, timeout=600)

    def set_controller(self, target):
        """Points every bridge at `target` (e.g. tcp:127.0.0.1:6702) in one ovsdb transaction."""
        cmd = ["ovs-vsctl"]
        for b in self.names:
            cmd += ["--", "set-controller", b, target]
        _run(cmd)

    def del_controller(self):
        cmd = ["ovs-vsctl"]
        for b in self.names:
            cmd += ["--", "del-controller", b]
        _run(cmd)

    def wipe_flows(self, workers=16):
        """Deletes every flow on every bridge (what `ovs-ofctl del-flows` does), `workers` at a time."""
        def wipe(b):
            try:
                wipe_bridge(b)
            except WipeError as err:
                raise OvsError(str(err)) from err
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(wipe, self.names))

    def add_flows(self, flows_text, workers=8):
        """Installs the same flows (ovs-ofctl syntax, one per line, from stdin) on every bridge."""
        def add(b):
            try:
                r = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "add-flows", b, "-"],
                                   input=flows_text, capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as err:
                raise OvsError(f"add-flows {b}: {err}") from err
            if r.returncode != 0:
                raise OvsError(f"add-flows {b}: {r.stderr.strip()[:400]}")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(add, self.names))

    def dump_flows(self, bridge):
        return _run(["ovs-ofctl", "-O", "OpenFlow13", "dump-flows", bridge])


def leftover_bridges(prefix):
    """Bridges named PREFIX<digits> that exist now (left by an earlier, interrupted run)."""
    out = _run(["ovs-vsctl", "list-br"])
    return [b for b in out.split() if b.startswith(prefix) and b[len(prefix):].isdigit()]
