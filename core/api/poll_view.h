#pragma once
// The poll answer, in one place for both readers of it: GET
// /v1/rooms/{room}/messages (frontend.cc) and pushed frames (push_hub.cc).
// DESIGN §12: a pushed frame carries exactly what a poll with the
// connection's cursor (and uid) returns, so both build the request and render
// the body here. Stateless; safe from any thread.
#include <optional>
#include <string>

#include "core/base/config.h"
#include "core/degrade/degrade_view.h"
#include "core/model/cursor.h"
#include "core/read/room_cache.h"

namespace danmu::core {

class PollView {
 public:
  PollView(const Config& config, ReadModel* model, const CursorCodec* cursors)
      : config_(config), model_(model), cursors_(cursors) {}

  // The cache request of a poll: the client's limit (already clamped), the
  // big-room slice when the room has big_room_online viewers, level-2
  // thinning (keeping `uid`'s own comments) in rooms of thin_room_online
  // viewers; sets `d->thinned` when thinning applies.
  PollRequest Build(const std::string& live_room, std::optional<Cursor> cursor, int limit, const std::string& uid,
                    DegradeView* d) const;
  // The answer's JSON object: {"messages","cursor","likes","online","state",
  // "next_poll_ms","degrade":{...}}. `cursor_text` (optional) gets the cursor.
  std::string Render(const std::string& live_room, PollResult&& r, const DegradeView& d,
                     std::string* cursor_text = nullptr) const;

 private:
  const Config& config_;
  ReadModel* model_;
  const CursorCodec* cursors_;
};

}  // namespace danmu::core
