#pragma once
// Where a frontend's acknowledged writes go. A frontend answers 2xx only
// after Write() returned Ok, which every implementation grants only once the
// primary room's Kafka acknowledged the record (acks=all).
//   KafkaWriteRoute   - this room is the primary: produce locally.
//   ForwardWriteRoute - this room is a secondary: hand the stamped record to a
//                       primary-room danmud (admin ingest), trying each target
//                       in turn, so that losing one target does not stop writes.
// The role-aware switch between them lives in replication/.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/model/message.h"
#include "core/base/status.h"

namespace danmu::core {

class KafkaProducer;
class Metrics;

class WriteRoute {
 public:
  virtual ~WriteRoute() = default;
  virtual Status Write(const Message& m) = 0;
};

class KafkaWriteRoute final : public WriteRoute {
 public:
  explicit KafkaWriteRoute(KafkaProducer* producer) : producer_(producer) {}
  Status Write(const Message& m) override;

 private:
  KafkaProducer* producer_;
};

class ForwardWriteRoute final : public WriteRoute {
 public:
  // `admin_urls`: the primary room's danmud admin endpoints.
  ForwardWriteRoute(std::vector<std::string> admin_urls, std::string token, int timeout_ms, Metrics* metrics);
  Status Write(const Message& m) override;
  void SetTargets(std::vector<std::string> admin_urls);

 private:
  std::vector<std::string> Targets();
  std::mutex mu_;
  std::vector<std::string> urls_;  // guarded by mu_
  const std::string token_;
  const int timeout_ms_;
  Metrics* metrics_;
};

// Splits "a,b , c" into {"a","b","c"}.
std::vector<std::string> SplitList(const std::string& s);

}  // namespace danmu::core
