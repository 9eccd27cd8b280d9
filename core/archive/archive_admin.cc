#include "core/archive/archive_admin.h"

#include "core/archive/archiver.h"
#include "core/base/log.h"
#include "core/http/json_body.h"
#include "core/model/validation.h"

namespace danmu::core {

namespace {
HttpResponse NoArchiver() { return HttpResponse::Error(409, "no_archiver", "this danmud runs no archiver"); }
}  // namespace

Result<ArchiveRunRequest> ParseArchiveRun(std::string_view body, std::string* error_code) {
  *error_code = "bad_json";
  auto b = JsonBody::Parse(body, {"archive body", {"room", "mode"}, false, 1});
  if (!b.ok()) return b.status();
  ArchiveRunRequest r;
  for (Status s : {b->Get("room", &r.room), b->Get("mode", &r.mode)}) {
    if (!s.ok()) return s;
  }
  *error_code = "bad_room";
  if (!IsValidLiveRoom(r.room)) return Status(Code::kInvalidArgument, "field 'room' must be a valid live room id");
  *error_code = "bad_mode";
  if (r.mode != "auto" && r.mode != "checkpoint" && r.mode != "archive") {
    return Status(Code::kInvalidArgument, "field 'mode' must be auto, checkpoint or archive");
  }
  error_code->clear();
  return r;
}

HttpResponse ArchiveAdmin::Get(const HttpRequest& req) const {
  Archiver* a = archiver_();
  if (!a) return NoArchiver();
  const std::string room = req.Query("room");
  if (!IsValidLiveRoom(room)) return HttpResponse::Error(400, "bad_room", "query parameter 'room' must be a valid live room id");
  auto st = a->Inspect(room);
  if (!st.ok()) return HttpResponse::Error(st.status());
  return HttpResponse::Json(200, ToJson(*st));
}

HttpResponse ArchiveAdmin::Run(const HttpRequest& req) const {
  Archiver* a = archiver_();
  if (!a) return NoArchiver();
  if (!active_primary_()) return HttpResponse::Error(409, "not_primary", "archives run in the active primary room only");
  std::string error_code;
  auto r = ParseArchiveRun(req.body, &error_code);
  if (!r.ok()) return HttpResponse::Error(400, error_code, r.status().message());
  std::string mode = r->mode;
  if (mode == "auto") {
    auto meta = a->LiveMeta(r->room);
    if (!meta.ok()) return HttpResponse::Error(meta.status());
    mode = meta->state == "ended" ? "archive" : "checkpoint";
  }
  LogWarn("archive_requested", {{"live_room", r->room}, {"mode", mode}, {"source", "admin api"}});
  ArchiveReport report = mode == "archive" ? a->ArchiveRoom(r->room, /*wait_for_end=*/false) : a->Checkpoint(r->room);
  return HttpResponse::Json(report.result == "ok" ? 200 : 409, ToJson(report));
}

}  // namespace danmu::core
