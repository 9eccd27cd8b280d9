#pragma once
// What degradation (DESIGN §7) means for one poll, like or pushed frame: the
// value every reader of the switches passes to the API layer.

namespace danmu::core {

// What degradation means for one poll/like (the levels of DESIGN §7).
struct DegradeView {
  int level = 0;
  bool likes_paused = false;
  bool thinned = false;
  int next_poll_ms = 0;      // 0: the configured default
  int thin_limit = 0;        // level 2: comments per poll in big rooms
};

}  // namespace danmu::core
