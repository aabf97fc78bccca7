#!/usr/bin/env python3
"""Split a loopback pcap of OpenFlow TCP connections into one file per OpenFlow message.

Usage: extract_openflow.py CAPTURE.pcap OUT_DIR SWITCH_PORT WINDOWS_FILE

WINDOWS_FILE has one line per scenario, `NAME START END` (Unix times, as `date +%s.%N` prints),
taken around the commands of that scenario. Every TCP connection to SWITCH_PORT (the switch's
passive OpenFlow endpoint) belongs to the scenario whose window holds its SYN; a connection
outside every window is an error, and so is a scenario without a connection (one command can
open several connections: ovs-ofctl show opens two). Both directions of each connection are
reassembled by sequence number (retransmitted and overlapping segments are placed at their
offset, so duplicates collapse), then split into OpenFlow frames by the 16-bit length field of
the 8-byte header. Frames of both directions are interleaved by the capture time of their first
byte and written as

    OUT_DIR/NAME/c<K>-<NN>-<from-switch|to-switch>-<OFPT name>[-<OFPMP name>].bin

where K counts the scenario's connections from 1 and NN the messages within a connection.

Only the standard library is used; the input must be classic pcap (tshark -F pcap), link type
Ethernet (what Linux's lo gives) or Linux cooked capture.
"""

import os
import struct
import sys

OFPT = {
    0: "HELLO", 1: "ERROR", 2: "ECHO_REQUEST", 3: "ECHO_REPLY", 4: "EXPERIMENTER",
    5: "FEATURES_REQUEST", 6: "FEATURES_REPLY", 7: "GET_CONFIG_REQUEST", 8: "GET_CONFIG_REPLY",
    9: "SET_CONFIG", 10: "PACKET_IN", 11: "FLOW_REMOVED", 12: "PORT_STATUS", 13: "PACKET_OUT",
    14: "FLOW_MOD", 15: "GROUP_MOD", 16: "PORT_MOD", 17: "TABLE_MOD", 18: "MULTIPART_REQUEST",
    19: "MULTIPART_REPLY", 20: "BARRIER_REQUEST", 21: "BARRIER_REPLY",
    22: "QUEUE_GET_CONFIG_REQUEST", 23: "QUEUE_GET_CONFIG_REPLY", 24: "ROLE_REQUEST",
    25: "ROLE_REPLY", 26: "GET_ASYNC_REQUEST", 27: "GET_ASYNC_REPLY", 28: "SET_ASYNC",
    29: "METER_MOD",
}
OFPMP = {
    0: "DESC", 1: "FLOW", 2: "AGGREGATE", 3: "TABLE", 4: "PORT_STATS", 5: "QUEUE", 6: "GROUP",
    7: "GROUP_DESC", 8: "GROUP_FEATURES", 9: "METER", 10: "METER_CONFIG", 11: "METER_FEATURES",
    12: "TABLE_FEATURES", 13: "PORT_DESC", 0xFFFF: "EXPERIMENTER",
}


class ExtractError(Exception):
    pass


def read_pcap(path):
    """Yields (time, (src ip, port), (dst ip, port), seq, flags, payload) per IPv4 TCP packet."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ExtractError(f"{path}: {len(data)} bytes, shorter than a pcap header")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ExtractError(f"{path}: not a classic pcap file (magic {magic.hex()}); use tshark -F pcap")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype == 1:
        link_len, ethertype_at = 14, 12
    elif linktype == 113:
        link_len, ethertype_at = 16, 14
    else:
        raise ExtractError(f"{path}: link type {linktype} not supported (want 1 or 113)")
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        if len(pkt) < incl:
            raise ExtractError(f"{path}: last record truncated")
        ts = sec + frac / (1e9 if nano else 1e6)
        if len(pkt) < link_len + 20:
            continue
        if struct.unpack("!H", pkt[ethertype_at:ethertype_at + 2])[0] != 0x0800:
            continue
        ip = pkt[link_len:]
        ihl = (ip[0] & 0x0F) * 4
        total_len = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 6 or len(ip) < ihl + 20:
            continue
        src, dst = ip[12:16], ip[16:20]
        tcp = ip[ihl:total_len]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        yield ts, (src, sport), (dst, dport), seq, flags, tcp[doff:]


class Direction:
    """One direction of one TCP connection, reassembled by sequence number."""

    def __init__(self):
        self.isn = None
        self.segments = []  # (relative offset, timestamp, payload)

    def add(self, ts, seq, flags, payload):
        syn = flags & 0x02
        if syn:
            self.isn = (seq + 1) & 0xFFFFFFFF
            return
        if not payload:
            return
        if self.isn is None:
            raise ExtractError("payload before SYN: start the capture before the connection")
        self.segments.append(((seq - self.isn) & 0xFFFFFFFF, ts, payload))

    def stream(self):
        """Returns the stream's bytes and a list of (offset, length, time) of its segments."""
        size = max((o + len(p) for o, _, p in self.segments), default=0)
        buf = bytearray(size)
        have = bytearray(size)
        times = []
        for o, ts, p in sorted(self.segments, key=lambda s: (s[1], s[0])):
            buf[o:o + len(p)] = p
            have[o:o + len(p)] = b"\x01" * len(p)
            times.append((o, len(p), ts))
        if size and 0 in have:
            raise ExtractError(f"gap in TCP stream at offset {have.index(0)} (packets lost by the capture)")
        times.sort()
        return bytes(buf), times


def first_seen(times, offset):
    """The earliest capture time of a segment holding the byte at offset."""
    return min(ts for o, n, ts in times if o <= offset < o + n)


def frames(stream, label):
    out = []
    off = 0
    while off < len(stream):
        if len(stream) - off < 8:
            raise ExtractError(f"{label}: {len(stream) - off} trailing bytes, less than a header")
        length = struct.unpack("!H", stream[off + 2:off + 4])[0]
        if length < 8 or off + length > len(stream):
            raise ExtractError(f"{label}: bad OpenFlow length {length} at offset {off}")
        out.append((off, stream[off:off + length]))
        off += length
    return out


def message_name(msg):
    kind = OFPT.get(msg[1], f"TYPE{msg[1]}")
    if msg[1] in (18, 19) and len(msg) >= 10:
        sub = struct.unpack("!H", msg[8:10])[0]
        kind += "-" + OFPMP.get(sub, f"MP{sub}")
    return kind


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    pcap, out_dir, switch_port = argv[1], argv[2], int(argv[3])
    windows = []
    with open(argv[4]) as f:
        for line in f:
            if line.strip():
                name, start, end = line.split()
                windows.append((name, float(start), float(end)))
    conns = []  # list of dict(client=(ip,port), up=Direction, down=Direction)
    by_client = {}
    for ts, src, dst, seq, flags, payload in read_pcap(pcap):
        if dst[1] == switch_port:
            client, direction = src, "up"
        elif src[1] == switch_port:
            client, direction = dst, "down"
        else:
            continue
        if direction == "up" and flags & 0x02 and not flags & 0x10:
            owner = [w[0] for w in windows if w[1] <= ts <= w[2]]
            if len(owner) != 1:
                raise ExtractError(f"connection from port {client[1]} at {ts:.6f} is in {len(owner)} windows")
            by_client[client] = len(conns)
            conns.append({"name": owner[0], "up": Direction(), "down": Direction()})
        if client not in by_client:
            continue
        conns[by_client[client]][direction].add(ts, seq, flags, payload)
    for name, _, _ in windows:
        if not any(c["name"] == name for c in conns):
            raise ExtractError(f"scenario {name}: no connection captured in its window")
    total = 0
    per_scenario = {}
    for conn in conns:
        name = conn["name"]
        per_scenario[name] = per_scenario.get(name, 0) + 1
        k = per_scenario[name]
        msgs = []
        for direction, label in (("up", "to-switch"), ("down", "from-switch")):
            stream, times = conn[direction].stream()
            for off, msg in frames(stream, f"{name} {label}"):
                msgs.append((first_seen(times, off), label == "from-switch", off, label, msg))
        msgs.sort(key=lambda m: (m[0], m[1], m[2]))
        scen_dir = os.path.join(out_dir, name)
        os.makedirs(scen_dir, exist_ok=True)
        for i, (_, _, _, label, msg) in enumerate(msgs):
            path = os.path.join(scen_dir, f"c{k}-{i:02d}-{label}-{message_name(msg)}.bin")
            with open(path, "wb") as f:
                f.write(msg)
        total += len(msgs)
        print(f"{name} connection {k}: {len(msgs)} messages")
    print(f"total: {total} messages in {len(conns)} connections")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ExtractError as e:
        sys.stderr.write(f"extract_openflow: {e}\n")
        sys.exit(1)
