#pragma once
// Token-bucket rate limiting per key (uid, client address). Memory is
// bounded: at most `max_keys` buckets; when full, idle buckets (full again)
// are dropped first, and a key that cannot get a bucket is refused, so that a
// flood of distinct keys cannot grow memory. Thread-safe.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/base/clock.h"

namespace danmu::core {

class RateLimiter {
 public:
  RateLimiter(double rate_per_sec, double burst, size_t max_keys, const Clock& clock);
  // Takes `cost` tokens from `key`'s bucket; false = over the limit.
  bool Allow(const std::string& key, double cost = 1);
  size_t size() const;

 private:
  struct Bucket {
    double tokens;
    int64_t last_ms;
  };
  void Refill(Bucket& b, int64_t now) const;
  void Sweep(int64_t now);

  const double rate_per_ms_;
  const double burst_;
  const size_t max_keys_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace danmu::core
