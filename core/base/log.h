#pragma once
// Structured key=value logs on stderr, one line per event:
//   ts=2026-11-29T03:58:31.123Z level=warn event=role_change room=B epoch=2
// Nothing is logged per message on hot paths; role, epoch and degradation
// changes are logged at WARN with every id involved.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace danmu::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogField = std::pair<std::string_view, std::string>;

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
void SetLogLevel(LogLevel level);
// Fields added to every line (e.g. room=A), set once at start-up.
void SetLogContext(std::string context);

inline void LogInfo(std::string_view e, std::initializer_list<LogField> f = {}) { Log(LogLevel::kInfo, e, f); }
inline void LogWarn(std::string_view e, std::initializer_list<LogField> f = {}) { Log(LogLevel::kWarn, e, f); }
inline void LogError(std::string_view e, std::initializer_list<LogField> f = {}) { Log(LogLevel::kError, e, f); }

}  // namespace danmu::core
