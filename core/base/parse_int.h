#pragma once
// Integer parsing, one home. Never throws (std::stoi/stoll do, on user input).
#include <cstdint>
#include <string_view>

namespace danmu::core {

// Strict: an optional '-', then decimal digits, the whole of `s`, within
// int64. For what a client or an operator sent (query parameters, cursors).
[[nodiscard]] bool ParseInt64(std::string_view s, int64_t* out);

// Lenient, for numbers our own stores hand back (Redis replies, MySQL
// columns): an integer as above, or a number's text with a fraction or an
// exponent (a Redis score such as "1.5e+3"), truncated toward zero;
// `fallback` for anything else (empty, nil, garbage, out of range).
int64_t ParseInt64Or(std::string_view s, int64_t fallback = 0);

}  // namespace danmu::core
