#pragma once
// Connection accounting of one edge process, shared by every kind of
// connection it holds (HTTP keep-alive sessions and the long connections,
// WebSocket and SSE, that an HTTP session hands off; edge/upgrade.h).
//
// Contract:
//   - TryAcquire(address) takes one slot of the process cap and one of the
//     source address's cap, or none: it returns an empty lease and the reason
//     (kProcessCap / kAddressCap). A cap of 0 means "no cap".
//   - A ConnectionLease is the slot: move-only, released exactly once, when
//     the lease is destroyed or Release()d. A connection keeps its lease for
//     its whole life; a hand-off moves the lease with the socket, so a
//     connection upgraded to WebSocket stays counted once.
//   - Thread-safe: one mutex guards the per-address map (taken once per
//     accept and once per close, never per request). open() is lock-free.
//   - The per-address map holds only addresses with open connections, so it
//     is bounded by the process cap.
// Pure logic: no Beast, no sockets; the refusal is answered and counted by
// the caller (edge/server.cc: 503 for the process cap, 429 for an address).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace danmu::edge {

class ConnectionLimits;

class ConnectionLease {
 public:
  ConnectionLease() = default;
  ConnectionLease(ConnectionLease&& other) noexcept;
  ConnectionLease& operator=(ConnectionLease&& other) noexcept;
  ConnectionLease(const ConnectionLease&) = delete;
  ConnectionLease& operator=(const ConnectionLease&) = delete;
  ~ConnectionLease() { Release(); }

  explicit operator bool() const { return limits_ != nullptr; }
  const std::string& address() const { return address_; }
  void Release();

 private:
  friend class ConnectionLimits;
  ConnectionLease(ConnectionLimits* limits, std::string address) : limits_(limits), address_(std::move(address)) {}
  ConnectionLimits* limits_ = nullptr;
  std::string address_;
};

class ConnectionLimits {
 public:
  enum class Refusal { kNone, kProcessCap, kAddressCap };

  // `max_per_process`, `max_per_address`: 0 = unlimited.
  ConnectionLimits(int64_t max_per_process, int64_t max_per_address)
      : max_process_(max_per_process), max_address_(max_per_address) {}
  ConnectionLimits(const ConnectionLimits&) = delete;
  ConnectionLimits& operator=(const ConnectionLimits&) = delete;

  // An empty lease and `*why` set when a cap is reached.
  ConnectionLease TryAcquire(const std::string& address, Refusal* why);

  int64_t open() const { return open_.load(std::memory_order_relaxed); }
  int64_t open_from(const std::string& address) const;
  int64_t max_per_process() const { return max_process_; }
  int64_t max_per_address() const { return max_address_; }

  static const char* RefusalName(Refusal r);

 private:
  friend class ConnectionLease;
  void Release(const std::string& address);

  const int64_t max_process_;
  const int64_t max_address_;
  std::atomic<int64_t> open_{0};
  mutable std::mutex mu_;
  std::unordered_map<std::string, int64_t> per_address_;  // guarded by mu_; only addresses with > 0
};

}  // namespace danmu::edge
