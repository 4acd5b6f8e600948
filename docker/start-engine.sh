#!/usr/bin/env bash
# Start a Docker engine for tandem when none answers on the socket.
#
# - Honours DOCKER_HOST=unix:///path (default /var/run/docker.sock).
# - Installs what is missing with apt-get: Debian's docker.io, and the packages
#   tandem builds against (libcurl4-openssl-dev, libsqlite3-dev, busybox-static).
# - Starts dockerd detached, its log in $TANDEM_ENGINE_LOG
#   (default /var/log/tandem-dockerd.log), and waits until /_ping answers.
# - Idempotent: with the engine up it only checks the packages and exits 0.
set -euo pipefail

socket="/var/run/docker.sock"
if [[ "${DOCKER_HOST:-}" == unix://* ]]; then
  socket="${DOCKER_HOST#unix://}"
elif [[ -n "${DOCKER_HOST:-}" ]]; then
  echo "start-engine: DOCKER_HOST=${DOCKER_HOST} is not a unix:// socket; tandem speaks to the engine over a Unix socket" >&2
  exit 2
fi
log="${TANDEM_ENGINE_LOG:-/var/log/tandem-dockerd.log}"
wait_seconds="${TANDEM_ENGINE_WAIT:-60}"

ping() {
  [[ -S "$socket" ]] || return 1
  [[ "$(curl -s --max-time 2 --unix-socket "$socket" http://localhost/_ping 2>/dev/null)" == "OK" ]]
}

need_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
  dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
  [[ -x /bin/busybox ]] || dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  echo "${missing[@]:-}"
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi
}

install_missing() {
  local missing
  missing="$(need_packages)"
  [[ -z "${missing// /}" ]] && return 0
  echo "start-engine: installing ${missing}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2
  # shellcheck disable=SC2086
  as_root apt-get install -y -qq --no-install-recommends $missing >&2
}

# The AWS clients tandem's tests drive against the gateway (from PyPI).
install_aws_clients() {
  [[ "${TANDEM_SKIP_AWS_CLIENTS:-}" == 1 ]] && return 0
  if command -v aws >/dev/null 2>&1 && python3 -c 'import boto3' >/dev/null 2>&1; then return 0; fi
  command -v python3 >/dev/null 2>&1 || return 0
  echo "start-engine: installing awscli and boto3 from PyPI (for the gateway tests)" >&2
  python3 -m pip install --quiet awscli boto3 >&2 \
    || python3 -m pip install --quiet --break-system-packages awscli boto3 >&2 \
    || echo "start-engine: could not install awscli/boto3; the gateway's AWS-client tests will fail" >&2
  hash -r
}

if ping; then
  install_missing
  install_aws_clients
  exit 0
fi

# Serialise concurrent starts.
lock="/var/lock/tandem-start-engine.lock"
exec 9>"$lock"
flock -w "$((wait_seconds + 120))" 9

if ping; then
  install_missing
  install_aws_clients
  exit 0
fi

install_missing
install_aws_clients

if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-engine: dockerd is not installed and could not be installed (apt-get install docker.io)" >&2
  exit 1
fi

# A stale pid file (dead or zombie process) blocks a new dockerd: remove it.
pidfile="/var/run/docker.pid"
if [[ "$socket" != "/var/run/docker.sock" ]]; then
  pidfile="$(dirname "$socket")/tandem-dockerd.pid"
fi
if [[ -f "$pidfile" ]]; then
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  state=""
  if [[ -n "$pid" && -r "/proc/$pid/stat" ]]; then
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  fi
  if [[ -z "$state" || "$state" == "Z" ]]; then
    as_root rm -f "$pidfile"
  fi
fi

if [[ ! -f "$pidfile" ]]; then
  as_root mkdir -p "$(dirname "$log")"
  echo "start-engine: starting dockerd (log: $log)" >&2
  args=(--host "unix://$socket" --pidfile "$pidfile")
  as_root setsid dockerd "${args[@]}" </dev/null >>"$log" 2>&1 &
fi

deadline=$((SECONDS + wait_seconds))
while (( SECONDS < deadline )); do
  if ping; then
    echo "start-engine: engine answers on $socket" >&2
    exit 0
  fi
  sleep 0.2
done

echo "start-engine: the engine did not answer /_ping on $socket within ${wait_seconds}s; see its log: $log" >&2
tail -n 20 "$log" >&2 2>/dev/null || true
exit 1
