#include "core/base/parse_int.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace danmu::core {

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.front() == '+') return false;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  *out = v;
  return true;
}

int64_t ParseInt64Or(std::string_view s, int64_t fallback) {
  int64_t v = 0;
  if (ParseInt64(s, &v)) return v;
  if (s.empty() || s.front() == '+') return fallback;
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  // 2^63 as a double: anything at or beyond it does not fit.
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d) || std::fabs(d) >= 9223372036854775808.0) {
    return fallback;
  }
  return static_cast<int64_t>(d);
}

}  // namespace danmu::core
