#pragma once
// The exactness check: every acknowledged message is seen once, in order, by
// every follower of its room.
//
// Inputs are what the load generator's processes recorded:
//  - acks: a write answered 2xx, with its room, id, the time of the answer,
//    and its writer and sequence number (a writer posts one message at a time,
//    so its messages are acknowledged — and stored — in sequence order);
//  - follows: one follower's (a polling viewer's or a long connection's)
//    sequence of ids in the order it received them, with the time of its first
//    answer.
// A follower must see every message of its room acknowledged after its first
// answer (earlier ones may predate its tail; if seen they still count for
// duplicates and order). `complete = false` (a big room's bounded recent
// slice, DESIGN §5) waives the "every" part but not "once" and "in order".
// Order is per (room, type), as DESIGN §3 promises it (one sorted set and one
// Kafka partition per room and type; types are independent, so a gift may
// become visible before a comment its writer posted earlier): each writer's
// messages of one type appear in sequence order, and any two ids of one type
// seen by two followers of a room appear in the same relative order in both
// (checked against the room's longest follower sequence). An id that was not
// acknowledged in this run (an older tail) has the type "".
#include <cstdint>
#include <string>
#include <vector>

namespace danmu::bench {

struct Ack {
  std::string room;
  std::string id;
  int64_t ack_us = 0;
  std::string writer;
  int64_t seq = 0;
  std::string type;  // comment, gift... (the order is per type); "" when not known
};

struct Follow {
  std::string follower;
  std::string room;
  int64_t first_answer_us = 0;
  bool complete = true;
  std::vector<std::string> ids;
};

struct ExactnessReport {
  int64_t followers = 0;
  int64_t acked = 0;
  int64_t required = 0;     // (follower, acked message) pairs that had to be seen
  int64_t delivered = 0;    // ids received, over all followers
  int64_t missing = 0;      // required pairs not seen
  int64_t duplicates = 0;   // ids a follower received more than once
  int64_t out_of_order = 0; // ids received out of writer or room order (within one type)
  std::vector<std::string> examples;  // a few violations, for the log
  bool ok() const { return missing == 0 && duplicates == 0 && out_of_order == 0; }
};

ExactnessReport CheckExactness(const std::vector<Ack>& acks, const std::vector<Follow>& follows);

}  // namespace danmu::bench
