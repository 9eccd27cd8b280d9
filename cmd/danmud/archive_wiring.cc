// Archive and replay wiring (issue 4). Placeholder until the archiver lands:
// no archiver, no replay route.
#include "cmd/danmud/parts.h"

namespace danmu::cmd {

core::Status WireArchive(Daemon::Parts&, core::FrontendHooks*) { return core::Status::Ok(); }
void StartArchive(Daemon::Parts&) {}
void StopArchive(Daemon::Parts&) {}

}  // namespace danmu::cmd
