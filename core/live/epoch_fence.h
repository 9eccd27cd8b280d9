#pragma once
// The epoch fence (DESIGN §2): the opening lines of every Lua script that
// writes to the live store as the primary (the apply script, the heartbeat).
// Inside the same atomic step as the write it reads the store's epoch from
// KEYS[epoch_key] and, when the writer's epoch ARGV[epoch_arg] is older,
// answers an error reply starting "FENCED" (ParseApplyReply maps it to
// Code::kFencedEpoch) and writes nothing. With `advance`, a newer writer
// epoch is stored, so the store remembers the highest epoch that wrote.
// After these lines the script has `local epoch` (the writer's) in scope.
#include <string>

namespace danmu::core {

std::string EpochFenceLua(int epoch_key, int epoch_arg, bool advance);

}  // namespace danmu::core
