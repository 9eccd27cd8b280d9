// Edge discovery on etcd: records under leases (discovery.h).
#include "core/store/etcd_client.h"
#include "routing/discovery.h"

namespace danmu::routing {

using core::Result;
using core::Status;

Result<int64_t> EtcdDiscoveryStore::Grant(int64_t ttl_s) { return etcd_->Grant(ttl_s); }

Status EtcdDiscoveryStore::KeepAlive(int64_t lease) {
  auto r = etcd_->KeepAlive(lease);
  return r.ok() ? Status::Ok() : r.status();
}

Status EtcdDiscoveryStore::Revoke(int64_t lease) { return etcd_->Revoke(lease); }

Status EtcdDiscoveryStore::Put(const std::string& key, const std::string& value, int64_t lease) {
  auto r = etcd_->Put(key, value, lease);
  if (r.ok()) return Status::Ok();
  // etcd answers a put on a dead lease with "requested lease not found".
  if (r.status().message().find("lease not found") != std::string::npos) {
    return Status(core::Code::kNotFound, r.status().message());
  }
  return r.status();
}

Result<std::map<std::string, std::string>> EtcdDiscoveryStore::List(const std::string& prefix) {
  auto kvs = etcd_->GetPrefix(prefix);
  if (!kvs.ok()) return kvs.status();
  std::map<std::string, std::string> out;
  for (const auto& kv : *kvs) out[kv.key] = kv.value;
  return out;
}

}  // namespace danmu::routing
