"""Unit tests of the harness's pure parts: trace verdicts, timelines, /proc parsing,
Faucet config, medians. Run: python3 -m unittest discover -s bench/fabric -p 'test_*.py'"""

import math
import unittest

import faucet_config
import policy_probes as pp
import proc_stats
import report
from timeline import BridgeHistory, FleetTimeline


def trace(actions):
    return f"Flow: tcp,in_port=1\n\nbridge(\"fb1\")\n 0. priority 0\n    NORMAL\n\nFinal flow: unchanged\nDatapath actions: {actions}\n"


class VerdictTest(unittest.TestCase):
    def test_drop_is_blocked(self):
        self.assertEqual(pp.verdict(trace("drop")), pp.BLOCKED)

    def test_port_outputs_are_forwarded(self):
        self.assertEqual(pp.verdict(trace("8,9,6")), pp.FORWARDED)
        self.assertEqual(pp.verdict(trace("push_vlan(vid=100,pcp=0),2")), pp.FORWARDED)

    def test_userspace_only_is_blocked(self):
        # A sampled packet-in reaches the controller, not a port.
        self.assertEqual(pp.verdict(trace("meter(0),userspace(pid=0,controller(reason=1,dont_send=0))")), pp.BLOCKED)

    def test_userspace_then_port_is_forwarded(self):
        self.assertEqual(pp.verdict(trace("userspace(pid=0,controller(reason=1)),3")), pp.FORWARDED)

    def test_clone_with_output_is_forwarded(self):
        self.assertEqual(pp.verdict(trace("clone(push_vlan(vid=5),4)")), pp.FORWARDED)
        self.assertEqual(pp.verdict(trace("clone(userspace(pid=1))")), pp.BLOCKED)

    def test_last_actions_line_wins(self):
        text = trace("drop") + "\nrecirc\nDatapath actions: 3\n"
        self.assertEqual(pp.verdict(text), pp.FORWARDED)

    def test_missing_actions_line_is_an_error(self):
        with self.assertRaises(pp.TraceParseError):
            pp.verdict("no such bridge")

    def test_bridge_correct_needs_every_probe(self):
        good = [trace("2,3") if p.expect == pp.FORWARDED else trace("drop") for p in pp.PROBES]
        self.assertTrue(pp.bridge_correct(good))
        all_forward = [trace("2,3") for _ in pp.PROBES]
        self.assertFalse(pp.bridge_correct(all_forward))
        all_drop = [trace("drop") for _ in pp.PROBES]
        self.assertFalse(pp.bridge_correct(all_drop))
        with self.assertRaises(ValueError):
            pp.bridge_correct(good[:-1])

    def test_probes_cover_both_families_and_both_verdicts(self):
        flows = " ".join(p.flow for p in pp.PROBES if p.expect == pp.BLOCKED)
        self.assertIn("tcp6", flows)
        self.assertIn("tcp,", flows)
        fwd = [p.flow for p in pp.PROBES if p.expect == pp.FORWARDED]
        self.assertTrue(any("tp_dst=587" in f for f in fwd))
        self.assertTrue(any(pp.RELAY_V4 in f for f in fwd) and any(pp.RELAY_V6 in f for f in fwd))


class TimelineTest(unittest.TestCase):
    def test_first_correct_and_flap(self):
        h = BridgeHistory()
        for t, ok in [(0.1, False), (0.2, True), (0.3, False), (0.4, True), (0.5, True)]:
            h.observe(t, ok)
        self.assertEqual(h.first_correct, 0.2)
        self.assertEqual(h.last_became_correct, 0.4)
        self.assertEqual(h.flaps, 1)
        self.assertEqual(h.breaks, 1)

    def test_broken_at_end_is_a_break_not_a_flap(self):
        h = BridgeHistory()
        for t, ok in [(0.1, True), (0.2, False)]:
            h.observe(t, ok)
        self.assertEqual((h.flaps, h.breaks, h.correct), (0, 1, False))

    def test_fleet_all_correct_needs_one_round_with_all(self):
        tl = FleetTimeline(["a", "b"])
        tl.observe("a", 0.1, True)
        tl.observe("b", 0.1, False)
        tl.end_round(0.15)
        self.assertIsNone(tl.all_correct_at)
        self.assertIsNone(tl.settled_at())
        tl.observe("a", 0.2, True)
        tl.observe("b", 0.2, True)
        tl.end_round(0.25)
        self.assertEqual(tl.all_correct_at, 0.25)
        self.assertEqual(tl.settled_at(), 0.2)
        self.assertEqual(tl.never_correct(), [])
        self.assertEqual(tl.first_correct_quantiles((0.5, 1.0)), [0.1, 0.2])

    def test_quantiles_none_while_a_bridge_never_was_correct(self):
        tl = FleetTimeline(["a", "b"])
        tl.observe("a", 0.1, True)
        self.assertIsNone(tl.first_correct_quantiles())


class ProcTest(unittest.TestCase):
    def test_status_fields(self):
        text = "Name:\top25b\nVmHWM:\t   12345 kB\nVmRSS:\t    2345 kB\n"
        self.assertEqual(proc_stats.parse_status_kib(text, "VmHWM"), 12345)
        with self.assertRaises(proc_stats.ProcError):
            proc_stats.parse_status_kib(text, "VmSwap")

    def test_stat_cpu_with_spaces_in_comm(self):
        fields = ["S"] + ["0"] * 10 + [str(3 * proc_stats.CLK_TCK), str(proc_stats.CLK_TCK)] + ["0"] * 30
        text = "1234 (osken manager) " + " ".join(fields)
        self.assertAlmostEqual(proc_stats.parse_stat_cpu_s(text), 4.0)
        with self.assertRaises(proc_stats.ProcError):
            proc_stats.parse_stat_cpu_s("garbage")

    def test_netstat(self):
        text = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 7 9\nIpExt: InOctets\nIpExt: 5\n"
        stats = proc_stats.parse_netstat(text)
        self.assertEqual(stats["TcpExt:ListenOverflows"], 7)
        self.assertEqual(stats["TcpExt:ListenDrops"], 9)
        with self.assertRaises(proc_stats.ProcError):
            proc_stats.parse_netstat("TcpExt: A B\nTcpExt: 1\n")


class FaucetConfigTest(unittest.TestCase):
    def test_acl_only_on_subscriber_ports_and_order(self):
        cfg = faucet_config.faucet_config([("fb1", 0xFB0001)])
        ifs = cfg["dps"]["fb1"]["interfaces"]
        self.assertEqual(ifs["p1"]["acls_in"], ["op25b"])
        self.assertEqual(ifs["p2"]["acls_in"], ["op25b"])
        self.assertNotIn("acls_in", ifs["p3"])
        self.assertEqual([i["number"] for i in ifs.values()], [1, 2, 3])
        rules = [r["rule"] for r in cfg["acls"]["op25b"]]
        allows = [r["actions"]["allow"] for r in rules]
        self.assertEqual(allows, [1, 1, 1, 0, 0, 1])  # relay v4, relay v6, exempt, drop v4, drop v6, rest
        self.assertEqual(rules[0]["ipv4_dst"], "192.0.2.25/32")
        self.assertEqual(rules[1]["ipv6_dst"], "2001:db8::25/128")
        self.assertEqual(rules[3]["tcp_dst"], 25)
        self.assertEqual(rules[5], {"actions": {"allow": 1}})


class ReportTest(unittest.TestCase):
    def test_median_counts_timeouts_as_slow(self):
        self.assertEqual(report.median_time([1.0, None, 2.0]), 2.0)
        self.assertTrue(math.isinf(report.median_time([None, None, 1.0])))


if __name__ == "__main__":
    unittest.main()


class SynWatchTest(unittest.TestCase):
    HEAD = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

    def test_only_syn_sent_to_our_port(self):
        import syn_watch
        port = 6701  # 0x1A2D
        text = self.HEAD + (
            "   0: 0100007F:A000 0100007F:1A2D 02 00000000:00000000 01:00000064 00000001     0        0 111 1 0 100 0 0 10 0\n"
            "   1: 0100007F:A001 0100007F:1A2D 01 00000000:00000000 00:00000000 00000000     0        0 112 1 0 20 4 1 10 -1\n"
            "   2: 0100007F:A002 0100007F:1A2E 02 00000000:00000000 01:00000064 00000002     0        0 113 1 0 100 0 0 10 0\n"
            "   3: 0100007F:A003 0100007F:1A2D 02 00000000:00000000 01:00000064 00000000     0        0 114 1 0 100 0 0 10 0\n"
        )
        seen = syn_watch.syn_sent_to_port(text, port)
        self.assertEqual(seen, {("0100007F:A000", "111"): 1, ("0100007F:A003", "114"): 0})

    def test_garbage_lines_are_skipped(self):
        import syn_watch
        self.assertEqual(syn_watch.syn_sent_to_port(self.HEAD + "junk\n 1: x y 02 a b c zz 0 0 1\n", 1), {})


class MgmtWipeTest(unittest.TestCase):
    def test_flow_mod_delete_layout(self):
        import struct

        import mgmt_wipe
        msg = mgmt_wipe.delete_all_flows(xid=7)
        version, mtype, length, xid = struct.unpack("!BBHI", msg[:8])
        self.assertEqual((version, mtype, length, xid), (4, 14, 56, 7))
        self.assertEqual(length, len(msg))
        self.assertEqual(msg[24], 0xFF)  # table_id: all tables
        self.assertEqual(msg[25], 3)  # OFPFC_DELETE
        self.assertEqual(msg[36:44], b"\xff" * 8)  # out_port ANY, out_group ANY
        self.assertEqual(msg[48:52], b"\x00\x01\x00\x04")  # empty OXM match

    def test_read_messages_splits_and_keeps_rest(self):
        import mgmt_wipe
        data = mgmt_wipe.hello(1) + mgmt_wipe.barrier(2) + b"\x04\x15\x00"
        msgs, rest = mgmt_wipe.read_messages(data)
        self.assertEqual([(t, x) for t, x, _ in msgs], [(0, 1), (20, 2)])
        self.assertEqual(rest, b"\x04\x15\x00")
        with self.assertRaises(mgmt_wipe.WipeError):
            mgmt_wipe.read_messages(b"\x04\x00\x00\x04\x00\x00\x00\x01")
