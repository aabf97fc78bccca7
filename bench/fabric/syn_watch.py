"""Counts connection attempts to one controller port whose SYN had to be retransmitted.

On loopback a SYN is only ever lost when the listener's queue is full, so a socket seen in
SYN_SENT with a retransmission (or lingering in SYN_SENT for longer than `linger`) is a SYN
the listen backlog dropped. Unlike the kernel's TcpExt:ListenOverflows counter, which is
shared by every listener on the machine, this counts only connections to our port.
"""

import threading
import time

SYN_SENT = "02"


def syn_sent_to_port(proc_net_tcp_text, port):
    """{(local_address, inode): retransmits} for sockets in SYN_SENT towards `port`."""
    out = {}
    for line in proc_net_tcp_text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10 or f[3] != SYN_SENT:
            continue
        rem = f[2].rsplit(":", 1)
        if len(rem) != 2:
            continue
        try:
            if int(rem[1], 16) != port:
                continue
            retrans = int(f[6], 16)
        except ValueError:
            continue
        out[(f[1], f[9])] = retrans
    return out


class SynDropWatcher:
    """Background poller of /proc/net/tcp{,6}; `stop()` returns the number of dropped SYNs seen."""

    def __init__(self, port, interval=0.05, linger=0.3):
        self.port = port
        self.interval = interval
        self.linger = linger
        self._first_seen = {}
        self._dropped = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"syn-watch-{port}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _poll(self):
        now = time.monotonic()
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(path, encoding="ascii") as f:
                    seen = syn_sent_to_port(f.read(), self.port)
            except OSError:
                continue
            for key, retrans in seen.items():
                first = self._first_seen.setdefault(key, now)
                if retrans > 0 or now - first >= self.linger:
                    self._dropped.add(key)

    def _run(self):
        while not self._stop.is_set():
            self._poll()
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join()
        self._poll()
        return len(self._dropped)
