#include "core/live/live_writer.h"

#include "core/live/epoch_fence.h"
#include "core/model/live_keys.h"

namespace danmu::core {

const std::string& ApplyScript() {
  static const std::string kScript = R"LUA(
-- KEYS: 1 target (msg set | likes counter | users set), 2 meta, 3 seen ids, 4 store epoch,
--       5 the archiver's held-rooms set, 6 the stream's viewer HyperLogLog
-- ARGV: 1 epoch, 2 kind (msg|like|presence), 3 type, 4 cap, 5 unarchived cap (0: none),
--       6 live room, 7 seen window (ids kept in KEYS[3]: SeenWindow(cap) in live_writer.h),
--       then triples from 8: id, payload, extra
)LUA" + EpochFenceLua(/*epoch_key=*/4, /*epoch_arg=*/1, /*advance=*/true) + R"LUA(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local kind = ARGV[2]
local cap = tonumber(ARGV[4])
local hold = tonumber(ARGV[5])
local window = tonumber(ARGV[7])
local added, dup, last, evicted = 0, 0, 0, 0
if kind == 'msg' then
  local start = tonumber(redis.call('HGET', KEYS[2], 'start_ms') or '0')
  if start == 0 then
    start = now
    redis.call('HSET', KEYS[2], 'start_ms', now)
  end
  last = tonumber(redis.call('HGET', KEYS[2], 'last:' .. ARGV[3]) or '0')
  for i = 8, #ARGV, 3 do
    if redis.call('ZSCORE', KEYS[3], ARGV[i]) then
      dup = dup + 1
    else
      local s = now - start
      if s <= last then s = last + 1 end
      redis.call('ZADD', KEYS[1], s, ARGV[i + 1])
      redis.call('ZADD', KEYS[3], s, ARGV[i])
      last = s
      added = added + 1
      if ARGV[i + 2] ~= '' then redis.call('HSET', KEYS[2], 'state', ARGV[i + 2]) end
    end
  end
  redis.call('HSET', KEYS[2], 'last:' .. ARGV[3], last, 'epoch', epoch)
  local n = redis.call('ZCARD', KEYS[1])
  if n > cap then
    local k = n - cap
    if hold > 0 then
      -- Scores grow, so the members already in MySQL are a prefix.
      local copied = redis.call('HGET', KEYS[2], 'copied:' .. ARGV[3])
      local archived = 0
      if copied then archived = redis.call('ZCOUNT', KEYS[1], '-inf', copied) end
      if archived < k then k = archived end
      if n - k > hold then
        evicted = n - k - hold
        k = n - hold
        redis.call('HINCRBY', KEYS[2], 'evicted:' .. ARGV[3], evicted)
      end
      if n - k > cap then redis.call('ZADD', KEYS[5], now, ARGV[6]) end
    end
    if k > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, k - 1) end
  end
elseif kind == 'like' then
  for i = 8, #ARGV, 3 do
    if redis.call('ZSCORE', KEYS[3], ARGV[i]) then
      dup = dup + 1
    else
      redis.call('INCRBY', KEYS[1], tonumber(ARGV[i + 2]))
      redis.call('ZADD', KEYS[3], now, ARGV[i])
      added = added + 1
    end
  end
elseif kind == 'presence' then
  for i = 8, #ARGV, 3 do
    -- PFADD in chunks: unpack() is limited by the Lua C stack (~8000).
    local uids = {}
    for uid in string.gmatch(ARGV[i + 2], '%S+') do
      redis.call('ZADD', KEYS[1], now, uid)
      uids[#uids + 1] = uid
      if #uids == 1000 then
        redis.call('PFADD', KEYS[6], unpack(uids))
        uids = {}
      end
    end
    if #uids > 0 then redis.call('PFADD', KEYS[6], unpack(uids)) end
    added = added + 1
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 600000)
  local n = redis.call('ZCARD', KEYS[1])
  if n > 100000 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - 100001) end
end
local seen = redis.call('ZCARD', KEYS[3])
if seen > window then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, seen - window - 1) end
return {added, dup, last, evicted}
)LUA";
  return kScript;
}

RedisArgs BuildApplyCall(const std::vector<Message>& batch, const std::vector<std::string>& payloads, int64_t epoch,
                         int cap, int unarchived_cap) {
  const Message& first = batch.front();
  const std::string& room = first.live_room;
  RedisArgs a;
  a.reserve(14 + 3 * batch.size());
  a.push_back("6");
  const char* kind = "msg";
  if (first.type == MessageType::kLike) {
    a.push_back(keys::Likes(room));
    kind = "like";
  } else if (first.type == MessageType::kPresence) {
    a.push_back(keys::Users(room));
    kind = "presence";
  } else {
    a.push_back(keys::Msg(room, first.type));
  }
  a.push_back(keys::Meta(room));
  a.push_back(keys::Seen(room, first.type));
  a.push_back(keys::kEpoch);
  a.push_back(keys::kArchiveHeld);
  a.push_back(keys::Viewers(room));
  a.push_back(std::to_string(epoch));
  a.push_back(kind);
  a.push_back(TypeName(first.type));
  a.push_back(std::to_string(cap));
  a.push_back(std::to_string(unarchived_cap));
  a.push_back(room);
  a.push_back(std::to_string(SeenWindow(cap)));
  for (size_t i = 0; i < batch.size(); ++i) {
    const Message& m = batch[i];
    a.push_back(m.id);
    a.push_back(m.type == MessageType::kLike || m.type == MessageType::kPresence ? std::string() : payloads[i]);
    if (m.type == MessageType::kLike) {
      a.push_back(std::to_string(m.count));
    } else if (m.type == MessageType::kPresence) {
      std::string uids;
      for (const auto& u : m.uids) uids.append(u).push_back(' ');
      a.push_back(std::move(uids));
    } else if (m.type == MessageType::kSystem && (m.text == "live" || m.text == "ended")) {
      a.push_back(m.text);  // stream lifecycle: sets meta state
    } else {
      a.push_back(std::string());
    }
  }
  return a;
}

Result<ApplyOutcome> ParseApplyReply(const RedisReply& reply) {
  if (reply.is_error()) {
    if (reply.str.rfind("FENCED", 0) == 0) return Status(Code::kFencedEpoch, reply.str);
    if (reply.str.rfind("READONLY", 0) == 0) return Status(Code::kReadOnly, reply.str);
    return Status(Code::kUnavailable, "apply script: " + reply.str);
  }
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 4) {
    return Status(Code::kInternal, "apply script returned an unexpected reply");
  }
  return ApplyOutcome{reply.elements[0].integer, reply.elements[1].integer, reply.elements[2].integer,
                      reply.elements[3].integer};
}

}  // namespace danmu::core
