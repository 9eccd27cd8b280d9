#include "bench/loadgen/wire.h"

#include <charconv>

namespace danmu::bench {
namespace {

// Index just past the JSON string starting at s[i] == '"', or npos.
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

// Index just past the value starting at s[i] (object, array, string, scalar).
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        i = SkipString(s, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return std::string_view::npos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  return i;
}

// Calls f(key, value_text) for each member of the object at s[i] == '{'.
// Returns the index past the object, or npos when malformed.
template <typename F>
size_t ForEachMember(std::string_view s, size_t i, F&& f) {
  if (i >= s.size() || s[i] != '{') return std::string_view::npos;
  i = SkipSpace(s, i + 1);
  if (i < s.size() && s[i] == '}') return i + 1;
  while (i < s.size()) {
    if (s[i] != '"') return std::string_view::npos;
    size_t kend = SkipString(s, i);
    if (kend == std::string_view::npos) return kend;
    std::string_view key = s.substr(i + 1, kend - i - 2);
    i = SkipSpace(s, kend);
    if (i >= s.size() || s[i] != ':') return std::string_view::npos;
    i = SkipSpace(s, i + 1);
    size_t vend = SkipValue(s, i);
    if (vend == std::string_view::npos) return vend;
    f(key, s.substr(i, vend - i));
    i = SkipSpace(s, vend);
    if (i < s.size() && s[i] == ',') {
      i = SkipSpace(s, i + 1);
      continue;
    }
    if (i < s.size() && s[i] == '}') return i + 1;
    return std::string_view::npos;
  }
  return std::string_view::npos;
}

std::string_view Unquote(std::string_view v) {
  return v.size() >= 2 && v.front() == '"' && v.back() == '"' ? v.substr(1, v.size() - 2) : std::string_view();
}

}  // namespace

bool ParseMessageObject(std::string_view obj, WireMessage* out) {
  WireMessage m;
  size_t i = SkipSpace(obj, 0);
  size_t end = ForEachMember(obj, i, [&](std::string_view k, std::string_view v) {
    if (k == "id") m.id = Unquote(v);
    else if (k == "text") m.text = Unquote(v);
  });
  if (end == std::string_view::npos) return false;
  *out = m;
  return true;
}

bool ParsePollBody(std::string_view body, PollBody* out) {
  PollBody p;
  bool has_messages = false, ok = true;
  size_t end = ForEachMember(body, SkipSpace(body, 0), [&](std::string_view k, std::string_view v) {
    if (k == "messages") {
      if (v.empty() || v.front() != '[') { ok = false; return; }
      has_messages = true;
      size_t i = SkipSpace(v, 1);
      while (i < v.size() && v[i] != ']') {
        size_t oend = SkipValue(v, i);
        if (oend == std::string_view::npos) { ok = false; return; }
        WireMessage m;
        if (!ParseMessageObject(v.substr(i, oend - i), &m)) { ok = false; return; }
        p.messages.push_back(m);
        i = SkipSpace(v, oend);
        if (i < v.size() && v[i] == ',') i = SkipSpace(v, i + 1);
      }
    } else if (k == "cursor") {
      p.cursor = Unquote(v);
    } else if (k == "next_poll_ms") {
      int64_t n = -1;
      auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      if (r.ec == std::errc()) p.next_poll_ms = n;
    }
  });
  if (end == std::string_view::npos || !ok || !has_messages) return false;
  *out = std::move(p);
  return true;
}

bool ParseRouteBody(std::string_view body, RouteBody* out) {
  RouteBody r;
  bool ok = true;
  size_t end = ForEachMember(body, SkipSpace(body, 0), [&](std::string_view k, std::string_view v) {
    if (k == "transport") {
      r.transport = Unquote(v);
    } else if (k == "poll_url") {
      r.poll_url = Unquote(v);
    } else if (k == "retry_after_ms") {
      int64_t n = -1;
      auto res = std::from_chars(v.data(), v.data() + v.size(), n);
      if (res.ec == std::errc()) r.retry_after_ms = n;
    } else if (k == "endpoints") {
      if (v.empty() || v.front() != '[') { ok = false; return; }
      size_t i = SkipSpace(v, 1);
      while (i < v.size() && v[i] != ']') {
        if (v[i] != '"') { ok = false; return; }
        size_t send = SkipString(v, i);
        if (send == std::string_view::npos) { ok = false; return; }
        r.endpoints.push_back(v.substr(i + 1, send - i - 2));
        i = SkipSpace(v, send);
        if (i < v.size() && v[i] == ',') i = SkipSpace(v, i + 1);
      }
    }
  });
  if (end == std::string_view::npos || !ok || r.transport.empty()) return false;
  *out = std::move(r);
  return true;
}

bool ParsePlainUrl(std::string_view url, PlainUrl* out) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  PlainUrl u;
  u.scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  u.host = authority.substr(0, colon);
  std::string_view port = authority.substr(colon + 1);
  auto res = std::from_chars(port.data(), port.data() + port.size(), u.port);
  if (res.ec != std::errc() || res.ptr != port.data() + port.size() || u.port <= 0 || u.port > 65535) return false;
  *out = u;
  return true;
}

int CountMessages(std::string_view body) {
  int n = 0;
  for (size_t pos = body.find("\"id\":"); pos != std::string_view::npos; pos = body.find("\"id\":", pos + 5)) ++n;
  return n;
}

int64_t PostTimeOf(std::string_view text) {
  if (text.size() < 2 || text[0] != 'p') return -1;
  int64_t v = -1;
  auto r = std::from_chars(text.data() + 1, text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr == text.data() + 1) return -1;
  return v;
}

}  // namespace danmu::bench
