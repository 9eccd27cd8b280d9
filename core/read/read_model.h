#pragma once
// What the poll API and push fan-out read: the room cache's answers, as an
// interface so that push logic can be unit-tested against a model of it.
// RoomCache is the one real implementation. Thread safety: implementations
// are safe to call from any thread.
#include <cstdint>
#include <string>

#include "core/base/status.h"
#include "core/model/cursor.h"

namespace danmu::core {

struct PollRequest;
struct PollResult;

class ReadModel {
 public:
  virtual ~ReadModel() = default;
  virtual Result<PollResult> Poll(const PollRequest& req) = 0;
  // Online viewer count as of the last refresh; -1 when the room is cold.
  virtual int64_t Online(const std::string& live_room) = 0;
  // The highest score held per type in the room's latest snapshot (loading a
  // cold room first) and marks the room as in use, so that it stays hot.
  virtual Result<Cursor> Top(const std::string& live_room) = 0;
};

}  // namespace danmu::core
