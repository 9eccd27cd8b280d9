#include "core/api/edge_drain_request.h"

#include <string>

#include "core/http/json_body.h"

namespace danmu::core {

Result<EdgeDrainRequest> ParseEdgeDrain(std::string_view body, int64_t default_over_ms) {
  const std::string what = "edge drain body";
  auto b = JsonBody::Parse(body, {what, {"draining", "over_ms"}, false, 1});
  if (!b.ok()) return b.status();
  if (Status s = b->Require("draining"); !s.ok()) return s;
  EdgeDrainRequest r;
  r.over_ms = default_over_ms;
  for (Status s : {b->Get("draining", &r.draining), b->Get("over_ms", &r.over_ms)}) {
    if (!s.ok()) return s;
  }
  if (!r.draining && b->Has("over_ms")) {
    return Status(Code::kInvalidArgument, what + ": 'over_ms' goes with \"draining\": true only");
  }
  if (r.over_ms < 0 || r.over_ms > kMaxDrainSpreadMs) {
    return Status(Code::kInvalidArgument, what + ": 'over_ms' must be 0..600000");
  }
  return r;
}

}  // namespace danmu::core
