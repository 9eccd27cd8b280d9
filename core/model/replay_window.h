#pragma once
// The replay window: how an archived room is laid out in the replay Redis and
// how a time window is paged through it. Pure logic, no I/O.
//
// Order. Replay returns a room's messages (every stored type together) in the
// total order (ts, type, id): ts is the stream-relative score; it is unique
// per type but not across types, so ties are broken by the type's index in
// kStoredTypes and then by the message id (bytewise). Each message has a sort
// key that encodes this order as plain bytes:
//   sort key = ts as 16 decimal digits, zero-padded | type index digit | id
// and is stored in ONE sorted set per room, every member with score 0, as
//   member   = sort key | '\0' | the served message JSON ({"ts":..,...payload})
// With equal scores Redis orders members bytewise, so ZRANGEBYLEX walks the
// room in (ts, type, id) order; a member orders exactly like its sort key
// (the '\0' is below every id byte), so bounds can be given as sort keys.
// One more member, the room sentinel ("\0" + room totals), sorts before every
// message; its presence means "this room is fully loaded".
//
// Window. `from_ms` is INCLUSIVE, `to_ms` EXCLUSIVE: [from_ms, to_ms). No
// to_ms means "to the end of the stream". from_ms == to_ms is a valid empty
// window; from_ms > to_ms is an error.
//
// Pages. A page holds at most `limit` messages. When more messages remain in
// the window, the page carries `next_cursor`: the position of its last
// message (an opaque token). The next page is requested with the same
// from_ms/to_ms/limit plus cursor=<next_cursor> and starts strictly after
// that position, so pages never overlap or leave gaps, also among messages
// with equal ts. No next_cursor means the window is exhausted.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace danmu::core {

// A message's place in the replay order.
struct ReplayPosition {
  int64_t ts = 0;
  int type_index = 0;  // index in kStoredTypes
  std::string id;
  bool operator==(const ReplayPosition&) const = default;
};

struct ReplayQuery {
  std::string live_room;
  int64_t from_ms = 0;                  // inclusive
  std::optional<int64_t> to_ms;         // exclusive; none = end of stream
  int limit = 100;
  std::optional<ReplayPosition> after;  // from a next_cursor
};

// Room totals stored with the loaded room (from archived_rooms).
struct ReplayRoomInfo {
  int64_t likes = 0;
  int64_t viewers = 0;
  int64_t messages = 0;     // messages loaded
  int64_t duration_ms = 0;  // highest archived ts
  bool operator==(const ReplayRoomInfo&) const = default;
};

inline constexpr int kReplayDefaultLimit = 100;
inline constexpr int64_t kReplayMaxTs = 9'999'999'999'999'999;  // 16 digits

std::string ReplaySortKey(const ReplayPosition& p);
// The sorted-set member of one message; `served` is AppendServed(ts, payload).
std::string ReplayMember(const ReplayPosition& p, std::string_view served);
// Splits a member into its position and served JSON; false when malformed.
bool ParseReplayMember(std::string_view member, ReplayPosition* p, std::string_view* served);

std::string ReplaySentinel(const ReplayRoomInfo& info);
bool IsReplaySentinel(std::string_view member);
bool ParseReplaySentinel(std::string_view member, ReplayRoomInfo* info);

// ZRANGEBYLEX bounds (with their '[' '(' '-' '+' prefixes) for `q`.
struct LexRange {
  std::string min;
  std::string max;
};
LexRange ReplayLexRange(const ReplayQuery& q);

std::string EncodeReplayCursor(const ReplayPosition& p);
// kInvalidArgument when the token is not one EncodeReplayCursor made.
Result<ReplayPosition> DecodeReplayCursor(std::string_view token);

// Parses ?from_ms=&to_ms=&limit=&cursor= (absent keys take their defaults;
// limit is 1..max_limit). kInvalidArgument with a message naming the field.
Result<ReplayQuery> ParseReplayQuery(const std::string& live_room, const std::map<std::string, std::string>& query,
                                     int max_limit);

}  // namespace danmu::core
