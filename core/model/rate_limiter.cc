#include "core/model/rate_limiter.h"

#include <algorithm>

namespace danmu::core {

RateLimiter::RateLimiter(double rate_per_sec, double burst, size_t max_keys, const Clock& clock)
    : rate_per_ms_(rate_per_sec / 1000.0), burst_(burst), max_keys_(max_keys), clock_(clock) {}

void RateLimiter::Refill(Bucket& b, int64_t now) const {
  if (now > b.last_ms) {
    b.tokens = std::min(burst_, b.tokens + (now - b.last_ms) * rate_per_ms_);
    b.last_ms = now;
  }
}

void RateLimiter::Sweep(int64_t now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now);
    if (it->second.tokens >= burst_) it = buckets_.erase(it);
    else ++it;
  }
}

bool RateLimiter::Allow(const std::string& key, double cost) {
  int64_t now = clock_.MonoMs();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) Sweep(now);
    if (buckets_.size() >= max_keys_) return false;
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  Refill(it->second, now);
  if (it->second.tokens < cost) return false;
  it->second.tokens -= cost;
  return true;
}

size_t RateLimiter::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace danmu::core
