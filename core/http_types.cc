#include "core/http_types.h"

#include <vector>

#include "core/json_text.h"

namespace danmu::core {

std::string HttpRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kTooLarge: return 413;
    case Code::kRateLimited: return 429;
    case Code::kUnavailable: return 503;
    case Code::kReadOnly: return 503;
    case Code::kFencedEpoch: return 409;
    case Code::kInternal: return 500;
  }
  return 500;
}

HttpResponse HttpResponse::Error(const Status& status) {
  HttpResponse r = Error(HttpStatusFor(status.code()), CodeName(status.code()), status.message());
  if (status.code() == Code::kUnavailable || status.code() == Code::kReadOnly) r.headers["Retry-After"] = "1";
  return r;
}

HttpResponse HttpResponse::Error(int http_status, std::string_view code, std::string_view message) {
  return Json(http_status, JsonError(code, message));
}

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace danmu::core
