#include "replication/ops/kafka_partitions.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "core/base/json_text.h"
#include "core/base/log.h"
#include "core/store/kafka_admin.h"

namespace danmu::replication {

namespace {

class KafkaPartitionAdmin : public PartitionAdmin {
 public:
  core::Result<int> Count(const std::string& brokers, const std::string& topic) override {
    auto a = core::KafkaAdmin::Create(brokers);
    if (!a.ok()) return a.status();
    return (*a)->PartitionCount(topic);
  }
  // Returns once the broker's metadata shows `total` partitions (bounded):
  // CreatePartitions answers when the controller took the change, and the
  // broker's metadata may still show the old count for a moment, which the
  // count after the growth would report as a failure.
  core::Status Grow(const std::string& brokers, const std::string& topic, int total) override {
    auto a = core::KafkaAdmin::Create(brokers);
    if (!a.ok()) return a.status();
    core::Status s = (*a)->GrowPartitions(topic, total);
    if (!s.ok()) return s;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      auto n = (*a)->PartitionCount(topic);
      if (n.ok() && *n >= total) return core::Status::Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return core::Status::Ok();  // the count that follows reports what the broker shows
  }
};

}  // namespace

std::unique_ptr<PartitionAdmin> MakeKafkaPartitionAdmin() { return std::make_unique<KafkaPartitionAdmin>(); }

PartitionGrowth GrowPartitions(PartitionAdmin& admin, std::vector<PartitionRoom> rooms, const std::string& topic,
                               int total) {
  PartitionGrowth g;
  if (total < 1 || total > kMaxPartitions) {
    g.error = "partitions must be 1.." + std::to_string(kMaxPartitions) + ", got " + std::to_string(total);
    return g;
  }
  if (rooms.empty()) {
    g.error = "no room's Kafka to grow";
    return g;
  }
  // 2: the active room first; stable otherwise (A before B).
  std::stable_sort(rooms.begin(), rooms.end(), [](const PartitionRoom& a, const PartitionRoom& b) { return a.active && !b.active; });
  // 1: read every count before changing anything.
  for (const auto& r : rooms) {
    PartitionRoomResult res;
    res.room = r.room;
    res.brokers = r.brokers;
    res.active = r.active;
    auto n = admin.Count(r.brokers, topic);
    if (n.ok()) {
      res.before = *n;
      if (*n > total) {
        g.error = "room " + r.room + " already has " + std::to_string(*n) + " partitions of " + topic +
                  "; Kafka cannot remove partitions (asked for " + std::to_string(total) + ")";
      }
    } else {
      res.error = n.status().message();
    }
    g.rooms.push_back(res);
  }
  if (!g.error.empty()) return g;
  if (!g.rooms.front().error.empty() && g.rooms.front().active) {
    g.error = "the active room's Kafka did not answer: " + g.rooms.front().error;
    return g;
  }
  // 2 and 3.
  g.ok = true;
  for (auto& res : g.rooms) {
    if (res.before < 0) {
      g.ok = false;  // unreachable in (1): reported, retried by a rerun
      continue;
    }
    if (res.before < total) {
      core::Status s = admin.Grow(res.brokers, topic, total);
      if (!s.ok()) res.error = s.message();
      core::LogWarn("kafka_partitions_grown", {{"room", res.room}, {"brokers", res.brokers}, {"topic", topic},
                                               {"before", std::to_string(res.before)}, {"target", std::to_string(total)},
                                               {"result", s.ok() ? "ok" : s.message()}});
    }
    auto n = admin.Count(res.brokers, topic);
    if (n.ok()) res.after = *n;
    else if (res.error.empty()) res.error = n.status().message();
    if (res.after != total) g.ok = false;
    if (res.after > res.before) g.changed = true;
  }
  return g;
}

std::vector<PartitionOwnerRow> MergePartitionOwners(const std::vector<RoomStatus>& processors) {
  std::map<int32_t, PartitionOwnerRow> rows;
  std::map<int32_t, int64_t> lag_at;  // partition -> now_ms of the view its lag came from
  for (const auto& s : processors) {
    for (const auto& p : s.partitions) {
      auto& row = rows[p.partition];
      row.partition = p.partition;
      auto it = lag_at.find(p.partition);
      if (it == lag_at.end() || s.now_ms > it->second) {
        row.lag = p.lag;
        lag_at[p.partition] = s.now_ms;
      }
      if (p.owned) {
        row.owner = row.owners ? row.owner + "," + s.processor.instance : s.processor.instance;
        row.lag_seconds = std::max(row.lag_seconds, p.lag_seconds);
        ++row.owners;
      }
    }
  }
  std::vector<PartitionOwnerRow> out;
  for (auto& [p, row] : rows) out.push_back(row);
  return out;
}

std::string PartitionGrowthJson(const PartitionGrowth& g) {
  std::string b = std::string("{\"ok\":") + (g.ok ? "true" : "false") + ",\"changed\":" + (g.changed ? "true" : "false");
  b += ",\"error\":";
  core::AppendJsonString(b, g.error);
  b += ",\"rooms\":[";
  for (size_t i = 0; i < g.rooms.size(); ++i) {
    const auto& r = g.rooms[i];
    if (i) b += ",";
    b += "{\"room\":";
    core::AppendJsonString(b, r.room);
    b += ",\"brokers\":";
    core::AppendJsonString(b, r.brokers);
    b += std::string(",\"active\":") + (r.active ? "true" : "false") + ",\"before\":" + std::to_string(r.before) +
         ",\"after\":" + std::to_string(r.after) + ",\"error\":";
    core::AppendJsonString(b, r.error);
    b += "}";
  }
  b += "]}";
  return b;
}

}  // namespace danmu::replication
