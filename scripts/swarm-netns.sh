# Sourced (`. scripts/swarm-netns.sh`) by scripts/bench-swarm and scripts/bench-steady from the
# repository root, with the caller's arguments: builds the controller and op25b-swarm (release),
# then, as root (and unless NETNS=0), re-executes the caller in a network namespace of its own,
# where net.core.somaxconn (which caps the controller's listen backlog; 4096 by default) is raised
# to SOMAXCONN, so a storm of N switches does not overflow the listen queue. Elsewhere, set the
# sysctl yourself: sysctl -w net.core.somaxconn=65535.
if [ -z "${IN_SWARM_NETNS:-}" ]; then
  cargo build --release -q -p op25b --bin op25b -p op25b-swarm --bin op25b-swarm
  if [ "${NETNS:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
    exec unshare --net env IN_SWARM_NETNS=1 "$0" "$@"
  fi
else
  ip link set lo up
  echo "${SOMAXCONN:-65535}" > /proc/sys/net/core/somaxconn
fi
