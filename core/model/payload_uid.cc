#include "core/model/payload_uid.h"

namespace danmu::core {

bool PayloadUid(std::string_view payload, std::string_view* uid) {
  constexpr std::string_view kKey = ",\"uid\":\"";
  const auto at = payload.find(kKey);
  if (at == std::string_view::npos) return false;
  const size_t begin = at + kKey.size();
  const auto end = payload.find('"', begin);
  if (end == std::string_view::npos) return false;
  const std::string_view v = payload.substr(begin, end - begin);
  if (v.find('\\') != std::string_view::npos) return false;
  *uid = v;
  return true;
}

}  // namespace danmu::core
