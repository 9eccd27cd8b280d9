#include "core/base/secret_compare.h"

#include <cstddef>

namespace danmu::core {

bool ConstantTimeEquals(std::string_view given, std::string_view expected) {
  // Walk the expected value in full; a shorter or longer input compares
  // against itself where it has no byte, and the length is folded in last.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
  }
  // volatile: keep the compiler from turning the loop into an early exit.
  volatile unsigned char result = diff;
  return result == 0;
}

bool BearerTokenMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty()) return false;  // no token configured: nothing matches
  const bool scheme_ok = authorization.substr(0, kScheme.size()) == kScheme;  // not secret
  const std::string_view given = scheme_ok ? authorization.substr(kScheme.size()) : std::string_view();
  return ConstantTimeEquals(given, token) && scheme_ok;
}

}  // namespace danmu::core
