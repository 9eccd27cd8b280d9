#!/usr/bin/env bash
# Tests of the Ansible tree (ansible/): lint, syntax, a real two-room converge
# on this machine (with the three-member etcd of the primary lease: room A,
# room B, the witness site), idempotence, a planned failover (failover.yml)
# and a planned drill back (drill.yml), each moving the lease, the loss of the
# witness's etcd member, degradation (degrade.yml), the routing rollout
# (route.yml: both routers list both frontends, 5 %, 101 % refused, 0 %), teardown.
#
#   ansible/tests/ansible_test.sh
#
# Environment:
#   ANSIBLE_TEST_PORT_BASE  first port of the local port plan (default 23000;
#                           see ansible/inventories/local/group_vars/all/main.yml)
#   ANSIBLE_TEST_PREFIX     throwaway directory of the deployment
#                           (default /tmp/danmu-ansible-test-$$, removed at the end)
#   ANSIBLE_TEST_KEEP=1     keep the prefix (and stop nothing) when a step failed
#   ANSIBLE_TEST_DEADLINE   seconds after which the test stops itself as if
#                           terminated, tearing down (default 900: below the
#                           ctest TIMEOUT of 1020, whose kill would leave services)
#   ANSIBLE_TEST_CONVERGE_TIMEOUT  seconds each converge of site.yml may take
#                           (default 600)
#   DANMU_BUILD_DIR         where danmud and danmuctl are built (default build/);
#                           copied once into the prefix at the start, so that a
#                           rebuild during the run changes nothing the test deploys
#
# The port plan must lie outside the ephemeral port range (ip_local_port_range,
# 32768..60999 on Debian): there, any outgoing connection of this machine (or
# its TIME_WAIT, 60 s after it closed) can hold a port of the plan, and the
# service that must listen on it fails to bind (EADDRINUSE, SO_REUSEADDR or not).
#
# Every service the converge starts runs under the danmu-service supervisor
# with a pid file in the prefix; teardown stops exactly those, bounded, also
# after a failure or an interrupt (INT/TERM end the running step at once), and
# then checks that no process of the prefix is left.
# The last line is "N passed, M failed"; the exit status is non-zero on failure.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# scripts/test exports the addresses of its own stack (DANMU_A_ADMIN, REDIS_A,
# ...): none of them may leak into the deployment under test, or a tool run by
# a playbook could act on that stack instead. Keep only the build dir.
for v in $(compgen -v | grep -E '^(DANMU_|REDIS_|KAFKA_|MYSQL_|PROMETHEUS_)' | grep -vx 'DANMU_BUILD_DIR'); do
  unset "$v"
done
BASE=${ANSIBLE_TEST_PORT_BASE:-23000}
PREFIX=${ANSIBLE_TEST_PREFIX:-/tmp/danmu-ansible-test-$$}
BUILD_SRC=${DANMU_BUILD_DIR:-$ROOT/build}
BUILD=$PREFIX/build
KEEP=${ANSIBLE_TEST_KEEP:-0}
DEADLINE=${ANSIBLE_TEST_DEADLINE:-900}
CONVERGE_TIMEOUT=${ANSIBLE_TEST_CONVERGE_TIMEOUT:-600}
LOGS=$PREFIX/test-logs
export ANSIBLE_CONFIG=$ROOT/ansible/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_LOCAL_TEMP=$PREFIX/ansible-tmp ANSIBLE_REMOTE_TEMP=$PREFIX/ansible-tmp
export PY_COLORS=0 NO_COLOR=1
cd "$ROOT/ansible" || exit 1

passed=0 failed=0 t0=$SECONDS
log() { printf '%s ansible_test: %s\n' "$(date +%H:%M:%S)" "$*"; }
pass() { passed=$((passed + 1)); log "PASS $1 ($(($SECONDS - step_t0))s)"; }
fail() { failed=$((failed + 1)); log "FAIL $1 ($(($SECONDS - step_t0))s)"; }
step() { step_t0=$SECONDS; }

# run OUT CMD...: CMD in the background, its output into the file OUT, waited
# for. Bash runs a trap only between foreground commands: run in the
# foreground, an INT or TERM during a converge would wait for the converge to
# end. (The redirection is CMD's alone: the trap's own output must not go to
# OUT.) Standard input stays the caller's.
run() {
  local out=$1 rc; shift
  "$@" <&0 >"$out" 2>&1 &
  wait $!; rc=$?
  return $rc
}

# check NAME CMD...: one test; output of CMD goes to the logs, shown on failure.
check() {
  local name=$1 out; shift
  step
  out=$LOGS/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').log
  if run "$out" "$@"; then pass "$name"; return 0; fi
  fail "$name"
  tail -n 60 "$out" | sed 's/^/    | /'
  return 1
}

# wait_until SECONDS CMD...: polls CMD until it succeeds; false after SECONDS.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# Ports of the plan (offsets as in the local inventory).
ports() { for o in 0 1 2 3 10 11 12 13 20 21 22 23 30 31 40 41 50 51 52 53 54 55; do echo $((BASE + o)); done; }
# all_ports_free: every port of the plan can be bound now, as the services
# will (SO_REUSEADDR). A connect probe is not enough: an outgoing connection
# that holds the port (or its TIME_WAIT) refuses nothing yet fails the bind.
all_ports_free() {
  python3 - $(ports) <<'PY'
import socket, sys
busy = []
for port in map(int, sys.argv[1:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('127.0.0.1', port))
    except OSError as e:
        busy.append(f'{port} ({e.strerror})')
    finally:
        s.close()
print('ports that cannot be bound:', ', '.join(busy) if busy else 'none')
sys.exit(1 if busy else 0)
PY
}

# playbook SECONDS PLAYBOOK ARGS...: ansible-playbook on the local inventory, bounded.
playbook() {
  local secs=$1; shift
  timeout "$secs" ansible-playbook -i inventories/local \
    -e "danmu_local_prefix=$PREFIX" -e "danmu_local_port_base=$BASE" -e "danmu_build_dir=$BUILD" "$@"
}
export PREFIX BASE BUILD

A=$PREFIX/room-a.local B=$PREFIX/room-b.local C=$PREFIX/control.local
secret() { cat "$PREFIX/secrets/$1"; }
rcli() { REDISCLI_AUTH=$(secret redis.password) redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
sql() { mariadb --no-defaults --socket="$1/var/lib/danmu/mariadb/mysqld.sock" -uroot -N -B -e "$2"; }
slave_status() { mariadb --no-defaults --socket="$1/var/lib/danmu/mariadb/mysqld.sock" -uroot --vertical -e 'SHOW SLAVE STATUS'; }
status_of() { curl -fsS --max-time 3 "http://127.0.0.1:$1/v1/admin/status"; }
role_of() { status_of "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["role"])'; }
# lease_of ADMIN_PORT: "ROLE held|not-held valid|not-valid" of that danmud's primary lease.
lease_of() {
  status_of "$1" | python3 -c 'import json,sys; s=json.load(sys.stdin); l=s.get("lease") or {}
print(s["role"], "held" if l.get("held") else "not-held", "valid" if l.get("valid") else "not-valid")'
}
# etcd of the lease: members' client ports, /health, and the leader key's room.
etcd_ports() { echo $((BASE + 50)) $((BASE + 52)) $((BASE + 54)); }
etcd_healthy() { curl -fsS --max-time 3 "http://127.0.0.1:$1/health" | grep -q '"health":"true"'; }
leader_room() {
  ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:$((BASE + 50)),http://127.0.0.1:$((BASE + 52)),http://127.0.0.1:$((BASE + 54))" \
    --command-timeout=3s get /danmu/leader --print-value-only | python3 -c 'import json,sys; print(json.load(sys.stdin)["room"])'
}
# lease_moved_to PRIMARY_ADMIN SECONDARY_ADMIN ROOM: the key names ROOM, whose
# danmud holds a valid lease, and the other room's danmud holds none.
lease_moved_to() {
  [[ $(leader_room) == "$3" && $(lease_of "$1") == 'primary held valid' && $(lease_of "$2") == 'secondary not-held not-valid' ]]
}

# Stops every supervised service of the prefix, danmud first, by pid file.
teardown() {
  local svc pidf pid name
  [[ -d $PREFIX ]] || return 0
  # etcd last: a danmud that loses it refuses writes (the lease).
  for pattern in 'danmud-*' 'danmu-prometheus' 'danmu-kafka' 'danmu-redis-*' 'danmu-mariadb' 'danmu-etcd'; do
    for svc in "$PREFIX"/*/etc/danmu/services/$pattern.env; do
      [[ -f $svc ]] || continue
      name=$(basename "$svc" .env)
      timeout 150 "$(dirname "$svc")/../../../usr/local/bin/danmu-service" stop "$name" >/dev/null 2>&1 ||
        log "teardown: could not stop $name cleanly"
    done
  done
  # Whatever is left (a failed stop): SIGKILL by pid file, only processes of
  # this prefix (their command line names it).
  for pidf in "$PREFIX"/*/run/danmu/*.pid "$PREFIX"/*/run/danmu/*.pid.child; do
    [[ -f $pidf ]] || continue
    pid=$(cat "$pidf" 2>/dev/null) || continue
    if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$PREFIX"; then
      kill -KILL "$pid" 2>/dev/null && log "teardown: SIGKILL $(basename "$pidf") pid $pid"
    fi
  done
}

# Processes whose command line names the prefix (this run's services, their
# supervisors and helpers): "PID COMMAND" per line. The prefix is this run's
# own throwaway directory, so nothing else matches.
prefix_processes() {
  local d pid cmd
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    # 2>/dev/null first: a process gone since the glob fails the < redirection,
    # and a redirection's error goes to the stderr in effect at that moment.
    cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
    [[ $cmd == *"$PREFIX/"* ]] && echo "$pid ${cmd:0:160}"
  done
  return 0
}

# Ends what this script still runs (after an interrupt: timeout,
# ansible-playbook, its workers and modules), by pid: TERM, then KILL after
# 15 s. Services are not among them: each runs in its own session under its
# supervisor, and teardown stops those by pid file.
stop_children() {
  local pids left i
  pids=$(ps -e -o pid=,ppid= | awk -v root=$$ -v self="$BASHPID" '
    { parent[$1] = $2 }
    END {
      for (p in parent) {
        q = p
        while ((q in parent) && q != root && q != self && q > 1) q = parent[q]
        if (q == root && p != root && p != self) print p
      }
    }')
  [[ -n $pids ]] || return 0
  ((interrupted)) && log "stopping what the test still runs: pids $(echo $pids)"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for ((i = 0; i < 150; i++)); do
    left=
    for p in $pids; do [[ -e /proc/$p ]] && left+=" $p"; done
    [[ -z $left ]] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null
  wait 2>/dev/null
  return 0
}

dump_service_logs() {
  local f
  for f in "$PREFIX"/*/var/log/danmu/*.log; do
    [[ -f $f ]] || continue
    echo "---- ${f#"$PREFIX"/} (last 15 lines)"
    tail -n 15 "$f"
  done
}

finish() {
  local rc=$? left pid
  # Teardown is bounded and must not be cut short. (A handler, not an ignored
  # signal: children would inherit that and ignore timeout's TERM.)
  trap 'log "tearing down; wait"' INT TERM
  stop_children
  if ((failed > 0 && !interrupted)) && [[ $KEEP == 1 ]]; then
    log "keeping $PREFIX (ANSIBLE_TEST_KEEP=1); stop it with: $0's teardown or danmu-service stop"
  else
    step
    teardown
    # A supervisor whose start was interrupted before it wrote its pid file,
    # or a service that outlived a failed stop: nothing of the prefix may stay.
    left=$(prefix_processes)
    if [[ -n $left ]]; then
      fail "teardown leaves no process of the prefix"
      echo "$left" | sed 's/^/    | /'
      for pid in $(echo "$left" | cut -d' ' -f1); do kill -KILL "$pid" 2>/dev/null; done
    fi
    rm -rf "$PREFIX"
    if [[ -e $PREFIX ]]; then fail "teardown removes the prefix"; else log "teardown done ($(($SECONDS - step_t0))s)"; fi
  fi
  log "total $((SECONDS - t0))s"
  echo "$passed passed, $failed failed"
  if ((failed > 0)); then exit 1; fi
  exit "$rc"
}
interrupted=0
trap finish EXIT
trap 'interrupted=1; log "interrupted"; exit 130' INT
trap 'interrupted=1; log "terminated"; exit 143' TERM
# The watchdog: a TERM to this script when the deadline passed (stop_children
# ends it with the rest when the test finishes first).
(sleep "$DEADLINE" && log "deadline of ${DEADLINE}s passed" && kill -TERM $$) </dev/null &

mkdir -p "$LOGS" "$PREFIX/ansible-tmp"
log "prefix $PREFIX, port base $BASE, build $BUILD_SRC"
if read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && ((BASE + 55 >= eph_lo && BASE <= eph_hi)); then
  log "WARNING: ports $BASE..$((BASE + 55)) lie in the ephemeral range $eph_lo..$eph_hi: any outgoing connection" \
      "(or its TIME_WAIT) may hold one when a service binds it; choose ANSIBLE_TEST_PORT_BASE below $((eph_lo - 55))"
fi

# The two binaries deployed, copied once (see DANMU_BUILD_DIR above).
snapshot_build() {
  local b
  for b in danmud danmuctl; do
    test -x "$BUILD_SRC/cmd/$b/$b" || { echo "$BUILD_SRC/cmd/$b/$b is missing"; return 1; }
    mkdir -p "$BUILD/cmd/$b" && cp "$BUILD_SRC/cmd/$b/$b" "$BUILD/cmd/$b/$b" || return 1
    # Written while it was copied (a rebuild linking it): not a usable binary.
    cmp "$BUILD_SRC/cmd/$b/$b" "$BUILD/cmd/$b/$b" || { echo "$b changed while it was copied"; return 1; }
  done
}

# --- 0. what the converge needs -------------------------------------------
prerequisites() {
  set -x
  command -v ansible-playbook && command -v ansible-lint && command -v python3 &&
    snapshot_build && test -f "$ROOT/third_party/kafka/libs/.complete" && all_ports_free
}
check "prerequisites: ansible, the build, the Kafka jars, free ports" prerequisites || exit 1

# --- 1. lint ----------------------------------------------------------------
check "ansible-lint (production profile) of ansible/" ansible-lint

# --- 2. syntax ----------------------------------------------------------------
for inv in local example; do
  check "syntax-check of every playbook ($inv inventory)" ansible-playbook --syntax-check -i "inventories/$inv" playbooks/*.yml
done

# --- 3. converge ---------------------------------------------------------------
if ! check "converge site.yml on the local inventory" playbook "$CONVERGE_TIMEOUT" playbooks/site.yml; then
  log "what failed:"
  grep -hE '^(fatal|failed):' "$LOGS"/converge_site.yml_on_the_local_inventory*.log | cut -c1-900 | sed 's/^/    | /'
  dump_service_logs | sed 's/^/    | /'
  exit 1
fi

check "Redis live A is a master and answers with the password" bash -xc "
  $(declare -f secret rcli); PREFIX=$PREFIX
  rcli $((BASE + 10)) ping | grep -qx PONG && rcli $((BASE + 10)) info replication | grep -q '^role:master'"
check "Redis without the password is refused" bash -xc "
  redis-cli -h 127.0.0.1 -p $((BASE + 10)) ping 2>&1 | grep -q NOAUTH"
check "Redis live B replicates A (link up, a write on A reaches B)" bash -xc "
  $(declare -f secret rcli wait_until); PREFIX=$PREFIX
  rcli $((BASE + 11)) info replication | grep -q 'master_link_status:up' &&
  rcli $((BASE + 10)) set ansible-test-key $$ >/dev/null &&
  wait_until 10 bash -c '[[ \$(REDISCLI_AUTH=\$(cat $PREFIX/secrets/redis.password) redis-cli -p $((BASE + 11)) get ansible-test-key) == $$ ]]'"
check "Redis replay A and B answer" bash -xc "
  $(declare -f secret rcli); PREFIX=$PREFIX
  rcli $((BASE + 12)) ping | grep -qx PONG && rcli $((BASE + 13)) ping | grep -qx PONG"
check "Kafka A and B listen, with the topic" bash -xc "
  (exec 3<>/dev/tcp/127.0.0.1/$((BASE + 20))) && (exec 3<>/dev/tcp/127.0.0.1/$((BASE + 22))) &&
  test -f $A/var/lib/danmu/kafka/.topic-danmu.messages.partitions-6 && test -f $B/var/lib/danmu/kafka/.topic-danmu.messages.partitions-6"
check "MariaDB B replicates A (both threads, the migrated schema arrived)" bash -xc "
  $(declare -f sql slave_status wait_until)
  slave_status $B | grep -E 'Slave_(IO|SQL)_Running:|Last_(IO|SQL)_Error:' &&
  slave_status $B | grep -q 'Slave_IO_Running: Yes' && slave_status $B | grep -q 'Slave_SQL_Running: Yes' &&
  wait_until 20 bash -c '$(declare -f sql); [[ \$(sql $B \"SELECT COUNT(*) FROM danmu.schema_version\") == \$(sql $A \"SELECT COUNT(*) FROM danmu.schema_version\") ]]' &&
  [[ \$(sql $A 'SELECT COUNT(*) FROM danmu.schema_version') -ge 1 ]]"
check "etcd: the members of room A, room B and the witness are healthy, one cluster of three" bash -xc "
  $(declare -f etcd_healthy etcd_ports)
  for p in \$(etcd_ports); do etcd_healthy \$p || exit 1; done
  for p in \$(etcd_ports); do
    curl -fsS --max-time 3 -X POST -d '{}' http://127.0.0.1:\$p/v3/cluster/member/list
    echo
  done | python3 -c '
import json, sys
lists = [json.loads(l) for l in sys.stdin if l.strip()]
names = [sorted(m[\"name\"] for m in l[\"members\"]) for l in lists]
clusters = {l[\"header\"][\"cluster_id\"] for l in lists}
print(names, clusters)
assert len(lists) == 3 and clusters and len(clusters) == 1, \"not one cluster\"
assert all(n == [\"room-a.local\", \"room-b.local\", \"witness.local\"] for n in names), names
'"
check "danmud A is primary and B secondary, both healthy" bash -xc "
  $(declare -f status_of role_of)
  [[ \$(role_of $((BASE + 1))) == primary && \$(role_of $((BASE + 3))) == secondary ]] &&
  curl -fsS http://127.0.0.1:$((BASE + 1))/healthz && curl -fsS http://127.0.0.1:$((BASE + 3))/healthz"
check "danmud config: every key of config/room-a.yaml, secrets 0640 and right" python3 - "$ROOT" "$A" "$PREFIX" <<'PY'
import os, stat, sys, yaml
root, a, prefix = sys.argv[1:]
def keys(d, p=''):
    out = set()
    for k, v in d.items():
        out |= keys(v, p + k + '.') if isinstance(v, dict) else {p + k}
    return out
ref = keys(yaml.safe_load(open(f'{root}/config/room-a.yaml')))
cfg = yaml.safe_load(open(f'{a}/etc/danmu/danmud-a.yaml'))
got = keys(cfg)
missing = sorted(ref - got)
extra = sorted(got - ref - {'replay_redis.password', 'replay_redis.timeout_ms'})
assert not missing, f'the danmud role does not template {missing}'
assert not extra, f'the danmud role templates keys config/room-a.yaml does not have: {extra}'
assert cfg['redis']['password'] == open(f'{prefix}/secrets/redis.password').read().strip()
for f, secret in [(cfg['admin']['token_file'], 'admin.token'), (cfg['cursor']['secret_file'], 'cursor.secret')]:
    mode = stat.S_IMODE(os.stat(f).st_mode)
    assert mode == 0o640, f'{f} has mode {mode:o}'
    assert open(f).read().strip() == open(f'{prefix}/secrets/{secret}').read().strip(), f
print('ok', len(ref), 'keys')
PY
check "danmud config: etcd.endpoints lists the three members, the room's own first" python3 - "$A" "$B" "$BASE" <<'PY'
import sys, yaml
a, b, base = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = lambda o: f'http://127.0.0.1:{base + o}'
for path, want in [(f'{a}/etc/danmu/danmud-a.yaml', [50, 52, 54]), (f'{b}/etc/danmu/danmud-b.yaml', [52, 50, 54])]:
    got = yaml.safe_load(open(path))['etcd']['endpoints']
    print(path, got)
    assert got == ','.join(url(o) for o in want), f'{path}: etcd.endpoints {got!r}'
PY
check "danmud A holds the primary lease (key room A, lease held and valid), B holds none" bash -xc "
  $(declare -f status_of lease_of leader_room lease_moved_to wait_until); BASE=$BASE
  wait_until 30 lease_moved_to $((BASE + 1)) $((BASE + 3)) A || { lease_of $((BASE + 1)); lease_of $((BASE + 3)); leader_room; exit 1; }"
check "admin actions need the token (401 without it)" bash -xc "
  code=\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' http://127.0.0.1:$((BASE + 1))/v1/admin/freeze)
  echo \"POST /v1/admin/freeze without a token: \$code\"; [[ \$code == 401 ]]"
check "Prometheus A scrapes danmud of both rooms with the rules loaded" bash -xc "
  $(declare -f wait_until)
  up() { curl -fsS 'http://127.0.0.1:$((BASE + 40))/api/v1/query?query=up%7Bjob%3D%22danmud%22%7D%3D%3D1' |
         python3 -c 'import json,sys; r=json.load(sys.stdin)[\"data\"][\"result\"]; sys.exit(0 if sorted(x[\"metric\"][\"room\"] for x in r)==[\"A\",\"B\"] else 1)'; }
  wait_until 30 up &&
  curl -fsS http://127.0.0.1:$((BASE + 40))/api/v1/rules | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"data\"][\"groups\"] else 1)'"
check "Grafana provisioning and dashboards in place" bash -xc "
  test -f $A/etc/grafana/provisioning/datasources/prometheus.yml &&
  grep -q 'path: $A/var/lib/grafana/dashboards/danmu' $A/etc/grafana/provisioning/dashboards/danmu.yml &&
  [[ \$(ls $A/var/lib/grafana/dashboards/danmu/*.json | wc -l) == \$(ls $ROOT/grafana/dashboards/*.json | wc -l) ]] &&
  grep -qx 'DANMU_PROMETHEUS_URL=http://127.0.0.1:$((BASE + 40))' $A/etc/default/grafana-server"
check "danmuctl on the control host sees both rooms" \
  "$C/usr/local/bin/danmuctl" --env "$C/etc/danmu/danmuctl/danmu.env" status

# --- 4. idempotence -----------------------------------------------------------
step
if run "$LOGS/converge2.log" playbook "$CONVERGE_TIMEOUT" playbooks/site.yml &&
   ! grep -E '^\S+\s+: ok=' "$LOGS/converge2.log" | grep -vq 'changed=0 '; then
  pass "second converge changes nothing"
else
  fail "second converge changes nothing"
  grep -E '^(TASK|changed|fatal)|: ok=' "$LOGS/converge2.log" | grep -B1 -E '^(changed|fatal)|: ok=' | sed 's/^/    | /' | tail -n 40
fi

# --- 5. failover there, drill back --------------------------------------------------
check "failover.yml (planned): B becomes primary, A secondary" bash -xc "
  $(declare -f playbook status_of role_of)
  playbook 120 playbooks/failover.yml &&
  [[ \$(role_of $((BASE + 3))) == primary && \$(role_of $((BASE + 1))) == secondary ]]"
check "the switchover moved the lease: key room B, B holds a valid lease, A none" bash -xc "
  $(declare -f status_of lease_of leader_room lease_moved_to wait_until); BASE=$BASE
  wait_until 20 lease_moved_to $((BASE + 3)) $((BASE + 1)) B || { lease_of $((BASE + 1)); lease_of $((BASE + 3)); leader_room; exit 1; }"
check "site.yml refuses to deploy while the inventory names the old primary" bash -xc "
  $(declare -f playbook)
  ! playbook 120 playbooks/site.yml --tags preflight-only > $LOGS/refuse.log 2>&1 &&
  grep -q 'run as primary but the inventory says danmu_primary_room: A' $LOGS/refuse.log"
check "drill.yml (planned drill back to A): report saved, RPO 0, A primary again" bash -xc "
  $(declare -f playbook status_of role_of)
  playbook 180 playbooks/drill.yml -e '{\"danmu_drill_args\": [\"--warmup-ms\", \"2000\", \"--after-ms\", \"2000\"]}' &&
  report=\$(ls $C/etc/danmu/danmuctl/reports/drill-planned-*.json) &&
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r[\"rto_ms\"], r[\"rpo_messages\"]); sys.exit(0 if r[\"ok\"] and r[\"rpo_messages\"] == 0 and r[\"new_primary\"] == \"A\" else 1)' \$report &&
  [[ \$(role_of $((BASE + 1))) == primary && \$(role_of $((BASE + 3))) == secondary ]]"

check "the drill moved the lease back: key room A, A holds a valid lease, B none" bash -xc "
  $(declare -f status_of lease_of leader_room lease_moved_to wait_until); BASE=$BASE
  wait_until 20 lease_moved_to $((BASE + 1)) $((BASE + 3)) A || { lease_of $((BASE + 1)); lease_of $((BASE + 3)); leader_room; exit 1; }"

# --- 6. the witness site lost (one etcd member of three) ------------------------
# Nothing changes: the members of room A and room B keep the quorum. The
# lease is sampled over longer than its TTL (5 s): it stays valid only if
# renewals go on without the witness.
check "witness etcd member stopped: A keeps a valid lease past one TTL, a write gets 202" bash -xc "
  $(declare -f status_of lease_of); BASE=$BASE
  $PREFIX/witness.local/usr/local/bin/danmu-service stop danmu-etcd || exit 1
  end=\$((SECONDS + 8))
  while ((SECONDS < end)); do
    l=\$(lease_of $((BASE + 1))); [[ \$l == 'primary held valid' ]] || { echo \"lease: \$l\"; exit 1; }
    sleep 0.5
  done
  code=\$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'Content-Type: application/json' \
    -d '{\"type\":\"comment\",\"uid\":\"ansible-test\",\"text\":\"witness down\"}' http://127.0.0.1:$((BASE + 0))/v1/rooms/ansibletest/messages)
  echo \"write with the witness down: \$code\"; [[ \$code == 202 ]]"
check "witness etcd member restarted: healthy again, in the cluster" bash -xc "
  $(declare -f etcd_healthy wait_until)
  $PREFIX/witness.local/usr/local/bin/danmu-service start danmu-etcd &&
  wait_until 30 etcd_healthy $((BASE + 54))"

# --- 7. degradation (once danmud has the endpoint) ------------------------------
degrade_code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((BASE + 1))/v1/admin/degrade")
if [[ $degrade_code != 200 ]]; then
  log "SKIP degrade.yml: GET /v1/admin/degrade answered $degrade_code"
else
  check "degrade.yml sets level 1 fleet-wide for 10m" bash -xc "
    $(declare -f playbook)
    playbook 60 playbooks/degrade.yml -e danmu_degrade_level=1 -e danmu_degrade_for=10m -e danmu_degrade_reason=ansible-test"
  check "degrade.yml level 0 clears it" bash -xc "
    $(declare -f playbook)
    playbook 60 playbooks/degrade.yml -e danmu_degrade_level=0"
fi

# --- 8. routing rollout (route.yml, through /v1/admin/route) ---------------------
# The rule set and the edges each room's router serves (GET /v1/admin/route).
route_percent_of() {
  curl -fsS --max-time 3 "http://127.0.0.1:$1/v1/admin/route" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["rules"]["percent"])'
}
route_edges_of() {
  curl -fsS --max-time 3 "http://127.0.0.1:$1/v1/admin/route" |
    python3 -c 'import json,sys; print(",".join(sorted(e["room"] for e in json.load(sys.stdin)["edges"])))'
}
route_both_list_both() { [[ $(route_edges_of $((BASE + 1))) == A,B && $(route_edges_of $((BASE + 3))) == A,B ]]; }
route_both_at() { [[ $(route_percent_of $((BASE + 1))) == "$1" && $(route_percent_of $((BASE + 3))) == "$1" ]]; }
check "both frontends registered in discovery (etcd), listed by both routers" bash -xc "
  $(declare -f route_edges_of route_both_list_both wait_until)
  wait_until 30 route_both_list_both || { route_edges_of $((BASE + 1)); route_edges_of $((BASE + 3)); exit 1; }"
check "route.yml sets the rollout to 5 %: both rooms' routers serve it" bash -xc "
  $(declare -f playbook route_percent_of route_both_at)
  playbook 60 playbooks/route.yml -e danmu_route_percent=5 && route_both_at 5"
check "route.yml refuses 101 % before changing anything" bash -xc "
  $(declare -f playbook route_percent_of route_both_at)
  ! playbook 60 playbooks/route.yml -e danmu_route_percent=101 && route_both_at 5"
check "route.yml back to 0 %" bash -xc "
  $(declare -f playbook route_percent_of route_both_at)
  playbook 60 playbooks/route.yml -e danmu_route_percent=0 && route_both_at 0"
