// The real parts work from C++: Redis replication A -> B, Kafka keyed
// partitioning, MariaDB through Connector/C++, and danmud serving its admin
// port. Runs against the stack started by scripts/test.
#include <gtest/gtest.h>

#include <Poco/Checksum.h>

#include <set>

#include "core/base/config.h"
#include "core/store/kafka_consumer.h"
#include "core/store/kafka_producer.h"
#include "core/store/mysql_client.h"
#include "core/store/redis_client.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::WaitFor;

core::RedisOptions Redis(const char* env) {
  core::RedisOptions o;
  o.address = Env(env);
  return o;
}

TEST(PlatformTest, RedisWriteInRoomAIsReadInRoomB) {
  core::RedisClient a(Redis("REDIS_A"), "live", nullptr);
  core::RedisClient b(Redis("REDIS_B"), "peer", nullptr);
  std::string value = "v" + std::to_string(::getpid());
  auto w = a.Command({"SET", "platform:test", value});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE(WaitFor([&] {
    auto r = b.Command({"GET", "platform:test"});
    return r.ok() && r->str == value;
  }, 10000)) << "the write never reached the replica";
  auto role = b.Command({"ROLE"});
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(role->elements.at(0).str, "slave");
  auto refused = b.Command({"SET", "platform:test", "x"});
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(refused->is_error()) << "the replica must be read-only";
}

// librdkafka's default partitioner (consistent_random): CRC32(key) % partitions.
int ExpectedPartition(const std::string& key, int partitions) {
  Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
  crc.update(key.data(), static_cast<unsigned>(key.size()));
  return static_cast<int>(crc.checksum() % static_cast<uint32_t>(partitions));
}

TEST(PlatformTest, KafkaRecordKeyedByRoomAndTypeLandsOnItsPartition) {
  core::KafkaOptions o;
  o.brokers = Env("KAFKA_A");
  o.topic = Env("KAFKA_TOPIC");
  o.consumer_group = "platform-test-" + std::to_string(::getpid());
  const int partitions = std::stoi(Env("KAFKA_PARTITIONS"));
  auto producer = core::KafkaProducer::Create(o, nullptr);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  std::vector<std::string> keys = {"platformroom1:comment", "platformroom1:gift", "platformroom2:comment"};
  std::string marker = "platform-" + std::to_string(::getpid());
  for (const auto& k : keys) {
    for (int i = 0; i < 3; ++i) {
      auto s = (*producer)->Produce(k, marker + "|" + k + "|" + std::to_string(i));
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  auto consumer = core::KafkaConsumer::Create(o, "platform-test");
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  std::map<std::string, std::set<int>> seen;
  int found = 0;
  ASSERT_TRUE(WaitFor([&] {
    for (auto& r : (*consumer)->PollBatch(500, 200)) {
      if (r.value.rfind(marker + "|", 0) != 0) continue;
      seen[r.key].insert(r.partition);
      ++found;
    }
    return found == 9;
  }, 30000)) << "consumed " << found << " of 9 records";
  for (const auto& k : keys) {
    ASSERT_EQ(seen[k].size(), 1u) << k << " must stay on one partition";
    EXPECT_EQ(*seen[k].begin(), ExpectedPartition(k, partitions)) << k;
  }
}

TEST(PlatformTest, MariaDbStatementThroughConnectorCpp) {
  std::string dsn = Env("MYSQL_DSN");  // mysql://user:pass@host:port/db
  core::MysqlOptions o;
  auto at = dsn.find('@');
  auto colon = dsn.find(':', 8);
  o.user = dsn.substr(8, colon - 8);
  std::string pw = dsn.substr(colon + 1, at - colon - 1);
  auto hostport = dsn.substr(at + 1, dsn.find('/', at) - at - 1);
  o.host = hostport.substr(0, hostport.find(':'));
  o.port = std::stoi(hostport.substr(hostport.find(':') + 1));
  o.database = dsn.substr(dsn.rfind('/') + 1);
  o.password_file = Env("DANMU_RUN_DIR") + "/mysql.password";
  auto db = core::MysqlClient::Connect(o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto v = (*db)->SchemaVersion();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_GE(*v, core::kRequiredSchemaVersion);
  ASSERT_TRUE((*db)->Execute("CREATE TEMPORARY TABLE t (s VARCHAR(64)) CHARSET utf8mb4").ok());
  std::string hostile = std::string("'; DROP TABLE t; -- 😀 \\ \" ") + std::string(1, '\0') + "end";
  ASSERT_TRUE((*db)->Execute("INSERT INTO t VALUES (?)", {hostile}).ok());
  auto rows = (*db)->Query("SELECT s FROM t");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().front(), hostile) << "stored and returned byte-for-byte";
  EXPECT_NE(pw, "");
}

TEST(PlatformTest, DanmudServesHealthAndMetricsInBothRooms) {
  for (const char* env : {"DANMU_A_ADMIN", "DANMU_B_ADMIN"}) {
    auto h = testing::Get(Env(env) + "/healthz");
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(h->status, 200);
    auto m = testing::Get(Env(env) + "/metrics");
    ASSERT_TRUE(m.ok());
    EXPECT_NE(m->body.find("danmu_build_info{"), std::string::npos);
    EXPECT_NE(m->body.find("process_resident_memory_bytes"), std::string::npos);
    EXPECT_NE(m->body.find("danmu_role{"), std::string::npos);
  }
  auto a = testing::Get(Env("DANMU_A_ADMIN") + "/healthz");
  EXPECT_NE(a->body.find("\"role\":\"primary\""), std::string::npos) << a->body;
  auto b = testing::Get(Env("DANMU_B_ADMIN") + "/healthz");
  EXPECT_NE(b->body.find("\"role\":\"secondary\""), std::string::npos) << b->body;
}

}  // namespace
}  // namespace danmu
