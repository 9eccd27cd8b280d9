#include "core/base/config.h"
#include "core/base/config_keys.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace danmu::core {
namespace {

const char* kMinimal = R"(
room: A
role: primary
http: {public_port: 17000, admin_port: 17001}
redis: {address: "127.0.0.1:17010"}
replay_redis: {address: "127.0.0.1:17012"}
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
      {base + "processor: {batch_max: 500, batch_ceiling: 100}\n", "processor.batch_ceiling"},
      {base + "processor: {batch_ceiling_bytes: 10}\n", "processor.batch_ceiling_bytes"},
      {"room: A\nrole: primary\nhttp: {public_port: 1, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b, session_timeout_ms: 10}\n", "kafka.session_timeout_ms"},
      {"room: A\nrole: primary\nhttp: {public_port: 1, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b, metadata_refresh_ms: 0}\n", "kafka.metadata_refresh_ms"},
      {base + "push: {queue_max_bytes: 0}\n", "push.queue_max_bytes"},
      {base + "push: {broadcast_at: 10, notify_pull_below: 20}\n", "push.notify_pull_below"},
      {base + "push: {ping_interval_ms: 5000, idle_timeout_ms: 5000}\n", "push.idle_timeout_ms"},
      {base + "push: {broadcst_at: 5}\n", "push.broadcst_at"},
      {base + "edge: {max_connections: 1000, max_connections_per_address: 100}\npush: {max_connections: 1001, max_connections_per_address: 100}\n", "push.max_connections"},
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
      {base + "routing: {edge_ttl_s: 2, register_interval_ms: 1500}\n", "routing.register_interval_ms"},
      {"room: A\nrole: primary\nhttp: {bind: 0.0.0.0, public_port: 1, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b}\n", "routing.advertise_url"},
      {base + "routing: {prefix: danmu}\n", "routing.prefix"},
      {base + "edge: {gzip: {level: 0}}\n", "edge.gzip.level"},
      {base + "edge: {gzip: {level: 10}}\n", "edge.gzip.level"},
      {base + "edge: {gzip: {level: fast}}\n", "edge.gzip.level"},
      {base + "edge: {gzip: {levl: 6}}\n", "edge.gzip.levl"},
      {base + "edge: {gzip: {min_bytes: -1}}\n", "edge.gzip.min_bytes"},
      {base + "edge: {gzip: on_please}\n", "edge.gzip"},
      {base + "edge: {gzp: {level: 6}}\n", "edge.gzp"},
      {base + "routing: {max_endpoints: 0}\n", "routing.max_endpoints"},
      {"room: A\nrole: primary\nhttp: {public_port: 70000, admin_port: 2}\nredis: {address: 'h:1'}\nkafka: {brokers: b}\n", "http.public_port"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find("'" + c.key + "'"), std::string::npos)
        << "message '" << r.status().message() << "' should name " << c.key;
  }
}

// Sets the dotted `key` (any depth: edge.gzip.level) under `node`.
void SetDotted(YAML::Node node, const std::string& key, const YAML::Node& value) {
  auto dot = key.find('.');
  if (dot == std::string::npos) {
    node[key] = value;
    return;
  }
  SetDotted(node[key.substr(0, dot)], key.substr(dot + 1), value);
}

// Is the dotted `key` present under `node`?
bool HasDotted(const YAML::Node& node, const std::string& key) {
  if (!node.IsMap()) return false;
  auto dot = key.find('.');
  if (dot == std::string::npos) return bool(node[key]);
  return HasDotted(node[key.substr(0, dot)], key.substr(dot + 1));
}

// kMinimal with `key` (dotted, any depth) set to the YAML `value`.
std::string With(const std::string& key, const std::string& value) {
  YAML::Node root = YAML::Load(kMinimal);
  SetDotted(root, key, YAML::Load(value));
  YAML::Emitter out;
  out << root;
  return out.c_str();
}

void ExpectRefused(const std::string& key, const std::string& value) {
  auto r = ParseConfig(With(key, value));
  ASSERT_FALSE(r.ok()) << key << ": " << value << " was accepted";
  EXPECT_NE(r.status().message().find("'" + key + "'"), std::string::npos)
      << "message '" << r.status().message() << "' should name " << key;
}

// processor.workers sizes fixed per-worker arrays: beyond their size it must
// not start (it used to write past them).
TEST(ConfigTest, ProcessorWorkersIsBounded) {
  ExpectRefused("processor.workers", "65");
  ExpectRefused("processor.workers", "0");
  auto ok = ParseConfig(With("processor.workers", std::to_string(kMaxProcessorWorkers)));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->processor.workers, kMaxProcessorWorkers);
}

// Limits that used to be accepted although they break the daemon: intervals
// of 0 spin their loop, a manual switch of 0 s expires as it is set, a
// timeout of 0 fails every call, a component that is not a name crashed.
TEST(ConfigTest, LimitsThatWereNotCheckedAreRefused) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"ha.peer_watch_ms", "0"}, {"degrade.default_for_s", "0"}, {"degrade.eval_ms", "0"},
           {"redis.timeout_ms", "0"}, {"kafka.produce_timeout_ms", "-1"}, {"mysql.port", "0"},
           {"limits.ip_burst", "0"}, {"poll.max_limit", "100000"}, {"probe.interval_ms", "0"},
           {"http.max_queued", "0"}, {"cache.idle_evict_ms", "0"}, {"processor.batch_wait_ms", "-5"},
           {"replay_redis.address", "nohostport"}, {"components", "[{a: b}]"},
           {"degrade.kafka_lag_seconds", "[-1, 2, 3]"}, {"ha.fallback_lag_seconds", ".nan"}}) {
    ExpectRefused(key, value);
  }
}

// host:port is a host and a port 1..65535, the whole of the text after the
// last ':' a decimal number (one parser for every integer: core/base/parse_int.h).
TEST(ConfigTest, AddressesAreHostAndPort) {
  for (const char* bad : {"\"h:\"", "\":80\"", "\"h:-1\"", "\"h:0\"", "\"h:65536\"", "\"h:80x\"", "\"h: 80\"",
                          "\"h:+80\"", "\"h:99999999999999999999\""}) {
    ExpectRefused("redis.address", bad);
  }
  auto ok = ParseConfig(With("redis.address", "\"127.0.0.1:65535\""));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->redis.address, "127.0.0.1:65535");
}

// Every key of the tables with a limit: the values just outside it are
// refused with the key's name; the defaults lie inside.
TEST(ConfigTest, EveryLimitIsRangeChecked) {
  int checked = 0;
  for (const auto& k : ConfigReference()) {
    for (const auto& v : k.outside) {
      ExpectRefused(k.key, v);
      ++checked;
    }
    if (!k.range.empty() && k.outside.empty()) ADD_FAILURE() << k.key << " has a range but no value outside it";
  }
  EXPECT_GT(checked, 100);
}

// Every default, written out and read back, is accepted and stays the same.
TEST(ConfigTest, DefaultsParseBackToThemselves) {
  YAML::Node root = YAML::Load(kMinimal);
  for (const auto& k : ConfigReference()) {
    if (k.required) continue;
    SetDotted(root, k.key, YAML::Load(k.value));
  }
  YAML::Emitter out;
  out << root;
  auto c = ParseConfig(out.c_str());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto want = ConfigReference(), got = ConfigReference(*c);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i].required) {
      EXPECT_EQ(got[i].value, want[i].value) << want[i].key;
    }
  }
}

// config/room-*.yaml document every key (README: "every key is listed").
TEST(ConfigTest, ShippedConfigsListEveryKey) {
  for (const char* f : {"config/room-a.yaml", "config/room-b.yaml"}) {
    YAML::Node root = YAML::LoadFile(std::string(DANMU_SOURCE_DIR) + "/" + f);
    for (const auto& k : ConfigReference()) {
      EXPECT_TRUE(HasDotted(root, k.key)) << f << " does not list " << k.key << " (" << k.comment << ")";
    }
  }
}

// A section inside a section (edge.gzip): read into its own struct, the
// outer section's keys unaffected, the defaults kept where nothing is said.
TEST(ConfigTest, NestedEdgeGzipSectionIsRead) {
  auto d = ParseConfig(kMinimal);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->edge.gzip.enabled);
  EXPECT_EQ(d->edge.gzip.min_bytes, 1024);
  EXPECT_EQ(d->edge.gzip.level, 6);
  auto c = ParseConfig(std::string(kMinimal) + "edge: {io_threads: 3, gzip: {enabled: false, min_bytes: 0, level: 9}}\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->edge.gzip.enabled);
  EXPECT_EQ(c->edge.gzip.min_bytes, 0);
  EXPECT_EQ(c->edge.gzip.level, 9);
  EXPECT_EQ(c->edge.io_threads, 3);
  auto only_level = ParseConfig(std::string(kMinimal) + "edge: {gzip: {level: 1}}\n");
  ASSERT_TRUE(only_level.ok()) << only_level.status().ToString();
  EXPECT_TRUE(only_level->edge.gzip.enabled);
  EXPECT_EQ(only_level->edge.gzip.level, 1);
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
