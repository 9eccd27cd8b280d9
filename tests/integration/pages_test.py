#!/usr/bin/env python3
"""The pages in a real browser (issue 15), against the running test stack.

Headless Chromium (tests/integration/cdp.py) opens the viewer and the status page served
by danmud on the public port and checks, each wait bounded:
  viewer    a comment posted through the API with a unique text flies over
            the stage; hostile texts (<img onerror>, </script>) appear as text
            and run nothing; the like counter and the "likes paused" mark
            follow a degradation level set with danmuctl on that stream
  websocket at a 100 % rollout (danmuctl route; the rules as they were put
            back after, also on failure) the page receives over a WebSocket:
            its transport mark says so, the server's accepted ws handshakes
            rise and danmu_push_connections counts it, and a posted comment
            arrives over it (the bullet's data-via is ws, no poll was made)
  fallback  at the router's 0 % the page polls without trying a long
            connection; at 100 % with WebSocket refused (the page's WebSocket
            replaced by one that fails every handshake) the client gives up
            after exactly 3 failed connects, polls, and still shows the next
            comment; without the block it uses WebSocket when the server
            offers it, else it polls after the same 3 failures
  status    room A primary and room B secondary; both lease cells name the
            holder, its epoch and time left (no raw JSON, B's column does not
            call A's live lease expired; after the switchover A's column
            shows B's live lease); the connections cell counts a WebSocket
            the page opens (ws 1) and drops it when closed; a degradation
            level set with danmuctl appears with its scope; after a planned
            switchover (danmuctl switchover) the new roles, then switched
            back so that the suite's later tests find room A primary again;
            a lease whose holder says its window closed shows red as expired
            in both columns (the status answer altered in the page)
Screenshots of both pages go to argv[1] (an ignored folder) on every run.
"""
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402

A_HTTP = os.environ["DANMU_A_HTTP"]
B_HTTP = os.environ["DANMU_B_HTTP"]
A_ADMIN = os.environ["DANMU_A_ADMIN"]
B_ADMIN = os.environ["DANMU_B_ADMIN"]
DANMUCTL = os.environ["DANMUCTL_BIN"]
SHOTS = sys.argv[1] if len(sys.argv) > 1 else "pages-screenshots"
TAG = uuid.uuid4().hex[:8]
ROOM = "pages-" + TAG


def http(method, url, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def post_comment(base, room, text, uid):
    # Retried while writes are briefly frozen (503 + Retry-After), bounded.
    deadline = time.time() + 30
    while True:
        code, body = http("POST", f"{base}/v1/rooms/{room}/messages", {"type": "comment", "uid": uid, "text": text})
        if code == 202:
            return json.loads(body)["id"]
        if time.time() > deadline or code not in (429, 503):
            raise AssertionError(f"posting {text!r} to {base} room {room}: HTTP {code} {body}")
        time.sleep(0.5)


def danmuctl(*args, timeout=120):
    r = subprocess.run([DANMUCTL, *args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"danmuctl {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def js_str(s):
    return json.dumps(s)


def metric_sum(admin, name, **labels):
    """The sum of the series `name` with these labels in a room's /metrics; a
    series that is not exposed fails (a misspelt name must not read as 0)."""
    code, body = http("GET", admin + "/metrics")
    assert code == 200, f"{admin}/metrics: HTTP {code}"
    total, found = 0.0, False
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        if series != name and not series.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += float(value)
            found = True
    assert found, f"no series {name}{labels} in {admin}/metrics"
    return total


def both_rooms(name, **labels):
    return metric_sum(A_ADMIN, name, **labels) + metric_sum(B_ADMIN, name, **labels)


def route_rules():
    """The rule set the routers serve (danmuctl route show: GET /v1/admin/route)."""
    return json.loads(danmuctl("route", "show"))["rules"]


class Rollout:
    """The route rollout at `percent` (and transport ws, kill switch off) for
    the block, through danmuctl route; afterwards every value it changed is
    put back as it was before, also when the block failed, and checked."""

    def __init__(self, percent):
        self.percent = percent

    def __enter__(self):
        self.before = route_rules()
        want = {"percent": self.percent, "transport": "ws", "kill_switch": False}
        self.changed = []
        try:
            for k, v in want.items():
                if self.before.get(k) != v:
                    self.changed.append(k)
                    danmuctl("route", *self.words(k, v))
            if self.percent == 100:
                # Room A's router answers the pages: wait until it serves the rules.
                deadline = time.time() + 20
                while True:
                    code, body = http("GET", f"{A_HTTP}/v1/route?uid=rollout-{TAG}&platform=web&room={ROOM}")
                    if code == 200 and json.loads(body).get("transport") == "ws":
                        break
                    if time.time() > deadline:
                        raise AssertionError(f"at 100 % room A's router still answers {code} {body}")
                    time.sleep(0.2)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    @staticmethod
    def words(key, value):
        if key == "percent":
            return ["set-percent", str(value)]
        if key == "transport":
            return ["transport", value]
        return ["kill-switch", "on" if value else "off"]

    def __exit__(self, *exc):
        errors = []
        for k in self.changed:
            try:
                danmuctl("route", *self.words(k, self.before[k]))
            except Exception as e:  # put back what can be put back
                errors.append(str(e))
        after = route_rules()
        for k in self.changed:
            if after.get(k) != self.before[k]:
                errors.append(f"route {k} is {after.get(k)!r} after the test, was {self.before[k]!r}")
        if errors and exc[0] is None:
            raise AssertionError("restoring the route rules: " + "; ".join(errors))
        for e in errors:
            print("restoring the route rules:", e, flush=True)
        return False


def on_stage(text):
    return (f"Array.from(document.querySelectorAll('#danmaku-layer .danmaku'))"
            f".some(function (n) {{ return n.textContent === {js_str(text)}; }})")


def wait_viewer_ready(b):
    b.wait("window.__viewer && window.__viewer.client.state.transport !== 'none' && "
           "window.__viewer.client.state.connected", 20, "the viewer's client never connected")
    # The first answer (poll or frame) has arrived: the cursor is set.
    b.wait("window.__viewer.client.cursor !== ''", 20, "the viewer never received its first answer")


def ws_offered():
    """True when the public port answers a WebSocket handshake on the room's ws path."""
    import socket
    host, port = A_HTTP[len("http://"):].split(":")
    s = socket.create_connection((host, int(port)), timeout=5)
    try:
        s.sendall((f"GET /v1/rooms/{ROOM}/ws?uid=probe HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        line = s.recv(4096).split(b"\r\n")[0]
        return b" 101 " in line
    finally:
        s.close()


REFUSE_WS = """
(function () {
  window.__wsRefused = 0;
  function Refused(url) {
    var self = this;
    window.__wsRefused += 1;
    this.url = url; this.readyState = 0;
    setTimeout(function () {
      self.readyState = 3;
      if (self.onerror) self.onerror(new Event('error'));
      if (self.onclose) self.onclose({ code: 1006, reason: '', wasClean: false });
    }, 20);
  }
  Refused.prototype.close = function () {};
  Refused.prototype.send = function () { throw new Error('not open'); };
  window.WebSocket = Refused;
})();
"""


def test_viewer(b):
    b.navigate(f"{A_HTTP}/watch/{ROOM}")
    wait_viewer_ready(b)
    text = "hello from the browser test " + TAG
    post_comment(A_HTTP, ROOM, text, "t-" + TAG)
    b.wait(on_stage(text), 15, f"comment {text!r} never appeared on the stage")

    hostile = ['<img src=x onerror="window.__pwned=1">' + TAG,
               '</script><script>window.__pwned=2</script>' + TAG,
               '<b onmouseover=alert(1)>bold?</b> & "quotes" ' + TAG]
    for i, h in enumerate(hostile):
        post_comment(B_HTTP, ROOM, h, f"x{i}-{TAG}")  # through room B: forwarded to the primary
    for h in hostile:
        b.wait(on_stage(h), 15, f"hostile text {h!r} never appeared on the stage as text")
    injected = b.eval("document.querySelectorAll('#danmaku-layer img, #danmaku-layer script, #danmaku-layer b').length")
    assert injected == 0, f"{injected} elements were created from comment text"
    assert b.eval("typeof window.__pwned") == "undefined", "a hostile comment ran script"

    # Likes: the counter follows; a degradation level >= 1 on this stream shows "likes paused".
    code, body = http("POST", f"{A_HTTP}/v1/rooms/{ROOM}/likes", {"uid": "l-" + TAG, "count": 7})
    assert code == 202, f"like burst refused: {code} {body}"
    b.wait("+document.getElementById('like-count').textContent.replace(/,/g, '') >= 7", 15,
           "the like counter never showed the burst")
    assert b.eval("document.getElementById('likes-paused').classList.contains('hidden')"), \
        "likes shown as paused at level 0"
    danmuctl("degrade", "set", "1", "--stream", ROOM, "--for", "60s", "--reason", "pages test")
    try:
        b.wait("!document.getElementById('likes-paused').classList.contains('hidden') && "
               "document.getElementById('degrade').textContent.indexOf('level 1') >= 0", 15,
               "the viewer never showed 'likes paused' at degradation level 1")
    finally:
        danmuctl("degrade", "clear", "--stream", ROOM)
    b.wait("document.getElementById('likes-paused').classList.contains('hidden')", 15,
           "'likes paused' stayed after the level was cleared")

    # A lively stage for the screenshot: comments of several lengths, a gift.
    lines = ["What a voice!", "goosebumps", "finally the encore",
             "Greetings from room B", "bravo from Lisbon", "can't believe I got tickets for the stream",
             "Song #7 is my favourite", "lag? none here", "888888", "the drummer!!"]
    for i, line in enumerate(lines):
        post_comment(A_HTTP if i % 2 else B_HTTP, ROOM, line, f"v{i}-{TAG}")
    b.wait(on_stage(lines[-1]), 15, "the last screenshot comment never appeared")
    time.sleep(2)  # let the bullets spread over the stage: this is for the picture, not a sync
    code, body = http("POST", f"{A_HTTP}/v1/rooms/{ROOM}/messages",
                      {"type": "gift", "uid": "fan-" + TAG[:4], "gift": {"id": "rocket", "count": 3}})
    assert code == 202, f"gift refused: {code} {body}"
    code, body = http("POST", f"{A_HTTP}/v1/rooms/{ROOM}/likes", {"uid": "l2-" + TAG, "count": 30})
    assert code == 202, f"like burst refused: {code} {body}"
    b.wait("!document.getElementById('gift-banner').classList.contains('hidden')", 15, "the gift banner never showed")
    b.wait("+document.getElementById('like-count').textContent.replace(/,/g, '') >= 37", 15,
           "the like counter never showed the second burst")
    time.sleep(0.5)  # the banner's slide-in, for the picture
    b.screenshot(os.path.join(SHOTS, "viewer.png"))

    # Lanes under a flood: 120 bullets of mixed lengths; bullets sharing a
    # lane never overlap at any sampled moment, and lanes are reused.
    b.eval("""(function () {
      for (var i = 0; i < 120; i++) {
        window.__viewer.stage.add({ text: 'flood ' + i + ' ' + 'x'.repeat((i * 37) % 60) });
      }
      return true;
    })()""")
    max_shared = 0
    for _ in range(6):
        overlap, shared = b.eval("""(function () {
          var byLane = {};
          document.querySelectorAll('#danmaku-layer .danmaku[data-lane]').forEach(function (n) {
            var r = n.getBoundingClientRect();
            (byLane[n.getAttribute('data-lane')] = byLane[n.getAttribute('data-lane')] || []).push([r.left, r.right]);
          });
          var bad = 0, shared = 0;
          Object.keys(byLane).forEach(function (l) {
            var xs = byLane[l].sort(function (a, b) { return a[0] - b[0]; });
            if (xs.length > 1) shared++;
            for (var i = 1; i < xs.length; i++) if (xs[i][0] < xs[i - 1][1]) bad++;
          });
          return [bad, shared];
        })()""")
        assert overlap == 0, f"{overlap} bullets overlap another in their lane"
        max_shared = max(max_shared, shared)
        time.sleep(0.5)  # the next sample of the moving stage
    assert max_shared > 0, "the flood never put two bullets in one lane: the overlap check saw nothing"


def on_stage_via(text, via):
    return (f"Array.from(document.querySelectorAll('#danmaku-layer .danmaku'))"
            f".some(function (n) {{ return n.textContent === {js_str(text)} && n.getAttribute('data-via') === {js_str(via)}; }})")


def test_websocket(b):
    """The viewer on a working WebSocket: the router at 100 % hands it out, the
    page says so, the server counts the handshake and the open connection,
    and a posted comment arrives over it."""
    assert ws_offered(), "room A's public port does not answer a WebSocket handshake with 101"
    with Rollout(100):
        accepted = both_rooms("danmu_push_handshakes_total", transport="ws", result="accepted")
        b.navigate(f"{A_HTTP}/watch/{ROOM}")
        wait_viewer_ready(b)
        b.wait("window.__viewer.client.state.transport === 'ws' && "
               "document.getElementById('transport').getAttribute('data-transport') === 'ws' && "
               "document.getElementById('transport').textContent === 'WebSocket'", 20,
               "at 100 % the page did not show that it receives over a WebSocket")
        state = b.eval("JSON.stringify(window.__viewer.client.state)")
        st = json.loads(state)
        assert st["wsAttempts"] >= 1 and st["fallbacks"] == 0, f"the page fell back or never tried: {state}"
        after = both_rooms("danmu_push_handshakes_total", transport="ws", result="accepted")
        assert after > accepted, f"no WebSocket handshake accepted by the server ({accepted} -> {after})"
        # The hub's sweep (every second) counts the open connection.
        deadline = time.time() + 15
        while both_rooms("danmu_push_connections", transport="ws") < 1:
            assert time.time() < deadline, "danmu_push_connections{transport=ws} never counted the page's WebSocket"
            time.sleep(0.5)
        polls = b.eval("window.__viewer.client.state.polls")
        text = "over the websocket " + TAG
        post_comment(A_HTTP, ROOM, text, "w-" + TAG)
        b.wait(on_stage_via(text, "ws"), 15, f"comment {text!r} never arrived over the WebSocket")
        assert b.eval("window.__viewer.client.state.transport") == "ws", "the page left the WebSocket"
        assert b.eval("window.__viewer.client.state.polls") == polls, "the page polled while on the WebSocket"
        b.screenshot(os.path.join(SHOTS, "viewer-websocket.png"))


def test_fallback(b):
    offered = ws_offered()
    # The router at the stack's rules (0 %: nobody on long connections): the
    # page asks it and polls, without trying a long connection.
    b.navigate(f"{A_HTTP}/watch/{ROOM}")
    wait_viewer_ready(b)
    b.wait("window.__viewer.client.state.routed === true && window.__viewer.client.state.transport === 'poll'", 20,
           "at 0 % the page did not poll as the router said")
    attempts = b.eval("window.__viewer.client.state.wsAttempts + window.__viewer.client.state.sseAttempts")
    assert attempts == 0, f"at 0 % the page tried {attempts} long connections"
    # The rollout at 100 % (danmuctl route): the router hands out WebSocket.
    with Rollout(100):
        fallback_at_full_rollout(b, offered)


def fallback_at_full_rollout(b, offered):
    # Unblocked: WebSocket when the server offers it, else polling after 3 failed connects.
    b.navigate(f"{A_HTTP}/watch/{ROOM}")
    wait_viewer_ready(b)
    if offered:
        b.wait("window.__viewer.client.state.transport === 'ws'", 20, "WebSocket offered but the page did not use it")
    else:
        b.wait("window.__viewer.client.state.transport === 'poll'", 20, "no WebSocket and the page did not poll")
        attempts = b.eval("window.__viewer.client.state.attemptsBeforeFallback")
        assert attempts == 3, f"the client tried WebSocket {attempts} times before polling, not 3"

    # WebSocket refused: exactly 3 failed connects, then polling, and the next comment still shows.
    b.navigate(f"{A_HTTP}/watch/{ROOM}", before_load_script=REFUSE_WS)
    wait_viewer_ready(b)
    b.wait("window.__viewer.client.state.transport === 'poll' && window.__viewer.client.state.fallbacks >= 1", 20,
           "with WebSocket refused the page never fell back to polling")
    # Counted when the client fell back (a later retry of the long connection may follow).
    refused = b.eval("window.__viewer.client.state.attemptsBeforeFallback")
    assert refused == 3, f"{refused} WebSocket connects before the fallback, not 3"
    assert b.eval("window.__wsRefused") >= 3, "the refusing WebSocket was not the one the client used"
    text = "after the fallback " + TAG
    post_comment(A_HTTP, ROOM, text, "f-" + TAG)
    b.wait(on_stage(text), 15, f"comment {text!r} never appeared after the fallback to polling")


def role_of(room):
    return (f"(function () {{ var n = document.querySelector('[data-room={room}] [data-field=role]');"
            f" return n ? n.textContent : ''; }})()")


def lease_live(room, holder):
    """Room `room`'s lease cell names `holder` with the epoch of the holder's
    card and a time left: no raw JSON, no '(expired)', not red."""
    return f"""(function () {{
      var n = document.querySelector('[data-room={room}] [data-field=lease]');
      var e = document.querySelector('[data-room={holder}] [data-field=epoch]');
      if (!n || !e) return false;
      var t = n.textContent;
      return t.indexOf('room {holder} · epoch ' + e.textContent + ' · ') === 0 && / (ms|s) left/.test(t) &&
          t.indexOf('expired') < 0 && t.indexOf('{{') < 0 && !n.parentNode.classList.contains('red');
    }})()"""


def lease_expired(room, holder):
    return f"""(function () {{
      var n = document.querySelector('[data-room={room}] [data-field=lease]');
      return !!n && n.textContent.indexOf('room {holder} · epoch ') === 0 && n.textContent.indexOf('(expired') >= 0 &&
          n.parentNode.classList.contains('red');
    }})()"""


def ws_count(room):
    """The ws count in room `room`'s connections cell (-1: none shown)."""
    return f"""(function () {{
      var n = document.querySelector('[data-room={room}] [data-field=connections] [data-transport=ws]');
      return n && n.textContent === 'ws ' + n.getAttribute('data-count') ? +n.getAttribute('data-count') : -1;
    }})()"""


# The status answer as the page receives it, with every lease holder's own
# part saying its lease window closed (what a holder reports when it could
# not renew in time: held, not valid, nothing left).
EXPIRE_LEASES = """
(function () {
  var real = window.fetch;
  window.__expiredServed = 0;
  window.fetch = function (url) {
    return real.apply(this, arguments).then(function (resp) {
      if (String(url).indexOf('/v1/status') !== 0) return resp;
      return resp.json().then(function (s) {
        (s.rooms || []).forEach(function (r) {
          if (r.lease && r.lease.held) { r.lease.valid = false; r.lease.remaining_ms = 0; }
        });
        window.__expiredServed += 1;
        return new Response(JSON.stringify(s), { status: 200, headers: { 'Content-Type': 'application/json' } });
      });
    });
  };
})();
"""


def test_status(b):
    b.navigate(f"{A_HTTP}/status")
    b.wait(f"{role_of('A')} === 'PRIMARY' && {role_of('B')} === 'SECONDARY'", 20,
           "the status page did not show room A PRIMARY and room B SECONDARY")
    for field in ("epoch", "replication", "backlog", "read_source", "degrade", "probe", "rates", "connections", "route"):
        for room in ("A", "B"):
            assert b.eval(f"!!document.querySelector('[data-room={room}] [data-field={field}]')"), \
                f"room {room} card has no {field} row"
    # The probe of each room has run: per room pair latencies.
    b.wait("document.querySelectorAll('[data-field=probe] .pair').length >= 4", 30,
           "the probe latency per room pair never showed")
    # The lease: room A holds it; both columns name it readably, and room B's
    # (which does not hold the key) does not call A's live lease expired.
    b.wait(lease_live("A", "A"), 20, "room A's lease cell does not show A's live lease (holder, epoch, time left)")
    b.wait(lease_live("B", "A"), 20, "room B's lease cell does not show A's live lease (holder, epoch, time left)")
    # Connections by transport: a WebSocket opened from this page is counted
    # in room A's ws cell, and leaves it when closed.
    for room in ("A", "B"):
        b.wait(f"{ws_count(room)} >= 0 && !!document.querySelector('[data-room={room}] [data-field=connections] "
               f"[data-transport=http]')", 20, f"room {room}'s connections cell shows no ws and polling counts")
    ws_url = "ws" + A_HTTP[len("http"):] + f"/v1/rooms/{ROOM}/ws?uid=status-{TAG}"
    b.eval(f"window.__ws = new WebSocket({js_str(ws_url)}); true")
    b.wait("window.__ws.readyState === 1", 15, "the status page's WebSocket to room A never opened")

    stream = "pagesdeg-" + TAG
    danmuctl("degrade", "set", "2", "--stream", stream, "--for", "10m", "--reason", "status page test")
    try:
        scope = "stream:" + stream
        for room in ("A", "B"):
            b.wait(f"(function () {{ var n = document.querySelector('[data-room={room}] .setting[data-scope={js_str(scope)}]');"
                   f" return n && n.textContent.indexOf('level 2') >= 0 && n.textContent.indexOf('manual') >= 0; }})()",
                   20, f"room {room} never showed the degradation level 2 on scope {scope}")
        b.wait("document.querySelectorAll('.spark svg polyline').length >= 2", 20, "no sparkline was drawn")
        b.wait(f"{ws_count('A')} >= 1", 20, "room A's connections cell never counted the open WebSocket")
        b.screenshot(os.path.join(SHOTS, "status.png"))
    finally:
        danmuctl("degrade", "clear", "--stream", stream)
    b.eval("window.__ws.close(); true")
    b.wait(f"{ws_count('A')} === 0", 20, "room A's ws count stayed after the page's WebSocket closed")
    b.wait(f"!document.querySelector('.setting[data-scope={js_str('stream:' + stream)}]')", 20,
           "the cleared degradation setting stayed on the status page")

    # A planned switchover: the page shows the new roles; then back, so that
    # the rest of the suite finds room A primary.
    danmuctl("switchover", timeout=180)
    try:
        b.wait(f"{role_of('A')} === 'SECONDARY' && {role_of('B')} === 'PRIMARY'", 30,
               "after the switchover the status page did not show room B PRIMARY and room A SECONDARY")
        # Room A's column shows B's lease as live, not "(expired)".
        b.wait(lease_live("B", "B"), 30, "after the switchover room B's lease cell does not show its live lease")
        b.wait(lease_live("A", "B"), 30, "after the switchover room A's lease cell does not show B's live lease")
        b.screenshot(os.path.join(SHOTS, "status-after-switchover.png"))
    finally:
        danmuctl("switchover", timeout=180)
    b.wait(f"{role_of('A')} === 'PRIMARY' && {role_of('B')} === 'SECONDARY'", 30,
           "after switching back the status page did not show room A PRIMARY again")

    # Both rooms see room A's live lease again (room B's own view of the
    # holder is refreshed at its next lease round) ...
    b.wait(f"{lease_live('A', 'A')} && {lease_live('B', 'A')}", 30,
           "after switching back the lease cells did not show room A's live lease")
    # ... and the same lease, once its holder says its window closed, shows
    # red as expired in the holder's column and in the other room's.
    b.navigate(f"{A_HTTP}/status", before_load_script=EXPIRE_LEASES)
    b.wait("window.__expiredServed >= 1", 20, "the status page never read the altered answer")
    b.wait(f"{lease_expired('A', 'A')} && {lease_expired('B', 'A')}", 20,
           "room A's lease with its window closed was not shown red as expired in both columns")
    b.screenshot(os.path.join(SHOTS, "status-lease-expired.png"))


def main():
    failures = []
    b = Browser()
    try:
        for test in (test_viewer, test_websocket, test_fallback, test_status):
            start = time.time()
            try:
                test(b)
                print(f"[ OK ] {test.__name__} ({time.time() - start:.1f} s)", flush=True)
            except Exception:
                failures.append(test.__name__)
                print(f"[FAIL] {test.__name__}\n{traceback.format_exc()}", flush=True)
                try:
                    b.screenshot(os.path.join(SHOTS, f"failed-{test.__name__}.png"))
                    print("page text:", b.eval("document.body.innerText")[:3000])
                    print("client state:", b.eval("window.__viewer ? JSON.stringify(window.__viewer.client.state) : ''"))
                except Exception as e:  # the page itself may be gone
                    print("(no page dump:", e, ")")
        errors = b.exceptions()
        if errors:
            failures.append("page exceptions")
            print("[FAIL] uncaught exceptions in the pages:")
            for e in errors[:10]:
                print("   ", e.get("text"), e.get("exception", {}).get("description", "")[:300])
    finally:
        b.close()
    print(f"screenshots: {os.path.abspath(SHOTS)}")
    if failures:
        print("FAILED:", ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
