#include "core/store/mysql_client.h"

#include "core/base/parse_int.h"

#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <map>
#include <mutex>

namespace danmu::core {

namespace {
// Distinct statement texts kept prepared per connection. The archiver and the
// replay loader use a handful; the bound only protects against a caller that
// builds unbounded distinct texts.
constexpr size_t kMaxCachedStatements = 32;
}  // namespace

struct MysqlClient::Impl {
  std::unique_ptr<sql::Connection> conn;
  std::map<std::string, std::unique_ptr<sql::PreparedStatement>> statements;

  sql::PreparedStatement* Prepare(const std::string& text) {
    auto it = statements.find(text);
    if (it != statements.end()) return it->second.get();
    if (statements.size() >= kMaxCachedStatements) statements.clear();
    std::unique_ptr<sql::PreparedStatement> st(conn->prepareStatement(text));
    return statements.emplace(text, std::move(st)).first->second.get();
  }
};

namespace {
std::mutex g_driver_mu;  // get_driver_instance() is not thread-safe on first use

std::string Password(const MysqlOptions& o) {
  if (o.password_file.empty()) return {};
  auto s = ReadSecretFile(o.password_file);
  return s.ok() ? *s : std::string();
}

Status SqlError(const sql::SQLException& e) {
  return Status(Code::kUnavailable, std::string("mysql: ") + e.what() + " (errno " + std::to_string(e.getErrorCode()) + ")");
}

void Bind(sql::PreparedStatement* st, const std::vector<SqlParam>& params) {
  st->clearParameters();
  for (size_t i = 0; i < params.size(); ++i) {
    auto index = static_cast<unsigned>(i + 1);
    if (params[i].is_int()) {
      st->setInt64(index, params[i].as_int());
    } else {
      const std::string& s = params[i].as_string();
      st->setString(index, sql::SQLString(s.data(), s.size()));
    }
  }
}
}  // namespace

Result<std::unique_ptr<MysqlClient>> MysqlClient::Connect(const MysqlOptions& options) {
  std::unique_ptr<MysqlClient> c(new MysqlClient());
  c->impl_ = std::make_unique<Impl>();
  try {
    sql::Driver* driver;
    {
      std::lock_guard lock(g_driver_mu);
      driver = sql::mysql::get_driver_instance();
    }
    sql::ConnectOptionsMap props;
    props["hostName"] = sql::SQLString("tcp://" + options.host + ":" + std::to_string(options.port));
    props["userName"] = sql::SQLString(options.user);
    props["password"] = sql::SQLString(Password(options));
    props["schema"] = sql::SQLString(options.database);
    props["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    props["OPT_CONNECT_TIMEOUT"] = 5;
    c->impl_->conn.reset(driver->connect(props));
    std::unique_ptr<sql::Statement> st(c->impl_->conn->createStatement());
    st->execute("SET NAMES utf8mb4 COLLATE utf8mb4_bin");
  } catch (const sql::SQLException& e) {
    return SqlError(e);
  }
  return c;
}

MysqlClient::~MysqlClient() = default;

Result<int64_t> MysqlClient::Execute(const std::string& sql_text, const std::vector<SqlParam>& params) {
  try {
    sql::PreparedStatement* st = impl_->Prepare(sql_text);
    Bind(st, params);
    return static_cast<int64_t>(st->executeUpdate());
  } catch (const sql::SQLException& e) {
    impl_->statements.erase(sql_text);  // a statement of a broken connection is useless
    return SqlError(e);
  }
}

Result<std::vector<SqlRow>> MysqlClient::Query(const std::string& sql_text, const std::vector<SqlParam>& params) {
  try {
    sql::PreparedStatement* st = impl_->Prepare(sql_text);
    Bind(st, params);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    std::vector<SqlRow> rows;
    unsigned cols = rs->getMetaData()->getColumnCount();
    while (rs->next()) {
      SqlRow row;
      row.reserve(cols);
      for (unsigned i = 1; i <= cols; ++i) row.push_back(rs->getString(i).asStdString());
      rows.push_back(std::move(row));
    }
    return rows;
  } catch (const sql::SQLException& e) {
    impl_->statements.erase(sql_text);
    return SqlError(e);
  }
}

Result<int> MysqlClient::SchemaVersion() {
  auto rows = Query("SELECT COALESCE(MAX(version),0) FROM schema_version");
  if (!rows.ok()) return rows.status();
  return static_cast<int>(ParseInt64Or(rows->front().front(), 0));
}

Status CheckSchemaVersion(MysqlClient& db) {
  auto v = db.SchemaVersion();
  if (!v.ok()) return Status(Code::kUnavailable, "cannot read the schema version: " + v.status().message());
  if (*v < kRequiredSchemaVersion) {
    return Status(Code::kInvalidArgument, "MySQL schema version " + std::to_string(*v) + " is older than the " +
                                              std::to_string(kRequiredSchemaVersion) +
                                              " this build needs: apply core/schema with scripts/migrate");
  }
  return Status::Ok();
}

}  // namespace danmu::core
