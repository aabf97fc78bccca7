# Sourced by `ONLY=large scripts/bench-swarm` (release binaries built, in the swarm's namespace):
# the large-policy scenario. For each size, a policy of that many exempt prefixes (three IPv4
# /32s for every IPv6 /64) is timed through `op25b check` and `op25b plan` (wall time and peak
# RSS from /usr/bin/time); then the swarm re-syncs preloaded switches at each size (its policies
# use IPv4 /32s only: one flow each), each switch judged by its table and by the controller's
# API. SIZES lists prefixes:switches; a simulated switch holds about 300 bytes per flow, so the
# swarm's own memory, not the controller's, limits the switches at the larger sizes. Set
# BEFORE=path/to/an/older/op25b to run the same re-syncs against it first.
#   ONLY=large SIZES="10000:1000 50000:100 100000:20 200000:5" scripts/bench-swarm
SIZES=${SIZES:-10000:1000 50000:100 100000:20 200000:5}
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
for size in $SIZES; do
  p=${size%:*}
  f="$work/policy-$p.toml"
  large_policy "$p" > "$f"
  size=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", b / 1048576 }')
  /usr/bin/time -o "$work/time" -f "%e %M" target/release/op25b check --config "$f" > /dev/null 2>&1
  check=$(tail -1 "$work/time")
  /usr/bin/time -o "$work/time" -f "%e %M" target/release/op25b plan --config "$f" > "$work/plan-$p.txt" 2>/dev/null
  plan=$(tail -1 "$work/time")
  flows=$(grep -c 'priority=' "$work/plan-$p.txt")
  echo "| $p | $size | $flows | ${check% *} | $((${check#* } / 1024)) | ${plan% *} | $((${plan#* } / 1024)) |"
done
echo
for bin in ${BEFORE:-} target/release/op25b; do
  echo "## large policies: re-sync of preloaded switches, controller $bin (load $(cut -d' ' -f1 /proc/loadavg))"
  for size in $SIZES; do
    target/release/op25b-swarm growth -n "${size#*:}" --prefixes "${size%:*}" --controller-bin "$bin" --timeout-secs 300 --work-dir "$work" || true
  done
  echo
done
