#include "core/archive/archive_admin.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(ParseArchiveRun, RoomAndMode) {
  std::string code;
  auto r = ParseArchiveRun(R"({"room":"live-1"})", &code);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->room, "live-1");
  EXPECT_EQ(r->mode, "auto");
  for (const char* mode : {"auto", "checkpoint", "archive"}) {
    auto m = ParseArchiveRun(std::string(R"({"room":"r","mode":")") + mode + "\"}", &code);
    ASSERT_TRUE(m.ok()) << mode;
    EXPECT_EQ(m->mode, mode);
  }
}

TEST(ParseArchiveRun, RefusesWithTheErrorCodeToAnswer) {
  struct Case {
    const char* body;
    const char* code;
  } cases[] = {
      {"", "bad_json"},
      {"nope", "bad_json"},
      {"[]", "bad_json"},
      {R"({"room":5})", "bad_json"},
      {R"({"room":"r","extra":1})", "bad_json"},
      {"{}", "bad_room"},
      {R"({"room":"no spaces"})", "bad_room"},
      {R"({"room":"r","mode":"now"})", "bad_mode"},
  };
  for (const auto& c : cases) {
    std::string code;
    auto r = ParseArchiveRun(c.body, &code);
    EXPECT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(code, c.code) << c.body;
  }
}

TEST(ArchiveAdmin, WithoutArchiverOrPrimaryNothingRuns) {
  ArchiveAdmin none([] { return static_cast<Archiver*>(nullptr); }, [] { return true; });
  HttpRequest req;
  req.body = R"({"room":"r"})";
  EXPECT_EQ(none.Run(req).status, 409);
  EXPECT_NE(none.Get(req).body.find("no_archiver"), std::string::npos);
}

}  // namespace
}  // namespace danmu::core
