#pragma once
// How many records the processor's next batch may take (DESIGN §4: "when the
// backlog grows, the processor widens batches").
//
// A quiet room wants small batches: a record is applied as soon as it
// arrives and nothing waits for a batch to fill. A backlog wants big ones:
// one pipelined Lua round trip per (live room, type) carries many records,
// so a burst drains at Redis's speed instead of at one round trip per few
// records. The sizer moves between the two:
//   - it starts at `base_records` (processor.batch_max);
//   - it doubles, up to `ceiling_records`, after a batch that filled its
//     record limit or while the backlog exceeds the current limit;
//   - it halves, down to `base_records`, once a batch came back short and
//     the backlog is below a quarter of the current limit (hysteresis: the
//     size does not flap around one backlog value);
//   - a batch is also bounded by `ceiling_bytes` of payload; a batch that was
//     cut by bytes does not grow the record limit (more records would not fit).
// Pure logic with no clock and no I/O; one instance per processor worker,
// not thread-safe.
#include <cstdint>

namespace danmu::core {

struct BatchSizerOptions {
  int base_records = 500;             // processor.batch_max
  int ceiling_records = 10000;        // processor.batch_ceiling
  int64_t ceiling_bytes = 8 << 20;    // processor.batch_ceiling_bytes
};

struct BatchLimit {
  int records = 0;
  int64_t bytes = 0;
};

// What the last poll returned.
struct BatchObservation {
  int records = 0;        // records in the batch
  int64_t bytes = 0;      // their payload bytes
  int64_t backlog = -1;   // records still unapplied on this worker's partitions; -1 unknown
};

class BatchSizer {
 public:
  explicit BatchSizer(const BatchSizerOptions& options);
  // The limit for the next poll.
  BatchLimit limit() const { return {records_, options_.ceiling_bytes}; }
  // Adjusts the limit after a poll; returns the new one.
  BatchLimit Observe(const BatchObservation& last);

 private:
  BatchSizerOptions options_;
  int records_;
};

}  // namespace danmu::core
