#include "edge/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

namespace danmu::edge {
namespace {

// A poll-like JSON body of n messages (repetitive, as a real answer is).
std::string PollBody(int n) {
  std::string s = "{\"messages\":[";
  for (int i = 0; i < n; ++i) {
    s += (i ? "," : "");
    s += "{\"id\":\"m" + std::to_string(1000 + i) + "\",\"type\":\"comment\",\"uid\":\"u" + std::to_string(i % 7) +
         "\",\"text\":\"seed comment number " + std::to_string(i) + "\",\"score\":" + std::to_string(123456 + i) + "}";
  }
  return s + "],\"cursor\":\"abc\",\"likes\":3,\"online\":5,\"next_poll_ms\":2000}";
}

// An inflater that is not ours (zlib's uncompress-style loop, gzip-only
// windowBits): the round trip must not rest on GzipInflate alone.
std::string ZlibInflate(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  std::string out(in.size() * 50 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(GzipCompress, RoundTripsAtEveryLevel) {
  const std::string body = PollBody(50);
  for (int level = 1; level <= 9; ++level) {
    auto z = GzipCompress(body, level);
    ASSERT_TRUE(z) << level;
    ASSERT_GE(z->size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>((*z)[0]), 0x1f) << "gzip magic";
    EXPECT_EQ(static_cast<unsigned char>((*z)[1]), 0x8b) << "gzip magic";
    EXPECT_LT(z->size(), body.size() / 3) << "a 50-message answer compresses well, level " << level;
    EXPECT_EQ(ZlibInflate(*z), body) << level;
    auto back = GzipInflate(*z);
    ASSERT_TRUE(back) << level;
    EXPECT_EQ(*back, body) << level;
  }
}

TEST(GzipCompress, RoundTripsEmptyAndIncompressibleInput) {
  auto empty = GzipCompress("", 6);
  ASSERT_TRUE(empty);
  EXPECT_EQ(ZlibInflate(*empty), "");
  std::mt19937 rng(7);
  std::string noise(20000, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  auto z = GzipCompress(noise, 9);
  ASSERT_TRUE(z);
  EXPECT_EQ(ZlibInflate(*z), noise);
  EXPECT_GE(z->size(), noise.size()) << "random bytes do not shrink: the server then sends them plain";
}

TEST(GzipInflate, RefusesWhatIsNotGzipOrTooLarge) {
  EXPECT_FALSE(GzipInflate(""));
  EXPECT_FALSE(GzipInflate("{\"plain\":true}"));
  auto z = GzipCompress(PollBody(50), 6);
  ASSERT_TRUE(z);
  EXPECT_FALSE(GzipInflate(z->substr(0, z->size() / 2))) << "a truncated member";
  EXPECT_FALSE(GzipInflate(*z, 100)) << "inflates past the bound";
  auto two = GzipInflate(*z + *z);
  ASSERT_TRUE(two) << "two members";
  EXPECT_EQ(*two, PollBody(50) + PollBody(50));
}

TEST(AcceptsGzip, ParsesCodingsAndWeights) {
  struct Case {
    const char* header;
    bool want;
  };
  for (const Case& c : std::vector<Case>{
           {"", false},
           {"identity", false},
           {"gzip", true},
           {"GZip", true},
           {"x-gzip", true},
           {"deflate, gzip", true},
           {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
           {"gzip;q=0", false},
           {"gzip; q=0", false},
           {"gzip;Q=0.000", false},
           {"gzip;q=0.001", true},
           {"gzip;q=1", true},
           {"gzip;q=1.000", true},
           {"gzip;q=1.001", false},   // malformed weight: counts as 0
           {"gzip;q=2", false},
           {"gzip;q=abc", false},
           {"gzip;q=0.5x", false},
           {"*", true},
           {"*;q=0", false},
           {"*;q=0.3", true},
           {"gzip;q=0, *", false},    // gzip named: `*` does not override it
           {"*, gzip;q=0", false},
           {"*;q=0, gzip", true},
           {"deflate, br", false},
           {"  gzip  ;  q=0.5  ", true},
           {",,gzip,,", true},
           {"gzipx", false},
           {"identity;q=0, *;q=0", false},
       }) {
    EXPECT_EQ(AcceptsGzip(c.header), c.want) << "Accept-Encoding: " << c.header;
  }
}

core::HttpResponse Answer(int status, size_t bytes, std::string type = "application/json") {
  core::HttpResponse r;
  r.status = status;
  r.body.assign(bytes, 'x');
  r.content_type = std::move(type);
  return r;
}

TEST(Compressible, ThresholdStatusTypeAndSwitch) {
  core::GzipOptions o;
  o.min_bytes = 1024;
  EXPECT_TRUE(Compressible(Answer(200, 1024, "application/json"), o)) << "at the threshold";
  EXPECT_TRUE(Compressible(Answer(200, 5000, "application/json; charset=utf-8"), o));
  EXPECT_FALSE(Compressible(Answer(200, 1023), o)) << "below the threshold";
  EXPECT_FALSE(Compressible(Answer(404, 5000), o)) << "errors stay plain";
  EXPECT_FALSE(Compressible(Answer(503, 5000), o));
  EXPECT_FALSE(Compressible(Answer(304, 5000), o));
  EXPECT_TRUE(Compressible(Answer(202, 5000), o));
  EXPECT_FALSE(Compressible(Answer(200, 5000, "text/html"), o)) << "only JSON answers";
  auto encoded = Answer(200, 5000);
  encoded.headers["content-encoding"] = "br";
  EXPECT_FALSE(Compressible(encoded, o)) << "already encoded";
  o.min_bytes = 0;
  EXPECT_TRUE(Compressible(Answer(200, 1), o));
  o.enabled = false;
  EXPECT_FALSE(Compressible(Answer(200, 5000), o)) << "switched off";
}

}  // namespace
}  // namespace danmu::edge
