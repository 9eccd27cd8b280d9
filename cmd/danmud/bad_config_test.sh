#!/usr/bin/env bash
# danmud refuses a bad config: non-zero exit, a message naming the key.
set -uo pipefail
DANMUD=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
check() {  # check NAME KEY YAML
  printf '%s' "$3" >"$dir/c.yaml"
  out=$(timeout 10 "$DANMUD" --config "$dir/c.yaml" 2>&1); rc=$?
  if [[ $rc -ne 0 && $rc -ne 124 && $out == *"'$2'"* ]]; then
    pass=$((pass + 1))
  else
    echo "FAIL $1: rc=$rc output: $out"; fail=$((fail + 1))
  fi
}
ok='http: {public_port: 1, admin_port: 2}
redis: {address: "127.0.0.1:1"}
kafka: {brokers: "127.0.0.1:1"}'
check unknown-role role "room: A
role: leader
$ok"
check missing-port http.public_port "room: A
role: primary
http: {admin_port: 2}
redis: {address: '127.0.0.1:1'}
kafka: {brokers: b}"
check wrong-type http.admin_port "room: A
role: primary
http: {public_port: 1, admin_port: [2]}
redis: {address: '127.0.0.1:1'}
kafka: {brokers: b}"
check typo-key processor.wrokers "room: A
role: primary
$ok
processor: {wrokers: 2}"
check too-many-workers processor.workers "room: A
role: primary
$ok
processor: {workers: 65}"
out=$("$DANMUD" --config "$dir/missing.yaml" 2>&1); rc=$?
if [[ $rc -ne 0 && $out == *"cannot read config file"* ]]; then pass=$((pass + 1)); else echo "FAIL missing-file: $out"; fail=$((fail + 1)); fi
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
