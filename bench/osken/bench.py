#!/usr/bin/env python3
"""Time os-ken's OpenFlow 1.3 parser and serializer on the same bytes op25b's codec bench uses.

Usage: bench.py FLOW_MOD.bin PACKET_IN.bin FLOW_REPLY.bin [FLOW_REPLY.bin...]
       bench.py --loop CASE N FLOW_MOD.bin PACKET_IN.bin FLOW_REPLY.bin...

The --loop form runs one case (flow_mod_decode, flow_mod_encode, flow_reply_decode,
packet_in_decode) N times without timing, for counting instructions with
`valgrind --tool=callgrind`: (count at N) - (count at 0), divided by N, is the cost of one
operation whatever else the machine is doing.

FLOW_MOD.bin: one OFPT_FLOW_MOD; PACKET_IN.bin: one OFPT_PACKET_IN; FLOW_REPLY.bin...: the
OFPMP_FLOW replies of one flow dump (decoded together, as one unit of work). Prints one JSON
object: nanoseconds per operation (best of 5 timeit repeats) for each case os-ken can do, null
where it cannot (os-ken has no serializer for PACKET_IN or multipart replies), plus the entry
count and os-ken version. Needs os-ken: python3 -m venv /tmp/osken-venv &&
/tmp/osken-venv/bin/pip install os-ken.
"""

import json
import sys
import timeit
from importlib.metadata import version

from os_ken.ofproto import ofproto_parser, ofproto_protocol, ofproto_v1_3

DATAPATH = ofproto_protocol.ProtocolDesc(version=ofproto_v1_3.OFP_VERSION)


def decode(buf):
    ver, msg_type, msg_len, xid = ofproto_parser.header(buf)
    msg = ofproto_parser.msg(DATAPATH, ver, msg_type, msg_len, xid, buf)
    if msg is None:
        raise SystemExit(f"os-ken failed to decode message type {msg_type}")
    return msg


def per_op_ns(func, min_seconds=0.2):
    timer = timeit.Timer(func)
    number, _ = timer.autorange()
    number = max(number, int(number * min_seconds / 0.2))
    best = min(timer.repeat(repeat=5, number=number))
    return best / number * 1e9


def read(path):
    with open(path, "rb") as f:
        return f.read()


def loop(case, n, flow_mod, packet_in, replies):
    fm = decode(flow_mod)
    ops = {
        "flow_mod_decode": lambda: decode(flow_mod),
        "flow_mod_encode": fm.serialize,
        "flow_reply_decode": lambda: [decode(r) for r in replies],
        "packet_in_decode": lambda: decode(packet_in),
    }
    op = ops[case]
    for _ in range(n):
        op()
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--loop":
        files = [read(p) for p in argv[4:]]
        return loop(argv[2], int(argv[3]), files[0], files[1], files[2:])
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    flow_mod = read(argv[1])
    packet_in = read(argv[2])
    replies = [read(p) for p in argv[3:]]

    fm = decode(flow_mod)
    fm.serialize()
    if bytes(fm.buf) != flow_mod:
        raise SystemExit("os-ken re-encodes the FLOW_MOD differently: the encode timing would not "
                         f"be the same work\nin:  {flow_mod.hex()}\nout: {bytes(fm.buf).hex()}")
    entries = sum(len(decode(r).body) for r in replies)
    pin = decode(packet_in)
    if len(pin.data) == 0:
        raise SystemExit("os-ken decoded a PACKET_IN without data")

    def decode_replies():
        for r in replies:
            decode(r)

    result = {
        "osken_version": version("os-ken"),
        "python": sys.version.split()[0],
        "flow_entries": entries,
        "flow_mod_decode_ns": per_op_ns(lambda: decode(flow_mod)),
        "flow_mod_encode_ns": per_op_ns(fm.serialize),
        "flow_reply_decode_ns": per_op_ns(decode_replies),
        "flow_reply_encode_ns": None,
        "packet_in_decode_ns": per_op_ns(lambda: decode(packet_in)),
        "packet_in_encode_ns": None,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
