#pragma once
// A member of a Kafka consumer group that hands out batches and commits only
// what the caller says was applied (at-least-once). Not thread-safe: one per
// processor worker.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace danmu::core {

struct KafkaRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::string key;
  std::string value;
};

struct PartitionLag {
  int32_t partition = 0;
  int64_t messages = 0;   // high watermark - committed position
  int64_t committed = 0;
  int64_t high = 0;
};

class KafkaConsumer {
 public:
  static Result<std::unique_ptr<KafkaConsumer>> Create(const KafkaOptions& options, const std::string& client_id);
  ~KafkaConsumer();

  // Up to `max` records, waiting at most `wait_ms` for the first one.
  std::vector<KafkaRecord> PollBatch(int max, int wait_ms);
  // Commits offset+1 for the highest record of each partition in `batch`.
  Status Commit(const std::vector<KafkaRecord>& batch);
  // Lag of the partitions currently assigned to this member.
  std::vector<PartitionLag> Lag();
  void Close();

 private:
  KafkaConsumer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace danmu::core
