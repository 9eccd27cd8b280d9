#include "core/base/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace danmu::core {

const char* RoleName(Role role) { return role == Role::kPrimary ? "primary" : "secondary"; }

bool Config::Runs(const std::string& component) const {
  return std::find(components.begin(), components.end(), component) != components.end();
}

namespace {

// Walks the YAML tree with the dotted path of each key, so that every error
// names the key that caused it. Unknown keys are errors too: a typo must not
// silently fall back to a default.
class Reader {
 public:
  explicit Reader(std::string* error) : error_(error) {}

  bool failed() const { return !error_->empty(); }

  void Fail(const std::string& key, const std::string& what) {
    if (error_->empty()) *error_ = "config key '" + key + "': " + what;
  }

  // Checks that `node` (a map at `prefix`) has only `allowed` keys.
  void OnlyKeys(const YAML::Node& node, const std::string& prefix, std::set<std::string> allowed) {
    if (!node) return;
    if (!node.IsMap()) { Fail(prefix.empty() ? "<root>" : prefix, "must be a mapping"); return; }
    for (const auto& kv : node) {
      auto k = kv.first.as<std::string>();
      if (!allowed.count(k)) Fail(Join(prefix, k), "unknown key");
    }
  }

  template <typename T>
  void Get(const YAML::Node& parent, const std::string& prefix, const char* key, T* out, bool required = false) {
    std::string path = Join(prefix, key);
    if (!parent || !parent[key]) {
      if (required) Fail(path, "is required");
      return;
    }
    const YAML::Node& n = parent[key];
    if (!n.IsScalar()) { Fail(path, "must be a scalar"); return; }
    try {
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      Fail(path, std::string("has the wrong type (want ") + TypeName<T>() + ", got '" + n.Scalar() + "')");
    }
  }

  static std::string Join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }

 private:
  template <typename T>
  static const char* TypeName() {
    if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) return "integer";
    else if constexpr (std::is_same_v<T, double>) return "number";
    else if constexpr (std::is_same_v<T, bool>) return "boolean";
    else return "string";
  }
  std::string* error_;
};

void ReadRedis(Reader& r, const YAML::Node& root, const char* key, RedisOptions* o, bool required) {
  const YAML::Node n = root[key];
  if (!n) {
    if (required) r.Fail(key, "is required");
    return;
  }
  r.OnlyKeys(n, key, {"address", "password", "timeout_ms"});
  r.Get(n, key, "address", &o->address, true);
  r.Get(n, key, "password", &o->password);
  r.Get(n, key, "timeout_ms", &o->timeout_ms);
}

void CheckPort(Reader& r, const std::string& key, int port) {
  if (port <= 0 || port > 65535) r.Fail(key, "must be a port number 1..65535");
}

void CheckPositive(Reader& r, const std::string& key, double v) {
  if (!(v > 0)) r.Fail(key, "must be > 0");
}

bool ValidAddress(const std::string& a) {
  auto pos = a.rfind(':');
  if (pos == std::string::npos || pos == 0 || pos + 1 >= a.size()) return false;
  return std::all_of(a.begin() + pos + 1, a.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<Config> ParseConfig(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status(Code::kInvalidArgument, std::string("config is not valid YAML: ") + e.what());
  }
  std::string error;
  Reader r(&error);
  Config c;
  r.OnlyKeys(root, "", {"room", "role", "components", "run_dir", "http", "admin", "redis", "replay_redis", "kafka",
                        "mysql", "peer", "limits", "cache", "poll", "processor", "likes", "cursor", "archive", "ha", "degrade", "probe", "etcd", "web"});
  r.Get(root, "", "room", &c.room, true);
  std::string role;
  r.Get(root, "", "role", &role, true);
  if (!r.failed()) {
    if (role == "primary") c.role = Role::kPrimary;
    else if (role == "secondary") c.role = Role::kSecondary;
    else r.Fail("role", "must be 'primary' or 'secondary', got '" + role + "'");
  }
  if (!r.failed() && (c.room.empty() || c.room.size() > 16 ||
                      !std::all_of(c.room.begin(), c.room.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_'; }))) {
    r.Fail("room", "must be 1-16 characters of [A-Za-z0-9_-]");
  }
  if (root["components"]) {
    if (!root["components"].IsSequence()) {
      r.Fail("components", "must be a list");
    } else {
      static const std::set<std::string> known = {"frontend", "processor", "archiver", "probe"};
      for (const auto& n : root["components"]) {
        auto v = n.as<std::string>();
        if (!known.count(v)) r.Fail("components", "unknown component '" + v + "' (frontend|processor|archiver|probe)");
        c.components.push_back(v);
      }
    }
  } else {
    c.components = {"frontend", "processor"};
  }
  r.Get(root, "", "run_dir", &c.run_dir);

  const YAML::Node http = root["http"];
  if (!http) r.Fail("http", "is required");
  r.OnlyKeys(http, "http", {"bind", "public_port", "admin_port", "threads", "max_queued", "keep_alive_timeout_ms",
                            "receive_timeout_ms", "max_keep_alive_requests", "max_body_bytes"});
  r.Get(http, "http", "bind", &c.http.bind);
  r.Get(http, "http", "public_port", &c.http.public_port, true);
  r.Get(http, "http", "admin_port", &c.http.admin_port, true);
  r.Get(http, "http", "threads", &c.http.threads);
  r.Get(http, "http", "max_queued", &c.http.max_queued);
  r.Get(http, "http", "keep_alive_timeout_ms", &c.http.keep_alive_timeout_ms);
  r.Get(http, "http", "receive_timeout_ms", &c.http.receive_timeout_ms);
  r.Get(http, "http", "max_keep_alive_requests", &c.http.max_keep_alive_requests);
  r.Get(http, "http", "max_body_bytes", &c.http.max_body_bytes);
  if (!r.failed()) {
    CheckPort(r, "http.public_port", c.http.public_port);
    CheckPort(r, "http.admin_port", c.http.admin_port);
    if (c.http.public_port == c.http.admin_port) r.Fail("http.admin_port", "must differ from http.public_port");
    CheckPositive(r, "http.threads", c.http.threads);
    CheckPositive(r, "http.max_body_bytes", static_cast<double>(c.http.max_body_bytes));
  }

  const YAML::Node admin = root["admin"];
  r.OnlyKeys(admin, "admin", {"token_file"});
  r.Get(admin, "admin", "token_file", &c.admin.token_file);

  ReadRedis(r, root, "redis", &c.redis, true);
  ReadRedis(r, root, "replay_redis", &c.replay_redis, false);
  if (!r.failed() && !ValidAddress(c.redis.address)) r.Fail("redis.address", "must be host:port");

  const YAML::Node kafka = root["kafka"];
  if (!kafka) r.Fail("kafka", "is required");
  r.OnlyKeys(kafka, "kafka", {"brokers", "topic", "consumer_group", "produce_timeout_ms"});
  r.Get(kafka, "kafka", "brokers", &c.kafka.brokers, true);
  r.Get(kafka, "kafka", "topic", &c.kafka.topic);
  r.Get(kafka, "kafka", "consumer_group", &c.kafka.consumer_group);
  r.Get(kafka, "kafka", "produce_timeout_ms", &c.kafka.produce_timeout_ms);

  const YAML::Node mysql = root["mysql"];
  r.OnlyKeys(mysql, "mysql", {"host", "port", "user", "password_file", "database"});
  r.Get(mysql, "mysql", "host", &c.mysql.host);
  r.Get(mysql, "mysql", "port", &c.mysql.port);
  r.Get(mysql, "mysql", "user", &c.mysql.user);
  r.Get(mysql, "mysql", "password_file", &c.mysql.password_file);
  r.Get(mysql, "mysql", "database", &c.mysql.database);

  const YAML::Node peer = root["peer"];
  r.OnlyKeys(peer, "peer", {"room", "public_url", "admin_url", "redis", "kafka"});
  r.Get(peer, "peer", "room", &c.peer.room);
  r.Get(peer, "peer", "public_url", &c.peer.public_url);
  r.Get(peer, "peer", "admin_url", &c.peer.admin_url);
  r.Get(peer, "peer", "redis", &c.peer.redis);
  r.Get(peer, "peer", "kafka", &c.peer.kafka);
  if (!r.failed() && c.role == Role::kSecondary && c.peer.public_url.empty()) {
    r.Fail("peer.public_url", "is required for a secondary room (writes are forwarded there)");
  }

  const YAML::Node limits = root["limits"];
  r.OnlyKeys(limits, "limits", {"max_text_bytes", "uid_rate_per_sec", "uid_burst", "ip_rate_per_sec", "ip_burst",
                                "max_like_burst"});
  r.Get(limits, "limits", "max_text_bytes", &c.limits.max_text_bytes);
  r.Get(limits, "limits", "uid_rate_per_sec", &c.limits.uid_rate_per_sec);
  r.Get(limits, "limits", "uid_burst", &c.limits.uid_burst);
  r.Get(limits, "limits", "ip_rate_per_sec", &c.limits.ip_rate_per_sec);
  r.Get(limits, "limits", "ip_burst", &c.limits.ip_burst);
  r.Get(limits, "limits", "max_like_burst", &c.limits.max_like_burst);

  const YAML::Node cache = root["cache"];
  r.OnlyKeys(cache, "cache", {"refresh_ms", "window", "idle_evict_ms"});
  r.Get(cache, "cache", "refresh_ms", &c.cache.refresh_ms);
  r.Get(cache, "cache", "window", &c.cache.window);
  r.Get(cache, "cache", "idle_evict_ms", &c.cache.idle_evict_ms);

  const YAML::Node poll = root["poll"];
  r.OnlyKeys(poll, "poll", {"next_poll_ms", "max_limit", "big_room_online", "big_room_limit", "online_window_ms"});
  r.Get(poll, "poll", "next_poll_ms", &c.poll.next_poll_ms);
  r.Get(poll, "poll", "max_limit", &c.poll.max_limit);
  r.Get(poll, "poll", "big_room_online", &c.poll.big_room_online);
  r.Get(poll, "poll", "big_room_limit", &c.poll.big_room_limit);
  r.Get(poll, "poll", "online_window_ms", &c.poll.online_window_ms);

  const YAML::Node proc = root["processor"];
  r.OnlyKeys(proc, "processor", {"workers", "batch_max", "batch_wait_ms", "live_cap", "unarchived_cap"});
  r.Get(proc, "processor", "workers", &c.processor.workers);
  r.Get(proc, "processor", "batch_max", &c.processor.batch_max);
  r.Get(proc, "processor", "batch_wait_ms", &c.processor.batch_wait_ms);
  r.Get(proc, "processor", "live_cap", &c.processor.live_cap);
  r.Get(proc, "processor", "unarchived_cap", &c.processor.unarchived_cap);

  const YAML::Node likes = root["likes"];
  r.OnlyKeys(likes, "likes", {"flush_ms"});
  r.Get(likes, "likes", "flush_ms", &c.likes.flush_ms);

  const YAML::Node cursor = root["cursor"];
  r.OnlyKeys(cursor, "cursor", {"secret_file"});
  r.Get(cursor, "cursor", "secret_file", &c.cursor.secret_file);

  const YAML::Node archive = root["archive"];
  r.OnlyKeys(archive, "archive", {"batch_size", "end_wait_ms", "idle_end_ms", "scan_interval_ms",
                                  "checkpoint_interval_ms", "max_attempts",
                                  "live_ttl_after_archive_s", "replay_ttl_s", "replay_max_rooms", "replay_max_limit",
                                  "replay_load_wait_ms"});
  r.Get(archive, "archive", "batch_size", &c.archive.batch_size);
  r.Get(archive, "archive", "end_wait_ms", &c.archive.end_wait_ms);
  r.Get(archive, "archive", "idle_end_ms", &c.archive.idle_end_ms);
  r.Get(archive, "archive", "scan_interval_ms", &c.archive.scan_interval_ms);
  r.Get(archive, "archive", "checkpoint_interval_ms", &c.archive.checkpoint_interval_ms);
  r.Get(archive, "archive", "max_attempts", &c.archive.max_attempts);
  r.Get(archive, "archive", "live_ttl_after_archive_s", &c.archive.live_ttl_after_archive_s);
  r.Get(archive, "archive", "replay_ttl_s", &c.archive.replay_ttl_s);
  r.Get(archive, "archive", "replay_max_rooms", &c.archive.replay_max_rooms);
  r.Get(archive, "archive", "replay_max_limit", &c.archive.replay_max_limit);
  r.Get(archive, "archive", "replay_load_wait_ms", &c.archive.replay_load_wait_ms);
  if (!r.failed()) {
    // 10922 rows x 6 placeholders stays under MariaDB's 65535 per statement.
    if (c.archive.batch_size < 1 || c.archive.batch_size > 10000) r.Fail("archive.batch_size", "must be 1..10000");
    CheckPositive(r, "archive.end_wait_ms", c.archive.end_wait_ms);
    if (c.archive.idle_end_ms < 0) r.Fail("archive.idle_end_ms", "must be >= 0 (0 = never)");
    CheckPositive(r, "archive.scan_interval_ms", c.archive.scan_interval_ms);
    CheckPositive(r, "archive.checkpoint_interval_ms", c.archive.checkpoint_interval_ms);
    CheckPositive(r, "archive.max_attempts", c.archive.max_attempts);
    if (c.archive.live_ttl_after_archive_s < 0) r.Fail("archive.live_ttl_after_archive_s", "must be >= 0 (0 = delete at once)");
    CheckPositive(r, "archive.replay_ttl_s", static_cast<double>(c.archive.replay_ttl_s));
    CheckPositive(r, "archive.replay_max_rooms", c.archive.replay_max_rooms);
    CheckPositive(r, "archive.replay_max_limit", c.archive.replay_max_limit);
    CheckPositive(r, "archive.replay_load_wait_ms", c.archive.replay_load_wait_ms);
  }

  const YAML::Node ha = root["ha"];
  r.OnlyKeys(ha, "ha", {"stale_read_fallback", "fallback_lag_seconds", "recover_lag_seconds", "recover_dwell_ms",
                        "peer_watch_ms", "lease_key", "lease_ttl_s", "lease_renew_ms", "lease_margin_ms",
                        "auto_failover", "auto_failover_max_lag_bytes", "catch_up_lookback_ms"});
  r.Get(ha, "ha", "stale_read_fallback", &c.ha.stale_read_fallback);
  r.Get(ha, "ha", "lease_key", &c.ha.lease_key);
  r.Get(ha, "ha", "lease_ttl_s", &c.ha.lease_ttl_s);
  r.Get(ha, "ha", "lease_renew_ms", &c.ha.lease_renew_ms);
  r.Get(ha, "ha", "lease_margin_ms", &c.ha.lease_margin_ms);
  r.Get(ha, "ha", "auto_failover", &c.ha.auto_failover);
  r.Get(ha, "ha", "auto_failover_max_lag_bytes", &c.ha.auto_failover_max_lag_bytes);
  r.Get(ha, "ha", "catch_up_lookback_ms", &c.ha.catch_up_lookback_ms);
  if (!r.failed()) {
    if (c.ha.lease_key.empty() || c.ha.lease_key[0] != '/') r.Fail("ha.lease_key", "must be an etcd key starting with '/'");
    if (c.ha.lease_ttl_s < 2 || c.ha.lease_ttl_s > 60) r.Fail("ha.lease_ttl_s", "must be 2..60 (seconds)");
    if (c.ha.lease_margin_ms < 100) r.Fail("ha.lease_margin_ms", "must be >= 100");
    if (c.ha.lease_renew_ms < 100 || c.ha.lease_renew_ms * 2 + c.ha.lease_margin_ms > c.ha.lease_ttl_s * 1000) {
      r.Fail("ha.lease_renew_ms", "must be >= 100 and leave room for two renewals and the margin inside the TTL "
                                  "(2 x lease_renew_ms + lease_margin_ms <= lease_ttl_s x 1000)");
    }
    if (c.ha.auto_failover_max_lag_bytes < 0) r.Fail("ha.auto_failover_max_lag_bytes", "must be >= 0");
    if (c.ha.catch_up_lookback_ms <= 0) r.Fail("ha.catch_up_lookback_ms", "must be > 0");
  }
  r.Get(ha, "ha", "fallback_lag_seconds", &c.ha.fallback_lag_seconds);
  r.Get(ha, "ha", "recover_lag_seconds", &c.ha.recover_lag_seconds);
  r.Get(ha, "ha", "recover_dwell_ms", &c.ha.recover_dwell_ms);
  r.Get(ha, "ha", "peer_watch_ms", &c.ha.peer_watch_ms);
  if (!r.failed() && c.ha.recover_lag_seconds > c.ha.fallback_lag_seconds) {
    r.Fail("ha.recover_lag_seconds", "must not exceed ha.fallback_lag_seconds (hysteresis)");
  }

  const YAML::Node etcd = root["etcd"];
  r.OnlyKeys(etcd, "etcd", {"endpoints", "timeout_ms"});
  r.Get(etcd, "etcd", "endpoints", &c.etcd.endpoints);
  r.Get(etcd, "etcd", "timeout_ms", &c.etcd.timeout_ms);
  if (!r.failed()) {
    CheckPositive(r, "etcd.timeout_ms", c.etcd.timeout_ms);
    std::stringstream list(c.etcd.endpoints);
    for (std::string e; std::getline(list, e, ',');) {
      if (e.rfind("http://", 0) != 0 || !ValidAddress(e.substr(7))) {
        r.Fail("etcd.endpoints", "entry '" + e + "' is not http://host:port");
        break;
      }
    }
  }

  const YAML::Node probe = root["probe"];
  r.OnlyKeys(probe, "probe", {"interval_ms", "timeout_ms"});
  r.Get(probe, "probe", "interval_ms", &c.probe.interval_ms);
  r.Get(probe, "probe", "timeout_ms", &c.probe.timeout_ms);

  const YAML::Node web = root["web"];
  r.OnlyKeys(web, "web", {"static_dir", "status_sample_ms", "status_history"});
  r.Get(web, "web", "static_dir", &c.web.static_dir);
  r.Get(web, "web", "status_sample_ms", &c.web.status_sample_ms);
  r.Get(web, "web", "status_history", &c.web.status_history);
  if (!r.failed() && (c.web.status_sample_ms < 200 || c.web.status_sample_ms > 60000)) {
    r.Fail("web.status_sample_ms", "must be 200..60000");
  }
  if (!r.failed() && (c.web.status_history < 1 || c.web.status_history > 10000)) {
    r.Fail("web.status_history", "must be 1..10000");
  }

  const YAML::Node dg = root["degrade"];
  r.OnlyKeys(dg, "degrade", {"thin_limit", "thin_room_online", "backoff_step_ms", "backoff_max_ms", "default_for_s",
                             "watch_ms", "auto", "eval_ms", "dwell_ms", "lower_ratio", "kafka_lag_seconds",
                             "redis_latency_ms", "replication_lag_seconds", "in_flight_requests"});
  r.Get(dg, "degrade", "thin_limit", &c.degrade.thin_limit);
  r.Get(dg, "degrade", "thin_room_online", &c.degrade.thin_room_online);
  r.Get(dg, "degrade", "backoff_step_ms", &c.degrade.backoff_step_ms);
  r.Get(dg, "degrade", "backoff_max_ms", &c.degrade.backoff_max_ms);
  r.Get(dg, "degrade", "default_for_s", &c.degrade.default_for_s);
  r.Get(dg, "degrade", "watch_ms", &c.degrade.watch_ms);
  r.Get(dg, "degrade", "auto", &c.degrade.auto_enabled);
  r.Get(dg, "degrade", "eval_ms", &c.degrade.eval_ms);
  r.Get(dg, "degrade", "dwell_ms", &c.degrade.dwell_ms);
  r.Get(dg, "degrade", "lower_ratio", &c.degrade.lower_ratio);
  for (auto [key, out] : std::vector<std::pair<const char*, std::vector<double>*>>{
           {"kafka_lag_seconds", &c.degrade.kafka_lag_seconds}, {"redis_latency_ms", &c.degrade.redis_latency_ms},
           {"replication_lag_seconds", &c.degrade.replication_lag_seconds},
           {"in_flight_requests", &c.degrade.in_flight_requests}}) {
    if (!dg || !dg[key]) continue;
    std::string path = std::string("degrade.") + key;
    if (!dg[key].IsSequence() || dg[key].size() != 3) {
      r.Fail(path, "must be a list of 3 raise thresholds (levels 1, 2, 3)");
      continue;
    }
    out->clear();
    try {
      for (const auto& n : dg[key]) out->push_back(n.as<double>());
    } catch (const YAML::Exception&) {
      r.Fail(path, "must hold numbers");
    }
    if (out->size() == 3 && !((*out)[0] <= (*out)[1] && (*out)[1] <= (*out)[2])) r.Fail(path, "must be ascending");
  }
  if (!r.failed() && (c.degrade.lower_ratio <= 0 || c.degrade.lower_ratio >= 1)) {
    r.Fail("degrade.lower_ratio", "must be between 0 and 1 (exclusive)");
  }

  if (!r.failed()) {
    CheckPositive(r, "degrade.thin_limit", c.degrade.thin_limit);
    CheckPositive(r, "degrade.backoff_max_ms", c.degrade.backoff_max_ms);
    CheckPositive(r, "degrade.watch_ms", c.degrade.watch_ms);
    CheckPositive(r, "limits.max_text_bytes", c.limits.max_text_bytes);
    CheckPositive(r, "limits.uid_rate_per_sec", c.limits.uid_rate_per_sec);
    CheckPositive(r, "limits.uid_burst", c.limits.uid_burst);
    CheckPositive(r, "limits.max_like_burst", c.limits.max_like_burst);
    CheckPositive(r, "cache.refresh_ms", c.cache.refresh_ms);
    CheckPositive(r, "cache.window", c.cache.window);
    CheckPositive(r, "poll.next_poll_ms", c.poll.next_poll_ms);
    CheckPositive(r, "poll.max_limit", c.poll.max_limit);
    CheckPositive(r, "poll.big_room_limit", c.poll.big_room_limit);
    CheckPositive(r, "processor.workers", c.processor.workers);
    CheckPositive(r, "processor.batch_max", c.processor.batch_max);
    CheckPositive(r, "processor.live_cap", c.processor.live_cap);
    CheckPositive(r, "likes.flush_ms", c.likes.flush_ms);
    if (c.cache.window > c.processor.live_cap) r.Fail("cache.window", "must not exceed processor.live_cap");
    if (c.processor.unarchived_cap != 0 && c.processor.unarchived_cap < c.processor.live_cap) {
      r.Fail("processor.unarchived_cap", "must be 0 (no archiver) or at least processor.live_cap");
    }
  }
  if (r.failed()) return Status(Code::kInvalidArgument, error);
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(Code::kNotFound, "cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str());
}

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(Code::kNotFound, "cannot read secret file " + path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  if (s.empty()) return Status(Code::kInvalidArgument, "secret file " + path + " is empty");
  return s;
}

}  // namespace danmu::core
