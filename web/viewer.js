// The viewer page: a stage with bullet comments, a gift banner, a like
// counter, the online count, a room picker and a composer. Everything from
// users goes in with textContent.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var ROOMS = ['live0', 'live1', 'live2', 'live3'];
  var ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;

  function roomFromPath() {
    var m = /^\/watch\/([^/]+)$/.exec(location.pathname);
    var r = m ? decodeURIComponent(m[1]) : 'live1';
    return ROOM_RE.test(r) && r.indexOf('__') !== 0 ? r : 'live1';
  }

  function viewerUid() {
    var uid = '';
    try { uid = localStorage.getItem('danmu-uid') || ''; } catch (e) { /* storage off */ }
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(uid)) {
      uid = 'web-' + Math.random().toString(36).slice(2, 10);
      try { localStorage.setItem('danmu-uid', uid); } catch (e) { /* storage off */ }
    }
    return uid;
  }

  var room = roomFromPath();
  var uid = viewerUid();
  var stage = new DanmakuStage($('danmaku-layer'), { durationMs: 9000 });
  var likes = -1;
  var giftQueue = [];
  var giftShowing = false;

  // Room picker.
  var picker = $('room-picker');
  function fillPicker() {
    picker.textContent = '';
    var rooms = ROOMS.indexOf(room) < 0 ? ROOMS.concat([room]) : ROOMS;
    rooms.forEach(function (r) {
      var o = document.createElement('option');
      o.value = r;
      o.textContent = r;
      if (r === room) o.selected = true;
      picker.appendChild(o);
    });
  }
  fillPicker();
  picker.addEventListener('change', function () {
    room = picker.value;
    history.pushState(null, '', '/watch/' + encodeURIComponent(room));
    likes = -1;
    $('like-count').textContent = '0';
    $('now-playing').textContent = 'room ' + room;
    client.switchRoom(room);
  });
  $('now-playing').textContent = 'room ' + room;

  function showGift() {
    if (giftShowing || !giftQueue.length) return;
    giftShowing = true;
    var g = giftQueue.shift();
    $('gift-text').textContent = g;
    var banner = $('gift-banner');
    banner.classList.remove('hidden');
    banner.classList.remove('in');
    void banner.offsetWidth;  // restart the animation
    banner.classList.add('in');
    setTimeout(function () {
      banner.classList.add('hidden');
      giftShowing = false;
      showGift();
    }, 2600);
  }

  function burst(n) {
    var layer = $('burst-layer');
    for (var i = 0; i < Math.min(n, 8); i++) {
      var h = document.createElement('span');
      h.className = 'burst';
      h.textContent = '♥';
      h.style.left = (Math.random() * 60 - 30) + 'px';
      h.style.animationDelay = (i * 60) + 'ms';
      layer.appendChild(h);
      setTimeout(function (node) { return function () { if (node.parentNode) node.parentNode.removeChild(node); }; }(h), 1600 + i * 60);
    }
    var c = $('like-count');
    c.classList.remove('pop');
    void c.offsetWidth;
    c.classList.add('pop');
  }

  function setDegrade(d) {
    var level = d && +d.level || 0;
    var el = $('degrade');
    if (level > 0) {
      el.textContent = 'degraded: level ' + level + (d.thinned ? ' · comments thinned' : '');
      el.className = 'pill warn level-' + level;
    } else {
      el.className = 'pill hidden';
    }
    $('likes-paused').classList.toggle('hidden', !(d && d.likes_paused));
    $('likes').classList.toggle('is-paused', !!(d && d.likes_paused));
  }

  // A poll (or a coalesced frame) brings a batch at once: spread its comments
  // over part of the interval so that they fly in one after another, as they
  // were written, instead of as a block. Own comments go at once.
  function onFrame(frame, via) {
    var msgs = frame.messages || [];
    var comments = msgs.filter(function (m) { return m.type === 'comment' && typeof m.text === 'string'; });
    var spread = Math.min(1500, Math.max(0, (+frame.next_poll_ms || 2000) * 0.75));
    comments.forEach(function (m, i) {
      var item = { text: m.text, own: m.uid === uid, priority: !!m.priority, uid: m.uid, via: via };
      var delay = item.own || comments.length < 2 ? 0 : Math.round(i * spread / comments.length);
      if (delay) setTimeout(function () { stage.add(item); }, delay); else stage.add(item);
    });
    for (var i = 0; i < msgs.length; i++) {
      var m = msgs[i];
      if (m.type === 'comment') {
        continue;
      } else if (m.type === 'gift' && m.gift) {
        giftQueue.push(String(m.uid) + ' sent ' + String(m.gift.id) + ' ×' + String(m.gift.count));
        if (giftQueue.length > 20) giftQueue.shift();
        showGift();
      } else if (m.type === 'system' && typeof m.text === 'string') {
        $('now-playing').textContent = 'room ' + room + ' · ' + m.text;
      }
    }
    if (typeof frame.likes === 'number') {
      if (likes >= 0 && frame.likes > likes) burst(frame.likes - likes);
      likes = frame.likes;
      $('like-count').textContent = likes.toLocaleString('en-US');
    }
    if (typeof frame.online === 'number') $('online-count').textContent = frame.online.toLocaleString('en-US');
    setDegrade(frame.degrade);
  }

  function onState(s) {
    var t = $('transport');
    t.textContent = { none: 'connecting…', poll: 'polling', ws: 'WebSocket', sse: 'SSE' }[s.transport] || s.transport;
    t.setAttribute('data-transport', s.transport);
    t.title = 'transport: ' + s.transport + (s.fallbacks ? ' (fell back ' + s.fallbacks + '×: ' + s.lastError + ')' : '');
    $('reconnecting').classList.toggle('hidden', !s.reconnecting);
  }

  var client = new DanmuClient({ room: room, uid: uid, onFrame: onFrame, onState: onState });
  client.start();

  // Composer.
  var status = $('post-status');
  function retrying(code, wait) {
    status.textContent = (code ? 'busy (' + code + ')' : 'offline') + ', retrying in ' + Math.round(wait / 100) / 10 + ' s';
    $('reconnecting').classList.remove('hidden');
  }
  $('composer').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = $('text');
    var text = input.value.trim();
    if (!text) return;
    $('send').disabled = true;
    status.textContent = 'sending…';
    client.post(text, retrying).then(function () {
      input.value = '';
      status.textContent = '';
    }).catch(function (e) {
      status.textContent = 'not sent: ' + e.message;
    }).then(function () {
      $('send').disabled = false;
      if (!client.state.reconnecting) $('reconnecting').classList.add('hidden');
    });
  });

  // Likes: clicks are summed and sent as one burst (the server aggregates too).
  var pendingLikes = 0;
  var likeTimer = null;
  $('like').addEventListener('click', function () {
    pendingLikes += 1;
    burst(1);
    if (likeTimer) return;
    likeTimer = setTimeout(function () {
      var n = Math.min(pendingLikes, 100);
      pendingLikes = 0;
      likeTimer = null;
      client.like(n, retrying).catch(function (e) { status.textContent = 'like not sent: ' + e.message; });
    }, 300);
  });

  window.addEventListener('popstate', function () {
    var r = roomFromPath();
    if (r !== room) { room = r; fillPicker(); client.switchRoom(room); }
  });

  // For tests and the curious: the page's parts.
  window.__viewer = { client: client, stage: stage, uid: uid, room: function () { return room; } };
})();
