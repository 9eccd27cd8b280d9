#include "core/degrade/degrade.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>

#include "core/base/json_text.h"

namespace danmu::core {

std::string EncodeDegradeSetting(const DegradeSetting& s) {
  std::string out = "{\"level\":" + std::to_string(s.level) + ",\"expires_at_ms\":" + std::to_string(s.expires_at_ms) +
                    ",\"source\":";
  AppendJsonString(out, s.source);
  out += ",\"reason\":";
  AppendJsonString(out, s.reason);
  out += ",\"set_at_ms\":" + std::to_string(s.set_at_ms) + "}";
  return out;
}

Result<DegradeSetting> DecodeDegradeSetting(const std::string& json) {
  try {
    Poco::JSON::Parser parser;
    auto o = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
    DegradeSetting s;
    s.level = o->getValue<int>("level");
    s.expires_at_ms = o->getValue<int64_t>("expires_at_ms");
    if (o->has("source")) s.source = o->getValue<std::string>("source");
    if (o->has("reason")) s.reason = o->getValue<std::string>("reason");
    if (o->has("set_at_ms")) s.set_at_ms = o->getValue<int64_t>("set_at_ms");
    if (s.level < 0 || s.level > 3) return Status(Code::kInvalidArgument, "degrade level must be 0..3");
    return s;
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, std::string("degrade setting: ") + e.what());
  }
}

namespace {
const DegradeSetting* Live(const DegradeTable& t, const std::string& field, int64_t now) {
  auto it = t.find(field);
  if (it == t.end() || it->second.expires_at_ms <= now) return nullptr;
  return &it->second;
}
}  // namespace

DegradeScopeLevels DegradePolicy::RoomLevel(const DegradeTable& t, int64_t now) const {
  DegradeScopeLevels out;
  bool manual = false;
  for (const char* f : {"all"}) {
    if (auto* s = Live(t, f, now)) { out.room_level = std::max(out.room_level, s->level); manual = true; }
  }
  if (auto* s = Live(t, "room:" + room_, now)) { out.room_level = std::max(out.room_level, s->level); manual = true; }
  if (manual) {
    out.source = "manual";
    return out;
  }
  if (auto* s = Live(t, "auto", now)) {
    out.room_level = s->level;
    out.source = s->level > 0 ? "auto" : "";
  }
  return out;
}

int DegradePolicy::Level(const DegradeTable& t, const std::string& live_room, int64_t now) const {
  int level = -1;
  for (const std::string& f : {std::string("all"), "room:" + room_, "stream:" + live_room}) {
    if (auto* s = Live(t, f, now)) level = std::max(level, s->level);
  }
  if (level >= 0) return level;  // a manual setting overrides the automatic one
  auto* a = Live(t, "auto", now);
  return a ? a->level : 0;
}

DegradeView DegradePolicy::View(int level, int64_t level3_since_ms, int64_t now) const {
  DegradeView v;
  v.level = level;
  v.likes_paused = level >= 1;
  v.thin_limit = level >= 2 ? options_.thin_limit : 0;
  if (level >= 3) {
    int64_t steps = options_.backoff_step_ms > 0 ? std::max<int64_t>(0, now - level3_since_ms) / options_.backoff_step_ms : 0;
    int64_t ms = poll_.next_poll_ms * 2;  // entering level 3 doubles at once
    for (int64_t i = 0; i < steps && ms < options_.backoff_max_ms; ++i) ms *= 2;
    v.next_poll_ms = static_cast<int>(std::min<int64_t>(ms, options_.backoff_max_ms));
  }
  return v;
}

}  // namespace danmu::core
