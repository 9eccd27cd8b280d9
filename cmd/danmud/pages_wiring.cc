// The pages and the status aggregate on the public port (issue 15): loads
// web/ (core/api/static_files.h) and builds the status board
// (monitoring/status_board.h) from this room's components.
#include <unistd.h>

#include <climits>

#include "cmd/danmud/parts.h"
#include "core/base/log.h"
#include "monitoring/status_board.h"

namespace danmu::cmd {
namespace {

std::string ExePath() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

double CounterTotal(prometheus::Family<prometheus::Counter>& family) {
  double total = 0;
  for (const auto& mf : family.Collect()) {
    for (const auto& m : mf.metric) total += m.counter.value;
  }
  return total;
}

}  // namespace

core::Status WirePages(Daemon::Parts& p, core::FrontendHooks* hooks) {
  const core::Config& c = p.config;
  std::string dir = c.web.static_dir;
  const bool named = !dir.empty();
  if (!named) dir = core::StaticFiles::DefaultDir(ExePath());
  if (dir.empty()) {
    core::LogWarn("pages_off", {{"reason", "web.static_dir is empty and no web/ was found next to the binary"}});
  } else {
    auto files = core::StaticFiles::Load(dir);
    if (!files.ok()) {
      if (named) return core::Status(core::Code::kInvalidArgument, "config key 'web.static_dir': " + files.status().message());
      core::LogWarn("pages_off", {{"dir", dir}, {"error", files.status().message()}});
    } else {
      core::LogInfo("pages_loaded", {{"dir", dir}, {"files", std::to_string(files->size())}});
      hooks->pages = std::make_shared<const core::StaticFiles>(std::move(*files));
    }
  }

  Daemon::Parts* parts = &p;
  auto inputs = [parts] {
    monitoring::StatusInputs in;
    in.admin_status_json = RoomStatusJson(*parts);
    in.degrade = parts->degrade->Table();
    in.degrade_level = parts->degrade->room_level();
    if (parts->probe) {
      in.probe = parts->probe->Latest(&in.probe_at_ms);
      in.probe_ran = in.probe_at_ms > 0;
    }
    in.writes_total = CounterTotal(parts->metrics->messages_accepted);
    in.polls_total = CounterTotal(parts->metrics->polls);
    in.connections = PushConnectionsByTransport(*parts);  // the "connections" row, with the admin status's push section
    if (auto routing = RoutingStatusSource(*parts)) {  // the status page's "route rollout" row
      const auto r = routing();
      in.route = std::map<std::string, double>{{"percent", static_cast<double>(r.percent)},
                                               {"rules_version", static_cast<double>(r.rules_version)},
                                               {"kill_switch", r.kill_switch ? 1.0 : 0.0},
                                               {"edges", static_cast<double>(r.edges)}};
    }
    return in;
  };
  monitoring::StatusBoard::PeerFetch peer;
  if (!c.peer.public_url.empty()) peer = monitoring::StatusBoard::HttpPeer(core::SplitList(c.peer.public_url).front(), 1500);
  p.status_board = std::make_unique<monitoring::StatusBoard>(c.room, c.peer.room, c.web, std::move(inputs),
                                                              std::move(peer), *p.clock);
  monitoring::StatusBoard* board = p.status_board.get();
  hooks->status = [board](const core::HttpRequest& req) { return board->Handle(req); };
  return core::Status::Ok();
}

void StartPages(Daemon::Parts& p) {
  if (p.status_board) p.status_board->Start();
}

void StopPages(Daemon::Parts& p) {
  if (p.status_board) p.status_board->Stop();
}

}  // namespace danmu::cmd
