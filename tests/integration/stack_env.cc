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

RestartDanmudBOnExit::~RestartDanmudBOnExit() {
  if (!needed) return;
  StartDanmud("danmud-b");
  WaitFor([] { return Healthy(Env("DANMU_B_ADMIN")); }, 30000);
}

bool Healthy(const std::string& admin_url) {
  auto r = Get(admin_url + "/healthz", 1000);
  return r.ok() && r->status == 200;
}

std::optional<double> Series(const std::string& admin_url, const std::string& series) {
  auto r = Get(admin_url + "/metrics");
  if (!r.ok() || r->status != 200) return std::nullopt;
  const std::string body = "\n" + r->body;
  auto pos = body.find("\n" + series + " ");
  if (pos == std::string::npos) return std::nullopt;
  return std::stod(body.substr(pos + series.size() + 2));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string EditYaml(const std::string& base_yaml, const YamlEdit& edit) {
  std::stringstream in(base_yaml);
  std::string out, line;
  bool skipping = false;
  while (std::getline(in, line)) {
    if (skipping && !line.empty() && (line[0] == ' ' || line[0] == '#')) continue;
    skipping = false;
    bool dropped = false;
    for (const auto& section : edit.drop_sections) dropped = dropped || line.rfind(section, 0) == 0;
    if (dropped) {
      skipping = true;
      continue;
    }
    for (const auto& [prefix, replacement] : edit.lines) {
      if (line.rfind(prefix, 0) == 0) {
        line = replacement;
        break;
      }
    }
    out += line + "\n";
  }
  return out + edit.append;
}

pid_t StartOwnDanmud(const std::string& config_path, const std::string& log_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    FILE* f = std::freopen(log_path.c_str(), "a", stdout);
    (void)f;
    ::dup2(::fileno(stdout), 2);
    ::execl(Env("DANMUD_BIN").c_str(), "danmud", "--config", config_path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

void StopOwnDanmud(pid_t pid, int timeout_ms) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  if (!WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout_ms)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
}

pid_t SpawnGroup(const std::vector<std::string>& argv, const std::string& out_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    FILE* o = std::freopen(out_path.c_str(), "w", stdout);
    FILE* e = std::freopen((out_path + ".err").c_str(), "w", stderr);
    (void)o;
    (void)e;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (pid > 0) ::setpgid(pid, pid);  // also here: no race with a KillGroup right after
  return pid;
}

std::optional<int> WaitExit(pid_t pid, int timeout_ms) {
  int status = 0;
  if (!WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout_ms)) return std::nullopt;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void LoadThreads::Start(int n, const std::function<void(int)>& body) {
  for (int i = 0; i < n; ++i) threads_.emplace_back(body, i);
}

void LoadThreads::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void KillGroup(pid_t pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
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
