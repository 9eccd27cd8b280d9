#pragma once
// A minimal blocking HTTP client (Poco inside) for write forwarding, probes,
// danmuctl and tests. Connection failures and timeouts are kUnavailable.
#include <map>
#include <string>

#include "core/http/http_types.h"
#include "core/base/status.h"

namespace danmu::core {

struct HttpCall {
  std::string method = "GET";
  std::string url;          // http://host:port/path?query
  std::string body;
  std::map<std::string, std::string> headers;
  int timeout_ms = 5000;
};

Result<HttpResponse> Fetch(const HttpCall& call);

// Percent-encodes a query value.
std::string UrlEncode(const std::string& s);

}  // namespace danmu::core
