#include "replication/read_fallback.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "core/base/log.h"
#include "core/base/metric_family.h"

namespace danmu::replication {

bool ReadFallbackPolicy::Update(const LagSample& s, bool is_primary, int64_t now_ms) {
  if (is_primary || !options_.stale_read_fallback) {
    active_ = false;
    healthy_since_ms_ = -1;
    return false;
  }
  const bool stale = !s.link_up || s.lag_seconds > options_.fallback_lag_seconds;
  const bool healthy = s.valid && s.link_up && s.lag_seconds <= options_.recover_lag_seconds;
  if (!active_) {
    if (stale) {
      active_ = true;
      ++engagements_;
      healthy_since_ms_ = -1;
    }
    return active_;
  }
  if (!healthy) {
    healthy_since_ms_ = -1;
  } else if (healthy_since_ms_ < 0) {
    healthy_since_ms_ = now_ms;
  } else if (now_ms - healthy_since_ms_ >= options_.recover_dwell_ms) {
    active_ = false;
    healthy_since_ms_ = -1;
  }
  return active_;
}

StaleReadFallback::StaleReadFallback(const core::HaOptions& options, Wiring wiring, const core::Clock& clock,
                                     core::Metrics* metrics)
    : policy_(options), wiring_(std::move(wiring)), clock_(clock) {
  if (metrics) {
    active_ = &core::GaugeFamily(*metrics, "danmu_stale_read_fallback_active",
                                 "1 while this room's frontends read the primary room's Redis").Add({});
    engaged_ = &core::CounterFamily(*metrics, "danmu_stale_read_fallbacks_total", "Times the stale-read fallback engaged").Add({});
  }
}

void StaleReadFallback::OnSample(const LagSample& sample) {
  if (wiring_.peer_redis.empty()) return;
  const bool want = policy_.Update(sample, wiring_.is_primary(), clock_.MonoMs());
  if (want == reading_from_peer_.load()) return;
  reading_from_peer_ = want;
  const std::string& address = want ? wiring_.peer_redis : wiring_.local_redis;
  wiring_.read_from(address);
  if (active_) active_->Set(want ? 1 : 0);
  if (want && engaged_) engaged_->Increment();
  core::LogWarn(want ? "stale_read_fallback_engaged" : "stale_read_fallback_released",
                {{"lag_seconds", std::to_string(sample.lag_seconds)},
                 {"link_up", sample.link_up ? "true" : "false"},
                 {"read_from", address}});
}

}  // namespace danmu::replication
