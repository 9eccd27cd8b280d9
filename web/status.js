// The on-call status page: both rooms side by side from GET /v1/status,
// refreshed every 2 s. Read-only. Every value goes in with textContent.
(function () {
  'use strict';
  var REFRESH_MS = 2000;
  var SVG = 'http://www.w3.org/2000/svg';
  var $ = function (id) { return document.getElementById(id); };
  var lastOk = 0;
  var failures = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined || !isFinite(s) || s < 0) return '—';
    return s < 1 ? Math.round(s * 1000) + ' ms' : (Math.round(s * 100) / 100) + ' s';
  }

  function fmtRate(r) {
    if (r === null || r === undefined || !isFinite(r)) return '—';
    return r < 10 ? (Math.round(r * 10) / 10) + '/s' : Math.round(r) + '/s';
  }

  function fmtIn(ms) {
    if (ms <= 0) return 'expired';
    var s = Math.round(ms / 1000);
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  // A sparkline of the last minutes; null values leave gaps.
  function sparkline(values, label, fmt, bad) {
    var wrap = el('div', 'spark');
    wrap.appendChild(el('span', 'spark-label', label));
    var w = 150, h = 26;
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('width', w);
    svg.setAttribute('height', h);
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    var nums = values.filter(function (v) { return v !== null && isFinite(v); });
    var max = Math.max.apply(null, nums.concat([1e-9]));
    var n = values.length;
    var seg = [];
    var flush = function () {
      if (seg.length > 1) {
        var pl = document.createElementNS(SVG, 'polyline');
        pl.setAttribute('points', seg.join(' '));
        pl.setAttribute('class', 'line');
        svg.appendChild(pl);
      } else if (seg.length === 1) {
        var p = seg[0].split(',');
        var c = document.createElementNS(SVG, 'circle');
        c.setAttribute('cx', p[0]); c.setAttribute('cy', p[1]); c.setAttribute('r', '1.5');
        c.setAttribute('class', 'dot');
        svg.appendChild(c);
      }
      seg = [];
    };
    for (var i = 0; i < n; i++) {
      var v = values[i];
      if (v === null || !isFinite(v)) { flush(); continue; }
      var x = n > 1 ? (i / (n - 1)) * (w - 2) + 1 : w / 2;
      var y = h - 2 - (v / max) * (h - 4);
      seg.push(x.toFixed(1) + ',' + y.toFixed(1));
    }
    flush();
    wrap.appendChild(svg);
    var last = n ? values[n - 1] : null;
    var v = el('span', 'spark-value', last === null || last === undefined ? '—' : fmt(last));
    if (bad && last !== null && bad(last)) v.classList.add('red');
    wrap.appendChild(v);
    return wrap;
  }

  function row(card, label, field, valueNode, red) {
    var r = el('div', 'row' + (red ? ' red' : ''));
    r.appendChild(el('span', 'label', label));
    var v = el('span', 'value');
    v.setAttribute('data-field', field);
    if (typeof valueNode === 'string') v.textContent = valueNode; else v.appendChild(valueNode);
    r.appendChild(v);
    card.appendChild(r);
    return v;
  }

  // The lease cell: who holds the leader key, at which epoch, and how long
  // its lease has left. Each room's part says what THIS room holds (held,
  // valid = it may acknowledge, remaining_ms) and whom it saw holding the
  // key (holder_room/holder_epoch). A room that does not hold the key has
  // valid false by definition, so whether the holder's lease is live is read
  // from the holder's own part (its own monotonic count, no clock compared
  // across rooms). Red: the holder's part says its lease is not valid, the
  // holder's part is missing or unreachable, or nobody holds the key.
  function leaseView(r, all) {
    var l = r.lease;
    if (!l) return { text: '— (no lease in this build)', red: false, state: 'none' };
    if (l.enabled === false) return { text: '— (no lease: etcd not configured)', red: false, state: 'none' };
    var holder = l.holder_room;
    if (!holder) return { text: 'nobody holds the leader key', red: true, state: 'missing' };
    var h = holder === r.room ? r : null;
    for (var i = 0; !h && i < all.length; i++) if (all[i].room === holder) h = all[i];
    // The holder's own value is the newest (it rewrites it on every renewal).
    var epoch = ' · epoch ' + (h && h.lease && h.lease.held && h.lease.holder_epoch ? h.lease.holder_epoch : l.holder_epoch);
    var who = 'room ' + holder;
    if (!h || h.reachable === false || !h.lease) {
      return { text: who + epoch + ' · lease state unknown (room ' + holder + ' does not answer)', red: true, state: 'unknown' };
    }
    if (!h.lease.held || !h.lease.valid) {
      var why = !h.lease.held ? 'not held by it' : h.lease.etcd_reachable === false ? 'etcd unreachable' : 'not renewed';
      return { text: who + epoch + ' · (expired: ' + why + ')', red: true, state: 'expired' };
    }
    var left = fmtSeconds((+h.lease.remaining_ms || 0) / 1000);
    return { text: who + epoch + ' · ' + left + ' left' + (h === r ? ' (held here)' : ''), red: false, state: 'live' };
  }

  // The connections cell: long connections by transport (the push layer's
  // count), polling as the other open HTTP connections of the public port.
  function connectionsView(r) {
    var c = r.connections;
    var push = r.push;
    var wrap = el('div');
    if (!c) {
      wrap.textContent = '— (no public port in this room)';
      return wrap;
    }
    var parts = [['ws', 'ws'], ['sse', 'sse'], ['http', 'polling/HTTP'], ['long', 'long']];
    var first = true;
    parts.forEach(function (p) {
      if (c[p[0]] === undefined) return;
      if (!first) wrap.appendChild(document.createTextNode(' · '));
      first = false;
      var s = el('span', 'conn', p[1] + ' ' + c[p[0]]);
      s.setAttribute('data-transport', p[0]);
      s.setAttribute('data-count', String(c[p[0]]));
      wrap.appendChild(s);
    });
    if (push && !push.enabled) wrap.appendChild(el('div', 'muted', 'long connections off (push.enabled false)'));
    else if (push && push.poll_only) wrap.appendChild(el('div', 'warn-text', 'move-to-polling switch on (danmuctl push poll-only off)'));
    return wrap;
  }

  function renderRoom(r, now, all) {
    var card = el('section', 'card');
    card.setAttribute('data-room', r.room);
    var head = el('div', 'card-head');
    head.appendChild(el('h2', null, 'Room ' + r.room));
    if (r.reachable === false) {
      var down = el('span', 'badge red', 'UNREACHABLE');
      down.setAttribute('data-field', 'role');
      head.appendChild(down);
      card.appendChild(head);
      if (r.error) card.appendChild(el('p', 'muted', r.error));
      renderProblems(card, r.problems);
      return card;
    }
    var role = el('span', 'badge ' + (r.role === 'primary' ? 'primary' : 'secondary'), String(r.role).toUpperCase());
    role.setAttribute('data-field', 'role');
    head.appendChild(role);
    if (r.writes_frozen) head.appendChild(el('span', 'badge red', 'FROZEN'));
    if (r.role === 'primary' && !r.confirmed) head.appendChild(el('span', 'badge red', 'UNCONFIRMED'));
    card.appendChild(head);

    row(card, 'epoch', 'epoch', String(r.epoch));
    var lease = leaseView(r, all);
    var lv = row(card, 'lease holder', 'lease', lease.text, lease.red);
    lv.setAttribute('data-state', lease.state);
    var rep = r.replication || {};
    var isMaster = r.role === 'primary' || rep.local_is_master;
    row(card, 'replication', 'replication', isMaster ? 'master (writes here)' :
        'lag ' + fmtSeconds(rep.lag_seconds) + ' · link ' + (rep.link_up ? 'up' : 'DOWN') +
        (rep.offset_lag_bytes ? ' · ' + rep.offset_lag_bytes + ' B behind' : ''),
        !isMaster && (!rep.link_up || rep.lag_seconds > 2));
    var p = r.processor || {};
    var standby = r.role !== 'primary' && p.backlog < 0;
    row(card, 'Kafka backlog', 'backlog', standby ? 'standby (this room\'s processor is idle)' :
        (p.backlog < 0 ? '—' : p.backlog + ' msgs') + ' · processor delay ' +
        fmtSeconds(p.delay_seconds) + (p.paused ? ' · PAUSED' : '') + (p.fenced ? ' · FENCED' : ''),
        p.backlog > 1000 || p.delay_seconds > 2 || p.paused || p.fenced);
    row(card, 'read source', 'read_source', r.read_source === 'peer' ? 'peer room (stale-read fallback)' : 'local replica',
        r.read_source === 'peer');

    var d = r.degrade || { level: 0, settings: [] };
    var dv = el('div');
    dv.appendChild(el('span', 'level level-' + d.level, 'level ' + d.level + (d.level > 0 ? '' : ' in this room')));
    (d.settings || []).forEach(function (s) {
      var line = el('div', 'setting');
      line.setAttribute('data-scope', s.scope);
      line.textContent = s.scope + ': level ' + s.level + ' · ' + s.source + ' · expires in ' + fmtIn(s.expires_at_ms - now) +
          (s.reason ? ' · “' + s.reason + '”' : '');
      dv.appendChild(line);
    });
    row(card, 'degradation', 'degrade', dv, d.level > 0);

    var pr = r.probe || {};
    var pv = el('div');
    if (!pr.ran) {
      pv.textContent = 'no probe yet';
    } else {
      (pr.pairs || []).forEach(function (pair) {
        var line = el('div', 'pair', pair.write_room + '→' + pair.read_room + '  ' +
            (pair.seconds === null ? 'not seen' : fmtSeconds(pair.seconds)));
        if (pair.seconds === null) line.classList.add('red');
        pv.appendChild(line);
      });
      if (!pr.ok) pv.appendChild(el('div', 'red', 'failing stage: ' + pr.failed_stage));
    }
    row(card, 'probe end-to-end', 'probe', pv, pr.ran && !pr.ok);

    var rates = r.rates || {};
    row(card, 'writes · polls', 'rates', fmtRate(rates.writes_per_second) + ' · ' + fmtRate(rates.polls_per_second));
    row(card, 'connections', 'connections', connectionsView(r));
    row(card, 'route rollout', 'route', r.route && r.route.percent !== undefined ? r.route.percent + ' % long connections' :
        '— (no router in this build)');

    var h = r.history || { lag_seconds: [], backlog: [], probe_ms: [] };
    var sparks = el('div', 'sparks');
    sparks.appendChild(sparkline(h.lag_seconds || [], 'lag', fmtSeconds, function (v) { return !isMaster && v > 2; }));
    sparks.appendChild(sparkline(h.backlog || [], 'backlog', function (v) { return Math.round(v) + ''; },
        function (v) { return v > 1000; }));
    sparks.appendChild(sparkline(h.probe_ms || [], 'probe', function (v) { return Math.round(v) + ' ms'; }));
    card.appendChild(sparks);
    renderProblems(card, r.problems);
    return card;
  }

  function renderProblems(parent, problems) {
    if (!problems || !problems.length) {
      parent.appendChild(el('div', 'ok-line', 'no problems'));
      return;
    }
    var list = el('ul', 'problems');
    problems.forEach(function (p) {
      var li = el('li', 'problem');
      li.appendChild(el('div', 'what', p.what));
      var fix = el('div', 'fix');
      fix.appendChild(el('span', null, 'fix: '));
      fix.appendChild(el('code', null, p.fix));
      li.appendChild(fix);
      li.appendChild(el('div', 'runbook', 'runbook: ' + p.runbook));
      list.appendChild(li);
    });
    parent.appendChild(list);
  }

  function render(s) {
    var now = s.generated_at_ms || Date.now();
    var rooms = $('rooms');
    var next = document.createDocumentFragment();
    (s.rooms || []).forEach(function (r) { next.appendChild(renderRoom(r, now, s.rooms)); });
    rooms.textContent = '';
    rooms.appendChild(next);
    var cross = $('cross');
    cross.textContent = '';
    var all = (s.problems || []).length;
    (s.rooms || []).forEach(function (r) { all += (r.problems || []).length; });
    if ((s.problems || []).length) {
      cross.classList.remove('hidden');
      renderProblems(cross, s.problems);
    } else {
      cross.classList.add('hidden');
    }
    var overall = $('overall');
    overall.textContent = all ? all + (all === 1 ? ' problem' : ' problems') : 'all good';
    overall.className = 'pill ' + (all ? 'bad' : 'good');
  }

  function refresh() {
    fetch('/v1/status', { cache: 'no-store' }).then(function (resp) {
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      return resp.json();
    }).then(function (s) {
      failures = 0;
      lastOk = Date.now();
      render(s);
      $('updated').textContent = 'updated ' + new Date(lastOk).toLocaleTimeString('en-GB');
    }).catch(function (e) {
      failures += 1;
      var overall = $('overall');
      overall.textContent = 'status endpoint unreachable (' + e.message + ')';
      overall.className = 'pill bad';
      $('updated').textContent = lastOk ? 'last data ' + Math.round((Date.now() - lastOk) / 1000) + ' s ago' : '';
    }).then(function () {
      setTimeout(refresh, failures ? Math.min(10000, REFRESH_MS * failures) : REFRESH_MS);
    });
  }
  refresh();
})();
