#pragma once
// Validation of everything a client sends. Documented charsets:
//   live room id: 1-64 of [A-Za-z0-9_-]; ids starting with "__" are reserved
//                 (the probe room) and refused on the public API.
//   uid:          1-64 of [A-Za-z0-9_.-]
//   gift id:      1-32 of [A-Za-z0-9_-]; gift count 1..10000
//   text:         valid UTF-8, 1..limits.max_text_bytes bytes
// Errors come back as Status: kInvalidArgument (400), kTooLarge (413).
#include <string>
#include <string_view>

#include "core/base/config.h"
#include "core/model/message.h"
#include "core/base/status.h"

namespace danmu::core {

bool IsValidLiveRoom(std::string_view room);
bool IsReservedLiveRoom(std::string_view room);
bool IsValidUid(std::string_view uid);

// Checks shared by every JSON body: size, UTF-8, nesting (before any parse).
Status CheckJsonBody(std::string_view body, int64_t max_body_bytes);

// POST /v1/rooms/{room}/messages. `id` and `ingest_ms` are left for the caller.
Result<Message> ParseMessagePost(std::string_view body, std::string_view live_room, const LimitOptions& limits,
                                 int64_t max_body_bytes);

struct LikePost {
  std::string uid;
  int64_t count = 1;
};
// POST /v1/rooms/{room}/likes
Result<LikePost> ParseLikePost(std::string_view body, const LimitOptions& limits, int64_t max_body_bytes);

}  // namespace danmu::core
