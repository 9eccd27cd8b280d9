#pragma once
// The body of POST /v1/admin/edge/drain (danmuctl edge drain | undrain):
//   {"draining": true, "over_ms": 30000}   drain, closing the long
//                                           connections over 30 s (absent:
//                                           push.drain_spread_ms)
//   {"draining": false}                     accept long connections again and
//                                           register with the routers again
// Anything else is a 400 naming the field.
#include <cstdint>
#include <string_view>

#include "core/base/status.h"

namespace danmu::core {

struct EdgeDrainRequest {
  bool draining = true;
  int64_t over_ms = 0;
};

inline constexpr int64_t kMaxDrainSpreadMs = 600000;

[[nodiscard]] Result<EdgeDrainRequest> ParseEdgeDrain(std::string_view body, int64_t default_over_ms);

}  // namespace danmu::core
