#pragma once
// The SSE transport of push (DESIGN §12):
//   GET /v1/rooms/{room}/events?uid=[&cursor=]   (Last-Event-ID wins over cursor=)
// Answer: 200 text/event-stream; then one event per pushed frame:
//   id: <cursor>\ndata: <JSON of the poll answer's shape>\n\n
// so a browser's EventSource reconnects with Last-Event-ID = its cursor and
// resumes with no gap and no repeat. Also "event: resync" (queue dropped,
// resumed from its id) and "event: close" (data {"close":{"code","reason"}},
// the same codes as the WebSocket's close frames), after which the stream
// ends; ": ping" comments every push.ping_interval_ms keep proxies open.
// Refusals before the stream starts are HTTP answers, as PushHub::Open gives.
#include "edge/push_session_context.h"

namespace danmu::edge {

class UpgradeRegistry;

void RegisterSse(UpgradeRegistry& registry, PushSessionContext ctx);

}  // namespace danmu::edge
