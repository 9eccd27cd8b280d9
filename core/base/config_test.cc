#include "core/base/config.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

const char* kMinimal = R"(
room: A
role: primary
http: {public_port: 17000, admin_port: 17001}
redis: {address: "127.0.0.1:17010"}
kafka: {brokers: "127.0.0.1:17020"}
)";

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  auto c = ParseConfig(kMinimal);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->room, "A");
  EXPECT_EQ(c->role, Role::kPrimary);
  EXPECT_EQ(c->http.threads, 128);
  EXPECT_EQ(c->kafka.topic, "danmu.messages");
  EXPECT_TRUE(c->Runs("frontend"));
  EXPECT_EQ(c->ha.lease_ttl_s, 5);
  EXPECT_FALSE(c->ha.auto_failover);
  EXPECT_TRUE(c->etcd.endpoints.empty());
}

// Each bad config must be refused with a message naming the key.
struct BadCase {
  std::string yaml;
  std::string key;
};

TEST(ConfigTest, BadConfigsNameTheKey) {
  std::string base = kMinimal;
  std::vector<BadCase> cases = {
      {"room: A\nrole: leader\nhttp: {public_port: 1, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b}\n", "role"},
      {"room: A\nrole: primary\nhttp: {admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b}\n", "http.public_port"},
      {"room: A\nrole: primary\nhttp: {public_port: abc, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b}\n", "http.public_port"},
      {"room: A\nrole: primary\nhttp: {public_port: 1, admin_port: 2}\nkafka: {brokers: b}\n", "redis"},
      {"room: A\nrole: primary\nhttp: {public_port: 1, admin_port: 2}\nredis: {address: 'nohostport'}\nkafka: {brokers: b}\n", "redis.address"},
      {base + "cache: {windw: 5}\n", "cache.windw"},
      {base + "web: {status_sample_ms: 10}\n", "web.status_sample_ms"},
      {base + "web: {status_history: 0}\n", "web.status_history"},
      {base + "web: {static_dir: [a]}\n", "web.static_dir"},
      {base + "web: {dir: x}\n", "web.dir"},
      {base + "components: [frontend, teleporter]\n", "components"},
      {base + "limits: {max_text_bytes: 0}\n", "limits.max_text_bytes"},
      {"room: A\nrole: secondary\nhttp: {public_port: 1, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b}\n", "peer.public_url"},
      {"room: 'A B'\nrole: primary\nhttp: {public_port: 1, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b}\n", "room"},
      {base + "ha: {lease_ttl_s: 1}\n", "ha.lease_ttl_s"},
      {base + "ha: {lease_ttl_s: 3, lease_renew_ms: 1500}\n", "ha.lease_renew_ms"},
      {base + "ha: {lease_margin_ms: 10}\n", "ha.lease_margin_ms"},
      {base + "ha: {lease_key: danmu}\n", "ha.lease_key"},
      {base + "ha: {auto_failover: maybe}\n", "ha.auto_failover"},
      {base + "etcd: {endpoints: '127.0.0.1:2379'}\n", "etcd.endpoints"},
      {base + "etcd: {endpoints: 'http://a:1,http://b'}\n", "etcd.endpoints"},
      {base + "etcd: {timeout_ms: 0}\n", "etcd.timeout_ms"},
      {"room: A\nrole: primary\nhttp: {public_port: 70000, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b}\n", "http.public_port"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find("'" + c.key + "'"), std::string::npos)
        << "message '" << r.status().message() << "' should name " << c.key;
  }
}

TEST(ConfigTest, NotYamlIsRefused) {
  auto r = ParseConfig("room: [unclosed");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("YAML"), std::string::npos);
}

TEST(ConfigTest, ExampleConfigsAreValid) {
  for (const char* f : {"config/room-a.yaml", "config/room-b.yaml"}) {
    auto r = LoadConfig(std::string(DANMU_SOURCE_DIR) + "/" + f);
    EXPECT_TRUE(r.ok()) << f << ": " << r.status().ToString();
  }
}

}  // namespace
}  // namespace danmu::core
