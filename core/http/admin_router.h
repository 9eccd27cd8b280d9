#pragma once
// Routes of the admin port. Admin actions (promote, switchover, degrade,
// drill hooks, reload, ingest) require "Authorization: Bearer <token>" with
// the token read from admin.token_file; without it: 401, counted in
// danmu_admin_unauthorized_total and logged. Open routes (/metrics, /healthz,
// read-only status) are registered with auth = false.
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "core/http/http_types.h"

namespace danmu::core {

class Metrics;

class AdminRouter {
 public:
  AdminRouter(std::string token, Metrics* metrics);
  void Add(const std::string& method, const std::string& path, bool needs_auth, HttpHandler handler);
  HttpResponse Handle(const HttpRequest& req) const;

 private:
  struct Route {
    bool needs_auth;
    HttpHandler handler;
  };
  std::string token_;
  Metrics* metrics_;
  std::map<std::string, std::map<std::string, Route>> routes_;  // path -> method -> route
};

}  // namespace danmu::core
