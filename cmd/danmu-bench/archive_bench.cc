// danmu-bench archive: archive throughput against MySQL's own ceiling.
//
// Seeds one live room in live Redis through the processor's apply script
// (80% comments, 10% gifts, 10% joins), then measures, on the same rows:
//   baseline: the same (msg_id, live_room, type, ts_ms, uid, payload) rows
//             inserted straight into archived_messages with the archiver's
//             statement shape (prepared multi-row INSERT IGNORE, same batch
//             size) under another live room id: what MySQL alone can take;
//   danmu-ha: Archiver::ArchiveRoom of the live room (Redis reads, id and
//             uid extraction, INSERT IGNORE, count verification, release).
// Prints "<archiver rows/s> <baseline rows/s>" and deletes its rows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cmd/danmu-bench/bench_flags.h"
#include "core/archive/archiver.h"
#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/base/parse_int.h"
#include "core/live/live_writer.h"
#include "core/model/message.h"
#include "core/store/mysql_client.h"
#include "core/store/redis_client.h"

namespace danmu::bench {
namespace {

using core::MessageType;

// mysql://user[:password]@host:port/database (the password comes from a
// file); false for anything else.
bool ParseDsn(const std::string& dsn, core::MysqlOptions* o) {
  const std::string scheme = "mysql://";
  if (dsn.rfind(scheme, 0) != 0) return false;
  const std::string rest = dsn.substr(scheme.size());
  const auto at = rest.rfind('@');
  const auto slash = at == std::string::npos ? std::string::npos : rest.find('/', at);
  if (at == std::string::npos || at == 0 || slash == std::string::npos || slash + 1 == rest.size()) return false;
  const std::string hostport = rest.substr(at + 1, slash - at - 1);
  const auto colon = hostport.rfind(':');
  int64_t port = 0;
  if (colon == std::string::npos || colon == 0 || !core::ParseInt64(hostport.substr(colon + 1), &port) || port < 1 ||
      port > 65535) {
    return false;
  }
  o->user = rest.substr(0, std::min(rest.find(':'), at));
  o->host = hostport.substr(0, colon);
  o->port = static_cast<int>(port);
  o->database = rest.substr(slash + 1);
  return true;
}

std::vector<core::Message> Messages(const std::string& room, int rows) {
  std::vector<core::Message> msgs;
  msgs.reserve(rows);
  const int64_t now = core::SystemClock::Instance().NowMs();
  for (int i = 0; i < rows; ++i) {
    core::Message m;
    int kind = i % 10;
    m.type = kind < 8 ? MessageType::kComment : kind == 8 ? MessageType::kGift : MessageType::kJoin;
    m.id = room + "-" + std::to_string(i);
    m.live_room = room;
    m.uid = "u" + std::to_string(i % 997);
    m.ingest_ms = now;
    if (m.type == MessageType::kGift) {
      m.gift = core::Gift{"rose", 1 + i % 5};
    } else {
      m.text = "benchmark message number " + std::to_string(i) + " with some ordinary text";
    }
    msgs.push_back(std::move(m));
  }
  return msgs;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int ArchiveBench(BenchFlags& f) {
  core::Config config;
  config.redis.address = f.Required("redis");
  config.redis.timeout_ms = 10000;
  const std::string dsn = f.Required("mysql-dsn");
  config.mysql.password_file = f.Required("password-file");
  if (f.ok() && !ParseDsn(dsn, &config.mysql)) f.Fail("--mysql-dsn must be mysql://user@host:port/database, got '" + dsn + "'");
  config.archive.batch_size = f.Int("batch", 500, 1, 100000);
  config.archive.live_ttl_after_archive_s = 0;
  const int rows = f.Int("rows", 50000, 1, 10000000);
  if (!f.ok()) return f.UsageError("archive");
  const std::string tag = std::to_string(core::SystemClock::Instance().NowMs());
  const std::string room = "bench-archive-" + tag, base_room = "bench-archive-base-" + tag;

  // Seed the live room (type-homogeneous batches, as the processor applies).
  core::RedisClient redis(config.redis, "live", nullptr);
  auto msgs = Messages(room, rows);
  std::map<MessageType, std::pair<std::vector<core::Message>, std::vector<std::string>>> by_type;
  for (const auto& m : msgs) {
    auto& g = by_type[m.type];
    g.first.push_back(m);
    g.second.push_back(core::EncodePayload(m));
  }
  std::vector<core::RedisArgs> calls;
  for (auto& [type, g] : by_type) {
    for (size_t i = 0; i < g.first.size(); i += 500) {
      size_t end = std::min(g.first.size(), i + 500);
      std::vector<core::Message> b(g.first.begin() + i, g.first.begin() + end);
      std::vector<std::string> p(g.second.begin() + i, g.second.begin() + end);
      calls.push_back(core::BuildApplyCall(b, p, 1, rows + 1));
    }
  }
  auto applied = redis.EvalPipeline(core::ApplyScript(), calls);
  if (!applied.ok()) {
    std::fprintf(stderr, "archive bench: seeding live Redis: %s\n", applied.status().ToString().c_str());
    return 1;
  }
  for (const auto& r : *applied) {
    if (auto o = core::ParseApplyReply(r); !o.ok()) {
      std::fprintf(stderr, "archive bench: seeding live Redis: %s\n", o.status().ToString().c_str());
      return 1;
    }
  }

  // Baseline: the same rows straight into MySQL, same statement shape.
  auto db = core::MysqlClient::Connect(config.mysql);
  if (!db.ok()) {
    std::fprintf(stderr, "archive bench: %s\n", db.status().ToString().c_str());
    return 1;
  }
  const size_t batch = static_cast<size_t>(config.archive.batch_size);
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < msgs.size(); i += batch) {
    size_t end = std::min(msgs.size(), i + batch);
    std::string sql = "INSERT IGNORE INTO archived_messages (msg_id, live_room, type, ts_ms, uid, payload) VALUES ";
    std::vector<core::SqlParam> params;
    for (size_t j = i; j < end; ++j) {
      const core::Message& m = msgs[j];
      sql.append(j == i ? "(?,?,?,?,?,?)" : ",(?,?,?,?,?,?)");
      params.emplace_back("base-" + m.id);
      params.emplace_back(base_room);
      params.emplace_back(core::TypeName(m.type));
      params.emplace_back(static_cast<int64_t>(j));
      params.emplace_back(m.uid);
      params.emplace_back(core::EncodePayload(m));
    }
    if (auto n = (*db)->Execute(sql, params); !n.ok()) {
      std::fprintf(stderr, "archive bench: baseline insert: %s\n", n.status().ToString().c_str());
      return 1;
    }
  }
  const double base_s = Seconds(t0);

  // danmu-ha: the archiver on the live room.
  core::ArchiverHooks hooks;
  hooks.active = [] { return true; };
  auto archiver = core::Archiver::Create(config, hooks, core::SystemClock::Instance(), nullptr);
  if (!archiver.ok()) {
    std::fprintf(stderr, "archive bench: %s\n", archiver.status().ToString().c_str());
    return 1;
  }
  core::ArchiveReport report = (*archiver)->ArchiveRoom(room, /*wait_for_end=*/false);
  int rc = 0;
  if (report.result != "ok" || report.rows() != rows) {
    std::fprintf(stderr, "archive bench: archive %s (%lld of %d rows): %s\n", report.result.c_str(),
                 static_cast<long long>(report.rows()), rows, report.error.c_str());
    rc = 1;
  } else {
    std::printf("%.0f %.0f\n", rows / report.seconds, rows / base_s);
  }
  for (const std::string& r : {room, base_room}) {
    (void)(*db)->Execute("DELETE FROM archived_messages WHERE live_room = ?", {r});
    (void)(*db)->Execute("DELETE FROM archived_rooms WHERE live_room = ?", {r});
  }
  return rc;
}

}  // namespace danmu::bench
