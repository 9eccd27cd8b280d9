#include "monitoring/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace danmu::monitoring {
namespace {

prometheus::MetricFamily Single(const std::string& name, const std::string& help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  f.metric.push_back(m);
  return f;
}

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    std::ifstream stat("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = content.rfind(')');
    if (close != std::string::npos) {
      std::istringstream in(content.substr(close + 2));
      std::vector<std::string> f((std::istream_iterator<std::string>(in)), std::istream_iterator<std::string>());
      // Fields after "(comm) ": state=0 ... utime=11 stime=12 num_threads=17 starttime=19 vsize=20 rss=21
      if (f.size() > 21) {
        out.push_back(Single("process_cpu_seconds_total", "User and system CPU time", prometheus::MetricType::Counter,
                             (std::stod(f[11]) + std::stod(f[12])) / ticks));
        out.push_back(Single("process_threads", "Threads", prometheus::MetricType::Gauge, std::stod(f[17])));
        out.push_back(Single("process_virtual_memory_bytes", "Virtual memory", prometheus::MetricType::Gauge, std::stod(f[20])));
        out.push_back(Single("process_resident_memory_bytes", "Resident memory", prometheus::MetricType::Gauge, std::stod(f[21]) * page));
        std::ifstream up("/proc/stat");
        std::string line;
        double btime = 0;
        while (std::getline(up, line)) {
          if (line.rfind("btime ", 0) == 0) btime = std::stod(line.substr(6));
        }
        out.push_back(Single("process_start_time_seconds", "Start time since the epoch", prometheus::MetricType::Gauge,
                             btime + std::stod(f[19]) / ticks));
      }
    }
    int fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (readdir(d)) ++fds;
      closedir(d);
      fds -= 3;  // ".", ".." and the directory handle itself
    }
    out.push_back(Single("process_open_fds", "Open file descriptors", prometheus::MetricType::Gauge, fds));
    return out;
  }
};

}  // namespace

std::shared_ptr<prometheus::Collectable> MakeProcessCollector() { return std::make_shared<ProcessCollector>(); }

void RegisterBuildInfo(prometheus::Registry& registry, const std::string& room, const std::string& role) {
  prometheus::BuildGauge()
      .Name("danmu_build_info")
      .Help("Build and start-up facts of this danmud")
      .Register(registry)
      .Add({{"version", DANMU_VERSION}, {"room", room}, {"role_at_start", role}})
      .Set(1);
}

std::string RenderMetrics(prometheus::Registry& registry, const std::shared_ptr<prometheus::Collectable>& extra) {
  auto families = registry.Collect();
  if (extra) {
    auto more = extra->Collect();
    families.insert(families.end(), more.begin(), more.end());
  }
  prometheus::TextSerializer serializer;
  return serializer.Serialize(families);
}

}  // namespace danmu::monitoring
