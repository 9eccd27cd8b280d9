#pragma once
// Message ids: "<room>-<ms base36>-<random 8 hex>-<seq base36>". Unique across
// rooms and restarts without coordination; the processor deduplicates by it.
#include <atomic>
#include <cstdint>
#include <string>

#include "core/base/clock.h"

namespace danmu::core {

class IdGenerator {
 public:
  IdGenerator(std::string room, const Clock& clock);
  std::string Next();

 private:
  std::string prefix_;
  const Clock& clock_;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace danmu::core
