#include "core/http/json_body.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <limits>

#include "core/base/json_text.h"

namespace danmu::core {

Result<JsonBody> JsonBody::Parse(std::string_view body, const Options& o) {
  JsonBody b;
  b.what_ = o.what;
  auto fail = [&](const std::string& m) { return Status(Code::kInvalidArgument, o.what + ": " + m); };
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (o.empty_ok) return b;
    return fail("a JSON object is required");
  }
  if (JsonNestingDepth(body) > o.max_depth) return fail("nested too deep");
  Poco::JSON::Object::Ptr obj;
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(std::string(body));
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return fail("must be a JSON object");
    obj = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception& e) {
    return fail(std::string("not JSON: ") + e.what());
  }
  for (const auto& [key, v] : *obj) {
    if (!o.known.count(key)) return fail("unknown field '" + key + "'");
    Value& out = b.fields_[key];
    if (v.isEmpty()) out = std::monostate{};
    else if (v.type() == typeid(bool)) out = v.extract<bool>();
    else if (v.isString()) out = v.extract<std::string>();
    else if (v.isInteger()) {
      if (!v.isSigned() && v.convert<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return fail("field '" + key + "' is out of range");
      }
      out = v.convert<int64_t>();
    } else if (v.isNumeric()) out = v.convert<double>();
    else out = Nested{};
  }
  return b;
}

Status JsonBody::WrongType(const std::string& key, const char* want) const {
  return Status(Code::kInvalidArgument, what_ + ": field '" + key + "' must be " + want);
}

Status JsonBody::Require(const std::string& key) const {
  auto it = fields_.find(key);
  if (it == fields_.end() || std::holds_alternative<std::monostate>(it->second)) {
    return Status(Code::kInvalidArgument, what_ + ": field '" + key + "' is required");
  }
  return Status::Ok();
}

template <class T>
Status JsonBody::GetAlternative(const std::string& key, T* out, const char* want) const {
  auto it = fields_.find(key);
  if (it == fields_.end() || std::holds_alternative<std::monostate>(it->second)) return Status::Ok();
  const T* v = std::get_if<T>(&it->second);
  if (!v) return WrongType(key, want);
  *out = *v;
  return Status::Ok();
}

Status JsonBody::Get(const std::string& key, std::string* out) const { return GetAlternative(key, out, "a string"); }
Status JsonBody::Get(const std::string& key, int64_t* out) const { return GetAlternative(key, out, "an integer"); }
Status JsonBody::Get(const std::string& key, bool* out) const { return GetAlternative(key, out, "true or false"); }

Status JsonBody::Get(const std::string& key, int* out) const {
  int64_t v = *out;
  if (Status s = Get(key, &v); !s.ok()) return s;
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) return WrongType(key, "a small integer");
  *out = static_cast<int>(v);
  return Status::Ok();
}

}  // namespace danmu::core
