#pragma once
// A synchronous Redis connection (hiredis inside), with reconnect on the next
// call after a failure. Not thread-safe: each component owns its clients.
// Command errors (READONLY, script errors) come back as kError replies;
// connection failures and timeouts as Status kUnavailable.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/config.h"
#include "core/base/status.h"

namespace danmu::core {

class Metrics;

struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // string, status or error text
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }
  // The reply as an integer: an integer reply, or a string of digits.
  // Anything else (nil, an error such as LOADING, text) yields `fallback`.
  int64_t AsInt(int64_t fallback = 0) const;
};

using RedisArgs = std::vector<std::string>;

class RedisClient {
 public:
  // `target` labels metrics: live, peer, replay.
  RedisClient(RedisOptions options, std::string target, Metrics* metrics);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  Result<RedisReply> Command(const RedisArgs& args);
  // Sends all commands, then reads all replies: one round trip.
  Result<std::vector<RedisReply>> Pipeline(const std::vector<RedisArgs>& commands);
  // EVALSHA with a transparent fallback to EVAL when the script is not cached.
  // Returns the reply for each call, in order, in one round trip.
  Result<std::vector<RedisReply>> EvalPipeline(const std::string& script, const std::vector<RedisArgs>& keys_and_args);

  const std::string& address() const { return options_.address; }
  void Reset(const std::string& address);  // point at another server (promotion, fallback)

 private:
  Status EnsureConnected();
  void Drop();

  RedisOptions options_;
  std::string target_;
  Metrics* metrics_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "host:port" -> host, port. false when malformed.
bool SplitHostPort(const std::string& address, std::string* host, int* port);

}  // namespace danmu::core
