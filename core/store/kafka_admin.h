#pragma once
// Topic administration through librdkafka's Admin API (no shell-out to
// Kafka's scripts): the partition count of a topic and adding partitions
// online (CreatePartitions). Used by `danmuctl kafka partitions N` through
// replication/ops/kafka_partitions.h. Not thread-safe: one per caller.
//
// Adding partitions moves keys: the producer's partitioner maps a key to
// hash(key) % partitions, so some (live room, type) keys land on a new
// partition from then on while their older records are still in the old
// one. The processor's apply script assigns scores at apply time, so what
// becomes visible stays strictly increasing per (room, type); see README
// "Growing Kafka partitions" for what an operator sees.
#include <memory>
#include <string>

#include "core/base/status.h"

namespace danmu::core {

class KafkaAdmin {
 public:
  static Result<std::unique_ptr<KafkaAdmin>> Create(const std::string& brokers);
  ~KafkaAdmin();

  // The topic's partitions now; kNotFound when it does not exist,
  // kUnavailable when the broker did not answer in time.
  Result<int> PartitionCount(const std::string& topic, int timeout_ms = 5000);
  // Grows `topic` to `total` partitions. Ok when it already has `total`;
  // kInvalidArgument when it has more (Kafka never removes partitions).
  Status GrowPartitions(const std::string& topic, int total, int timeout_ms = 15000);
  // Creates `topic` with `partitions` (replication factor 1: the local
  // stack and tests). Ok when it already exists.
  Status CreateTopic(const std::string& topic, int partitions, int timeout_ms = 15000);
  const std::string& brokers() const { return brokers_; }

 private:
  KafkaAdmin() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string brokers_;
};

}  // namespace danmu::core
