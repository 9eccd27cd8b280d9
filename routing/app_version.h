#pragma once
// Client app versions and version ranges, as routing rules name them:
// a version is 1 to 4 dot-separated decimal numbers ("5", "5.2", "5.2.0",
// "5.2.0.17"); missing components compare as 0, so "5.2" == "5.2.0".
// A range is one version ("5.2.0": exactly that) or "LO-HI", both ends
// inclusive, LO <= HI ("5.0.0-5.2.9"). Pure values; thread-compatible.
#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace danmu::routing {

class AppVersion {
 public:
  AppVersion() = default;
  // kInvalidArgument for anything but 1-4 numbers (each 0..999999) joined by '.'.
  static core::Result<AppVersion> Parse(std::string_view text);
  std::string ToString() const;
  // By value only: "5.2" == "5.2.0".
  friend std::strong_ordering operator<=>(const AppVersion& a, const AppVersion& b) { return a.parts_ <=> b.parts_; }
  friend bool operator==(const AppVersion& a, const AppVersion& b) { return a.parts_ == b.parts_; }

 private:
  std::array<uint32_t, 4> parts_{};
  int given_ = 0;  // how many components the text had (for ToString)
};

class VersionRange {
 public:
  static core::Result<VersionRange> Parse(std::string_view text);
  bool Contains(const AppVersion& v) const { return lo_ <= v && v <= hi_; }
  // The canonical text ("5.2.0" or "5.0.0-5.2.9"); Parse(ToString()) == *this.
  std::string ToString() const;
  friend bool operator==(const VersionRange&, const VersionRange&) = default;

 private:
  AppVersion lo_, hi_;
};

}  // namespace danmu::routing
