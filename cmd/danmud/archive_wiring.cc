// Archive and replay wiring.
//
//   archiver: built when the config runs the "archiver" component. It needs
//     MySQL at start: unreachable or a schema older than
//     core::kRequiredSchemaVersion refuses to start. It acts only while this
//     room is the active primary (the processor's check), and it is fed by
//     the frontend's on_stream_end plus its own scan of live Redis.
//   replay: built with the frontend when replay_redis.address is set; it
//     must not name a live Redis of either room (refused at start). MySQL
//     being unreachable at start is only a warning here (the live path must
//     not depend on the archive; replays answer 503 until MySQL is back); a
//     reachable MySQL with an old schema refuses to start.
#include "cmd/danmud/parts.h"
#include "core/archive/archive_admin.h"
#include "core/archive/archiver.h"
#include "core/base/log.h"
#include "core/archive/replay_api.h"
#include "core/archive/replay_store.h"

namespace danmu::cmd {

struct ArchiveParts {
  std::unique_ptr<core::Archiver> archiver;
  std::unique_ptr<core::ReplayStore> replay_store;
  std::unique_ptr<core::ReplayApi> replay_api;
};

namespace {

using core::Code;
using core::Status;

Status WireArchiver(Daemon::Parts& p) {
  core::ArchiverHooks hooks;
  replication::RoomState* state = p.state.get();
  hooks.active = [state] { return state->active_primary(); };
  auto archiver = core::Archiver::Create(p.config, std::move(hooks), *p.clock, p.metrics.get());
  if (!archiver.ok()) {
    return Status(Code::kInvalidArgument, archiver.status().message());  // "archiver: ..."
  }
  p.archive->archiver = std::move(*archiver);
  return Status::Ok();
}

Status WireReplay(Daemon::Parts& p) {
  const core::Config& c = p.config;
  const std::string& replay = c.replay_redis.address;
  if (replay == c.redis.address || (!c.peer.redis.empty() && replay == c.peer.redis)) {
    return Status(Code::kInvalidArgument,
                  "config key 'replay_redis.address': " + replay + " is a live Redis; replays must never touch it");
  }
  auto store = std::make_unique<core::ReplayStore>(c.archive, c.replay_redis, c.mysql, *p.clock, p.metrics.get());
  if (Status s = store->Preflight(); !s.ok()) {
    if (s.code() == Code::kInvalidArgument) return s;
    core::LogWarn("replay_degraded", {{"reason", "mysql unreachable at start; replays answer 503 until it is back"},
                                      {"error", s.ToString()}});
  }
  p.archive->replay_api = std::make_unique<core::ReplayApi>(store.get(), c.archive.replay_max_limit);
  p.archive->replay_store = std::move(store);
  return Status::Ok();
}

}  // namespace

Status WireArchive(Daemon::Parts& p, core::FrontendHooks* hooks) {
  p.archive = std::make_shared<ArchiveParts>();
  if (p.config.Runs("archiver")) {
    if (Status s = WireArchiver(p); !s.ok()) return s;
    core::Archiver* archiver = p.archive->archiver.get();
    if (hooks) hooks->on_stream_end = [archiver](const std::string& live_room) { archiver->Enqueue(live_room); };
  }
  if (hooks && !p.config.replay_redis.address.empty()) {
    if (Status s = WireReplay(p); !s.ok()) return s;
    core::ReplayApi* api = p.archive->replay_api.get();
    hooks->replay = [api](const core::HttpRequest& req) { return api->Handle(req); };
  }
  return Status::Ok();
}

void StartArchive(Daemon::Parts& p) {
  if (p.archive && p.archive->archiver) p.archive->archiver->Start();
}

void RegisterArchiveRoutes(Daemon::Parts& p) {
  Daemon::Parts* parts = &p;
  replication::RoomState* state = p.state.get();
  // The archiver is looked up per request (it may be absent: no archiver
  // component).
  auto admin = std::make_shared<core::ArchiveAdmin>(
      [parts]() -> core::Archiver* { return parts->archive ? parts->archive->archiver.get() : nullptr; },
      [state] { return state->active_primary(); });
  p.admin->Add("GET", "/v1/admin/archive", false, [admin](const core::HttpRequest& r) { return admin->Get(r); });
  p.admin->Add("POST", "/v1/admin/archive", true, [admin](const core::HttpRequest& r) { return admin->Run(r); });
}

void StopArchive(Daemon::Parts& p) {
  if (p.archive && p.archive->archiver) p.archive->archiver->Stop();
}

}  // namespace danmu::cmd
