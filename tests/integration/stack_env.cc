#include "tests/integration/stack_env.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/base/config.h"

namespace danmu::testing {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string("env ") + name + " is not set: run the tests through scripts/test");
  return v;
}

bool WaitFor(const std::function<bool()>& cond, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

core::Result<core::HttpResponse> Get(const std::string& url, int timeout_ms) {
  core::HttpCall c;
  c.url = url;
  c.timeout_ms = timeout_ms;
  return core::Fetch(c);
}

core::Result<core::HttpResponse> Post(const std::string& url, const std::string& body, int timeout_ms,
                                      const std::string& content_type) {
  core::HttpCall c;
  c.method = "POST";
  c.url = url;
  c.body = body;
  c.timeout_ms = timeout_ms;
  c.headers["Content-Type"] = content_type;
  return core::Fetch(c);
}

core::Result<core::HttpResponse> AdminPost(const std::string& url, const std::string& body, bool with_token,
                                           int timeout_ms) {
  core::HttpCall c;
  c.method = "POST";
  c.url = url;
  c.body = body;
  c.timeout_ms = timeout_ms;
  c.headers["Content-Type"] = "application/json";
  if (with_token) c.headers["Authorization"] = "Bearer " + AdminToken();
  return core::Fetch(c);
}

int RunCapture(const std::string& command, std::string* out) {
  out->clear();
  FILE* f = ::popen(command.c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
  int status = ::pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Danmuctl(const std::string& args) {
  return Env("DANMUCTL_BIN") + " --env " + Env("DANMU_RUN_DIR") + "/stack.env " + args;
}

std::string AdminToken() {
  auto t = core::ReadSecretFile(Env("DANMU_TOKEN_FILE"));
  if (!t.ok()) throw std::runtime_error(t.status().ToString());
  return *t;
}

double MetricSample(const char* admin_env, const std::string& series) {
  auto r = Get(Env(admin_env) + "/metrics");
  if (!r.ok()) return -1;
  auto pos = r->body.find(series + " ");
  if (pos == std::string::npos) return 0;
  return std::stod(r->body.substr(pos + series.size() + 1));
}

int PidOf(const std::string& name) {
  std::ifstream in(Env("DANMU_RUN_DIR") + "/pids/" + name + ".pid");
  int pid = 0;
  in >> pid;
  return pid;
}

void KillHard(const std::string& name) {
  int pid = PidOf(name);
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  WaitFor([&] { return ::kill(pid, 0) != 0; }, 10000);
}

void StartDanmud(const std::string& name) {
  std::string run = Env("DANMU_RUN_DIR");
  std::string config = run + "/config/" + (name == "danmud-a" ? "room-a.yaml" : "room-b.yaml");
  std::string cmd = "setsid " + Env("DANMUD_BIN") + " --config " + config + " >>" + run + "/logs/" + name +
                    ".log 2>&1 < /dev/null & echo $! > " + run + "/pids/" + name + ".pid";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("could not start " + name);
}

bool Healthy(const std::string& admin_url) {
  auto r = Get(admin_url + "/healthz", 1000);
  return r.ok() && r->status == 200;
}

std::string MergedLogs(int lines_per_file) {
  std::vector<std::string> lines;
  std::string dir = Env("DANMU_RUN_DIR") + "/logs";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path());
    std::vector<std::string> all;
    std::string line;
    while (std::getline(in, line)) all.push_back(line);
    size_t from = all.size() > static_cast<size_t>(lines_per_file) ? all.size() - lines_per_file : 0;
    for (size_t i = from; i < all.size(); ++i) lines.push_back(e.path().stem().string() + " | " + all[i]);
  }
  // danmud lines start with ts=ISO8601: sort those by time, keep others in place.
  std::stable_sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) {
    auto ta = a.find("ts="), tb = b.find("ts=");
    if (ta == std::string::npos || tb == std::string::npos) return false;
    return a.compare(ta, 27, b, tb, 27) < 0;
  });
  std::ostringstream out;
  for (const auto& l : lines) out << l << "\n";
  return out.str();
}

}  // namespace danmu::testing
