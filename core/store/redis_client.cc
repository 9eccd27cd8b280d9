#include "core/store/redis_client.h"

#include <hiredis/hiredis.h>
#include <Poco/SHA1Engine.h>
#include <Poco/DigestEngine.h>

#include <charconv>
#include <chrono>

#include "core/base/parse_int.h"
#include "core/base/metrics.h"

namespace danmu::core {

struct RedisClient::Impl {
  redisContext* ctx = nullptr;
  prometheus::Counter* commands = nullptr;
  prometheus::Counter* errors = nullptr;
  prometheus::Histogram* roundtrip = nullptr;
};

bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  auto pos = address.rfind(':');
  if (pos == std::string::npos || pos == 0) return false;
  *host = address.substr(0, pos);
  int64_t p = 0;
  if (!ParseInt64(std::string_view(address).substr(pos + 1), &p) || p <= 0 || p >= 65536) return false;
  *port = static_cast<int>(p);
  return true;
}

int64_t RedisReply::AsInt(int64_t fallback) const {
  if (type == Type::kInteger) return integer;
  if (type != Type::kString) return fallback;
  return ParseInt64Or(str, fallback);
}

namespace {

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Type::kInteger; out.integer = r->integer; break;
    case REDIS_REPLY_STRING: out.type = RedisReply::Type::kString; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: out.type = RedisReply::Type::kStatus; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ERROR: out.type = RedisReply::Type::kError; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default: out.type = RedisReply::Type::kNil; break;
  }
  return out;
}

void Append(redisContext* ctx, const RedisArgs& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(ctx, static_cast<int>(args.size()), argv.data(), lens.data());
}

std::string Sha1Hex(const std::string& s) {
  Poco::SHA1Engine sha;
  sha.update(s);
  return Poco::DigestEngine::digestToHex(sha.digest());
}

}  // namespace

RedisClient::RedisClient(RedisOptions options, std::string target, Metrics* metrics)
    : options_(std::move(options)), target_(std::move(target)), metrics_(metrics), impl_(std::make_unique<Impl>()) {
  if (metrics_) {
    impl_->commands = &metrics_->redis_commands.Add({{"target", target_}});
    impl_->errors = &metrics_->redis_errors.Add({{"target", target_}});
    impl_->roundtrip = &metrics_->redis_roundtrip.Add({{"target", target_}}, Metrics::LatencyBuckets());
  }
}

RedisClient::~RedisClient() { Drop(); }

void RedisClient::Drop() {
  if (impl_->ctx) {
    redisFree(impl_->ctx);
    impl_->ctx = nullptr;
  }
}

void RedisClient::Reset(const std::string& address) {
  Drop();
  options_.address = address;
}

Status RedisClient::EnsureConnected() {
  if (impl_->ctx) return Status::Ok();
  std::string host;
  int port = 0;
  if (!SplitHostPort(options_.address, &host, &port)) {
    return Status(Code::kInvalidArgument, "bad redis address " + options_.address);
  }
  timeval tv{options_.timeout_ms / 1000, (options_.timeout_ms % 1000) * 1000};
  redisContext* ctx = redisConnectWithTimeout(host.c_str(), port, tv);
  if (!ctx || ctx->err) {
    std::string err = ctx ? ctx->errstr : "allocation failed";
    if (ctx) redisFree(ctx);
    if (impl_->errors) impl_->errors->Increment();
    return Status(Code::kUnavailable, "redis " + options_.address + ": " + err);
  }
  redisSetTimeout(ctx, tv);
  impl_->ctx = ctx;
  if (!options_.password.empty()) {
    auto r = Command({"AUTH", options_.password});
    if (!r.ok()) return r.status();
    if (r->is_error()) {
      Drop();
      return Status(Code::kUnavailable, "redis " + options_.address + " AUTH: " + r->str);
    }
  }
  return Status::Ok();
}

Result<RedisReply> RedisClient::Command(const RedisArgs& args) {
  auto r = Pipeline({args});
  if (!r.ok()) return r.status();
  return std::move(r->front());
}

Result<std::vector<RedisReply>> RedisClient::Pipeline(const std::vector<RedisArgs>& commands) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  auto start = std::chrono::steady_clock::now();
  for (const auto& c : commands) Append(impl_->ctx, c);
  std::vector<RedisReply> out;
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(impl_->ctx, &raw) != REDIS_OK || !raw) {
      std::string err = impl_->ctx->errstr;
      Drop();
      if (impl_->errors) impl_->errors->Increment();
      return Status(Code::kUnavailable, "redis " + options_.address + ": " + (err.empty() ? "connection lost" : err));
    }
    auto* reply = static_cast<redisReply*>(raw);
    out.push_back(Convert(reply));
    freeReplyObject(reply);
  }
  if (impl_->commands) {
    impl_->commands->Increment(static_cast<double>(commands.size()));
    impl_->roundtrip->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return out;
}

Result<std::vector<RedisReply>> RedisClient::EvalPipeline(const std::string& script,
                                                          const std::vector<RedisArgs>& keys_and_args) {
  static thread_local std::string cached_script, cached_sha;
  if (cached_script != script) {
    cached_script = script;
    cached_sha = Sha1Hex(script);
  }
  std::vector<RedisArgs> cmds;
  cmds.reserve(keys_and_args.size());
  for (const auto& a : keys_and_args) {
    RedisArgs c;
    c.reserve(a.size() + 2);
    c.push_back("EVALSHA");
    c.push_back(cached_sha);
    c.insert(c.end(), a.begin(), a.end());
    cmds.push_back(std::move(c));
  }
  auto r = Pipeline(cmds);
  if (!r.ok()) return r;
  bool noscript = false;
  for (const auto& rep : *r) noscript |= rep.is_error() && rep.str.rfind("NOSCRIPT", 0) == 0;
  if (!noscript) return r;
  // The server lost its script cache (restart, failover): load it once and
  // retry. A NOSCRIPT reply means the script did not run, so retrying is safe.
  auto load = Command({"SCRIPT", "LOAD", script});
  if (!load.ok()) return load.status();
  if (load->is_error()) return Status(Code::kInternal, "SCRIPT LOAD: " + load->str);
  return Pipeline(cmds);
}

}  // namespace danmu::core
