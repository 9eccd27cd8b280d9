#include "cmd/danmu-bench/bench_flags.h"

#include <charconv>
#include <cstdio>

#include "core/base/parse_int.h"

namespace danmu::bench {

BenchFlags::BenchFlags(int argc, const char* const* argv, int from) {
  for (int i = from; i < argc; i += 2) {
    std::string word = argv[i];
    if (word.size() < 3 || word.rfind("--", 0) != 0) {
      Fail("expected a flag like --seconds, got '" + word + "'");
      return;
    }
    if (i + 1 >= argc) {
      Fail(word + " has no value");
      return;
    }
    values_[word.substr(2)] = argv[i + 1];
  }
}

void BenchFlags::Fail(const std::string& message) {
  if (error_.empty()) error_ = message;
}

std::string BenchFlags::Str(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

std::string BenchFlags::Required(const std::string& name) {
  auto it = values_.find(name);
  if (it == values_.end()) {
    Fail("--" + name + " is required");
    return "";
  }
  return it->second;
}

int BenchFlags::CheckedInt(const std::string& name, const std::string& text, int min, int max) {
  int64_t v = 0;
  if (!core::ParseInt64(text, &v) || v < min || v > max) {
    Fail("--" + name + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got '" +
         text + "'");
    return min;
  }
  return static_cast<int>(v);
}

int BenchFlags::Int(const std::string& name, int def, int min, int max) {
  auto it = values_.find(name);
  return it == values_.end() ? def : CheckedInt(name, it->second, min, max);
}

int BenchFlags::RequiredInt(const std::string& name, int min, int max) {
  if (!Has(name)) {
    Fail("--" + name + " is required");
    return min;
  }
  return CheckedInt(name, values_.at(name), min, max);
}

double BenchFlags::Number(const std::string& name, double def, double min, double max) {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  const std::string& s = it->second;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !(v >= min && v <= max)) {
    char range[64];
    std::snprintf(range, sizeof range, "from %g to %g", min, max);
    Fail("--" + name + " must be a number " + range + ", got '" + s + "'");
    return min;
  }
  return v;
}

int BenchFlags::UsageError(const std::string& mode) const {
  std::fprintf(stderr, "danmu-bench %s: %s\n", mode.c_str(), error_.c_str());
  return 2;
}

}  // namespace danmu::bench
