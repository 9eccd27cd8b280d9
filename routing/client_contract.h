#pragma once
// The client side of the long-connection contract (DESIGN §13), as a state
// machine without I/O, so that every client (danmu-bench's C++ viewers; the
// viewer page's JavaScript client mirrors it in web/client.js) behaves the
// same and the behaviour is unit-tested:
//
//   1. Ask the router (GET /v1/route). It answers a transport and endpoints.
//   2. Long transport: connect to the endpoints in turn. A connect that fails
//      (refused, handshake refused, timeout before the first frame) counts;
//      after kFailuresBeforeFallback (3) in a row the client falls back to
//      polling and tells the router why on its next ask (&fallback=REASON).
//   3. While polling, it retries the long connection after a jittered
//      exponential backoff (base retry_ms, doubling per failed retry, capped):
//      it asks the router again and tries once; a failed retry goes back to
//      polling with the next backoff; a success resets everything.
//   4. A held connection that closes:
//        close "resume"            reconnect now, same endpoint, from the cursor
//        close "reconnect elsewhere" (a draining edge) ask the router again
//        close "move to polling"   (degradation) poll; ask again after retry_after_ms
//        anything else / an error  reconnect after a short backoff (not counted
//                                  as a failed connect unless the reconnect fails)
//   5. Poll answers: next_poll_ms sets the interval; 503 + Retry-After (a
//      switchover) waits that long, with backoff while it repeats.
// The cursor is kept by the driver and sent on every connect and poll, so a
// client resumes without gap or repeat whichever transport it moves to.
//
// Thread-compatible; time is passed in (monotonic ms), jitter from a seeded RNG.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace danmu::routing {

inline constexpr int kFailuresBeforeFallback = 3;

enum class CloseKind { kResume, kElsewhere, kToPolling, kOther };

struct ClientContractOptions {
  int retry_base_ms = 5000;      // first long-connection retry after a fallback
  int retry_cap_ms = 120000;
  int reconnect_ms = 250;        // between connect attempts, and after an unexpected close
  int default_poll_ms = 2000;
};

class ClientContract {
 public:
  enum class Mode { kAskRouter, kConnecting, kLong, kPolling };
  struct Action {
    enum Kind { kAskRouter, kConnect, kPoll, kWait } kind = kWait;
    int64_t at_ms = 0;             // when to do it
    std::string endpoint;          // kConnect
    std::string fallback_reason;   // kAskRouter: to report, empty for none
  };

  ClientContract(ClientContractOptions options, uint64_t seed);

  // Events, each with the current time.
  void OnRoute(int64_t now, const std::string& transport, std::vector<std::string> endpoints,
               const std::string& poll_url, int retry_after_ms);
  void OnRouteFailed(int64_t now);
  void OnConnected(int64_t now);
  void OnConnectFailed(int64_t now, const std::string& reason);
  void OnClosed(int64_t now, CloseKind kind);
  void OnPollAnswer(int64_t now, int next_poll_ms);
  void OnPollUnavailable(int64_t now, int retry_after_ms);

  // What to do next (the driver sleeps until at_ms, then does it).
  Action Next() const { return next_; }
  Mode mode() const { return mode_; }
  int consecutive_failures() const { return failures_; }
  int fallbacks() const { return fallbacks_; }   // times it fell back to polling
  const std::string& poll_url() const { return poll_url_; }

 private:
  void FallBack(int64_t now, const std::string& reason);
  int Jitter(int ms);
  void ConnectAt(int64_t at);

  ClientContractOptions options_;
  std::mt19937_64 rng_;
  Mode mode_ = Mode::kAskRouter;
  Action next_;
  std::vector<std::string> endpoints_;
  size_t endpoint_index_ = 0;
  std::string poll_url_;
  int failures_ = 0;          // consecutive failed connects
  int retries_ = 0;           // failed long-connection retries since the fallback
  bool retrying_ = false;     // this connect is a retry from polling
  int fallbacks_ = 0;
  int poll_ms_ = 0;
  int unavailable_streak_ = 0;
  int64_t retry_long_at_ = 0; // polling: when to try the long connection again (0: never)
  std::string pending_reason_;
};

}  // namespace danmu::routing
