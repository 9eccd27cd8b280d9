// danmud: every role of danmu-ha in one binary; the config says which.
//   danmud --config FILE
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "cmd/danmud/daemon.h"
#include "core/base/config.h"
#include "core/base/log.h"

int main(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) path = argv[++i];
    else if (std::strcmp(argv[i], "--help") == 0) { std::puts("usage: danmud --config FILE"); return 0; }
    else { std::fprintf(stderr, "danmud: unknown argument %s (usage: danmud --config FILE)\n", argv[i]); return 2; }
  }
  if (path.empty()) { std::fprintf(stderr, "danmud: --config FILE is required\n"); return 2; }
  auto config = danmu::core::LoadConfig(path);
  if (!config.ok()) {
    std::fprintf(stderr, "danmud: refusing to start: %s\n", config.status().message().c_str());
    return 2;
  }
  // Block the stop signals in every thread; main waits for them below.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto daemon = danmu::cmd::Daemon::Create(std::move(*config));
  if (!daemon.ok()) {
    std::fprintf(stderr, "danmud: refusing to start: %s\n", daemon.status().message().c_str());
    return 2;
  }
  if (auto s = (*daemon)->Start(); !s.ok()) {
    std::fprintf(stderr, "danmud: start failed: %s\n", s.ToString().c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&set, &sig);
  danmu::core::LogWarn("danmud_stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*daemon)->Stop();
  danmu::core::LogInfo("danmud_stopped");
  return 0;
}
