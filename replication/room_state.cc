#include "replication/room_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
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

core::Status Errno(const std::string& what) {
  return core::Status(core::Code::kInternal, "room state file: " + what + ": " + std::strerror(errno));
}

// Replaces `path` with `content` so that a crash leaves the old or the new
// file, never a torn one, and the new one survives power loss once this
// returns: a temporary file beside it, fsync, rename over it, fsync of the
// directory (which holds the rename).
core::Status WriteFileDurably(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open " + tmp);
  for (size_t off = 0; off < content.size();) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      core::Status s = Errno("write " + tmp);
      ::close(fd);
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    core::Status s = Errno("fsync " + tmp);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("close " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename " + tmp + " to " + path);
  auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("open directory " + dir);
  int rc = ::fsync(dfd);
  core::Status s = rc == 0 ? core::Status::Ok() : Errno("fsync directory " + dir);
  ::close(dfd);
  return s;
}
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

core::Status RoomState::Persist(Role role, int64_t epoch, int64_t promoted_at_ms) const {
  if (state_file_.empty()) return core::Status::Ok();
  std::string line = std::string(RoleName(role)) + " " + std::to_string(epoch);
  if (promoted_at_ms > 0) line += std::string(" ") + kPromotedAtKey + std::to_string(promoted_at_ms);
  return WriteFileDurably(state_file_, line + "\n");
}

core::Status RoomState::Save() {
  std::lock_guard lock(mu_);
  return Persist(role(), epoch(), promoted_at_ms());
}

core::Status RoomState::BecomePrimary(int64_t new_epoch, const std::string& reason) {
  std::lock_guard lock(mu_);
  int64_t old = epoch_.load();
  if (new_epoch < old) {
    core::LogError("epoch_regression", {{"room", room_}, {"old_epoch", std::to_string(old)}, {"new_epoch", std::to_string(new_epoch)}});
    std::abort();  // a broken invariant: better to die and fail over than continue wrong
  }
  Role was = role_.load();
  const int64_t promoted = clock_.NowMs();
  if (core::Status s = Persist(Role::kPrimary, new_epoch, promoted); !s.ok()) {
    core::LogError("role_change_refused", {{"room", room_}, {"from", RoleName(was)}, {"to", "primary"},
                                           {"epoch", std::to_string(old)}, {"new_epoch", std::to_string(new_epoch)},
                                           {"reason", reason}, {"error", s.message()}});
    return s;
  }
  epoch_ = new_epoch;
  role_ = Role::kPrimary;
  frozen_ = false;
  confirmed_ = true;
  promoted_at_ms_ = promoted;
  Publish();
  LogWarn("role_change", {{"room", room_}, {"from", RoleName(was)}, {"to", "primary"},
                          {"old_epoch", std::to_string(old)}, {"epoch", std::to_string(new_epoch)},
                          {"promoted_at_ms", std::to_string(promoted_at_ms())}, {"reason", reason}});
  return core::Status::Ok();
}

core::Status RoomState::BecomeSecondary(int64_t known_epoch, const std::string& reason) {
  std::lock_guard lock(mu_);
  int64_t old = epoch_.load();
  Role was = role_.load();
  const int64_t next = std::max(known_epoch, old);
  if (core::Status s = Persist(Role::kSecondary, next, promoted_at_ms()); !s.ok()) {
    // Still primary in name, but a primary told to step down must not go on
    // taking writes: unconfirmed, it neither accepts nor processes them.
    if (was == Role::kPrimary) confirmed_ = false;
    core::LogError("role_change_refused", {{"room", room_}, {"from", RoleName(was)}, {"to", "secondary"},
                                           {"epoch", std::to_string(old)}, {"new_epoch", std::to_string(next)},
                                           {"reason", reason}, {"error", s.message()},
                                           {"writes", was == Role::kPrimary ? "refused" : "forwarded"}});
    return s;
  }
  epoch_ = next;
  role_ = Role::kSecondary;
  frozen_ = false;
  confirmed_ = true;  // "unconfirmed" only qualifies a primary
  Publish();
  LogWarn("role_change", {{"room", room_}, {"from", RoleName(was)}, {"to", "secondary"},
                          {"old_epoch", std::to_string(old)}, {"epoch", std::to_string(epoch_.load())}, {"reason", reason}});
  return core::Status::Ok();
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

core::Status RoomState::ObserveEpoch(int64_t epoch) {
  std::lock_guard lock(mu_);
  if (epoch <= epoch_.load()) return core::Status::Ok();
  if (core::Status s = Persist(role(), epoch, promoted_at_ms()); !s.ok()) return s;
  LogWarn("epoch_observed", {{"room", room_}, {"old_epoch", std::to_string(epoch_.load())}, {"epoch", std::to_string(epoch)}});
  epoch_ = epoch;
  Publish();
  return core::Status::Ok();
}

}  // namespace danmu::replication
