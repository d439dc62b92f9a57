#!/usr/bin/env bash
# One command from a fresh clone to a finished run: installs dependencies, builds, and runs the
# embedded default workload (3-node kv cluster, partitions and kill -9, linearizability check).
# Uses Docker when a daemon answers (as root it installs and starts one if missing), else local processes.
# Extra arguments go to `raftlab run`, e.g. `bash quickstart.sh --runtime local`.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v iptables >/dev/null || need+=(iptables)
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || true
  fi
  if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
    nohup dockerd >/tmp/raftlab-dockerd.log 2>&1 &
    for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
  fi
fi

npm ci --no-audit --no-fund
npm run build
exec node bin/raftlab.js run "$@"
