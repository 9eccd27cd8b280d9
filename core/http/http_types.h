#pragma once
// Our own HTTP request/response types: handlers are plain functions of these,
// testable without sockets; Poco stays inside http_server.cc/http_client.cc.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace danmu::core {

struct HttpRequest {
  std::string method;
  std::string path;                          // without the query string
  std::map<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string client_address;                // peer IP, for per-address limits

  std::string Header(const std::string& lower_name) const;
  std::string Query(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;

  static HttpResponse Json(int status, std::string body);
  // {"error":{"code","message"}} with the status mapped from the Status code.
  static HttpResponse Error(const Status& status);
  static HttpResponse Error(int http_status, std::string_view code, std::string_view message);
  // 429 rate_limited with Retry-After (seconds): what every limit answers.
  static HttpResponse RateLimited(std::string_view message, int retry_after_s = 1);
};

int HttpStatusFor(Code code);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Splits "/a/b/c" into {"a","b","c"}.
std::vector<std::string> PathSegments(std::string_view path);

// Splits like PathSegments into at most `max` views of `path` (which must
// outlive them); returns the number of segments, which may exceed `max`
// (only the first `max` are stored). No allocation: for per-request routing.
size_t PathSegmentViews(std::string_view path, std::string_view* out, size_t max);

// The request target of an origin-form request ("/path?query") split into the
// path and the query parameters exactly as Poco::URI(target).getPath() and
// getQueryParameters() would (a parameter given twice: the last wins; '+' in
// the query is a space), without Poco's allocations. Returns false, leaving
// the outputs untouched, for anything it does not handle (percent-escapes, a
// fragment, an authority or a non-origin form): the caller then uses Poco::URI.
bool ParseSimpleTarget(std::string_view target, std::string* path, std::map<std::string, std::string>* query);

}  // namespace danmu::core
