#include "core/api/static_files.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/model/validation.h"

namespace danmu::core {
namespace {

// Only this origin's scripts and styles, never inline script; connections to
// any http(s)/ws(s) origin because the router may hand out other edges.
constexpr const char* kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' http: https: ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

std::string Etag(const std::string& body) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string StaticFiles::ContentType(std::string_view name) {
  if (EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(name, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(name, ".json")) return "application/json";
  if (EndsWith(name, ".svg")) return "image/svg+xml";
  if (EndsWith(name, ".png")) return "image/png";
  if (EndsWith(name, ".ico")) return "image/x-icon";
  if (EndsWith(name, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool StaticFiles::IsSafeName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void StaticFiles::Add(const std::string& name, std::string body) {
  File f;
  f.content_type = ContentType(name);
  f.etag = Etag(body);
  f.body = std::move(body);
  files_[name] = std::move(f);
}

Result<StaticFiles> StaticFiles::Load(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Status(Code::kInvalidArgument, "cannot open directory '" + dir + "'");
  StaticFiles out;
  Status error;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (!IsSafeName(name)) continue;  // ".", "..", hidden files, odd names
    const std::string path = dir + "/" + name;
    struct stat st {};
    // lstat: a symlink is not followed (it could point out of the folder).
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (static_cast<size_t>(st.st_size) > kMaxFileBytes) {
      error = Status(Code::kInvalidArgument, "file '" + path + "' is larger than " + std::to_string(kMaxFileBytes) + " bytes");
      break;
    }
    if (out.files_.size() >= kMaxFiles) {
      error = Status(Code::kInvalidArgument, "more than " + std::to_string(kMaxFiles) + " files in '" + dir + "'");
      break;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in.good() && !in.eof()) {
      error = Status(Code::kInvalidArgument, "cannot read '" + path + "'");
      break;
    }
    out.Add(name, body.str());
  }
  ::closedir(d);
  if (!error.ok()) return error;
  if (!out.files_.count("index.html")) return Status(Code::kInvalidArgument, "no index.html in '" + dir + "'");
  return out;
}

StaticFiles StaticFiles::FromMap(const std::map<std::string, std::string>& files) {
  StaticFiles out;
  for (const auto& [name, body] : files) {
    if (IsSafeName(name)) out.Add(name, body);
  }
  return out;
}

std::string StaticFiles::DefaultDir(const std::string& exe_path) {
  const size_t slash = exe_path.rfind('/');
  if (slash == std::string::npos) return "";
  const std::string exe_dir = exe_path.substr(0, slash);
  for (const std::string& dir : {exe_dir + "/../share/danmu/web", exe_dir + "/../../../web"}) {
    struct stat st {};
    if (::stat((dir + "/index.html").c_str(), &st) == 0 && S_ISREG(st.st_mode)) return dir;
  }
  return "";
}

bool StaticFiles::Claims(std::string_view path) {
  return path == "/" || path == "/status" || path.rfind("/watch/", 0) == 0 || path.rfind("/static/", 0) == 0;
}

HttpResponse StaticFiles::Handle(const HttpRequest& req) const {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = HttpResponse::Error(405, "method_not_allowed", "method " + req.method + " not allowed here");
    r.headers["Allow"] = "GET, HEAD";
    return r;
  }
  const std::string_view path = req.path;
  if (path == "/") return Serve(req, "index.html");
  if (path == "/status") return Serve(req, "status.html");
  if (path.rfind("/watch/", 0) == 0) {
    // The page reads its room from location.pathname; a bad id is a 404
    // here rather than a page that polls a room that cannot exist.
    const std::string room(path.substr(7));
    if (!IsValidLiveRoom(room) || IsReservedLiveRoom(room)) return HttpResponse::Error(404, "not_found", "no such room page");
    return Serve(req, "index.html");
  }
  if (path.rfind("/static/", 0) == 0) {
    const std::string_view name = path.substr(8);
    if (!IsSafeName(name)) return HttpResponse::Error(404, "not_found", "no such file");
    return Serve(req, std::string(name));
  }
  return HttpResponse::Error(404, "not_found", "no such route");
}

HttpResponse StaticFiles::Serve(const HttpRequest& req, const std::string& name) const {
  auto it = files_.find(name);
  if (it == files_.end()) return HttpResponse::Error(404, "not_found", "no such file");
  const File& f = it->second;
  HttpResponse r;
  r.headers["ETag"] = f.etag;
  r.headers["Cache-Control"] = "no-cache";
  r.headers["X-Content-Type-Options"] = "nosniff";
  r.content_type = f.content_type;
  if (f.content_type.rfind("text/html", 0) == 0) {
    r.headers["Content-Security-Policy"] = kPageCsp;
    r.headers["Referrer-Policy"] = "no-referrer";
  }
  const std::string inm = req.Header("if-none-match");
  // A list of tags is allowed; ours are quoted hex, so a substring test is exact.
  if (!inm.empty() && (inm.find(f.etag) != std::string::npos || inm == "*")) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.body = f.body;
  return r;
}

}  // namespace danmu::core
