#include "core/live/batch_sizer.h"

#include <algorithm>

namespace danmu::core {

BatchSizer::BatchSizer(const BatchSizerOptions& options) : options_(options) {
  // Config validation guarantees 1 <= base <= ceiling; stay sane regardless.
  options_.base_records = std::max(1, options_.base_records);
  options_.ceiling_records = std::max(options_.base_records, options_.ceiling_records);
  options_.ceiling_bytes = std::max<int64_t>(1, options_.ceiling_bytes);
  records_ = options_.base_records;
}

BatchLimit BatchSizer::Observe(const BatchObservation& last) {
  const bool cut_by_bytes = last.bytes >= options_.ceiling_bytes;
  const bool filled = last.records >= records_;
  const bool behind = last.backlog > records_;
  if (!cut_by_bytes && (filled || behind)) {
    // Double, in 64 bits: a ceiling near INT_MAX must not overflow.
    int64_t grown = std::min<int64_t>(2 * static_cast<int64_t>(records_), options_.ceiling_records);
    records_ = static_cast<int>(grown);
  } else if (!filled && last.backlog >= 0 && last.backlog < records_ / 4) {
    records_ = std::max(options_.base_records, records_ / 2);
  }
  return limit();
}

}  // namespace danmu::core
