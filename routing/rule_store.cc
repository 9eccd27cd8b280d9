#include "routing/rule_store.h"

namespace danmu::routing {

using core::Code;
using core::Result;
using core::Status;

Result<StoredRules> MemoryRuleStore::Load() {
  std::lock_guard lock(mu_);
  if (!available_) return Status(Code::kUnavailable, "rule store unavailable");
  StoredRules s;
  s.revision = revision_;
  if (!json_.empty()) {
    auto r = RouteRules::FromJson(json_);
    if (!r.ok()) return r.status();
    s.rules = *r;
  }
  return s;
}

Result<bool> MemoryRuleStore::Store(const RouteRules& next, int64_t expected_revision) {
  std::lock_guard lock(mu_);
  if (!available_) return Status(Code::kUnavailable, "rule store unavailable");
  if (expected_revision != revision_) return false;
  json_ = next.ToJson();
  ++revision_;
  return true;
}

void MemoryRuleStore::SetAvailable(bool available) {
  std::lock_guard lock(mu_);
  available_ = available;
}

}  // namespace danmu::routing
