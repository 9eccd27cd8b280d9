#include "replication/role_action.h"

#include "core/http/json_body.h"

namespace danmu::replication {

core::Result<RoleAction> ParseRoleAction(std::string_view body) {
  auto b = core::JsonBody::Parse(body, {"admin action body", {"reason", "epoch", "force", "steal", "catch_up"}, true, 1});
  if (!b.ok()) return b.status();
  RoleAction a;
  for (core::Status s : {b->Get("reason", &a.reason), b->Get("epoch", &a.epoch), b->Get("force", &a.force), b->Get("steal", &a.steal), b->Get("catch_up", &a.catch_up)}) {
    if (!s.ok()) return s;
  }
  if (a.epoch < 0) return core::Status(core::Code::kInvalidArgument, "admin action body: 'epoch' must be > 0");
  if (a.reason.size() > 256) return core::Status(core::Code::kInvalidArgument, "admin action body: 'reason' is longer than 256 bytes");
  return a;
}

}  // namespace danmu::replication
