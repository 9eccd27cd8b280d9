#include "replication/reconcile_request.h"

#include <algorithm>

#include "core/http/json_body.h"
#include "core/model/validation.h"
#include "core/live/write_route.h"
#include "core/store/redis_client.h"

namespace danmu::replication {

using core::Code;
using core::Status;

core::Result<ReconcileRequest> ParseReconcileRequest(std::string_view body, const ReconcileDefaults& d) {
  auto invalid = [](const std::string& m) { return Status(Code::kInvalidArgument, "reconcile body: " + m); };
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status(Code::kInvalidArgument, "reconcile needs a JSON body naming the old primary's kafka");
  }
  auto b = core::JsonBody::Parse(body, {"reconcile body",
                                        {"kafka", "since_ms", "lookback_ms", "topic", "live_room", "reingest_unknown",
                                         "deadline_ms", "max_records"},
                                        false,
                                        1});
  if (!b.ok()) return b.status();
  ReconcileRequest r;
  ReconcileOptions& o = r.options;
  o.topic = d.topic;
  o.live_cap = d.live_cap;
  if (!b->Has("kafka")) return invalid("field 'kafka' (the old primary's bootstrap host:port) is required");
  r.since_given = b->Require("since_ms").ok();  // present and not null
  for (Status s : {b->Get("kafka", &o.old_brokers), b->Get("topic", &o.topic), b->Get("since_ms", &o.since_ms),
                   b->Get("lookback_ms", &r.lookback_ms), b->Get("live_room", &o.live_room),
                   b->Get("reingest_unknown", &o.reingest_unknown), b->Get("deadline_ms", &o.deadline_ms),
                   b->Get("max_records", &o.max_records)}) {
    if (!s.ok()) return s;
  }
  auto brokers = core::SplitList(o.old_brokers);
  if (brokers.empty()) return invalid("'kafka' must be host:port[,host:port]");
  const auto own = core::SplitList(d.own_brokers);
  for (const auto& broker : brokers) {
    std::string host;
    int port = 0;
    if (!core::SplitHostPort(broker, &host, &port) || host.empty() || port <= 0 || port > 65535) {
      return invalid("'kafka' entry '" + broker + "' is not host:port");
    }
    for (const auto& mine : own) {
      if (mine == broker) return invalid(broker + " is this room's own Kafka, not the old primary's");
    }
  }
  if (o.topic.empty() || o.topic.size() > 249) return invalid("bad 'topic'");
  if (!o.live_room.empty() && !core::IsValidLiveRoom(o.live_room)) return invalid("'live_room' is not a valid live room id");
  if (r.since_given && o.since_ms < 0) return invalid("'since_ms' must be >= 0");
  if (r.lookback_ms <= 0) return invalid("'lookback_ms' must be > 0");
  if (o.deadline_ms < 1000 || o.deadline_ms > 600000) return invalid("'deadline_ms' must be 1000..600000");
  if (o.max_records <= 0) return invalid("'max_records' must be > 0");
  return r;
}

Status ResolveScanStart(ReconcileRequest* r, int64_t promoted_at_ms) {
  if (r->since_given) return Status::Ok();
  if (promoted_at_ms <= 0) {
    return Status(Code::kInvalidArgument,
                  "reconcile body: 'since_ms' is required: this room's promotion time is unknown "
                  "(never promoted, primary by its config, or promoted before its state file recorded the time)");
  }
  r->options.since_ms = std::max<int64_t>(0, promoted_at_ms - r->lookback_ms);
  return Status::Ok();
}

}  // namespace danmu::replication
