#pragma once
// Staged degradation (DESIGN §7). Levels, each a superset of the one before:
//   0 normal
//   1 drop likes: like posts are acknowledged (202) but not propagated
//   2 thin comments: big rooms serve at most thin_limit comments per poll,
//     chosen fairly; gifts, the viewer's own and priority messages always kept
//   3 poll backoff: next_poll_ms doubles every backoff_step_ms, capped
// Degrading changes what is propagated and served, never what was stored.
//
// Settings live in ONE Redis hash, danmu:degrade, written in the primary
// room's Redis and replicated to the other room; every frontend reads it from
// its local Redis every ~500 ms, so a change reaches both rooms within a
// second. Fields:
//   all            fleet-wide (both rooms, every live room)
//   room:<A>       one datacenter room
//   stream:<id>    one live room (a hot stream)
//   auto           the level the automatic controller chose (fleet-wide)
// Values: {"level":N,"expires_at_ms":T,"source":"manual|auto","reason":"...","set_at_ms":T}.
// A manual setting that applies overrides the automatic one; every setting
// expires (a forgotten switch turns itself off).
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/base/config.h"
#include "core/degrade/degrade_view.h"
#include "core/base/status.h"

namespace danmu::core {

struct DegradeSetting {
  int level = 0;
  int64_t expires_at_ms = 0;
  std::string source = "manual";
  std::string reason;
  int64_t set_at_ms = 0;
};

std::string EncodeDegradeSetting(const DegradeSetting& s);
Result<DegradeSetting> DecodeDegradeSetting(const std::string& json);

// The hash as read from Redis: field -> setting.
using DegradeTable = std::map<std::string, DegradeSetting>;

// The field of the fleet-wide "move to polling" switch for long connections
// (danmuctl push poll-only; level > 0 = on). It expires like every setting,
// is no degradation level, and a fleet-wide degrade clear leaves it alone.
inline constexpr const char* kPushPollOnlyField = "push";

struct DegradeScopeLevels {
  int room_level = 0;   // what applies to every live room of this datacenter (gauge)
  std::string source;   // manual | auto | "" (normal)
};

class DegradePolicy {
 public:
  DegradePolicy(std::string this_room, const DegradeOptions& options, const PollOptions& poll)
      : room_(std::move(this_room)), options_(options), poll_(poll) {}

  // The effective level for `live_room` at `now_ms`, given the table.
  int Level(const DegradeTable& table, const std::string& live_room, int64_t now_ms) const;
  DegradeScopeLevels RoomLevel(const DegradeTable& table, int64_t now_ms) const;
  // What the frontend does for `level`; `level3_since_ms` drives the backoff.
  DegradeView View(int level, int64_t level3_since_ms, int64_t now_ms) const;

 private:
  std::string room_;
  DegradeOptions options_;
  PollOptions poll_;
};

}  // namespace danmu::core
