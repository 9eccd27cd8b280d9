#pragma once
// `danmuctl route ...` words to the admin API's RouteChange JSON (route_rules.h):
//   set-percent N                                   {"op":"set_percent","percent":N}
//   allow|deny (--uid U | --device D | --app-version RANGE | --platform P)
//   remove allow|deny (--uid U | ...)
//   clear [allow|deny]
//   kill-switch on|off
//   transport ws|sse
//   poll-at-level 0..3
// ("show" is a GET and has no body.) Every value is checked by the same
// parser the admin API uses, so danmuctl refuses exactly what the API would,
// before sending anything. Pure; thread-compatible.
#include <string>
#include <vector>

#include "core/base/status.h"

namespace danmu::routing {

// kInvalidArgument with a message (and the usage) for anything else.
core::Result<std::string> RouteChangeFromArgs(const std::vector<std::string>& words);

extern const char kRouteUsage[];

}  // namespace danmu::routing
