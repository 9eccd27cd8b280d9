#pragma once
// A member of a Kafka consumer group that hands out batches and commits only
// what the caller says was applied (at-least-once). Not thread-safe: one per
// processor worker.
#include <cstdint>
#include <climits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/base/config.h"
#include "core/base/status.h"

namespace RdKafka { class Conf; }

namespace danmu::core {

struct KafkaRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::string key;
  std::string value;
};

// One partition of the topic as the GROUP sees it: the group's committed
// offset (whoever committed it) against the partition's high watermark.
struct PartitionLag {
  int32_t partition = 0;
  int64_t messages = 0;   // high watermark - committed position
  int64_t committed = 0;
  int64_t high = 0;
  bool assigned = false;  // assigned to this member now
};

class KafkaConsumer {
 public:
  static Result<std::unique_ptr<KafkaConsumer>> Create(const KafkaOptions& options, const std::string& client_id);
  ~KafkaConsumer();

  // Up to `max` records and about `max_bytes` of payload (a record that
  // crosses the limit is the last one; one record is always taken), waiting
  // at most `wait_ms` for the first one.
  std::vector<KafkaRecord> PollBatch(int max, int wait_ms, int64_t max_bytes = INT64_MAX);
  // Commits offset+1 for the highest record of each partition in `batch`.
  Status Commit(const std::vector<KafkaRecord>& batch);
  // Lag of EVERY partition of the topic for the whole group (so a process
  // sees the backlog of partitions other processes own, or nobody owns
  // yet), the ones assigned to this member marked. Partitions are listed
  // from the topic's metadata, re-read at most every 2 s (partitions added
  // online appear). Empty when the broker did not answer.
  std::vector<PartitionLag> Lag();
  // Partitions assigned to this member now.
  std::vector<int32_t> Assignment();
  void Close();

 private:
  KafkaConsumer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------
// Configuration shared by core's Kafka adapters (kafka_consumer.cc,
// kafka_producer.cc, kafka_log_reader.cc) so that every client of ours talks
// to a broker the same way. Not for use outside those adapters: librdkafka's
// types stay in core.

// (key, value) librdkafka settings, applied in order (a later one wins).
using KafkaSettings = std::vector<std::pair<std::string, std::string>>;

// A global librdkafka configuration with what every client of ours shares -
// `brokers` as bootstrap servers, reconnect backoff capped at 1 s (a broker
// back from a failure is found quickly), no log line per idle connection
// close - then `settings`. kInvalidArgument names the key librdkafka refused,
// after `what` ("kafka producer config").
Result<std::unique_ptr<RdKafka::Conf>> NewKafkaConf(const std::string& brokers, const KafkaSettings& settings,
                                                    const std::string& what);

// The same for a consumer that never moves or commits an offset on its own
// (the processor commits only what Redis accepted; the log reader commits
// nothing): `group` and `client_id`, auto commit and auto offset store off,
// the earliest offset when the group has none; then `settings`.
Result<std::unique_ptr<RdKafka::Conf>> NewKafkaConsumerConf(const std::string& brokers, const std::string& group,
                                                            const std::string& client_id,
                                                            const KafkaSettings& settings, const std::string& what);

}  // namespace danmu::core
