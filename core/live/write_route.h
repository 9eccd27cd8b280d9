#pragma once
// Where a frontend's acknowledged writes go. A frontend answers 2xx only
// after Write() returned Ok, which every implementation grants only once the
// primary room's Kafka acknowledged the record (acks=all).
//   KafkaWriteRoute   - this room is the primary: produce locally.
//   ForwardWriteRoute - this room is a secondary: hand the stamped record to a
//                       primary-room danmud (admin ingest), trying each target
//                       in turn, so that losing one target does not stop writes.
// WriteAsync is the same promise without holding the caller's thread (the
// event-driven edge calls it from an I/O thread): `done` gets the outcome
// exactly once, possibly on another thread, and must not block.
// The role-aware switch between them lives in replication/.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/model/message.h"
#include "core/base/status.h"

namespace danmu::core {

class KafkaProducer;
class Metrics;

class WorkPool;

class WriteRoute {
 public:
  using Done = std::function<void(Status)>;
  virtual ~WriteRoute() = default;
  virtual Status Write(const Message& m) = 0;
  // Default: the blocking Write, inline (for routes that have no better way).
  virtual void WriteAsync(const Message& m, Done done) { done(Write(m)); }
};

class KafkaWriteRoute final : public WriteRoute {
 public:
  explicit KafkaWriteRoute(KafkaProducer* producer) : producer_(producer) {}
  Status Write(const Message& m) override;
  // `done` runs on the producer's delivery-report thread.
  void WriteAsync(const Message& m, Done done) override;

 private:
  KafkaProducer* producer_;
};

class ForwardWriteRoute final : public WriteRoute {
 public:
  // `admin_urls`: the primary room's danmud admin endpoints.
  ForwardWriteRoute(std::vector<std::string> admin_urls, std::string token, int timeout_ms, Metrics* metrics);
  Status Write(const Message& m) override;
  // The forward is a blocking HTTP call (Poco client): it runs on `pool`
  // (SetPool; a small bounded pool of worker threads), never on the caller's
  // thread. A full pool answers kUnavailable at once (503 + Retry-After).
  // Without a pool: the blocking Write, inline.
  void WriteAsync(const Message& m, Done done) override;
  void SetTargets(std::vector<std::string> admin_urls);
  void SetPool(WorkPool* pool) { pool_ = pool; }  // before the first write

 private:
  std::vector<std::string> Targets();
  std::mutex mu_;
  std::vector<std::string> urls_;  // guarded by mu_
  const std::string token_;
  const int timeout_ms_;
  Metrics* metrics_;
  WorkPool* pool_ = nullptr;
};

// Splits "a,b , c" into {"a","b","c"}.
std::vector<std::string> SplitList(const std::string& s);

}  // namespace danmu::core
