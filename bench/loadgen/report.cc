// WorkerOutput's text form, the fork of worker processes and the merged JSON
// report (load.h).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "bench/loadgen/load.h"

namespace danmu::bench {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    o.push_back(c);
  }
  return o + "\"";
}

std::string LatencyJson(const Histogram& h) {
  auto ms = [](int64_t us) { return Num(static_cast<double>(us) / 1000.0); };
  return "{\"count\":" + std::to_string(h.count()) + ",\"p50\":" + ms(h.Percentile(0.5)) + ",\"p90\":" +
         ms(h.Percentile(0.9)) + ",\"p99\":" + ms(h.Percentile(0.99)) + ",\"p999\":" + ms(h.Percentile(0.999)) +
         ",\"max\":" + ms(h.max()) + ",\"mean\":" + Num(h.mean() / 1000.0) + "}";
}

// The three longest intervals without an acknowledged write inside
// [begin, end) (the window's edges count as acks): a switchover's RTO as the
// writers saw it. [{"ms":..,"at_ms":..since begin}, ...]
std::string AckGaps(const std::vector<Ack>& acks, int64_t begin, int64_t end) {
  std::vector<int64_t> t = {begin, end};
  for (const auto& a : acks) {
    if (a.ack_us > begin && a.ack_us < end) t.push_back(a.ack_us);
  }
  std::sort(t.begin(), t.end());
  std::vector<std::pair<int64_t, int64_t>> gaps;  // length, start
  for (size_t i = 1; i < t.size(); ++i) gaps.push_back({t[i] - t[i - 1], t[i - 1] - begin});
  std::sort(gaps.rbegin(), gaps.rend());
  std::string s = "[";
  for (size_t i = 0; i < gaps.size() && i < 3; ++i) {
    s += std::string(i ? "," : "") + "{\"ms\":" + Num(static_cast<double>(gaps[i].first) / 1000.0) +
         ",\"at_ms\":" + Num(static_cast<double>(gaps[i].second) / 1000.0) + "}";
  }
  return s + "]";
}

}  // namespace

std::string WorkerOutput::Serialize() const {
  std::string s;
  for (const auto& [name, h] : hist) s += "H " + name + " " + h.Serialize() + "\n";
  for (const auto& [name, v] : count) s += "C " + name + " " + std::to_string(v) + "\n";
  for (const auto& a : acks) {
    s += "A " + a.room + " " + a.id + " " + std::to_string(a.ack_us) + " " + a.writer + " " + std::to_string(a.seq) + " " +
         (a.type.empty() ? "-" : a.type) + "\n";
  }
  for (const auto& f : follows) {
    s += "F " + f.follower + " " + f.room + " " + std::to_string(f.first_answer_us) + " " + (f.complete ? "1" : "0") + " ";
    for (size_t i = 0; i < f.ids.size(); ++i) s += (i ? "," : "") + f.ids[i];
    s += "\n";
  }
  return s;
}

bool WorkerOutput::Parse(const std::string& text, WorkerOutput* out) {
  WorkerOutput o;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 2) continue;
    char kind = line[0];
    std::string rest = line.substr(2);
    if (kind == 'H') {
      auto sp = rest.find(' ');
      if (sp == std::string::npos || !Histogram::Parse(rest.substr(sp + 1), &o.hist[rest.substr(0, sp)])) return false;
    } else if (kind == 'C') {
      auto f = Split(rest, ' ');
      if (f.size() != 2) return false;
      o.count[f[0]] += std::strtoll(f[1].c_str(), nullptr, 10);
    } else if (kind == 'A') {
      auto f = Split(rest, ' ');
      if (f.size() != 6) return false;
      o.acks.push_back({f[0], f[1], std::strtoll(f[2].c_str(), nullptr, 10), f[3], std::strtoll(f[4].c_str(), nullptr, 10),
                        f[5] == "-" ? std::string() : f[5]});
    } else if (kind == 'F') {
      auto f = Split(rest, ' ');
      if (f.size() < 4) return false;
      Follow fo{f[0], f[1], std::strtoll(f[2].c_str(), nullptr, 10), f[3] == "1", {}};
      if (f.size() > 4 && !f[4].empty()) fo.ids = Split(f[4], ',');
      o.follows.push_back(std::move(fo));
    } else {
      return false;
    }
  }
  *out = std::move(o);
  return true;
}

void WorkerOutput::Merge(WorkerOutput&& other) {
  for (auto& [name, h] : other.hist) hist[name].Merge(h);
  for (auto& [name, v] : other.count) count[name] += v;
  for (auto& a : other.acks) acks.push_back(std::move(a));
  for (auto& f : other.follows) follows.push_back(std::move(f));
}

bool RunDistributed(const Workload& w, int workers, std::string* json, std::string* error) {
  const int64_t conns = static_cast<int64_t>(w.rate_conns) + w.viewers + w.ws + w.contract + w.writers + w.likers;
  workers = static_cast<int>(std::max<int64_t>({int64_t{1}, int64_t{workers}, (conns + kMaxConnectionsPerProcess - 1) / kMaxConnectionsPerProcess}));
  char dir_template[] = "/tmp/danmu-bench-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) {
    *error = std::string("mkdtemp: ") + std::strerror(errno);
    return false;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const int64_t start_us = NowUs() + 300000;  // every worker starts at the same instant
  std::vector<pid_t> pids;
  for (int i = 0; i < workers; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      *error = std::string("fork: ") + std::strerror(errno);
      for (pid_t p : pids) kill(p, SIGKILL);
      return false;
    }
    if (pid == 0) {
      WorkerOutput out;
      RunWorker(w, start_us, i, workers, &out);
      std::ofstream f(std::string(dir) + "/w" + std::to_string(i) + ".txt");
      f << out.Serialize();
      f.close();
      _exit(f ? 0 : 3);
    }
    pids.push_back(pid);
  }
  bool ok = true;
  double cpu_s = 0;
  for (int i = 0; i < workers; ++i) {
    int status = 0;
    struct rusage ru {};
    if (wait4(pids[i], &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ok = false;
      *error = "worker " + std::to_string(i) + " failed (status " + std::to_string(status) + ")";
    }
    cpu_s += static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }
  WorkerOutput all;
  for (int i = 0; ok && i < workers; ++i) {
    std::string path = std::string(dir) + "/w" + std::to_string(i) + ".txt";
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    WorkerOutput one;
    if (!WorkerOutput::Parse(ss.str(), &one)) {
      ok = false;
      *error = "cannot parse " + path;
    }
    all.Merge(std::move(one));
    std::remove(path.c_str());
  }
  rmdir(dir);
  if (!ok) return false;

  auto c = [&](const std::string& name) {
    auto it = all.count.find(name);
    return it == all.count.end() ? int64_t{0} : it->second;
  };
  const double secs = w.seconds;
  std::string errors = "{";
  int64_t error_total = 0;
  for (const auto& [name, v] : all.count) {
    if (name.rfind("err_", 0) != 0 || v == 0) continue;
    if (errors.size() > 1) errors += ",";
    errors += Quote(name.substr(4)) + ":" + std::to_string(v);
    error_total += v;
  }
  errors += "}";
  ExactnessReport ex = CheckExactness(all.acks, all.follows);
  std::string examples = "[";
  for (size_t i = 0; i < ex.examples.size(); ++i) examples += (i ? "," : "") + Quote(ex.examples[i]);
  examples += "]";
  const double messages = static_cast<double>(c("messages"));
  std::string j = "{";
  j += "\"workers\":" + std::to_string(workers) + ",\"connections\":" + std::to_string(c("connections"));
  j += ",\"seconds\":" + Num(secs) + ",\"offered_per_s\":" + Num(w.rate);
  j += ",\"ok\":" + std::to_string(c("ok")) + ",\"throughput_per_s\":" + Num(static_cast<double>(c("ok")) / secs);
  j += ",\"unanswered\":" + std::to_string(c("unanswered"));
  j += ",\"error_total\":" + std::to_string(error_total) + ",\"errors\":" + errors;
  j += ",\"latency_ms\":" + LatencyJson(all.hist["latency"]);
  j += ",\"post_visible_ms\":" + LatencyJson(all.hist["post_visible"]);
  j += ",\"messages\":" + std::to_string(c("messages")) + ",\"bytes\":" + std::to_string(c("bytes"));
  j += ",\"bytes_per_message\":" + Num(messages > 0 ? static_cast<double>(c("bytes")) / messages : 0);
  j += ",\"body_bytes_per_message\":" +
       Num(messages > 0 ? static_cast<double>(c("body_bytes")) / messages : 0);
  j += ",\"deliveries_per_s\":" + Num(static_cast<double>(c("messages_window")) / secs);
  j += ",\"ack_gaps\":" + AckGaps(all.acks, start_us + static_cast<int64_t>(w.warmup_s * 1e6),
                                   start_us + static_cast<int64_t>((w.warmup_s + w.seconds) * 1e6));
  j += ",\"bytes_per_answer\":" + Num(c("ok") > 0 ? static_cast<double>(c("bytes")) / static_cast<double>(c("ok")) : 0);
  // Body bytes as received (gzip answers are not inflated: bench/run gzip).
  j += ",\"body_bytes_per_answer\":" +
       Num(c("ok") > 0 ? static_cast<double>(c("body_bytes")) / static_cast<double>(c("ok")) : 0);
  j += ",\"frames\":" + std::to_string(c("frames"));
  j += ",\"acked\":" + std::to_string(c("acked")) + ",\"acked_per_s\":" + Num(static_cast<double>(c("acked_window")) / secs);
  j += ",\"write_latency_ms\":" + LatencyJson(all.hist["write"]);
  j += ",\"likes_acked\":" + std::to_string(c("likes_acked")) +
       ",\"likes_per_s\":" + Num(static_cast<double>(c("likes_acked_window")) / secs);
  j += ",\"like_latency_ms\":" + LatencyJson(all.hist["like"]);
  j += ",\"ws_opened\":" + std::to_string(c("ws_opened")) + ",\"ws_open_max\":" + std::to_string(c("ws_open_max")) +
       ",\"ws_open_at_stop\":" + std::to_string(c("ws_open_at_stop"));
  j += ",\"exactness\":{\"followers\":" + std::to_string(ex.followers) + ",\"acked\":" + std::to_string(ex.acked) +
       ",\"required\":" + std::to_string(ex.required) + ",\"delivered\":" + std::to_string(ex.delivered) +
       ",\"missing\":" + std::to_string(ex.missing) + ",\"duplicates\":" + std::to_string(ex.duplicates) +
       ",\"out_of_order\":" + std::to_string(ex.out_of_order) + ",\"ok\":" + (ex.ok() ? "true" : "false") +
       ",\"examples\":" + examples + "}";
  // The contract clients' moves (load.cc, ContractViewer): every contract_X
  // counter as "X".
  j += ",\"contract\":{";
  bool first_contract = true;
  for (const auto& [name, v] : all.count) {
    if (name.rfind("contract_", 0) != 0) continue;
    j += std::string(first_contract ? "" : ",") + Quote(name.substr(9)) + ":" + std::to_string(v);
    first_contract = false;
  }
  j += "}";
  j += ",\"client_cpu_s\":" + Num(cpu_s);
  j += "}";
  *json = std::move(j);
  return true;
}

}  // namespace danmu::bench
