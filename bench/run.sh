#!/usr/bin/env bash
# HTTP load benchmark (make bench): bench/run.sh <path-to-pincer> [http_load.py options]
# Runs bench/http_load.py with Debian's python3; see bench/README.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 <path-to-pincer> [--duration N] [--connections N] [--threads N] ..." >&2
  exit 2
fi
pincer="$1"
shift
exec /usr/bin/python3 "$here/http_load.py" "$pincer" "$@"
