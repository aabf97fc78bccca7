"""Starting, stopping and locating the three controllers under test, each on its own
loopback port: op25b, Faucet, and the minimal os-ken app."""

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

from faucet_config import write_faucet_config

HERE = os.path.dirname(os.path.abspath(__file__))


class ControllerError(Exception):
    """A controller could not be started, or died."""


@dataclass
class ControllerSpec:
    name: str
    port: int
    argv: list
    env: dict

    @property
    def target(self):
        return f"tcp:127.0.0.1:{self.port}"


def op25b_spec(binary, port, api_port, workdir):
    cfg = os.path.join(workdir, "op25b.toml")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(f"""[controller]
listen = "127.0.0.1:{port}"
echo_interval_secs = 5
echo_timeout_secs = 15
audit_interval_secs = 60
api_listen = "127.0.0.1:{api_port}"
[policy]
blocked_ports = [25]
relays = ["192.0.2.25/32", "2001:db8::25/128"]
exempt_sources = ["203.0.113.0/29"]
forwarding = "normal"
cookie = "0x4f50323542000000"
[defaults]
subscriber_ports = "all"
uplink_ports = [3]
""")
    return ControllerSpec("op25b", port, [binary, "run", "--config", cfg], {})


def faucet_spec(venv, port, prom_port, workdir, bridges_with_dpids):
    cfg = os.path.join(workdir, "faucet.yaml")
    write_faucet_config(cfg, bridges_with_dpids)
    env = {
        # faucet execs osken-manager from PATH.
        "PATH": f"{venv}/bin:" + os.environ.get("PATH", "/usr/bin:/bin"),
        "FAUCET_CONFIG": cfg,
        "FAUCET_LOG": os.path.join(workdir, "faucet.log"),
        "FAUCET_EXCEPTION_LOG": os.path.join(workdir, "faucet_exception.log"),
        "FAUCET_PROMETHEUS_ADDR": "127.0.0.1",
        "FAUCET_PROMETHEUS_PORT": str(prom_port),
        "FAUCET_LOG_LEVEL": "WARNING",
    }
    argv = [f"{venv}/bin/faucet", "--ryu-ofp-listen-host=127.0.0.1", f"--ryu-ofp-tcp-listen-port={port}"]
    return ControllerSpec("faucet", port, argv, env)


def osken_spec(venv, port):
    argv = [f"{venv}/bin/osken-manager", "--ofp-listen-host", "127.0.0.1",
            "--ofp-tcp-listen-port", str(port), os.path.join(HERE, "osken_op25b.py")]
    return ControllerSpec("osken", port, argv, {"PATH": f"{venv}/bin:" + os.environ.get("PATH", "")})


def port_accepts(port):
    """True if a TCP connect to 127.0.0.1:port succeeds right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(0.05)
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class RunningController:
    def __init__(self, spec, log_path):
        self.spec = spec
        self.log_path = log_path
        self.proc = None
        self.started_at = None

    def start(self):
        if port_accepts(self.spec.port):
            raise ControllerError(f"port {self.spec.port} is already taken before starting {self.spec.name}")
        env = dict(os.environ)
        env.update(self.spec.env)
        log = open(self.log_path, "ab")
        try:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(self.spec.argv, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True)
        except OSError as err:
            raise ControllerError(f"start {self.spec.name}: {err}") from err
        finally:
            log.close()
        return self.started_at

    def wait_listening(self, timeout=30.0, interval=0.001):
        """Connect-polls the port; returns seconds from start() to the first accepted connect."""
        deadline = self.started_at + timeout
        while time.monotonic() < deadline:
            if port_accepts(self.spec.port):
                return time.monotonic() - self.started_at
            if self.proc.poll() is not None:
                raise ControllerError(
                    f"{self.spec.name} exited with {self.proc.returncode} before listening; see {self.log_path}")
            time.sleep(interval)
        raise ControllerError(f"{self.spec.name} not listening on {self.spec.port} after {timeout}s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace=3.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        # The port must be free before the next start.
        deadline = time.monotonic() + 5
        while port_accepts(self.spec.port) and time.monotonic() < deadline:
            time.sleep(0.01)
