#pragma once
// The key tables of ParseConfig seen from outside (config.cc): every key it
// knows with its default, range and comment, for tests and documentation;
// and the limits that components size things by.
//
// How the config is read: one table per section in config.cc, each key named
// once with where it lands, its range and its comment; its default is the
// options struct's member initializer (config.h); then one cross-field
// validation pass. The options structs stay in config.h, in the lowest layer,
// so that the parser can fill them without an include pointing up. Adding a
// key: a member in config.h, a line in its section's table, a commented line
// in config/room-*.yaml (config_test checks that every key is there).
#include <string>
#include <vector>

#include "core/base/config.h"

namespace danmu::core {

// The processor keeps per-worker state in fixed arrays of this size;
// processor.workers is checked against it.
inline constexpr int kMaxProcessorWorkers = 64;

struct ConfigKeyInfo {
  std::string key;      // dotted: processor.workers
  std::string value;    // as YAML, of the config described (the defaults unless told)
  std::string range;    // what a value must be; "" = anything
  std::string comment;  // one line
  bool required = false;
  std::vector<std::string> outside;  // values just outside the range, as YAML (for tests)
};

// The defaults, as ParseConfig starts from them.
Config DefaultConfig();
// Every key ParseConfig knows, in table order, with its value in `values`.
std::vector<ConfigKeyInfo> ConfigReference(const Config& values = DefaultConfig());

}  // namespace danmu::core
