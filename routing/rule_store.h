#pragma once
// Where the one rule set lives. Both rooms read the same key of the etcd
// cluster that spans them (room A, room B, a witness), so a change made in
// either room is seen by every router. Writes are compare-and-swap on the
// key's revision: two operators changing rules at once cannot lose one of
// the changes (the loser retries on the new rules or reports a conflict).
// Implementations are thread-safe.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/base/status.h"
#include "routing/route_rules.h"

namespace danmu::core { class EtcdClient; }

namespace danmu::routing {

struct StoredRules {
  RouteRules rules;        // defaults when the key does not exist yet
  int64_t revision = 0;    // the key's mod revision; 0 = no key yet
};

class RuleStore {
 public:
  virtual ~RuleStore() = default;
  // kUnavailable when the store cannot be read; kInvalidArgument when the
  // stored JSON is not a valid rule set (it is then left alone, not "fixed").
  virtual core::Result<StoredRules> Load() = 0;
  // Writes `next` if the key is still at `expected_revision`: true when
  // written, false when the key changed since (load again and retry);
  // kUnavailable when the store cannot be written.
  virtual core::Result<bool> Store(const RouteRules& next, int64_t expected_revision) = 0;
};

// In memory: unit tests and a single process without etcd.
class MemoryRuleStore final : public RuleStore {
 public:
  core::Result<StoredRules> Load() override;
  core::Result<bool> Store(const RouteRules& next, int64_t expected_revision) override;
  void SetAvailable(bool available);  // tests: simulate an unreachable store

 private:
  std::mutex mu_;
  std::string json_;       // guarded by mu_
  int64_t revision_ = 0;   // guarded by mu_
  bool available_ = true;  // guarded by mu_
};

// The key `<prefix>route/rules` in etcd.
class EtcdRuleStore final : public RuleStore {
 public:
  EtcdRuleStore(core::EtcdClient* etcd, std::string prefix);
  core::Result<StoredRules> Load() override;
  core::Result<bool> Store(const RouteRules& next, int64_t expected_revision) override;
  const std::string& key() const { return key_; }

 private:
  core::EtcdClient* etcd_;
  const std::string key_;
};

}  // namespace danmu::routing
