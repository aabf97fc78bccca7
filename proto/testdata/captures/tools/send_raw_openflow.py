#!/usr/bin/env python3
"""Send hand-written OpenFlow 1.3 messages to a switch's passive endpoint and wait for the answers.

Usage: send_raw_openflow.py HOST PORT HEX...

Used by scripts/capture-ovs for requests ovs-ofctl has no command for (ROLE_REQUEST,
GET_ASYNC_REQUEST, an unknown message type that draws an ERROR). Sends an OpenFlow 1.3 HELLO,
then each HEX message (spaces allowed), then a BARRIER_REQUEST with xid 0xba22, and reads until
the matching BARRIER_REPLY, so every answer is on the wire before the connection closes. Prints
one line per message received (type and length). Exits 1 if the switch closes the connection or
the barrier reply does not come within 5 seconds.
"""

import socket
import struct
import sys
import time

BARRIER_XID = 0xBA22


def read_message(sock, buf):
    while True:
        if len(buf) >= 8:
            length = struct.unpack("!H", buf[2:4])[0]
            if length < 8:
                raise RuntimeError(f"switch sent a header with length {length}")
            if len(buf) >= length:
                return bytes(buf[:length]), buf[length:]
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("switch closed the connection")
        buf += chunk


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    host, port = argv[1], int(argv[2])
    messages = [bytes.fromhex(h.replace(" ", "")) for h in argv[3:]]
    barrier = struct.pack("!BBHI", 4, 20, 8, BARRIER_XID)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(struct.pack("!BBHI", 4, 0, 8, 1))
        buf = bytearray()
        deadline = time.monotonic() + 5
        msg, buf = read_message(sock, buf)
        print(f"received type {msg[1]} length {len(msg)}")
        for m in messages:
            sock.sendall(m)
        sock.sendall(barrier)
        while time.monotonic() < deadline:
            msg, buf = read_message(sock, buf)
            print(f"received type {msg[1]} length {len(msg)}")
            if msg[1] == 21 and struct.unpack("!I", msg[4:8])[0] == BARRIER_XID:
                return 0
    sys.stderr.write("send_raw_openflow: no barrier reply within 5 s\n")
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, RuntimeError, ValueError) as e:
        sys.stderr.write(f"send_raw_openflow: {e}\n")
        sys.exit(1)
