#include "replication/room_state.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/base/log.h"
#include "core/base/metrics.h"

namespace danmu::replication {

using core::LogWarn;
using core::Role;
using core::RoleName;

namespace {
constexpr char kPromotedAtKey[] = "promoted_at_ms=";
}  // namespace

bool LoadRoomState(const std::string& state_file, Role* role, int64_t* epoch, int64_t* promoted_at_ms) {
  std::ifstream in(state_file);
  std::string line;
  if (!std::getline(in, line)) return false;
  std::istringstream fields(line);
  std::string r;
  int64_t e = 0;
  if (!(fields >> r >> e)) return false;
  if (r != "primary" && r != "secondary") return false;
  // Optional key=value fields after the epoch; unknown keys are skipped (a
  // newer danmud may have written them).
  int64_t promoted = 0;
  for (std::string kv; fields >> kv;) {
    if (kv.rfind(kPromotedAtKey, 0) != 0) continue;
    const std::string v = kv.substr(sizeof(kPromotedAtKey) - 1);
    char* end = nullptr;
    long long ms = std::strtoll(v.c_str(), &end, 10);
    if (!v.empty() && end && *end == '\0' && ms > 0) promoted = ms;
  }
  *role = r == "primary" ? Role::kPrimary : Role::kSecondary;
  *epoch = e;
  if (promoted_at_ms) *promoted_at_ms = promoted;
  return true;
}

RoomState::RoomState(std::string room, std::string state_file, Role initial_role, int64_t initial_epoch,
                     const core::Clock& clock)
    : room_(std::move(room)),
      state_file_(std::move(state_file)),
      clock_(clock),
      role_(initial_role),
      epoch_(initial_epoch) {
  // The promotion time survives restarts: keep what the file recorded
  // before rewriting it.
  Role persisted_role;
  int64_t persisted_epoch = 0, promoted = 0;
  if (!state_file_.empty() && LoadRoomState(state_file_, &persisted_role, &persisted_epoch, &promoted)) {
    promoted_at_ms_ = promoted;
  }
  Persist();
}

void RoomState::AttachMetrics(core::Metrics* metrics) {
  metrics_ = metrics;
  Publish();
}

void RoomState::Publish() {
  if (!metrics_) return;
  auto& fam = prometheus::BuildGauge().Name("danmu_role").Help("1 for this room's current role").Labels({{"room", room_}}).Register(metrics_->registry());
  fam.Add({{"role", "primary"}}).Set(is_primary() ? 1 : 0);
  fam.Add({{"role", "secondary"}}).Set(is_primary() ? 0 : 1);
  prometheus::BuildGauge().Name("danmu_epoch").Help("Fencing epoch this room holds").Labels({{"room", room_}}).Register(metrics_->registry()).Add({}).Set(static_cast<double>(epoch()));
  prometheus::BuildGauge().Name("danmu_writes_frozen").Help("1 while this room refuses writes for a switchover").Labels({{"room", room_}}).Register(metrics_->registry()).Add({}).Set(frozen() ? 1 : 0);
}

void RoomState::Persist() {
  if (state_file_.empty()) return;
  std::string tmp = state_file_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << RoleName(role()) << " " << epoch();
    if (promoted_at_ms() > 0) out << " " << kPromotedAtKey << promoted_at_ms();
    out << "\n";
  }
  std::rename(tmp.c_str(), state_file_.c_str());
}

void RoomState::BecomePrimary(int64_t new_epoch, const std::string& reason) {
  std::lock_guard lock(mu_);
  int64_t old = epoch_.load();
  if (new_epoch < old) {
    core::LogError("epoch_regression", {{"room", room_}, {"old_epoch", std::to_string(old)}, {"new_epoch", std::to_string(new_epoch)}});
    std::abort();  // a broken invariant: better to die and fail over than continue wrong
  }
  Role was = role_.load();
  epoch_ = new_epoch;
  role_ = Role::kPrimary;
  frozen_ = false;
  confirmed_ = true;
  promoted_at_ms_ = clock_.NowMs();
  Persist();
  Publish();
  LogWarn("role_change", {{"room", room_}, {"from", RoleName(was)}, {"to", "primary"},
                          {"old_epoch", std::to_string(old)}, {"epoch", std::to_string(new_epoch)},
                          {"promoted_at_ms", std::to_string(promoted_at_ms())}, {"reason", reason}});
}

void RoomState::BecomeSecondary(int64_t known_epoch, const std::string& reason) {
  std::lock_guard lock(mu_);
  int64_t old = epoch_.load();
  Role was = role_.load();
  if (known_epoch > old) epoch_ = known_epoch;
  role_ = Role::kSecondary;
  frozen_ = false;
  confirmed_ = true;  // "unconfirmed" only qualifies a primary
  Persist();
  Publish();
  LogWarn("role_change", {{"room", room_}, {"from", RoleName(was)}, {"to", "secondary"},
                          {"old_epoch", std::to_string(old)}, {"epoch", std::to_string(epoch_.load())}, {"reason", reason}});
}

void RoomState::SetFrozen(bool frozen, const std::string& reason) {
  std::lock_guard lock(mu_);
  if (frozen_.exchange(frozen) == frozen) return;
  Publish();
  LogWarn(frozen ? "writes_frozen" : "writes_unfrozen", {{"room", room_}, {"epoch", std::to_string(epoch())}, {"reason", reason}});
}

void RoomState::SetConfirmed(bool confirmed, const std::string& reason) {
  std::lock_guard lock(mu_);
  if (confirmed_.exchange(confirmed) == confirmed) return;
  LogWarn(confirmed ? "primary_confirmed" : "primary_unconfirmed",
          {{"room", room_}, {"epoch", std::to_string(epoch())}, {"reason", reason}});
}

void RoomState::ObserveEpoch(int64_t epoch) {
  std::lock_guard lock(mu_);
  if (epoch > epoch_.load()) {
    LogWarn("epoch_observed", {{"room", room_}, {"old_epoch", std::to_string(epoch_.load())}, {"epoch", std::to_string(epoch)}});
    epoch_ = epoch;
    Persist();
    Publish();
  }
}

}  // namespace danmu::replication
