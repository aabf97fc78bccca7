#!/bin/bash
# Makes the real-kernel SYN fixtures used by ../sample_tests.rs: a Linux TCP stack in a
# network namespace connects to port 25, and a raw AF_PACKET socket in a second namespace
# keeps the first 128 bytes of each frame (what a drop flow's `controller:128` forwards).
# Variants: untagged IPv4 and IPv6 (this machine's kernel has no 8021q module, so tagged
# frames are made in the tests by splicing tags into these). Traffic never leaves the two
# namespaces made here: the capture namespace has no address and no route, so the SYNs to
# 198.51.100.7 and 2001:db8:1::7 end at its raw socket.
# Run as root from anywhere: bash src/offenders/testdata/capture_real_syns.sh
set -euo pipefail
out_dir="$(cd "$(dirname "$0")" && pwd)"
sub=h6sub; cap=h6cap

cleanup() { ip netns del "$sub" 2>/dev/null || true; ip netns del "$cap" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add "$sub"; ip netns add "$cap"
ip link add h6s type veth peer name h6c
ip link set h6s netns "$sub" address 02:00:00:00:00:01
ip link set h6c netns "$cap" address 02:00:00:00:00:fe
ip -n "$sub" link set h6s up; ip -n "$cap" link set h6c up; ip -n "$sub" link set lo up

capture() { # $1 = fixture name, $2... = command run in the subscriber namespace
    local name=$1; shift
    ip netns exec "$cap" /usr/bin/python3 - "$out_dir/$name.hex" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("h6c", 0))
s.settimeout(3)
deadline = time.time() + 3
while time.time() < deadline:
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        break
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    data = frame[:128]
    # keep the first IPv4/IPv6 frame holding the bytes 00 19 (port 25): the SYN
    if b"\x00\x19" in data and (b"\x08\x00" in data[12:22] or b"\x86\xdd" in data[12:22]):
        with open(sys.argv[1], "w") as f:
            f.write(data.hex() + "\n")
        break
PY
    local pid=$!
    sleep 0.5
    ip netns exec "$sub" "$@" || true
    wait "$pid"
    echo "$name: $(wc -c < "$out_dir/$name.hex") hex chars"
}

connect() { timeout 2 socat -u /dev/null "TCP:$1:25,connect-timeout=1" 2>/dev/null; }

# untagged IPv4
ip -n "$sub" addr add 10.0.0.1/24 dev h6s
ip -n "$sub" route add default via 10.0.0.254
ip -n "$sub" neigh add 10.0.0.254 lladdr 02:00:00:00:00:fe dev h6s nud permanent
capture real_syn_ipv4 bash -c "$(declare -f connect); connect 198.51.100.7"

# untagged IPv6
ip -n "$sub" -6 addr add 2001:db8::1/64 dev h6s nodad
ip -n "$sub" -6 route add default via 2001:db8::fe
ip -n "$sub" -6 neigh add 2001:db8::fe lladdr 02:00:00:00:00:fe dev h6s nud permanent
capture real_syn_ipv6 bash -c "$(declare -f connect); connect '[2001:db8:1::7]'"
