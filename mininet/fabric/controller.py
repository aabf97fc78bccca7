"""The op25b controller as a process under test: build, start, signal, wait for sync."""

import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import time
import tomllib
import urllib.error
import urllib.request

from . import procs

COOKIE_FILTER = 'cookie=0x4f50323542000000/-1'
ANSI = re.compile(r'\x1b\[[0-9;]*m')


def dpid_text(number):
    raw = '%016x' % number
    return ':'.join(raw[i:i + 2] for i in range(0, 16, 2))


def parse_dpid(value):
    """A dpid from the API: int, '00:00:..:01', '0x1' or '0000000000000001'."""
    if isinstance(value, int):
        return value
    text = str(value).lower().replace(':', '')
    return int(text[2:] if text.startswith('0x') else text, 16)


def build(repo):
    """`cargo build --release`; returns (ok, output tail)."""
    code, out = procs.run('cd %s && cargo build --release 2>&1' % repo, timeout=1800)
    return code == 0, '\n'.join(out.splitlines()[-15:])


class Controller:
    """One `op25b run --config FILE` process, its log file and its policy's API address."""

    def __init__(self, binary, policy_path, log_path, api_ca=None):
        self.binary = binary
        self.policy_path = policy_path
        self.log_path = log_path
        self.proc = None
        with open(policy_path, 'rb') as handle:
            policy = tomllib.load(handle)
        section = policy.get('controller', {})
        self.api = section.get('api_listen', '127.0.0.1:9325')
        # HTTPS when [api] has tls_cert; its certificate is checked against api_ca (the run's
        # controller CA), not against a host name (it names no address, as with Open vSwitch).
        self.api_scheme = 'https' if 'tls_cert' in policy.get('api', {}) else 'http'
        self.api_context = None
        if self.api_scheme == 'https':
            self.api_context = ssl.create_default_context(cafile=api_ca)
            self.api_context.check_hostname = False
        # (protocol, host, port) switches connect to: tls_listen (mutual TLS) if set, else listen
        listen = section.get('tls_listen', section.get('listen', '127.0.0.1:6653'))
        host, _, port = listen.rpartition(':')
        self.listener = ('ssl' if 'tls_listen' in section else 'tcp', host.strip('[]'), int(port))
        # The controller creates its API token (mode 0600) on first start: [api] token_file,
        # by default `api-token` next to the policy file. /api/offenders and /api/reload need it.
        token_file = policy.get('api', {}).get('token_file', 'api-token')
        self.token_file = os.path.join(os.path.dirname(os.path.abspath(policy_path)), token_file)

    def api_request(self, path, token=True, scheme=None):
        """A request for `path` on the API, with the controller's token (when it has made one and
        `token`), over the API's scheme unless `scheme` says otherwise."""
        request = urllib.request.Request('%s://%s%s' % (scheme or self.api_scheme, self.api, path))
        try:
            with open(self.token_file) as handle:
                if token:
                    request.add_header('Authorization', 'Bearer ' + handle.read().strip())
        except OSError:
            pass
        return request

    def api_status(self, path, token=True, scheme=None):
        """The HTTP status of a GET (with or without the token), or the error if none came."""
        try:
            request = self.api_request(path, token, scheme)
            with urllib.request.urlopen(request, timeout=2, context=self.api_context) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code
        except http.client.HTTPException as err:  # e.g. a TLS alert where a status line should be
            return type(err).__name__
        except OSError as err:
            return '%s: %s' % (type(err).__name__, err)

    def start(self):
        log = open(self.log_path, 'a')
        log.write('===== op25b run started %s =====\n' % time.strftime('%H:%M:%S'))
        log.flush()
        env = dict(os.environ)
        env.setdefault('RUST_LOG', 'info')
        env.setdefault('NO_COLOR', '1')
        self.proc = subprocess.Popen([self.binary, 'run', '--config', self.policy_path],
                                     stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        procs.remember_pid(self.proc.pid, self.binary)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum):
        if self.alive():
            os.kill(self.proc.pid, signum)

    def kill(self):
        """SIGKILL, as a crash would."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(5)

    def stop(self):
        procs.stop_process(self.proc)

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, offset):
        try:
            with open(self.log_path, 'rb') as handle:
                handle.seek(offset)
                return ANSI.sub('', handle.read().decode(errors='replace'))
        except OSError:
            return ''

    def api_get(self, path):
        """GET a JSON document from the controller's API, or None if it does not answer."""
        try:
            with urllib.request.urlopen(self.api_request(path), timeout=1, context=self.api_context) as resp:
                return json.loads(resp.read().decode())
        except (OSError, ValueError):
            return None

    def api_text(self, path):
        """GET a text document (e.g. /metrics) from the controller's API, or None if it does not answer."""
        try:
            with urllib.request.urlopen(self.api_request(path), timeout=2, context=self.api_context) as resp:
                return resp.read().decode()
        except (OSError, UnicodeDecodeError):
            return None

    def api_generations(self):
        """(policy_generation, {dpid: synced_generation}) from the API, or None."""
        body = self.api_get('/api/switches')
        if not isinstance(body, dict) or 'policy_generation' not in body:
            return None
        synced = {}
        for entry in body.get('switches', []):
            try:
                synced[parse_dpid(entry['dpid'])] = entry.get('synced_generation')
            except (KeyError, TypeError, ValueError):
                continue
        return body['policy_generation'], synced

    def api_switches(self):
        """The API's switch list as {dpid: state}, or None if the API does not answer."""
        body = self.api_get('/api/switches')
        if body is None:
            return None
        if isinstance(body, dict):
            body = body.get('switches', [])
        states = {}
        for entry in body if isinstance(body, list) else []:
            if not isinstance(entry, dict) or 'dpid' not in entry:
                continue
            state = entry.get('sync_state', entry.get('state', entry.get('sync', '')))
            try:
                states[parse_dpid(entry['dpid'])] = str(state)
            except ValueError:
                continue
        return states

    def planned_flow_count(self, dpid):
        """Number of flows `op25b plan` says this switch gets, or None if plan fails."""
        code, out = procs.run('%s plan --config %s --dpid %s 2>/dev/null'
                              % (self.binary, self.policy_path, dpid_text(dpid)))
        if code != 0:
            return None
        return len([ln for ln in out.splitlines() if ln.startswith('cookie=')])

    def wait_sync(self, switches, timeout=30):
        """Waits until every bridge {name: dpid} is in sync.

        In sync means: Open vSwitch says each bridge is connected to its controller,
        the API (when it answers) lists each dpid as "in_sync", and each bridge holds at
        least as many flows with the op25b cookie as `op25b plan` predicts (at least one
        if plan does not answer).  Without the API, flows left from an earlier controller
        also count: only the API proves this controller synced.  Returns (ok, secs, how).
        """
        expected = {name: self.planned_flow_count(dpid) or 1 for name, dpid in switches.items()}
        how = {'api': False}

        def in_sync():
            states = self.api_switches()
            if states is not None:
                how['api'] = True
                if any(states.get(dpid) != 'in_sync' for dpid in switches.values()):
                    return False
            if not all(connected(name) for name in switches):
                return False
            return all(flow_count(name) >= expected[name] for name in switches)

        ok, secs = procs.wait_until(in_sync, timeout, interval=0.2)
        return bool(ok), secs, 'connected+api+flows' if how['api'] else 'connected+flows, no API'


def connected(bridge):
    """Open vSwitch's own view: is the bridge's controller connection up?"""
    code, out = procs.run('ovs-vsctl --timeout=5 get controller %s is_connected' % bridge)
    return code == 0 and out.strip() == 'true'


def flow_count(bridge):
    """Flows carrying op25b's cookie on a bridge (0 if the bridge is unreachable)."""
    code, out = procs.run('ovs-ofctl -O OpenFlow13 dump-flows %s %s' % (bridge, COOKIE_FILTER))
    if code != 0:
        return 0
    return len([ln for ln in out.splitlines() if 'cookie=' in ln])
