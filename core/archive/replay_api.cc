#include "core/archive/replay_api.h"

#include "core/base/json_text.h"
#include "core/archive/replay_store.h"
#include "core/model/validation.h"

namespace danmu::core {

HttpResponse ReplayApi::Handle(const HttpRequest& req) {
  auto seg = PathSegments(req.path);
  if (seg.size() != 4 || seg[0] != "v1" || seg[1] != "replays" || seg[3] != "messages") {
    return HttpResponse::Error(404, "not_found", "no such route");
  }
  if (req.method != "GET") {
    HttpResponse r = HttpResponse::Error(405, "method_not_allowed", "method " + req.method + " not allowed here");
    r.headers["Allow"] = "GET";
    return r;
  }
  const std::string& live_room = seg[2];
  if (!IsValidLiveRoom(live_room)) {
    return HttpResponse::Error(400, "invalid_argument", "room id must be 1-64 characters of [A-Za-z0-9_-]");
  }
  if (IsReservedLiveRoom(live_room)) return HttpResponse::Error(404, "not_found", "room has no archive");
  auto q = ParseReplayQuery(live_room, req.query, max_limit_);
  if (!q.ok()) return HttpResponse::Error(q.status());
  auto page = source_->Read(*q);
  if (!page.ok()) {
    if (page.status().code() == Code::kNotFound) {
      return HttpResponse::Error(404, "not_found", "room has no archive (still live, not archived yet, or unknown)");
    }
    return HttpResponse::Error(page.status());
  }
  std::string body;
  body.reserve(page->messages_json.size() + 256);
  body.append("{\"room\":");
  AppendJsonString(body, live_room);
  body.append(",\"from_ms\":").append(std::to_string(q->from_ms));
  body.append(",\"to_ms\":").append(q->to_ms ? std::to_string(*q->to_ms) : "null");
  body.append(",\"limit\":").append(std::to_string(q->limit));
  body.append(",\"count\":").append(std::to_string(page->count));
  body.append(",\"messages\":").append(page->messages_json);
  body.append(",\"next_cursor\":");
  if (page->next) {
    AppendJsonString(body, EncodeReplayCursor(*page->next));
  } else {
    body.append("null");
  }
  body.append(",\"likes\":").append(std::to_string(page->info.likes));
  body.append(",\"viewers\":").append(std::to_string(page->info.viewers));
  body.append(",\"total_messages\":").append(std::to_string(page->info.messages));
  body.append(",\"duration_ms\":").append(std::to_string(page->info.duration_ms)).append("}");
  HttpResponse r = HttpResponse::Json(200, std::move(body));
  // An archive changes only if late messages are re-archived: short caching is safe.
  r.headers["Cache-Control"] = "public, max-age=10";
  return r;
}

}  // namespace danmu::core
