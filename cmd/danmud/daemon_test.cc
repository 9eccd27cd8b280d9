// Daemon wiring refusals that need no running service.
#include "cmd/danmud/daemon.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/base/config.h"

namespace danmu::cmd {
namespace {

// An archiver-only danmud whose MySQL cannot be reached refuses to start
// with a Status from the daemon (it used to std::exit from Start, with the
// role controller's and the degradation watcher's threads running).
TEST(DaemonTest, ArchiverOnlyProcessWithoutMysqlRefusesWithAStatus) {
  auto dir = std::filesystem::temp_directory_path() / "danmud-daemon-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto config = core::ParseConfig("room: A\nrole: primary\ncomponents: [archiver]\nrun_dir: " + dir.string() +
                                  "\nhttp: {public_port: 1, admin_port: 2}\n"
                                  "redis: {address: '127.0.0.1:1', timeout_ms: 200}\n"
                                  "kafka: {brokers: '127.0.0.1:1'}\n"
                                  "mysql: {host: 127.0.0.1, port: 1}\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto daemon = Daemon::Create(*config);
  ASSERT_FALSE(daemon.ok()) << "an archiver that cannot reach MySQL must refuse before anything starts";
  EXPECT_NE(daemon.status().message().find("archiver"), std::string::npos) << daemon.status().ToString();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace danmu::cmd
