#include "core/degrade/degrade_admin.h"

#include "core/base/json_text.h"
#include "core/degrade/degrade_watcher.h"
#include "core/http/json_body.h"
#include "core/model/validation.h"
#include "core/store/redis_client.h"

namespace danmu::core {

namespace {

Status Invalid(const std::string& what, const std::string& m) { return Status(Code::kInvalidArgument, what + ": " + m); }

// scope/room/stream of a set or clear body -> the field it names, or "" for
// a fleet-wide clear ("all" on set).
Result<std::string> ScopeField(const JsonBody& b, const std::string& what, const std::string& own_room) {
  std::string scope = "all", room = own_room, stream;
  for (Status s : {b.Get("scope", &scope), b.Get("room", &room), b.Get("stream", &stream)}) {
    if (!s.ok()) return s;
  }
  if (!stream.empty()) scope = "stream";  // a stream names its scope
  if (scope == "all") return std::string("all");
  if (scope == "room") {
    if (room.empty() || room == "all" || room.size() > 64 || !IsValidLiveRoom(room)) {
      return Invalid(what, "'room' must name one room with scope room");
    }
    return "room:" + room;
  }
  if (scope == "stream") {
    if (!IsValidLiveRoom(stream)) return Invalid(what, "scope stream needs 'stream', a valid live room id");
    return "stream:" + stream;
  }
  return Invalid(what, "'scope' must be all, room or stream");
}

}  // namespace

Result<DegradeChange> ParseDegradeSet(std::string_view body, const std::string& own_room, int64_t default_for_s,
                                      int64_t now_ms) {
  const std::string what = "degrade body";
  auto b = JsonBody::Parse(body, {what, {"level", "scope", "room", "stream", "for_s", "reason"}, false, 1});
  if (!b.ok()) return b.status();
  DegradeChange c;
  int64_t for_s = 0;
  if (Status s = b->Require("level"); !s.ok()) return s;
  for (Status s : {b->Get("level", &c.setting.level), b->Get("for_s", &for_s), b->Get("reason", &c.setting.reason)}) {
    if (!s.ok()) return s;
  }
  if (c.setting.level < 0 || c.setting.level > 3) return Invalid(what, "'level' must be 0..3");
  if (for_s < 0 || for_s > 7 * 24 * 3600) return Invalid(what, "'for_s' must be 0..604800 (0: the default)");
  if (c.setting.reason.size() > 256) return Invalid(what, "'reason' is longer than 256 bytes");
  auto field = ScopeField(*b, what, own_room);
  if (!field.ok()) return field.status();
  c.field = *field;
  if (for_s == 0) for_s = default_for_s;
  c.setting.set_at_ms = now_ms;
  c.setting.expires_at_ms = now_ms + for_s * 1000;
  c.setting.source = "manual";
  return c;
}

Result<std::vector<std::string>> ParseDegradeClear(std::string_view body, const std::string& own_room,
                                                   const DegradeTable& table) {
  const std::string what = "degrade clear body";
  auto b = JsonBody::Parse(body, {what, {"scope", "room", "stream", "reason"}, true, 1});
  if (!b.ok()) return b.status();
  auto field = ScopeField(*b, what, own_room);
  if (!field.ok()) return field.status();
  if (*field != "all") return std::vector<std::string>{*field};
  std::vector<std::string> fields;  // fleet-wide: every manual setting
  for (const auto& [f, setting] : table) {
    if (f != "auto" && f != kPushPollOnlyField) fields.push_back(f);
  }
  return fields;
}

Result<bool> ParseDegradeAuto(std::string_view body) {
  auto b = JsonBody::Parse(body, {"degrade auto body", {"enabled"}, false, 1});
  if (!b.ok()) return b.status();
  if (Status s = b->Require("enabled"); !s.ok()) return s;
  bool enabled = false;
  if (Status s = b->Get("enabled", &enabled); !s.ok()) return s;
  return enabled;
}

std::string DegradeStateJson(const std::string& room, int room_level, bool auto_enabled, const DegradeTable& table) {
  std::string b = "{\"room\":";
  AppendJsonString(b, room);
  b += ",\"room_level\":" + std::to_string(room_level);
  b += ",\"auto_enabled\":" + std::string(auto_enabled ? "true" : "false") + ",\"settings\":{";
  bool first = true;
  for (const auto& [field, s] : table) {
    if (!first) b += ",";
    first = false;
    AppendJsonString(b, field);
    b += ":" + EncodeDegradeSetting(s);
  }
  return b + "}}";
}

Result<DegradeChange> ParsePushPollOnly(std::string_view body, int64_t default_for_s, int64_t now_ms) {
  const std::string what = "push body";
  auto b = JsonBody::Parse(body, {what, {"poll_only", "for_s", "reason"}, false, 1});
  if (!b.ok()) return b.status();
  if (Status s = b->Require("poll_only"); !s.ok()) return s;
  bool on = false;
  int64_t for_s = 0;
  DegradeChange c;
  for (Status s : {b->Get("poll_only", &on), b->Get("for_s", &for_s), b->Get("reason", &c.setting.reason)}) {
    if (!s.ok()) return s;
  }
  if (for_s < 0 || for_s > 7 * 24 * 3600) return Invalid(what, "'for_s' must be 0..604800 (0: the default)");
  if (c.setting.reason.size() > 256) return Invalid(what, "'reason' is longer than 256 bytes");
  c.field = kPushPollOnlyField;
  c.setting.level = on ? 1 : 0;
  if (for_s == 0) for_s = default_for_s;
  c.setting.set_at_ms = now_ms;
  c.setting.expires_at_ms = now_ms + for_s * 1000;
  c.setting.source = "manual";
  return c;
}

DegradeAdmin::DegradeAdmin(std::string room, DegradeWatcher* watcher, int64_t default_for_s, StoreFactory primary_store,
                           const Clock& clock, Metrics* metrics)
    : room_(std::move(room)),
      watcher_(watcher),
      default_for_s_(default_for_s),
      primary_store_(std::move(primary_store)),
      clock_(clock),
      metrics_(metrics) {}

HttpResponse DegradeAdmin::State() const {
  return HttpResponse::Json(200, DegradeStateJson(room_, watcher_->room_level(), watcher_->auto_enabled(), watcher_->Table()));
}

HttpResponse DegradeAdmin::Get(const HttpRequest&) const { return State(); }

HttpResponse DegradeAdmin::Set(const HttpRequest& req) {
  auto c = ParseDegradeSet(req.body, room_, default_for_s_, clock_.NowMs());
  if (!c.ok()) return HttpResponse::Error(c.status());
  auto store = primary_store_();
  Status st = c->setting.level == 0 ? DegradeWatcher::Clear(*store, c->field, "manual", metrics_, room_)
                                    : DegradeWatcher::Write(*store, c->field, c->setting, metrics_, room_);
  if (!st.ok()) return HttpResponse::Error(st);
  (void)watcher_->Refresh();  // stored either way; the answer shows the last round
  return State();
}

HttpResponse DegradeAdmin::Clear(const HttpRequest& req) {
  auto fields = ParseDegradeClear(req.body, room_, watcher_->Table());
  if (!fields.ok()) return HttpResponse::Error(fields.status());
  auto store = primary_store_();
  for (const auto& f : *fields) {
    if (Status st = DegradeWatcher::Clear(*store, f, "manual", metrics_, room_); !st.ok()) return HttpResponse::Error(st);
  }
  (void)watcher_->Refresh();  // as above
  return State();
}

HttpResponse DegradeAdmin::Auto(const HttpRequest& req) {
  auto enabled = ParseDegradeAuto(req.body);
  if (!enabled.ok()) return HttpResponse::Error(enabled.status());
  watcher_->SetAuto(*enabled);
  return State();
}

}  // namespace danmu::core
