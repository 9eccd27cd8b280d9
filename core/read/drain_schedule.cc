#include "core/read/drain_schedule.h"

namespace danmu::core {

DrainSchedule::DrainSchedule(size_t total, int64_t start_ms, int64_t spread_ms)
    : total_(total), start_ms_(start_ms), spread_ms_(spread_ms > 0 ? spread_ms : 0) {}

size_t DrainSchedule::DueBy(int64_t now_ms) const {
  if (spread_ms_ == 0 || now_ms >= start_ms_ + spread_ms_) return total_;
  if (now_ms <= start_ms_) return 0;
  // k is due when spread * k / total <= elapsed, i.e. k <= elapsed * total / spread.
  const auto elapsed = static_cast<unsigned __int128>(now_ms - start_ms_);
  const auto due = static_cast<size_t>(elapsed * total_ / static_cast<unsigned __int128>(spread_ms_));
  return due < total_ ? due : total_;
}

}  // namespace danmu::core
