// The log as it stood at Open: see kafka_log_reader.h. Why manual
// assignment: subscribe() would join a group, rebalance and (with any commit)
// write positions; assign() at offsets we computed touches nothing on the
// broker but our own fetches.
#include "core/store/kafka_log_reader.h"

#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace danmu::core {

struct KafkaLogReader::Impl {
  std::string brokers;
  std::string topic;
  int timeout_ms = 10000;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::map<int32_t, std::pair<int64_t, int64_t>> range;  // partition -> [from, to)
  std::set<int32_t> pending;                              // partitions not at their end yet
};

Result<std::unique_ptr<KafkaLogReader>> KafkaLogReader::Open(const std::string& brokers, const std::string& topic,
                                                             int64_t since_ms, int timeout_ms) {
  std::unique_ptr<KafkaLogReader> r(new KafkaLogReader());
  r->impl_ = std::make_unique<Impl>();
  Impl& s = *r->impl_;
  s.brokers = brokers;
  s.topic = topic;
  s.timeout_ms = timeout_ms;
  // A group id of its own (librdkafka's consumer wants one) that never
  // joins a group: assign() below, no subscribe, no commit.
  const std::string group = "danmu-log-reader-" + std::to_string(::getpid()) + "-" +
                            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  auto conf = NewKafkaConsumerConf(brokers, group, "danmu-log-reader",
                                   {{"enable.partition.eof", "true"},  // tells us a partition's end
                                    {"fetch.wait.max.ms", "50"},
                                    {"socket.timeout.ms", std::to_string(std::max(1000, timeout_ms))}},
                                   "kafka log reader config");
  if (!conf.ok()) return conf.status();
  std::string err;
  s.consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!s.consumer) return Status(Code::kUnavailable, "kafka log reader: " + err);

  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(s.consumer.get(), topic, nullptr, err));
  if (!t) return Status(Code::kInvalidArgument, "topic " + topic + ": " + err);
  RdKafka::Metadata* md = nullptr;
  auto rc = s.consumer->metadata(false, t.get(), &md, timeout_ms);
  std::unique_ptr<RdKafka::Metadata> md_owner(md);
  if (rc != RdKafka::ERR_NO_ERROR) {
    return Status(Code::kUnavailable, "kafka " + brokers + " metadata: " + RdKafka::err2str(rc));
  }
  std::vector<int32_t> partitions;
  for (const auto* tm : *md->topics()) {
    if (tm->topic() != topic) continue;
    if (tm->err() != RdKafka::ERR_NO_ERROR) {
      return Status(Code::kNotFound, "topic " + topic + " on " + brokers + ": " + RdKafka::err2str(tm->err()));
    }
    for (const auto* pm : *tm->partitions()) partitions.push_back(pm->id());
  }
  if (partitions.empty()) return Status(Code::kNotFound, "topic " + topic + " on " + brokers + " has no partitions");
  std::sort(partitions.begin(), partitions.end());

  // First offset at or after since_ms per partition; end = high watermark now.
  std::vector<RdKafka::TopicPartition*> tps;
  for (int32_t p : partitions) tps.push_back(RdKafka::TopicPartition::create(topic, p, since_ms));
  rc = s.consumer->offsetsForTimes(tps, timeout_ms);
  if (rc != RdKafka::ERR_NO_ERROR) {
    RdKafka::TopicPartition::destroy(tps);
    return Status(Code::kUnavailable, "kafka " + brokers + " offsets for time: " + RdKafka::err2str(rc));
  }
  std::vector<RdKafka::TopicPartition*> assign;
  Status failure;
  for (auto* tp : tps) {
    int64_t low = 0, high = 0;
    auto wrc = s.consumer->query_watermark_offsets(topic, tp->partition(), &low, &high, timeout_ms);
    if (wrc != RdKafka::ERR_NO_ERROR || tp->err() != RdKafka::ERR_NO_ERROR) {
      failure = Status(Code::kUnavailable, "kafka " + brokers + " partition " + std::to_string(tp->partition()) +
                                               ": " + RdKafka::err2str(wrc != RdKafka::ERR_NO_ERROR ? wrc : tp->err()));
      break;
    }
    // offset < 0: no record at or after since_ms.
    int64_t from = tp->offset() < 0 ? high : std::max(tp->offset(), low);
    s.range[tp->partition()] = {from, high};
    if (from < high) {
      s.pending.insert(tp->partition());
      assign.push_back(RdKafka::TopicPartition::create(topic, tp->partition(), from));
    }
  }
  RdKafka::TopicPartition::destroy(tps);
  if (failure.ok() && !assign.empty()) {
    rc = s.consumer->assign(assign);
    if (rc != RdKafka::ERR_NO_ERROR) failure = Status(Code::kUnavailable, "assign: " + RdKafka::err2str(rc));
  }
  RdKafka::TopicPartition::destroy(assign);
  if (!failure.ok()) return failure;
  return r;
}

KafkaLogReader::~KafkaLogReader() {
  if (impl_ && impl_->consumer) impl_->consumer->close();
}

Result<std::vector<KafkaRecord>> KafkaLogReader::Next(int max) {
  Impl& s = *impl_;
  std::vector<KafkaRecord> out;
  auto idle_since = std::chrono::steady_clock::now();
  while (static_cast<int>(out.size()) < max && !s.pending.empty()) {
    std::unique_ptr<RdKafka::Message> m(s.consumer->consume(out.empty() ? 100 : 0));
    if (!m || m->err() == RdKafka::ERR__TIMED_OUT ||
        (m->err() != RdKafka::ERR_NO_ERROR && m->err() != RdKafka::ERR__PARTITION_EOF)) {
      if (!out.empty()) break;
      // Nothing for a while: the log stopped answering mid-read.
      auto idle = std::chrono::steady_clock::now() - idle_since;
      if (idle > std::chrono::milliseconds(s.timeout_ms)) {
        return Status(Code::kUnavailable, "no record for " + std::to_string(s.timeout_ms) + " ms" +
                                              (m && m->err() != RdKafka::ERR__TIMED_OUT ? " (" + m->errstr() + ")" : ""));
      }
      continue;
    }
    const int32_t p = m->partition();
    auto range = s.range.find(p);
    if (range == s.range.end() || !s.pending.count(p)) continue;
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      // The end as of now; `to` was fixed at Open, so nothing we want is
      // beyond it (records appended since are not ours to read).
      s.pending.erase(p);
      continue;
    }
    if (m->offset() >= range->second.second) {
      s.pending.erase(p);
      continue;
    }
    KafkaRecord r;
    r.partition = p;
    r.offset = m->offset();
    r.timestamp_ms = m->timestamp().timestamp;
    if (m->key()) r.key = *m->key();
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    if (m->offset() + 1 >= range->second.second) s.pending.erase(p);
    out.push_back(std::move(r));
    idle_since = std::chrono::steady_clock::now();
  }
  return out;
}

std::string KafkaLogReader::Describe() const {
  std::string d;
  for (const auto& [p, r] : impl_->range) {
    if (!d.empty()) d += " ";
    d += "p" + std::to_string(p) + ":[" + std::to_string(r.first) + "," + std::to_string(r.second) + ")";
  }
  return d;
}

}  // namespace danmu::core
