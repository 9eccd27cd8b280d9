#pragma once
// MariaDB access through MySQL Connector/C++ (kept inside this adapter).
// Prepared statements only for anything carrying data. Not thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace danmu::core {

using SqlRow = std::vector<std::string>;

class MysqlClient {
 public:
  static Result<std::unique_ptr<MysqlClient>> Connect(const MysqlOptions& options);
  ~MysqlClient();

  // Runs a statement with string parameters bound to '?' placeholders.
  Result<int64_t> Execute(const std::string& sql, const std::vector<std::string>& params = {});
  // Runs a query with bound parameters; every column comes back as text.
  Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<std::string>& params = {});
  // Schema version recorded by scripts/migrate (0 when none).
  Result<int> SchemaVersion();

 private:
  MysqlClient() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The schema version this build needs (core/schema/NNN_*.sql).
inline constexpr int kRequiredSchemaVersion = 1;

}  // namespace danmu::core
