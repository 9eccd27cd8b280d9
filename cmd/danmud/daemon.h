#pragma once
// Wires one danmud process from its config: which components run (frontend,
// processor, archiver, probe) and in which role. Owns every component.
#include <memory>
#include <string>

#include "core/base/config.h"
#include "core/base/status.h"

namespace danmu::cmd {

class Daemon {
 public:
  static core::Result<std::unique_ptr<Daemon>> Create(core::Config config);
  ~Daemon();
  core::Status Start();
  void Stop();

  struct Parts;
  Parts& parts() { return *parts_; }

 private:
  Daemon() = default;
  std::unique_ptr<Parts> parts_;
};

}  // namespace danmu::cmd
