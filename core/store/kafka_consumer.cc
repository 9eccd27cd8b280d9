#include "core/store/kafka_consumer.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>
#include <map>

namespace danmu::core {

struct KafkaConsumer::Impl {
  KafkaOptions options;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  bool closed = false;
  // The topic's partition count from metadata, and when it was read.
  int partitions = 0;
  std::chrono::steady_clock::time_point partitions_at{};
};

Result<std::unique_ptr<RdKafka::Conf>> NewKafkaConf(const std::string& brokers, const KafkaSettings& settings,
                                                    const std::string& what) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto apply = [&](const KafkaSettings& kv) -> Status {
    for (const auto& [k, v] : kv) {
      if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
        return Status(Code::kInvalidArgument, what + " " + k + ": " + err);
      }
    }
    return Status::Ok();
  };
  if (Status s = apply({{"bootstrap.servers", brokers},
                        {"reconnect.backoff.max.ms", "1000"},
                        {"log.connection.close", "false"}});
      !s.ok()) {
    return s;
  }
  if (Status s = apply(settings); !s.ok()) return s;
  return conf;
}

Result<std::unique_ptr<RdKafka::Conf>> NewKafkaConsumerConf(const std::string& brokers, const std::string& group,
                                                            const std::string& client_id,
                                                            const KafkaSettings& settings, const std::string& what) {
  KafkaSettings all = {{"group.id", group},
                       {"client.id", client_id},
                       {"enable.auto.commit", "false"},
                       {"enable.auto.offset.store", "false"},
                       {"auto.offset.reset", "earliest"}};
  all.insert(all.end(), settings.begin(), settings.end());
  return NewKafkaConf(brokers, all, what);
}

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const KafkaOptions& options, const std::string& client_id) {
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer());
  c->impl_ = std::make_unique<Impl>();
  c->impl_->options = options;
  auto conf = NewKafkaConsumerConf(options.brokers, options.consumer_group, client_id,
                                   {{"session.timeout.ms", std::to_string(options.session_timeout_ms)},
                                    {"heartbeat.interval.ms", std::to_string(std::min(500, options.session_timeout_ms / 3))},
                                    {"topic.metadata.refresh.interval.ms", std::to_string(options.metadata_refresh_ms)},
                                    {"fetch.wait.max.ms", "10"},
                                    {"partition.assignment.strategy", "cooperative-sticky"}},
                                   "kafka consumer config");
  if (!conf.ok()) return conf.status();
  std::string err;
  c->impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!c->impl_->consumer) return Status(Code::kUnavailable, "kafka consumer: " + err);
  auto rc = c->impl_->consumer->subscribe({options.topic});
  if (rc != RdKafka::ERR_NO_ERROR) return Status(Code::kUnavailable, "kafka subscribe: " + RdKafka::err2str(rc));
  return c;
}

KafkaConsumer::~KafkaConsumer() { Close(); }

void KafkaConsumer::Close() {
  if (impl_ && impl_->consumer && !impl_->closed) {
    impl_->closed = true;
    impl_->consumer->close();
  }
}

std::vector<KafkaRecord> KafkaConsumer::PollBatch(int max, int wait_ms, int64_t max_bytes) {
  std::vector<KafkaRecord> out;
  int64_t bytes = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (static_cast<int>(out.size()) < max && bytes < max_bytes) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    // Once something arrived, drain what is buffered without waiting long.
    int timeout = out.empty() ? static_cast<int>(std::max<int64_t>(left, 0)) : 0;
    std::unique_ptr<RdKafka::Message> m(impl_->consumer->consume(timeout));
    if (!m) break;
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) {
      if (!out.empty() || left <= 0) break;
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) break;  // transient; the next poll retries
    KafkaRecord r;
    r.partition = m->partition();
    r.offset = m->offset();
    r.timestamp_ms = m->timestamp().timestamp;
    if (m->key()) r.key = *m->key();
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    bytes += static_cast<int64_t>(r.value.size());
    out.push_back(std::move(r));
  }
  return out;
}

Status KafkaConsumer::Commit(const std::vector<KafkaRecord>& batch) {
  std::map<int32_t, int64_t> next;
  for (const auto& r : batch) next[r.partition] = std::max(next[r.partition], r.offset + 1);
  std::vector<RdKafka::TopicPartition*> offsets;
  for (auto [p, o] : next) offsets.push_back(RdKafka::TopicPartition::create(impl_->options.topic, p, o));
  auto rc = impl_->consumer->commitSync(offsets);
  RdKafka::TopicPartition::destroy(offsets);
  if (rc != RdKafka::ERR_NO_ERROR) return Status(Code::kUnavailable, "kafka commit: " + RdKafka::err2str(rc));
  return Status::Ok();
}

std::vector<int32_t> KafkaConsumer::Assignment() {
  std::vector<int32_t> out;
  std::vector<RdKafka::TopicPartition*> parts;
  if (impl_->consumer->assignment(parts) != RdKafka::ERR_NO_ERROR) return out;
  for (auto* tp : parts) out.push_back(tp->partition());
  RdKafka::TopicPartition::destroy(parts);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<PartitionLag> KafkaConsumer::Lag() {
  std::vector<PartitionLag> out;
  auto now = std::chrono::steady_clock::now();
  if (impl_->partitions == 0 || now - impl_->partitions_at > std::chrono::seconds(2)) {
    RdKafka::Metadata* md = nullptr;
    if (impl_->consumer->metadata(true, nullptr, &md, 2000) == RdKafka::ERR_NO_ERROR && md) {
      for (const auto* t : *md->topics()) {
        if (t->topic() == impl_->options.topic && t->err() == RdKafka::ERR_NO_ERROR) {
          impl_->partitions = static_cast<int>(t->partitions()->size());
          impl_->partitions_at = now;
        }
      }
    }
    delete md;
  }
  if (impl_->partitions == 0) return out;
  std::vector<int32_t> assigned = Assignment();
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < impl_->partitions; ++p) parts.push_back(RdKafka::TopicPartition::create(impl_->options.topic, p));
  // The group's committed offsets, of every partition (not only ours).
  if (impl_->consumer->committed(parts, 2000) != RdKafka::ERR_NO_ERROR) {
    RdKafka::TopicPartition::destroy(parts);
    return out;
  }
  for (auto* tp : parts) {
    int64_t low = 0, high = 0;
    if (impl_->consumer->query_watermark_offsets(tp->topic(), tp->partition(), &low, &high, 1000) !=
        RdKafka::ERR_NO_ERROR) {
      out.clear();  // a partial view would understate the backlog
      break;
    }
    int64_t committed = tp->offset() >= 0 ? tp->offset() : low;
    bool mine = std::binary_search(assigned.begin(), assigned.end(), tp->partition());
    out.push_back({tp->partition(), std::max<int64_t>(0, high - committed), committed, high, mine});
  }
  RdKafka::TopicPartition::destroy(parts);
  return out;
}

}  // namespace danmu::core
