#include "core/model/message.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/base/json_text.h"

namespace danmu::core {

const char* TypeName(MessageType t) {
  switch (t) {
    case MessageType::kComment: return "comment";
    case MessageType::kGift: return "gift";
    case MessageType::kJoin: return "join";
    case MessageType::kSystem: return "system";
    case MessageType::kLike: return "like";
    case MessageType::kPresence: return "presence";
  }
  return "comment";
}

std::optional<MessageType> ParseType(std::string_view s) {
  if (s == "comment") return MessageType::kComment;
  if (s == "gift") return MessageType::kGift;
  if (s == "join") return MessageType::kJoin;
  if (s == "system") return MessageType::kSystem;
  if (s == "like") return MessageType::kLike;
  if (s == "presence") return MessageType::kPresence;
  return std::nullopt;
}

int StoredTypeIndex(MessageType t) {
  switch (t) {
    case MessageType::kComment: return 0;
    case MessageType::kGift: return 1;
    case MessageType::kJoin: return 2;
    case MessageType::kSystem: return 3;
    default: return -1;
  }
}

std::string EncodePayload(const Message& m) {
  std::string out;
  out.reserve(96 + m.text.size());
  out.append("{\"id\":");
  AppendJsonString(out, m.id);
  out.append(",\"type\":\"").append(TypeName(m.type)).append("\",\"room\":");
  AppendJsonString(out, m.live_room);
  if (m.type == MessageType::kLike) {
    out.append(",\"count\":").append(std::to_string(m.count));
  } else if (m.type == MessageType::kPresence) {
    out.append(",\"uids\":[");
    for (size_t i = 0; i < m.uids.size(); ++i) {
      if (i) out.push_back(',');
      AppendJsonString(out, m.uids[i]);
    }
    out.push_back(']');
  } else {
    out.append(",\"uid\":");
    AppendJsonString(out, m.uid);
    if (m.gift) {
      out.append(",\"gift\":{\"id\":");
      AppendJsonString(out, m.gift->id);
      out.append(",\"count\":").append(std::to_string(m.gift->count)).append("}");
    } else {
      out.append(",\"text\":");
      AppendJsonString(out, m.text);
    }
    if (m.priority) out.append(",\"priority\":true");
    out.append(",\"client_ts\":").append(std::to_string(m.client_ts));
  }
  out.append(",\"ingest_ms\":").append(std::to_string(m.ingest_ms)).append("}");
  return out;
}

Result<Message> DecodePayload(std::string_view payload) {
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(std::string(payload));
    auto obj = v.extract<Poco::JSON::Object::Ptr>();
    Message m;
    m.id = obj->getValue<std::string>("id");
    auto type = ParseType(obj->getValue<std::string>("type"));
    if (!type) return Status(Code::kInvalidArgument, "payload has an unknown type");
    m.type = *type;
    m.live_room = obj->getValue<std::string>("room");
    if (obj->has("ingest_ms")) m.ingest_ms = obj->getValue<int64_t>("ingest_ms");
    if (m.type == MessageType::kLike) {
      m.count = obj->getValue<int64_t>("count");
    } else if (m.type == MessageType::kPresence) {
      auto arr = obj->getArray("uids");
      for (size_t i = 0; arr && i < arr->size(); ++i) m.uids.push_back(arr->getElement<std::string>(i));
    } else {
      m.uid = obj->getValue<std::string>("uid");
      if (obj->has("gift")) {
        auto g = obj->getObject("gift");
        m.gift = Gift{g->getValue<std::string>("id"), g->getValue<int64_t>("count")};
      } else if (obj->has("text")) {
        m.text = obj->getValue<std::string>("text");
      }
      if (obj->has("priority")) m.priority = obj->getValue<bool>("priority");
      if (obj->has("client_ts")) m.client_ts = obj->getValue<int64_t>("client_ts");
    }
    return m;
  } catch (const Poco::Exception& e) {
    return Status(Code::kInvalidArgument, "payload is not a message: " + e.displayText());
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, std::string("payload is not a message: ") + e.what());
  }
}

std::string PartitionKey(const Message& m) { return m.live_room + ":" + TypeName(m.type); }

void AppendServed(std::string& out, int64_t score, std::string_view payload) {
  out.append("{\"ts\":").append(std::to_string(score));
  if (payload.size() > 2) {
    out.push_back(',');
    out.append(payload.substr(1));
  } else {
    out.push_back('}');
  }
}

std::string_view PayloadId(std::string_view payload) {
  // Payloads start with {"id":"<id>", and ids never contain escapes.
  constexpr std::string_view kPrefix = "{\"id\":\"";
  if (payload.substr(0, kPrefix.size()) != kPrefix) return {};
  auto end = payload.find('"', kPrefix.size());
  if (end == std::string_view::npos) return {};
  return payload.substr(kPrefix.size(), end - kPrefix.size());
}

}  // namespace danmu::core
