#!/usr/bin/env bash
# Makes sure a Docker engine is running and the sandbox image exists (for the docker runtime
# and its tests). Installs docker.io and debootstrap when missing, starts dockerd in the
# background when nothing answers on /var/run/docker.sock, then builds the image (cached).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "ensure-docker: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd"
  $sudo sh -c 'nohup dockerd >/var/log/pincer-dockerd.log 2>&1 &'
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "ensure-docker: dockerd did not start; last log lines:" >&2
    tail -n 30 /var/log/pincer-dockerd.log >&2 || true
    exit 1
  fi
fi

./scripts/build-sandbox-image.sh "${PINCER_SANDBOX_IMAGE:-pincer-sandbox:bookworm}"
