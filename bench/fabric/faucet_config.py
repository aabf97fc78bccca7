"""Generates a Faucet config expressing the OP25B policy for the benchmark's bridges:
one VLAN on ports 1-3, and an ACL on the subscriber ports 1,2: allow TCP/25 to the relay
(v4 and v6), allow everything from the exempt source, drop TCP/25, allow the rest.
Port 3 (uplink) has no ACL.

Faucet reads YAML; JSON is a subset of YAML, so this writes JSON with the stdlib.
"""

import json

ACL_NAME = "op25b"
VLAN_NAME = "subscribers"
VLAN_VID = 100


def op25b_acl():
    tcp25_v4 = {"eth_type": 0x0800, "ip_proto": 6, "tcp_dst": 25}
    tcp25_v6 = {"eth_type": 0x86DD, "ip_proto": 6, "tcp_dst": 25}
    return [
        {"rule": {**tcp25_v4, "ipv4_dst": "192.0.2.25/32", "actions": {"allow": 1}}},
        {"rule": {**tcp25_v6, "ipv6_dst": "2001:db8::25/128", "actions": {"allow": 1}}},
        {"rule": {"eth_type": 0x0800, "ipv4_src": "203.0.113.0/29", "actions": {"allow": 1}}},
        {"rule": {**tcp25_v4, "actions": {"allow": 0}}},
        {"rule": {**tcp25_v6, "actions": {"allow": 0}}},
        {"rule": {"actions": {"allow": 1}}},
    ]


def faucet_config(bridges_with_dpids):
    """bridges_with_dpids: [(name, dpid int)]. Returns the config as a dict."""
    dps = {}
    for name, dpid in bridges_with_dpids:
        dps[name] = {
            "dp_id": dpid,
            "hardware": "Open vSwitch",
            "interfaces": {
                "p1": {"number": 1, "native_vlan": VLAN_NAME, "acls_in": [ACL_NAME]},
                "p2": {"number": 2, "native_vlan": VLAN_NAME, "acls_in": [ACL_NAME]},
                "p3": {"number": 3, "native_vlan": VLAN_NAME},
            },
        }
    return {"vlans": {VLAN_NAME: {"vid": VLAN_VID}}, "acls": {ACL_NAME: op25b_acl()}, "dps": dps}


def write_faucet_config(path, bridges_with_dpids):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(faucet_config(bridges_with_dpids), f, indent=1)
        f.write("\n")
