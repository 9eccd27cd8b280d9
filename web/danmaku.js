// Bullet comments ("danmaku") flying right to left over a stage, in lanes
// that never overlap. Defines window.DanmakuStage. No dependencies.
//
// Lane assignment (what real players do): every bullet crosses the stage in
// the same time, so its speed is (stage width + its width) / duration: a long
// comment moves faster. A new bullet may enter lane L only if
//   1. the last bullet of L has fully entered the stage, plus a gap, and
//   2. the new bullet, if faster, cannot catch up with it before that one
//      has left the stage: the new head reaches the left edge no earlier than
//      the old tail does.
// The first (top-most) lane that allows it wins; if none does, the bullet
// waits in a bounded queue (oldest dropped under a flood: a viewer cannot
// read more anyway) and is retried on the next animation frame.
//
// Text is inserted with textContent, never as HTML.
(function (global) {
  'use strict';

  function DanmakuStage(el, opts) {
    opts = opts || {};
    this.el = el;
    this.durationMs = opts.durationMs || 8000;
    this.laneHeight = opts.laneHeight || 34;
    this.gapPx = opts.gapPx || 24;
    this.maxQueue = opts.maxQueue || 200;
    this.lanes = [];     // per lane: the last bullet {start, width, speed}
    this.queue = [];
    this.shown = 0;
    this.dropped = 0;
    var self = this;
    this.tick = function () { self.drain(); global.requestAnimationFrame(self.tick); };
    global.requestAnimationFrame(this.tick);
  }

  DanmakuStage.prototype.laneCount = function () {
    return Math.max(1, Math.floor((this.el.clientHeight - 8) / this.laneHeight));
  };

  // Enqueues a comment: {text, own, priority}.
  DanmakuStage.prototype.add = function (item) {
    this.queue.push(item);
    if (this.queue.length > this.maxQueue) {
      this.queue.shift();
      this.dropped += 1;
    }
    this.drain();
  };

  DanmakuStage.prototype.canEnter = function (lane, width, speed, stageW) {
    var last = this.lanes[lane];
    if (!last) return true;
    // Where the last one really is: the animation's own clock (a busy main
    // thread starts an animation later than it was asked for).
    var t = last.anim.currentTime;
    if (t === null || t === undefined) t = 0;
    if (t >= this.durationMs) return true;                       // it has left
    var travelled = t * last.speed;                              // px the last one moved
    if (travelled < last.width + this.gapPx) return false;       // 1. not fully in yet
    var lastTailExit = (stageW + last.width) / last.speed - t;   // ms until it has left
    var newHeadExit = stageW / speed;                            // ms until the new head reaches the left edge
    return newHeadExit >= lastTailExit;                          // 2. no catching up
  };

  DanmakuStage.prototype.drain = function () {
    var stageW = this.el.clientWidth;
    if (!stageW) return;
    var lanes = this.laneCount();
    while (this.queue.length) {
      var item = this.queue[0];
      var node = this.render(item);
      node.style.visibility = 'hidden';
      this.el.appendChild(node);
      var width = node.offsetWidth;
      var speed = (stageW + width) / this.durationMs;  // px per ms
      var lane = -1;
      for (var l = 0; l < lanes; l++) {
        if (this.canEnter(l, width, speed, stageW)) { lane = l; break; }
      }
      if (lane < 0) {
        this.el.removeChild(node);
        return;  // every lane busy: retry on the next frame
      }
      this.queue.shift();
      this.launch(node, lane, width, speed, stageW);
    }
  };

  DanmakuStage.prototype.render = function (item) {
    var node = global.document.createElement('div');
    node.className = 'danmaku' + (item.own ? ' own' : '') + (item.priority ? ' priority' : '');
    node.textContent = item.text;  // never innerHTML: user text is text
    if (item.uid) node.setAttribute('data-uid', item.uid);
    if (item.via) node.setAttribute('data-via', item.via);  // the transport that brought it (ws, sse, poll)
    return node;
  };

  DanmakuStage.prototype.launch = function (node, lane, width, speed, stageW) {
    node.style.top = (4 + lane * this.laneHeight) + 'px';
    node.style.visibility = 'visible';
    node.setAttribute('data-lane', String(lane));
    this.shown += 1;
    var el = this.el;
    var anim = node.animate(
      [{ transform: 'translateX(' + stageW + 'px)' }, { transform: 'translateX(' + (-width) + 'px)' }],
      { duration: this.durationMs, easing: 'linear', fill: 'forwards' });
    this.lanes[lane] = { anim: anim, width: width, speed: speed };
    anim.onfinish = function () { if (node.parentNode === el) el.removeChild(node); };
  };

  global.DanmakuStage = DanmakuStage;
})(window);
