#pragma once
// etcd v3 through its JSON gateway (grpc-gateway, POST /v3/...), with Poco's
// HTTP client: no vendored etcd client. Used for the primary lease
// (replication/primary_lease.h) and, later, discovery and routing rules.
//
// Protocol notes (etcd 3.4 gateway):
//   - keys and values travel base64-encoded; int64 fields are JSON strings;
//     fields at their zero value are omitted (no "kvs" = no key, no "TTL" in
//     a keepalive answer = the lease is gone, no "succeeded" = false);
//   - an error is a non-200 answer {"error","message","code"} (gRPC code).
// Members: every call tries the member that answered last, then the others in
// turn; a transport failure, a timeout or a 5xx moves to the next member, a
// 4xx does not (the request itself is wrong). All members failing is
// kUnavailable (no quorum, or etcd down).
//
// Thread safety: all methods may be called from any thread; each call uses its
// own connection (the member index is an atomic).
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace danmu::core {

struct EtcdKv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;  // 0 = no lease
};

// One comparison of a transaction (etcd Compare).
struct EtcdCompare {
  enum class Target { kCreate, kMod, kVersion, kValue, kLease };
  enum class Op { kEqual, kGreater, kLess, kNotEqual };
  Target target = Target::kCreate;
  Op op = Op::kEqual;
  std::string key;
  int64_t number = 0;   // create/mod revision, version or lease id
  std::string value;    // for kValue
};

// One operation of a transaction branch.
struct EtcdOp {
  enum class Kind { kPut, kRange, kDelete };
  Kind kind = Kind::kRange;
  std::string key;
  std::string value;       // kPut
  int64_t lease = 0;       // kPut
  std::string range_end;   // kRange/kDelete: empty = the key alone
};

struct EtcdTxnResult {
  bool succeeded = false;
  int64_t revision = 0;           // the store revision after the transaction
  std::vector<EtcdKv> kvs;        // of every range in the branch taken, in order
};

struct EtcdLeaseInfo {
  int64_t id = 0;
  int64_t ttl_s = -1;             // remaining; -1 = no such lease (expired or revoked)
  int64_t granted_ttl_s = 0;
};

class EtcdClient {
 public:
  // endpoints: http://host:port of every member.
  EtcdClient(std::vector<std::string> endpoints, int timeout_ms);

  // A new lease of `ttl_s` seconds; its id.
  Result<int64_t> Grant(int64_t ttl_s);
  // One keepalive: the remaining TTL, or kNotFound when the lease is gone.
  Result<int64_t> KeepAlive(int64_t lease);
  Status Revoke(int64_t lease);
  Result<EtcdLeaseInfo> TimeToLive(int64_t lease);
  // The key, or nullopt when absent.
  Result<std::optional<EtcdKv>> Get(const std::string& key);
  // Every key with `prefix`, in key order.
  Result<std::vector<EtcdKv>> GetPrefix(const std::string& prefix);
  // The revision of the put.
  Result<int64_t> Put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Keys deleted.
  Result<int64_t> Delete(const std::string& key);
  Result<EtcdTxnResult> Txn(const std::vector<EtcdCompare>& compare, const std::vector<EtcdOp>& success,
                            const std::vector<EtcdOp>& failure);
  // Creates `key` only if absent; on failure the branch reads the current key.
  Result<EtcdTxnResult> CreateIfAbsent(const std::string& key, const std::string& value, int64_t lease);

  const std::vector<std::string>& endpoints() const { return endpoints_; }

  // --- the pure parts (unit-tested) ---
  static std::string Base64(const std::string& raw);
  static Result<std::string> UnBase64(const std::string& b64);
  // The range_end that selects every key with `prefix` ("" = to the end).
  static std::string PrefixEnd(const std::string& prefix);
  static std::string RangeBody(const std::string& key, const std::string& range_end);
  static std::string PutBody(const std::string& key, const std::string& value, int64_t lease);
  static std::string TxnBody(const std::vector<EtcdCompare>& compare, const std::vector<EtcdOp>& success,
                             const std::vector<EtcdOp>& failure);
  static Result<std::vector<EtcdKv>> ParseRange(const std::string& body);
  static Result<EtcdTxnResult> ParseTxn(const std::string& body);
  static Result<int64_t> ParseKeepAlive(const std::string& body);  // TTL; kNotFound when gone
  static Result<EtcdLeaseInfo> ParseTimeToLive(const std::string& body);
  static Result<int64_t> ParseGrant(const std::string& body);

 private:
  // POSTs `body` to `path` on the members in turn; the 200 answer's body.
  Result<std::string> Call(const std::string& path, const std::string& body);

  const std::vector<std::string> endpoints_;
  const int timeout_ms_;
  std::atomic<size_t> current_{0};
};

}  // namespace danmu::core
