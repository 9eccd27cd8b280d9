#pragma once
// gzip content coding of the public port's answers (issue 19: "Accept-Encoding:
// gzip where it pays"). Pure functions, no state: safe from any thread.
//
// When an answer is compressed (Compressible + AcceptsGzip): a 2xx JSON
// answer of at least edge.gzip.min_bytes, without a Content-Encoding of its
// own, to a request whose Accept-Encoding allows gzip. Errors and small
// answers stay plain (a 1 KB answer saves little and costs a deflate; an
// error must stay readable by any client). Every answer that could have been
// compressed carries `Vary: Accept-Encoding`, compressed or not, so that a
// cache between us and the client keys on the header.
#include <optional>
#include <string>
#include <string_view>

#include "core/base/config.h"
#include "core/http/http_types.h"

namespace danmu::edge {

// Does this Accept-Encoding header value allow the gzip coding? RFC 9110
// §12.5.3: a comma-separated list of codings with optional ";q=" weights
// (0..1, up to three decimals); q=0 means "not acceptable". `gzip` and
// `x-gzip` name gzip; `*` stands for every coding not named. An explicit
// gzip entry wins over `*`. An absent or empty header: no (identity only). A
// malformed weight makes its entry count as q=0 (never compress on a doubt).
bool AcceptsGzip(std::string_view accept_encoding);

// The answer may be gzip-compressed under `o` (status 2xx, JSON, at least
// o.min_bytes, no Content-Encoding already, compression enabled); whether the
// client accepts it is AcceptsGzip's question.
bool Compressible(const core::HttpResponse& r, const core::GzipOptions& o);

// `in` as one gzip member (RFC 1952) at zlib level `level` (1..9). nullopt
// only if zlib fails (out of memory): the caller then sends the answer plain.
std::optional<std::string> GzipCompress(std::string_view in, int level);

// The inverse, for tests and clients: the inflated bytes of one or more gzip
// members, or nullopt if `in` is not valid gzip or inflates past max_bytes.
std::optional<std::string> GzipInflate(std::string_view in, size_t max_bytes = size_t{64} << 20);

}  // namespace danmu::edge
