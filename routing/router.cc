#include "routing/router.h"

#include <algorithm>

#include "core/base/json_text.h"
#include "core/model/validation.h"
#include "routing/routing_metrics.h"

namespace danmu::routing {
namespace {

using core::HttpRequest;
using core::HttpResponse;

HttpResponse BadRequest(const std::string& message) { return HttpResponse::Error(400, "invalid_argument", message); }

bool PrintableShort(std::string_view s, size_t max) {
  return s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string TransportUrl(const std::string& base, Transport t, const std::string& live_room) {
  if (live_room.empty()) return base;
  std::string url = base;
  if (t == Transport::kWebSocket) {
    if (url.rfind("http://", 0) == 0) url = "ws://" + url.substr(7);
    else if (url.rfind("https://", 0) == 0) url = "wss://" + url.substr(8);
    return url + "/v1/rooms/" + live_room + "/ws";
  }
  if (t == Transport::kSse) return url + "/v1/rooms/" + live_room + "/events";
  return url + "/v1/rooms/" + live_room + "/messages";
}

}  // namespace

Router::Router(RouterOptions options, RulesWatcher* rules, EdgeDirectory* edges,
               std::function<DegradeInput(const std::string&)> degrade, RoutingMetrics* metrics)
    : options_(std::move(options)), rules_(rules), edges_(edges), degrade_(std::move(degrade)), metrics_(metrics) {}

HttpResponse Router::Route(const HttpRequest& req) const {
  if (req.method != "GET") return HttpResponse::Error(405, "method_not_allowed", "use GET");
  RouteClient client{req.Query("uid"), req.Query("device"), req.Query("app_version"), req.Query("platform")};
  const std::string live_room = req.Query("room");
  if (!client.uid.empty() && !core::IsValidUid(client.uid)) return BadRequest("uid must be 1-64 of [A-Za-z0-9_.-]");
  if (!client.device.empty() && !IsValidDeviceId(client.device)) return BadRequest("device must be 1-128 of [A-Za-z0-9_.:-]");
  if (!client.platform.empty() && !IsValidPlatform(client.platform)) return BadRequest("platform must be 1-32 of [a-z0-9_-]");
  if (!PrintableShort(client.app_version, 40)) return BadRequest("app_version must be at most 40 printable characters");
  if (!live_room.empty() && !core::IsValidLiveRoom(live_room)) return BadRequest("room must be 1-64 of [A-Za-z0-9_-]");
  const std::string fallback = req.Query("fallback");
  if (!fallback.empty() && metrics_) {
    const char* reason = "other";
    for (const char* r : kFallbackReasons) {
      if (fallback == r) reason = r;
    }
    metrics_->client_fallbacks.Add({{"reason", reason}}).Increment();
  }

  auto rules = rules_->Current();
  DegradeInput degrade = degrade_ ? degrade_(live_room) : DegradeInput{};
  RouteDecision d = Decide(*rules, client, degrade);
  std::vector<EdgeRecord> edges = edges_ ? edges_->Pick(options_.room, static_cast<size_t>(options_.max_endpoints),
                                                       d.transport != Transport::kPoll)
                                         : std::vector<EdgeRecord>{};
  if (d.transport != Transport::kPoll && edges.empty()) d = {Transport::kPoll, "no_edge"};
  if (metrics_) metrics_->decisions.Add({{"transport", TransportName(d.transport)}, {"reason", d.reason}}).Increment();

  std::string out = "{\"transport\":\"";
  out += TransportName(d.transport);
  out += "\",\"reason\":\"";
  out += d.reason;
  out += "\",\"endpoints\":[";
  std::vector<std::string> bases;
  for (const auto& e : edges) bases.push_back(e.url);
  if (bases.empty()) bases.push_back(options_.self_url);
  for (size_t i = 0; i < bases.size(); ++i) {
    if (i) out += ',';
    core::AppendJsonString(out, TransportUrl(bases[i], d.transport, live_room));
  }
  out += "],\"poll_url\":";
  core::AppendJsonString(out, TransportUrl(bases.front(), Transport::kPoll, live_room));
  out += ",\"rules_version\":" + std::to_string(rules->version);
  out += ",\"retry_after_ms\":" +
         std::to_string(d.transport == Transport::kPoll ? options_.poll_recheck_ms : options_.reconnect_base_ms);
  out += '}';
  HttpResponse resp = HttpResponse::Json(200, std::move(out));
  resp.headers["Cache-Control"] = "no-store";
  return resp;
}

HttpResponse Router::AdminShow() const {
  auto rules = rules_->Current();
  std::string out = "{\"rules\":" + rules->ToJson() + ",\"stale\":" + (rules_->stale() ? "true" : "false") +
                    ",\"last_load_ms\":" + std::to_string(rules_->last_load_ms()) + ",\"edges\":[";
  if (edges_) {
    auto all = edges_->All();
    for (size_t i = 0; i < all.size(); ++i) {
      if (i) out += ',';
      out += all[i].ToJson();
    }
  }
  out += "],\"directory_stale\":";
  out += edges_ && edges_->stale() ? "true" : "false";
  out += '}';
  return HttpResponse::Json(200, std::move(out));
}

HttpResponse Router::AdminChange(const HttpRequest& req) const {
  if (req.method != "POST") return HttpResponse::Error(405, "method_not_allowed", "use POST");
  auto change = RouteChange::Parse(req.body);
  if (!change.ok()) {
    if (metrics_) metrics_->rule_changes.Add({{"result", "invalid"}}).Increment();
    return HttpResponse::Error(change.status());
  }
  auto next = rules_->Change(*change, req.client_address.empty() ? "admin" : req.client_address);
  if (!next.ok()) {
    HttpResponse resp = HttpResponse::Error(next.status());
    if (next.status().code() == core::Code::kUnavailable) resp.headers["Retry-After"] = "1";
    return resp;
  }
  return HttpResponse::Json(200, "{\"rules\":" + next->ToJson() + "}");
}

}  // namespace danmu::routing
