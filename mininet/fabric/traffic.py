"""Traffic between Mininet hosts: SMTP banners, HTTP, ping, background probes, fragments."""

import json
import os
import subprocess
import time

from . import procs

HERE = os.path.dirname(os.path.abspath(__file__))
PY = '/usr/bin/python3'
PROBE = os.path.join(HERE, 'probe.py')
RESPONDER = os.path.join(HERE, 'responder.py')
FRAGMENTS = os.path.join(HERE, 'fragments.py')
BYPASS = os.path.join(HERE, 'bypass.py')


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith('{'):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return {'ok': False, 'error': 'no result from probe: %r' % text[-200:]}


def url_host(address):
    return '[%s]' % address if ':' in address else address


def smtp(host, address, port, timeout=1.5):
    """Connect from a host to address:port and read the 220 banner; returns the probe's dict."""
    return last_json(host.cmd('%s %s smtp %s %d --timeout %s' % (PY, PROBE, address, port, timeout)))


def http(host, address, port=80):
    return last_json(host.cmd('%s %s http http://%s:%d/' % (PY, PROBE, url_host(address), port)))


def ping(host, address, count=1):
    out = host.cmd('ping -c %d -W 2 %s' % (count, address))
    summary = [line for line in out.splitlines() if 'packet loss' in line]
    return ' 0% packet loss' in out, summary[0].strip() if summary else out.strip()[-80:]


class Background:
    """A probe or server running inside a host; ended (SIGINT, then kill) by stop()."""

    def __init__(self, host, argv, log_path=None):
        self.log_path = log_path
        out = open(log_path, 'w') if log_path else subprocess.PIPE
        self.proc = host.popen(argv, stdout=out, stderr=subprocess.STDOUT, text=True)
        if log_path:
            out.close()
        procs.remember_pid(self.proc.pid, os.path.basename(argv[1]))

    def wait_for_line(self, needle, timeout=10):
        """For log-file processes: waits until the log holds `needle`."""
        def seen():
            try:
                with open(self.log_path) as handle:
                    return needle in handle.read()
            except OSError:
                return False
        ok, _ = procs.wait_until(seen, timeout)
        return ok

    def read_first_line(self, timeout=10):
        """For piped processes: the first stdout line (e.g. {"started": true})."""
        import select
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else ''

    def stop(self, grace=5.0):
        """SIGINT, wait, return the last JSON object it printed (piped processes)."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
        try:
            out, _ = self.proc.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return last_json(out or '')

    def wait_json(self, timeout):
        """For piped processes that end by themselves: waits, returns the last JSON object printed."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return last_json(out or '')

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                pass


def start_responder(host, name, ports, log_dir):
    path = os.path.join(log_dir, 'responder-%s.log' % name)
    bg = Background(host, [PY, RESPONDER, '--name', name, '--ports', ','.join(str(p) for p in ports)], path)
    if not bg.wait_for_line('ready'):
        raise RuntimeError('responder on %s did not start; see %s' % (name, path))
    return bg


def start_http(host, log_dir):
    path = os.path.join(log_dir, 'http-%s.log' % host.name)
    bg = Background(host, [PY, '-m', 'http.server', '80', '--bind', '::', '--directory', '/tmp'], path)
    time.sleep(0.5)
    return bg


def server_accepts(log_path, port, peer):
    """How many connections from `peer` to `port` a responder has accepted so far."""
    try:
        with open(log_path) as handle:
            return sum(1 for line in handle if line.strip() == 'accept %d %s' % (port, peer))
    except OSError:
        return 0


def start_prober(host, address, port, interval=0.05, timeout=1.5):
    bg = Background(host, [PY, PROBE, 'prober', address, str(port), '--interval', str(interval),
                           '--timeout', str(timeout)])
    bg.read_first_line()
    return bg


def start_spray(host, port, addresses, count, interval, timeout=0.5):
    """`count` non-blocking connection attempts from `host`, cycling through `addresses`."""
    return Background(host, [PY, PROBE, 'spray', str(port)] + list(addresses)
                      + ['--count', str(count), '--interval', str(interval), '--timeout', str(timeout)])


def start_session(host, address, port, interval=0.1):
    bg = Background(host, [PY, PROBE, 'session', address, str(port), '--interval', str(interval),
                           '--timeout', '3'])
    first = bg.read_first_line()
    return bg, 'started' in first


def fragmented_syn_arrives(sender, receiver, src, dst, src_mac, dst_mac, port, tag):
    """Sends one fragmented SYN sender->receiver.

    Returns (fragments sent, what the receiver's sniffer saw: {"fragments", "replies", "reply_flags"}).
    """
    sniffer = Background(receiver, [PY, FRAGMENTS, 'sniff', '--iface', str(receiver.defaultIntf()),
                                    '--src', src, '--port', str(port), '--tag', str(tag), '--secs', '3'])
    sniffer.read_first_line(timeout=15)
    sent = last_json(sender.cmd('%s %s send --iface %s --src-mac %s --dst-mac %s --src %s --dst %s --port %d --tag %d'
                                % (PY, FRAGMENTS, sender.defaultIntf(), src_mac, dst_mac, src, dst, port, tag)))
    try:
        out, _ = sniffer.proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        sniffer.kill()
        out = ''
    return sent.get('sent', 0), last_json(out or '')


def start_marker_sniffer(host):
    """A capture on the host's interface counting bypass.py's markers until stopped."""
    bg = Background(host, [PY, BYPASS, 'sniff', '--iface', str(host.defaultIntf())])
    bg.read_first_line(timeout=15)
    return bg


def marker_counts(sniffer):
    """Stops a marker sniffer: {tag (str): frames captured}, or None if it reported nothing."""
    return sniffer.stop(grace=10).get('tags')


def send_bypass_frames(host, frames):
    """bypass.py send from host: frames is a list of dicts (kind, src_mac, dst_mac, src, dst, port,
    tag); returns {tag (str): frames sent}."""
    out = host.cmd("%s %s send --iface %s --frames '%s'" % (PY, BYPASS, host.defaultIntf(), json.dumps(frames)))
    return last_json(out).get('sent', {})
