#pragma once
// Every core metric, declared in one place. Names follow Prometheus
// conventions (danmu_ prefix, base units, _total/_seconds); labels are of
// bounded cardinality only (room = datacenter, route, type, result, target),
// never a live room id or a uid. Components take references to the series
// they update at construction, so hot paths do no label lookups.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace danmu::core {

class Metrics {
 public:
  Metrics(std::shared_ptr<prometheus::Registry> registry, const std::string& room);
  prometheus::Registry& registry() { return *registry_; }
  const std::shared_ptr<prometheus::Registry>& shared_registry() const { return registry_; }
  const std::string& room() const { return room_; }

  static prometheus::Histogram::BucketBoundaries LatencyBuckets();

  // HTTP (labels: server, route, code / server, route)
  prometheus::Family<prometheus::Counter>& http_requests;
  prometheus::Family<prometheus::Histogram>& http_duration;
  prometheus::Family<prometheus::Gauge>& http_in_flight;
  // Write path
  prometheus::Family<prometheus::Counter>& messages_accepted;   // type
  prometheus::Family<prometheus::Counter>& messages_rejected;   // reason
  prometheus::Family<prometheus::Counter>& kafka_produce;       // result
  prometheus::Family<prometheus::Histogram>& kafka_produce_duration;
  prometheus::Family<prometheus::Counter>& forwarded_writes;    // result
  prometheus::Family<prometheus::Counter>& likes;               // stage: received|flushed|dropped
  prometheus::Family<prometheus::Counter>& like_flushes;        // result
  // Redis (labels: target = live|peer|replay)
  prometheus::Family<prometheus::Counter>& redis_commands;
  prometheus::Family<prometheus::Counter>& redis_errors;
  prometheus::Family<prometheus::Histogram>& redis_roundtrip;
  // Read path
  prometheus::Family<prometheus::Counter>& cache_hits;
  prometheus::Family<prometheus::Counter>& cache_misses;
  prometheus::Family<prometheus::Counter>& cache_refreshes;
  prometheus::Family<prometheus::Gauge>& cache_rooms;
  prometheus::Family<prometheus::Counter>& polls;
  // Processor
  prometheus::Family<prometheus::Counter>& processor_batches;     // result
  prometheus::Family<prometheus::Counter>& processor_messages;    // type, result=added|duplicate
  prometheus::Family<prometheus::Histogram>& processor_batch_size;
  prometheus::Family<prometheus::Counter>& live_evicted_unarchived;  // type
  prometheus::Family<prometheus::Histogram>& processor_delay;     // ingest -> visible
  prometheus::Family<prometheus::Gauge>& kafka_lag_messages;      // partition
  prometheus::Family<prometheus::Gauge>& kafka_lag_seconds;       // partition
  prometheus::Family<prometheus::Gauge>& processor_active;
  prometheus::Family<prometheus::Gauge>& processor_batch_limit;   // worker: adaptive batch size now
  // Admin
  prometheus::Family<prometheus::Counter>& admin_unauthorized;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::string room_;
};

}  // namespace danmu::core
