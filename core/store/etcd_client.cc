#include "core/store/etcd_client.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <sstream>

namespace danmu::core {

namespace {

using Poco::JSON::Object;

// int64 fields come as JSON strings ("42"); tolerate numbers too.
int64_t Int(const Object::Ptr& o, const char* name) {
  if (!o || !o->has(name)) return 0;
  Poco::Dynamic::Var v = o->get(name);
  if (v.isString()) {
    const std::string s = v.extract<std::string>();
    char* end = nullptr;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') throw std::runtime_error(std::string("field ") + name + " is not an integer");
    return n;
  }
  return v.convert<int64_t>();
}

Object::Ptr ParseObject(const std::string& body) {
  Poco::JSON::Parser parser;
  auto v = parser.parse(body);
  if (v.type() != typeid(Object::Ptr)) throw std::runtime_error("not a JSON object");
  return v.extract<Object::Ptr>();
}

Result<EtcdKv> ParseKv(const Object::Ptr& o) {
  EtcdKv kv;
  auto key = EtcdClient::UnBase64(o->optValue<std::string>("key", ""));
  if (!key.ok()) return key.status();
  auto value = EtcdClient::UnBase64(o->optValue<std::string>("value", ""));
  if (!value.ok()) return value.status();
  kv.key = *key;
  kv.value = *value;
  kv.create_revision = Int(o, "create_revision");
  kv.mod_revision = Int(o, "mod_revision");
  kv.version = Int(o, "version");
  kv.lease = Int(o, "lease");
  return kv;
}

Status ParseKvs(const Object::Ptr& o, std::vector<EtcdKv>* out) {
  if (!o || !o->has("kvs")) return Status::Ok();
  auto arr = o->getArray("kvs");
  if (!arr) return Status(Code::kUnavailable, "etcd answer: kvs is not an array");
  for (size_t i = 0; i < arr->size(); ++i) {
    auto kv = ParseKv(arr->getObject(static_cast<unsigned>(i)));
    if (!kv.ok()) return kv.status();
    out->push_back(std::move(*kv));
  }
  return Status::Ok();
}

Status Unreadable(const std::exception& e) {
  return Status(Code::kUnavailable, std::string("etcd answer unreadable: ") + e.what());
}

const char* TargetName(EtcdCompare::Target t) {
  switch (t) {
    case EtcdCompare::Target::kCreate: return "CREATE";
    case EtcdCompare::Target::kMod: return "MOD";
    case EtcdCompare::Target::kVersion: return "VERSION";
    case EtcdCompare::Target::kValue: return "VALUE";
    case EtcdCompare::Target::kLease: return "LEASE";
  }
  return "CREATE";
}

const char* OpName(EtcdCompare::Op op) {
  switch (op) {
    case EtcdCompare::Op::kEqual: return "EQUAL";
    case EtcdCompare::Op::kGreater: return "GREATER";
    case EtcdCompare::Op::kLess: return "LESS";
    case EtcdCompare::Op::kNotEqual: return "NOT_EQUAL";
  }
  return "EQUAL";
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }  // base64 and digits only

std::string OpBody(const EtcdOp& op) {
  switch (op.kind) {
    case EtcdOp::Kind::kPut:
      return "{\"requestPut\":" + EtcdClient::PutBody(op.key, op.value, op.lease) + "}";
    case EtcdOp::Kind::kRange:
      return "{\"requestRange\":" + EtcdClient::RangeBody(op.key, op.range_end) + "}";
    case EtcdOp::Kind::kDelete:
      return "{\"requestDeleteRange\":" + EtcdClient::RangeBody(op.key, op.range_end) + "}";
  }
  return "{}";
}

std::string OpsBody(const std::vector<EtcdOp>& ops) {
  std::string b = "[";
  for (size_t i = 0; i < ops.size(); ++i) b += (i ? "," : "") + OpBody(ops[i]);
  return b + "]";
}

}  // namespace

EtcdClient::EtcdClient(std::vector<std::string> endpoints, int timeout_ms)
    : endpoints_(std::move(endpoints)), timeout_ms_(timeout_ms) {}

std::string EtcdClient::Base64(const std::string& raw) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out);
  enc.rdbuf()->setLineLength(0);
  enc << raw;
  enc.close();
  return out.str();
}

Result<std::string> EtcdClient::UnBase64(const std::string& b64) {
  if (b64.size() % 4 != 0) return Status(Code::kUnavailable, "etcd answer: bad base64 (length)");
  for (char c : b64) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      return Status(Code::kUnavailable, "etcd answer: bad base64 character");
    }
  }
  try {
    std::istringstream in(b64);
    Poco::Base64Decoder dec(in);
    std::string out;
    Poco::StreamCopier::copyToString(dec, out);
    return out;
  } catch (const std::exception& e) {
    return Status(Code::kUnavailable, std::string("etcd answer: bad base64: ") + e.what());
  }
}

std::string EtcdClient::PrefixEnd(const std::string& prefix) {
  // etcd's rule: the prefix with its last byte below 0xff incremented and
  // the rest cut; all 0xff (or empty) = "\0" (to the end of the keyspace).
  std::string end = prefix;
  while (!end.empty()) {
    auto c = static_cast<unsigned char>(end.back());
    if (c < 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string EtcdClient::RangeBody(const std::string& key, const std::string& range_end) {
  std::string b = "{\"key\":" + Quoted(Base64(key));
  if (!range_end.empty()) b += ",\"range_end\":" + Quoted(Base64(range_end));
  return b + "}";
}

std::string EtcdClient::PutBody(const std::string& key, const std::string& value, int64_t lease) {
  std::string b = "{\"key\":" + Quoted(Base64(key)) + ",\"value\":" + Quoted(Base64(value));
  if (lease != 0) b += ",\"lease\":" + Quoted(std::to_string(lease));
  return b + "}";
}

std::string EtcdClient::TxnBody(const std::vector<EtcdCompare>& compare, const std::vector<EtcdOp>& success,
                                const std::vector<EtcdOp>& failure) {
  std::string b = "{\"compare\":[";
  for (size_t i = 0; i < compare.size(); ++i) {
    const EtcdCompare& c = compare[i];
    b += i ? "," : "";
    b += "{\"target\":\"" + std::string(TargetName(c.target)) + "\",\"result\":\"" + OpName(c.op) +
         "\",\"key\":" + Quoted(Base64(c.key)) + ",";
    switch (c.target) {
      case EtcdCompare::Target::kCreate: b += "\"create_revision\":" + Quoted(std::to_string(c.number)); break;
      case EtcdCompare::Target::kMod: b += "\"mod_revision\":" + Quoted(std::to_string(c.number)); break;
      case EtcdCompare::Target::kVersion: b += "\"version\":" + Quoted(std::to_string(c.number)); break;
      case EtcdCompare::Target::kLease: b += "\"lease\":" + Quoted(std::to_string(c.number)); break;
      case EtcdCompare::Target::kValue: b += "\"value\":" + Quoted(Base64(c.value)); break;
    }
    b += "}";
  }
  return b + "],\"success\":" + OpsBody(success) + ",\"failure\":" + OpsBody(failure) + "}";
}

Result<std::vector<EtcdKv>> EtcdClient::ParseRange(const std::string& body) {
  try {
    std::vector<EtcdKv> out;
    if (Status s = ParseKvs(ParseObject(body), &out); !s.ok()) return s;
    return out;
  } catch (const std::exception& e) {
    return Unreadable(e);
  }
}

Result<EtcdTxnResult> EtcdClient::ParseTxn(const std::string& body) {
  try {
    auto o = ParseObject(body);
    EtcdTxnResult r;
    r.succeeded = o->optValue<bool>("succeeded", false);
    if (o->has("header")) r.revision = Int(o->getObject("header"), "revision");
    if (o->has("responses")) {
      auto arr = o->getArray("responses");
      for (size_t i = 0; arr && i < arr->size(); ++i) {
        auto resp = arr->getObject(static_cast<unsigned>(i));
        if (resp && resp->has("response_range")) {
          if (Status s = ParseKvs(resp->getObject("response_range"), &r.kvs); !s.ok()) return s;
        }
      }
    }
    return r;
  } catch (const std::exception& e) {
    return Unreadable(e);
  }
}

Result<int64_t> EtcdClient::ParseKeepAlive(const std::string& body) {
  try {
    // The gateway streams: one JSON object per line, {"result":{...}}.
    std::string first = body.substr(0, body.find('\n'));
    auto o = ParseObject(first);
    if (o->has("error")) {
      auto e = o->getObject("error");
      return Status(Code::kUnavailable, "etcd keepalive: " + (e ? e->optValue<std::string>("message", "error") : "error"));
    }
    auto r = o->getObject("result");
    if (!r) return Status(Code::kUnavailable, "etcd keepalive: no result");
    int64_t ttl = Int(r, "TTL");
    if (ttl <= 0) return Status(Code::kNotFound, "lease not found (expired or revoked)");
    return ttl;
  } catch (const std::exception& e) {
    return Unreadable(e);
  }
}

Result<EtcdLeaseInfo> EtcdClient::ParseTimeToLive(const std::string& body) {
  try {
    auto o = ParseObject(body);
    EtcdLeaseInfo info;
    info.id = Int(o, "ID");
    info.ttl_s = o->has("TTL") ? Int(o, "TTL") : 0;
    info.granted_ttl_s = Int(o, "grantedTTL");
    if (info.ttl_s <= 0 && info.granted_ttl_s == 0) info.ttl_s = -1;  // no such lease
    return info;
  } catch (const std::exception& e) {
    return Unreadable(e);
  }
}

Result<int64_t> EtcdClient::ParseGrant(const std::string& body) {
  try {
    auto o = ParseObject(body);
    if (o->has("error") && !o->optValue<std::string>("error", "").empty()) {
      return Status(Code::kUnavailable, "etcd grant: " + o->getValue<std::string>("error"));
    }
    int64_t id = Int(o, "ID");
    if (id == 0) return Status(Code::kUnavailable, "etcd grant: no lease id");
    return id;
  } catch (const std::exception& e) {
    return Unreadable(e);
  }
}

Result<std::string> EtcdClient::Call(const std::string& path, const std::string& body) {
  if (endpoints_.empty()) return Status(Code::kUnavailable, "etcd: no endpoints configured");
  const size_t start = current_.load();
  std::string errors;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const size_t idx = (start + i) % endpoints_.size();
    const std::string& ep = endpoints_[idx];
    try {
      Poco::URI uri(ep);
      Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
      session.setTimeout(Poco::Timespan(0, timeout_ms_ * 1000));
      Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, path, Poco::Net::HTTPMessage::HTTP_1_1);
      req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
      session.sendRequest(req) << body;
      Poco::Net::HTTPResponse resp;
      auto& is = session.receiveResponse(resp);
      std::string out;
      Poco::StreamCopier::copyToString(is, out);
      const int status = resp.getStatus();
      if (status == 200) {
        current_ = idx;
        return out;
      }
      if (status >= 400 && status < 500) {
        return Status(Code::kInvalidArgument, "etcd " + path + " answered " + std::to_string(status) + ": " + out);
      }
      errors += (errors.empty() ? "" : "; ") + ep + " answered " + std::to_string(status) + " " + out.substr(0, 200);
    } catch (const std::exception& e) {
      errors += (errors.empty() ? "" : "; ") + ep + ": " + e.what();
    }
  }
  current_ = (start + 1) % endpoints_.size();
  return Status(Code::kUnavailable, "etcd " + path + ": every member failed (" + errors + ")");
}

Result<int64_t> EtcdClient::Grant(int64_t ttl_s) {
  auto r = Call("/v3/lease/grant", "{\"TTL\":\"" + std::to_string(ttl_s) + "\"}");
  if (!r.ok()) return r.status();
  return ParseGrant(*r);
}

Result<int64_t> EtcdClient::KeepAlive(int64_t lease) {
  auto r = Call("/v3/lease/keepalive", "{\"ID\":\"" + std::to_string(lease) + "\"}");
  if (!r.ok()) return r.status();
  return ParseKeepAlive(*r);
}

Status EtcdClient::Revoke(int64_t lease) {
  auto r = Call("/v3/lease/revoke", "{\"ID\":\"" + std::to_string(lease) + "\"}");
  if (!r.ok() && r.status().message().find("requested lease not found") != std::string::npos) return Status::Ok();
  return r.ok() ? Status::Ok() : r.status();
}

Result<EtcdLeaseInfo> EtcdClient::TimeToLive(int64_t lease) {
  auto r = Call("/v3/lease/timetolive", "{\"ID\":\"" + std::to_string(lease) + "\"}");
  if (!r.ok()) return r.status();
  return ParseTimeToLive(*r);
}

Result<std::optional<EtcdKv>> EtcdClient::Get(const std::string& key) {
  auto r = Call("/v3/kv/range", RangeBody(key, ""));
  if (!r.ok()) return r.status();
  auto kvs = ParseRange(*r);
  if (!kvs.ok()) return kvs.status();
  if (kvs->empty()) return std::optional<EtcdKv>();
  return std::optional<EtcdKv>(kvs->front());
}

Result<std::vector<EtcdKv>> EtcdClient::GetPrefix(const std::string& prefix) {
  auto r = Call("/v3/kv/range", RangeBody(prefix, PrefixEnd(prefix)));
  if (!r.ok()) return r.status();
  return ParseRange(*r);
}

Result<int64_t> EtcdClient::Put(const std::string& key, const std::string& value, int64_t lease) {
  auto r = Call("/v3/kv/put", PutBody(key, value, lease));
  if (!r.ok()) return r.status();
  try {
    auto o = ParseObject(*r);
    return o->has("header") ? Int(o->getObject("header"), "revision") : 0;
  } catch (const std::exception& e) {
    return Unreadable(e);
  }
}

Result<int64_t> EtcdClient::Delete(const std::string& key) {
  auto r = Call("/v3/kv/deleterange", RangeBody(key, ""));
  if (!r.ok()) return r.status();
  try {
    return Int(ParseObject(*r), "deleted");
  } catch (const std::exception& e) {
    return Unreadable(e);
  }
}

Result<EtcdTxnResult> EtcdClient::Txn(const std::vector<EtcdCompare>& compare, const std::vector<EtcdOp>& success,
                                      const std::vector<EtcdOp>& failure) {
  auto r = Call("/v3/kv/txn", TxnBody(compare, success, failure));
  if (!r.ok()) return r.status();
  return ParseTxn(*r);
}

Result<EtcdTxnResult> EtcdClient::CreateIfAbsent(const std::string& key, const std::string& value, int64_t lease) {
  EtcdCompare absent;
  absent.target = EtcdCompare::Target::kCreate;
  absent.key = key;
  absent.number = 0;
  EtcdOp put;
  put.kind = EtcdOp::Kind::kPut;
  put.key = key;
  put.value = value;
  put.lease = lease;
  EtcdOp read;
  read.key = key;
  return Txn({absent}, {put}, {read});
}

}  // namespace danmu::core
