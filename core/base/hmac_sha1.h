#pragma once
// HMAC-SHA1 (RFC 2104 / FIPS 180-4) with the key's inner and outer pad states
// computed once: a MAC of a short message then costs two SHA-1 block
// compressions and no allocation, instead of a full key schedule per call.
// It exists for the poll cursor, which is MAC'd on every poll.
//
// Thread safety: a constructed HmacSha1 is immutable; Mac() may be called from
// any number of threads at once.
#include <array>
#include <cstdint>
#include <string_view>

namespace danmu::core {

class HmacSha1 {
 public:
  using Digest = std::array<unsigned char, 20>;
  explicit HmacSha1(std::string_view key);
  // MAC of the concatenation of `parts` (avoids building the message).
  Digest Mac(std::initializer_list<std::string_view> parts) const;

 private:
  struct State {
    uint32_t h[5];
  };
  State inner_{};
  State outer_{};
};

}  // namespace danmu::core
