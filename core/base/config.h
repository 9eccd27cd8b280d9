#pragma once
// The whole danmud configuration, one options struct per component, each
// with defaults that work for the local stack (config/room-a.yaml documents
// every key). LoadConfig validates everything up front: a bad config refuses
// to start with a message naming the offending key.
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace danmu::core {

enum class Role { kPrimary, kSecondary };
const char* RoleName(Role role);

struct HttpOptions {
  std::string bind = "127.0.0.1";
  int public_port = 0;
  int admin_port = 0;
  // Poco serves one keep-alive connection per pool thread: size on purpose.
  int threads = 128;
  int max_queued = 512;
  int keep_alive_timeout_ms = 5000;
  int receive_timeout_ms = 3000;
  int max_keep_alive_requests = 1000;
  int64_t max_body_bytes = 16 * 1024;
};

// The public port's event-driven server (edge/server.h, DESIGN §12).
// gzip content coding of the public port's answers (edge/gzip.h): 2xx JSON
// answers of at least min_bytes, to clients whose Accept-Encoding allows gzip.
struct GzipOptions {
  bool enabled = true;
  int64_t min_bytes = 1024;                // smaller answers stay plain (little to save)
  int level = 6;                           // zlib level 1 (fastest) .. 9 (smallest)
};

struct EdgeOptions {
  int io_threads = 0;                      // I/O threads; 0 = one per core
  int64_t max_connections = 20000;         // open connections per process (HTTP + long); beyond: 503
  int64_t max_connections_per_address = 2000;  // per source address; beyond: 429
  int idle_timeout_ms = 30000;             // keep-alive connection with no next request: closed
  int header_timeout_ms = 5000;            // first byte -> complete request head (slowloris): 408
  int body_timeout_ms = 10000;             // complete body after its head: 408
  int max_request_line_bytes = 8192;       // 414 beyond
  int max_header_bytes = 16384;            // request line + headers; 431 beyond
  int linger_ms = 5000;                    // after a 413: discard input this long at most...
  int64_t linger_max_bytes = 64 << 20;     // ...and at most this many bytes, then close
  int64_t max_writes_in_flight = 5000;     // writes awaiting their ack; beyond: 503 + Retry-After
  int blocking_workers = 16;               // threads for blocking work off the I/O threads (forwards, users, replays)
  int blocking_queue = 4096;               // tasks waiting for those threads; beyond: 503
  GzipOptions gzip;                        // the edge.gzip.* keys
};

struct AdminOptions {
  std::string token_file;  // bearer token for admin actions; empty = admin actions refused
};

struct RedisOptions {
  std::string address;     // host:port
  std::string password;    // empty = no AUTH
  int timeout_ms = 1000;
};

struct KafkaOptions {
  std::string brokers;     // comma-separated host:port
  std::string topic = "danmu.messages";
  std::string consumer_group = "danmu-processor";
  int produce_timeout_ms = 5000;
  // A processor that stops heartbeating loses its partitions to the rest of
  // the group after this (the broker's group.min/max.session.timeout.ms bound it).
  int session_timeout_ms = 6000;
  // How often clients re-read the topic's metadata: the delay before added
  // partitions are produced to and consumed (danmuctl kafka partitions).
  int metadata_refresh_ms = 5000;
};

struct MysqlOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user = "danmu";
  std::string password_file;
  std::string database = "danmu";
};

struct PeerOptions {
  std::string room;        // the other datacenter's name
  std::string public_url;  // its frontends (write forwarding target)
  std::string admin_url;
  std::string redis;       // its Redis (stale-read fallback, promotion)
  std::string kafka;
};

struct LimitOptions {
  int max_text_bytes = 300;
  double uid_rate_per_sec = 5;
  double uid_burst = 10;
  double ip_rate_per_sec = 200;
  double ip_burst = 400;
  int max_like_burst = 100;
};

struct CacheOptions {
  int refresh_ms = 200;        // one Redis round trip per hot live room per tick
  int window = 1000;           // messages kept per (live room, type) in memory
  int idle_evict_ms = 60000;   // a live room nobody polled for this long is dropped
};

struct PollOptions {
  int next_poll_ms = 2000;
  int max_limit = 200;         // most messages one poll returns
  // Adaptive count: above big_room_online viewers a poll gets at most
  // big_room_limit messages (the most recent), below it everything.
  int big_room_online = 5000;
  int big_room_limit = 30;
  int online_window_ms = 30000;  // a viewer counts as online this long after a poll
};

struct ProcessorOptions {
  int workers = 2;             // consumers in the group (partitions run in parallel)
  int batch_max = 500;         // records per batch while there is no backlog (the base)
  // Adaptive batching (core/live/batch_sizer.h): with a backlog the batch
  // doubles up to these ceilings, and shrinks back once the backlog is gone.
  int batch_ceiling = 10000;           // records
  int64_t batch_ceiling_bytes = 8 << 20;  // payload bytes
  int batch_wait_ms = 20;
  int live_cap = 5000;         // live set cap per (live room, type); oldest trimmed
  // Messages not yet copied to MySQL by the archiver are kept beyond live_cap,
  // up to this many per (live room, type), so that a long stream's archive
  // holds every message; 0 = trim at live_cap regardless (no archiver).
  int unarchived_cap = 50000;
};

struct LikeOptions {
  int flush_ms = 150;
};

// The archiver and the replay read path (core/archive/archiver.h,
// core/archive/replay_store.h).
struct ArchiveOptions {
  int batch_size = 500;                   // messages per Redis read and per multi-row INSERT
  int end_wait_ms = 10000;                // after an `end`, wait this long for meta state=ended
  int64_t idle_end_ms = 7200000;          // a room with no stored message for this long is archived as ended; 0 = never
  int scan_interval_ms = 30000;           // how often live Redis is scanned for ended, unarchived rooms
  int checkpoint_interval_ms = 5000;      // how often rooms holding unarchived messages past the live cap are copied
  int max_attempts = 3;                   // copy+verify rounds when messages keep arriving during an archive
  int64_t live_ttl_after_archive_s = 3600;  // the live meta hash (state, last scores) is kept this long after archiving
  int64_t replay_ttl_s = 3600;            // a loaded replay room stays in the replay Redis at most this long
  int replay_max_rooms = 100;             // most rooms loaded in the replay Redis at once (oldest load evicted)
  int replay_max_limit = 500;             // most messages one replay page returns
  int replay_load_wait_ms = 10000;        // a replay request waits this long for a load before 503
};

struct CursorOptions {
  std::string secret_file;     // shared by both rooms: cursors are valid in either
};

struct DegradeOptions {
  // Level 2: rooms with at least thin_room_online viewers serve at most
  // thin_limit comments per poll (gifts, own and priority messages extra).
  int thin_limit = 20;
  int thin_room_online = 1000;
  // Level 3: next_poll_ms doubles on entry, then every backoff_step_ms, up to the cap.
  int backoff_step_ms = 10000;
  int backoff_max_ms = 16000;
  int default_for_s = 3600;        // manual settings without an expiry expire after this
  int watch_ms = 500;              // how often frontends re-read the danmu:degrade hash
  // Automatic control (run by the active primary, published fleet-wide).
  bool auto_enabled = false;
  int eval_ms = 1000;
  int dwell_ms = 10000;            // lower one step only after every signal stayed low this long
  double lower_ratio = 0.5;        // "low" = below raise threshold x lower_ratio
  std::vector<double> kafka_lag_seconds = {2, 5, 10};        // raise thresholds for levels 1, 2, 3
  std::vector<double> redis_latency_ms = {50, 100, 200};
  std::vector<double> replication_lag_seconds = {5, 10, 30};
  std::vector<double> in_flight_requests = {200, 400, 800};
};

struct ProbeOptions {
  int interval_ms = 5000;   // one probe round per interval
  int timeout_ms = 5000;    // a probe comment not visible by then is a failure
};

// The pages (viewer, status) served on the public port (core/api/static_files.h).
struct WebOptions {
  // Folder of the static files, read once at start. Empty: the repository's
  // web/ next to the build tree, or <prefix>/share/danmu/web next to an
  // installed binary; pages are off (404) when neither exists. A folder named
  // here must exist and hold index.html, or danmud refuses to start.
  std::string static_dir;
  int status_sample_ms = 2000;   // the status page's aggregate samples this often (history for sparklines)
  int status_history = 150;      // samples kept (150 x 2 s = the last 5 minutes)
};

// Long connections (WebSocket, SSE) and push fan-out (DESIGN §12).
struct PushOptions {
  bool enabled = true;
  // Fan-out mode per live room by subscriber count, with hysteresis:
  // broadcast from broadcast_at, notify-pull again below notify_pull_below.
  int broadcast_at = 200;
  int notify_pull_below = 100;
  int frame_limit = 200;                  // most messages in one frame
  int queue_max_bytes = 262144;           // per connection; past it: resync
  int max_resyncs = 3;                    // resyncs before a close with 4000 (reconnect with your cursor)
  int max_connections = 18000;            // long connections per process (<= edge.max_connections: each is one of its connections)
  int max_connections_per_address = 2000; // long connections per client address
  int handshakes_per_sec = 2000;          // per process (burst: twice that)
  int ping_interval_ms = 15000;           // WebSocket ping / SSE keep-alive comment
  int idle_timeout_ms = 45000;            // nothing from a WebSocket client (not even a pong) this long: close 4002
  int max_client_frame_bytes = 4096;      // larger client frames: close 1009
  // SO_SNDBUF of a long connection: the kernel's share of a slow client's
  // memory (0 = the OS default, autotuned up to net.ipv4.tcp_wmem's max).
  int socket_send_buffer_bytes = 65536;
  int tick_ms = 100;                      // rounds for lagging and level-3-deferred rooms
  // A draining frontend (danmuctl edge drain without --over, SIGTERM) closes
  // its long connections with 1001 evenly over this long (0: at once).
  int drain_spread_ms = 10000;
};

struct HaOptions {
  // Secondary frontends read from the primary room's Redis while the local
  // replica lags more than fallback_lag_seconds or its link is down, and go
  // back once the lag stayed under recover_lag_seconds for recover_dwell_ms.
  bool stale_read_fallback = true;
  double fallback_lag_seconds = 2.0;
  double recover_lag_seconds = 0.5;
  int recover_dwell_ms = 3000;
  int peer_watch_ms = 1000;     // how often a room asks the other for its role and epoch
  // The primary lease (DESIGN §8, replication/primary_lease.h): the leader
  // key in etcd under a lease of lease_ttl_s, renewed every lease_renew_ms; a
  // write is acknowledged only while now - last renewal < TTL - margin.
  std::string lease_key = "/danmu/leader";
  int lease_ttl_s = 5;
  int lease_renew_ms = 1000;
  int lease_margin_ms = 500;
  bool auto_failover = false;              // a secondary takes the expired key and promotes itself
  int64_t auto_failover_max_lag_bytes = 1048576;  // ...only if its replica trails the last holder by at most this
  int64_t catch_up_lookback_ms = 60000;   // forced promotion: old primary's Kafka scanned from this long before
};

// etcd v3 cluster (JSON gateway), spoken to by core/store/etcd_client.h.
// Empty endpoints = no lease (acknowledgements are not fenced: a warning).
struct EtcdOptions {
  std::string endpoints;       // comma-separated http://host:port of every member
  int timeout_ms = 1000;       // per request and member
};

// The routing service (routing/, DESIGN §13): GET /v1/route on the public
// port, /v1/admin/route, this frontend's registration in etcd for discovery.
struct RoutingOptions {
  bool enabled = true;             // serve GET /v1/route (a frontend only)
  std::string prefix = "/danmu/";  // etcd key prefix: <prefix>route/rules, <prefix>edges/<room>/<id>
  std::string advertise_url;       // this frontend's public base URL for clients; "" = http://<bind>:<public_port>
  int rules_refresh_ms = 1000;     // re-read the fleet's rule set this often
  int edge_refresh_ms = 1000;      // re-read the registered edges this often
  int edge_ttl_s = 10;             // the registration's etcd lease: a dead frontend leaves the lists after this
  int register_interval_ms = 2000; // renew the lease and rewrite the record this often
  int max_endpoints = 3;           // endpoints handed to one client (local room first)
  int poll_recheck_ms = 60000;     // a polling client asks the router again after this
  int reconnect_base_ms = 1000;    // a long-connection client's first reconnect delay
};

struct Config {
  std::string room;            // this datacenter: A, B, ...
  Role role = Role::kPrimary;  // initial role; promotion changes it at runtime
  std::vector<std::string> components;
  std::string run_dir = "run";
  HttpOptions http;
  EdgeOptions edge;
  AdminOptions admin;
  RedisOptions redis;
  RedisOptions replay_redis;
  KafkaOptions kafka;
  MysqlOptions mysql;
  PeerOptions peer;
  LimitOptions limits;
  CacheOptions cache;
  PollOptions poll;
  ProcessorOptions processor;
  LikeOptions likes;
  CursorOptions cursor;
  ArchiveOptions archive;
  HaOptions ha;
  EtcdOptions etcd;
  DegradeOptions degrade;
  ProbeOptions probe;
  WebOptions web;
  PushOptions push;
  RoutingOptions routing;

  bool Runs(const std::string& component) const;
};

Result<Config> ParseConfig(const std::string& yaml_text);
Result<Config> LoadConfig(const std::string& path);
// Reads a small secret file (token, password), trimming whitespace.
Result<std::string> ReadSecretFile(const std::string& path);

}  // namespace danmu::core
