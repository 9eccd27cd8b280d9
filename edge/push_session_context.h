#pragma once
// What every push session (WebSocket, SSE) is given: the fan-out hub, its
// metrics and options, and the admin token that reserved rooms need. No
// Beast: cmd/danmud builds one and registers both transports with it.
#include <memory>
#include <string>

#include "core/api/push_hub.h"
#include "core/base/clock.h"

namespace danmu::edge {

// Shared ownership: a session may outlive the daemon's parts by a little (its
// pending operations are destroyed with the server's io_context).
struct PushSessionContext {
  std::shared_ptr<core::PushHub> hub;
  std::shared_ptr<core::PushMetrics> metrics;
  core::PushOptions options;
  std::string admin_token;  // reserved rooms need it (Authorization: Bearer)
  const core::Clock* clock = &core::SystemClock::Instance();
};

}  // namespace danmu::edge
