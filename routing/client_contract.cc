#include "routing/client_contract.h"

#include <algorithm>

namespace danmu::routing {

ClientContract::ClientContract(ClientContractOptions options, uint64_t seed)
    : options_(options), rng_(seed), poll_ms_(options.default_poll_ms) {
  next_ = {Action::kAskRouter, 0, "", ""};
}

int ClientContract::Jitter(int ms) {
  // Uniform in [0.5, 1.5) x ms: clients that failed together do not retry together.
  std::uniform_real_distribution<double> d(0.5, 1.5);
  return std::max(1, static_cast<int>(ms * d(rng_)));
}

void ClientContract::ConnectAt(int64_t at) {
  mode_ = Mode::kConnecting;
  const std::string& ep = endpoints_[endpoint_index_ % endpoints_.size()];
  next_ = {Action::kConnect, at, ep, ""};
}

void ClientContract::OnRoute(int64_t now, const std::string& transport, std::vector<std::string> endpoints,
                             const std::string& poll_url, int retry_after_ms) {
  poll_url_ = poll_url;
  pending_reason_.clear();
  if (transport == "poll" || endpoints.empty()) {
    mode_ = Mode::kPolling;
    // The router said poll: ask it again later, it may let this client onto
    // a long connection then (rollout raised, degradation over).
    retry_long_at_ = now + std::max(retry_after_ms, 1000);
    retrying_ = false;
    next_ = {Action::kPoll, now, "", ""};
    return;
  }
  endpoints_ = std::move(endpoints);
  endpoint_index_ = 0;
  ConnectAt(now);
}

void ClientContract::OnRouteFailed(int64_t now) {
  // No router: poll the last known poll URL if any, ask again with backoff.
  mode_ = poll_url_.empty() ? Mode::kAskRouter : Mode::kPolling;
  retry_long_at_ = now + Jitter(options_.retry_base_ms);
  next_ = poll_url_.empty() ? Action{Action::kAskRouter, retry_long_at_, "", pending_reason_}
                            : Action{Action::kPoll, now, "", ""};
}

void ClientContract::OnConnected(int64_t now) {
  mode_ = Mode::kLong;
  failures_ = 0;
  retries_ = 0;
  retrying_ = false;
  retry_long_at_ = 0;
  next_ = {Action::kWait, now, "", ""};
}

void ClientContract::FallBack(int64_t now, const std::string& reason) {
  ++fallbacks_;
  mode_ = Mode::kPolling;
  failures_ = 0;
  const int backoff = std::min(options_.retry_cap_ms, options_.retry_base_ms << std::min(retries_, 16));
  retry_long_at_ = now + Jitter(backoff);
  pending_reason_ = reason;
  next_ = {Action::kPoll, now, "", ""};
}

void ClientContract::OnConnectFailed(int64_t now, const std::string& reason) {
  if (retrying_) {
    // One try per retry: back to polling with the next, longer backoff.
    ++retries_;
    retrying_ = false;
    FallBack(now, reason);
    return;
  }
  ++failures_;
  if (failures_ >= kFailuresBeforeFallback) {
    FallBack(now, reason);
    return;
  }
  ++endpoint_index_;
  ConnectAt(now + options_.reconnect_ms);
}

void ClientContract::OnClosed(int64_t now, CloseKind kind) {
  switch (kind) {
    case CloseKind::kResume:
      ConnectAt(now);
      return;
    case CloseKind::kElsewhere:
      mode_ = Mode::kAskRouter;
      // Spread: a draining edge closes its clients over its drain time; the
      // jitter keeps a burst of closes from becoming a burst of asks.
      next_ = {Action::kAskRouter, now + Jitter(options_.reconnect_ms), "", ""};
      return;
    case CloseKind::kToPolling:
      mode_ = Mode::kPolling;
      retry_long_at_ = now + Jitter(options_.retry_base_ms);
      next_ = {Action::kPoll, now, "", ""};
      return;
    case CloseKind::kOther:
      ConnectAt(now + Jitter(options_.reconnect_ms));
      return;
  }
}

void ClientContract::OnPollAnswer(int64_t now, int next_poll_ms) {
  unavailable_streak_ = 0;
  poll_ms_ = next_poll_ms > 0 ? next_poll_ms : options_.default_poll_ms;
  const int64_t next_poll = now + poll_ms_;
  if (retry_long_at_ != 0 && retry_long_at_ <= next_poll) {
    mode_ = Mode::kAskRouter;
    retrying_ = true;
    next_ = {Action::kAskRouter, retry_long_at_, "", pending_reason_};
    retry_long_at_ = 0;
    return;
  }
  next_ = {Action::kPoll, next_poll, "", ""};
}

void ClientContract::OnPollUnavailable(int64_t now, int retry_after_ms) {
  ++unavailable_streak_;
  const int base = std::max(retry_after_ms, 100);
  const int wait = std::min(options_.retry_cap_ms, base << std::min(unavailable_streak_ - 1, 6));
  next_ = {Action::kPoll, now + Jitter(wait), "", ""};
}

}  // namespace danmu::routing
