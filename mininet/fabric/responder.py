#!/usr/bin/python3
"""A tiny SMTP-like responder, run inside a Mininet host.

Listens on every given TCP port (IPv4 and IPv6), greets each connection with
``220 <name> ESMTP``, answers every line with ``250 ok <line>`` and ``QUIT``
with ``221``.  Each accepted connection is logged as ``accept <port> <peer>``
on stdout (flushed), which lets the runner check from the server side that a
blocked client never arrived.
"""

import argparse
import socket
import sys
import threading


def log(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def serve_client(conn, peer, port, name):
    try:
        conn.settimeout(600)
        conn.sendall(('220 %s ESMTP op25b-fabric\r\n' % name).encode())
        reader = conn.makefile('rb')
        for raw in reader:
            line = raw.decode(errors='replace').strip()
            if line.upper() == 'QUIT':
                conn.sendall(b'221 bye\r\n')
                break
            conn.sendall(('250 ok %s\r\n' % line[:200]).encode())
    except OSError:
        pass
    finally:
        conn.close()


def listen(port, name):
    server = socket.create_server(('::', port), family=socket.AF_INET6, dualstack_ipv6=True, reuse_port=False)
    while True:
        conn, addr = server.accept()
        peer = addr[0]
        if peer.startswith('::ffff:'):
            peer = peer[len('::ffff:'):]
        log('accept %d %s' % (port, peer))
        threading.Thread(target=serve_client, args=(conn, peer, port, name), daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--name', required=True)
    parser.add_argument('--ports', required=True, help='comma-separated TCP ports')
    args = parser.parse_args()
    ports = [int(p) for p in args.ports.split(',')]
    for port in ports:
        threading.Thread(target=listen, args=(port, args.name), daemon=True).start()
    log('ready %s' % ','.join(str(p) for p in ports))
    threading.Event().wait()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
