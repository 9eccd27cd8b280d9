// Unit test of web/client.js (the client contract of issue 14) in Node, with
// a fake clock, fetch, WebSocket and EventSource: no network, no browser.
// Run: node web/test/client_test.js (ctest: web_client_test). Lives in a
// sub-folder so that danmud does not serve it (core/api/static_files.h).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const assert = require('assert');

function makeWorld() {
  const w = { now: 0, timers: [], seq: 0, fetches: [], sockets: [], sources: [] };
  w.routes = {};  // path prefix -> function(url, init) -> {status, body, headers}
  const win = {
    location: { origin: 'http://page.test' },
    setTimeout: (fn, ms) => { const id = ++w.seq; w.timers.push({ id, at: w.now + (ms || 0), fn }); return id; },
    clearTimeout: (id) => { w.timers = w.timers.filter((t) => t.id !== id); },
    Math: Object.create(Math),
    Set, Promise, JSON, Error, Date, encodeURIComponent, isFinite, parseFloat, Array, Object,
    AbortController,
  };
  win.Math.random = () => 0.5;
  win.fetch = (url, init) => {
    w.fetches.push({ url, init: init || {} });
    const key = Object.keys(w.routes).sort((a, b) => b.length - a.length).find((p) => url.indexOf(p) >= 0);
    const r = key ? w.routes[key](url, init || {}) : { status: 404, body: '{"error":{}}' };
    if (r === 'network') return Promise.reject(new Error('network down'));
    const headers = new Map(Object.entries(r.headers || {}));
    return Promise.resolve({
      status: r.status, ok: r.status >= 200 && r.status < 300,
      headers: { get: (k) => headers.get(k) || null },
      json: () => Promise.resolve(JSON.parse(r.body)),
    });
  };
  win.WebSocket = function (url) {
    this.url = url;
    w.sockets.push(this);
  };
  win.WebSocket.prototype.close = function () { this.closed = true; };
  win.EventSource = function (url) {
    this.url = url;
    w.sources.push(this);
  };
  win.EventSource.prototype.close = function () { this.closed = true; };
  win.window = win;
  vm.createContext(win);
  vm.runInContext(fs.readFileSync(path.join(__dirname, '..', 'client.js'), 'utf8'), win);
  w.win = win;
  // Runs every timer due within `ms`, in time order, letting promises settle.
  w.advance = async (ms) => {
    const end = w.now + ms;
    for (;;) {
      await flush();
      const due = w.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      w.timers = w.timers.filter((t) => t !== due);
      w.now = due.at;
      due.fn();
    }
    w.now = end;
    await flush();
  };
  return w;
}

async function flush() {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function pollAnswer(cursor, extra) {
  return Object.assign({ messages: [], cursor, likes: 0, online: 1, next_poll_ms: 2000,
                         degrade: { level: 0, likes_paused: false } }, extra || {});
}

function client(w, frames) {
  return new w.win.DanmuClient({ room: 'live1', uid: 'u1', base: 'http://page.test',
                                 onFrame: (f, t) => frames && frames.push({ f, t }), longRetryBaseMs: 10000 });
}

const tests = {
  async noRouterThreeFailedWsThenPollFromTheCursor() {
    const w = makeWorld();
    let polls = 0;
    w.routes['/messages'] = (url) => {
      polls++;
      return { status: 200, body: JSON.stringify(pollAnswer('c' + polls, { messages: [{ id: 'm' + polls, type: 'comment', text: 'x' }] })) };
    };
    const frames = [];
    const c = client(w, frames);
    c.start();
    for (let i = 0; i < 3; i++) {
      await w.advance(5000);
      assert.strictEqual(w.sockets.length, i + 1, 'one WebSocket attempt per try');
      assert.ok(w.sockets[i].url.startsWith('ws://page.test/v1/rooms/live1/ws?uid=u1&cursor='), w.sockets[i].url);
      w.sockets[i].onclose({ code: 1006, reason: '' });  // refused before open
    }
    await w.advance(0);
    assert.strictEqual(c.state.transport, 'poll');
    assert.strictEqual(c.state.wsAttempts, 3);
    assert.strictEqual(c.state.fallbacks, 1);
    assert.strictEqual(polls, 1, 'polls at once after the fallback');
    // next_poll_ms is obeyed: nothing before 2000 ms, the next poll at 2000 ms, from the cursor.
    await w.advance(1999);
    assert.strictEqual(polls, 1);
    await w.advance(1);
    assert.strictEqual(polls, 2);
    const last = w.fetches.filter((f) => f.url.indexOf('/messages') >= 0).pop();
    assert.ok(last.url.indexOf('cursor=c1') >= 0, 'resumes from the last cursor: ' + last.url);
    assert.strictEqual(frames.length, 2);
  },

  async routerSseWithEndpointsAndCursor() {
    const w = makeWorld();
    w.routes['/v1/route'] = () => ({ status: 200, body: JSON.stringify({ transport: 'sse', endpoints: ['http://edge1.test:9000'], poll_url: 'http://poll.test', rules_version: 3 }) });
    const frames = [];
    const c = client(w, frames);
    c.start();
    await w.advance(10);
    assert.strictEqual(w.sockets.length, 0, 'no WebSocket when the router says sse');
    assert.strictEqual(w.sources.length, 1);
    assert.ok(w.sources[0].url.startsWith('http://edge1.test:9000/v1/rooms/live1/events?uid=u1&cursor='), w.sources[0].url);
    w.sources[0].onopen();
    w.sources[0].onmessage({ data: JSON.stringify(pollAnswer('s1', { messages: [{ id: 'a', type: 'comment', text: 'hi' }] })) });
    assert.strictEqual(c.cursor, 's1');
    assert.strictEqual(c.state.transport, 'sse');
    assert.strictEqual(frames[0].t, 'sse', 'each frame says which transport brought it');
    // A broken stream after frames: reconnect ourselves, from the cursor.
    w.sources[0].onerror();
    await w.advance(1000);
    assert.strictEqual(w.sources.length, 2);
    assert.ok(w.sources[1].url.indexOf('cursor=s1') >= 0, w.sources[1].url);
    // The same message again (a repeat across a switch) is delivered once.
    w.sources[1].onmessage({ data: JSON.stringify(pollAnswer('s2', { messages: [{ id: 'a', type: 'comment', text: 'hi' }] })) });
    assert.strictEqual(frames[1].f.messages.length, 0);
  },

  async routerPollMeansNoLongConnection() {
    const w = makeWorld();
    w.routes['/v1/route'] = () => ({ status: 200, body: JSON.stringify({ transport: 'poll', endpoints: [], poll_url: 'http://poll.test' }) });
    w.routes['/messages'] = () => ({ status: 200, body: JSON.stringify(pollAnswer('p1')) });
    const c = client(w);
    c.start();
    await w.advance(60000);
    assert.strictEqual(w.sockets.length + w.sources.length, 0);
    assert.ok(w.fetches.some((f) => f.url.startsWith('http://poll.test/v1/rooms/live1/messages')));
  },

  async closeCodeReconnectElsewhereHonoursRetryAfterAndAsksTheRouter() {
    const w = makeWorld();
    let routes = 0;
    w.routes['/v1/route'] = () => { routes++; return { status: 200, body: JSON.stringify({ transport: 'ws', endpoints: ['http://e' + routes + '.test'] }) }; };
    const c = client(w);
    c.start();
    await w.advance(10);
    const ws = w.sockets[0];
    assert.ok(ws.url.startsWith('ws://e1.test/'), ws.url);
    ws.onopen();
    ws.onmessage({ data: JSON.stringify(pollAnswer('w1')) });
    ws.onclose({ code: 4000, reason: JSON.stringify({ retry_after_ms: 1234 }) });
    await w.advance(1233);
    assert.strictEqual(w.sockets.length, 1, 'waits retry_after_ms');
    await w.advance(1);
    assert.strictEqual(routes, 2, 'asks the router again');
    assert.strictEqual(w.sockets.length, 2);
    assert.ok(w.sockets[1].url.startsWith('ws://e2.test/v1/rooms/live1/ws?uid=u1&cursor=w1'), w.sockets[1].url);
    assert.strictEqual(c.state.longFailures, 0, 'a drain is not a failed connect');
  },

  async closeCodeMoveToPollingThenRetryWithBackoff() {
    const w = makeWorld();
    w.routes['/messages'] = () => ({ status: 200, body: JSON.stringify(pollAnswer('p')) });
    const c = client(w);
    c.start();
    await w.advance(10);
    w.sockets[0].onopen();
    w.sockets[0].onmessage({ data: JSON.stringify(pollAnswer('w1')) });
    w.sockets[0].onclose({ code: 4100, reason: 'degraded' });
    await w.advance(0);
    assert.strictEqual(c.state.transport, 'poll');
    assert.ok(w.fetches.some((f) => f.url.indexOf('/messages') >= 0 && f.url.indexOf('cursor=w1') >= 0),
              'polling resumes from the long connection\'s cursor');
    // The long connection is retried after the jittered backoff (10 s base, jitter 0.75 here).
    await w.advance(7000);
    assert.strictEqual(w.sockets.length, 1);
    await w.advance(1000);
    assert.strictEqual(w.sockets.length, 2, 'long connection retried after the backoff');
    w.sockets[1].onopen();
    w.sockets[1].onmessage({ data: JSON.stringify(pollAnswer('w2')) });
    assert.strictEqual(c.state.transport, 'ws');
    const pollsBefore = w.fetches.filter((f) => f.url.indexOf('/messages') >= 0).length;
    await w.advance(10000);
    assert.strictEqual(w.fetches.filter((f) => f.url.indexOf('/messages') >= 0).length, pollsBefore,
                       'polling stops once the long connection delivers');
  },

  async backoffGrowsBetweenFallbacks() {
    const w = makeWorld();
    w.routes['/messages'] = () => ({ status: 200, body: JSON.stringify(pollAnswer('p')) });
    const c = client(w);
    c.start();
    const failAll = async () => {
      for (let i = 0; i < 3; i++) {
        await w.advance(3000);
        w.sockets[w.sockets.length - 1].onclose({ code: 1006, reason: '' });
      }
      await w.advance(0);
    };
    await failAll();
    assert.strictEqual(c.state.fallbacks, 1);
    const n = w.sockets.length;
    await w.advance(8000);  // first retry at 7.5 s (10 s x 0.75)
    assert.strictEqual(w.sockets.length, n + 1);
    w.sockets[w.sockets.length - 1].onclose({ code: 1006, reason: '' });
    for (let i = 0; i < 2; i++) {
      await w.advance(3000);
      w.sockets[w.sockets.length - 1].onclose({ code: 1006, reason: '' });
    }
    await w.advance(0);
    assert.strictEqual(c.state.fallbacks, 2);
    const m = w.sockets.length;
    await w.advance(14000);
    assert.strictEqual(w.sockets.length, m, 'the second backoff is longer (20 s x 0.75)');
    await w.advance(2000);
    assert.strictEqual(w.sockets.length, m + 1);
  },

  async poll503WaitsRetryAfterAndShowsReconnecting() {
    const w = makeWorld();
    w.routes['/v1/route'] = () => ({ status: 200, body: JSON.stringify({ transport: 'poll' }) });
    let mode = 503;
    let polls = 0;
    w.routes['/messages'] = () => {
      polls++;
      return mode === 503 ? { status: 503, body: '{"error":{"code":"unavailable"}}', headers: { 'Retry-After': '3' } }
                          : { status: 200, body: JSON.stringify(pollAnswer('ok', { next_poll_ms: 4000 })) };
    };
    const c = client(w);
    c.start();
    await w.advance(10);
    assert.strictEqual(polls, 1);
    assert.strictEqual(c.state.reconnecting, true);
    await w.advance(2900);
    assert.strictEqual(polls, 1, 'no poll before Retry-After');
    mode = 200;
    await w.advance(200);
    assert.strictEqual(polls, 2);
    assert.strictEqual(c.state.reconnecting, false);
    await w.advance(3800);  // the poll answered at 3010 ms: the next one is due at 7010 ms
    assert.strictEqual(polls, 2, 'next_poll_ms from the answer');
    await w.advance(200);
    assert.strictEqual(polls, 3);
  },

  async networkErrorsBackOffExponentially() {
    const w = makeWorld();
    w.routes['/v1/route'] = () => ({ status: 200, body: JSON.stringify({ transport: 'poll' }) });
    let polls = 0;
    w.routes['/messages'] = () => { polls++; return 'network'; };
    const c = client(w);
    c.start();
    await w.advance(10);
    const times = [];
    let last = polls;
    for (let t = 0; t < 30000; t += 50) {
      await w.advance(50);
      if (polls !== last) { times.push(w.now); last = polls; }
    }
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] >= gaps[i - 1], 'gaps grow: ' + gaps);
    assert.ok(Math.max(...gaps) <= 8000, 'capped: ' + gaps);
    assert.ok(c.state.reconnecting);
  },

  async postRetries503WithRetryAfter() {
    const w = makeWorld();
    let posts = 0;
    w.routes['/v1/rooms/live1/messages'] = (url, init) => {
      if (init.method !== 'POST') return { status: 200, body: JSON.stringify(pollAnswer('p')) };
      posts++;
      return posts < 3 ? { status: 503, body: '{"error":{"code":"read_only","message":"frozen"}}', headers: { 'Retry-After': '1' } }
                       : { status: 202, body: '{"id":"x1","accepted_at":1}' };
    };
    const c = client(w);
    const retries = [];
    let done = null;
    c.post('hello', (code, wait) => retries.push([code, wait])).then((j) => { done = j; });
    await w.advance(10000);
    assert.strictEqual(posts, 3);
    assert.deepStrictEqual(retries.map((r) => r[0]), [503, 503]);
    assert.ok(retries.every((r) => r[1] >= 1000), 'waits at least Retry-After');
    assert.strictEqual(done.id, 'x1');
    const body = JSON.parse(w.fetches.find((f) => f.init.method === 'POST').init.body);
    assert.strictEqual(body.text, 'hello');
    assert.strictEqual(body.type, 'comment');
  },

  async routerFullUrlsAndFallbackReasonAndRecheck() {
    const w = makeWorld();
    const asks = [];
    let transport = 'ws';
    w.routes['/v1/route'] = (url) => {
      asks.push(url);
      return { status: 200, body: JSON.stringify({ transport, reason: 'percent',
        endpoints: ['ws://edge.test:7000/v1/rooms/live1/ws'], poll_url: 'http://edge.test:7000/v1/rooms/live1/messages',
        rules_version: 4, retry_after_ms: transport === 'poll' ? 60000 : 1000 }) };
    };
    let polls = 0;
    w.routes['/messages'] = () => { polls++; return { status: 200, body: JSON.stringify(pollAnswer('q' + polls)) }; };
    const c = client(w);
    c.start();
    await w.advance(10);
    assert.strictEqual(w.sockets[0].url, 'ws://edge.test:7000/v1/rooms/live1/ws?uid=u1&cursor=', 'full URL used as it is');
    for (let i = 0; i < 3; i++) {
      w.sockets[w.sockets.length - 1].onclose({ code: 1006, reason: '' });
      await w.advance(3000);
    }
    assert.strictEqual(c.state.transport, 'poll');
    assert.ok(w.fetches.some((f) => f.url.startsWith('http://edge.test:7000/v1/rooms/live1/messages?limit=')),
              'polls the router\'s poll_url');
    // The retry asks the router again and reports why it fell back, once.
    transport = 'poll';
    await w.advance(6000);
    assert.ok(asks[1].indexOf('&fallback=connect_failed') > 0, asks[1]);
    // Told to poll: the router is asked again after its retry_after_ms
    // (jittered to 45 s here; the ask was at 13.5 s, now is 15 s).
    await w.advance(39000);
    assert.strictEqual(asks.length, 2);
    await w.advance(5000);
    assert.strictEqual(asks.length, 3);
    assert.ok(asks[2].indexOf('fallback=') < 0, 'the reason is told once: ' + asks[2]);
  },

  async badRouterAnswerFallsBackToTheDefaultPlan() {
    const w = makeWorld();
    w.routes['/v1/route'] = () => ({ status: 200, body: JSON.stringify({ transport: 'carrier-pigeon' }) });
    const c = client(w);
    c.start();
    await w.advance(10);
    assert.strictEqual(w.sockets.length, 1, 'default plan: WebSocket first');
    assert.ok(w.sockets[0].url.startsWith('ws://page.test/'));
    assert.strictEqual(c.state.routed, false);
  },
};

(async () => {
  let failed = 0;
  for (const [name, fn] of Object.entries(tests)) {
    try {
      await fn();
      console.log('[ OK ] ' + name);
    } catch (e) {
      failed++;
      console.log('[FAIL] ' + name + '\n' + (e && e.stack || e));
    }
  }
  console.log(failed ? failed + ' failed' : 'all passed');
  process.exit(failed ? 1 : 0);
})();
