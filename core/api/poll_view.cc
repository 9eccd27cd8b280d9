#include "core/api/poll_view.h"

#include "core/base/json_text.h"

namespace danmu::core {

PollRequest PollView::Build(const std::string& live_room, std::optional<Cursor> cursor, int limit,
                            const std::string& uid, DegradeView* d) const {
  PollRequest p;
  p.live_room = live_room;
  p.cursor = cursor;
  p.limit = limit;
  int64_t online = model_->Online(live_room);
  if (online >= config_.poll.big_room_online) {
    // Adaptive count: a big room gets a bounded recent slice per poll.
    p.big_room_slice = true;
    p.limit = std::min(p.limit, config_.poll.big_room_limit);
  }
  if (d->thin_limit > 0 && online >= config_.degrade.thin_room_online) {
    p.thin_limit = d->thin_limit;
    p.viewer_uid = uid;
    d->thinned = true;
  }
  return p;
}

std::string PollView::Render(const std::string& live_room, PollResult&& r, const DegradeView& d,
                             std::string* cursor_text) const {
  // The messages array is the bulk of the answer: build around it in place
  // (RoomCache reserves room for the rest) instead of copying it.
  std::string cursor = cursors_->Encode(live_room, r.next);
  std::string body = std::move(r.messages_json);
  body.insert(0, "{\"messages\":");
  body.append(",\"cursor\":\"").append(cursor).append("\"");
  body.append(",\"likes\":").append(std::to_string(r.likes));
  body.append(",\"online\":").append(std::to_string(r.online));
  body.append(",\"state\":");
  AppendJsonString(body, r.state.empty() ? "unknown" : r.state);
  body.append(",\"next_poll_ms\":").append(std::to_string(d.next_poll_ms > 0 ? d.next_poll_ms : config_.poll.next_poll_ms));
  body.append(",\"degrade\":{\"level\":").append(std::to_string(d.level));
  body.append(",\"likes_paused\":").append(d.likes_paused ? "true" : "false");
  body.append(",\"thinned\":").append(d.thinned ? "true" : "false").append("}}");
  if (cursor_text) *cursor_text = std::move(cursor);
  return body;
}

}  // namespace danmu::core
