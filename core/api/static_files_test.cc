#include "core/api/static_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace danmu::core {
namespace {

HttpRequest Get(const std::string& path) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  return r;
}

StaticFiles Sample() {
  return StaticFiles::FromMap({{"index.html", "<!doctype html><p>viewer</p>"},
                               {"status.html", "<!doctype html><p>status</p>"},
                               {"client.js", "export const x = 1;"},
                               {"style.css", "body{}"},
                               {"logo.svg", "<svg/>"},
                               {"blob.bin", "xx"}});
}

TEST(StaticFilesTest, RoutesToPages) {
  StaticFiles f = Sample();
  EXPECT_EQ(f.Handle(Get("/")).body, "<!doctype html><p>viewer</p>");
  EXPECT_EQ(f.Handle(Get("/watch/live1")).body, "<!doctype html><p>viewer</p>");
  EXPECT_EQ(f.Handle(Get("/status")).body, "<!doctype html><p>status</p>");
  EXPECT_EQ(f.Handle(Get("/static/client.js")).body, "export const x = 1;");
  EXPECT_EQ(f.Handle(Get("/static/client.js")).status, 200);
}

TEST(StaticFilesTest, ContentTypesByExtension) {
  StaticFiles f = Sample();
  EXPECT_EQ(f.Handle(Get("/")).content_type, "text/html; charset=utf-8");
  EXPECT_EQ(f.Handle(Get("/static/client.js")).content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(f.Handle(Get("/static/style.css")).content_type, "text/css; charset=utf-8");
  EXPECT_EQ(f.Handle(Get("/static/logo.svg")).content_type, "image/svg+xml");
  EXPECT_EQ(f.Handle(Get("/static/blob.bin")).content_type, "application/octet-stream");
  EXPECT_EQ(f.Handle(Get("/static/client.js")).headers.at("X-Content-Type-Options"), "nosniff");
}

TEST(StaticFilesTest, HtmlCarriesAPolicyThatForbidsInlineScript) {
  StaticFiles f = Sample();
  HttpResponse page = f.Handle(Get("/status"));
  ASSERT_TRUE(page.headers.count("Content-Security-Policy"));
  const std::string csp = page.headers.at("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_FALSE(f.Handle(Get("/static/client.js")).headers.count("Content-Security-Policy"));
}

TEST(StaticFilesTest, NoPathTraversal) {
  StaticFiles f = Sample();
  for (const char* p : {"/static/../index.html", "/static/..", "/static/.", "/static/", "/static/a/b.js",
                        "/static/%2e%2e%2findex.html", "/static/..%2findex.html", "/static/.hidden",
                        "/static/client.js/", "/static//etc/passwd", "/static/\\..\\x", "/watch/../status",
                        "/watch/a/b", "/watch/", "/watch/__probe"}) {
    HttpResponse r = f.Handle(Get(p));
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_NE(r.body.find("\"not_found\""), std::string::npos) << p;
  }
}

TEST(StaticFilesTest, MissingFileIs404Json) {
  StaticFiles f = Sample();
  HttpResponse r = f.Handle(Get("/static/nope.js"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(f.Handle(Get("/elsewhere")).status, 404);
  // A set without a status page answers 404 for it, not an empty 200.
  StaticFiles only_index = StaticFiles::FromMap({{"index.html", "x"}});
  EXPECT_EQ(only_index.Handle(Get("/status")).status, 404);
}

TEST(StaticFilesTest, EtagRevalidation) {
  StaticFiles f = Sample();
  HttpResponse first = f.Handle(Get("/static/client.js"));
  ASSERT_TRUE(first.headers.count("ETag"));
  const std::string etag = first.headers.at("ETag");
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(first.headers.at("Cache-Control"), "no-cache");
  HttpRequest again = Get("/static/client.js");
  again.headers["if-none-match"] = etag;
  HttpResponse r = f.Handle(again);
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.headers.at("ETag"), etag);
  again.headers["if-none-match"] = "\"0000000000000000\", " + etag;
  EXPECT_EQ(f.Handle(again).status, 304);
  again.headers["if-none-match"] = "\"0000000000000000\"";
  EXPECT_EQ(f.Handle(again).status, 200);
  // Different bytes, different tag.
  EXPECT_NE(f.Handle(Get("/static/style.css")).headers.at("ETag"), etag);
}

TEST(StaticFilesTest, OnlyGetAndHead) {
  StaticFiles f = Sample();
  HttpRequest post = Get("/static/client.js");
  post.method = "POST";
  HttpResponse r = f.Handle(post);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("Allow"), "GET, HEAD");
  HttpRequest head = Get("/static/client.js");
  head.method = "HEAD";
  EXPECT_EQ(f.Handle(head).status, 200);
}

TEST(StaticFilesTest, Claims) {
  EXPECT_TRUE(StaticFiles::Claims("/"));
  EXPECT_TRUE(StaticFiles::Claims("/status"));
  EXPECT_TRUE(StaticFiles::Claims("/watch/live1"));
  EXPECT_TRUE(StaticFiles::Claims("/static/x.js"));
  EXPECT_FALSE(StaticFiles::Claims("/v1/status"));
  EXPECT_FALSE(StaticFiles::Claims("/v1/rooms/a/messages"));
  EXPECT_FALSE(StaticFiles::Claims("/statuses"));
}

class StaticFilesDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/static_files_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  void Write(const std::string& name, const std::string& body) { std::ofstream(dir_ + "/" + name) << body; }
  std::string dir_;
};

TEST_F(StaticFilesDirTest, LoadsRegularFilesOnlyAndNeverFollowsSymlinks) {
  Write("index.html", "viewer");
  Write("client.js", "js");
  Write(".secret", "no");
  ::mkdir((dir_ + "/sub").c_str(), 0755);
  Write("sub/inner.js", "no");
  ASSERT_EQ(::symlink("/etc/passwd", (dir_ + "/passwd.txt").c_str()), 0);
  auto f = StaticFiles::Load(dir_);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->size(), 2u);
  EXPECT_EQ(f->Handle(Get("/static/client.js")).body, "js");
  EXPECT_EQ(f->Handle(Get("/static/passwd.txt")).status, 404);
  EXPECT_EQ(f->Handle(Get("/static/.secret")).status, 404);
  EXPECT_EQ(f->Handle(Get("/static/sub")).status, 404);
}

TEST_F(StaticFilesDirTest, MissingDirOrIndexIsAnError) {
  auto missing = StaticFiles::Load(dir_ + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  Write("client.js", "js");
  auto no_index = StaticFiles::Load(dir_);
  ASSERT_FALSE(no_index.ok());
  EXPECT_NE(no_index.status().message().find("index.html"), std::string::npos);
}

TEST_F(StaticFilesDirTest, DefaultDirNextToTheBinary) {
  ::mkdir((dir_ + "/bin").c_str(), 0755);
  EXPECT_EQ(StaticFiles::DefaultDir(dir_ + "/bin/danmud"), "");
  ::mkdir((dir_ + "/share").c_str(), 0755);
  ::mkdir((dir_ + "/share/danmu").c_str(), 0755);
  ::mkdir((dir_ + "/share/danmu/web").c_str(), 0755);
  EXPECT_EQ(StaticFiles::DefaultDir(dir_ + "/bin/danmud"), "") << "a folder without index.html is not the pages";
  Write("share/danmu/web/index.html", "x");
  EXPECT_EQ(StaticFiles::DefaultDir(dir_ + "/bin/danmud"), dir_ + "/bin/../share/danmu/web");
  // A checkout: <repo>/build/cmd/danmud/danmud finds <repo>/web.
  for (const char* d : {"/repo", "/repo/build", "/repo/build/cmd", "/repo/build/cmd/danmud", "/repo/web"}) {
    ::mkdir((dir_ + d).c_str(), 0755);
  }
  EXPECT_EQ(StaticFiles::DefaultDir(dir_ + "/repo/build/cmd/danmud/danmud"), "");
  Write("repo/web/index.html", "x");
  EXPECT_EQ(StaticFiles::DefaultDir(dir_ + "/repo/build/cmd/danmud/danmud"), dir_ + "/repo/build/cmd/danmud/../../../web");
}

TEST(StaticFilesRepoTest, TheRepositoryPagesLoad) {
  auto f = StaticFiles::Load(DANMU_SOURCE_DIR "/web");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  for (const char* p : {"/", "/status", "/static/client.js", "/static/danmaku.js", "/static/viewer.js",
                        "/static/status.js", "/static/style.css"}) {
    EXPECT_EQ(f->Handle(Get(p)).status, 200) << p;
  }
}

}  // namespace
}  // namespace danmu::core
