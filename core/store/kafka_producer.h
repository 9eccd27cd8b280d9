#pragma once
// Produces records to Kafka with acks=all and the idempotent producer, and
// tells the caller only when the broker acknowledged (or definitely failed).
// A 2xx to a client is sent only after Produce() returned Ok. Thread-safe.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/config.h"
#include "core/base/status.h"

namespace danmu::core {

class Metrics;

class KafkaProducer {
 public:
  static Result<std::unique_ptr<KafkaProducer>> Create(const KafkaOptions& options, Metrics* metrics);
  ~KafkaProducer();

  // Blocks until the delivery report (at most produce_timeout_ms + a margin).
  // kUnavailable when the broker did not acknowledge: the client must retry.
  Status Produce(std::string_view key, std::string_view value);
  // Produces every (key, value) of `records` without waiting between them,
  // then waits for all delivery reports. Returns how many were acknowledged,
  // in order: records[0 .. n) were, record n (if any) failed with the first
  // error in *first_error. For loads and backlog tests, not the client path.
  size_t ProduceMany(const std::vector<std::pair<std::string, std::string>>& records, Status* first_error);
  // Does not wait: `done` gets the outcome exactly once, from librdkafka's
  // poll thread when the broker acknowledged or definitely failed (within
  // produce_timeout_ms), or before ProduceAsync returns when the record
  // could not be queued (e.g. the local queue is full). `done` must not
  // block: it runs on the thread that serves every delivery report.
  using Done = std::function<void(Status)>;
  void ProduceAsync(std::string_view key, std::string_view value, Done done);
  const std::string& brokers() const;

 private:
  KafkaProducer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace danmu::core
