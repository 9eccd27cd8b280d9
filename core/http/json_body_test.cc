#include "core/http/json_body.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

JsonBody::Options Opts(bool empty_ok = true) { return {"test body", {"s", "i", "b", "n"}, empty_ok, 1}; }

TEST(JsonBody, ReadsTypedFields) {
  auto b = JsonBody::Parse(R"({"s":"x","i":-42,"b":true,"n":null})", Opts());
  ASSERT_TRUE(b.ok()) << b.status().message();
  std::string s;
  int64_t i = 0;
  bool flag = false;
  ASSERT_TRUE(b->Get("s", &s).ok());
  ASSERT_TRUE(b->Get("i", &i).ok());
  ASSERT_TRUE(b->Get("b", &flag).ok());
  EXPECT_EQ(s, "x");
  EXPECT_EQ(i, -42);
  EXPECT_TRUE(flag);
  // null and absent leave the default; Require refuses both.
  std::string n = "default";
  EXPECT_TRUE(b->Get("n", &n).ok());
  EXPECT_EQ(n, "default");
  EXPECT_FALSE(b->Require("n").ok());
  EXPECT_TRUE(b->Require("s").ok());
}

TEST(JsonBody, EmptyBodyIsAnEmptyObjectOnlyWhenAllowed) {
  EXPECT_TRUE(JsonBody::Parse("  \n", Opts(true)).ok());
  auto r = JsonBody::Parse("", Opts(false));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("test body: "), std::string::npos);
}

TEST(JsonBody, WrongTypesNameTheField) {
  auto b = JsonBody::Parse(R"({"s":5,"i":"5","b":1})", Opts());
  ASSERT_TRUE(b.ok());
  std::string s;
  int64_t i = 0;
  int small = 0;
  bool flag = false;
  auto e1 = b->Get("s", &s);
  auto e2 = b->Get("i", &i);
  auto e3 = b->Get("b", &flag);
  EXPECT_NE(e1.message().find("'s' must be a string"), std::string::npos) << e1.message();
  EXPECT_NE(e2.message().find("'i' must be an integer"), std::string::npos) << e2.message();
  EXPECT_NE(e3.message().find("'b' must be true or false"), std::string::npos) << e3.message();
  auto big = JsonBody::Parse(R"({"i":3000000000})", Opts());
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(big->Get("i", &small).ok()) << "an int field refuses what an int cannot hold";
  EXPECT_TRUE(big->Get("i", &i).ok());
  EXPECT_EQ(i, 3000000000);
  auto frac = JsonBody::Parse(R"({"i":1.5})", Opts());
  ASSERT_TRUE(frac.ok());
  EXPECT_FALSE(frac->Get("i", &i).ok());
}

TEST(JsonBody, RefusesWhatIsNotAFlatKnownObject) {
  for (const char* body : {"nope", "[1]", "\"s\"", "7", R"({"s":"x")", R"({"s":{"deep":1}})", R"({"other":1})",
                           R"({"i":18446744073709551615})"}) {
    auto r = JsonBody::Parse(body, Opts());
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << body;
  }
}

}  // namespace
}  // namespace danmu::core
