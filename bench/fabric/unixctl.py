"""A pipelined JSON-RPC client for ovs-vswitchd's unixctl socket.

`ovs-appctl ofproto/trace BR FLOW` is a JSON-RPC request {"method": "ofproto/trace",
"params": [BR, FLOW]} sent over this same socket; talking to it directly lets the harness
send a whole round of traces in one write instead of spawning one process per trace.
"""

import glob
import json
import socket
import time


class UnixctlError(Exception):
    """The unixctl socket could not be reached or answered something unexpected."""


def find_vswitchd_socket(rundir="/var/run/openvswitch"):
    """Returns the path of the running ovs-vswitchd's control socket."""
    pidfile = f"{rundir}/ovs-vswitchd.pid"
    try:
        with open(pidfile, encoding="ascii") as f:
            pid = int(f.read().strip())
    except (OSError, ValueError) as err:
        raise UnixctlError(f"cannot read {pidfile}: {err}") from err
    path = f"{rundir}/ovs-vswitchd.{pid}.ctl"
    if not glob.glob(path):
        raise UnixctlError(f"{path} does not exist (is ovs-vswitchd running?)")
    return path


class UnixctlClient:
    """One connection to a unixctl server; `call_many` pipelines requests."""

    def __init__(self, path):
        self._path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(path)
        except OSError as err:
            raise UnixctlError(f"connect {path}: {err}") from err
        self._decoder = json.JSONDecoder()
        self._pending = ""
        self._next_id = 0

    def close(self):
        self._sock.close()

    def call_many(self, method, params_list, window=64):
        """Sends one request per params entry, returns [(result_or_None, error_or_None, t_answer)].

        t_answer is time.monotonic() when the answer was read, so callers can date each one.
        Requests go out `window` at a time: with everything in flight at once, the server
        stops reading while its replies wait in our unread receive buffer, and both block.
        """
        answers = []
        for i in range(0, len(params_list), window):
            answers += self._call_batch(method, params_list[i : i + window])
        return answers

    def _call_batch(self, method, params_list):
        first_id = self._next_id
        self._next_id += len(params_list)
        payload = "".join(
            json.dumps({"method": method, "params": params, "id": first_id + i})
            for i, params in enumerate(params_list)
        )
        try:
            self._sock.sendall(payload.encode())
        except OSError as err:
            raise UnixctlError(f"send to {self._path}: {err}") from err
        answers = [None] * len(params_list)
        received = 0
        while received < len(params_list):
            for obj in self._read_objects():
                idx = obj.get("id")
                if not isinstance(idx, int) or not first_id <= idx < first_id + len(params_list):
                    raise UnixctlError(f"answer with unexpected id: {str(obj)[:200]}")
                answers[idx - first_id] = (obj.get("result"), obj.get("error"), time.monotonic())
                received += 1
        return answers

    def _read_objects(self):
        try:
            chunk = self._sock.recv(1 << 20)
        except OSError as err:
            raise UnixctlError(f"recv from {self._path}: {err}") from err
        if not chunk:
            raise UnixctlError(f"{self._path} closed the connection")
        self._pending += chunk.decode("utf-8", errors="replace")
        objects = []
        pos = 0
        text = self._pending
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            try:
                obj, end = self._decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                break
            objects.append(obj)
            pos = end
        self._pending = text[pos:]
        return objects
