"""The OP25B flow set in ovs-ofctl syntax: what the os-ken app installs, and what the
harness pre-installs with ovs-ofctl to measure its own floor."""

UPLINK_PORT = 3
RELAY_V4 = "192.0.2.25/32"
RELAY_V6 = "2001:db8::25/128"
EXEMPT_V4 = "203.0.113.0/29"
BLOCKED_PORT = 25

PRIO_UPLINK = 400
PRIO_ALLOW = 300
PRIO_DROP = 200
PRIO_CATCH_ALL = 0

FLOWS = (
    f"priority={PRIO_UPLINK},in_port={UPLINK_PORT},actions=NORMAL",
    f"priority={PRIO_ALLOW},tcp,nw_dst={RELAY_V4},tp_dst={BLOCKED_PORT},actions=NORMAL",
    f"priority={PRIO_ALLOW},tcp6,ipv6_dst={RELAY_V6},tp_dst={BLOCKED_PORT},actions=NORMAL",
    f"priority={PRIO_ALLOW},ip,nw_src={EXEMPT_V4},actions=NORMAL",
    f"priority={PRIO_DROP},tcp,tp_dst={BLOCKED_PORT},actions=drop",
    f"priority={PRIO_DROP},tcp6,tp_dst={BLOCKED_PORT},actions=drop",
    f"priority={PRIO_CATCH_ALL},actions=NORMAL",
)


def as_ofctl_text():
    return "\n".join(FLOWS) + "\n"
