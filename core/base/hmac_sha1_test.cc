#include "core/base/hmac_sha1.h"

#include <Poco/HMACEngine.h>
#include <Poco/SHA1Engine.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace danmu::core {
namespace {

std::string Hex(const HmacSha1::Digest& d) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

TEST(HmacSha1Test, Rfc2202Vectors) {
  EXPECT_EQ(Hex(HmacSha1(std::string(20, '\x0b')).Mac({"Hi There"})), "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(Hex(HmacSha1("Jefe").Mac({"what do ya want ", "for nothing?"})), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(Hex(HmacSha1(std::string(80, '\xaa')).Mac({"Test Using Larger Than Block-Size Key - Hash Key First"})),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
  EXPECT_EQ(Hex(HmacSha1(std::string(80, '\xaa'))
                    .Mac({"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"})),
            "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
}

// The model: Poco's HMAC-SHA1, which the cursor used before.
TEST(HmacSha1Test, MatchesPocoOnRandomKeysAndMessages) {
  std::mt19937 rng(42);
  auto random_string = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
  };
  for (int i = 0; i < 500; ++i) {
    std::string key = random_string(rng() % 150);
    std::string a = random_string(rng() % 130);
    std::string b = random_string(rng() % 70);
    Poco::HMACEngine<Poco::SHA1Engine> poco(key);
    poco.update(a.data(), a.size());
    poco.update(b.data(), b.size());
    const auto& expected = poco.digest();
    HmacSha1::Digest got = HmacSha1(key).Mac({a, b});
    ASSERT_EQ(std::string(expected.begin(), expected.end()), std::string(got.begin(), got.end()))
        << "key " << key.size() << " bytes, message " << a.size() << "+" << b.size();
  }
}

}  // namespace
}  // namespace danmu::core
