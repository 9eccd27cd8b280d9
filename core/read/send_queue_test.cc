#include "core/read/send_queue.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

OutFrame Data(size_t n, int64_t score) {
  OutFrame f;
  f.bytes = std::make_shared<const std::string>(n, 'x');
  Cursor c;
  c.after[0] = score;
  f.cursor = c;
  f.kind = OutFrame::Kind::kBroadcast;
  return f;
}

TEST(SendQueue, BoundedInBytesOverflowDropsAndKeepsRewindPoint) {
  SendQueueTotals totals;
  auto& total = totals.bytes;
  Cursor start;
  start.after[0] = 5;
  SendQueue q(100, start, &totals);
  EXPECT_EQ(q.PushData(Data(60, 10)), SendQueue::PushResult::kQueued);
  EXPECT_EQ(q.bytes(), 60u);
  EXPECT_EQ(total.load(), 60);
  // Taken by the transport: delivered() moves to the frame's cursor.
  auto batch = q.TakeAll();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(q.delivered()->after[0], 10);
  EXPECT_EQ(total.load(), 0);
  EXPECT_EQ(q.PushData(Data(60, 20)), SendQueue::PushResult::kQueued);
  EXPECT_EQ(q.PushData(Data(30, 30)), SendQueue::PushResult::kQueued);
  // 90 + 30 > 100: refused, and the whole queue is gone.
  EXPECT_EQ(q.PushData(Data(30, 40)), SendQueue::PushResult::kOverflow);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(total.load(), 0);
  EXPECT_TRUE(q.TakeAll().empty());
  // The rewind point is what the transport took last, not what was queued.
  EXPECT_EQ(q.delivered()->after[0], 10);
}

TEST(SendQueue, OversizeFrameAcceptedIntoEmptyQueue) {
  SendQueue q(10, std::nullopt);
  EXPECT_FALSE(q.delivered().has_value());
  EXPECT_EQ(q.PushData(Data(50, 1)), SendQueue::PushResult::kQueued);
  EXPECT_EQ(q.PushData(Data(1, 2)), SendQueue::PushResult::kOverflow);
}

TEST(SendQueue, ControlPastBoundAndCloseAfter) {
  SendQueue q(10, std::nullopt);
  EXPECT_EQ(q.PushData(Data(10, 1)), SendQueue::PushResult::kQueued);
  OutFrame c;
  c.bytes = std::make_shared<const std::string>("close");
  c.close_after = true;
  EXPECT_EQ(q.PushControl(c), SendQueue::PushResult::kQueued);
  EXPECT_TRUE(q.closed());
  EXPECT_EQ(q.PushData(Data(1, 2)), SendQueue::PushResult::kClosed);
  auto all = q.TakeAll();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[1].close_after);
}

TEST(SendQueue, CloseDropsEverything) {
  SendQueueTotals totals;
  auto& total = totals.bytes;
  SendQueue q(100, std::nullopt, &totals);
  ASSERT_EQ(q.PushData(Data(40, 1)), SendQueue::PushResult::kQueued);
  q.Close();
  EXPECT_EQ(total.load(), 0);
  EXPECT_EQ(q.PushData(Data(1, 2)), SendQueue::PushResult::kClosed);
  EXPECT_TRUE(q.TakeAll().empty());
}

TEST(SendQueue, CloseWithKeepsOnlyTheLastFrame) {
  SendQueue q(100, std::nullopt);
  ASSERT_EQ(q.PushData(Data(40, 1)), SendQueue::PushResult::kQueued);
  OutFrame c;
  c.bytes = std::make_shared<const std::string>("bye");
  c.close_after = true;
  q.CloseWith(c);
  EXPECT_EQ(q.PushData(Data(1, 2)), SendQueue::PushResult::kClosed);
  auto all = q.TakeAll();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(*all[0].bytes, "bye");
}

TEST(SendQueue, MemoryBoundedWhateverIsPushed) {
  // A model of a client that never reads: whatever the hub pushes, at most
  // max_bytes stay queued.
  SendQueue q(1000, std::nullopt);
  size_t overflows = 0;
  for (int i = 0; i < 10000; ++i) {
    if (q.PushData(Data(1 + i % 97, i)) == SendQueue::PushResult::kOverflow) ++overflows;
    ASSERT_LE(q.bytes(), 1000u);
  }
  EXPECT_GT(overflows, 0u);
}

// The peak is one queue's high-water mark, not the sum: two queues of 60
// bytes each sum to 120 but the peak is 60; it never falls.
TEST(SendQueue, PeakIsTheLargestSingleQueueNotTheSum) {
  SendQueueTotals totals;
  SendQueue a(100, std::nullopt, &totals), b(100, std::nullopt, &totals);
  ASSERT_EQ(a.PushData(Data(60, 1)), SendQueue::PushResult::kQueued);
  ASSERT_EQ(b.PushData(Data(30, 1)), SendQueue::PushResult::kQueued);
  ASSERT_EQ(b.PushData(Data(30, 2)), SendQueue::PushResult::kQueued);
  EXPECT_EQ(totals.bytes.load(), 120);
  EXPECT_EQ(totals.peak_one_queue.load(), 60);
  ASSERT_EQ(a.PushData(Data(30, 2)), SendQueue::PushResult::kQueued);
  EXPECT_EQ(totals.peak_one_queue.load(), 90);
  a.TakeAll();
  b.TakeAll();
  EXPECT_EQ(totals.bytes.load(), 0);
  EXPECT_EQ(totals.peak_one_queue.load(), 90);
  // An overflow refuses the frame: the peak stays at what was held.
  ASSERT_EQ(a.PushData(Data(95, 3)), SendQueue::PushResult::kQueued);
  EXPECT_EQ(a.PushData(Data(10, 4)), SendQueue::PushResult::kOverflow);
  EXPECT_EQ(totals.peak_one_queue.load(), 95);
}

}  // namespace
}  // namespace danmu::core
