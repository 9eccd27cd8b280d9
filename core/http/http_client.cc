#include "core/http/http_client.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace danmu::core {

Result<HttpResponse> Fetch(const HttpCall& call) {
  try {
    Poco::URI uri(call.url);
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    session.setTimeout(Poco::Timespan(0, call.timeout_ms * 1000));
    std::string target = uri.getPathEtc();
    if (target.empty()) target = "/";
    Poco::Net::HTTPRequest req(call.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : call.headers) req.set(k, v);
    if (!call.body.empty() || call.method == "POST") {
      if (!req.has("Content-Type")) req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(call.body.size()));
    }
    auto& os = session.sendRequest(req);
    os.write(call.body.data(), static_cast<std::streamsize>(call.body.size()));
    Poco::Net::HTTPResponse resp;
    auto& is = session.receiveResponse(resp);
    HttpResponse out;
    out.status = resp.getStatus();
    out.content_type = resp.getContentType();
    for (const auto& [k, v] : resp) out.headers[k] = v;
    Poco::StreamCopier::copyToString(is, out.body);
    return out;
  } catch (const Poco::Exception& e) {
    return Status(Code::kUnavailable, call.method + " " + call.url + ": " + e.displayText());
  } catch (const std::exception& e) {
    return Status(Code::kUnavailable, call.method + " " + call.url + ": " + e.what());
  }
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  Poco::URI::encode(s, "!#$&'()*+,/:;=?@[]%\"<>{}|\\^` ", out);
  return out;
}

}  // namespace danmu::core
