#!/usr/bin/env bash
# A 2-shard x 2-replica ClickHouse cluster and one ZooKeeper, on loopback, from Debian's
# packages (installed when missing). State lives in $COACHBOARD_CLUSTER_DIR (default
# .cluster/ in the clone); nothing is installed as a service.
#   scripts/cluster.sh up        start (idempotent); prints the --store URL
#   scripts/cluster.sh down      stop everything it started
#   scripts/cluster.sh url       print the --store URL
#   scripts/cluster.sh kill N    kill -9 server N (1-4): shard (N+1)/2, replica 2-N%2
#   scripts/cluster.sh start N   start server N again
#   scripts/cluster.sh drop PREFIX  drop the databases named PREFIX… on every server
set -euo pipefail
cd "$(dirname "$0")/.."

DIR="${COACHBOARD_CLUSTER_DIR:-$PWD/.cluster}"
CLUSTER=coachboard
ZK_PORT=${COACHBOARD_ZK_PORT:-21810}
# Server N listens on HTTP 1812N, native TCP 1900N, interserver 1901N.
http_port() { echo $((18120 + $1)); }
tcp_port() { echo $((19000 + $1)); }
interserver_port() { echo $((19010 + $1)); }
SERVERS=(1 2 3 4)
WRITER_PASSWORD=${COACHBOARD_CLICKHOUSE_PASSWORD:-coachboard-writer}
READER_PASSWORD=${COACHBOARD_CLICKHOUSE_READER_PASSWORD:-coachboard-reader}

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_packages() {
  if command -v clickhouse-server >/dev/null && [ -f /usr/share/java/zookeeper.jar ]; then
    return
  fi
  step "installing ClickHouse and ZooKeeper from Debian"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    clickhouse-server clickhouse-client zookeeper >/dev/null
}

# Server 1 first, the others to fall back on when it does not answer.
url() {
  echo "clickhouse://writer:$WRITER_PASSWORD@127.0.0.1:$(http_port 1)/coachboard?cluster=$CLUSTER&reader=reader&reader_password=$READER_PASSWORD&hosts=127.0.0.1:$(http_port 2),127.0.0.1:$(http_port 3),127.0.0.1:$(http_port 4)"
}

# A ZooKeeper four-letter command over bash's /dev/tcp (no netcat needed).
zk_command() {
  exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" || return 1
  printf '%s' "$1" >&3
  timeout 2 cat <&3
  exec 3<&-
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_zookeeper_config() {
  mkdir -p "$DIR/zookeeper/data"
  cat >"$DIR/zookeeper/zoo.cfg" <<EOF
tickTime=500
initLimit=10
syncLimit=5
dataDir=$DIR/zookeeper/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,mntr,stat
EOF
  cp /etc/zookeeper/conf/log4j.properties "$DIR/zookeeper/" 2>/dev/null || true
}

start_zookeeper() {
  alive "$DIR/zookeeper/pid" && return
  write_zookeeper_config
  step "starting ZooKeeper on 127.0.0.1:$ZK_PORT"
  java -Xmx256m -Dzookeeper.log.dir="$DIR/zookeeper" -Dzookeeper.root.logger=WARN,CONSOLE \
    -cp "$DIR/zookeeper:/usr/share/java/zookeeper.jar" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$DIR/zookeeper/zoo.cfg" \
    >"$DIR/zookeeper/out.log" 2>&1 &
  echo $! >"$DIR/zookeeper/pid"
  # It answers ruok before it accepts sessions; a replicated server started then exits.
  for _ in $(seq 1 100); do
    if zk_command srvr 2>/dev/null | grep -q '^Mode:'; then return; fi
    sleep 0.2
  done
  echo "ZooKeeper did not start; see $DIR/zookeeper/out.log" >&2
  exit 1
}

remote_servers() {
  local shard replica n
  echo "<remote_servers><$CLUSTER>"
  for shard in 1 2; do
    echo "<shard><internal_replication>true</internal_replication>"
    for replica in 1 2; do
      n=$(((shard - 1) * 2 + replica))
      echo "<replica><host>127.0.0.1</host><port>$(tcp_port "$n")</port></replica>"
    done
    echo "</shard>"
  done
  echo "</$CLUSTER></remote_servers>"
}

sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

write_server_config() {
  local n=$1 shard=$((($1 + 1) / 2)) replica=$((($1 - 1) % 2 + 1)) root="$DIR/ch$1"
  mkdir -p "$root/data" "$root/tmp" "$root/user_files" "$root/log"
  cat >"$root/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$root/log/server.log</log><errorlog>$root/log/error.log</errorlog><size>50M</size><count>2</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$(http_port "$n")</http_port>
  <tcp_port>$(tcp_port "$n")</tcp_port>
  <interserver_http_port>$(interserver_port "$n")</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>$root/data/</path>
  <tmp_path>$root/tmp/</tmp_path>
  <user_files_path>$root/user_files/</user_files_path>
  <users_config>$root/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  $(remote_servers)
  <zookeeper><node><host>127.0.0.1</host><port>$ZK_PORT</port></node><session_timeout_ms>3000</session_timeout_ms></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <macros><shard>$shard</shard><replica>r$replica</replica></macros>
</yandex>
EOF
  # default: the servers' own traffic (Distributed, ON CLUSTER) on loopback only.
  # writer: creates the schema and inserts. reader: readonly=1 on every query.
  # A replica more than 2 s behind (one just restarted) is passed over by distributed reads.
  cat >"$root/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>4000000000</max_memory_usage><load_balancing>in_order</load_balancing><max_replica_delay_for_distributed_queries>2</max_replica_delay_for_distributed_queries></default>
    <reader><readonly>1</readonly><max_memory_usage>4000000000</max_memory_usage><load_balancing>in_order</load_balancing><max_replica_delay_for_distributed_queries>2</max_replica_delay_for_distributed_queries></reader>
  </profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <writer><password_sha256_hex>$(sha256 "$WRITER_PASSWORD")</password_sha256_hex><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></writer>
    <reader><password_sha256_hex>$(sha256 "$READER_PASSWORD")</password_sha256_hex><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>reader</profile><quota>default</quota></reader>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
}

start_server() {
  local n=$1 root="$DIR/ch$1"
  alive "$root/pid" && return
  write_server_config "$n"
  clickhouse-server --config-file="$root/config.xml" >"$root/log/stdout.log" 2>&1 &
  echo $! >"$root/pid"
}

# A server loads every table before it listens: a few thousand tables (a test run's
# databases) take 10 s idle and several times that on a busy machine, hence 2 minutes.
wait_server() {
  local n=$1
  for _ in $(seq 1 600); do
    if curl -fsS "http://127.0.0.1:$(http_port "$n")/ping" >/dev/null 2>&1; then return; fi
    if ! alive "$DIR/ch$n/pid"; then break; fi
    sleep 0.2
  done
  echo "ClickHouse server $n did not start; see $DIR/ch$n/log/. Its last words:" >&2
  tail -n 15 "$DIR/ch$n/log/error.log" "$DIR/ch$n/log/stdout.log" >&2 2>/dev/null || true
  exit 1
}

# Drops, on every server at once, the databases whose names start with $1 (a test run's).
drop_databases() {
  local prefix=$1 n names
  names=$(curl -fsS "http://127.0.0.1:$(http_port 1)/" \
    --data-binary "SELECT name FROM system.databases WHERE startsWith(name, '$prefix')")
  for n in "${SERVERS[@]}"; do
    for name in $names; do
      curl -fsS "http://127.0.0.1:$(http_port "$n")/" --data-binary "DROP DATABASE IF EXISTS $name" >/dev/null
    done &
  done
  wait
}

stop_pid() {
  local file=$1
  if alive "$file"; then
    local pid
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

case "${1:-up}" in
  up)
    install_packages
    mkdir -p "$DIR"
    start_zookeeper
    step "starting 4 ClickHouse servers (2 shards x 2 replicas)"
    for n in "${SERVERS[@]}"; do start_server "$n"; done
    for n in "${SERVERS[@]}"; do wait_server "$n"; done
    url
    ;;
  down)
    for n in "${SERVERS[@]}"; do stop_pid "$DIR/ch$n/pid"; done
    stop_pid "$DIR/zookeeper/pid"
    ;;
  url) url ;;
  kill)
    pid=$(cat "$DIR/ch$2/pid")
    kill -9 "$pid"
    # Gone for good (its port and lock free) before anyone starts it again.
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    ;;
  start)
    # A server started while the killed one's socket or lock lingers exits at once: retry.
    for attempt in 1 2 3 4 5; do
      start_server "$2"
      sleep 0.5
      if alive "$DIR/ch$2/pid"; then break; fi
      rm -f "$DIR/ch$2/pid"
      sleep "$attempt"
    done
    wait_server "$2"
    ;;
  drop)
    [[ "${2:-}" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "drop needs a database name prefix" >&2; exit 2; }
    drop_databases "$2"
    ;;
  wipe)
    "$0" down
    rm -rf "$DIR"
    ;;
  *) echo "usage: $0 up|down|url|kill N|start N|drop PREFIX|wipe" >&2; exit 2 ;;
esac
