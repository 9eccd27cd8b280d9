#pragma once
// Process metrics in the standard names (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, process_start_time_seconds,
// process_threads) read from /proc at scrape time, and danmu_build_info.
#include <memory>
#include <string>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

namespace danmu::monitoring {

std::shared_ptr<prometheus::Collectable> MakeProcessCollector();

// danmu_build_info{version, room, role_at_start} 1
void RegisterBuildInfo(prometheus::Registry& registry, const std::string& room, const std::string& role);

// Text exposition (format 0.0.4) of a registry and extra collectables.
std::string RenderMetrics(prometheus::Registry& registry, const std::shared_ptr<prometheus::Collectable>& extra);

}  // namespace danmu::monitoring
