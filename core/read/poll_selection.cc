#include "core/read/poll_selection.h"

#include <algorithm>

namespace danmu::core {

PollSelection SelectPoll(const std::vector<PollCandidate>& all, const std::optional<Cursor>& cursor, int limit,
                         bool big_room_slice, int thin_limit, const Cursor& tops, std::mt19937_64& rng) {
  PollSelection out;
  out.next = cursor ? *cursor : tops;
  std::vector<size_t> kept;
  kept.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i) kept.push_back(i);
  if (thin_limit > 0 && cursor) {
    std::vector<size_t> others;
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].thinnable) others.push_back(i);
    }
    if (others.size() > static_cast<size_t>(thin_limit)) {
      // A uniform sample of thin_limit: partial Fisher-Yates.
      for (size_t i = 0; i < static_cast<size_t>(thin_limit); ++i) {
        std::uniform_int_distribution<size_t> pick(i, others.size() - 1);
        std::swap(others[i], others[pick(rng)]);
      }
      std::vector<bool> drop(all.size(), false);
      for (size_t i = thin_limit; i < others.size(); ++i) drop[others[i]] = true;
      kept.clear();
      for (size_t i = 0; i < all.size(); ++i) {
        if (drop[i]) out.next.after[all[i].type] = std::max(out.next.after[all[i].type], all[i].score);
        else kept.push_back(i);
      }
      // A dropped comment above the last served message would be skipped
      // only if the limit cuts below it; cap the cursor at what was served.
      if (kept.size() > static_cast<size_t>(limit)) {
        const int64_t cutoff = all[kept[limit - 1]].score;
        for (int t = 0; t < kStoredTypeCount; ++t) {
          if (out.next.after[t] > cutoff) out.next.after[t] = std::max(cursor->after[t], cutoff);
        }
      }
      out.thinned = true;
    }
  }
  size_t take_from = 0, take_to = kept.size();
  if (!cursor || big_room_slice) {
    if (kept.size() > static_cast<size_t>(limit)) take_from = kept.size() - limit;
    for (int t = 0; t < kStoredTypeCount; ++t) out.next.after[t] = std::max(out.next.after[t], tops.after[t]);
  } else {
    take_to = std::min(kept.size(), static_cast<size_t>(limit));
  }
  out.served.assign(kept.begin() + take_from, kept.begin() + take_to);
  for (size_t i : out.served) out.next.after[all[i].type] = std::max(out.next.after[all[i].type], all[i].score);
  return out;
}

}  // namespace danmu::core
