#pragma once
// The JSON object body of an admin request, read field by field. Every
// failure is an InvalidArgument naming the field, so that a handler answers
// 400 with a message the operator can act on:
//   - the body must be one JSON object, nested at most `max_depth` deep;
//   - a field not in `known` is refused (a typo is not silently ignored);
//   - a field of the wrong JSON type is refused: no "5" for 5, no 1 for true,
//     no 1.5 for an integer.
// Poco stays inside json_body.cc.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "core/base/status.h"

namespace danmu::core {

class JsonBody {
 public:
  struct Options {
    std::string what;                 // prefix of every message ("degrade body")
    std::set<std::string> known;      // the fields the request may carry
    bool empty_ok = true;             // an empty body reads as {}
    int max_depth = 2;                // {} is 1
  };
  [[nodiscard]] static Result<JsonBody> Parse(std::string_view body, const Options& options);

  bool Has(const std::string& key) const { return fields_.count(key) > 0; }
  // Each leaves *out untouched when the field is absent (or null).
  [[nodiscard]] Status Get(const std::string& key, std::string* out) const;
  [[nodiscard]] Status Get(const std::string& key, int64_t* out) const;
  [[nodiscard]] Status Get(const std::string& key, int* out) const;
  [[nodiscard]] Status Get(const std::string& key, bool* out) const;
  // The field must be present (and not null).
  [[nodiscard]] Status Require(const std::string& key) const;

 private:
  struct Nested {};  // an object or array: no scalar getter accepts it
  using Value = std::variant<std::monostate, bool, int64_t, double, std::string, Nested>;
  Status WrongType(const std::string& key, const char* want) const;
  template <class T>
  Status GetAlternative(const std::string& key, T* out, const char* want) const;  // json_body.cc

  std::string what_;
  std::map<std::string, Value> fields_;
};

}  // namespace danmu::core
