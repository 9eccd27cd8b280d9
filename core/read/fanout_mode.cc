#include "core/read/fanout_mode.h"

namespace danmu::core {

std::string_view FanoutModeName(FanoutMode mode) {
  return mode == FanoutMode::kBroadcast ? "broadcast" : "notify_pull";
}

FanoutMode NextFanoutMode(FanoutMode current, size_t subscribers, const FanoutThresholds& t) {
  if (current == FanoutMode::kNotifyPull) {
    return subscribers >= t.broadcast_at ? FanoutMode::kBroadcast : FanoutMode::kNotifyPull;
  }
  return subscribers < t.notify_pull_below ? FanoutMode::kNotifyPull : FanoutMode::kBroadcast;
}

}  // namespace danmu::core
