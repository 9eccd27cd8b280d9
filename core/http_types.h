#pragma once
// Our own HTTP request/response types: handlers are plain functions of these,
// testable without sockets; Poco stays inside http_server.cc/http_client.cc.
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

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
};

int HttpStatusFor(Code code);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Splits "/a/b/c" into {"a","b","c"}.
std::vector<std::string> PathSegments(std::string_view path);

}  // namespace danmu::core
