#pragma once
// A latency histogram in microseconds with log-linear buckets (HdrHistogram's
// layout): values below 64 are exact, every power-of-two range above is split
// into 64 buckets, so a reported percentile is within 1/64 (1.6%) of the true
// value, from 1 µs to about 12 days. Fixed memory (a few KB), merged by adding
// counts, serialised as text so that worker processes can hand theirs to the
// parent. Not thread-safe: one per thread or process, merged afterwards.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace danmu::bench {

class Histogram {
 public:
  Histogram();

  void Record(int64_t us);  // negative values count as 0
  void Merge(const Histogram& other);

  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The smallest recorded value v such that at least q·count values are
  // <= v (reported as its bucket's upper bound, capped at max()); 0 when empty.
  int64_t Percentile(double q) const;

  // "count sum max idx:n idx:n ..." (non-empty buckets only).
  std::string Serialize() const;
  // Parses Serialize()'s output; false (and *out untouched) when malformed.
  static bool Parse(std::string_view text, Histogram* out);

  static int BucketOf(int64_t us);
  static int64_t BucketUpper(int bucket);  // largest value of a bucket

 private:
  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t max_ = 0;
};

}  // namespace danmu::bench
