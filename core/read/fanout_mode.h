#pragma once
// The fan-out mode of one live room's push connections (DESIGN §12):
//   notify-pull  small rooms: on new messages every connection pulls after its
//                own cursor with its own uid, exactly what its poll returns
//                (own comments kept under level-2 thinning);
//   broadcast    big rooms: one frame per distinct cursor per round (in steady
//                state, one per room per tick), rendered and framed once, the
//                same bytes queued to every connection.
// The mode follows the room's subscriber count with hysteresis: a room turns
// broadcast at `broadcast_at` subscribers and back to notify-pull only below
// `notify_pull_below` (< broadcast_at), so a room near one threshold does not
// flap. Both modes read the same cursors, so a switch loses or repeats nothing.
#include <cstddef>
#include <string_view>

namespace danmu::core {

enum class FanoutMode { kNotifyPull, kBroadcast };

std::string_view FanoutModeName(FanoutMode mode);  // "notify_pull" | "broadcast"

struct FanoutThresholds {
  size_t broadcast_at = 200;
  size_t notify_pull_below = 100;
};

// The mode a room in `current` mode with `subscribers` connections moves to.
FanoutMode NextFanoutMode(FanoutMode current, size_t subscribers, const FanoutThresholds& t);

}  // namespace danmu::core
