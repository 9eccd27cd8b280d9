#include "replication/room_status.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/api/frontend.h"
#include "core/base/clock.h"
#include "core/base/json_text.h"
#include "core/degrade/degrade_watcher.h"
#include "core/live/processor.h"
#include "core/read/room_cache.h"
#include "replication/heartbeat.h"
#include "replication/primary_lease.h"
#include "replication/reconcile_prompt.h"
#include "replication/room_state.h"

namespace danmu::replication {

namespace {

// --- writing: one overload per field type ---
void Put(std::string& b, bool v) { b += v ? "true" : "false"; }
void Put(std::string& b, int64_t v) { b += std::to_string(v); }
void Put(std::string& b, double v) { b += std::to_string(v); }
void Put(std::string& b, const std::string& v) { core::AppendJsonString(b, v); }
void Put(std::string& b, core::Role v) { core::AppendJsonString(b, core::RoleName(v)); }

void Key(std::string& b, bool* first, const char* key) {
  if (!*first) b += ',';
  *first = false;
  core::AppendJsonString(b, key);
  b += ':';
}

// --- reading: a missing key keeps the default; a wrong type throws ---
void Get(const Poco::JSON::Object& o, const std::string& key, bool* v) { *v = o.getValue<bool>(key); }
void Get(const Poco::JSON::Object& o, const std::string& key, int64_t* v) { *v = o.getValue<int64_t>(key); }
void Get(const Poco::JSON::Object& o, const std::string& key, double* v) { *v = o.getValue<double>(key); }
void Get(const Poco::JSON::Object& o, const std::string& key, std::string* v) { *v = o.getValue<std::string>(key); }
void Get(const Poco::JSON::Object& o, const std::string& key, core::Role* v) {
  const std::string s = o.getValue<std::string>(key);
  if (s == "primary") *v = core::Role::kPrimary;
  else if (s == "secondary") *v = core::Role::kSecondary;
  else throw std::runtime_error("not a role: " + s);
}

template <class T>
void Read(const Poco::JSON::Object& o, const std::string& key, T* v) {
  if (!o.has(key) || o.isNull(key)) return;
  try {
    Get(o, key, v);
  } catch (const std::exception& e) {
    throw std::runtime_error("field '" + key + "': " + e.what());
  }
}

const Poco::JSON::Object* Section(const Poco::JSON::Object& o, const std::string& key) {
  if (!o.has(key) || o.isNull(key)) return nullptr;
  if (!o.isObject(key)) throw std::runtime_error("field '" + key + "' is not an object");
  return o.getObject(key).get();
}

}  // namespace

#define DANMU_ROOM_STATUS_WRITE(type, name, def) \
  Key(b, &first, #name);                         \
  Put(b, static_cast<const type&>(s.name));
#define DANMU_ROOM_STATUS_WRITE_SECTION(Type, name, FIELDS) \
  Key(b, &outer_first, #name);                              \
  {                                                         \
    const auto& s = status.name;                            \
    bool first = true;                                      \
    b += '{';                                               \
    FIELDS(DANMU_ROOM_STATUS_WRITE)                         \
    b += '}';                                               \
  }

std::string RoomStatus::ToJson() const {
  const RoomStatus& status = *this;
  std::string b = "{";
  bool outer_first = true;
  {
    const RoomStatus& s = status;
    bool& first = outer_first;
    DANMU_ROOM_STATUS_TOP(DANMU_ROOM_STATUS_WRITE)
  }
  DANMU_ROOM_STATUS_SECTIONS(DANMU_ROOM_STATUS_WRITE_SECTION)
  b += ",\"partitions\":[";
  for (size_t i = 0; i < partitions.size(); ++i) {
    const ProcessorPartition& q = partitions[i];
    if (i) b += ',';
    b += "{\"partition\":" + std::to_string(q.partition) + ",\"lag\":" + std::to_string(q.lag) +
         ",\"committed\":" + std::to_string(q.committed) + ",\"high\":" + std::to_string(q.high) +
         ",\"owned\":" + (q.owned ? "true" : "false") + ",\"worker\":" + std::to_string(q.worker) +
         ",\"lag_seconds\":";
    Put(b, q.lag_seconds);
    b += '}';
  }
  b += ']';
  if (!lease_json.empty()) b += ",\"lease\":" + lease_json;
  if (!reconcile_json.empty()) b += ",\"reconcile\":" + reconcile_json;
  b += '}';
  return b;
}

#define DANMU_ROOM_STATUS_READ(type, name, def) Read(o, #name, &s.name);
#define DANMU_ROOM_STATUS_READ_SECTION(Type, name, FIELDS) \
  if (const auto* sec = Section(top, #name)) {              \
    const Poco::JSON::Object& o = *sec;                     \
    auto& s = status.name;                                  \
    FIELDS(DANMU_ROOM_STATUS_READ)                          \
  }

core::Result<RoomStatus> RoomStatus::Parse(const std::string& json) {
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(json);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
      return core::Status(core::Code::kInvalidArgument, "room status: not a JSON object");
    }
    const Poco::JSON::Object& top = *v.extract<Poco::JSON::Object::Ptr>();
    if (!top.has("role") || !top.has("epoch")) {
      return core::Status(core::Code::kInvalidArgument, "room status: 'role' and 'epoch' are required");
    }
    RoomStatus status;
    {
      const Poco::JSON::Object& o = top;
      RoomStatus& s = status;
      DANMU_ROOM_STATUS_TOP(DANMU_ROOM_STATUS_READ)
    }
    DANMU_ROOM_STATUS_SECTIONS(DANMU_ROOM_STATUS_READ_SECTION)
    if (top.has("partitions") && !top.isNull("partitions")) {
      if (!top.isArray("partitions")) throw std::runtime_error("field 'partitions' is not an array");
      auto parts = top.getArray("partitions");
      for (size_t i = 0; i < parts->size(); ++i) {
        if (!parts->isObject(static_cast<unsigned>(i))) throw std::runtime_error("field 'partitions' holds a non-object");
        const Poco::JSON::Object& q = *parts->getObject(static_cast<unsigned>(i));
        ProcessorPartition pp;
        int64_t partition = 0;
        Read(q, "partition", &partition);
        pp.partition = static_cast<int32_t>(partition);
        Read(q, "lag", &pp.lag);
        Read(q, "committed", &pp.committed);
        Read(q, "high", &pp.high);
        Read(q, "owned", &pp.owned);
        Read(q, "worker", &pp.worker);
        Read(q, "lag_seconds", &pp.lag_seconds);
        status.partitions.push_back(pp);
      }
    }
    if (const auto* l = Section(top, "lease")) {
      Read(*l, "enabled", &status.lease_enabled);
      Read(*l, "held", &status.lease_held);
      Read(*l, "valid", &status.lease_valid);
      Read(*l, "etcd_reachable", &status.etcd_reachable);
      Read(*l, "remaining_ms", &status.lease_remaining_ms);
      Read(*l, "renewal_age_ms", &status.lease_renewal_age_ms);
      Read(*l, "acks_refused", &status.acks_refused);
      Read(*l, "auto_failover", &status.auto_failover);
      if (const auto* h = Section(*l, "holder")) Read(*h, "room", &status.lease_holder);
    }
    if (const auto* r = Section(top, "reconcile")) {
      Read(*r, "needed", &status.reconcile_needed);
      Read(*r, "from_kafka", &status.reconcile_from);
      Read(*r, "into", &status.reconcile_into);
      Read(*r, "reason", &status.reconcile_reason);
      if (const auto* c = Section(*r, "catch_up")) Read(*c, "state", &status.catch_up_state);
    }
    status.raw = json;
    return status;
  } catch (const std::exception& e) {
    return core::Status(core::Code::kInvalidArgument, std::string("room status: ") + e.what());
  }
}

RoomStatus CollectRoomStatus(const RoomStatusSources& src) {
  RoomStatus s;
  s.room = src.room;
  s.role = src.state->role();
  s.epoch = src.state->epoch();
  s.writes_frozen = src.state->frozen();
  s.confirmed = src.state->confirmed();
  s.promoted_at_ms = src.state->promoted_at_ms();
  s.writes_in_flight = src.frontend ? src.frontend->writes_in_flight() : 0;
  s.read_source = src.reading_from_peer && src.reading_from_peer() ? "peer" : "local";
  s.degrade_level = src.degrade ? src.degrade->room_level() : 0;
  s.now_ms = src.clock->NowMs();
  if (src.heartbeat) {
    const LagSample lag = src.heartbeat->Latest();
    s.replication.lag_seconds = lag.lag_seconds;
    s.replication.link_up = lag.link_up;
    s.replication.offset_lag_bytes = lag.offset_lag_bytes;
    s.replication.local_is_master = lag.local_is_master;
    s.replication.store_epoch = lag.store_epoch;
    s.replication.repl_offset = lag.repl_offset;
  }
  if (const core::Processor* p = src.processor) {
    s.processor.running = true;
    s.processor.fenced = p->fenced();
    s.processor.paused = p->paused();
    s.processor.lag_seconds = p->lag_seconds();
    s.processor.delay_seconds = p->last_delay_seconds();
    s.processor.applied = p->applied();
    const auto backlog = p->backlog();
    s.processor.backlog = backlog.messages;
    s.processor.backlog_sampled_at_ms = backlog.sampled_at_ms;
    s.processor.instance = p->instance();
    s.processor.batch_limit = p->batch_limit();
    for (const auto& q : p->partitions()) {
      s.partitions.push_back({q.partition, q.lag_messages, q.committed, q.worker >= 0, q.lag_seconds, q.high, q.worker});
    }
  }
  if (src.cache) s.cache.hot_rooms = static_cast<int64_t>(src.cache->hot_rooms());
  if (src.edge_connections) s.edge.connections = src.edge_connections();
  if (src.edge_requests_in_flight) s.edge.requests_in_flight = src.edge_requests_in_flight();
  if (src.push) src.push(&s.push);
  if (src.routing) s.routing = src.routing();
  if (src.lease) s.lease_json = src.lease->StatusJson();
  if (src.reconcile_prompt) s.reconcile_json = src.reconcile_prompt->StatusJson();
  return s;
}

}  // namespace danmu::replication
