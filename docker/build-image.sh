#!/usr/bin/env bash
# Builds the raftlab-node image WITHOUT a registry and prints its tag (raftlab-node:<hash>).
# The harness does the same on its own before a Docker run; this script is for building ahead of
# time or checking the host has what the image needs. See docker/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/docker/image/image.js ] || npm run build
node --input-type=module -e '
const { ensureNodeImage } = await import("./dist/docker/image/image.js");
const tag = await ensureNodeImage({ build: "if-stale", log: (line) => process.stderr.write(line + "\n") });
process.stdout.write(tag + "\n");
'
