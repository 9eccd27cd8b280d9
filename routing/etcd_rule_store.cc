// The rule set in etcd: one key, changed by compare-and-swap on its revision.
#include "core/store/etcd_client.h"
#include "routing/rule_store.h"

namespace danmu::routing {

using core::Code;
using core::EtcdCompare;
using core::EtcdOp;
using core::Result;
using core::Status;

EtcdRuleStore::EtcdRuleStore(core::EtcdClient* etcd, std::string prefix)
    : etcd_(etcd), key_(std::move(prefix) + "route/rules") {}

Result<StoredRules> EtcdRuleStore::Load() {
  auto kv = etcd_->Get(key_);
  if (!kv.ok()) return kv.status();
  StoredRules s;
  if (!kv->has_value()) return s;
  auto r = RouteRules::FromJson((*kv)->value);
  if (!r.ok()) return Status(Code::kInvalidArgument, "stored rules at " + key_ + ": " + r.status().message());
  s.rules = *r;
  s.revision = (*kv)->mod_revision;
  return s;
}

Result<bool> EtcdRuleStore::Store(const RouteRules& next, int64_t expected_revision) {
  EtcdCompare cmp;
  cmp.key = key_;
  cmp.op = EtcdCompare::Op::kEqual;
  // An absent key has create revision 0; an existing one is matched by its mod revision.
  cmp.target = expected_revision == 0 ? EtcdCompare::Target::kCreate : EtcdCompare::Target::kMod;
  cmp.number = expected_revision;
  EtcdOp put;
  put.kind = EtcdOp::Kind::kPut;
  put.key = key_;
  put.value = next.ToJson();
  auto r = etcd_->Txn({cmp}, {put}, {});
  if (!r.ok()) return r.status();
  return r->succeeded;
}

}  // namespace danmu::routing
