#!/usr/bin/env python3
"""Runs every dashboard query against a real Prometheus that scraped the stack.

Usage: PROMETHEUS_URL=http://127.0.0.1:27040 grafana/tests/dashboard_query_check.py [DASHBOARD.json ...]
(scripts/test exports PROMETHEUS_URL and DANMU_{A,B}_HTTP from run/.../stack.env.)

1. Waits (bounded, DANMU_QUERY_CHECK_WAIT_S, default 60 s) until Prometheus
   has scraped the danmud target of every room (DANMU_QUERY_CHECK_ROOMS,
   default A,B) successfully at least 3 times and it is up now.
2. Unless DANMU_QUERY_CHECK_TRAFFIC=0, sends a little benign public traffic to
   each room (DANMU_A_HTTP, DANMU_B_HTTP): starts the live room
   "query-check", posts a comment and likes, polls twice, lists users,
   asks the router once (GET /v1/route).
   Counters that only appear once used (writes by type, polls, cache hits,
   forwarded writes) then exist even when no other test ran before. Then
   waits (bounded) until Prometheus has scraped the new series a few times,
   so that rate() has two samples.
3. Evaluates every panel target, every annotation query and every
   label_values() variable query of grafana/dashboards/*.json through
   /api/v1/query, with $__rate_interval -> 1m, $__interval -> 15s,
   $__range -> 1h and every dashboard variable ($room) -> ".+". A query fails
   if Prometheus returns an error or no series.
   Failures print the dashboard, panel title, refId, the query sent, and the
   metric names in it that Prometheus has never seen.
4. Checks that Prometheus loaded the rule files (monitoring/rules/*.yml) and
   evaluates every rule without error.

Prints "ok - ..." / "FAIL - ..." per check and, last, "N passed, M failed";
exits 1 if any check failed (2 for bad usage).
"""
import glob
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUBSTITUTIONS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
VAR_REF = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
    "offset", "le", "inf", "nan",
}
HTTP_TIMEOUT_S = 10


def log(msg):
    print(msg, flush=True)


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, **params):
        """GET (or POST for queries) an API path; returns (data, error string)."""
        data = urllib.parse.urlencode(params).encode() if params else None
        req = urllib.request.Request(self.url + path, data=data)
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            try:
                body = json.load(e)
            except ValueError:
                return None, f"HTTP {e.code}"
        except (urllib.error.URLError, OSError, ValueError) as e:
            return None, str(e)
        if body.get("status") != "success":
            return None, f"{body.get('errorType', 'error')}: {body.get('error', body)}"
        return body.get("data"), None

    def query(self, expr):
        return self.get("/api/v1/query", query=expr)


def wait_until(what, timeout_s, probe):
    """Polls probe() (returns (done, detail)) until done or the deadline; no blind sleeps."""
    deadline = time.monotonic() + timeout_s
    detail = ""
    while True:
        done, detail = probe()
        if done:
            return True, detail
        if time.monotonic() >= deadline:
            return False, f"{what}: not reached after {timeout_s:.0f}s ({detail})"
        time.sleep(0.5)


def rooms_with(prom, expr):
    data, err = prom.query(expr)
    if err:
        return set(), err
    return {s["metric"].get("room", "") for s in data.get("result", [])}, ""


def wait_for_scrapes(prom, rooms, timeout_s):
    # sum_over_time(up) = number of successful scrapes in the window.
    expr = ('count by (room) ((sum_over_time(up{job=~"danmud.*"}[10m]) >= 3)'
            ' and on (instance) (up{job=~"danmud.*"} == 1))')

    def probe():
        got, err = rooms_with(prom, expr)
        missing = sorted(set(rooms) - got)
        return not missing, err or f"rooms without 3 good scrapes yet: {','.join(missing)}"

    return wait_until("danmud targets scraped", timeout_s, probe)


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError) as e:
        return str(e)


def send_traffic(rooms):
    """Benign public traffic to every room that has a DANMU_<ROOM>_HTTP address."""
    live = "query-check"
    sent = []
    for room in rooms:
        base = os.environ.get(f"DANMU_{room}_HTTP")
        if not base:
            log(f"note: DANMU_{room}_HTTP unset, no traffic sent to room {room}")
            continue
        base = base.rstrip("/") + f"/v1/rooms/{live}"
        steps = [
            ("POST", "/start", {}),
            ("POST", "/messages", {"type": "comment", "uid": "query-check", "text": f"dashboard query check {room}"}),
            ("POST", "/likes", {"uid": "query-check", "count": 2}),
            ("GET", "/messages", None),  # the first poll of a room misses the cache,
            ("GET", "/messages", None),  # the second one hits it
            ("GET", "/users", None),
        ]
        results = [f"{m} {p} -> {http(m, base + p, b)}" for m, p, b in steps]
        # One routing decision (danmu_route_decisions_total exists once used).
        route = os.environ[f"DANMU_{room}_HTTP"].rstrip("/") + f"/v1/route?uid=query-check&room={live}"
        results.append(f"GET /v1/route -> {http('GET', route)}")
        log(f"traffic to room {room}: " + "; ".join(results))
        sent.append(room)
    return sent


def wait_for_traffic_scraped(prom, rooms, sent_at, timeout_s):
    # Three scrapes of every room since the traffic: counters it created then
    # have at least two samples, which rate(...[1m]) needs.
    def probe():
        window = max(1, int(time.time() - sent_at))
        expr = f'count by (room) (count_over_time(up{{job=~"danmud.*"}}[{window}s]) >= 3)'
        got, err = rooms_with(prom, expr)
        missing = sorted(set(rooms) - got)
        return not missing, err or f"rooms not scraped 3 times since the traffic: {','.join(missing)}"

    return wait_until("traffic scraped", timeout_s, probe)


def substitute(expr, variables):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in SUBSTITUTIONS:
            return SUBSTITUTIONS[name]
        if name in variables:
            return ".+"
        return m.group(0)

    return VAR_REF.sub(repl, expr)


def metric_names(expr):
    """Metric and recording-rule names an expression selects (best effort)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # drop label values
    text = re.sub(r"\{[^}]*\}", "{}", text)  # drop label matchers
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # drop range durations
    names = set()
    for m in re.finditer(r"(?<![\w:.])([a-zA-Z_:][\w:]*)\s*(?=[\[{)\s,*/+\-<>=!^]|$)", text):
        name = m.group(1)
        if name.lower() in PROMQL_WORDS:
            continue
        after = text[m.end():].lstrip()
        if after.startswith("("):
            continue  # a function
        if name.startswith(("danmu_", "process_")) or ":" in name or name == "up":
            names.add(name)
    return names


def dashboard_queries(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    variables = {v.get("name") for v in d.get("templating", {}).get("list", [])}

    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))

    for p in walk(d.get("panels", [])):
        for t in p.get("targets") or []:
            yield f"{p.get('title')} [{t.get('refId')}]", t.get("expr") or "", variables
    for a in d.get("annotations", {}).get("list", []):
        if a.get("builtIn"):
            continue
        expr = (a.get("target") or {}).get("expr") or a.get("expr") or ""
        yield f"annotation {a.get('name')}", expr, variables
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q or ""
        # label_values(metric, label) is Grafana's; the same question in PromQL:
        m = re.fullmatch(r"\s*label_values\((.+),\s*(\w+)\s*\)\s*", q)
        expr = f"count by ({m.group(2)}) ({m.group(1)})" if m else q
        yield f"variable {v.get('name')}", expr, variables


def main(argv):
    url = os.environ.get("PROMETHEUS_URL")
    if not url:
        log("PROMETHEUS_URL is not set: run under scripts/test, or source run/<stack>/stack.env")
        log("0 passed, 1 failed")
        return 2
    prom = Prometheus(url)
    rooms = [r for r in os.environ.get("DANMU_QUERY_CHECK_ROOMS", "A,B").split(",") if r]
    wait_s = float(os.environ.get("DANMU_QUERY_CHECK_WAIT_S", "60"))
    passed = failed = 0

    def check(name, problems):
        nonlocal passed, failed
        if problems:
            failed += 1
            log(f"FAIL - {name}")
            for p in problems:
                log(f"    {p}")
        else:
            passed += 1
            log(f"ok - {name}")

    ok, detail = wait_for_scrapes(prom, rooms, wait_s)
    check(f"Prometheus at {url} scraped danmud of rooms {','.join(rooms)}", [] if ok else [detail])
    if not ok:
        log(f"{passed} passed, {failed} failed")
        return 1

    if os.environ.get("DANMU_QUERY_CHECK_TRAFFIC", "1") != "0":
        sent = send_traffic(rooms)
        sent_at = time.time()
        if sent:
            ok, detail = wait_for_traffic_scraped(prom, sent, sent_at, wait_s)
            check(f"traffic to rooms {','.join(sent)} scraped 3 times", [] if ok else [detail])

    known, err = prom.get("/api/v1/label/__name__/values")
    known = set(known or [])
    if err:
        log(f"note: could not list metric names: {err}")

    paths = argv or sorted(glob.glob(os.path.join(ROOT, "grafana/dashboards/*.json")))
    never_seen = set()
    for path in paths:
        board = os.path.basename(path)
        for where, raw, variables in dashboard_queries(path):
            expr = substitute(raw, variables)
            data, err = prom.query(expr)
            problems = []
            if err:
                problems.append(f"error: {err}")
            elif data.get("resultType") in ("vector", "matrix") and not data.get("result"):
                problems.append("no series")
            if problems:
                missing = sorted(n for n in metric_names(expr) if n not in known)
                never_seen.update(missing)
                if missing:
                    problems.append("not in Prometheus: " + ", ".join(missing))
                problems.append("query: " + " ".join(expr.split()))
            check(f"{board}: {where}", problems)

    groups, err = prom.get("/api/v1/rules")
    problems = []
    if err:
        problems.append(err)
    else:
        files = {os.path.basename(g.get("file", "")) for g in groups.get("groups", [])}
        expected = {os.path.basename(f) for f in glob.glob(os.path.join(ROOT, "monitoring/rules/*.yml"))}
        if expected - files:
            problems.append("rule files not loaded: " + ", ".join(sorted(expected - files)))
        for g in groups.get("groups", []):
            for r in g.get("rules", []):
                if r.get("health") not in ("ok", "unknown") or r.get("lastError"):
                    problems.append(f"{g.get('name')}/{r.get('name')}: {r.get('health')} {r.get('lastError', '')}")
    check("Prometheus evaluates monitoring/rules without errors", problems)

    if never_seen:
        log("metrics that failing queries need and Prometheus has never seen: " + ", ".join(sorted(never_seen)))
    log(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
