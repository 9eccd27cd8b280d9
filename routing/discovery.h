#pragma once
// Edge discovery (DESIGN §13). Every edge registers itself under
// `<prefix>edges/<room>/<id>` with a JSON EdgeRecord, attached to an etcd
// lease of ttl_s seconds that it keeps alive; an edge that dies (kill -9, a
// lost host) disappears when its lease expires, one that drains revokes the
// lease first so that routers stop handing it out at once.
//
//   DiscoveryStore  the few etcd operations this needs (etcd or in memory)
//   EdgeRegistrar   this process's registration loop
//   EdgeDirectory   a router's cached list of registered edges
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/periodic_task.h"
#include "core/base/status.h"

namespace danmu::core { class EtcdClient; }

namespace danmu::routing {

struct RoutingMetrics;

struct EdgeRecord {
  std::string id;            // unique per process: <room>-<port>-<pid>
  std::string room;          // datacenter
  std::string url;           // public base URL, e.g. http://127.0.0.1:17000
  int64_t connections = 0;   // open public connections (polling and long)
  int64_t long_connections = 0;
  bool draining = false;
  // Serves long connections right now (push.enabled and the operator's
  // move-to-polling switch off): routers hand out its WebSocket and SSE URLs
  // only then. A record without the field (an older edge) counts as true.
  bool push = true;

  std::string ToJson() const;
  static core::Result<EdgeRecord> FromJson(const std::string& json);
};

// Thread-safe implementations.
class DiscoveryStore {
 public:
  virtual ~DiscoveryStore() = default;
  virtual core::Result<int64_t> Grant(int64_t ttl_s) = 0;
  // kNotFound when the lease is gone (expired or revoked).
  virtual core::Status KeepAlive(int64_t lease) = 0;
  virtual core::Status Revoke(int64_t lease) = 0;
  virtual core::Status Put(const std::string& key, const std::string& value, int64_t lease) = 0;
  // key -> value of every key under `prefix`.
  virtual core::Result<std::map<std::string, std::string>> List(const std::string& prefix) = 0;
};

class EtcdDiscoveryStore final : public DiscoveryStore {
 public:
  explicit EtcdDiscoveryStore(core::EtcdClient* etcd) : etcd_(etcd) {}
  core::Result<int64_t> Grant(int64_t ttl_s) override;
  core::Status KeepAlive(int64_t lease) override;
  core::Status Revoke(int64_t lease) override;
  core::Status Put(const std::string& key, const std::string& value, int64_t lease) override;
  core::Result<std::map<std::string, std::string>> List(const std::string& prefix) override;

 private:
  core::EtcdClient* etcd_;
};

// Leases expire by an injected clock: unit tests drive time.
class MemoryDiscoveryStore final : public DiscoveryStore {
 public:
  explicit MemoryDiscoveryStore(const core::Clock& clock) : clock_(clock) {}
  core::Result<int64_t> Grant(int64_t ttl_s) override;
  core::Status KeepAlive(int64_t lease) override;
  core::Status Revoke(int64_t lease) override;
  core::Status Put(const std::string& key, const std::string& value, int64_t lease) override;
  core::Result<std::map<std::string, std::string>> List(const std::string& prefix) override;
  void SetAvailable(bool available);

 private:
  void Expire();  // requires mu_
  const core::Clock& clock_;
  std::mutex mu_;
  bool available_ = true;                          // guarded by mu_
  int64_t next_lease_ = 1;                         // guarded by mu_
  std::map<int64_t, std::pair<int64_t, int64_t>> leases_;  // id -> (ttl ms, deadline mono ms); guarded by mu_
  std::map<std::string, std::pair<std::string, int64_t>> kvs_;  // key -> (value, lease); guarded by mu_
};

std::string EdgeKey(const std::string& prefix, const EdgeRecord& r);

// Registers this edge and keeps the registration alive: every interval it
// renews the lease and rewrites the record (so the connection counts that
// routers balance on are at most one interval old); a lost lease (etcd was
// unreachable past the TTL) is granted anew. Tick() is the loop body.
// Thread safety: Start/Stop/Deregister from one thread; Tick on the loop.
class EdgeRegistrar {
 public:
  EdgeRegistrar(DiscoveryStore* store, std::string prefix, int ttl_s, int interval_ms,
                std::function<EdgeRecord()> record, RoutingMetrics* metrics);
  ~EdgeRegistrar();
  void Start();
  void Stop();  // stops renewing; the lease then expires by itself
  // Draining: stop the loop and revoke the lease so routers drop this edge now.
  core::Status Deregister();
  core::Status Tick();
  bool registered() const;

 private:
  DiscoveryStore* store_;
  const std::string prefix_;
  const int ttl_s_;
  std::function<EdgeRecord()> record_;
  RoutingMetrics* metrics_;
  mutable std::mutex mu_;
  int64_t lease_ = 0;         // guarded by mu_
  bool registered_ = false;   // guarded by mu_
  core::PeriodicTask loop_;
};

// A router's view of the registered edges, refreshed every interval.
// Thread safety: any thread; the list is a snapshot swapped under mu_.
class EdgeDirectory {
 public:
  EdgeDirectory(DiscoveryStore* store, std::string prefix, int interval_ms, RoutingMetrics* metrics);
  ~EdgeDirectory();
  void Start();
  void Stop();
  core::Status Refresh();
  // Edges to hand out: not draining (and, for a long connection, serving
  // push), `local_room` first, then the others; inside each, fewest
  // connections first (ties by id, so answers are stable).
  std::vector<EdgeRecord> Pick(const std::string& local_room, size_t max, bool long_connection = false) const;
  std::vector<EdgeRecord> All() const;
  bool stale() const;

 private:
  DiscoveryStore* store_;
  const std::string prefix_;
  RoutingMetrics* metrics_;
  mutable std::mutex mu_;
  std::vector<EdgeRecord> edges_;  // guarded by mu_
  bool stale_ = false;             // guarded by mu_
  std::set<std::string> rooms_seen_;  // guarded by mu_ (rooms whose gauge was set: kept at 0 when empty)
  core::PeriodicTask loop_;
};

}  // namespace danmu::routing
