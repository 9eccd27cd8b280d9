// danmu-bench drain-produce / drain-wait: the backlog drain benchmark
// (bench/run drain), in two steps around processors that bench/run starts
// paused and then resumes:
//   drain-produce --brokers B --topic T --records N [--rooms R] [--partitions P] --tag X
//       creates topic T (P partitions, default 6) and produces N comment
//       records (acks=all) over R live rooms "<X>r<i>" (default 40);
//   drain-wait --redis ADDR --records N [--rooms R] --tag X [--timeout-s S]
//       from its start, polls the live sets of those rooms (ZCARD) until
//       they hold N messages; prints "<records/s applied> <seconds>".
// The baseline (redis-benchmark's pipelined ZADD on the same Redis) is run
// by bench/run itself.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cmd/danmu-bench/bench_flags.h"
#include "core/base/config.h"
#include "core/model/live_keys.h"
#include "core/model/message.h"
#include "core/store/kafka_admin.h"
#include "core/store/kafka_producer.h"
#include "core/store/redis_client.h"

namespace danmu::bench {

int DrainProduce(BenchFlags& f) {
  const std::string brokers = f.Required("brokers"), topic = f.Required("topic"), tag = f.Required("tag");
  const int records = f.Int("records", 200000, 1), rooms = f.Int("rooms", 40, 1), partitions = f.Int("partitions", 6, 1, 1000);
  if (!f.ok()) return f.UsageError("drain-produce");
  auto admin = core::KafkaAdmin::Create(brokers);
  if (!admin.ok() || !(*admin)->CreateTopic(topic, partitions).ok()) {
    std::fprintf(stderr, "drain-produce: cannot create topic %s on %s\n", topic.c_str(), brokers.c_str());
    return 1;
  }
  core::KafkaOptions o;
  o.brokers = brokers;
  o.topic = topic;
  o.produce_timeout_ms = 30000;
  auto producer = core::KafkaProducer::Create(o, nullptr);
  if (!producer.ok()) {
    std::fprintf(stderr, "drain-produce: %s\n", producer.status().ToString().c_str());
    return 1;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  for (int from = 0; from < records; from += 20000) {
    std::vector<std::pair<std::string, std::string>> batch;
    for (int i = from; i < std::min(records, from + 20000); ++i) {
      core::Message m;
      m.id = tag + "-" + std::to_string(i);
      m.type = core::MessageType::kComment;
      m.live_room = tag + "r" + std::to_string(i % rooms);
      m.uid = "u" + std::to_string(i % 97);
      m.text = "drain benchmark comment " + std::to_string(i);
      m.ingest_ms = now;
      batch.emplace_back(core::PartitionKey(m), core::EncodePayload(m));
    }
    core::Status err;
    size_t n = (*producer)->ProduceMany(batch, &err);
    if (n != batch.size()) {
      std::fprintf(stderr, "drain-produce: %zu of %zu acknowledged: %s\n", n, batch.size(), err.ToString().c_str());
      return 1;
    }
  }
  return 0;
}

int DrainWait(BenchFlags& f) {
  auto start = std::chrono::steady_clock::now();
  const std::string tag = f.Required("tag");
  const int records = f.Int("records", 200000, 1), rooms = f.Int("rooms", 40, 1), timeout_s = f.Int("timeout-s", 300, 1);
  core::RedisOptions o;
  o.address = f.Required("redis");
  if (!f.ok()) return f.UsageError("drain-wait");
  core::RedisClient redis(o, "live", nullptr);
  std::vector<core::RedisArgs> calls;
  for (int r = 0; r < rooms; ++r) calls.push_back({"ZCARD", core::keys::Msg(tag + "r" + std::to_string(r), core::MessageType::kComment)});
  int64_t n = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(timeout_s)) {
    auto replies = redis.Pipeline(calls);
    n = 0;
    if (replies.ok()) {
      for (const auto& r : *replies) n += r.integer;
    }
    if (n >= records) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (n < records) {
    std::fprintf(stderr, "drain-wait: %lld of %d applied after %d s\n", static_cast<long long>(n), records, timeout_s);
    return 1;
  }
  std::printf("%.0f %.2f\n", records / secs, secs);
  return 0;
}

}  // namespace danmu::bench
