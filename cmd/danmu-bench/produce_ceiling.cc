// danmu-bench produce --in-flight N: the raw acks=all produce ceiling of a
// broker with N records in flight (the same producer settings as danmud's
// KafkaProducer: acks=all, idempotent, linger.ms=1), records shaped and keyed
// like the frontend's. Prints acknowledged records/s.
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "cmd/danmu-bench/bench_flags.h"

namespace danmu::bench {
namespace {

class Counter : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& msg) override {
    --in_flight;
    if (msg.err() == RdKafka::ERR_NO_ERROR) ++ok;
    else ++failed;
  }
  int64_t in_flight = 0, ok = 0, failed = 0;  // the dr callback runs inside poll(), on this thread
};

}  // namespace

int ProduceCeiling(BenchFlags& f) {
  const int seconds = f.Int("seconds", 10, 2);  // the first second is warm-up
  const int window = f.RequiredInt("in-flight", 1, 1000000);
  const std::string brokers = f.Required("brokers"), topic = f.Required("topic");
  if (!f.ok()) return f.UsageError("produce");
  Counter counter;
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [k, v] : std::map<std::string, std::string>{{"bootstrap.servers", brokers},
                                                               {"acks", "all"},
                                                               {"enable.idempotence", "true"},
                                                               {"linger.ms", "1"},
                                                               {"message.timeout.ms", "10000"}}) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      std::fprintf(stderr, "produce: %s\n", err.c_str());
      return 1;
    }
  }
  conf->set("dr_cb", &counter, err);
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
  if (!p) {
    std::fprintf(stderr, "produce: %s\n", err.c_str());
    return 1;
  }
  const std::string value =
      "{\"id\":\"x\",\"type\":\"comment\",\"room\":\"benchp\",\"uid\":\"u\",\"text\":\"benchmark message\"}";
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::seconds(seconds);
  int64_t i = 0, ok_at_start = -1;
  auto warm = start + std::chrono::seconds(1);
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (ok_at_start < 0 && now >= warm) ok_at_start = counter.ok;
    if (now >= end + std::chrono::seconds(1)) break;
    while (counter.in_flight < window) {
      std::string key = "benchp" + std::to_string(i++ % 8) + ":comment";
      auto rc = p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                           const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, nullptr);
      if (rc != RdKafka::ERR_NO_ERROR) break;
      ++counter.in_flight;
    }
    p->poll(1);
  }
  const int64_t ok_at_end = counter.ok;
  p->flush(10000);
  std::printf("%.1f\n", static_cast<double>(ok_at_end - std::max<int64_t>(ok_at_start, 0)) / seconds);
  if (counter.failed) std::fprintf(stderr, "produce: %lld failed\n", static_cast<long long>(counter.failed));
  return 0;
}

}  // namespace danmu::bench
