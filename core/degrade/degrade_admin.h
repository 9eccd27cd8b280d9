#pragma once
// The admin API of the degradation switches (DESIGN §7): body parsing, the
// mapping of a scope to its field in danmu:degrade (degrade.h), and the
// handlers, as functions of a request (testable without sockets).
//
//   GET  /v1/admin/degrade        what this room sees: room level, auto, settings
//   POST /v1/admin/degrade        {"level":0..3, "scope":"all"|"room"|"stream",
//                                  "room":R (scope room; default this room),
//                                  "stream":ID (implies scope stream),
//                                  "for_s":N (default degrade.default_for_s),
//                                  "reason":TEXT}         level 0 clears the field
//   POST /v1/admin/degrade/clear  {"scope","room","stream","reason"}; scope all
//                                  (the default) clears every manual setting
//   POST /v1/admin/degrade/auto   exactly {"enabled": true|false}
// Anything else is 400 with a message naming the field.
//
// Settings are written to the primary room's Redis (it replicates them to
// the other room); which Redis that is, the role layer decides: the caller
// passes a factory for a client of it.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/degrade/degrade.h"
#include "core/http/http_types.h"

namespace danmu::core {

class DegradeWatcher;
class Metrics;
class RedisClient;

struct DegradeChange {
  std::string field;        // all | room:<R> | stream:<id>
  DegradeSetting setting;   // level 0: clear the field
};

[[nodiscard]] Result<DegradeChange> ParseDegradeSet(std::string_view body, const std::string& own_room,
                                                    int64_t default_for_s, int64_t now_ms);
// The fields a clear removes; fleet-wide: every field of `table` but "auto"
// and the push poll-only switch (kPushPollOnlyField: danmuctl push poll-only off).
[[nodiscard]] Result<std::vector<std::string>> ParseDegradeClear(std::string_view body, const std::string& own_room,
                                                                 const DegradeTable& table);
[[nodiscard]] Result<bool> ParseDegradeAuto(std::string_view body);
// POST /v1/admin/push {"poll_only": true|false, "for_s": N, "reason": "..."}:
// the change of field kPushPollOnlyField (level 1 = on, 0 = clear).
[[nodiscard]] Result<DegradeChange> ParsePushPollOnly(std::string_view body, int64_t default_for_s, int64_t now_ms);
// The GET answer: {"room","room_level","auto_enabled","settings":{field: setting}}.
std::string DegradeStateJson(const std::string& room, int room_level, bool auto_enabled, const DegradeTable& table);

class DegradeAdmin {
 public:
  using StoreFactory = std::function<std::unique_ptr<RedisClient>()>;
  // Not owned: watcher, metrics. Thread-safe (the admin server's threads).
  DegradeAdmin(std::string room, DegradeWatcher* watcher, int64_t default_for_s, StoreFactory primary_store,
               const Clock& clock, Metrics* metrics);

  HttpResponse Get(const HttpRequest& req) const;
  HttpResponse Set(const HttpRequest& req);
  HttpResponse Clear(const HttpRequest& req);
  HttpResponse Auto(const HttpRequest& req);

 private:
  HttpResponse State() const;

  std::string room_;
  DegradeWatcher* watcher_;
  int64_t default_for_s_;
  StoreFactory primary_store_;
  const Clock& clock_;
  Metrics* metrics_;
};

}  // namespace danmu::core
