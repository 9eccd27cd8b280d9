#pragma once
// What the load generator reads out of answers, without a JSON library on the
// hot path (one client process drives tens of thousands of polls a second on
// a shared 2-core box): a poll answer or push frame of danmud
//   {"messages":[{...,"id":"..",...,"text":".."},...],"cursor":"..",...,"next_poll_ms":N,...}
// and one message object (what the Nchan peer is given to publish).
// Strings are taken raw (no unescaping): ids, cursors and the benchmark's own
// texts never contain escapes. Views point into the parsed text.
#include <cstdint>
#include <string_view>
#include <vector>

namespace danmu::bench {

struct WireMessage {
  std::string_view id;
  std::string_view text;
};

struct PollBody {
  std::vector<WireMessage> messages;
  std::string_view cursor;
  int64_t next_poll_ms = -1;  // -1: absent
};

// false when the text is not such an object (no "messages" array, unbalanced).
bool ParsePollBody(std::string_view body, PollBody* out);
// One message object {"id":..,"text":..}; false when it is not an object.
bool ParseMessageObject(std::string_view obj, WireMessage* out);
// How many message objects a body carries: occurrences of "id": (danmud's
// arrays, Nchan's single messages and multipart bodies alike).
int CountMessages(std::string_view body);
// A router's answer (GET /v1/route, routing/router.h):
//   {"transport":"ws"|"sse"|"poll","reason":..,"endpoints":["ws://..",..],
//    "poll_url":"http://..","rules_version":N,"retry_after_ms":N}
struct RouteBody {
  std::string_view transport;
  std::vector<std::string_view> endpoints;
  std::string_view poll_url;
  int64_t retry_after_ms = -1;  // -1: absent
};
// false when the text is not such an object (no transport, or endpoints not
// an array of strings).
bool ParseRouteBody(std::string_view body, RouteBody* out);

// scheme://host:port/path?query of the URLs a router hands out (ws:// and
// http:// only: the benchmark speaks neither TLS nor names). The port is
// required; the path keeps its query.
struct PlainUrl {
  std::string_view scheme, host, path;
  int port = 0;
};
bool ParsePlainUrl(std::string_view url, PlainUrl* out);

// The post time the benchmark writes into a text: "p<microseconds> ...";
// -1 when the text does not start so.
int64_t PostTimeOf(std::string_view text);

}  // namespace danmu::bench
