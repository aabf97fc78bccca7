#!/usr/bin/env python3
"""The os-ken side of the per-sample cost (scripts/bench-outbreak-cost): what the minimal os-ken
app with a PACKET_IN handler (bench/fabric/osken_op25b_samples.py) does with one sample --
os-ken's OpenFlow parser builds the OFPPacketIn (as its event loop does before any handler runs),
then the handler parses the frame with os-ken's packet library and counts it.

Usage: sample_bench.py --loop N SAMPLES.bin   N samples, untimed (for callgrind: the count at N
                                              minus the count at 0, divided by N)
       sample_bench.py --time SAMPLES.bin     ns per sample, best of 5 timeit repeats, as JSON
SAMPLES.bin: OpenFlow PACKET_INs back to back (benches/sample_loop.rs writes it).
"""

import os
import sys
import timeit

from os_ken.ofproto import ofproto_parser, ofproto_protocol, ofproto_v1_3

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fabric"))
from osken_op25b_samples import count_sample  # noqa: E402

DATAPATH = ofproto_protocol.ProtocolDesc(version=ofproto_v1_3.OFP_VERSION)


def frames(data):
    out = []
    while len(data) >= 8:
        n = max(int.from_bytes(data[2:4], "big"), 8)
        out.append(data[:n])
        data = data[n:]
    return out


def main(argv):
    mode, rest = argv[1], argv[2:]
    path = rest[-1]
    with open(path, "rb") as f:
        msgs = frames(f.read())
    offenders, flagged = {}, set()

    def one(i):
        buf = msgs[i % len(msgs)]
        ver, msg_type, msg_len, xid = ofproto_parser.header(buf)
        msg = ofproto_parser.msg(DATAPATH, ver, msg_type, msg_len, xid, buf)
        count_sample(offenders, flagged, 1, msg)

    if mode == "--loop":
        for i in range(int(rest[0])):
            one(i)
        return 0
    counter = iter(range(10**12))
    timer = timeit.Timer(lambda: one(next(counter)))
    number, _ = timer.autorange()
    best = min(timer.repeat(repeat=5, number=number))
    print('{"osken_sample_ns": %.0f}' % (best / number * 1e9))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
