#include "core/store/kafka_producer.h"

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "core/store/kafka_consumer.h"  // NewKafkaConf
#include "core/base/metrics.h"

namespace danmu::core {

namespace {
// Each in-flight record carries a Pending as its opaque; the delivery report
// callback (run by the poll thread) completes it with the broker's outcome.
struct Pending {
  KafkaProducer::Done done;
  std::chrono::steady_clock::time_point start;
};

struct Counters {
  prometheus::Counter* ok = nullptr;
  prometheus::Counter* failed = nullptr;
  prometheus::Histogram* duration = nullptr;
  void Count(const Status& s, std::chrono::steady_clock::time_point start) const {
    if (!ok) return;
    (s.ok() ? ok : failed)->Increment();
    duration->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
};

class DeliveryCb : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& msg) override {
    auto* p = static_cast<Pending*>(msg.msg_opaque());
    if (!p) return;
    Status s = msg.err() == RdKafka::ERR_NO_ERROR ? Status::Ok() : Status(Code::kUnavailable, "kafka: " + msg.errstr());
    counters->Count(s, p->start);
    p->done(std::move(s));
    delete p;
  }
  const Counters* counters = nullptr;
};
}  // namespace

struct KafkaProducer::Impl {
  KafkaOptions options;
  DeliveryCb dr;
  std::unique_ptr<RdKafka::Producer> producer;
  std::atomic<bool> stop{false};
  std::thread poller;
  Counters counters;
};

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(const KafkaOptions& options, Metrics* metrics) {
  std::unique_ptr<KafkaProducer> p(new KafkaProducer());
  p->impl_ = std::make_unique<Impl>();
  auto& impl = *p->impl_;
  impl.options = options;
  impl.dr.counters = &impl.counters;
  auto conf = NewKafkaConf(options.brokers,
                           {{"acks", "all"},
                            {"enable.idempotence", "true"},
                            {"linger.ms", "1"},
                            {"topic.metadata.refresh.interval.ms", std::to_string(options.metadata_refresh_ms)},
                            {"message.timeout.ms", std::to_string(options.produce_timeout_ms)},
                            {"socket.timeout.ms", std::to_string(std::max(1000, options.produce_timeout_ms))}},
                           "kafka producer config");
  if (!conf.ok()) return conf.status();
  std::string err;
  if ((*conf)->set("dr_cb", &impl.dr, err) != RdKafka::Conf::CONF_OK) {
    return Status(Code::kInvalidArgument, "kafka producer config dr_cb: " + err);
  }
  impl.producer.reset(RdKafka::Producer::create(conf->get(), err));
  if (!impl.producer) return Status(Code::kUnavailable, "kafka producer: " + err);
  if (metrics) {
    impl.counters.ok = &metrics->kafka_produce.Add({{"result", "ok"}});
    impl.counters.failed = &metrics->kafka_produce.Add({{"result", "error"}});
    impl.counters.duration = &metrics->kafka_produce_duration.Add({}, Metrics::LatencyBuckets());
  }
  Impl* raw = &impl;
  impl.poller = std::thread([raw] {
    while (!raw->stop.load()) raw->producer->poll(50);
  });
  return p;
}

KafkaProducer::~KafkaProducer() {
  if (!impl_) return;
  impl_->producer->flush(impl_->options.produce_timeout_ms);
  impl_->stop = true;
  if (impl_->poller.joinable()) impl_->poller.join();
  impl_->producer->poll(0);
}

const std::string& KafkaProducer::brokers() const { return impl_->options.brokers; }

void KafkaProducer::ProduceAsync(std::string_view key, std::string_view value, Done done) {
  auto* pending = new Pending{std::move(done), std::chrono::steady_clock::now()};
  RdKafka::ErrorCode rc = impl_->producer->produce(
      impl_->options.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
      const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, pending);
  if (rc != RdKafka::ERR_NO_ERROR) {
    Status s(Code::kUnavailable, "kafka produce: " + RdKafka::err2str(rc));
    impl_->counters.Count(s, pending->start);
    Done d = std::move(pending->done);
    delete pending;
    d(std::move(s));
  }
}

Status KafkaProducer::Produce(std::string_view key, std::string_view value) {
  // The blocking form waits for the asynchronous one.
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  ProduceAsync(key, value, [promise](Status s) { promise->set_value(std::move(s)); });
  if (future.wait_for(std::chrono::milliseconds(impl_->options.produce_timeout_ms + 2000)) != std::future_status::ready) {
    // message.timeout.ms bounds delivery; this only guards a stuck poller.
    return Status(Code::kUnavailable, "kafka delivery report timed out");
  }
  return future.get();
}

size_t KafkaProducer::ProduceMany(const std::vector<std::pair<std::string, std::string>>& records,
                                  Status* first_error) {
  std::vector<std::future<Status>> futures;
  futures.reserve(records.size());
  Status failure;
  for (const auto& [key, value] : records) {
    // The delivery callback completes a Pending (see ProduceAsync).
    auto promise = std::make_shared<std::promise<Status>>();
    auto future = promise->get_future();
    auto* pending = new Pending{[promise](Status s) { promise->set_value(std::move(s)); }, std::chrono::steady_clock::now()};
    RdKafka::ErrorCode rc;
    // A full local queue is back-pressure, not an error: let the poller drain it.
    for (int attempt = 0;; ++attempt) {
      rc = impl_->producer->produce(impl_->options.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                    const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, pending);
      if (rc != RdKafka::ERR__QUEUE_FULL || attempt > 1000) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (rc != RdKafka::ERR_NO_ERROR) {
      delete pending;
      failure = Status(Code::kUnavailable, "kafka produce: " + RdKafka::err2str(rc));
      break;
    }
    futures.push_back(std::move(future));
  }
  size_t acked = 0;
  for (auto& f : futures) {
    if (f.wait_for(std::chrono::milliseconds(impl_->options.produce_timeout_ms + 10000)) != std::future_status::ready) {
      if (failure.ok()) failure = Status(Code::kUnavailable, "kafka delivery report timed out");
      break;
    }
    Status s = f.get();
    if (!s.ok()) {
      if (failure.ok()) failure = s;
      break;
    }
    if (failure.ok()) ++acked;
  }
  // Futures not waited for are fulfilled by the poller later (the Pendings
  // are owned by the delivery callback); dropping them is safe.
  if (first_error) *first_error = failure;
  return acked;
}

}  // namespace danmu::core
