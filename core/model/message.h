#pragma once
// The message model and its wire form.
//
// A message travels as one canonical JSON object (the "payload"), the same
// bytes in Kafka and as the member of the live sorted set:
//   {"id":"...","type":"comment","room":"r1","uid":"u1","text":"hi","client_ts":0,"ingest_ms":...}
// The score (stream-relative ms, assigned by the processor) is not in the
// payload; a served message is the payload with "ts" spliced in front, so the
// read path never re-encodes a message.
//
// Likes and presence are control records: counted, never stored one by one.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace danmu::core {

enum class MessageType { kComment, kGift, kJoin, kSystem, kLike, kPresence };

// Types that live in sorted sets and are served by polls, in cursor order.
inline constexpr MessageType kStoredTypes[] = {MessageType::kComment, MessageType::kGift, MessageType::kJoin,
                                               MessageType::kSystem};
inline constexpr int kStoredTypeCount = 4;

const char* TypeName(MessageType t);
std::optional<MessageType> ParseType(std::string_view s);
// Index of a stored type in kStoredTypes (0..3); -1 for control types.
int StoredTypeIndex(MessageType t);

struct Gift {
  std::string id;
  int64_t count = 0;
};

struct Message {
  std::string id;
  MessageType type = MessageType::kComment;
  std::string live_room;
  std::string uid;
  std::string text;
  std::optional<Gift> gift;
  int64_t client_ts = 0;
  int64_t ingest_ms = 0;
  bool priority = false;              // paid/VIP: always served, even when thinned
  int64_t count = 0;                  // likes: increment
  std::vector<std::string> uids;      // presence: viewers seen
};

// Canonical JSON payload (see above).
std::string EncodePayload(const Message& m);
// Parses a payload produced by EncodePayload (Kafka records, Redis members).
Result<Message> DecodePayload(std::string_view payload);
// Kafka key: "<live_room>:<type>": one (room, type) stays on one partition.
std::string PartitionKey(const Message& m);
// The served form: {"ts":<score>, ...payload fields}.
void AppendServed(std::string& out, int64_t score, std::string_view payload);
// Extracts the "id" value from a payload without a full parse (hot path helpers).
std::string_view PayloadId(std::string_view payload);

}  // namespace danmu::core
