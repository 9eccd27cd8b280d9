#pragma once
// The poll cursor: an opaque token that covers every stored message type.
//
// It holds, per stored type, the highest score the client has seen, and is
// bound to one live room. Scores are identical in both rooms (the replica
// holds the primary's sorted sets), so a cursor from room A resumes in room B
// without gaps or repeats. A keyed MAC (secret shared by both rooms) rejects
// forged and corrupted cursors.
//
// Wire form: base64url(version:1 | score[4]:8 each, big-endian | mac:8).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/hmac_sha1.h"
#include "core/model/message.h"
#include "core/base/status.h"

namespace danmu::core {

struct Cursor {
  std::array<int64_t, kStoredTypeCount> after{};  // per kStoredTypes index; 0 = from the start
  bool operator==(const Cursor&) const = default;
};

class CursorCodec {
 public:
  explicit CursorCodec(std::string secret) : mac_(secret) {}
  std::string Encode(std::string_view live_room, const Cursor& c) const;
  // kInvalidArgument when malformed, forged, or made for another live room.
  Result<Cursor> Decode(std::string_view live_room, std::string_view token) const;

 private:
  // HMAC-SHA1(secret, live_room | 0 | body), first kMacLen bytes.
  HmacSha1::Digest Mac(std::string_view live_room, std::string_view body) const;
  HmacSha1 mac_;  // pads precomputed from the secret: one per codec, immutable
};

}  // namespace danmu::core
