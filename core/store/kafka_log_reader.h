#pragma once
// Reads a Kafka topic's log as it stood at one moment: every partition, from
// its first record with a timestamp >= since_ms up to its high watermark at
// the time of Open. Records appended later are not read.
//
// It reads by manual assignment under a group id of its own that never joins
// a group, and never commits: the group that owns the topic (another room's
// processor) finds its positions where it left them. Made for reading a lost
// primary's log after a failover (replication/reconciler.h).
//
// Not thread-safe: one reader, one user.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/store/kafka_consumer.h"  // KafkaRecord
#include "core/base/status.h"

namespace danmu::core {

class KafkaLogReader {
 public:
  // `timeout_ms` bounds every broker request of Open and the silence Next
  // tolerates. kUnavailable: the cluster did not answer (metadata, offsets
  // for the time, watermarks, assignment); kNotFound: no such topic, or it
  // has no partitions; kInvalidArgument: a configuration librdkafka refused.
  static Result<std::unique_ptr<KafkaLogReader>> Open(const std::string& brokers, const std::string& topic,
                                                      int64_t since_ms, int timeout_ms);
  ~KafkaLogReader();

  // Up to `max` records, in log order per partition (partitions interleave);
  // an empty vector once every partition reached its end as fixed at Open.
  // kUnavailable when no record came for timeout_ms while some partition had
  // not reached its end (the log stopped answering mid-read).
  Result<std::vector<KafkaRecord>> Next(int max);

  // The partitions and the offsets [from, to) of each: "p0:[3,9) p1:[0,0)".
  std::string Describe() const;

 private:
  KafkaLogReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace danmu::core
