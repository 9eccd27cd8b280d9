#pragma once
// MariaDB access through MySQL Connector/C++ (kept inside this adapter).
// Prepared statements only for anything carrying data. Not thread-safe.
//
// Statements are prepared once per connection and reused (a small cache keyed
// by the SQL text), so a loop of multi-row INSERTs pays the prepare once.
// Every failure (connection lost, constraint, syntax) comes back as
// kUnavailable with the server's errno in the message; after a lost
// connection the caller drops the client and connects again.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/config.h"
#include "core/base/status.h"

namespace danmu::core {

using SqlRow = std::vector<std::string>;

// One bound parameter: bytes (any content, NULs included) or an integer
// (BIGINT columns and LIMIT, which refuses a string).
class SqlParam {
 public:
  SqlParam(std::string s) : value_(std::move(s)) {}                   // NOLINT: implicit by design
  SqlParam(const char* s) : value_(std::string(s)) {}                 // NOLINT
  SqlParam(std::string_view s) : value_(std::string(s)) {}            // NOLINT
  SqlParam(int64_t v) : value_(v) {}                                  // NOLINT
  SqlParam(int v) : value_(static_cast<int64_t>(v)) {}                // NOLINT
  bool is_int() const { return std::holds_alternative<int64_t>(value_); }
  int64_t as_int() const { return std::get<int64_t>(value_); }
  const std::string& as_string() const { return std::get<std::string>(value_); }

 private:
  std::variant<std::string, int64_t> value_;
};

class MysqlClient {
 public:
  static Result<std::unique_ptr<MysqlClient>> Connect(const MysqlOptions& options);
  ~MysqlClient();

  // Runs a statement with parameters bound to '?' placeholders; returns the
  // affected row count (for INSERT IGNORE: the rows actually inserted).
  Result<int64_t> Execute(const std::string& sql, const std::vector<SqlParam>& params = {});
  // Runs a query with bound parameters; every column comes back as text
  // (bytes for BLOB columns, NULL as "").
  Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<SqlParam>& params = {});
  // Schema version recorded by scripts/migrate (0 when none).
  Result<int> SchemaVersion();

 private:
  MysqlClient() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The schema version this build needs (core/schema/NNN_*.sql).
inline constexpr int kRequiredSchemaVersion = 2;

// Ok when the connected schema is at least kRequiredSchemaVersion; otherwise
// kInvalidArgument naming both versions and the fix (scripts/migrate).
Status CheckSchemaVersion(MysqlClient& db);

}  // namespace danmu::core
