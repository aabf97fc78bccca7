#!/usr/bin/python3
"""Traffic probes run inside a Mininet host; each prints one JSON object.

  smtp HOST PORT          connect and read the 220 banner (ok = banner read)
  http URL                GET a URL (ok = HTTP 200)
  prober HOST PORT        every --interval s start a connection attempt (own
                          thread, --timeout) until SIGINT/SIGTERM; reports how
                          many attempts were made and how many read a banner
  session HOST PORT       one long-lived SMTP session: read the banner, then
                          send a NOOP every --interval s and expect a 250 each
                          time, until SIGINT/SIGTERM; reports exchanges/errors
  spray PORT ADDR...      --count connection attempts (non-blocking connect, each
                          socket closed after --timeout, before the kernel
                          retransmits its SYN), one every --interval s, cycling
                          through the addresses; reports attempts, the wall-clock
                          time of the first one and connects that completed
"""

import argparse
import errno
import json
import signal
import socket
import sys
import threading
import time
import urllib.request


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def read_banner(host, port, timeout):
    """Returns (banner or None, error or None)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            data = b''
            while b'\n' not in data and len(data) < 512:
                chunk = sock.recv(512)
                if not chunk:
                    break
                data += chunk
            text = data.decode(errors='replace').strip()
            if text.startswith('220'):
                return text, None
            return None, 'no banner (got %r)' % text
    except OSError as err:
        return None, '%s: %s' % (type(err).__name__, err)


def cmd_smtp(args):
    start = time.monotonic()
    banner, error = read_banner(args.host, args.port, args.timeout)
    emit({'ok': banner is not None, 'banner': banner, 'error': error,
          'secs': round(time.monotonic() - start, 3)})


def cmd_http(args):
    try:
        with urllib.request.urlopen(args.url, timeout=args.timeout) as resp:
            emit({'ok': resp.status == 200, 'status': resp.status})
    except Exception as err:  # any failure is a probe result, not a crash
        emit({'ok': False, 'error': '%s: %s' % (type(err).__name__, err)})


class Stop:
    def __init__(self):
        self.event = threading.Event()
        signal.signal(signal.SIGINT, self.handler)
        signal.signal(signal.SIGTERM, self.handler)

    def handler(self, _signum, _frame):
        self.event.set()


def cmd_prober(args):
    stop = Stop()
    lock = threading.Lock()
    counts = {'attempts': 0, 'banners': 0, 'first_banner_at': None}
    start = time.monotonic()
    threads = []

    def attempt():
        banner, _ = read_banner(args.host, args.port, args.timeout)
        if banner is not None:
            with lock:
                counts['banners'] += 1
                if counts['first_banner_at'] is None:
                    counts['first_banner_at'] = round(time.monotonic() - start, 3)

    emit({'started': True})
    while not stop.event.is_set():
        thread = threading.Thread(target=attempt, daemon=True)
        thread.start()
        threads.append(thread)
        counts['attempts'] += 1
        stop.event.wait(args.interval)
    for thread in threads:
        thread.join(args.timeout + 1)
    counts['secs'] = round(time.monotonic() - start, 3)
    emit(counts)


def cmd_session(args):
    stop = Stop()
    result = {'exchanges': 0, 'errors': 0, 'first_error': None}
    try:
        sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except OSError as err:
        result['errors'] = 1
        result['first_error'] = 'connect: %s' % err
        emit(result)
        return
    sock.settimeout(args.timeout)
    reader = sock.makefile('rb')
    banner = reader.readline().decode(errors='replace')
    if not banner.startswith('220'):
        result['errors'] = 1
        result['first_error'] = 'banner: %r' % banner
        emit(result)
        return
    emit({'started': True})
    n = 0
    while not stop.event.is_set():
        n += 1
        try:
            sock.sendall(('NOOP %d\r\n' % n).encode())
            reply = reader.readline().decode(errors='replace')
            if reply.startswith('250 ok NOOP %d' % n):
                result['exchanges'] += 1
            else:
                raise OSError('unexpected reply %r' % reply)
        except OSError as err:
            result['errors'] += 1
            if result['first_error'] is None:
                result['first_error'] = str(err)
            break
        stop.event.wait(args.interval)
    try:
        sock.sendall(b'QUIT\r\n')
        sock.close()
    except OSError:
        pass
    emit(result)


def cmd_spray(args):
    pending = []  # (deadline, socket)
    result = {'attempts': 0, 'connected': 0, 'errors': 0, 'first_attempt_epoch': None}
    start = time.monotonic()

    def close_expired(now):
        for deadline, sock in list(pending):
            if deadline <= now:
                try:
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 and sock.getpeername():
                        result['connected'] += 1
                except OSError:
                    pass
                sock.close()
                pending.remove((deadline, sock))

    for index in range(args.count):
        address = args.addresses[index % len(args.addresses)]
        family = socket.AF_INET6 if ':' in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        if result['first_attempt_epoch'] is None:
            result['first_attempt_epoch'] = time.time()
        code = sock.connect_ex((address, args.port))
        result['attempts'] += 1
        if code not in (0, errno.EINPROGRESS):
            result['errors'] += 1
        pending.append((time.monotonic() + args.timeout, sock))
        time.sleep(args.interval)
        close_expired(time.monotonic())
    time.sleep(args.timeout)
    close_expired(float('inf'))
    result['secs'] = round(time.monotonic() - start, 3)
    emit(result)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='cmd', required=True)
    for name in ('smtp', 'prober', 'session'):
        p = sub.add_parser(name)
        p.add_argument('host')
        p.add_argument('port', type=int)
        p.add_argument('--timeout', type=float, default=1.5)
        p.add_argument('--interval', type=float, default=0.05)
    p = sub.add_parser('http')
    p.add_argument('url')
    p.add_argument('--timeout', type=float, default=3)
    p = sub.add_parser('spray')
    p.add_argument('port', type=int)
    p.add_argument('addresses', nargs='+')
    p.add_argument('--count', type=int, default=35)
    p.add_argument('--interval', type=float, default=0.1)
    p.add_argument('--timeout', type=float, default=0.5)
    args = parser.parse_args()
    {'smtp': cmd_smtp, 'http': cmd_http, 'prober': cmd_prober, 'session': cmd_session,
     'spray': cmd_spray}[args.cmd](args)


if __name__ == '__main__':
    main()
