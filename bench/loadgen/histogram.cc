#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace danmu::bench {
namespace {
constexpr int kSubBits = 6;                  // 64 sub-buckets per power of two
constexpr int kSub = 1 << kSubBits;
constexpr int kMaxExp = 40;                  // 2^40 µs ~ 12.7 days: everything above is clamped
constexpr int kBuckets = kSub + (kMaxExp - kSubBits + 1) * kSub;

bool ParseInt(std::string_view s, int64_t* v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
}  // namespace

Histogram::Histogram() : buckets_(kBuckets, 0) {}

int Histogram::BucketOf(int64_t us) {
  if (us < kSub) return static_cast<int>(std::max<int64_t>(us, 0));
  int exp = 63 - __builtin_clzll(static_cast<unsigned long long>(us));  // floor(log2)
  if (exp > kMaxExp) return kBuckets - 1;
  int shift = exp - kSubBits;
  int sub = static_cast<int>((us >> shift) - kSub);  // 0..63
  return kSub + shift * kSub + sub;
}

int64_t Histogram::BucketUpper(int bucket) {
  if (bucket < kSub) return bucket;
  int shift = (bucket - kSub) / kSub;
  int sub = (bucket - kSub) % kSub;
  return ((static_cast<int64_t>(kSub + sub + 1)) << shift) - 1;
}

void Histogram::Record(int64_t us) {
  if (us < 0) us = 0;
  ++buckets_[BucketOf(us)];
  ++count_;
  sum_ += us;
  max_ = std::max(max_, us);
}

void Histogram::Merge(const Histogram& o) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  max_ = std::max(max_, o.max_);
}

int64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_))));
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(BucketUpper(i), max_);
  }
  return max_;
}

std::string Histogram::Serialize() const {
  std::string s = std::to_string(count_) + " " + std::to_string(sum_) + " " + std::to_string(max_);
  for (int i = 0; i < kBuckets; ++i) {
    if (buckets_[i]) s += " " + std::to_string(i) + ":" + std::to_string(buckets_[i]);
  }
  return s;
}

bool Histogram::Parse(std::string_view text, Histogram* out) {
  Histogram h;
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) parts.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  if (parts.size() < 3) return false;
  if (!ParseInt(parts[0], &h.count_) || !ParseInt(parts[1], &h.sum_) || !ParseInt(parts[2], &h.max_)) return false;
  int64_t total = 0;
  for (size_t i = 3; i < parts.size(); ++i) {
    auto colon = parts[i].find(':');
    int64_t idx = 0, n = 0;
    if (colon == std::string_view::npos || !ParseInt(parts[i].substr(0, colon), &idx) ||
        !ParseInt(parts[i].substr(colon + 1), &n) || idx < 0 || idx >= kBuckets || n < 0) {
      return false;
    }
    h.buckets_[idx] += n;
    total += n;
  }
  if (total != h.count_) return false;
  *out = std::move(h);
  return true;
}

}  // namespace danmu::bench
