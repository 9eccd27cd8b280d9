#include "replication/ops/admin_client.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/http/http_client.h"

namespace danmu::replication {

core::Result<RoomStatus> ParseRoomStatus(const std::string& json) {
  try {
    Poco::JSON::Parser parser;
    auto o = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
    RoomStatus s;
    s.raw = json;
    s.room = o->getValue<std::string>("room");
    s.role = o->getValue<std::string>("role") == "primary" ? core::Role::kPrimary : core::Role::kSecondary;
    s.epoch = o->getValue<int64_t>("epoch");
    s.frozen = o->getValue<bool>("writes_frozen");
    s.confirmed = o->getValue<bool>("confirmed");
    s.writes_in_flight = o->getValue<int64_t>("writes_in_flight");
    s.read_source = o->getValue<std::string>("read_source");
    s.now_ms = o->getValue<int64_t>("now_ms");
    auto r = o->getObject("replication");
    s.lag_seconds = r->getValue<double>("lag_seconds");
    s.link_up = r->getValue<bool>("link_up");
    s.local_is_master = r->getValue<bool>("local_is_master");
    s.repl_offset = r->getValue<int64_t>("repl_offset");
    s.offset_lag_bytes = r->getValue<int64_t>("offset_lag_bytes");
    if (o->has("degrade_level")) s.degrade_level = o->getValue<int>("degrade_level");
    s.store_epoch = r->getValue<int64_t>("store_epoch");
    auto p = o->getObject("processor");
    s.backlog = p->getValue<int64_t>("backlog");
    if (p->has("lag_seconds")) s.kafka_lag_seconds = p->getValue<double>("lag_seconds");
    if (p->has("delay_seconds")) s.processor_delay_seconds = p->getValue<double>("delay_seconds");
    s.backlog_sampled_at_ms = p->getValue<int64_t>("backlog_sampled_at_ms");
    if (o->has("lease")) {
      auto l = o->getObject("lease");
      s.lease_enabled = l->getValue<bool>("enabled");
      s.lease_held = l->getValue<bool>("held");
      s.lease_valid = l->getValue<bool>("valid");
      s.etcd_reachable = l->getValue<bool>("etcd_reachable");
      s.lease_remaining_ms = l->getValue<int64_t>("remaining_ms");
      s.lease_renewal_age_ms = l->getValue<int64_t>("renewal_age_ms");
      s.acks_refused = l->getValue<int64_t>("acks_refused");
      s.auto_failover = l->getValue<bool>("auto_failover");
      if (l->has("holder") && !l->isNull("holder")) s.lease_holder = l->getObject("holder")->getValue<std::string>("room");
    }
    if (o->has("reconcile")) {
      auto r2 = o->getObject("reconcile");
      s.reconcile_needed = r2->getValue<bool>("needed");
      s.reconcile_from = r2->getValue<std::string>("from_kafka");
      s.reconcile_into = r2->getValue<std::string>("into");
      s.reconcile_reason = r2->getValue<std::string>("reason");
      s.catch_up_state = r2->getObject("catch_up")->getValue<std::string>("state");
    }
    return s;
  } catch (const std::exception& e) {
    return core::Status(core::Code::kInternal, std::string("unreadable room status: ") + e.what());
  }
}

core::Result<RoomStatus> AdminClient::Status(int timeout_ms) const {
  core::HttpCall c;
  c.url = url_ + "/v1/admin/status";
  c.timeout_ms = timeout_ms;
  auto r = core::Fetch(c);
  if (!r.ok()) return r.status();
  if (r->status != 200) return core::Status(core::Code::kUnavailable, url_ + " status " + std::to_string(r->status));
  return ParseRoomStatus(r->body);
}

core::Result<RoomStatus> AdminClient::Action(const std::string& action, const std::string& json_body,
                                             int timeout_ms) const {
  core::HttpCall c;
  c.method = "POST";
  c.url = url_ + "/v1/admin/" + action;
  c.body = json_body;
  c.headers["Authorization"] = "Bearer " + token_;
  c.timeout_ms = timeout_ms;
  auto r = core::Fetch(c);
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return core::Status(r->status == 401 ? core::Code::kInvalidArgument : core::Code::kUnavailable,
                        action + " on " + url_ + " answered " + std::to_string(r->status) + ": " + r->body);
  }
  return ParseRoomStatus(r->body);
}

}  // namespace danmu::replication
