// danmu-ha JavaScript client (DESIGN §13, issue 14's contract). No build
// step, no dependencies: a classic script that defines window.DanmuClient.
//
// The contract it follows:
// It mirrors routing/client_contract.h (the C++ clients' state machine).
//   1. Ask the router: GET /v1/route?uid=&device=&app_version=&platform=web&room=
//      [&fallback=REASON after a fallback] -> {"transport":"ws"|"sse"|"poll",
//      "endpoints":[...],"poll_url":...,"retry_after_ms":...} (routing/router.h;
//      endpoints and poll_url are full URLs of the transport, or base URLs).
//      retry_after_ms: for a polling client, when to ask the router again; for
//      a long connection, the base of its reconnect delay. No router (404,
//      refused, bad answer): the default plan, the best transport this
//      browser has: ws, else sse, else poll; endpoints = this page's origin.
//   2. Connect by that transport: WebSocket GET /v1/rooms/{room}/ws?uid=&cursor=,
//      or SSE GET /v1/rooms/{room}/events?uid=&cursor= (event id = cursor).
//      Every frame has the poll answer's shape: {messages, cursor, likes,
//      online, degrade, next_poll_ms...}.
//   3. After 3 consecutive failed connects (no open, or closed before the
//      first frame) fall back to polling; retry the long connection later with
//      jittered exponential backoff (longRetryBaseMs doubling up to
//      longRetryMaxMs); a long connection that delivered a frame resets the count.
//   4. Close codes: 1000/1001 and 4000-4099 ("reconnect / reconnect
//      elsewhere", e.g. a draining edge) reconnect after the delay the reason
//      carries ({"retry_after_ms":N} JSON, else a small jittered one) and ask
//      the router again; 4100-4199 ("move to polling", e.g. a degradation
//      level) poll and retry the long connection after the backoff; 1013 and
//      4290 ("try again later") wait retry_after_ms; anything else counts as a
//      failed connect.
//   5. Always resume from the last cursor: every transport and every
//      reconnect starts from the cursor of the last frame or poll answer.
//   6. Polling obeys next_poll_ms; 429/503 wait Retry-After (or backoff);
//      network errors back off (jittered, exponential, capped). While polls
//      fail, state.reconnecting is true (the page shows a mark).
//   7. Writes (post, like) retry 503 + Retry-After (a switchover freezes
//      writes for a few seconds) with backoff, up to a bound.
(function (global) {
  'use strict';

  var MAX_LONG_FAILURES = 3;

  function jitter(ms) {
    // Full jitter in [ms/2, ms]: spreads a crowd of reconnecting clients.
    return Math.round(ms / 2 + Math.random() * ms / 2);
  }

  function retryAfterMs(resp, fallbackMs) {
    var h = resp && resp.headers && resp.headers.get('Retry-After');
    var s = h ? parseFloat(h) : NaN;
    return isFinite(s) && s >= 0 ? s * 1000 : fallbackMs;
  }

  function toWsUrl(httpUrl) {
    return httpUrl.replace(/^http:/, 'ws:').replace(/^https:/, 'wss:');
  }

  function DanmuClient(opts) {
    this.room = opts.room;
    this.uid = opts.uid || '';
    this.base = (opts.base || global.location.origin).replace(/\/+$/, '');
    this.onFrame = opts.onFrame || function () {};
    this.onState = opts.onState || function () {};
    this.limit = opts.limit || 100;
    this.longRetryBaseMs = opts.longRetryBaseMs || 5000;
    this.longRetryMaxMs = opts.longRetryMaxMs || 120000;
    this.appVersion = opts.appVersion || 'web-1.0.0';
    this.device = opts.device || '';
    this.cursor = '';
    this.stopped = true;
    this.timer = null;       // the next long-connection attempt
    this.pollTimer = null;   // the next poll
    this.longTimer = null;   // the retry of the long connection while polling
    this.conn = null;        // the open WebSocket / EventSource
    this.pollAbort = null;
    this.longFailures = 0;   // consecutive failed long connects
    this.fallbackReason = ''; // told to the router on the next ask
    this.routeTimer = null;  // polling by the router's word: ask it again later
    this.polling = false;
    this.longRetries = 0;    // long-connection retries since the fallback
    this.pollFailures = 0;
    this.plan = null;        // {transport, endpoints, poll_url}
    this.seen = new Set();   // ids already delivered (a safety net across switches)
    this.seenOrder = [];
    this.state = {
      transport: 'none', connected: false, reconnecting: false, routed: false,
      longFailures: 0, fallbacks: 0, lastError: '', wsAttempts: 0, sseAttempts: 0, polls: 0,
      attemptsBeforeFallback: 0
    };
  }

  DanmuClient.prototype.setState = function (patch) {
    for (var k in patch) this.state[k] = patch[k];
    this.onState(this.state);
  };

  DanmuClient.prototype.start = function () {
    if (!this.stopped) return;
    this.stopped = false;
    var self = this;
    this.route().then(function (plan) {
      if (self.stopped) return;
      self.plan = plan;
      self.connect();
    });
  };

  DanmuClient.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.longTimer);
    clearTimeout(this.routeTimer);
    this.closeLong();
    this.stopPolling();
  };

  // Switches room: stops, forgets the cursor, starts again.
  DanmuClient.prototype.switchRoom = function (room) {
    this.stop();
    this.room = room;
    this.cursor = '';
    this.seen = new Set();
    this.seenOrder = [];
    this.longFailures = 0;
    this.start();
  };

  DanmuClient.prototype.defaultPlan = function () {
    var t = global.WebSocket ? 'ws' : (global.EventSource ? 'sse' : 'poll');
    return { transport: t, endpoints: [this.base], poll_url: this.base, retry_after_ms: 0, routed: false };
  };

  DanmuClient.prototype.route = function () {
    var self = this;
    var q = '?uid=' + encodeURIComponent(this.uid) + '&device=' + encodeURIComponent(this.device) +
        '&app_version=' + encodeURIComponent(this.appVersion) + '&platform=web&room=' + encodeURIComponent(this.room) +
        (this.fallbackReason ? '&fallback=' + encodeURIComponent(this.fallbackReason) : '');
    this.fallbackReason = '';
    return fetch(this.base + '/v1/route' + q, { cache: 'no-store' }).then(function (resp) {
      if (!resp.ok) throw new Error('router answered ' + resp.status);
      return resp.json();
    }).then(function (r) {
      var t = r && r.transport;
      if (t !== 'ws' && t !== 'sse' && t !== 'poll') throw new Error('router: bad transport');
      if (t === 'ws' && !global.WebSocket) t = global.EventSource ? 'sse' : 'poll';
      if (t === 'sse' && !global.EventSource) t = 'poll';
      var endpoints = (Array.isArray(r.endpoints) ? r.endpoints : []).filter(function (e) {
        return typeof e === 'string' && /^(https?|wss?):\/\//.test(e);
      });
      if (!endpoints.length) endpoints = [self.base];
      var poll = typeof r.poll_url === 'string' && /^https?:\/\//.test(r.poll_url) ? r.poll_url : self.base;
      self.setState({ routed: true });
      return { transport: t, endpoints: endpoints, poll_url: poll.replace(/\/+$/, ''),
               retry_after_ms: Math.max(0, +r.retry_after_ms || 0), routed: true };
    }).catch(function () {
      self.setState({ routed: false });
      return self.defaultPlan();
    });
  };

  DanmuClient.prototype.connect = function () {
    if (this.stopped) return;
    var t = this.plan.transport;
    var self = this;
    if (t === 'poll' || this.longFailures >= MAX_LONG_FAILURES) {
      this.startPolling();
      if (t === 'poll' && this.plan.routed && this.plan.retry_after_ms > 0) {
        // The router said poll: ask it again later (it may let us onto a
        // long connection then, e.g. as the rollout grows).
        clearTimeout(this.routeTimer);
        this.routeTimer = setTimeout(function () {
          self.route().then(function (plan) {
            self.plan = plan;
            self.connect();
          });
        }, jitter(this.plan.retry_after_ms));
      }
      return;
    }
    if (t === 'ws') this.openWs(); else this.openSse();
  };

  // A transport URL: the router's full URL as it is, or a base URL plus the path.
  DanmuClient.prototype.transportUrl = function (endpoint, tail) {
    var url = endpoint.replace(/\/+$/, '');
    if (url.indexOf('/v1/rooms/') < 0) url += '/v1/rooms/' + encodeURIComponent(this.room) + '/' + tail;
    return url;
  };

  // The reconnect delay base: the router's retry_after_ms for long connections.
  DanmuClient.prototype.reconnectBase = function () {
    return this.plan && this.plan.transport !== 'poll' && this.plan.retry_after_ms > 0 ? this.plan.retry_after_ms : 500;
  };

  DanmuClient.prototype.endpoint = function () {
    // Spread over the router's list on retries: the first (local room, least
    // loaded) first.
    var eps = this.plan.endpoints;
    return eps[this.longFailures % eps.length];
  };

  DanmuClient.prototype.longQuery = function (url) {
    return (url.indexOf('?') < 0 ? '?' : '&') + 'uid=' + encodeURIComponent(this.uid) +
        '&cursor=' + encodeURIComponent(this.cursor);
  };

  DanmuClient.prototype.closeLong = function () {
    if (!this.conn) return;
    var c = this.conn;
    this.conn = null;
    try { c.onopen = c.onmessage = c.onerror = c.onclose = null; c.close(); } catch (e) { /* already closed */ }
  };

  // A message on a long connection (WebSocket or SSE). The first frame proves
  // the connection works: failures and retries reset, polling stops. Returns
  // whether a frame has arrived on this connection (`gotFrame` until now).
  DanmuClient.prototype.onLongMessage = function (data, transport, gotFrame) {
    var frame;
    try { frame = JSON.parse(data); } catch (e) { return gotFrame; }
    if (!gotFrame) {
      this.longFailures = 0;
      this.longRetries = 0;
      this.setState({ longFailures: 0 });
      this.stopPolling();
    }
    this.deliver(frame, transport);
    return true;
  };

  DanmuClient.prototype.openWs = function () {
    if (this.stopped) return;
    var self = this;
    var url = toWsUrl(this.transportUrl(this.endpoint(), 'ws'));
    url += this.longQuery(url);
    var gotFrame = false;
    var ws;
    this.setState({ wsAttempts: this.state.wsAttempts + 1 });
    try {
      ws = new global.WebSocket(url);
    } catch (e) {
      this.longFailed('ws: ' + e.message);
      return;
    }
    this.conn = ws;
    ws.onopen = function () { self.setState({ transport: 'ws', connected: true, reconnecting: false }); };
    ws.onmessage = function (ev) { gotFrame = self.onLongMessage(ev.data, 'ws', gotFrame); };
    ws.onerror = function () { /* onclose follows with the code */ };
    ws.onclose = function (ev) {
      if (self.conn !== ws) return;
      self.conn = null;
      if (!self.polling) self.setState({ connected: false });
      self.onLongClose(ev.code, ev.reason || '', gotFrame);
    };
  };

  DanmuClient.prototype.openSse = function () {
    if (this.stopped) return;
    var self = this;
    var url = this.transportUrl(this.endpoint(), 'events');
    url += this.longQuery(url);
    var gotFrame = false;
    var es;
    this.setState({ sseAttempts: this.state.sseAttempts + 1 });
    try {
      es = new global.EventSource(url);
    } catch (e) {
      this.longFailed('sse: ' + e.message);
      return;
    }
    this.conn = es;
    es.onopen = function () { self.setState({ transport: 'sse', connected: true, reconnecting: false }); };
    es.onmessage = function (ev) { gotFrame = self.onLongMessage(ev.data, 'sse', gotFrame); };
    es.onerror = function () {
      // EventSource would reconnect by itself with its own Last-Event-ID; we
      // reconnect ourselves so that backoff and the cursor stay ours.
      if (self.conn !== es) return;
      self.closeLong();
      if (!self.polling) self.setState({ connected: false });
      self.onLongClose(1006, '', gotFrame);
    };
  };

  DanmuClient.prototype.onLongClose = function (code, reason, hadFrame) {
    if (this.stopped) return;
    var self = this;
    var hinted = NaN;
    try { hinted = +JSON.parse(reason).retry_after_ms; } catch (e) { /* plain text reason */ }
    if (code === 1000 || code === 1001 || (code >= 4000 && code < 4100)) {
      // Reconnect (elsewhere): ask the router again, resume from the cursor.
      var wait = isFinite(hinted) && hinted >= 0 ? hinted : jitter(2 * this.reconnectBase());
      this.setState({ reconnecting: true });
      clearTimeout(this.timer);
      this.timer = setTimeout(function () {
        self.route().then(function (plan) { self.plan = plan; self.connect(); });
      }, wait);
      return;
    }
    if (code >= 4100 && code < 4200) {
      // The server says: poll for now (e.g. a degradation level).
      this.fallBack('server asked to poll (close ' + code + ')');
      return;
    }
    if (code === 1013 || code === 4290) {
      var later = isFinite(hinted) && hinted >= 0 ? hinted : jitter(5000);
      this.setState({ reconnecting: true });
      clearTimeout(this.timer);
      this.timer = setTimeout(function () { self.connect(); }, later);
      return;
    }
    if (hadFrame) {
      // It worked, then broke: reconnect at once, resuming from the cursor.
      this.setState({ reconnecting: true });
      clearTimeout(this.timer);
      this.timer = setTimeout(function () { self.connect(); }, jitter(this.reconnectBase()));
      return;
    }
    this.longFailed('close ' + code);
  };

  DanmuClient.prototype.longFailed = function (why) {
    var self = this;
    this.longFailures += 1;
    this.setState({ longFailures: this.longFailures, lastError: why });
    if (this.longFailures >= MAX_LONG_FAILURES) {
      this.fallBack(why);
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.connect(); }, jitter(250 * Math.pow(2, this.longFailures)));
  };

  // Polls from the last cursor, and tries the long connection again later.
  DanmuClient.prototype.fallBack = function (why) {
    var self = this;
    this.closeLong();
    this.setState({ fallbacks: this.state.fallbacks + 1, lastError: why });
    if (this.state.fallbacks === 1) {
      this.setState({ attemptsBeforeFallback: this.state.wsAttempts + this.state.sseAttempts });
    }
    // Told to the router on the next ask (danmu_route_client_fallbacks_total).
    this.fallbackReason = /^close 41/.test(why) || /server asked/.test(why) ? 'closed' : 'connect_failed';
    this.startPolling();
    if (this.plan.transport === 'poll') return;
    var backoff = Math.min(this.longRetryMaxMs, this.longRetryBaseMs * Math.pow(2, this.longRetries));
    this.longRetries += 1;
    clearTimeout(this.longTimer);
    this.longTimer = setTimeout(function () {
      if (self.stopped) return;
      // One fresh try of the long connection (polling goes on meanwhile);
      // three more failures fall back again with a longer backoff.
      self.longFailures = 0;
      self.route().then(function (plan) {
        self.plan = plan;
        self.connect();  // long: one try (polling goes on); poll: ask again later
      });
    }, jitter(backoff));
  };

  DanmuClient.prototype.startPolling = function () {
    if (this.polling) return;
    this.polling = true;
    this.setState({ transport: 'poll', connected: true });
    this.pollOnce();
  };

  DanmuClient.prototype.stopPolling = function () {
    this.polling = false;
    clearTimeout(this.pollTimer);
    if (this.pollAbort) this.pollAbort.abort();
  };

  DanmuClient.prototype.pollOnce = function () {
    if (this.stopped || !this.polling) return;
    var self = this;
    var url = this.transportUrl((this.plan && this.plan.poll_url) || this.base, 'messages');
    url += (url.indexOf('?') < 0 ? '?' : '&') + 'limit=' + this.limit +
        (this.uid ? '&uid=' + encodeURIComponent(this.uid) : '') +
        (this.cursor ? '&cursor=' + encodeURIComponent(this.cursor) : '');
    var ctl = global.AbortController ? new AbortController() : null;
    this.pollAbort = ctl;
    var watchdog = setTimeout(function () { if (ctl) ctl.abort(); }, 10000);
    var next = function (ms) {
      clearTimeout(watchdog);
      if (self.stopped || !self.polling) return;
      clearTimeout(self.pollTimer);
      self.pollTimer = setTimeout(function () { self.pollOnce(); }, ms);
    };
    var failed = function (why, waitMs) {
      self.pollFailures += 1;
      self.setState({ reconnecting: true, lastError: why });
      var backoff = Math.min(8000, 500 * Math.pow(2, self.pollFailures - 1));
      next(Math.max(waitMs || 0, jitter(backoff)));
    };
    fetch(url, { cache: 'no-store', signal: ctl ? ctl.signal : undefined }).then(function (resp) {
      if (resp.status === 200) {
        return resp.json().then(function (frame) {
          self.pollFailures = 0;
          self.setState({ reconnecting: false, polls: self.state.polls + 1 });
          self.deliver(frame, 'poll');
          var ms = +frame.next_poll_ms;
          next(isFinite(ms) && ms >= 100 ? ms : 2000);
        });
      }
      if (resp.status === 400 && self.cursor) {
        // A cursor this server cannot read (e.g. another deployment's):
        // start from now rather than never.
        self.cursor = '';
        failed('cursor refused', 0);
        return;
      }
      if (resp.status === 429 || resp.status === 503) {
        failed('poll answered ' + resp.status, retryAfterMs(resp, 1000));
        return;
      }
      failed('poll answered ' + resp.status, 0);
    }).catch(function (e) {
      if (self.stopped || !self.polling) return;
      failed('poll: ' + (e && e.message || e), 0);
    });
  };

  DanmuClient.prototype.deliver = function (frame, transport) {
    if (!frame || typeof frame !== 'object') return;
    if (typeof frame.cursor === 'string' && frame.cursor) this.cursor = frame.cursor;
    var msgs = Array.isArray(frame.messages) ? frame.messages : [];
    var fresh = [];
    for (var i = 0; i < msgs.length; i++) {
      var m = msgs[i];
      if (!m || typeof m !== 'object') continue;
      if (m.id) {
        if (this.seen.has(m.id)) continue;
        this.seen.add(m.id);
        this.seenOrder.push(m.id);
        if (this.seenOrder.length > 5000) this.seen.delete(this.seenOrder.shift());
      }
      fresh.push(m);
    }
    frame.messages = fresh;
    this.onFrame(frame, transport);
  };

  // POST to this page's frontend with retries on 503/429 (+ Retry-After)
  // and network errors, bounded.
  DanmuClient.prototype.postJson = function (path, body, onRetry) {
    var base = this.base;
    var attempt = 0;
    return new Promise(function (resolve, reject) {
      var go = function () {
        attempt += 1;
        fetch(base + path, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
        }).then(function (resp) {
          if ((resp.status === 503 || resp.status === 429) && attempt < 8) {
            var wait = Math.max(retryAfterMs(resp, 0), jitter(Math.min(8000, 400 * Math.pow(2, attempt))));
            if (onRetry) onRetry(resp.status, wait);
            setTimeout(go, wait);
            return;
          }
          return resp.json().catch(function () { return {}; }).then(function (j) {
            if (resp.status >= 200 && resp.status < 300) resolve(j);
            else reject(new Error((j && j.error && j.error.message) || ('HTTP ' + resp.status)));
          });
        }).catch(function (e) {
          if (attempt < 8) {
            var wait = jitter(Math.min(8000, 400 * Math.pow(2, attempt)));
            if (onRetry) onRetry(0, wait);
            setTimeout(go, wait);
          } else {
            reject(e);
          }
        });
      };
      go();
    });
  };

  DanmuClient.prototype.post = function (text, onRetry) {
    return this.postJson('/v1/rooms/' + encodeURIComponent(this.room) + '/messages',
                         { type: 'comment', uid: this.uid, text: text, client_ts: Date.now() }, onRetry);
  };

  DanmuClient.prototype.like = function (count, onRetry) {
    return this.postJson('/v1/rooms/' + encodeURIComponent(this.room) + '/likes',
                         { uid: this.uid, count: count }, onRetry);
  };

  global.DanmuClient = DanmuClient;
})(window);
