# Sourced by `ONLY=large scripts/bench-swarm` (release binaries built, in the swarm's namespace):
# the large-policy scenario. For each size, a policy of that many exempt prefixes (three IPv4
# /32s for every IPv6 /64) is timed through `op25b check` and `op25b plan` (wall time and peak
# RSS from /usr/bin/time); then the swarm re-syncs LARGE_N preloaded switches per size (its
# policies use IPv4 /32s only: one flow each) and HUGE_N switches at HUGE_PREFIXES (past the
# old fixed read cap of 100,000 flows), each switch judged by its table and by the controller's
# API. Set BEFORE=path/to/an/older/op25b to run the same re-syncs against it first.
LARGE_N=${LARGE_N:-100}
LARGE_PREFIXES=${LARGE_PREFIXES:-10000,50000,100000}
HUGE_N=${HUGE_N:-5}
HUGE_PREFIXES=${HUGE_PREFIXES:-200000}
work=target/swarm/large
mkdir -p "$work"

# A policy of $1 exempt prefixes, mixed IPv4 and IPv6.
large_policy() {
  awk -v n="$1" 'BEGIN {
    print "[controller]\nlisten = \"127.0.0.1:6653\"\napi_listen = \"127.0.0.1:9325\"\n"
    print "[policy]\nblocked_ports = [25]\nrelays = [\"192.0.2.25/32\", \"2001:db8::25/128\"]"
    printf "exempt_sources = ["
    for (i = 0; i < n; i++) {
      if (i % 4 == 3) printf "\"2001:db8:%x:%x::/64\",", int(i / 65536), i % 65536
      else printf "\"100.%d.%d.%d/32\",", 64 + int(i / 65536), int(i / 256) % 256, i % 256
    }
    print "]\nforwarding = \"normal\"\nfragments = \"drop-tcp\"\n"
    print "[defaults]\nsubscriber_ports = \"all\"\nuplink_ports = []"
  }'
}

echo "## large policies: op25b check and op25b plan"
echo
echo "| prefixes | file (MiB) | flows per switch | check (s) | check peak RSS (MiB) | plan (s) | plan peak RSS (MiB) |"
echo "|---|---|---|---|---|---|---|"
for p in $(echo "$LARGE_PREFIXES,$HUGE_PREFIXES" | tr ',' ' '); do
  f="$work/policy-$p.toml"
  large_policy "$p" > "$f"
  size=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", b / 1048576 }')
  check=$( { /usr/bin/time -f "%e %M" target/release/op25b check --config "$f" > /dev/null 2>&1; } 2>&1 | tail -1)
  plan=$( { /usr/bin/time -f "%e %M" target/release/op25b plan --config "$f" > "$work/plan-$p.txt" 2>/dev/null; } 2>&1 | tail -1)
  flows=$(grep -c 'priority=' "$work/plan-$p.txt")
  echo "| $p | $size | $flows | ${check% *} | $((${check#* } / 1024)) | ${plan% *} | $((${plan#* } / 1024)) |"
done
echo
for bin in ${BEFORE:-} target/release/op25b; do
  echo "## large policies: re-sync of preloaded switches, controller $bin (load $(cut -d' ' -f1 /proc/loadavg))"
  target/release/op25b-swarm growth -n "$LARGE_N" --prefixes "$LARGE_PREFIXES" --controller-bin "$bin" --timeout-secs 300 --work-dir "$work" || true
  target/release/op25b-swarm growth -n "$HUGE_N" --prefixes "$HUGE_PREFIXES" --controller-bin "$bin" --timeout-secs 120 --work-dir "$work" || true
  echo
done
