#include "core/store/kafka_admin.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include "core/store/kafka_consumer.h"  // NewKafkaConf

namespace danmu::core {

// The Admin API is C only: a C++ producer handle gives the rd_kafka_t.
struct KafkaAdmin::Impl {
  std::unique_ptr<RdKafka::Producer> handle;
  rd_kafka_t* rk() { return handle->c_ptr(); }
};

Result<std::unique_ptr<KafkaAdmin>> KafkaAdmin::Create(const std::string& brokers) {
  auto conf = NewKafkaConf(brokers, {}, "kafka admin config");
  if (!conf.ok()) return conf.status();
  std::string err;
  std::unique_ptr<KafkaAdmin> a(new KafkaAdmin());
  a->brokers_ = brokers;
  a->impl_ = std::make_unique<Impl>();
  a->impl_->handle.reset(RdKafka::Producer::create(conf->get(), err));
  if (!a->impl_->handle) return Status(Code::kUnavailable, "kafka admin " + brokers + ": " + err);
  return a;
}

KafkaAdmin::~KafkaAdmin() = default;

Result<int> KafkaAdmin::PartitionCount(const std::string& topic, int timeout_ms) {
  RdKafka::Metadata* md = nullptr;
  std::string err;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(impl_->handle.get(), topic, nullptr, err));
  if (!t) return Status(Code::kInvalidArgument, "kafka topic " + topic + ": " + err);
  RdKafka::ErrorCode rc = impl_->handle->metadata(false, t.get(), &md, timeout_ms);
  std::unique_ptr<RdKafka::Metadata> owned(md);
  if (rc != RdKafka::ERR_NO_ERROR || !md) {
    return Status(Code::kUnavailable, "kafka metadata from " + brokers_ + ": " + RdKafka::err2str(rc));
  }
  for (const auto* tm : *md->topics()) {
    if (tm->topic() != topic) continue;
    if (tm->err() == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART) return Status(Code::kNotFound, "no topic " + topic + " on " + brokers_);
    if (tm->err() != RdKafka::ERR_NO_ERROR) {
      return Status(Code::kUnavailable, "kafka topic " + topic + " on " + brokers_ + ": " + RdKafka::err2str(tm->err()));
    }
    return static_cast<int>(tm->partitions()->size());
  }
  return Status(Code::kNotFound, "no topic " + topic + " on " + brokers_);
}

Status KafkaAdmin::GrowPartitions(const std::string& topic, int total, int timeout_ms) {
  auto now = PartitionCount(topic, timeout_ms);
  if (!now.ok()) return now.status();
  if (*now == total) return Status::Ok();
  if (*now > total) {
    return Status(Code::kInvalidArgument, "topic " + topic + " on " + brokers_ + " has " + std::to_string(*now) +
                                              " partitions; Kafka cannot remove partitions (asked for " +
                                              std::to_string(total) + ")");
  }
  char errstr[512];
  rd_kafka_NewPartitions_t* np = rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), errstr, sizeof(errstr));
  if (!np) return Status(Code::kInvalidArgument, std::string("kafka new partitions: ") + errstr);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(impl_->rk(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof(errstr));
  rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr));
  rd_kafka_queue_t* q = rd_kafka_queue_new(impl_->rk());
  rd_kafka_CreatePartitions(impl_->rk(), &np, 1, opts, q);
  Status result(Code::kUnavailable, "kafka create partitions: no answer from " + brokers_ + " in " +
                                        std::to_string(timeout_ms) + " ms");
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
  if (ev) {
    if (rd_kafka_event_error(ev)) {
      result = Status(Code::kUnavailable, std::string("kafka create partitions: ") + rd_kafka_event_error_string(ev));
    } else if (const rd_kafka_CreatePartitions_result_t* res = rd_kafka_event_CreatePartitions_result(ev)) {
      size_t n = 0;
      const rd_kafka_topic_result_t** topics = rd_kafka_CreatePartitions_result_topics(res, &n);
      result = Status::Ok();
      for (size_t i = 0; i < n; ++i) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(topics[i]);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        const char* msg = rd_kafka_topic_result_error_string(topics[i]);
        // A concurrent grow to the same count already did it.
        if (e == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS) {
          auto again = PartitionCount(topic, timeout_ms);
          if (again.ok() && *again == total) continue;
        }
        result = Status(Code::kUnavailable, "kafka create partitions of " + topic + " on " + brokers_ + ": " +
                                                rd_kafka_err2name(e) + (msg ? std::string(" ") + msg : ""));
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewPartitions_destroy(np);
  return result;
}

Status KafkaAdmin::CreateTopic(const std::string& topic, int partitions, int timeout_ms) {
  char errstr[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, errstr, sizeof(errstr));
  if (!nt) return Status(Code::kInvalidArgument, std::string("kafka new topic: ") + errstr);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(impl_->rk(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof(errstr));
  rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr));
  rd_kafka_queue_t* q = rd_kafka_queue_new(impl_->rk());
  rd_kafka_CreateTopics(impl_->rk(), &nt, 1, opts, q);
  Status result(Code::kUnavailable, "kafka create topic: no answer from " + brokers_);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
  if (ev) {
    if (rd_kafka_event_error(ev)) {
      result = Status(Code::kUnavailable, std::string("kafka create topic: ") + rd_kafka_event_error_string(ev));
    } else if (const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev)) {
      size_t n = 0;
      const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(res, &n);
      result = Status::Ok();
      for (size_t i = 0; i < n; ++i) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(topics[i]);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
        const char* msg = rd_kafka_topic_result_error_string(topics[i]);
        result = Status(Code::kUnavailable, "kafka create topic " + topic + " on " + brokers_ + ": " +
                                                rd_kafka_err2name(e) + (msg ? std::string(" ") + msg : ""));
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  return result;
}

}  // namespace danmu::core
