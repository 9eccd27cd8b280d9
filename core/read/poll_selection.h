#pragma once
// What one poll serves out of the candidates the room cache found after the
// client's cursor (pure logic; RoomCache::Poll gathers, this chooses).
//
//   - With a cursor: everything after it, oldest first, up to `limit`; the
//     cursor advances per type exactly to what was served, so the next poll
//     resumes with no gap and no repeat.
//   - Without one (the recent tail), or for a big room's slice: the most
//     recent `limit`; the cursor jumps to the top of every type.
//   - Level-2 thinning (thin_limit > 0, with a cursor): every candidate that
//     is not `thinnable` (gifts, joins, system, the viewer's own and priority
//     comments) is kept, plus a uniform sample of thin_limit thinnable ones;
//     the cursor moves past what was left out, but never past the last
//     served message when `limit` cuts the answer short (so nothing that
//     would have been served is skipped).
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "core/model/cursor.h"

namespace danmu::core {

struct PollCandidate {
  int64_t score = 0;
  int type = 0;            // kStoredTypes index
  bool thinnable = false;  // a comment, neither priority nor the viewer's own
};

struct PollSelection {
  std::vector<size_t> served;  // indices into the candidates, ascending
  Cursor next;
  bool thinned = false;
};

// `candidates` sorted by (score, type); `tops` the highest score held per
// type; limit >= 1.
PollSelection SelectPoll(const std::vector<PollCandidate>& candidates, const std::optional<Cursor>& cursor, int limit,
                         bool big_room_slice, int thin_limit, const Cursor& tops, std::mt19937_64& rng);

}  // namespace danmu::core
