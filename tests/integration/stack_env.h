#pragma once
// Helpers for integration tests against the real stack started by
// scripts/test: addresses from the environment (run/<...>/stack.env), HTTP
// calls, bounded waits with a failure message, and process control of the
// stack's danmud processes (pid files under DANMU_RUN_DIR/pids).
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/http/http_client.h"

namespace danmu::testing {

// The value of an env var set by the test command; the test fails (not
// skips) when it is missing: integration tests must run against the stack.
std::string Env(const char* name);

// Waits until `cond` holds, polling every 20 ms, at most `timeout_ms`.
// Returns false on timeout; callers ASSERT on it with a message.
bool WaitFor(const std::function<bool()>& cond, int timeout_ms);

core::Result<core::HttpResponse> Get(const std::string& url, int timeout_ms = 5000);
core::Result<core::HttpResponse> Post(const std::string& url, const std::string& body, int timeout_ms = 10000,
                                      const std::string& content_type = "application/json");
std::string AdminToken();
// Runs a shell command, captures its stdout into *out; returns the exit code
// (-1 when it could not run).
int RunCapture(const std::string& command, std::string* out);
// danmuctl of this build with the stack's env file, plus `args`.
std::string Danmuctl(const std::string& args);
// POST to an admin URL with the stack's bearer token (without it when
// `with_token` is false: the 401 path).
core::Result<core::HttpResponse> AdminPost(const std::string& url, const std::string& body, bool with_token = true,
                                           int timeout_ms = 30000);
// The value of one exact series (name{labels}) in the /metrics of the danmud
// whose admin URL is in env `admin_env`: 0 when absent, -1 when unreachable.
double MetricSample(const char* admin_env, const std::string& series);

// Process control for the stack's danmud processes ("danmud-a", "danmud-b").
int PidOf(const std::string& name);
void KillHard(const std::string& name);           // SIGKILL and wait until gone
void StartDanmud(const std::string& name);        // same config as scripts/stack
bool Healthy(const std::string& admin_url);
// Room B's danmud started again (and waited for, bounded) when this goes
// out of scope while `needed`: a test that killed it and failed before its
// own restart hands the stack on whole.
struct RestartDanmudBOnExit {
  bool needed = false;
  ~RestartDanmudBOnExit();
};
// A test's load threads: Start(n, body) runs body(i) on thread i, which
// loops while running(). Stop() ends and joins them; the destructor does so
// on every other exit path (a failed ASSERT returns from the test while they
// still run, and a joinable std::thread would abort the process).
class LoadThreads {
 public:
  LoadThreads() = default;
  LoadThreads(const LoadThreads&) = delete;
  LoadThreads& operator=(const LoadThreads&) = delete;
  ~LoadThreads() { Stop(); }
  void Start(int n, const std::function<void(int)>& body);
  bool running() const { return !stop_.load(); }
  void Stop();

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};
// The value of one exact series (name{labels}, the constant label room first,
// then the others sorted) in the /metrics at `admin_url`; nullopt when the
// series is absent or the server does not answer (a misspelt series must
// not read as 0).
std::optional<double> Series(const std::string& admin_url, const std::string& series);

std::string ReadFile(const std::string& path);

// A test's own danmud beside the stack's (its own ports, run dir and caps):
// its YAML is a stack room's config file (DANMU_RUN_DIR/config/room-x.yaml)
// edited; it runs in its own session, output to `log_path`.
struct YamlEdit {
  std::vector<std::pair<std::string, std::string>> lines;  // a line starting with .first becomes .second
  std::vector<std::string> drop_sections;  // top-level sections ("push:") removed with their block...
  std::string append;                      // ...and this text appended (their replacements)
};
std::string EditYaml(const std::string& base_yaml, const YamlEdit& edit);
pid_t StartOwnDanmud(const std::string& config_path, const std::string& log_path);
void StopOwnDanmud(pid_t pid, int timeout_ms = 20000);  // SIGTERM, then SIGKILL after the timeout

// A helper program (a load client) in its own process group, stdout to
// `out_path`, stderr to `out_path`.err; KillGroup ends it and its children.
pid_t SpawnGroup(const std::vector<std::string>& argv, const std::string& out_path);
// Its exit status once it exits within `timeout_ms`; nullopt when it did not
// (it is still running then).
std::optional<int> WaitExit(pid_t pid, int timeout_ms);
void KillGroup(pid_t pid);

// Last lines of every log in the run dir, merged by time (for failure output).
std::string MergedLogs(int lines_per_file = 60);

}  // namespace danmu::testing
