#pragma once
// The admin API of the archive, as functions of a request:
//   GET  /v1/admin/archive?room=ID   what the archive knows of one live room:
//        live sets, watermark, held and evicted counts, MySQL rows and the
//        archived_rooms row (open: it changes nothing)
//   POST /v1/admin/archive {"room": ID, "mode": "auto"|"checkpoint"|"archive"}
//        runs it now, in the request. auto archives an ended room and
//        checkpoints a live one; "archive" of a live room releases its live
//        sets while viewers may still poll it, so it is only done when asked
//        by name. 200 when the run's result is ok, 409 otherwise; the body is
//        the report. Only in the active primary room.
#include <functional>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/http/http_types.h"

namespace danmu::core {

class Archiver;

struct ArchiveRunRequest {
  std::string room;
  std::string mode = "auto";
};
// On error, *error_code is the JSON error code to answer with (bad_json,
// bad_room, bad_mode).
[[nodiscard]] Result<ArchiveRunRequest> ParseArchiveRun(std::string_view body, std::string* error_code);

class ArchiveAdmin {
 public:
  // `archiver` is looked up per request (an archiver-only danmud builds it
  // after the routes exist; null: this danmud runs none). `active_primary`
  // says whether this room may run archives now.
  ArchiveAdmin(std::function<Archiver*()> archiver, std::function<bool()> active_primary)
      : archiver_(std::move(archiver)), active_primary_(std::move(active_primary)) {}

  HttpResponse Get(const HttpRequest& req) const;
  HttpResponse Run(const HttpRequest& req) const;

 private:
  std::function<Archiver*()> archiver_;
  std::function<bool()> active_primary_;
};

}  // namespace danmu::core
