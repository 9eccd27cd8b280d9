#include "core/model/replay_window.h"

#include <charconv>

#include "core/base/parse_int.h"
#include "core/model/message.h"

namespace danmu::core {
namespace {

constexpr size_t kTsDigits = 16;
constexpr size_t kKeyPrefix = kTsDigits + 1;  // ts digits + type digit
constexpr size_t kMaxCursorId = 256;

std::string PadTs(int64_t ts) {
  if (ts < 0) ts = 0;
  if (ts > kReplayMaxTs) ts = kReplayMaxTs;
  std::string digits = std::to_string(ts);
  return std::string(kTsDigits - digits.size(), '0') + digits;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Status Bad(const std::string& message) { return Status(Code::kInvalidArgument, message); }

// Parses a time bound: an integer 0..kReplayMaxTs.
Status ParseTime(const std::map<std::string, std::string>& query, const char* name, std::optional<int64_t>* out) {
  auto it = query.find(name);
  if (it == query.end() || it->second.empty()) return Status::Ok();
  int64_t v = 0;
  if (!ParseInt64(it->second, &v) || v < 0 || v > kReplayMaxTs) {
    return Bad(std::string(name) + " must be an integer 0.." + std::to_string(kReplayMaxTs) + " (stream-relative ms)");
  }
  *out = v;
  return Status::Ok();
}

}  // namespace

std::string ReplaySortKey(const ReplayPosition& p) {
  std::string k = PadTs(p.ts);
  k.push_back(static_cast<char>('0' + p.type_index));
  k.append(p.id);
  return k;
}

std::string ReplayMember(const ReplayPosition& p, std::string_view served) {
  std::string m = ReplaySortKey(p);
  m.reserve(m.size() + 1 + served.size());
  m.push_back('\0');
  m.append(served);
  return m;
}

bool ParseReplayMember(std::string_view member, ReplayPosition* p, std::string_view* served) {
  if (member.size() < kKeyPrefix + 2) return false;
  auto nul = member.find('\0', kKeyPrefix);
  if (nul == std::string_view::npos || nul == kKeyPrefix) return false;
  std::string_view digits = member.substr(0, kTsDigits);
  if (!AllDigits(digits)) return false;
  char t = member[kTsDigits];
  if (t < '0' || t >= '0' + kStoredTypeCount) return false;
  int64_t ts = 0;
  if (!ParseInt64(digits, &ts)) return false;
  p->ts = ts;
  p->type_index = t - '0';
  p->id.assign(member.substr(kKeyPrefix, nul - kKeyPrefix));
  *served = member.substr(nul + 1);
  return true;
}

std::string ReplaySentinel(const ReplayRoomInfo& info) {
  std::string s(1, '\0');
  s.append("room:").append(std::to_string(info.likes)).push_back(',');
  s.append(std::to_string(info.viewers)).push_back(',');
  s.append(std::to_string(info.messages)).push_back(',');
  s.append(std::to_string(info.duration_ms));
  return s;
}

bool IsReplaySentinel(std::string_view member) { return !member.empty() && member[0] == '\0'; }

bool ParseReplaySentinel(std::string_view member, ReplayRoomInfo* info) {
  constexpr std::string_view kPrefix("\0room:", 6);
  if (member.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = member.substr(kPrefix.size());
  int64_t values[4];
  for (int i = 0; i < 4; ++i) {
    auto comma = rest.find(',');
    std::string_view field = i < 3 ? rest.substr(0, comma) : rest;
    if ((i < 3 && comma == std::string_view::npos) || !ParseInt64(field, &values[i])) return false;
    if (i < 3) rest = rest.substr(comma + 1);
  }
  *info = ReplayRoomInfo{values[0], values[1], values[2], values[3]};
  return true;
}

LexRange ReplayLexRange(const ReplayQuery& q) {
  LexRange r;
  if (q.after && q.after->ts >= q.from_ms) {
    // Strictly after the cursor's member: every member whose sort key equals
    // the cursor's continues with '\0' and so sorts below key + '\x01'.
    r.min = "(" + ReplaySortKey(*q.after);
    r.min.push_back('\x01');
  } else {
    r.min = "[" + PadTs(q.from_ms);  // the shortest key at from_ms: inclusive
  }
  // Every key at to_ms is longer than its 16 digits, so "(" excludes them all.
  r.max = q.to_ms ? "(" + PadTs(*q.to_ms) : std::string("+");
  return r;
}

std::string EncodeReplayCursor(const ReplayPosition& p) {
  static const char kHex[] = "0123456789abcdef";
  std::string key = ReplaySortKey(p);
  std::string out;
  out.reserve(key.size() * 2);
  for (unsigned char c : key) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

Result<ReplayPosition> DecodeReplayCursor(std::string_view token) {
  const Status bad = Bad("cursor is not a next_cursor from this API");
  if (token.size() % 2 != 0 || token.size() < 2 * (kKeyPrefix + 1) || token.size() > 2 * (kKeyPrefix + kMaxCursorId)) {
    return bad;
  }
  std::string key;
  key.reserve(token.size() / 2);
  for (size_t i = 0; i < token.size(); i += 2) {
    int hi = HexValue(token[i]), lo = HexValue(token[i + 1]);
    if (hi < 0 || lo < 0) return bad;
    key.push_back(static_cast<char>(hi << 4 | lo));
  }
  ReplayPosition p;
  std::string_view served;
  std::string member = key + std::string(1, '\0') + "{}";
  if (!ParseReplayMember(member, &p, &served) || p.id.find('\0') != std::string::npos) return bad;
  return p;
}

Result<ReplayQuery> ParseReplayQuery(const std::string& live_room, const std::map<std::string, std::string>& query,
                                     int max_limit) {
  ReplayQuery q;
  q.live_room = live_room;
  std::optional<int64_t> from;
  if (Status s = ParseTime(query, "from_ms", &from); !s.ok()) return s;
  if (Status s = ParseTime(query, "to_ms", &q.to_ms); !s.ok()) return s;
  q.from_ms = from.value_or(0);
  if (q.to_ms && q.from_ms > *q.to_ms) return Bad("from_ms must not be greater than to_ms");
  q.limit = std::min(kReplayDefaultLimit, max_limit);
  if (auto it = query.find("limit"); it != query.end() && !it->second.empty()) {
    int64_t limit = 0;
    if (!ParseInt64(it->second, &limit) || limit < 1) return Bad("limit must be a positive integer");
    q.limit = static_cast<int>(std::min<int64_t>(limit, max_limit));  // larger limits are clamped
  }
  if (auto it = query.find("cursor"); it != query.end() && !it->second.empty()) {
    auto p = DecodeReplayCursor(it->second);
    if (!p.ok()) return p.status();
    q.after = std::move(*p);
  }
  return q;
}

}  // namespace danmu::core
