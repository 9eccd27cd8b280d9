#include "edge/connection_limits.h"

namespace danmu::edge {

ConnectionLease::ConnectionLease(ConnectionLease&& other) noexcept
    : limits_(other.limits_), address_(std::move(other.address_)) {
  other.limits_ = nullptr;
}

ConnectionLease& ConnectionLease::operator=(ConnectionLease&& other) noexcept {
  if (this != &other) {
    Release();
    limits_ = other.limits_;
    address_ = std::move(other.address_);
    other.limits_ = nullptr;
  }
  return *this;
}

void ConnectionLease::Release() {
  if (!limits_) return;
  ConnectionLimits* l = limits_;
  limits_ = nullptr;
  l->Release(address_);
}

ConnectionLease ConnectionLimits::TryAcquire(const std::string& address, Refusal* why) {
  std::lock_guard lock(mu_);
  if (max_process_ > 0 && open_.load(std::memory_order_relaxed) >= max_process_) {
    if (why) *why = Refusal::kProcessCap;
    return {};
  }
  int64_t& n = per_address_[address];
  if (max_address_ > 0 && n >= max_address_) {
    if (why) *why = Refusal::kAddressCap;
    // n > 0 here (a cap is >= 1), so the entry was there before: nothing to erase.
    return {};
  }
  ++n;
  open_.fetch_add(1, std::memory_order_relaxed);
  if (why) *why = Refusal::kNone;
  return ConnectionLease(this, address);
}

void ConnectionLimits::Release(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
  open_.fetch_sub(1, std::memory_order_relaxed);
}

int64_t ConnectionLimits::open_from(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

const char* ConnectionLimits::RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kNone: return "none";
    case Refusal::kProcessCap: return "process_cap";
    case Refusal::kAddressCap: return "address_cap";
  }
  return "unknown";
}

}  // namespace danmu::edge
