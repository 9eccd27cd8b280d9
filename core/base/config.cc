#include "core/base/config.h"

#include <yaml-cpp/yaml.h>

#include "core/base/config_keys.h"
#include "core/base/parse_int.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <iomanip>
#include <limits>
#include <memory>
#include <set>
#include <sstream>

namespace danmu::core {

const char* RoleName(Role role) { return role == Role::kPrimary ? "primary" : "secondary"; }

bool Config::Runs(const std::string& component) const {
  return std::find(components.begin(), components.end(), component) != components.end();
}

namespace {

// How ParseConfig reads the YAML (config_keys.h): one table per section
// (below), each key named once with where it lands, its range and its
// comment; its default is the options struct's initializer, so a key read
// from nowhere keeps it. Every error names the dotted key that caused it, and
// unknown keys are errors too: a typo must not silently fall back to a
// default. After the tables, one cross-field pass (Validate) checks what
// spans keys.

class Reader {
 public:
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  void Fail(const std::string& key, const std::string& what) {
    if (error_.empty()) error_ = "config key '" + key + "': " + what;
  }

  template <typename T>
  bool Scalar(const YAML::Node& n, const std::string& path, T* out) {
    if (!n.IsScalar()) { Fail(path, "must be a scalar"); return false; }
    try {
      *out = n.as<T>();
      return true;
    } catch (const YAML::Exception&) {
      Fail(path, std::string("has the wrong type (want ") + TypeName<T>() + ", got '" + n.Scalar() + "')");
      return false;
    }
  }

 private:
  template <typename T>
  static const char* TypeName() {
    if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) return "integer";
    else if constexpr (std::is_same_v<T, double>) return "number";
    else if constexpr (std::is_same_v<T, bool>) return "boolean";
    else return "string";
  }
  std::string error_;
};

std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string Show(int v) { return std::to_string(v); }
std::string Show(int64_t v) { return std::to_string(v); }
std::string Show(bool v) { return v ? "true" : "false"; }
std::string Show(const std::string& v) { return "\"" + v + "\""; }
std::string Show(double v) {
  std::ostringstream o;
  o << std::setprecision(15) << v;
  return o.str();
}
std::string Show(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + Show(v[i]);
  return s + "]";
}
std::string Show(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s + "]";
}

// A numeric range; `lo_open` excludes the lower bound (rates, ratios).
template <typename T>
struct Range {
  T lo, hi;
  bool lo_open = false;
  bool hi_open = false;
  bool Contains(T v) const {
    return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  // Values just outside, as YAML text (int64 arithmetic: no overflow).
  std::vector<std::string> Outside() const {
    if constexpr (std::is_integral_v<T>) {
      return {std::to_string(static_cast<int64_t>(lo) - (lo_open ? 0 : 1)),
              std::to_string(static_cast<int64_t>(hi) + (hi_open ? 0 : 1))};
    } else {
      return {Show(lo_open ? lo : lo - 1), Show(hi_open ? hi : hi + 1)};
    }
  }
  std::string Text() const {
    if (!lo_open && !hi_open) return Show(lo) + ".." + Show(hi);
    return std::string(lo_open ? "> " : ">= ") + Show(lo) + " and " + (hi_open ? "< " : "<= ") + Show(hi);
  }
};

template <typename S>
struct Key {
  std::string name;
  std::string comment;
  std::string range;  // what the value must be, for messages and the reference; "" = anything
  bool required = false;
  std::vector<std::string> outside;  // values just outside the range
  // Reads the key's node (present) into the section, failing with its path.
  std::function<void(Reader&, const YAML::Node&, const std::string& path, S&)> read;
  std::function<std::string(const S&)> show;

  Key&& Required() && {
    required = true;
    return std::move(*this);
  }
};

template <typename S>
Key<S> MakeKey(std::string name, std::string comment, std::string range, std::vector<std::string> outside = {}) {
  Key<S> k;
  k.name = std::move(name);
  k.comment = std::move(comment);
  k.range = std::move(range);
  k.outside = std::move(outside);
  return k;
}

template <typename S, typename T>
Key<S> Num(const char* name, T S::*m, Range<T> range, const char* comment) {
  static_assert(std::is_arithmetic_v<T>);
  Key<S> k = MakeKey<S>(name, comment, range.Text(), range.Outside());
  k.read = [m, range](Reader& r, const YAML::Node& n, const std::string& path, S& s) {
    T v{};
    if (!r.Scalar(n, path, &v)) return;
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v)) { r.Fail(path, "must be a finite number"); return; }
    }
    if (!range.Contains(v)) { r.Fail(path, "must be " + range.Text() + ", got " + Show(v)); return; }
    s.*m = v;
  };
  k.show = [m](const S& s) { return Show(s.*m); };
  return k;
}

template <typename S>
Key<S> Flag(const char* name, bool S::*m, const char* comment) {
  Key<S> k = MakeKey<S>(name, comment, "true|false", {"maybe"});
  k.read = [m](Reader& r, const YAML::Node& n, const std::string& path, S& s) { (void)r.Scalar(n, path, &(s.*m)); };
  k.show = [m](const S& s) { return Show(s.*m); };
  return k;
}

// A string; `check` returns what is wrong with a value ("" = fine).
using TextCheck = std::function<std::string(const std::string&)>;

template <typename S>
Key<S> Text(const char* name, std::string S::*m, const char* comment, std::string range = "", TextCheck check = {},
            std::vector<std::string> outside = {}) {
  Key<S> k = MakeKey<S>(name, comment, std::move(range), std::move(outside));
  k.read = [m, check](Reader& r, const YAML::Node& n, const std::string& path, S& s) {
    std::string v;
    if (!r.Scalar(n, path, &v)) return;
    if (check) {
      std::string wrong = check(v);
      if (!wrong.empty()) { r.Fail(path, wrong + ", got '" + v + "'"); return; }
    }
    s.*m = v;
  };
  k.show = [m](const S& s) { return Show(s.*m); };
  return k;
}

// Three raise thresholds (levels 1, 2, 3), ascending, each within `range`.
template <typename S>
Key<S> Thresholds(const char* name, std::vector<double> S::*m, Range<double> range, const char* comment) {
  Key<S> k = MakeKey<S>(name, comment, "3 ascending numbers " + range.Text());
  for (const auto& o : range.Outside()) k.outside.push_back("[" + o + ", " + o + ", " + o + "]");
  k.outside.push_back("[3, 2, 1]");
  k.read = [m, range](Reader& r, const YAML::Node& n, const std::string& path, S& s) {
    if (!n.IsSequence() || n.size() != 3) { r.Fail(path, "must be a list of 3 raise thresholds (levels 1, 2, 3)"); return; }
    std::vector<double> v;
    for (const auto& e : n) {
      double d = 0;
      if (!e.IsScalar()) { r.Fail(path, "must hold numbers"); return; }
      try {
        d = e.as<double>();
      } catch (const YAML::Exception&) {
        r.Fail(path, "must hold numbers");
        return;
      }
      if (!std::isfinite(d) || !range.Contains(d)) { r.Fail(path, "thresholds must be " + range.Text()); return; }
      v.push_back(d);
    }
    if (!(v[0] <= v[1] && v[1] <= v[2])) { r.Fail(path, "must be ascending"); return; }
    s.*m = v;
  };
  k.show = [m](const S& s) { return Show(s.*m); };
  return k;
}

std::string NotEmpty(const std::string& v) { return v.empty() ? "must not be empty" : ""; }

std::string HostPort(const std::string& a) {
  auto pos = a.rfind(':');
  int64_t port = 0;
  bool ok = pos != std::string::npos && pos != 0 && ParseInt64(std::string_view(a).substr(pos + 1), &port) &&
            port >= 1 && port <= 65535;
  return ok ? "" : "must be host:port";
}

std::string HostPortOrEmpty(const std::string& a) { return a.empty() ? "" : HostPort(a); }

std::string EtcdEndpoints(const std::string& v) {
  std::stringstream list(v);
  for (std::string e; std::getline(list, e, ',');) {
    if (e.rfind("http://", 0) != 0 || !HostPort(e.substr(7)).empty()) return "entry '" + e + "' is not http://host:port";
  }
  return "";
}

std::string RoomName(const std::string& v) {
  bool ok = !v.empty() && v.size() <= 16 && std::all_of(v.begin(), v.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
  });
  return ok ? "" : "must be 1-16 characters of [A-Za-z0-9_-]";
}

// Common ranges. Intervals and timeouts are at least 1 ms (a loop with 0
// spins); upper bounds are far beyond any sane value but keep arithmetic
// (ms * 1000, sums of sleeps) inside int.
constexpr Range<int> kPort{1, 65535};
constexpr Range<int> kMs{1, 3600000};               // 1 ms .. 1 h
constexpr Range<int> kMsOrZero{0, 3600000};
constexpr Range<int> kLongMs{1, 7 * 86400000};      // 1 ms .. 7 days (int)
constexpr Range<int64_t> kLongMs64{0, int64_t{30} * 86400000};  // 0 .. 30 days
constexpr Range<int64_t> kSeconds64{0, int64_t{30} * 86400};    // 0 .. 30 days
constexpr Range<double> kRate{0, 1e9, /*lo_open=*/true};
constexpr Range<int> kCount{1, 1000000};
constexpr Range<int> kCountOrZero{0, 1000000000};
constexpr Range<double> kLagSeconds{0, 86400};

// A section: a YAML mapping read by one table into one options struct.
struct Section {
  std::string name;  // "" = the root
  bool required = false;
  std::function<void(Reader&, const YAML::Node&, Config&)> read;
  std::function<void(const Config&, std::vector<ConfigKeyInfo>*)> describe;
  std::set<std::string> names;
};

template <typename S>
Section MakeSection(std::string name, bool required, std::function<S&(Config&)> part, std::vector<Key<S>> keys) {
  auto table = std::make_shared<std::vector<Key<S>>>(std::move(keys));
  Section s;
  s.name = name;
  s.required = required;
  for (const auto& k : *table) s.names.insert(k.name);
  s.read = [name, table, part](Reader& r, const YAML::Node& node, Config& c) {
    S& out = part(c);
    for (const auto& k : *table) {
      const std::string path = Join(name, k.name);
      const YAML::Node n = node ? node[k.name] : YAML::Node();
      if (!n) {
        if (k.required) r.Fail(path, "is required");
        continue;
      }
      k.read(r, n, path, out);
    }
  };
  s.describe = [name, table, part](const Config& c, std::vector<ConfigKeyInfo>* out) {
    Config copy = c;
    const S& s = part(copy);
    for (const auto& k : *table) {
      out->push_back({Join(name, k.name), k.show(s), k.range, k.comment, k.required, k.outside});
    }
  };
  return s;
}

template <typename S>
std::function<S&(Config&)> Part(S Config::*m) {
  return [m](Config& c) -> S& { return c.*m; };
}

std::vector<Key<RedisOptions>> RedisKeys() {
  using O = RedisOptions;
  return {
      Text("address", &O::address, "host:port", "host:port", HostPort, {"nohostport", "\"h:99999\""}).Required(),
      Text("password", &O::password, "AUTH password; empty = none"),
      Num("timeout_ms", &O::timeout_ms, Range<int>{1, 60000}, "connect and command timeout"),
  };
}

const std::vector<Section>& Sections() {
  static const std::vector<Section> sections = [] {
    std::vector<Section> v;
    {
      Key<Config> role = MakeKey<Config>("role", "primary | secondary: the first role; promotion changes it at runtime",
                                         "primary|secondary", {"leader"});
      role.required = true;
      role.read = [](Reader& r, const YAML::Node& n, const std::string& path, Config& c) {
        std::string s;
        if (!r.Scalar(n, path, &s)) return;
        if (s == "primary") c.role = Role::kPrimary;
        else if (s == "secondary") c.role = Role::kSecondary;
        else r.Fail(path, "must be 'primary' or 'secondary', got '" + s + "'");
      };
      role.show = [](const Config& c) { return std::string(RoleName(c.role)); };
      Key<Config> components = MakeKey<Config>("components", "which parts this process runs",
                                               "list of frontend|processor|archiver|probe",
                                               {"[teleporter]", "frontend", "[{a: b}]"});
      components.read = [](Reader& r, const YAML::Node& n, const std::string& path, Config& c) {
        static const std::set<std::string> known = {"frontend", "processor", "archiver", "probe"};
        if (!n.IsSequence()) { r.Fail(path, "must be a list"); return; }
        std::vector<std::string> list;
        for (const auto& e : n) {
          if (!e.IsScalar() || !known.count(e.Scalar())) {
            r.Fail(path, "unknown component '" + (e.IsScalar() ? e.Scalar() : std::string("<not a name>")) +
                             "' (frontend|processor|archiver|probe)");
            return;
          }
          list.push_back(e.Scalar());
        }
        c.components = list;
      };
      components.show = [](const Config& c) { return Show(c.components); };
      v.push_back(MakeSection<Config>("", true, [](Config& c) -> Config& { return c; },
                                      {
                                          Text("room", &Config::room, "this datacenter's name", "1-16 of [A-Za-z0-9_-]",
                                               RoomName, {"\"A B\"", "\"\""}).Required(),
                                          std::move(role),
                                          std::move(components),
                                          Text("run_dir", &Config::run_dir, "state files live here", "", NotEmpty, {"\"\""}),
                                      }));
    }
    {
      using O = HttpOptions;
      v.push_back(MakeSection<O>("http", true, Part(&Config::http), {
          Text("bind", &O::bind, "address both ports listen on", "", NotEmpty, {"\"\""}),
          Num("public_port", &O::public_port, kPort, "the client API").Required(),
          Num("admin_port", &O::admin_port, kPort, "/metrics, /healthz, /v1/admin/*").Required(),
          Num("threads", &O::threads, Range<int>{1, 4096}, "admin port pool threads; one keep-alive connection per thread"),
          Num("max_queued", &O::max_queued, Range<int>{1, 1000000}, "accepted connections waiting for a thread"),
          Num("keep_alive_timeout_ms", &O::keep_alive_timeout_ms, kMs, "admin port: idle keep-alive connections close after this"),
          Num("receive_timeout_ms", &O::receive_timeout_ms, kMs, "admin port: a slow client is cut after this"),
          Num("max_keep_alive_requests", &O::max_keep_alive_requests, kCount, "requests per keep-alive connection"),
          Num("max_body_bytes", &O::max_body_bytes, Range<int64_t>{1, 64 << 20}, "larger bodies get 413 unread"),
      }));
    }
    {
      using O = EdgeOptions;
      constexpr Range<int64_t> kConnections{1, 10000000};
      constexpr Range<int> kLineBytes{64, 1 << 20};
      v.push_back(MakeSection<O>("edge", false, Part(&Config::edge), {
          Num("io_threads", &O::io_threads, Range<int>{0, 256}, "I/O threads of the public port; 0 = one per core"),
          Num("max_connections", &O::max_connections, kConnections, "open public connections per process; beyond: 503"),
          Num("max_connections_per_address", &O::max_connections_per_address, kConnections,
              "open public connections per client address; beyond: 429"),
          Num("idle_timeout_ms", &O::idle_timeout_ms, kMs, "a keep-alive connection with no next request closes"),
          Num("header_timeout_ms", &O::header_timeout_ms, kMs, "first byte to complete request head (slowloris): 408"),
          Num("body_timeout_ms", &O::body_timeout_ms, kMs, "complete body after its head: 408"),
          Num("max_request_line_bytes", &O::max_request_line_bytes, kLineBytes, "longer request line: 414"),
          Num("max_header_bytes", &O::max_header_bytes, kLineBytes, "longer request head: 431"),
          Num("linger_ms", &O::linger_ms, kMsOrZero, "after a 413, input is discarded this long at most"),
          Num("linger_max_bytes", &O::linger_max_bytes, Range<int64_t>{0, int64_t{1} << 30},
              "after a 413, at most this many bytes are discarded"),
          Num("max_writes_in_flight", &O::max_writes_in_flight, kConnections,
              "writes awaiting their Kafka ack; beyond: 503 + Retry-After"),
          Num("blocking_workers", &O::blocking_workers, Range<int>{1, 1024},
              "threads for blocking work off the I/O threads (forwards, users, replays)"),
          Num("blocking_queue", &O::blocking_queue, Range<int>{1, 10000000}, "such tasks waiting; beyond: 503"),
      }));
    }
    {
      using O = GzipOptions;
      v.push_back(MakeSection<O>("edge.gzip", false, [](Config& c) -> O& { return c.edge.gzip; }, {
          Flag("enabled", &O::enabled, "gzip 2xx JSON answers for clients whose Accept-Encoding allows it"),
          Num("min_bytes", &O::min_bytes, Range<int64_t>{0, int64_t{64} << 20}, "smaller answers stay plain"),
          Num("level", &O::level, Range<int>{1, 9}, "zlib level: 1 fastest .. 9 smallest"),
      }));
    }
    {
      using O = AdminOptions;
      v.push_back(MakeSection<O>("admin", false, Part(&Config::admin), {
          Text("token_file", &O::token_file, "bearer token for admin actions; empty = admin actions refused"),
      }));
    }
    v.push_back(MakeSection<RedisOptions>("redis", true, Part(&Config::redis), RedisKeys()));
    v.push_back(MakeSection<RedisOptions>("replay_redis", false, Part(&Config::replay_redis), RedisKeys()));
    {
      using O = KafkaOptions;
      v.push_back(MakeSection<O>("kafka", true, Part(&Config::kafka), {
          Text("brokers", &O::brokers, "comma-separated host:port", "", NotEmpty, {"\"\""}).Required(),
          Text("topic", &O::topic, "the messages topic", "", NotEmpty, {"\"\""}),
          Text("consumer_group", &O::consumer_group, "the processor's consumer group", "", NotEmpty, {"\"\""}),
          Num("produce_timeout_ms", &O::produce_timeout_ms, Range<int>{1, 300000}, "unacknowledged by then: 503"),
          Num("session_timeout_ms", &O::session_timeout_ms, Range<int>{1000, 300000},
              "a silent processor loses its partitions to the group after this"),
          Num("metadata_refresh_ms", &O::metadata_refresh_ms, Range<int>{1000, 3600000},
              "partitions added online are used within this"),
      }));
    }
    {
      using O = MysqlOptions;
      v.push_back(MakeSection<O>("mysql", false, Part(&Config::mysql), {
          Text("host", &O::host, "the replay archive's server", "", NotEmpty, {"\"\""}),
          Num("port", &O::port, kPort, "its port"),
          Text("user", &O::user, "its user", "", NotEmpty, {"\"\""}),
          Text("password_file", &O::password_file, "file holding its password"),
          Text("database", &O::database, "its database", "", NotEmpty, {"\"\""}),
      }));
    }
    {
      using O = PeerOptions;
      v.push_back(MakeSection<O>("peer", false, Part(&Config::peer), {
          Text("room", &O::room, "the other datacenter's name"),
          Text("public_url", &O::public_url, "its frontends (write forwarding target)"),
          Text("admin_url", &O::admin_url, "its admin API; comma-separated list of forwarding targets"),
          Text("redis", &O::redis, "its Redis (stale-read fallback, promotion)", "host:port or empty", HostPortOrEmpty, {"nohostport"}),
          Text("kafka", &O::kafka, "its Kafka"),
      }));
    }
    {
      using O = LimitOptions;
      v.push_back(MakeSection<O>("limits", false, Part(&Config::limits), {
          Num("max_text_bytes", &O::max_text_bytes, Range<int>{1, 65536}, "comment text, bytes of UTF-8"),
          Num("uid_rate_per_sec", &O::uid_rate_per_sec, kRate, "messages per uid (token bucket)"),
          Num("uid_burst", &O::uid_burst, kRate, "burst per uid"),
          Num("ip_rate_per_sec", &O::ip_rate_per_sec, kRate, "requests per client address"),
          Num("ip_burst", &O::ip_burst, kRate, "burst per client address"),
          Num("max_like_burst", &O::max_like_burst, kCount, "largest count of one like post"),
      }));
    }
    {
      using O = CacheOptions;
      v.push_back(MakeSection<O>("cache", false, Part(&Config::cache), {
          Num("refresh_ms", &O::refresh_ms, Range<int>{1, 60000}, "one Redis round trip per tick for all hot rooms"),
          Num("window", &O::window, kCount, "messages kept per (live room, type)"),
          Num("idle_evict_ms", &O::idle_evict_ms, kLongMs, "a room nobody polled this long leaves the cache"),
      }));
    }
    {
      using O = PollOptions;
      v.push_back(MakeSection<O>("poll", false, Part(&Config::poll), {
          Num("next_poll_ms", &O::next_poll_ms, Range<int>{1, 600000}, "what clients wait between polls"),
          Num("max_limit", &O::max_limit, Range<int>{1, 10000}, "most messages per poll"),
          Num("big_room_online", &O::big_room_online, kCountOrZero, "online viewers from which a room is big"),
          Num("big_room_limit", &O::big_room_limit, Range<int>{1, 10000}, "recent messages per poll in big rooms"),
          Num("online_window_ms", &O::online_window_ms, kLongMs, "a viewer is online this long after a poll"),
      }));
    }
    {
      using O = ProcessorOptions;
      v.push_back(MakeSection<O>("processor", false, Part(&Config::processor), {
          Num("workers", &O::workers, Range<int>{1, kMaxProcessorWorkers}, "consumer group members"),
          Num("batch_max", &O::batch_max, Range<int>{1, 100000}, "records per batch while there is no backlog"),
          Num("batch_ceiling", &O::batch_ceiling, Range<int>{1, 100000},
              "adaptive batching: most records per batch with a backlog (>= batch_max)"),
          Num("batch_ceiling_bytes", &O::batch_ceiling_bytes, Range<int64_t>{65536, int64_t{256} << 20},
              "adaptive batching: most payload bytes per batch"),
          Num("batch_wait_ms", &O::batch_wait_ms, Range<int>{0, 60000}, "wait for a batch to fill"),
          Num("live_cap", &O::live_cap, Range<int>{1, 10000000}, "live set cap per (live room, type)"),
          Num("unarchived_cap", &O::unarchived_cap, Range<int>{0, 100000000},
              "unarchived messages kept past live_cap; 0 = no archiver"),
      }));
    }
    {
      using O = LikeOptions;
      v.push_back(MakeSection<O>("likes", false, Part(&Config::likes), {
          Num("flush_ms", &O::flush_ms, Range<int>{1, 60000}, "likes become one record per live room this often"),
      }));
    }
    {
      using O = CursorOptions;
      v.push_back(MakeSection<O>("cursor", false, Part(&Config::cursor), {
          Text("secret_file", &O::secret_file, "MAC key of poll cursors, the same in both rooms"),
      }));
    }
    {
      using O = ArchiveOptions;
      v.push_back(MakeSection<O>("archive", false, Part(&Config::archive), {
          // 10000 rows x 6 placeholders stays under MariaDB's 65535 per statement.
          Num("batch_size", &O::batch_size, Range<int>{1, 10000}, "messages per Redis read and per INSERT"),
          Num("end_wait_ms", &O::end_wait_ms, kMs, "after an end, wait this long for meta state=ended"),
          Num("idle_end_ms", &O::idle_end_ms, kLongMs64, "no stored message this long = ended; 0 = never"),
          Num("scan_interval_ms", &O::scan_interval_ms, kLongMs, "how often live Redis is scanned for ended rooms"),
          Num("checkpoint_interval_ms", &O::checkpoint_interval_ms, kLongMs, "how often long live rooms are copied"),
          Num("max_attempts", &O::max_attempts, Range<int>{1, 100}, "copy+verify rounds per job"),
          Num("live_ttl_after_archive_s", &O::live_ttl_after_archive_s, kSeconds64,
              "the live meta hash is kept this long; 0 = delete at once"),
          Num("replay_ttl_s", &O::replay_ttl_s, Range<int64_t>{1, int64_t{30} * 86400}, "a loaded replay room lives this long"),
          Num("replay_max_rooms", &O::replay_max_rooms, kCount, "most rooms in the replay Redis at once"),
          Num("replay_max_limit", &O::replay_max_limit, Range<int>{1, 10000}, "most messages per replay page"),
          Num("replay_load_wait_ms", &O::replay_load_wait_ms, Range<int>{1, 600000}, "wait for a load, then 503"),
      }));
    }
    {
      using O = HaOptions;
      v.push_back(MakeSection<O>("ha", false, Part(&Config::ha), {
          Flag("stale_read_fallback", &O::stale_read_fallback, "a secondary reads the primary while its replica is stale"),
          Num("fallback_lag_seconds", &O::fallback_lag_seconds, Range<double>{0, 86400, true}, "stale above this lag"),
          Num("recover_lag_seconds", &O::recover_lag_seconds, kLagSeconds, "back to local reads below this lag..."),
          Num("recover_dwell_ms", &O::recover_dwell_ms, kMsOrZero, "...held this long"),
          Num("peer_watch_ms", &O::peer_watch_ms, Range<int>{1, 600000}, "how often the other room is asked its role"),
          Text("lease_key", &O::lease_key, "the primary lease's leader key in etcd", "an etcd key starting with '/'",
               [](const std::string& v) { return v.empty() || v[0] != '/' ? std::string("must be an etcd key starting with '/'") : ""; },
               {"\"\"", "danmu/leader"}),
          Num("lease_ttl_s", &O::lease_ttl_s, Range<int>{2, 60}, "its etcd lease TTL (seconds)"),
          Num("lease_renew_ms", &O::lease_renew_ms, Range<int>{100, 60000}, "renewal interval"),
          Num("lease_margin_ms", &O::lease_margin_ms, Range<int>{100, 60000}, "safety margin for clock rate and latency"),
          Flag("auto_failover", &O::auto_failover, "this room takes the expired key and promotes itself"),
          Num("auto_failover_max_lag_bytes", &O::auto_failover_max_lag_bytes, Range<int64_t>{0, int64_t{1} << 40},
              "...only if its replica trails the last holder by at most this"),
          Num("catch_up_lookback_ms", &O::catch_up_lookback_ms, Range<int64_t>{1, int64_t{7} * 86400000},
              "a forced promotion re-ingests the old primary's acks from this long before"),
      }));
    }
    {
      using O = EtcdOptions;
      v.push_back(MakeSection<O>("etcd", false, Part(&Config::etcd), {
          Text("endpoints", &O::endpoints, "comma-separated http://host:port of every member; empty: no lease",
               "comma-separated http://host:port", EtcdEndpoints, {"127.0.0.1:2379", "\"http://h\""}),
          Num("timeout_ms", &O::timeout_ms, Range<int>{1, 60000}, "per request and member"),
      }));
    }
    {
      using O = DegradeOptions;
      v.push_back(MakeSection<O>("degrade", false, Part(&Config::degrade), {
          Num("thin_limit", &O::thin_limit, Range<int>{1, 10000}, "level 2: comments per poll in big rooms"),
          Num("thin_room_online", &O::thin_room_online, kCountOrZero, "level 2 applies from this many viewers"),
          Num("backoff_step_ms", &O::backoff_step_ms, kMs, "level 3: next_poll_ms doubles this often"),
          Num("backoff_max_ms", &O::backoff_max_ms, kMs, "level 3: up to this cap"),
          Num("default_for_s", &O::default_for_s, Range<int>{1, 30 * 86400}, "a manual switch expires after this"),
          Num("watch_ms", &O::watch_ms, Range<int>{1, 600000}, "frontends re-read the switch key this often"),
          Flag("auto", &O::auto_enabled, "automatic control by the active primary"),
          Num("eval_ms", &O::eval_ms, Range<int>{1, 600000}, "automatic evaluation interval"),
          Num("dwell_ms", &O::dwell_ms, kMsOrZero, "lower one level only after every signal stayed low this long"),
          Num("lower_ratio", &O::lower_ratio, Range<double>{0, 1, true, true}, "low = below threshold x this"),
          Thresholds("kafka_lag_seconds", &O::kafka_lag_seconds, Range<double>{0, 1e9}, "raise thresholds, levels 1-3"),
          Thresholds("redis_latency_ms", &O::redis_latency_ms, Range<double>{0, 1e9}, "raise thresholds, levels 1-3"),
          Thresholds("replication_lag_seconds", &O::replication_lag_seconds, Range<double>{0, 1e9},
                     "raise thresholds, levels 1-3"),
          Thresholds("in_flight_requests", &O::in_flight_requests, Range<double>{0, 1e9}, "raise thresholds, levels 1-3"),
      }));
    }
    {
      using O = WebOptions;
      v.push_back(MakeSection<O>("web", false, Part(&Config::web), {
          Text("static_dir", &O::static_dir, "folder of the pages' files; empty: found next to the build or install"),
          Num("status_sample_ms", &O::status_sample_ms, Range<int>{200, 60000}, "/v1/status samples this often"),
          Num("status_history", &O::status_history, Range<int>{1, 10000}, "samples kept for the sparklines"),
      }));
    }
    {
      using O = PushOptions;
      v.push_back(MakeSection<O>("push", false, Part(&Config::push), {
          Flag("enabled", &O::enabled, "false: /ws and /events answer 404 (clients poll)"),
          Num("broadcast_at", &O::broadcast_at, kCount, "a live room with this many connections turns to broadcast"),
          Num("notify_pull_below", &O::notify_pull_below, kCount, "...and back to notify-pull below this"),
          Num("frame_limit", &O::frame_limit, Range<int>{1, 100000}, "most messages in one pushed frame"),
          Num("queue_max_bytes", &O::queue_max_bytes, Range<int>{1, 1 << 30}, "per connection; past it: resync"),
          Num("max_resyncs", &O::max_resyncs, Range<int>{0, 1000}, "resyncs before a close with 4000"),
          Num("max_connections", &O::max_connections, Range<int>{1, 10000000}, "long connections per process; beyond: 503"),
          Num("max_connections_per_address", &O::max_connections_per_address, Range<int>{1, 10000000},
              "long connections per client address; beyond: 429"),
          Num("handshakes_per_sec", &O::handshakes_per_sec, Range<int>{1, 1000000},
              "WebSocket/SSE handshakes per process per second (burst twice that); beyond: 429"),
          Num("ping_interval_ms", &O::ping_interval_ms, kMs, "WebSocket ping / SSE keep-alive comment interval"),
          Num("idle_timeout_ms", &O::idle_timeout_ms, kMs, "nothing from a WebSocket client this long: close 4002"),
          Num("max_client_frame_bytes", &O::max_client_frame_bytes, Range<int>{125, 1 << 20},
              "larger client frames: close 1009"),
          Num("socket_send_buffer_bytes", &O::socket_send_buffer_bytes, Range<int>{0, 64 << 20},
              "SO_SNDBUF of a long connection; 0 = the OS default"),
          Num("tick_ms", &O::tick_ms, Range<int>{1, 60000}, "rounds for lagging and level-3-deferred rooms"),
          Num("drain_spread_ms", &O::drain_spread_ms, Range<int>{0, 600000},
              "a draining frontend closes its long connections with 1001 evenly over this long"),
      }));
    }
    {
      using O = RoutingOptions;
      v.push_back(MakeSection<O>("routing", false, Part(&Config::routing), {
          Flag("enabled", &O::enabled, "serve GET /v1/route and register this frontend"),
          Text("prefix", &O::prefix, "etcd key prefix of the rules and the edge registrations", "/.../",
               [](const std::string& v) {
                 return v.size() >= 2 && v.front() == '/' && v.back() == '/' && v.size() <= 128 ? "" : "must start and end with '/' (at most 128 characters)";
               },
               {"danmu", "\"\""}),
          Text("advertise_url", &O::advertise_url, "this frontend's public base URL; empty: http://<bind>:<public_port>",
               "http://host:port or empty",
               [](const std::string& v) {
                 return v.empty() || v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0 ? "" : "must be an http(s):// URL or empty";
               },
               {"127.0.0.1:1"}),
          Num("rules_refresh_ms", &O::rules_refresh_ms, Range<int>{100, 600000}, "re-read the rule set this often"),
          Num("edge_refresh_ms", &O::edge_refresh_ms, Range<int>{100, 600000}, "re-read the registered edges this often"),
          Num("edge_ttl_s", &O::edge_ttl_s, Range<int>{2, 3600}, "the registration's lease TTL"),
          Num("register_interval_ms", &O::register_interval_ms, Range<int>{100, 600000}, "renew the registration this often"),
          Num("max_endpoints", &O::max_endpoints, Range<int>{1, 20}, "endpoints handed to one client"),
          Num("poll_recheck_ms", &O::poll_recheck_ms, Range<int>{1000, 3600000}, "a polling client asks again after this"),
          Num("reconnect_base_ms", &O::reconnect_base_ms, Range<int>{100, 600000}, "a long-connection client's first reconnect delay"),
      }));
    }
    {
      using O = ProbeOptions;
      v.push_back(MakeSection<O>("probe", false, Part(&Config::probe), {
          Num("interval_ms", &O::interval_ms, kLongMs, "one probe round per interval"),
          Num("timeout_ms", &O::timeout_ms, Range<int>{1, 600000}, "not visible by then = a failure"),
      }));
    }
    return v;
  }();
  return sections;
}

// The mapping a dotted section name ("edge.gzip") names, or a null node if
// some level is absent or is not a mapping (an outer level that is not a
// mapping was already reported).
YAML::Node SectionNode(const YAML::Node& root, const std::string& name) {
  // Node::reset rebinds; operator= would assign into the node it refers to.
  YAML::Node n;
  n.reset(root);
  size_t start = 0;
  for (;;) {
    const size_t dot = name.find('.', start);
    const std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& cn = n;
    const YAML::Node next = cn[part];
    if (!next) return YAML::Node(YAML::NodeType::Undefined);
    n.reset(next);
    if (dot == std::string::npos) return n;
    start = dot + 1;
  }
}

// The checks that span keys, once every section was read.
void Validate(Reader& r, const Config& c) {
  if (c.http.public_port == c.http.admin_port) r.Fail("http.admin_port", "must differ from http.public_port");
  if (c.edge.max_connections_per_address > c.edge.max_connections) {
    r.Fail("edge.max_connections_per_address", "must not exceed edge.max_connections");
  }
  if (c.edge.max_header_bytes < c.edge.max_request_line_bytes) {
    r.Fail("edge.max_header_bytes", "must be at least edge.max_request_line_bytes (the head includes the line)");
  }
  if (c.push.notify_pull_below > c.push.broadcast_at) {
    r.Fail("push.notify_pull_below", "must not exceed push.broadcast_at (hysteresis)");
  }
  if (c.push.idle_timeout_ms <= c.push.ping_interval_ms) r.Fail("push.idle_timeout_ms", "must exceed push.ping_interval_ms");
  // A long connection is one of the edge's open connections: a push cap
  // above the edge's can never bite, and an operator reading it would
  // believe the frontend holds more long connections than it can.
  if (c.push.max_connections > c.edge.max_connections) {
    r.Fail("push.max_connections", "must not exceed edge.max_connections (a long connection is one of the edge's connections)");
  }
  if (c.push.max_connections_per_address > c.push.max_connections) {
    r.Fail("push.max_connections_per_address", "must not exceed push.max_connections");
  }
  if (c.role == Role::kSecondary && c.peer.public_url.empty()) {
    r.Fail("peer.public_url", "is required for a secondary room (writes are forwarded there)");
  }
  if (c.ha.recover_lag_seconds > c.ha.fallback_lag_seconds) {
    r.Fail("ha.recover_lag_seconds", "must not exceed ha.fallback_lag_seconds (hysteresis)");
  }
  if (c.ha.lease_renew_ms * 2 + c.ha.lease_margin_ms > c.ha.lease_ttl_s * 1000) {
    r.Fail("ha.lease_renew_ms", "must leave room for two renewals and the margin inside the TTL "
                                "(2 x lease_renew_ms + lease_margin_ms <= lease_ttl_s x 1000)");
  }
  if (c.routing.register_interval_ms * 2 > c.routing.edge_ttl_s * 1000) {
    r.Fail("routing.register_interval_ms", "must leave room for two renewals inside routing.edge_ttl_s "
                                           "(2 x register_interval_ms <= edge_ttl_s x 1000)");
  }
  // Clients connect to the advertised URL: a wildcard bind address is not one.
  if (c.routing.enabled && c.routing.advertise_url.empty() &&
      (c.http.bind == "0.0.0.0" || c.http.bind == "::" || c.http.bind.empty())) {
    r.Fail("routing.advertise_url", "must be set when http.bind is a wildcard address (" + c.http.bind +
                                        "): it is the URL handed to clients");
  }
  if (c.cache.window > c.processor.live_cap) r.Fail("cache.window", "must not exceed processor.live_cap");
  if (c.processor.batch_ceiling < c.processor.batch_max) {
    r.Fail("processor.batch_ceiling", "must be at least processor.batch_max");
  }
  if (c.processor.unarchived_cap != 0 && c.processor.unarchived_cap < c.processor.live_cap) {
    r.Fail("processor.unarchived_cap", "must be 0 (no archiver) or at least processor.live_cap");
  }
}

}  // namespace

Config DefaultConfig() {
  Config c;
  c.components = {"frontend", "processor"};
  return c;
}

Result<Config> ParseConfig(const std::string& yaml_text) {
  Reader r;
  Config c = DefaultConfig();
  try {
    YAML::Node root;
    try {
      root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
      return Status(Code::kInvalidArgument, std::string("config is not valid YAML: ") + e.what());
    }
    if (!root.IsMap()) return Status(Code::kInvalidArgument, "config key '<root>': must be a mapping");
    const auto& sections = Sections();
    // Unknown keys first, everywhere: a typo is the likeliest mistake. A
    // section may sit inside another (edge.gzip inside edge): its first
    // name is then one of the outer section's keys.
    auto known = [&sections](const Section& s) {
      std::set<std::string> names = s.names;
      const std::string prefix = s.name.empty() ? "" : s.name + ".";
      for (const auto& inner : sections) {
        if (inner.name.empty() || inner.name.rfind(prefix, 0) != 0 || inner.name == s.name) continue;
        names.insert(inner.name.substr(prefix.size(), inner.name.find('.', prefix.size()) - prefix.size()));
      }
      return names;
    };
    const std::set<std::string> top = known(sections.front());
    for (const auto& kv : root) {
      if (!kv.first.IsScalar() || !top.count(kv.first.Scalar())) r.Fail(kv.first.IsScalar() ? kv.first.Scalar() : "<root>", "unknown key");
    }
    for (const auto& s : sections) {
      if (s.name.empty()) continue;
      const YAML::Node n = SectionNode(root, s.name);
      if (!n) continue;
      if (!n.IsMap()) { r.Fail(s.name, "must be a mapping"); continue; }
      const std::set<std::string> names = known(s);
      for (const auto& kv : n) {
        if (!kv.first.IsScalar() || !names.count(kv.first.Scalar())) {
          r.Fail(Join(s.name, kv.first.IsScalar() ? kv.first.Scalar() : "<key>"), "unknown key");
        }
      }
    }
    for (const auto& s : sections) {
      const YAML::Node n = s.name.empty() ? root : SectionNode(root, s.name);
      if (!n) {
        if (s.required) r.Fail(s.name, "is required");
        continue;
      }
      if (!n.IsMap()) continue;  // reported above
      s.read(r, n, c);
    }
  } catch (const YAML::Exception& e) {
    r.Fail("<root>", std::string("cannot be read: ") + e.what());
  }
  if (!r.failed()) Validate(r, c);
  if (r.failed()) return Status(Code::kInvalidArgument, r.error());
  return c;
}

std::vector<ConfigKeyInfo> ConfigReference(const Config& values) {
  std::vector<ConfigKeyInfo> out;
  for (const auto& s : Sections()) s.describe(values, &out);
  return out;
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
