#!/usr/bin/env bash
# Checks the Prometheus rules of danmu-ha (monitoring/rules/*.yml):
#   1. promtool check rules, per rules file;
#   2. promtool test rules, per unit-test file (monitoring/rules_test/*.yml);
#   3. conventions, per alert: name Danmu<Thing><Condition>, a for:,
#      labels.severity page|ticket, annotations summary, description and
#      runbook_url = monitoring/RUNBOOK.md#<lowercased name> with that section
#      present, and its for: tested on both sides: some unit test expects it
#      firing, and some unit test expects it not firing at a time when it is
#      pending (ALERTS{alertstate="pending"}); recording rules named
#      level:metric:operation; no runbook section without its alert.
# Prints one line per check and, last, "N passed, M failed"; exits 1 on failure.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

passed=0
failed=0
report() {  # report NAME RC OUTPUT
  if [[ $2 == 0 ]]; then
    passed=$((passed + 1))
    echo "ok - $1"
  else
    failed=$((failed + 1))
    echo "FAIL - $1"
    printf '%s\n' "$3" | sed 's/^/    /'
  fi
}

if ! command -v promtool >/dev/null; then
  echo "FAIL - promtool not found (Debian package prometheus)"
  echo "0 passed, 1 failed"
  exit 1
fi

shopt -s nullglob
rule_files=(monitoring/rules/*.yml)
test_files=(monitoring/rules_test/*.yml)
((${#rule_files[@]})) || report "rule files present" 1 "no monitoring/rules/*.yml"
((${#test_files[@]})) || report "rule test files present" 1 "no monitoring/rules_test/*.yml"

for f in "${rule_files[@]}"; do
  out=$(promtool check rules "$f" 2>&1)
  report "promtool check rules $f" $? "$out"
done
for f in "${test_files[@]}"; do
  out=$(promtool test rules "$f" 2>&1)
  report "promtool test rules $f" $? "$out"
done

# Conventions: one "ok"/"FAIL" line per check on stdout; the counts go to
# the last line, which the shell adds to its own.
conv=$(python3 - "${rule_files[@]}" <<'PY'
import glob, os, re, sys
import yaml

RUNBOOK = "monitoring/RUNBOOK.md"
passed = failed = 0

def check(name, problems):
    global passed, failed
    if problems:
        failed += 1
        print(f"FAIL - {name}")
        for p in problems:
            print(f"    {p}")
    else:
        passed += 1
        print(f"ok - {name}")

def seconds(d):
    total = 0
    for n, unit in re.findall(r"(\d+)(ms|[smhdwy])", str(d)):
        total += int(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[unit]
    return total

def anchor(heading):  # GitHub-style anchor of a markdown heading
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

def labels_of(series):  # 'ALERTS{a="b", c="d"}' -> {"a": "b", "c": "d"}
    return dict(re.findall(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"', series))

try:
    headings = [l.lstrip("#").strip() for l in open(RUNBOOK, encoding="utf-8") if re.match(r"#{2,3} ", l)]
except OSError as e:
    headings = []
    check(f"{RUNBOOK} readable", [str(e)])
anchors = {anchor(h) for h in headings}

alerts, records = [], []
for path in sys.argv[1:]:
    for g in (yaml.safe_load(open(path)) or {}).get("groups", []):
        for r in g.get("rules", []):
            (alerts if "alert" in r else records).append((path, r))

# What the unit tests expect: firing variants (alertname + labels) per
# (file, group, time), and pending variants per (file, group, time).
firing, not_firing_at, pending_at = [], [], []
for path in sorted(glob.glob("monitoring/rules_test/*.yml")):
    doc = yaml.safe_load(open(path)) or {}
    for i, t in enumerate(doc.get("tests", [])):
        key = (path, i)
        for a in t.get("alert_rule_test", []) or []:
            when = seconds(a.get("eval_time", 0))
            exp = [dict(e.get("exp_labels") or {}) for e in a.get("exp_alerts") or []]
            for labels in exp:
                firing.append((a.get("alertname"), labels))
            not_firing_at.append((key, when, a.get("alertname"), exp))
        for e in t.get("promql_expr_test", []) or []:
            if "ALERTS" not in str(e.get("expr")):
                continue
            for s in e.get("exp_samples") or []:
                labels = labels_of(s.get("labels", ""))
                if labels.get("alertstate") == "pending":
                    pending_at.append((key, seconds(e.get("eval_time", 0)), labels))

def matches(expected, static):
    return all(str(expected.get(k)) == str(v) for k, v in static.items())

names = set()
for path, r in alerts:
    name = r["alert"]
    names.add(name)
    static = {k: str(v) for k, v in (r.get("labels") or {}).items()}
    variant = name + ("{" + ",".join(f"{k}={v}" for k, v in sorted(static.items()) if k != "severity") + "}"
                      if len(static) > 1 else "")
    problems = []
    if not re.fullmatch(r"Danmu[A-Z][A-Za-z0-9]+", name):
        problems.append("name is not Danmu<Thing><Condition>")
    if not r.get("for"):
        problems.append("no for:")
    if static.get("severity") not in ("page", "ticket"):
        problems.append("labels.severity must be page or ticket")
    ann = r.get("annotations") or {}
    for key in ("summary", "description", "runbook_url"):
        if not str(ann.get(key, "")).strip():
            problems.append(f"annotations.{key} missing")
    want = f"{RUNBOOK}#{name.lower()}"
    if ann.get("runbook_url") and ann["runbook_url"] != want:
        problems.append(f"runbook_url is {ann['runbook_url']!r}, want {want!r}")
    if name.lower() not in anchors:
        problems.append(f"{RUNBOOK} has no section '## {name}'")
    if not any(n == name and matches(l, static) for n, l in firing):
        problems.append("no unit test expects it firing")
    if r.get("for"):
        ok = any(
            pk == key and pt == when and n == name and matches(pl, {**static, "alertname": name})
            and not any(matches(l, static) for l in exp)
            for key, when, n, exp in not_firing_at
            for pk, pt, pl in pending_at)
        if not ok:
            problems.append("no unit test expects it pending and not yet firing (the near side of for:)")
    check(f"alert {variant} ({path}): conventions, both sides of for: {r.get('for')} tested", problems)

problems = [f"{r['record']} ({p})" for p, r in records
            if not re.fullmatch(r"[a-z0-9_]*:[a-z0-9_]+:[a-z0-9_]+", r["record"])]
check("recording rules named level:metric:operation", problems)

orphans = [h for h in headings if h.startswith("Danmu") and h not in names]
check(f"{RUNBOOK}: every alert section has its alert", [f"section {h!r} has no alert rule" for h in orphans])
print(f"#counts {passed} {failed}")
PY
)
rc=$?
printf '%s\n' "$conv" | grep -v '^#counts '
counts=$(printf '%s\n' "$conv" | sed -n 's/^#counts //p')
if [[ $rc != 0 && -z $counts ]]; then
  report "convention checks ran" 1 "python3 exited $rc"
elif [[ -n $counts ]]; then
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
fi

echo "$passed passed, $failed failed"
((failed == 0))
