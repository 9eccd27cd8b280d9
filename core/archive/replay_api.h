#pragma once
// The public replay endpoint (DESIGN §5), routed by Frontend::Handle through
// FrontendHooks::replay:
//
//   GET /v1/replays/{room}/messages?from_ms=&to_ms=&limit=&cursor=
//
// from_ms (default 0) is inclusive, to_ms (default: end of stream) exclusive,
// both stream-relative ms as the live scores ("ts"); limit 1..max (default
// 100, larger values are clamped). Messages come in (ts, type, id) order; a
// page that does not exhaust the window carries "next_cursor": repeat the
// request with cursor=<next_cursor> (same window) for the next page, which
// starts strictly after the last message returned (see core/replay_window.h).
//
// 200 {"room":"r1","from_ms":0,"to_ms":null,"limit":100,"count":2,
//      "messages":[{"ts":12,"id":..,...},...],"next_cursor":"..."|null,
//      "likes":..,"viewers":..,"total_messages":..,"duration_ms":..}
// 400 invalid_argument   bad room id, a number that is not one, from_ms > to_ms, bad cursor
// 404 not_found          the room is not archived (still live, unknown, reserved)
// 405 method_not_allowed anything but GET
// 503 unavailable        replay Redis or MySQL down, or the room is still loading (Retry-After)
// Every error body is {"error":{"code","message"}}.
#include "core/http/http_types.h"

namespace danmu::core {

class ReplaySource;

class ReplayApi {
 public:
  ReplayApi(ReplaySource* source, int max_limit) : source_(source), max_limit_(max_limit) {}
  HttpResponse Handle(const HttpRequest& req);

 private:
  ReplaySource* source_;
  int max_limit_;
};

}  // namespace danmu::core
