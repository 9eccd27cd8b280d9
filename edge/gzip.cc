// gzip content coding (contract: gzip.h). zlib stays in this file.
#include "edge/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace danmu::edge {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 qvalue: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ], in thousandths;
// -1 if malformed.
int ParseQ(std::string_view v) {
  if (v.empty() || v.size() > 5 || (v[0] != '0' && v[0] != '1')) return -1;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.') return -1;
  int scale = 100;
  for (size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (v[i] < '0' || v[i] > '9') return -1;
    q += (v[i] - '0') * scale;
  }
  return q > 1000 ? -1 : q;
}

}  // namespace

bool AcceptsGzip(std::string_view header) {
  int gzip_q = -1, star_q = -1;  // -1: not named
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view entry = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const size_t semi = entry.find(';');
    const std::string_view coding = Trim(entry.substr(0, semi));
    if (coding.empty()) continue;
    int q = 1000;
    std::string_view params = semi == std::string_view::npos ? std::string_view() : entry.substr(semi + 1);
    while (!params.empty()) {
      const size_t next = params.find(';');
      const std::string_view p = Trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      const size_t eq = p.find('=');
      if (eq == std::string_view::npos) continue;
      if (EqualsNoCase(Trim(p.substr(0, eq)), "q")) {
        q = ParseQ(Trim(p.substr(eq + 1)));
        if (q < 0) q = 0;  // a weight we cannot read: not acceptable
      }
    }
    if (EqualsNoCase(coding, "gzip") || EqualsNoCase(coding, "x-gzip")) gzip_q = std::max(gzip_q, q);
    else if (coding == "*") star_q = std::max(star_q, q);
  }
  if (gzip_q >= 0) return gzip_q > 0;
  return star_q > 0;
}

bool Compressible(const core::HttpResponse& r, const core::GzipOptions& o) {
  if (!o.enabled || r.status < 200 || r.status > 299) return false;
  if (r.body.size() < static_cast<size_t>(o.min_bytes)) return false;
  if (r.content_type.rfind("application/json", 0) != 0) return false;
  for (const auto& [k, v] : r.headers) {
    if (EqualsNoCase(k, "content-encoding")) return false;
  }
  return true;
}

std::optional<std::string> GzipCompress(std::string_view in, int level) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's; memLevel 8 (zlib's default).
  if (deflateInit2(&z, std::clamp(level, 1, 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  // deflateBound leaves room for the whole output: one call finishes.
  const int rc = deflate(&z, Z_FINISH);
  const size_t n = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(n);
  return out;
}

std::optional<std::string> GzipInflate(std::string_view in, size_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return std::nullopt;
  std::string out;
  char chunk[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  bool ok = !in.empty();
  while (ok) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) { ok = false; break; }
    out.append(chunk, sizeof(chunk) - z.avail_out);
    if (out.size() > max_bytes) { ok = false; break; }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) ok = false;  // another member follows
    } else if (z.avail_in == 0 && z.avail_out != 0) {
      ok = false;  // input ended inside a member
    }
  }
  inflateEnd(&z);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace danmu::edge
