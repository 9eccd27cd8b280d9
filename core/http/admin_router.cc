#include "core/http/admin_router.h"

#include "core/base/log.h"
#include "core/base/metrics.h"
#include "core/base/secret_compare.h"

namespace danmu::core {

AdminRouter::AdminRouter(std::string token, Metrics* metrics) : token_(std::move(token)), metrics_(metrics) {}

void AdminRouter::Add(const std::string& method, const std::string& path, bool needs_auth, HttpHandler handler) {
  routes_[path][method] = Route{needs_auth, std::move(handler)};
}

HttpResponse AdminRouter::Handle(const HttpRequest& req) const {
  auto p = routes_.find(req.path);
  if (p == routes_.end()) return HttpResponse::Error(404, "not_found", "no such admin route");
  auto m = p->second.find(req.method);
  if (m == p->second.end()) {
    std::string allow;
    for (const auto& [method, r] : p->second) allow += (allow.empty() ? "" : ", ") + method;
    HttpResponse r = HttpResponse::Error(405, "method_not_allowed", "method " + req.method + " not allowed here");
    r.headers["Allow"] = allow;
    return r;
  }
  if (m->second.needs_auth) {
    const std::string got = req.Header("authorization");
    if (!BearerTokenMatches(got, token_)) {
      if (metrics_) metrics_->admin_unauthorized.Add({}).Increment();
      LogWarn("admin_unauthorized", {{"path", req.path}, {"client", req.client_address},
                                     {"had_token", got.empty() ? "false" : "true"}});
      HttpResponse r = HttpResponse::Error(401, "unauthorized", "admin actions need a valid bearer token");
      r.headers["WWW-Authenticate"] = "Bearer";
      return r;
    }
  }
  return m->second.handler(req);
}

}  // namespace danmu::core
