#include "core/model/id_generator.h"

#include <random>

namespace danmu::core {
namespace {
std::string Base36(uint64_t v) {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  do { s.insert(s.begin(), kDigits[v % 36]); v /= 36; } while (v);
  return s;
}
}  // namespace

IdGenerator::IdGenerator(std::string room, const Clock& clock) : clock_(clock) {
  std::random_device rd;
  char buf[16];
  snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
  prefix_ = std::move(room) + "-";
  prefix_ += buf;
  prefix_ += "-";
}

std::string IdGenerator::Next() {
  uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed);
  return prefix_ + Base36(static_cast<uint64_t>(clock_.NowMs())) + "-" + Base36(seq);
}

}  // namespace danmu::core
