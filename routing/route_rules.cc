#include "routing/route_rules.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>

#include "core/base/json_text.h"
#include "core/model/validation.h"

namespace danmu::routing {
namespace {

using core::Code;
using core::Result;
using core::Status;
using Poco::JSON::Object;

constexpr int64_t kMaxJsonBytes = 1 << 20;  // a rule set of ~10k entries
constexpr size_t kMaxEntriesPerList = 10000;

Status Invalid(std::string message) { return Status(Code::kInvalidArgument, std::move(message)); }

bool AllOf(std::string_view s, size_t max, bool (*ok)(char)) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), ok);
}

void AppendStrings(std::string& out, const char* key, const std::set<std::string>& values) {
  out += '"';
  out += key;
  out += "\":[";
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    core::AppendJsonString(out, v);
  }
  out += ']';
}

void AppendList(std::string& out, const RuleList& list) {
  out += '{';
  AppendStrings(out, "uids", list.uids);
  out += ',';
  AppendStrings(out, "devices", list.devices);
  out += ",\"app_versions\":[";
  for (size_t i = 0; i < list.app_versions.size(); ++i) {
    if (i) out += ',';
    core::AppendJsonString(out, list.app_versions[i].ToString());
  }
  out += "],";
  AppendStrings(out, "platforms", list.platforms);
  out += '}';
}

Result<Poco::JSON::Object::Ptr> ParseObject(std::string_view json, const char* what) {
  if (static_cast<int64_t>(json.size()) > kMaxJsonBytes) return Invalid(std::string(what) + " is too large");
  if (core::JsonNestingDepth(json) > 4) return Invalid(std::string(what) + " is nested too deeply");
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(std::string(json));
    if (v.type() != typeid(Object::Ptr)) return Invalid(std::string(what) + " must be a JSON object");
    auto o = v.extract<Object::Ptr>();
    if (!o) return Invalid(std::string(what) + " must be a JSON object");
    return o;
  } catch (const Poco::Exception&) {
    return Invalid(std::string(what) + " is not valid JSON");
  } catch (const std::exception&) {
    return Invalid(std::string(what) + " must be a JSON object");
  }
}

Status OnlyKeys(const Object& o, std::initializer_list<const char*> allowed, const std::string& where) {
  for (const auto& [k, v] : o) {
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }) == allowed.end()) {
      return Invalid("unknown field '" + k + "'" + where);
    }
  }
  return Status::Ok();
}

Result<std::string> GetString(const Object& o, const std::string& key) {
  auto v = o.get(key);
  if (v.isEmpty() || !v.isString()) return Invalid("'" + key + "' must be a string");
  return v.extract<std::string>();
}

Result<int64_t> GetInt(const Object& o, const std::string& key) {
  auto v = o.get(key);
  if (v.isEmpty() || !v.isInteger() || v.type() == typeid(bool)) return Invalid("'" + key + "' must be an integer");
  try {
    return v.convert<int64_t>();
  } catch (const Poco::Exception&) {
    return Invalid("'" + key + "' must be an integer");
  }
}

Result<bool> GetBool(const Object& o, const std::string& key) {
  auto v = o.get(key);
  if (v.isEmpty() || !v.isBoolean()) return Invalid("'" + key + "' must be true or false");
  return v.extract<bool>();
}

// Validates one entry of a list field; the canonical form goes to *canonical.
Status CheckEntry(const std::string& field, const std::string& value, std::string* canonical) {
  if (field == "uid") {
    if (!core::IsValidUid(value)) return Invalid("uid must be 1-64 of [A-Za-z0-9_.-]");
  } else if (field == "device") {
    if (!IsValidDeviceId(value)) return Invalid("device must be 1-128 of [A-Za-z0-9_.:-]");
  } else if (field == "platform") {
    if (!IsValidPlatform(value)) return Invalid("platform must be 1-32 of [a-z0-9_-]");
  } else if (field == "app_version") {
    auto r = VersionRange::Parse(value);
    if (!r.ok()) return r.status();
    *canonical = r->ToString();
    return Status::Ok();
  } else {
    return Invalid("unknown rule field '" + field + "'");
  }
  *canonical = value;
  return Status::Ok();
}

Status AddEntry(RuleList* list, const std::string& field, const std::string& canonical) {
  if (list->size() >= kMaxEntriesPerList) return Invalid("a list holds at most 10000 entries");
  if (field == "uid") list->uids.insert(canonical);
  if (field == "device") list->devices.insert(canonical);
  if (field == "platform") list->platforms.insert(canonical);
  if (field == "app_version") {
    auto r = VersionRange::Parse(canonical);
    if (std::find(list->app_versions.begin(), list->app_versions.end(), *r) == list->app_versions.end()) {
      list->app_versions.push_back(*r);
    }
  }
  return Status::Ok();
}

bool RemoveEntry(RuleList* list, const std::string& field, const std::string& canonical) {
  if (field == "uid") return list->uids.erase(canonical) > 0;
  if (field == "device") return list->devices.erase(canonical) > 0;
  if (field == "platform") return list->platforms.erase(canonical) > 0;
  auto r = VersionRange::Parse(canonical);
  auto it = std::find(list->app_versions.begin(), list->app_versions.end(), *r);
  if (it == list->app_versions.end()) return false;
  list->app_versions.erase(it);
  return true;
}

Result<RuleList> ParseList(const Object::Ptr& o, const std::string& name) {
  RuleList list;
  if (!o) return Invalid("'" + name + "' must be an object");
  if (auto s = OnlyKeys(*o, {"uids", "devices", "app_versions", "platforms"}, " in '" + name + "'"); !s.ok()) return s;
  const std::pair<const char*, const char*> fields[] = {
      {"uids", "uid"}, {"devices", "device"}, {"app_versions", "app_version"}, {"platforms", "platform"}};
  for (const auto& [key, field] : fields) {
    if (!o->has(key)) continue;
    auto arr = o->getArray(key);
    if (!arr) return Invalid("'" + name + "." + key + "' must be an array");
    for (size_t i = 0; i < arr->size(); ++i) {
      auto v = arr->get(static_cast<unsigned>(i));
      if (!v.isString()) return Invalid("'" + name + "." + key + "' must hold strings");
      std::string canonical;
      if (auto s = CheckEntry(field, v.extract<std::string>(), &canonical); !s.ok()) {
        return Invalid("'" + name + "." + key + "': " + s.message());
      }
      if (auto s = AddEntry(&list, field, canonical); !s.ok()) return s;
    }
  }
  return list;
}

}  // namespace

bool IsValidDeviceId(std::string_view device) {
  return AllOf(device, 128, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '-';
  });
}

bool IsValidPlatform(std::string_view platform) {
  return AllOf(platform, 32, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

std::string RouteRules::ToJson() const {
  std::string out = "{\"version\":" + std::to_string(version) + ",\"kill_switch\":" + (kill_switch ? "true" : "false") +
                    ",\"percent\":" + std::to_string(percent) + ",\"transport\":";
  core::AppendJsonString(out, transport);
  out += ",\"poll_at_level\":" + std::to_string(poll_at_level) + ",\"updated_ms\":" + std::to_string(updated_ms) +
         ",\"allow\":";
  AppendList(out, allow);
  out += ",\"deny\":";
  AppendList(out, deny);
  out += '}';
  return out;
}

std::string RouteRules::Summary() const {
  return "v" + std::to_string(version) + " percent=" + std::to_string(percent) +
         " kill_switch=" + (kill_switch ? "on" : "off") + " transport=" + transport +
         " poll_at_level=" + std::to_string(poll_at_level) + " allow=" + std::to_string(allow.size()) +
         " deny=" + std::to_string(deny.size());
}

Result<RouteRules> RouteRules::FromJson(std::string_view json) {
  auto parsed = ParseObject(json, "rule set");
  if (!parsed.ok()) return parsed.status();
  const Object& o = **parsed;
  if (auto s = OnlyKeys(o, {"version", "kill_switch", "percent", "transport", "poll_at_level", "updated_ms", "allow", "deny"}, "");
      !s.ok()) {
    return s;
  }
  RouteRules r;
  if (o.has("version")) {
    auto v = GetInt(o, "version");
    if (!v.ok()) return v.status();
    if (*v < 0) return Invalid("'version' must be >= 0");
    r.version = *v;
  }
  if (o.has("kill_switch")) {
    auto v = GetBool(o, "kill_switch");
    if (!v.ok()) return v.status();
    r.kill_switch = *v;
  }
  if (o.has("percent")) {
    auto v = GetInt(o, "percent");
    if (!v.ok()) return v.status();
    if (*v < 0 || *v > 100) return Invalid("'percent' must be 0..100");
    r.percent = static_cast<int>(*v);
  }
  if (o.has("transport")) {
    auto v = GetString(o, "transport");
    if (!v.ok()) return v.status();
    if (*v != "ws" && *v != "sse") return Invalid("'transport' must be ws or sse");
    r.transport = *v;
  }
  if (o.has("poll_at_level")) {
    auto v = GetInt(o, "poll_at_level");
    if (!v.ok()) return v.status();
    if (*v < 0 || *v > 3) return Invalid("'poll_at_level' must be 0..3");
    r.poll_at_level = static_cast<int>(*v);
  }
  if (o.has("updated_ms")) {
    auto v = GetInt(o, "updated_ms");
    if (!v.ok()) return v.status();
    r.updated_ms = *v;
  }
  for (const char* name : {"allow", "deny"}) {
    if (!o.has(name)) continue;
    auto list = ParseList(o.getObject(name), name);
    if (!list.ok()) return list.status();
    (std::string(name) == "allow" ? r.allow : r.deny) = std::move(*list);
  }
  return r;
}

Result<RouteChange> RouteChange::Parse(std::string_view json) {
  auto parsed = ParseObject(json, "route change");
  if (!parsed.ok()) return parsed.status();
  const Object& o = **parsed;
  RouteChange c;
  auto op = GetString(o, "op");
  if (!op.ok()) return Invalid("'op' is required: set_percent, kill_switch, set_transport, set_poll_at_level, allow, deny, remove or clear");
  c.op_ = *op;
  const std::string where = " for op " + c.op_;
  auto one_entry = [&]() -> Status {
    int given = 0;
    for (const char* f : {"uid", "device", "app_version", "platform"}) {
      if (!o.has(f)) continue;
      ++given;
      auto v = GetString(o, f);
      if (!v.ok()) return v.status();
      c.field_ = f;
      if (auto s = CheckEntry(c.field_, *v, &c.value_); !s.ok()) return s;
    }
    if (given != 1) return Invalid("give exactly one of uid, device, app_version, platform" + where);
    return Status::Ok();
  };
  auto list_name = [&](bool required) -> Status {
    if (!o.has("list")) return required ? Invalid("'list' (allow or deny) is required" + where) : Status::Ok();
    auto v = GetString(o, "list");
    if (!v.ok()) return v.status();
    if (*v != "allow" && *v != "deny") return Invalid("'list' must be allow or deny");
    c.list_ = *v;
    return Status::Ok();
  };
  Status s;
  if (c.op_ == "set_percent") {
    if (s = OnlyKeys(o, {"op", "percent"}, where); !s.ok()) return s;
    auto v = GetInt(o, "percent");
    if (!v.ok()) return v.status();
    if (*v < 0 || *v > 100) return Invalid("'percent' must be 0..100");
    c.number_ = *v;
  } else if (c.op_ == "kill_switch") {
    if (s = OnlyKeys(o, {"op", "on"}, where); !s.ok()) return s;
    auto v = GetBool(o, "on");
    if (!v.ok()) return v.status();
    c.flag_ = *v;
  } else if (c.op_ == "set_transport") {
    if (s = OnlyKeys(o, {"op", "transport"}, where); !s.ok()) return s;
    auto v = GetString(o, "transport");
    if (!v.ok()) return v.status();
    if (*v != "ws" && *v != "sse") return Invalid("'transport' must be ws or sse");
    c.value_ = *v;
  } else if (c.op_ == "set_poll_at_level") {
    if (s = OnlyKeys(o, {"op", "level"}, where); !s.ok()) return s;
    auto v = GetInt(o, "level");
    if (!v.ok()) return v.status();
    if (*v < 0 || *v > 3) return Invalid("'level' must be 0..3 (0: never)");
    c.number_ = *v;
  } else if (c.op_ == "allow" || c.op_ == "deny") {
    if (s = OnlyKeys(o, {"op", "uid", "device", "app_version", "platform"}, where); !s.ok()) return s;
    if (s = one_entry(); !s.ok()) return s;
    c.list_ = c.op_;
  } else if (c.op_ == "remove") {
    if (s = OnlyKeys(o, {"op", "list", "uid", "device", "app_version", "platform"}, where); !s.ok()) return s;
    if (s = list_name(true); !s.ok()) return s;
    if (s = one_entry(); !s.ok()) return s;
  } else if (c.op_ == "clear") {
    if (s = OnlyKeys(o, {"op", "list"}, where); !s.ok()) return s;
    if (s = list_name(false); !s.ok()) return s;
  } else {
    return Invalid("unknown op '" + c.op_ + "'");
  }
  // Canonical text for the log line.
  c.text_ = "{\"op\":";
  core::AppendJsonString(c.text_, c.op_);
  if (!c.list_.empty() && c.op_ != "allow" && c.op_ != "deny") {
    c.text_ += ",\"list\":";
    core::AppendJsonString(c.text_, c.list_);
  }
  if (!c.field_.empty()) {
    c.text_ += ",";
    core::AppendJsonString(c.text_, c.field_);
    c.text_ += ":";
    core::AppendJsonString(c.text_, c.value_);
  }
  if (c.op_ == "set_percent") c.text_ += ",\"percent\":" + std::to_string(c.number_);
  if (c.op_ == "set_poll_at_level") c.text_ += ",\"level\":" + std::to_string(c.number_);
  if (c.op_ == "kill_switch") c.text_ += std::string(",\"on\":") + (c.flag_ ? "true" : "false");
  if (c.op_ == "set_transport") {
    c.text_ += ",\"transport\":";
    core::AppendJsonString(c.text_, c.value_);
  }
  c.text_ += '}';
  return c;
}

Result<RouteRules> RouteChange::Apply(const RouteRules& rules, int64_t now_ms) const {
  RouteRules r = rules;
  if (op_ == "set_percent") {
    r.percent = static_cast<int>(number_);
  } else if (op_ == "kill_switch") {
    r.kill_switch = flag_;
  } else if (op_ == "set_transport") {
    r.transport = value_;
  } else if (op_ == "set_poll_at_level") {
    r.poll_at_level = static_cast<int>(number_);
  } else if (op_ == "allow" || op_ == "deny") {
    if (auto s = AddEntry(op_ == "allow" ? &r.allow : &r.deny, field_, value_); !s.ok()) return s;
  } else if (op_ == "remove") {
    if (!RemoveEntry(list_ == "allow" ? &r.allow : &r.deny, field_, value_)) {
      return Status(Code::kNotFound, field_ + " '" + value_ + "' is not in the " + list_ + " list");
    }
  } else if (op_ == "clear") {
    if (list_.empty() || list_ == "allow") r.allow = {};
    if (list_.empty() || list_ == "deny") r.deny = {};
  }
  r.version = rules.version + 1;
  r.updated_ms = now_ms;
  return r;
}

}  // namespace danmu::routing
