#include "core/base/hmac_sha1.h"

#include <cstring>

namespace danmu::core {
namespace {

constexpr uint32_t kInit[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};

inline uint32_t Rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

void Compress(uint32_t h[5], const unsigned char* block) {
  uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = (uint32_t(block[4 * i]) << 24) | (uint32_t(block[4 * i + 1]) << 16) | (uint32_t(block[4 * i + 2]) << 8) |
           uint32_t(block[4 * i + 3]);
  }
  for (int i = 16; i < 80; ++i) w[i] = Rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    uint32_t f, k;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
    else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
    uint32_t t = Rol(a, 5) + f + e + k + w[i];
    e = d; d = c; c = Rol(b, 30); b = a; a = t;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

// Streaming SHA-1 that starts from a given state with `done` bytes already hashed.
class Sha1 {
 public:
  Sha1(const uint32_t h[5], uint64_t done) : total_(done) { std::memcpy(h_, h, sizeof(h_)); }
  void Update(std::string_view data) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    size_t n = data.size();
    total_ += n;
    if (used_) {
      size_t take = std::min(n, sizeof(buf_) - used_);
      std::memcpy(buf_ + used_, p, take);
      used_ += take; p += take; n -= take;
      if (used_ < sizeof(buf_)) return;
      Compress(h_, buf_);
      used_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64) Compress(h_, p);
    std::memcpy(buf_, p, n);
    used_ = n;
  }
  HmacSha1::Digest Final() {
    const uint64_t bits = total_ * 8;
    buf_[used_++] = 0x80;
    if (used_ > 56) {
      std::memset(buf_ + used_, 0, 64 - used_);
      Compress(h_, buf_);
      used_ = 0;
    }
    std::memset(buf_ + used_, 0, 56 - used_);
    for (int i = 0; i < 8; ++i) buf_[56 + i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    Compress(h_, buf_);
    HmacSha1::Digest out;
    for (int i = 0; i < 5; ++i) {
      for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<unsigned char>(h_[i] >> (24 - 8 * j));
    }
    return out;
  }

 private:
  uint32_t h_[5];
  unsigned char buf_[64];
  size_t used_ = 0;
  uint64_t total_;
};

}  // namespace

HmacSha1::HmacSha1(std::string_view key) {
  unsigned char block[64] = {};
  if (key.size() > 64) {
    Sha1 s(kInit, 0);
    s.Update(key);
    Digest d = s.Final();
    std::memcpy(block, d.data(), d.size());
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[64];
  std::memcpy(inner_.h, kInit, sizeof(kInit));
  for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
  Compress(inner_.h, pad);
  std::memcpy(outer_.h, kInit, sizeof(kInit));
  for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
  Compress(outer_.h, pad);
}

HmacSha1::Digest HmacSha1::Mac(std::initializer_list<std::string_view> parts) const {
  Sha1 in(inner_.h, 64);
  for (auto p : parts) in.Update(p);
  Digest inner = in.Final();
  Sha1 out(outer_.h, 64);
  out.Update(std::string_view(reinterpret_cast<const char*>(inner.data()), inner.size()));
  return out.Final();
}

}  // namespace danmu::core
