#include "routing/discovery.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>

#include "core/base/json_text.h"
#include "core/base/log.h"
#include "routing/routing_metrics.h"

namespace danmu::routing {

using core::Code;
using core::Result;
using core::Status;

std::string EdgeRecord::ToJson() const {
  std::string out = "{\"id\":";
  core::AppendJsonString(out, id);
  out += ",\"room\":";
  core::AppendJsonString(out, room);
  out += ",\"url\":";
  core::AppendJsonString(out, url);
  out += ",\"connections\":" + std::to_string(connections) +
         ",\"long_connections\":" + std::to_string(long_connections) +
         ",\"draining\":" + (draining ? "true" : "false") + ",\"push\":" + (push ? "true" : "false") + "}";
  return out;
}

Result<EdgeRecord> EdgeRecord::FromJson(const std::string& json) {
  if (json.size() > 4096 || core::JsonNestingDepth(json) > 2) return Status(Code::kInvalidArgument, "edge record too large");
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(json);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return Status(Code::kInvalidArgument, "edge record is not an object");
    auto o = v.extract<Poco::JSON::Object::Ptr>();
    EdgeRecord r;
    r.id = o->optValue<std::string>("id", "");
    r.room = o->optValue<std::string>("room", "");
    r.url = o->optValue<std::string>("url", "");
    r.connections = o->optValue<int64_t>("connections", 0);
    r.long_connections = o->optValue<int64_t>("long_connections", 0);
    r.draining = o->optValue<bool>("draining", false);
    r.push = o->optValue<bool>("push", true);
    if (r.id.empty() || r.room.empty() || r.url.empty()) return Status(Code::kInvalidArgument, "edge record lacks id, room or url");
    return r;
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, std::string("edge record: ") + e.what());
  }
}

std::string EdgeKey(const std::string& prefix, const EdgeRecord& r) { return prefix + "edges/" + r.room + "/" + r.id; }

// --- MemoryDiscoveryStore ---

void MemoryDiscoveryStore::Expire() {
  const int64_t now = clock_.MonoMs();
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.second <= now) {
      for (auto kv = kvs_.begin(); kv != kvs_.end();) kv = kv->second.second == it->first ? kvs_.erase(kv) : std::next(kv);
      it = leases_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<int64_t> MemoryDiscoveryStore::Grant(int64_t ttl_s) {
  std::lock_guard lock(mu_);
  if (!available_) return Status(Code::kUnavailable, "discovery unavailable");
  const int64_t id = next_lease_++;
  leases_[id] = {ttl_s * 1000, clock_.MonoMs() + ttl_s * 1000};
  return id;
}

Status MemoryDiscoveryStore::KeepAlive(int64_t lease) {
  std::lock_guard lock(mu_);
  if (!available_) return Status(Code::kUnavailable, "discovery unavailable");
  Expire();
  auto it = leases_.find(lease);
  if (it == leases_.end()) return Status(Code::kNotFound, "lease gone");
  it->second.second = clock_.MonoMs() + it->second.first;
  return Status::Ok();
}

Status MemoryDiscoveryStore::Revoke(int64_t lease) {
  std::lock_guard lock(mu_);
  if (!available_) return Status(Code::kUnavailable, "discovery unavailable");
  leases_.erase(lease);
  for (auto kv = kvs_.begin(); kv != kvs_.end();) kv = kv->second.second == lease ? kvs_.erase(kv) : std::next(kv);
  return Status::Ok();
}

Status MemoryDiscoveryStore::Put(const std::string& key, const std::string& value, int64_t lease) {
  std::lock_guard lock(mu_);
  if (!available_) return Status(Code::kUnavailable, "discovery unavailable");
  Expire();
  if (lease && !leases_.count(lease)) return Status(Code::kNotFound, "lease gone");
  kvs_[key] = {value, lease};
  return Status::Ok();
}

Result<std::map<std::string, std::string>> MemoryDiscoveryStore::List(const std::string& prefix) {
  std::lock_guard lock(mu_);
  if (!available_) return Status(Code::kUnavailable, "discovery unavailable");
  Expire();
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : kvs_) {
    if (k.compare(0, prefix.size(), prefix) == 0) out[k] = v.first;
  }
  return out;
}

void MemoryDiscoveryStore::SetAvailable(bool available) {
  std::lock_guard lock(mu_);
  available_ = available;
}

// --- EdgeRegistrar ---

EdgeRegistrar::EdgeRegistrar(DiscoveryStore* store, std::string prefix, int ttl_s, int interval_ms,
                             std::function<EdgeRecord()> record, RoutingMetrics* metrics)
    : store_(store),
      prefix_(std::move(prefix)),
      ttl_s_(ttl_s),
      record_(std::move(record)),
      metrics_(metrics),
      loop_("edge_registrar", interval_ms, [this] { (void)Tick(); }) {}

EdgeRegistrar::~EdgeRegistrar() { Stop(); }

void EdgeRegistrar::Start() { loop_.Start(); }
void EdgeRegistrar::Stop() { loop_.Stop(); }

bool EdgeRegistrar::registered() const {
  std::lock_guard lock(mu_);
  return registered_;
}

Status EdgeRegistrar::Tick() {
  std::lock_guard lock(mu_);
  const EdgeRecord rec = record_();
  const bool was = registered_;
  auto fail = [&](const Status& s) {
    registered_ = false;
    if (metrics_) metrics_->registered.Set(0);
    if (was) core::LogWarn("edge_registration_lost", {{"edge", rec.id}, {"error", s.ToString()}});
    return s;
  };
  if (lease_ != 0) {
    Status alive = store_->KeepAlive(lease_);
    if (alive.code() == Code::kNotFound) {
      lease_ = 0;  // expired while etcd was unreachable (or revoked): register anew
    } else if (!alive.ok()) {
      return fail(alive);
    }
  }
  if (lease_ == 0) {
    auto granted = store_->Grant(ttl_s_);
    if (!granted.ok()) return fail(granted.status());
    lease_ = *granted;
  }
  Status put = store_->Put(EdgeKey(prefix_, rec), rec.ToJson(), lease_);
  if (!put.ok()) {
    if (put.code() == Code::kNotFound) lease_ = 0;
    return fail(put);
  }
  registered_ = true;
  if (metrics_) metrics_->registered.Set(1);
  if (!was) core::LogInfo("edge_registered", {{"edge", rec.id}, {"room", rec.room}, {"url", rec.url},
                                              {"lease", std::to_string(lease_)}, {"ttl_s", std::to_string(ttl_s_)}});
  return Status::Ok();
}

Status EdgeRegistrar::Deregister() {
  loop_.Stop();
  std::lock_guard lock(mu_);
  registered_ = false;
  if (metrics_) metrics_->registered.Set(0);
  if (lease_ == 0) return Status::Ok();
  Status s = store_->Revoke(lease_);
  core::LogWarn("edge_deregistered", {{"edge", record_().id}, {"result", s.ok() ? "ok" : s.ToString()}});
  lease_ = 0;
  return s;
}

// --- EdgeDirectory ---

EdgeDirectory::EdgeDirectory(DiscoveryStore* store, std::string prefix, int interval_ms, RoutingMetrics* metrics)
    : store_(store),
      prefix_(std::move(prefix)),
      metrics_(metrics),
      loop_("edge_directory", interval_ms, [this] { (void)Refresh(); }) {}

EdgeDirectory::~EdgeDirectory() { Stop(); }
void EdgeDirectory::Start() { loop_.Start(); }
void EdgeDirectory::Stop() { loop_.Stop(); }

bool EdgeDirectory::stale() const {
  std::lock_guard lock(mu_);
  return stale_;
}

Status EdgeDirectory::Refresh() {
  auto listed = store_->List(prefix_ + "edges/");
  std::lock_guard lock(mu_);
  if (!listed.ok()) {
    if (!stale_) core::LogWarn("edge_directory_stale", {{"error", listed.status().ToString()}});
    stale_ = true;
    if (metrics_) metrics_->directory_stale.Set(1);
    return listed.status();
  }
  if (stale_) core::LogWarn("edge_directory_fresh", {{"edges", std::to_string(listed->size())}});
  stale_ = false;
  std::vector<EdgeRecord> edges;
  for (const auto& [key, value] : *listed) {
    auto r = EdgeRecord::FromJson(value);
    if (r.ok()) edges.push_back(*r);
  }
  edges_ = std::move(edges);
  if (metrics_) {
    metrics_->directory_stale.Set(0);
    std::map<std::string, int> per_room;
    for (const auto& room : rooms_seen_) per_room[room] = 0;
    for (const auto& e : edges_) {
      if (!e.draining) ++per_room[e.room];
    }
    for (const auto& [room, n] : per_room) {
      metrics_->edges.Add({{"edge_room", room}}).Set(n);
      rooms_seen_.insert(room);
    }
  }
  return Status::Ok();
}

std::vector<EdgeRecord> EdgeDirectory::All() const {
  std::lock_guard lock(mu_);
  return edges_;
}

std::vector<EdgeRecord> EdgeDirectory::Pick(const std::string& local_room, size_t max, bool long_connection) const {
  std::vector<EdgeRecord> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& e : edges_) {
      if (!e.draining && (e.push || !long_connection)) out.push_back(e);
    }
  }
  std::sort(out.begin(), out.end(), [&](const EdgeRecord& a, const EdgeRecord& b) {
    const bool la = a.room == local_room, lb = b.room == local_room;
    if (la != lb) return la;
    if (a.connections != b.connections) return a.connections < b.connections;
    return a.id < b.id;
  });
  if (out.size() > max) out.resize(max);
  return out;
}

// --- EtcdDiscoveryStore: in etcd_discovery_store.cc ---

}  // namespace danmu::routing
