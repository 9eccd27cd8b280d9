#include "core/model/validation.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>

#include "core/base/json_text.h"
#include "core/base/utf8.h"

namespace danmu::core {
namespace {

constexpr int kMaxNesting = 4;

bool Charset(std::string_view s, size_t max_len, std::string_view extra) {
  if (s.empty() || s.size() > max_len) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
  });
}

Status Bad(const std::string& m) { return Status(Code::kInvalidArgument, m); }

Result<Poco::JSON::Object::Ptr> ParseObject(std::string_view body, int64_t max_body_bytes) {
  Status s = CheckJsonBody(body, max_body_bytes);
  if (!s.ok()) return s;
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(std::string(body));
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return Bad("body must be a JSON object");
    return v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return Bad("malformed JSON: " + e.message());
  }
}

// Reads an optional string field; an error when present with another type.
Status GetString(const Poco::JSON::Object::Ptr& o, const std::string& key, std::string* out, bool* present) {
  *present = o->has(key) && !o->isNull(key);
  if (!*present) return Status::Ok();
  auto v = o->get(key);
  if (!v.isString()) return Bad("field '" + key + "' must be a string");
  *out = v.extract<std::string>();
  return Status::Ok();
}

Status GetInt(const Poco::JSON::Object::Ptr& o, const std::string& key, int64_t* out, bool* present) {
  *present = o->has(key) && !o->isNull(key);
  if (!*present) return Status::Ok();
  auto v = o->get(key);
  if (!v.isInteger()) return Bad("field '" + key + "' must be an integer");
  try {
    *out = v.convert<int64_t>();
  } catch (const Poco::Exception&) {
    return Bad("field '" + key + "' is out of range");
  }
  return Status::Ok();
}

}  // namespace

bool IsValidLiveRoom(std::string_view room) { return Charset(room, 64, "_-"); }
bool IsReservedLiveRoom(std::string_view room) { return room.substr(0, 2) == "__"; }
bool IsValidUid(std::string_view uid) { return Charset(uid, 64, "_.-"); }

Status CheckJsonBody(std::string_view body, int64_t max_body_bytes) {
  if (static_cast<int64_t>(body.size()) > max_body_bytes) {
    return Status(Code::kTooLarge, "body exceeds " + std::to_string(max_body_bytes) + " bytes");
  }
  if (body.empty()) return Bad("body is empty");
  if (!IsValidUtf8(body)) return Bad("body is not valid UTF-8");
  if (JsonNestingDepth(body) > kMaxNesting) return Bad("JSON nested deeper than " + std::to_string(kMaxNesting));
  return Status::Ok();
}

Result<Message> ParseMessagePost(std::string_view body, std::string_view live_room, const LimitOptions& limits,
                                 int64_t max_body_bytes) {
  auto parsed = ParseObject(body, max_body_bytes);
  if (!parsed.ok()) return parsed.status();
  const auto& o = *parsed;
  Message m;
  m.live_room = std::string(live_room);
  bool present = false;
  std::string type;
  if (Status s = GetString(o, "type", &type, &present); !s.ok()) return s;
  if (!present) return Bad("field 'type' is required");
  auto t = ParseType(type);
  if (!t || (*t != MessageType::kComment && *t != MessageType::kGift && *t != MessageType::kJoin)) {
    return Bad("field 'type' must be one of comment, gift, join");
  }
  m.type = *t;
  if (Status s = GetString(o, "uid", &m.uid, &present); !s.ok()) return s;
  if (!present) return Bad("field 'uid' is required");
  if (!IsValidUid(m.uid)) return Bad("field 'uid' must be 1-64 characters of [A-Za-z0-9_.-]");
  if (Status s = GetInt(o, "client_ts", &m.client_ts, &present); !s.ok()) return s;

  if (Status s = GetString(o, "text", &m.text, &present); !s.ok()) return s;
  if (m.type == MessageType::kComment) {
    if (!present || m.text.empty()) return Bad("field 'text' is required for a comment");
  }
  if (static_cast<int64_t>(m.text.size()) > limits.max_text_bytes) {
    return Status(Code::kTooLarge, "text exceeds " + std::to_string(limits.max_text_bytes) + " bytes");
  }
  if (m.type == MessageType::kGift) {
    if (!o->has("gift")) return Bad("field 'gift' is required for a gift");
    auto gv = o->get("gift");
    if (gv.type() != typeid(Poco::JSON::Object::Ptr)) return Bad("field 'gift' must be an object");
    auto g = gv.extract<Poco::JSON::Object::Ptr>();
    Gift gift;
    if (Status s = GetString(g, "id", &gift.id, &present); !s.ok()) return s;
    if (!present || !Charset(gift.id, 32, "_-")) return Bad("field 'gift.id' must be 1-32 characters of [A-Za-z0-9_-]");
    gift.count = 1;
    if (Status s = GetInt(g, "count", &gift.count, &present); !s.ok()) return s;
    if (gift.count < 1 || gift.count > 10000) return Bad("field 'gift.count' must be 1..10000");
    m.gift = gift;
    m.text.clear();
  } else if (o->has("gift")) {
    return Bad("field 'gift' is only allowed for type gift");
  }
  return m;
}

Result<LikePost> ParseLikePost(std::string_view body, const LimitOptions& limits, int64_t max_body_bytes) {
  auto parsed = ParseObject(body, max_body_bytes);
  if (!parsed.ok()) return parsed.status();
  const auto& o = *parsed;
  LikePost p;
  bool present = false;
  if (Status s = GetString(o, "uid", &p.uid, &present); !s.ok()) return s;
  if (!present) return Bad("field 'uid' is required");
  if (!IsValidUid(p.uid)) return Bad("field 'uid' must be 1-64 characters of [A-Za-z0-9_.-]");
  if (Status s = GetInt(o, "count", &p.count, &present); !s.ok()) return s;
  if (!present) p.count = 1;
  if (p.count < 1 || p.count > limits.max_like_burst) {
    return Bad("field 'count' must be 1.." + std::to_string(limits.max_like_burst));
  }
  return p;
}

}  // namespace danmu::core
