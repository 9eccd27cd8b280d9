#include "core/base/metrics.h"

namespace danmu::core {
namespace {
using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
}  // namespace

prometheus::Histogram::BucketBoundaries Metrics::LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

#define DANMU_LABELS {{"room", room}}
Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry, const std::string& room)
    : http_requests(BuildCounter().Name("danmu_http_requests_total").Help("HTTP requests by server, route and status code").Labels(DANMU_LABELS).Register(*registry)),
      http_duration(BuildHistogram().Name("danmu_http_request_duration_seconds").Help("HTTP request duration by server and route").Labels(DANMU_LABELS).Register(*registry)),
      http_in_flight(BuildGauge().Name("danmu_http_in_flight_requests").Help("HTTP requests being served").Labels(DANMU_LABELS).Register(*registry)),
      messages_accepted(BuildCounter().Name("danmu_messages_accepted_total").Help("Messages acknowledged to clients (202), by type").Labels(DANMU_LABELS).Register(*registry)),
      messages_rejected(BuildCounter().Name("danmu_messages_rejected_total").Help("Writes refused, by reason").Labels(DANMU_LABELS).Register(*registry)),
      kafka_produce(BuildCounter().Name("danmu_kafka_produce_total").Help("Kafka produce outcomes").Labels(DANMU_LABELS).Register(*registry)),
      kafka_produce_duration(BuildHistogram().Name("danmu_kafka_produce_duration_seconds").Help("Produce until acks=all delivery report").Labels(DANMU_LABELS).Register(*registry)),
      forwarded_writes(BuildCounter().Name("danmu_forwarded_writes_total").Help("Writes forwarded to the primary room, by result").Labels(DANMU_LABELS).Register(*registry)),
      likes(BuildCounter().Name("danmu_likes_total").Help("Likes by stage: received, flushed, dropped").Labels(DANMU_LABELS).Register(*registry)),
      like_flushes(BuildCounter().Name("danmu_like_flushes_total").Help("Aggregated like records produced, by result").Labels(DANMU_LABELS).Register(*registry)),
      redis_commands(BuildCounter().Name("danmu_redis_commands_total").Help("Redis commands sent, by target (live, peer, replay)").Labels(DANMU_LABELS).Register(*registry)),
      redis_errors(BuildCounter().Name("danmu_redis_errors_total").Help("Redis connection or command errors, by target").Labels(DANMU_LABELS).Register(*registry)),
      redis_roundtrip(BuildHistogram().Name("danmu_redis_roundtrip_seconds").Help("Redis round trip (one pipeline), by target").Labels(DANMU_LABELS).Register(*registry)),
      cache_hits(BuildCounter().Name("danmu_cache_hits_total").Help("Polls answered from the in-memory window").Labels(DANMU_LABELS).Register(*registry)),
      cache_misses(BuildCounter().Name("danmu_cache_misses_total").Help("Polls that needed a Redis read (cold room or cursor below the window)").Labels(DANMU_LABELS).Register(*registry)),
      cache_refreshes(BuildCounter().Name("danmu_cache_refresh_roundtrips_total").Help("Redis round trips made by the cache refresher").Labels(DANMU_LABELS).Register(*registry)),
      cache_rooms(BuildGauge().Name("danmu_cache_live_rooms").Help("Hot live rooms held in the cache").Labels(DANMU_LABELS).Register(*registry)),
      polls(BuildCounter().Name("danmu_polls_total").Help("Poll requests served").Labels(DANMU_LABELS).Register(*registry)),
      processor_batches(BuildCounter().Name("danmu_processor_batches_total").Help("Processor batches by result").Labels(DANMU_LABELS).Register(*registry)),
      processor_messages(BuildCounter().Name("danmu_processor_messages_total").Help("Records applied to Redis, by type and result (added, duplicate)").Labels(DANMU_LABELS).Register(*registry)),
      processor_batch_size(BuildHistogram().Name("danmu_processor_batch_size").Help("Records per processor batch").Labels(DANMU_LABELS).Register(*registry)),
      live_evicted_unarchived(BuildCounter().Name("danmu_live_evicted_unarchived_total").Help("Messages trimmed from a live set past processor.unarchived_cap before the archiver copied them: missing from that room's replay").Labels(DANMU_LABELS).Register(*registry)),
      processor_delay(BuildHistogram().Name("danmu_processor_delay_seconds").Help("Ingest at the frontend until visible in Redis").Labels(DANMU_LABELS).Register(*registry)),
      kafka_lag_messages(BuildGauge().Name("danmu_kafka_consumer_lag_messages").Help("Consumer lag per partition, messages").Labels(DANMU_LABELS).Register(*registry)),
      kafka_lag_seconds(BuildGauge().Name("danmu_kafka_consumer_lag_seconds").Help("Consumer lag per partition, age of the next unprocessed record").Labels(DANMU_LABELS).Register(*registry)),
      processor_active(BuildGauge().Name("danmu_processor_active").Help("1 when this room's processor consumes and writes").Labels(DANMU_LABELS).Register(*registry)),
      processor_batch_limit(BuildGauge().Name("danmu_processor_batch_limit_records").Help("Records the next batch of a processor worker may take (adaptive: grows with the backlog)").Labels(DANMU_LABELS).Register(*registry)),
      admin_unauthorized(BuildCounter().Name("danmu_admin_unauthorized_total").Help("Admin requests refused for a missing or wrong token").Labels(DANMU_LABELS).Register(*registry)),
      registry_(std::move(registry)),
      room_(room) {}
#undef DANMU_LABELS

}  // namespace danmu::core
