#pragma once
// Small, allocation-light helpers for emitting JSON text and for checking a
// request body before it reaches a parser.
#include <cstdint>
#include <string>
#include <string_view>

namespace danmu::core {

// Appends `s` (valid UTF-8) as a JSON string literal. Besides the mandatory
// escapes, '<', '>' and '&' become \u003c etc., so that no client text can
// form markup when a page embeds a response.
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonString(std::string_view s);

// Deepest nesting of arrays/objects in `body`, ignoring brackets in strings.
// Bodies are checked with it before parsing so that a "JSON bomb" of deep
// nesting never reaches the recursive parser.
int JsonNestingDepth(std::string_view body);

// {"error":{"code":"...","message":"..."}}
std::string JsonError(std::string_view code, std::string_view message);

}  // namespace danmu::core
