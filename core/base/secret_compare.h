#pragma once
// Comparing secrets (admin tokens, MACs) without leaking through timing how
// much of a guess was right: every byte of the expected value is examined,
// whatever the input. Only the length of the expected value can show.
#include <string_view>

namespace danmu::core {

// true when `given` == `expected`, in time that depends on expected.size() only.
bool ConstantTimeEquals(std::string_view given, std::string_view expected);

// true when `authorization` (an Authorization header value) is exactly
// "Bearer <token>" for a non-empty `token`, compared in constant time.
bool BearerTokenMatches(std::string_view authorization, std::string_view token);

}  // namespace danmu::core
