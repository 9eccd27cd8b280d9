#pragma once
// The processor's atomic write into the live store: one Lua call per
// (live room, type) batch that
//   1. refuses the batch when the store's epoch is newer than the writer's
//      (fencing: an old primary can never write), and advances it otherwise;
//   2. drops records whose id was already applied (at-least-once delivery;
//      the newest SeenWindow(cap) ids are remembered);
//   3. assigns each new message score = max(now - stream start, last + 1),
//      so scores are stream-relative ms and strictly increasing per key: a
//      message is visible only with a score above every visible one, which
//      is the ordering invariant polls rely on;
//   4. ZADDs it and trims the live set to its cap (oldest first). With an
//      unarchived cap, only members the archiver already copied to MySQL
//      (score <= meta copied:<type>) are trimmed below the live cap; the
//      rest are held, up to the unarchived cap, and the room is listed in
//      danmu:archive:held for the archiver's checkpoint. Past the unarchived
//      cap the oldest go anyway, counted in meta evicted:<type> and in the
//      reply (the replay of that room will miss them: an alert pages).
// Likes become one INCRBY per record; presence records refresh the viewer set
// (recent viewers) and add to the stream's viewer HyperLogLog (all viewers).
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/message.h"
#include "core/store/redis_client.h"

namespace danmu::core {

struct ApplyOutcome {
  int64_t added = 0;
  int64_t duplicates = 0;
  int64_t last_score = 0;
  int64_t evicted_unarchived = 0;  // trimmed before the archiver copied them
};

// How many applied ids the apply script remembers per (live room, type) to
// drop redeliveries: the SeenWindow(cap) highest-scored ids (twice the live
// set cap `processor.live_cap`, so a batch redelivered after its messages
// left the live set is still recognised). Older ids are forgotten: a record
// redelivered past the window is applied again. The one definition: the
// script gets the window as an argument from BuildApplyCall, and the
// reconciler (replication/reconciler.h) uses it to tell "never applied" from
// "applied and forgotten".
constexpr int64_t SeenWindow(int live_cap) { return 2 * static_cast<int64_t>(live_cap); }

const std::string& ApplyScript();

// Arguments (KEYS and ARGV, after EVALSHA sha) of one apply call.
// All `batch` records must share live room and type. `cap` is
// processor.live_cap (the dedup window is SeenWindow(cap)). `unarchived_cap`
// 0 trims at `cap` whether archived or not (no archiver in the deployment).
RedisArgs BuildApplyCall(const std::vector<Message>& batch, const std::vector<std::string>& payloads, int64_t epoch,
                         int cap, int unarchived_cap = 0);

// Interprets one reply; kFencedEpoch when the store refused the epoch.
Result<ApplyOutcome> ParseApplyReply(const RedisReply& reply);

}  // namespace danmu::core
