#!/usr/bin/env bash
# Start/stop the real services lc's integration tests use: a Docker engine, a
# Kafka wire-protocol broker (librdkafka's mock cluster via kcat) and Redis.
#
#   bash scripts/services.sh start    install what is missing, start, write .lc-services.env
#   bash scripts/services.sh stop     stop only what `start` started
#   bash scripts/services.sh env      print the env file
#   bash scripts/services.sh restart-dockerd   restart the engine we started (fault tests)
#   bash scripts/services.sh restart-kafka     new broker (new port), env file updated
#
# Everything listens on 127.0.0.1 only. Containers run with --network none.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${LC_SERVICES_DIR:-$ROOT/.lc-services}"
ENV_FILE="$ROOT/.lc-services.env"
REDIS_PORT="${LC_REDIS_PORT:-6399}"
TEST_IMAGE="lc-test/busybox"
mkdir -p "$STATE"

log() { printf '[services] %s\n' "$*" >&2; }

need_root_apt() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v kcat >/dev/null 2>&1 || missing+=(kcat)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} with apt"
    if [ "$(id -u)" != 0 ]; then log "not root: cannot install ${missing[*]}"; return 1; fi
    if [ ! -f "$STATE/apt-updated" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
      touch "$STATE/apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
  # busybox-static is the one we want for `docker import` (static binary).
  if ! file /bin/busybox 2>/dev/null | grep -q 'statically linked' && ! ldd /bin/busybox 2>&1 | grep -q 'not a dynamic'; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null || true
  fi
}

docker_ok() { timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Services run in their own session (setsid): a restart from inside a test
# must not leave the engine in the test runner's process group, where the
# runner's exit would take it down for every later test.
start_dockerd() {
  if docker_ok; then log "docker engine already answers"; return 0; fi
  log "starting dockerd"
  mkdir -p /var/lib/docker
  setsid nohup dockerd --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    --host=unix:///var/run/docker.sock --pidfile="$STATE/dockerd.pid" \
    >"$STATE/dockerd.log" 2>&1 </dev/null &
  echo $! >"$STATE/dockerd.started"
  for _ in $(seq 1 60); do docker_ok && break; sleep 0.5; done
  docker_ok || { log "dockerd did not come up; see $STATE/dockerd.log"; tail -20 "$STATE/dockerd.log" >&2; return 1; }
}

build_image() {
  if docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then return 0; fi
  log "building $TEST_IMAGE with docker import"
  local dir; dir="$(mktemp -d)"
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  for app in sh echo cat sleep seq yes head printf date true false ls wc dd tr awk sed; do
    ln -sf busybox "$dir/bin/$app"
  done
  echo 'root:x:0:0:root:/:/bin/sh' >"$dir/etc/passwd"
  tar -C "$dir" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$TEST_IMAGE" >/dev/null
  rm -rf "$dir"
}

start_kafka() {
  if [ -f "$STATE/kafka.pid" ] && kill -0 "$(cat "$STATE/kafka.pid")" 2>/dev/null && [ -s "$STATE/kafka.addr" ]; then
    log "kafka mock already running at $(cat "$STATE/kafka.addr")"; return 0
  fi
  log "starting kafka mock broker (kcat + librdkafka mock cluster)"
  rm -f "$STATE/kafka.addr" "$STATE/kafka.err"
  # A fifo holds kcat's stdin open without a writer process of our own.
  rm -f "$STATE/kafka.stdin"; mkfifo "$STATE/kafka.stdin"
  setsid nohup kcat -P -b 127.0.0.1:1 -t lc -X test.mock.num.brokers=1 \
    <"$STATE/kafka.stdin" >"$STATE/kafka.out" 2>"$STATE/kafka.err" &
  echo $! >"$STATE/kafka.pid"
  # Open the fifo for writing and keep it open in a sleeper we also track.
  setsid nohup sleep infinity >"$STATE/kafka.stdin" 2>/dev/null &
  echo $! >"$STATE/kafka-stdin.pid"
  for _ in $(seq 1 50); do
    if grep -o 'bootstrap.servers=127.0.0.1:[0-9]*' "$STATE/kafka.err" >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  local addr; addr="$(grep -o '127.0.0.1:[0-9]*' "$STATE/kafka.err" | head -1 || true)"
  [ -n "$addr" ] || { log "kafka mock did not report its address"; cat "$STATE/kafka.err" >&2; return 1; }
  echo "$addr" >"$STATE/kafka.addr"
}

start_redis() {
  if redis-cli -p "$REDIS_PORT" -h 127.0.0.1 ping >/dev/null 2>&1; then log "redis already answers on $REDIS_PORT"; return 0; fi
  log "starting redis-server on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
  touch "$STATE/redis.started"
}

write_env() {
  {
    echo "LC_DOCKER_SOCKET=/var/run/docker.sock"
    echo "LC_DOCKER_TEST_IMAGE=$TEST_IMAGE"
    echo "LC_KAFKA_BROKERS=$(cat "$STATE/kafka.addr")"
    echo "LC_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    echo "LC_SERVICES_SCRIPT=$ROOT/scripts/services.sh"
  } >"$ENV_FILE"
  log "wrote $ENV_FILE"; cat "$ENV_FILE" >&2
}

kill_pidfile() {
  local f="$1"
  [ -f "$f" ] || return 0
  local pid; pid="$(cat "$f")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  rm -f "$f"
}

stop_kafka() { kill_pidfile "$STATE/kafka.pid"; kill_pidfile "$STATE/kafka-stdin.pid"; rm -f "$STATE/kafka.addr" "$STATE/kafka.stdin"; }

stop_dockerd() {
  [ -f "$STATE/dockerd.started" ] || return 0
  # Remove containers our tests left behind (labelled), then stop the engine we started.
  docker ps -aq --filter label=lc-test >/dev/null 2>&1 && docker rm -f $(docker ps -aq --filter label=lc-test) >/dev/null 2>&1 || true
  local pid; pid="$(cat "$STATE/dockerd.started")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$STATE/dockerd.started"
  # dockerd leaves containerd behind when killed hard.
  pkill -f 'containerd --config /var/run/docker/containerd' 2>/dev/null || true
}

case "${1:-}" in
  start)
    need_root_apt
    start_dockerd
    build_image
    start_kafka
    start_redis
    write_env
    ;;
  stop)
    stop_kafka
    if [ -f "$STATE/redis.started" ]; then kill_pidfile "$STATE/redis.pid"; rm -f "$STATE/redis.started"; fi
    stop_dockerd
    rm -f "$ENV_FILE"
    log "stopped"
    ;;
  env) cat "$ENV_FILE" ;;
  restart-dockerd)
    [ -f "$STATE/dockerd.started" ] || { log "dockerd was not started by this script"; exit 1; }
    pid="$(cat "$STATE/dockerd.started")"; kill "$pid"; for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$STATE/dockerd.started"; start_dockerd ;;
  restart-kafka) stop_kafka; start_kafka; write_env ;;
  *) echo "usage: $0 start|stop|env|restart-dockerd|restart-kafka" >&2; exit 2 ;;
esac
