#pragma once
// The pages' static files (web/: the viewer, the status page, the JavaScript
// client), served on the public port by whichever server runs it: a plain
// function of our HttpRequest/HttpResponse, no sockets.
//
// Contract:
//   - Load(dir) reads every regular file directly in `dir` once, at start-up
//     (no sub-folders, no symlinks followed out of it, at most kMaxFiles files
//     of at most kMaxFileBytes each). Requests never touch the file system, so
//     no request path can reach a file outside the set that was loaded.
//   - Routes: "/" and "/watch/{room}" -> index.html (the viewer; the page
//     reads the room from its own URL), "/status" -> status.html,
//     "/static/{name}" -> the file `name`. A name is one segment of
//     [A-Za-z0-9._-] not starting with '.': anything else (traversal, encoded
//     slashes, hidden files) is 404, the same answer as a missing file.
//   - GET and HEAD only (405 with Allow otherwise). Answers carry the content
//     type by extension, a strong ETag (hash of the bytes), Cache-Control
//     "no-cache" (revalidate every time: a deploy shows at once) and
//     X-Content-Type-Options: nosniff; If-None-Match with the current ETag
//     gets 304 with no body. HTML pages also get a Content-Security-Policy
//     that allows only this origin's scripts, styles and connections.
//   - Immutable after Load: Handle() is safe from any number of threads.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/http/http_types.h"

namespace danmu::core {

class StaticFiles {
 public:
  static constexpr size_t kMaxFiles = 256;
  static constexpr size_t kMaxFileBytes = 2 * 1024 * 1024;

  // Reads the files of `dir`; an unreadable or missing dir is an error
  // (the caller names the config key).
  [[nodiscard]] static Result<StaticFiles> Load(const std::string& dir);
  // From memory (tests): name -> bytes.
  static StaticFiles FromMap(const std::map<std::string, std::string>& files);

  // True for the paths this serves ("/", "/watch/...", "/status", "/static/...").
  static bool Claims(std::string_view path);
  HttpResponse Handle(const HttpRequest& req) const;

  // Where the pages are when web.static_dir is empty, for a binary at
  // `exe_path`: <exe dir>/../share/danmu/web (installed), else
  // <exe dir>/../../../web (build/cmd/danmud/danmud in a checkout); "" if
  // neither holds an index.html.
  static std::string DefaultDir(const std::string& exe_path);

  size_t size() const { return files_.size(); }
  static std::string ContentType(std::string_view name);
  static bool IsSafeName(std::string_view name);

 private:
  struct File {
    std::string body;
    std::string content_type;
    std::string etag;
  };
  HttpResponse Serve(const HttpRequest& req, const std::string& name) const;
  void Add(const std::string& name, std::string body);

  std::map<std::string, File> files_;
};

}  // namespace danmu::core
