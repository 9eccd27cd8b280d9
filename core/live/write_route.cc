#include "core/live/write_route.h"

#include "core/http/http_client.h"
#include "core/store/kafka_producer.h"
#include "core/base/metrics.h"
#include "core/base/work_pool.h"

namespace danmu::core {

Status KafkaWriteRoute::Write(const Message& m) { return producer_->Produce(PartitionKey(m), EncodePayload(m)); }

void KafkaWriteRoute::WriteAsync(const Message& m, Done done) {
  producer_->ProduceAsync(PartitionKey(m), EncodePayload(m), std::move(done));
}

void ForwardWriteRoute::WriteAsync(const Message& m, Done done) {
  if (!pool_) {
    done(Write(m));
    return;
  }
  auto shared = std::make_shared<std::pair<Message, Done>>(m, std::move(done));
  const bool queued = pool_->TrySubmit(
      [this, shared] { shared->second(Write(shared->first)); },
      [shared] { shared->second(Status(Code::kUnavailable, "write forwarding stopped")); });
  if (!queued) {
    if (metrics_) metrics_->forwarded_writes.Add({{"result", "queue_full"}}).Increment();
    shared->second(Status(Code::kUnavailable, "write forwarding queue full; retry"));
  }
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    i = j + 1;
  }
  return out;
}

ForwardWriteRoute::ForwardWriteRoute(std::vector<std::string> admin_urls, std::string token, int timeout_ms,
                                     Metrics* metrics)
    : urls_(std::move(admin_urls)), token_(std::move(token)), timeout_ms_(timeout_ms), metrics_(metrics) {}

void ForwardWriteRoute::SetTargets(std::vector<std::string> admin_urls) {
  std::lock_guard lock(mu_);
  urls_ = std::move(admin_urls);
}

std::vector<std::string> ForwardWriteRoute::Targets() {
  std::lock_guard lock(mu_);
  return urls_;
}

Status ForwardWriteRoute::Write(const Message& m) {
  auto count = [&](const char* result) {
    if (metrics_) metrics_->forwarded_writes.Add({{"result", result}}).Increment();
  };
  Status last(Code::kUnavailable, "no primary room target configured");
  for (const auto& url : Targets()) {
    HttpCall call;
    call.method = "POST";
    call.url = url + "/v1/admin/ingest";
    call.body = EncodePayload(m);
    call.headers["Authorization"] = "Bearer " + token_;
    call.timeout_ms = timeout_ms_;
    auto r = Fetch(call);
    if (!r.ok()) {
      // Connection refused or timed out: try the next target. The id was
      // stamped here, so a record that did land twice is dropped by the
      // processor's dedup.
      last = r.status();
      count("target_down");
      continue;
    }
    if (r->status == 202) {
      count("ok");
      return Status::Ok();
    }
    if (r->status >= 500) {
      last = Status(Code::kUnavailable, "primary room answered " + std::to_string(r->status) + ": " + r->body);
      count("primary_unavailable");
      continue;
    }
    count("rejected");
    return Status(Code::kInvalidArgument, "primary room refused the write: " + r->body);
  }
  return last;
}

}  // namespace danmu::core
