#include "routing/app_version.h"

#include <algorithm>
#include <charconv>

namespace danmu::routing {

using core::Code;
using core::Result;
using core::Status;

Result<AppVersion> AppVersion::Parse(std::string_view text) {
  AppVersion v;
  if (text.empty() || text.size() > 40) return Status(Code::kInvalidArgument, "app version must be 1-4 numbers like 5.2.0");
  size_t pos = 0;
  while (true) {
    if (v.given_ == 4) return Status(Code::kInvalidArgument, "app version has more than 4 components: '" + std::string(text) + "'");
    size_t dot = text.find('.', pos);
    std::string_view part = text.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (part.empty() || part.size() > 6 || ec != std::errc() || end != part.data() + part.size()) {
      return Status(Code::kInvalidArgument, "app version must be 1-4 numbers like 5.2.0, got '" + std::string(text) + "'");
    }
    v.parts_[v.given_++] = n;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return v;
}

std::string AppVersion::ToString() const {
  std::string out;
  for (int i = 0; i < std::max(given_, 1); ++i) {
    if (i) out += '.';
    out += std::to_string(parts_[i]);
  }
  return out;
}

Result<VersionRange> VersionRange::Parse(std::string_view text) {
  VersionRange r;
  size_t dash = text.find('-');
  auto lo = AppVersion::Parse(text.substr(0, dash));
  if (!lo.ok()) return lo.status();
  r.lo_ = r.hi_ = *lo;
  if (dash != std::string_view::npos) {
    auto hi = AppVersion::Parse(text.substr(dash + 1));
    if (!hi.ok()) return hi.status();
    if (*hi < *lo) return Status(Code::kInvalidArgument, "version range '" + std::string(text) + "' ends below its start");
    r.hi_ = *hi;
  }
  return r;
}

std::string VersionRange::ToString() const {
  if (lo_ == hi_) return lo_.ToString();
  return lo_.ToString() + "-" + hi_.ToString();
}

}  // namespace danmu::routing
