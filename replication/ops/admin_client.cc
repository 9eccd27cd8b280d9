#include "replication/ops/admin_client.h"

#include "core/http/http_client.h"

namespace danmu::replication {

core::Result<RoomStatus> AdminClient::Status(int timeout_ms) const {
  core::HttpCall c;
  c.url = url_ + "/v1/admin/status";
  c.timeout_ms = timeout_ms;
  auto r = core::Fetch(c);
  if (!r.ok()) return r.status();
  if (r->status != 200) return core::Status(core::Code::kUnavailable, url_ + " status " + std::to_string(r->status));
  return RoomStatus::Parse(r->body);
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
  return RoomStatus::Parse(r->body);
}

}  // namespace danmu::replication
