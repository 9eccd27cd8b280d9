#pragma once
// A client of one room's danmud admin API, for orchestration (switchover,
// drills, danmuctl). Every call is bounded by a timeout.
#include <cstdint>
#include <string>

#include "core/base/config.h"
#include "core/base/status.h"
#include "replication/room_status.h"

namespace danmu::replication {

class AdminClient {
 public:
  AdminClient(std::string admin_url, std::string token) : url_(std::move(admin_url)), token_(std::move(token)) {}
  const std::string& url() const { return url_; }

  core::Result<RoomStatus> Status(int timeout_ms = 2000) const;
  // POST /v1/admin/<action> with a JSON body; returns the room's status after it.
  core::Result<RoomStatus> Action(const std::string& action, const std::string& json_body, int timeout_ms = 10000) const;

 private:
  std::string url_;
  std::string token_;
};

}  // namespace danmu::replication
