#include "core/http/http_types.h"

#include <vector>

#include "core/base/json_text.h"

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

HttpResponse HttpResponse::RateLimited(std::string_view message, int retry_after_s) {
  HttpResponse r = Error(429, "rate_limited", message);
  r.headers["Retry-After"] = std::to_string(retry_after_s);
  return r;
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

size_t PathSegmentViews(std::string_view path, std::string_view* out, size_t max) {
  size_t n = 0;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) {
      if (n < max) out[n] = path.substr(i, j - i);
      ++n;
    }
    i = j;
  }
  return n;
}

bool ParseSimpleTarget(std::string_view target, std::string* path, std::map<std::string, std::string>* query) {
  // Origin form only; "//x" would be parsed by Poco as an authority.
  if (target.empty() || target[0] != '/' || (target.size() > 1 && target[1] == '/')) return false;
  // Percent-escapes and fragments need Poco's decoder (and its error for a
  // malformed escape, which the server turns into a 400).
  if (target.find_first_of("%#") != std::string_view::npos) return false;
  size_t q = target.find('?');
  path->assign(target.substr(0, q));
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  auto plus_to_space = [](std::string_view in) {
    std::string out(in);
    for (auto& c : out) {
      if (c == '+') c = ' ';
    }
    return out;
  };
  size_t i = 0;
  while (i < rest.size()) {
    size_t name_end = rest.find_first_of("=&", i);
    if (name_end == std::string_view::npos) name_end = rest.size();
    std::string_view name = rest.substr(i, name_end - i);
    std::string_view value;
    i = name_end;
    if (i < rest.size() && rest[i] == '=') {
      size_t value_end = rest.find('&', i + 1);
      if (value_end == std::string_view::npos) value_end = rest.size();
      value = rest.substr(i + 1, value_end - i - 1);
      i = value_end;
    }
    (*query)[plus_to_space(name)] = plus_to_space(value);
    if (i < rest.size() && rest[i] == '&') ++i;
  }
  return true;
}

}  // namespace danmu::core
