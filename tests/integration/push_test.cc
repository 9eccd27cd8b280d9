// Push (WebSocket and SSE) through the real stack (DESIGN §12, issue 18):
// fan-out exactly once and in order to thousands of connections across
// forced reconnects and a planned switchover, slow consumers, the fan-out
// mode's hysteresis, idle connections, handshake and frame refusals, and the
// operator's move-to-polling switch. The connections are held by push_client
// processes (tests/integration/push_client.cc), each bound to its own 127.0.0.x address.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/json_text.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::Get;
using testing::Post;
using testing::WaitFor;

int PortOf(const std::string& url) { return std::atoi(url.substr(url.rfind(':') + 1).c_str()); }

std::string SelfDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string p(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return p.substr(0, p.rfind('/'));
}

// One push_client process, spoken to over pipes.
class Client {
 public:
  Client(int port, const std::string& bind) {
    int in[2], out[2];
    EXPECT_EQ(pipe(in), 0);
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      std::string bin = SelfDir() + "/push_client";
      std::string p = std::to_string(port);
      execl(bin.c_str(), bin.c_str(), "--port", p.c_str(), "--bind", bind.c_str(), nullptr);
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
    ready_ = Read(30000).rfind("ready", 0) == 0;
  }
  ~Client() {
    Send("quit");
    Read(5000);
    close(to_);
    close(from_);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool ready() const { return ready_; }
  void Send(const std::string& line) {
    std::string l = line + "\n";
    (void)!write(to_, l.data(), l.size());
  }
  // One answer line; "" on timeout.
  std::string Read(int timeout_ms) {
    while (true) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      pollfd p{from_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) return "";
      char tmp[65536];
      ssize_t n = read(from_, tmp, sizeof tmp);
      if (n <= 0) return "";
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  std::string Call(const std::string& line, int timeout_ms = 180000) {
    Send(line);
    return Read(timeout_ms);
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
  bool ready_ = false;
};

bool Done(const std::string& answer) { return answer.rfind("done", 0) == 0; }

// One series of room A's /metrics, exactly as exposed (constant label room
// first, then the others sorted); a series that is not there fails the test
// (a misspelt series must not read as 0).
double Sample(const std::string& series) {
  auto r = Get(Env("DANMU_A_ADMIN") + "/metrics");
  if (!r.ok()) {
    ADD_FAILURE() << "room A's /metrics: " << r.status().message();
    return -1;
  }
  auto pos = r->body.find("\n" + series + " ");
  if (pos == std::string::npos) {
    ADD_FAILURE() << "no series " << series << " in room A's /metrics";
    return -1;
  }
  return std::stod(r->body.substr(pos + series.size() + 2));
}

// Posts a comment (retrying 503/429, e.g. while a switchover freezes writes)
// and returns its id once acknowledged.
std::string PostComment(const std::string& room, const std::string& uid, const std::string& text) {
  std::string body = "{\"type\":\"comment\",\"uid\":" + core::JsonString(uid) + ",\"text\":" + core::JsonString(text) + "}";
  for (int attempt = 0; attempt < 400; ++attempt) {
    auto r = Post(Env("DANMU_A_HTTP") + "/v1/rooms/" + room + "/messages", body);
    if (r.ok() && r->status == 202) {
      auto p = r->body.find("\"id\":\"");
      return r->body.substr(p + 6, r->body.find('"', p + 6) - p - 6);
    }
    usleep(50000);
  }
  return "";
}

// Whether the router of the danmud at admin URL env `admin_env` lists the
// edge with public URL `url` (GET /v1/admin/route).
bool ListedEdge(const char* admin_env, const std::string& url) {
  auto r = Get(Env(admin_env) + "/v1/admin/route");
  return r.ok() && r->body.find("\"url\":\"" + url + "\"") != std::string::npos;
}

class PushTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs(80) << std::endl;
  }
  std::string tag_ = std::to_string(::getpid());
  std::map<std::string, std::vector<std::string>> acked_;  // room -> ids in ack order
  int posted_ = 0;
  void Publish(const std::string& room, int n) {
    for (int i = 0; i < n; ++i) {
      std::string id = PostComment(room, "w" + std::to_string(posted_++ % 5000), "push " + std::to_string(posted_));
      ASSERT_FALSE(id.empty()) << "post to " << room << " was never acknowledged";
      acked_[room].push_back(id);
    }
  }
  // Two push_client processes (source addresses 127.0.0.<first_address>
  // and the next) holding `per_client` WebSockets each to `room` on `port`;
  // a connection the server lets go (1001, cut, refused) moves to
  // `elsewhere_port`, as the router would send it.
  void OpenMovable(int port, int first_address, const std::string& room, int per_client, int elsewhere_port,
                   std::vector<std::unique_ptr<Client>>* clients) {
    for (int i = 0; i < 2; ++i) {
      clients->push_back(std::make_unique<Client>(port, "127.0.0." + std::to_string(first_address + i)));
      ASSERT_TRUE(clients->back()->ready());
    }
    for (auto& c : *clients) ASSERT_TRUE(Done(c->Call("open ws " + room + " " + std::to_string(per_client))));
    for (auto& c : *clients) ASSERT_TRUE(Done(c->Call("elsewhere " + std::to_string(elsewhere_port))));
  }
  // Waits until `c` saw every id of `file`, checks it saw each exactly once
  // in order, and returns its stats line ("" after a failure).
  std::string WaitVerified(Client& c, const std::string& file, const char* label) {
    std::string w = c.Call("wait " + file + " 60000");
    if (!Done(w)) {
      ADD_FAILURE() << label << ": " << w;
      return "";
    }
    std::string v = c.Call("verify " + file);
    EXPECT_NE(v.find(" bad=0"), std::string::npos) << label << ": " << v;
    std::string st = c.Call("stats");
    std::printf("%s client: %s\n", label, st.c_str());
    return st;
  }
  std::string WriteExpected() {
    std::string file = Env("DANMU_RUN_DIR") + "/push_expected_" + tag_ + ".txt";
    std::ofstream out(file);
    for (const auto& [room, ids] : acked_) {
      out << room;
      for (const auto& id : ids) out << " " << id;
      out << "\n";
    }
    return file;
  }
};

// 5,000 WebSockets + 1,000 SSE in one big room and 200 small rooms of 5:
// every acknowledged message reaches every connection exactly once, in
// order, across a forced reconnect of half of them with their cursors and a
// planned switchover with every client moving from room A to room B.
TEST_F(PushTest, FanOutExactlyOnceAcrossReconnectAndSwitchover) {
  const std::string big = "pbig" + tag_;
  std::vector<std::string> small;
  for (int i = 0; i < 200; ++i) small.push_back("psm" + tag_ + "x" + std::to_string(i));
  const int kProcs = 6;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kProcs; ++i) {
    clients.push_back(std::make_unique<Client>(PortOf(Env("DANMU_A_HTTP")), "127.0.0." + std::to_string(2 + i)));
    ASSERT_TRUE(clients.back()->ready());
  }
  auto all = [&](const std::function<std::string(int)>& cmd, const char* what) {
    for (int i = 0; i < kProcs; ++i) clients[i]->Send(cmd(i));
    for (int i = 0; i < kProcs; ++i) {
      std::string a = clients[i]->Read(240000);
      ASSERT_TRUE(Done(a)) << what << " in client " << i << ": " << a;
      std::printf("client %d %s: %s\n", i, what, a.c_str());
    }
  };
  // Big room: 1,000 WebSockets in each of 5 processes, 1,000 SSE in the 6th.
  all([&](int i) { return i < 5 ? "open ws " + big + " 1000" : "open sse " + big + " 1000"; }, "open big");
  // Small rooms: 3 WebSockets (with uids) and 2 SSE each, spread over the processes.
  for (int r = 0; r < 200; ++r) {
    Client& c = *clients[r % kProcs];
    c.Send("open ws " + small[r] + " 3 u" + std::to_string(r) + "v");
    c.Send("open sse " + small[r] + " 2 u" + std::to_string(r) + "s");
  }
  for (int r = 0; r < 200; ++r) {
    for (int k = 0; k < 2; ++k) {
      std::string a = clients[r % kProcs]->Read(240000);
      ASSERT_TRUE(Done(a)) << "open small room " << r << ": " << a;
    }
  }
  auto status = Get(Env("DANMU_A_ADMIN") + "/v1/admin/push");
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->body.find("{\"live_room\":\"" + big + "\",\"mode\":\"broadcast\",\"subscribers\":6000}"), std::string::npos)
      << status->body;
  EXPECT_NE(status->body.find("\"mode\":\"notify_pull\",\"subscribers\":5}"), std::string::npos) << status->body;

  Publish(big, 20);
  for (int r = 0; r < 200; r += 4) Publish(small[r], 1);
  // A forced reconnect of half the connections while messages keep coming.
  for (auto& c : clients) c->Send("reconnect-half");
  Publish(big, 20);
  for (int r = 1; r < 200; r += 4) Publish(small[r], 1);
  for (int i = 0; i < kProcs; ++i) {
    std::string a = clients[i]->Read(240000);
    ASSERT_TRUE(Done(a)) << "reconnect-half in client " << i << ": " << a;
  }
  {
    std::string file = WriteExpected();
    all([&](int) { return "wait " + file + " 60000"; }, "wait after reconnect");
    for (int i = 0; i < kProcs; ++i) {
      std::string a = clients[i]->Call("verify " + file);
      std::printf("client %d verify after reconnect: %s\n", i, a.c_str());
      EXPECT_NE(a.find(" bad=0"), std::string::npos) << "after the reconnect, client " << i << ": " << a;
    }
  }
  // Planned switchover A -> B; then every client moves to room B.
  std::string out;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("switchover"), &out), 0) << out;
  Publish(big, 10);
  for (auto& c : clients) c->Send("move " + std::to_string(PortOf(Env("DANMU_B_HTTP"))));
  Publish(big, 10);
  for (int r = 2; r < 200; r += 4) Publish(small[r], 1);
  for (int i = 0; i < kProcs; ++i) {
    std::string a = clients[i]->Read(240000);
    ASSERT_TRUE(Done(a)) << "move in client " << i << ": " << a;
  }
  Publish(big, 10);
  std::string file = WriteExpected();
  all([&](int) { return "wait " + file + " 60000"; }, "wait after switchover");
  for (int i = 0; i < kProcs; ++i) {
    std::string a = clients[i]->Call("verify " + file);
    std::printf("client %d verify: %s\n", i, a.c_str());
    EXPECT_NE(a.find(" bad=0"), std::string::npos) << "client " << i << ": " << a;
  }
  // Hand the stack on as found: room A primary again.
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("switchover"), &out), 0) << out;
}

// A raw client socket (handshakes and frames the push_client never sends).
class Raw {
 public:
  explicit Raw(int port, int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Raw() { close(fd_); }
  bool ok() const { return ok_; }
  void Send(const std::string& b) { (void)!send(fd_, b.data(), b.size(), MSG_NOSIGNAL); }
  // Reads until `stop` is in what was read (or EOF / 10 s without data).
  std::string ReadUntil(const std::string& stop, size_t max = 1 << 20) {
    char buf[8192];
    while (in_.find(stop) == std::string::npos && in_.size() < max) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      in_.append(buf, static_cast<size_t>(n));
    }
    return in_;
  }
  // The close code of the first close frame after the 101 (0: none).
  int CloseCode() {
    for (int i = 0; i < 50; ++i) {
      for (const auto& f : Frames()) {
        if (f.op == 8 && f.payload.size() >= 2) {
          return (static_cast<unsigned char>(f.payload[0]) << 8) | static_cast<unsigned char>(f.payload[1]);
        }
      }
      char buf[8192];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return 0;
      in_.append(buf, static_cast<size_t>(n));
    }
    return 0;
  }
  int fd() const { return fd_; }
  // Reads for `ms` (or until `enough` holds) and returns the payloads of the
  // text frames complete so far after the 101 (unmasked server frames, any
  // of the three length forms), answering pings.
  std::vector<std::string> Texts(int ms, const std::function<bool(const std::vector<std::string>&)>& enough = {}) {
    std::vector<std::string> texts;
    for (int waited = 0;; waited += 100) {
      texts.clear();
      if (in_.find("\r\n\r\n") != std::string::npos) {
        for (const auto& f : Frames()) {
          if (f.op == 1) texts.push_back(f.payload);
          if (f.op == 9 && f.at >= answered_) {  // a ping: pong (masked, zero key), or the idle timeout closes us
            std::string pong = "\x8a";
            pong += static_cast<char>(0x80 | f.payload.size());
            pong += std::string(4, '\0') + f.payload;
            Send(pong);
            answered_ = f.at + 1;
          }
        }
      }
      if ((enough && enough(texts)) || waited >= ms) return texts;
      pollfd pf{fd_, POLLIN, 0};
      if (poll(&pf, 1, 100) > 0) {
        char buf[65536];
        ssize_t n = recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return texts;
        in_.append(buf, static_cast<size_t>(n));
      }
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::string in_;
  size_t answered_ = 0;  // pings before this offset have been answered

  struct ServerFrame {
    int op;
    size_t at;  // offset in in_
    std::string payload;
  };
  // The complete (unmasked) server frames read so far, after the 101's head
  // (from the start when there is none), any of the three length forms.
  std::vector<ServerFrame> Frames() const {
    std::vector<ServerFrame> out;
    const auto head = in_.find("\r\n\r\n");
    size_t p = head == std::string::npos ? 0 : head + 4;
    while (p + 2 <= in_.size()) {
      const int op = static_cast<unsigned char>(in_[p]) & 0x0F;
      uint64_t len = static_cast<unsigned char>(in_[p + 1]) & 0x7F;
      size_t h = 2;
      if (len == 126 || len == 127) {
        h = len == 126 ? 4 : 10;
        if (p + h > in_.size()) break;
        len = 0;
        for (size_t i = 2; i < h; ++i) len = (len << 8) | static_cast<unsigned char>(in_[p + i]);
      }
      if (p + h + len > in_.size()) break;
      out.push_back({op, p, in_.substr(p + h, len)});
      p += h + len;
    }
    return out;
  }
};

std::string WsRequest(const std::string& room, const std::string& query = "", const std::string& extra = "",
                      bool key = true, const std::string& version = "13") {
  std::string r = "GET /v1/rooms/" + room + "/ws" + query + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  if (key) r += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  r += "Sec-WebSocket-Version: " + version + "\r\n" + extra + "\r\n";
  return r;
}

std::string Frame(uint8_t first, const std::string& payload, bool mask = true, uint64_t fake_len = 0) {
  std::string f;
  f.push_back(static_cast<char>(first));
  uint64_t n = fake_len ? fake_len : payload.size();
  const char m = mask ? static_cast<char>(0x80) : 0;
  if (n < 126) {
    f.push_back(static_cast<char>(m | static_cast<char>(n)));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  if (mask) f.append("\x01\x02\x03\x04", 4);
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ (mask ? "\x01\x02\x03\x04"[i % 4] : 0)));
  return f;
}

int StatusOf(const std::string& answer) { return answer.size() > 12 ? std::atoi(answer.c_str() + 9) : 0; }

bool PollAnswers(const std::string& room) {
  auto r = Get(Env("DANMU_A_HTTP") + "/v1/rooms/" + room + "/messages");
  return r.ok() && r->status == 200;
}

// Malformed handshakes get their HTTP refusal, bad frames their close code,
// and the server keeps serving.
TEST_F(PushTest, MalformedHandshakesAndBadFramesRefused) {
  const int port = PortOf(Env("DANMU_A_HTTP"));
  const std::string room = "pbad" + tag_;
  struct HandshakeCase {
    std::string request;
    int status;
    std::string code;
  };
  std::vector<HandshakeCase> cases = {
      {WsRequest(room, "", "", /*key=*/false), 400, "bad_handshake"},
      {WsRequest(room, "", "", true, "8"), 426, "bad_handshake"},
      {WsRequest(room, "?cursor=forged"), 400, "invalid_argument"},
      {WsRequest(room, "?uid=bad%20uid"), 400, "invalid_argument"},
      {WsRequest("bad.room"), 400, "invalid_argument"},
      {WsRequest("__probe"), 404, "not_found"},
      {"GET /v1/rooms/" + room + "/events?cursor=forged HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_argument"},
      {"GET /v1/rooms/" + room + "/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: nope\r\n\r\n", 400, "invalid_argument"},
  };
  for (const auto& c : cases) {
    Raw raw(port);
    ASSERT_TRUE(raw.ok());
    raw.Send(c.request);
    std::string answer = raw.ReadUntil("}}");
    EXPECT_EQ(StatusOf(answer), c.status) << c.request << " -> " << answer;
    EXPECT_NE(answer.find("\"code\":\"" + c.code + "\""), std::string::npos) << answer;
  }
  struct FrameCase {
    std::string frame;
    int close;
    const char* what;
  };
  std::vector<FrameCase> frames = {
      {Frame(0x89, "x", /*mask=*/false), 1002, "unmasked"},
      {Frame(0xC9, "x"), 1002, "reserved bit"},
      {Frame(0x83, "x"), 1002, "unknown opcode"},
      {Frame(0x82, "\x01\x02"), 1003, "binary"},
      {Frame(0x81, "hello"), 1003, "text"},
      {Frame(0x82, "", true, 1 << 20), 1009, "oversize (header of a 1 MiB frame)"},
  };
  for (const auto& f : frames) {
    Raw raw(port);
    ASSERT_TRUE(raw.ok());
    raw.Send(WsRequest(room));
    std::string head = raw.ReadUntil("\r\n\r\n");
    ASSERT_EQ(StatusOf(head), 101) << head;
    raw.Send(f.frame);
    EXPECT_EQ(raw.CloseCode(), f.close) << f.what;
  }
  // A ping is answered with a pong; the server keeps serving.
  {
    Raw raw(port);
    raw.Send(WsRequest(room));
    ASSERT_EQ(StatusOf(raw.ReadUntil("\r\n\r\n")), 101);
    raw.Send(Frame(0x89, "hi"));
    std::string got = raw.ReadUntil(std::string("\x8a\x02hi", 4));
    EXPECT_NE(got.find(std::string("\x8a\x02hi", 4)), std::string::npos) << "pong with the ping's payload";
  }
  EXPECT_TRUE(PollAnswers(room));
  EXPECT_GE(Sample("danmu_push_refusals_total{room=\"A\",reason=\"bad_handshake\",transport=\"ws\"}"), 2);
}

// 600 idle WebSockets: a normal poll still answers.
TEST_F(PushTest, IdleWebSocketsDoNotStopPolls) {
  const std::string room = "pidle" + tag_;
  Client c(PortOf(Env("DANMU_A_HTTP")), "127.0.0.9");
  ASSERT_TRUE(c.ready());
  std::string a = c.Call("open ws " + room + " 600");
  ASSERT_TRUE(Done(a)) << a;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(PollAnswers(room)) << "poll " << i << " with 600 idle WebSockets open";
  Publish(room, 3);
  std::string file = WriteExpected();
  ASSERT_TRUE(Done(c.Call("wait " + file + " 30000")));
  EXPECT_NE(c.Call("verify " + file).find(" bad=0"), std::string::npos);
}

// A room that grows past push.broadcast_at (200) and shrinks below
// push.notify_pull_below (100) switches once each way; its connections see
// every message exactly once.
TEST_F(PushTest, ModeSwitchOnceEachWayWithHysteresis) {
  const std::string room = "pmode" + tag_;
  const std::string to_b = "danmu_push_mode_switches_total{room=\"A\",to=\"broadcast\"}";
  const std::string to_n = "danmu_push_mode_switches_total{room=\"A\",to=\"notify_pull\"}";
  const double b0 = Sample(to_b), n0 = Sample(to_n);
  Client c(PortOf(Env("DANMU_A_HTTP")), "127.0.0.10");
  ASSERT_TRUE(c.ready());
  auto mode = [&] {
    auto s = Get(Env("DANMU_A_ADMIN") + "/v1/admin/push");
    if (!s.ok()) return std::string("?");
    auto p = s->body.find("{\"live_room\":\"" + room + "\",\"mode\":\"");
    if (p == std::string::npos) return std::string("-");
    p += room.size() + 24;
    return s->body.substr(p, s->body.find('"', p) - p);
  };
  ASSERT_TRUE(Done(c.Call("open ws " + room + " 150")));
  Publish(room, 3);
  EXPECT_EQ(mode(), "notify_pull");
  // Grow to 250 in steps, publishing in between (the switch happens on a round).
  for (int step = 0; step < 5; ++step) {
    ASSERT_TRUE(Done(c.Call("open ws " + room + " 20")));
    Publish(room, 2);
  }
  ASSERT_TRUE(WaitFor([&] { return mode() == "broadcast"; }, 10000)) << mode();
  // Shrink to 90 in steps, crossing 200..100 (no switch) before going below 100.
  for (int step = 0; step < 8; ++step) {
    ASSERT_TRUE(Done(c.Call("close 20")));
    Publish(room, 2);
    if (step < 7) EXPECT_EQ(mode(), "broadcast") << "step " << step;
  }
  ASSERT_TRUE(WaitFor([&] { return mode() == "notify_pull"; }, 10000)) << mode();
  Publish(room, 2);
  EXPECT_EQ(Sample(to_b) - b0, 1);
  EXPECT_EQ(Sample(to_n) - n0, 1);
  // The 90 left opened with the first 150 (and the recent tail: nothing yet).
  std::string file = WriteExpected();
  ASSERT_TRUE(Done(c.Call("wait " + file + " 30000")));
  std::string v = c.Call("verify " + file);
  EXPECT_NE(v.find(" bad=0"), std::string::npos) << v;
}

// A reader that stops reading: resynced, then closed with 4000; the send
// queue stays within its bound; the others get everything.
TEST_F(PushTest, SlowReaderIsResyncedThenClosedOthersUnaffected) {
  const std::string room = "pslow" + tag_;
  const int port = PortOf(Env("DANMU_A_HTTP"));
  Client c(port, "127.0.0.11");
  ASSERT_TRUE(c.ready());
  ASSERT_TRUE(Done(c.Call("open ws " + room + " 20")));
  const std::string closes = "danmu_push_closes_total{room=\"A\",reason=\"slow_consumer\",transport=\"ws\"}";
  const double closes0 = Sample(closes);
  const double resyncs0 = Sample("danmu_push_resyncs_total{room=\"A\"}");
  auto delay = [&](const char* what) {
    double s = Sample("danmu_push_delay_seconds_sum{room=\"A\",mode=\"notify_pull\"}");
    double n = Sample("danmu_push_delay_seconds_count{room=\"A\",mode=\"notify_pull\"}");
    std::printf("push delay %s: sum %.3f s over %.0f frames\n", what, s, n);
    return std::make_pair(s, n);
  };
  Publish(room, 20);
  auto before = delay("before the slow reader");
  Raw slow(port, /*rcvbuf=*/4096);
  slow.Send(WsRequest(room));
  // It never reads again.
  const std::string text(280, 'x');
  double max_summed = 0;
  bool closed = false;
  for (int i = 0; i < 3000 && !closed; ++i) {
    std::string id = PostComment(room, "s" + std::to_string(i % 4000), text);
    ASSERT_FALSE(id.empty());
    acked_[room].push_back(id);
    if (i % 20 == 0) {
      max_summed = std::max(max_summed, Sample("danmu_push_queue_bytes{room=\"A\"}"));
      closed = Sample(closes) > closes0;
    }
  }
  ASSERT_TRUE(closed) << "the reader that stopped reading was never closed";
  EXPECT_GE(Sample("danmu_push_resyncs_total{room=\"A\"}") - resyncs0, 3)
      << "resynced push.max_resyncs times before the close";
  std::string file = WriteExpected();
  ASSERT_TRUE(Done(c.Call("wait " + file + " 60000")));
  std::string v = c.Call("verify " + file);
  EXPECT_NE(v.find(" bad=0"), std::string::npos) << v;
  // The stack's push.queue_max_bytes is 65536. The bound is per connection:
  // the summed gauge grows with every healthy connection whose client is a
  // moment behind (21 here, on a loaded machine 300 KB was seen), so the
  // check reads the largest single queue since the process started (the
  // hub's 1 s sweep has run during the wait above). Control frames (resync,
  // close, ping) may pass the bound by a few bytes each.
  const double peak = Sample("danmu_push_queue_peak_bytes{room=\"A\"}");
  std::printf("send queues: largest one %.0f B, largest sum seen %.0f B\n", peak, max_summed);
  EXPECT_GT(peak, 0) << "the slow reader's queue held frames";
  EXPECT_LE(peak, 65536 + 4096) << "every connection's send queue stays within push.queue_max_bytes";
  auto after = delay("with the slow reader");
  if (before.second > 0 && after.second > before.second) {
    std::printf("mean push delay of the others: before %.4f s, during %.4f s\n", before.first / before.second,
                (after.first - before.first) / (after.second - before.second));
  }
}

// The operator switch: every long connection is closed with 4001 and new
// handshakes get 503 use_polling until it is lifted; polls keep answering.
TEST_F(PushTest, PollOnlySwitchMovesClientsToPolling) {
  const std::string room = "ppoll" + tag_;
  const int port = PortOf(Env("DANMU_A_HTTP"));
  Raw ws(port);
  ws.Send(WsRequest(room));
  ASSERT_EQ(StatusOf(ws.ReadUntil("\r\n\r\n")), 101);
  std::string out;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("push poll-only on --for 5m --reason push_test"), &out), 0) << out;
  struct Off {
    ~Off() {
      std::string o;
      testing::RunCapture(testing::Danmuctl("push poll-only off"), &o);
    }
  } off;
  EXPECT_EQ(ws.CloseCode(), 4001);
  // Both rooms see the switch (fleet-wide).
  for (const char* http : {"DANMU_A_HTTP", "DANMU_B_HTTP"}) {
    ASSERT_TRUE(WaitFor([&] {
      Raw r(PortOf(Env(http)));
      r.Send(WsRequest(room));
      std::string a = r.ReadUntil("}}");
      return StatusOf(a) == 503 && a.find("use_polling") != std::string::npos;
    }, 10000)) << http << " refuses new long connections with 503 use_polling";
  }
  EXPECT_TRUE(PollAnswers(room));
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("push poll-only off"), &out), 0) << out;
  ASSERT_TRUE(WaitFor([&] {
    Raw r(port);
    r.Send(WsRequest(room));
    return StatusOf(r.ReadUntil("\r\n\r\n")) == 101;
  }, 10000)) << "long connections are accepted again";
}

// Degradation reaches long connections without a message (issue 18): a like
// burst and level 1's "likes paused" arrive by themselves (the hub's 1 s
// sweep), and at level 3 a room gets at most one frame per next_poll_ms
// (4 s and more in this stack: poll.next_poll_ms 2000, doubled at once,
// then every degrade.backoff_step_ms up to its cap) while every message
// still arrives exactly once.
TEST_F(PushTest, DegradationReachesLongConnectionsWithoutAMessage) {
  const std::string room = "pdeg" + tag_;
  const int port = PortOf(Env("DANMU_A_HTTP"));
  struct Clear {
    std::string room;
    ~Clear() {
      std::string o;
      testing::RunCapture(testing::Danmuctl("degrade clear --room all --stream " + room), &o);
    }
  } clear{room};
  Raw ws(port);
  ws.Send(WsRequest(room));
  ASSERT_EQ(StatusOf(ws.ReadUntil("\r\n\r\n")), 101);
  auto last_has = [](const std::string& what) {
    return [what](const std::vector<std::string>& t) { return !t.empty() && t.back().find(what) != std::string::npos; };
  };
  ASSERT_FALSE(ws.Texts(10000, [](const auto& t) { return !t.empty(); }).empty()) << "the first frame (the tail)";
  // A like burst, no message: a frame with the new count.
  auto like = Post(Env("DANMU_A_HTTP") + "/v1/rooms/" + room + "/likes", R"({"uid":"fan","count":7})");
  ASSERT_TRUE(like.ok());
  ASSERT_EQ(like->status, 202) << like->body;
  auto t = ws.Texts(15000, last_has("\"likes\":7"));
  ASSERT_FALSE(t.empty());
  EXPECT_NE(t.back().find("\"likes\":7"), std::string::npos) << t.back();
  EXPECT_EQ(t.back().find("\"messages\":[{"), std::string::npos) << "a count-only frame carries no message: " << t.back();
  // Level 1 for this stream: "likes paused" arrives by itself.
  std::string out;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("degrade set 1 --room all --stream " + room + " --for 5m --reason push_test"), &out), 0) << out;
  t = ws.Texts(15000, last_has("\"likes_paused\":true"));
  ASSERT_FALSE(t.empty());
  EXPECT_NE(t.back().find("\"likes_paused\":true"), std::string::npos) << "no frame told the client: " << t.back();
  EXPECT_NE(t.back().find("\"level\":1"), std::string::npos) << t.back();
  // Level 3: a message every 100 ms for 3 s; frames at most one per 4 s,
  // every message once.
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("degrade set 3 --room all --stream " + room + " --for 5m --reason push_test"), &out), 0) << out;
  // The level itself arrives in the first frame level 3 allows: one
  // next_poll_ms after the last frame, and next_poll_ms backs off to its cap.
  t = ws.Texts(45000, last_has("\"level\":3"));
  ASSERT_FALSE(t.empty());
  ASSERT_NE(t.back().find("\"level\":3"), std::string::npos) << t.back();
  const size_t before = t.size();
  std::vector<std::string> ids;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) {
    ids.push_back(PostComment(room, "d" + std::to_string(i), "level three " + std::to_string(i)));
    ASSERT_FALSE(ids.back().empty());
    usleep(100000);
  }
  auto has_all = [&](const std::vector<std::string>& texts) {
    return !texts.empty() && texts.back().find(ids.back()) != std::string::npos;
  };
  t = ws.Texts(45000, has_all);
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(has_all(t)) << "the last message never arrived";
  std::multiset<std::string> seen;
  for (size_t i = before; i < t.size(); ++i) {
    for (size_t p = t[i].find("\"id\":\""); p != std::string::npos; p = t[i].find("\"id\":\"", p + 6)) {
      seen.insert(t[i].substr(p + 6, t[i].find('"', p + 6) - p - 6));
    }
  }
  for (const auto& id : ids) EXPECT_EQ(seen.count(id), 1u) << id << " seen " << seen.count(id) << " times";
  const size_t frames = t.size() - before;
  std::printf("level 3: %zu frames for 30 messages over %.1f s\n", frames, elapsed_s);
  EXPECT_LE(frames, static_cast<size_t>(elapsed_s / 4.0) + 2) << "at most one frame per next_poll_ms (>= 4 s)";
}

// Draining an edge (danmuctl edge drain): it leaves the routers' lists at
// once, refuses new long connections with 503 draining, and closes its
// 2,000 WebSockets with 1001 spread over the drain time; their clients,
// sent elsewhere (room B's edge, the one the routers still list), resume
// from their cursors with no message lost or repeated. Undrain puts it back.
TEST_F(PushTest, DrainSpreadsReconnectsElsewhereNothingLost) {
  const std::string room = "pdrain" + tag_;
  const int a_port = PortOf(Env("DANMU_A_HTTP")), b_port = PortOf(Env("DANMU_B_HTTP"));
  struct Undrain {
    ~Undrain() {
      std::string o;
      testing::RunCapture(testing::Danmuctl("edge undrain --room A"), &o);
    }
  } undrain;
  std::vector<std::unique_ptr<Client>> clients;
  ASSERT_NO_FATAL_FAILURE(OpenMovable(a_port, 13, room, 1000, b_port, &clients));
  Publish(room, 5);
  auto listed = [&](const char* admin, const std::string& url) { return ListedEdge(admin, url); };
  ASSERT_TRUE(WaitFor([&] { return listed("DANMU_B_ADMIN", Env("DANMU_A_HTTP")); }, 15000))
      << "room A's edge is registered before the drain";
  const double going_away0 = Sample("danmu_push_closes_total{room=\"A\",reason=\"going_away\",transport=\"ws\"}");
  std::string out;
  const int kSpreadS = 6;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("edge drain --room A --over " + std::to_string(kSpreadS) + "s"), &out), 0)
      << out;
  EXPECT_NE(out.find("\"draining\":true"), std::string::npos) << out;
  // Out of the lists within the directory's refresh (it was revoked, not left to expire).
  EXPECT_TRUE(WaitFor([&] { return !listed("DANMU_B_ADMIN", Env("DANMU_A_HTTP")); }, 5000))
      << "room B's router still hands out the draining edge";
  {
    Raw r(a_port);
    r.Send(WsRequest(room));
    std::string a = r.ReadUntil("}}");
    EXPECT_EQ(StatusOf(a), 503) << a;
    EXPECT_NE(a.find("draining"), std::string::npos) << a;
  }
  EXPECT_TRUE(PollAnswers(room)) << "a draining edge still answers polls";
  Publish(room, 5);  // during the drain
  ASSERT_TRUE(WaitFor([&] {
    return Sample("danmu_push_closes_total{room=\"A\",reason=\"going_away\",transport=\"ws\"}") - going_away0 >= 2000;
  }, 60000)) << "every WebSocket was closed with 1001";
  Publish(room, 5);  // after: only room B's edge holds them
  std::string file = WriteExpected();
  int64_t first = INT64_MAX, last = 0;
  for (auto& c : clients) {
    const std::string st = WaitVerified(*c, file, "drain");
    ASSERT_FALSE(st.empty());
    EXPECT_NE(st.find("1001:1000,"), std::string::npos) << "each of its 1,000 connections closed once with 1001: " << st;
    auto f = st.find("goaway_first_ms="), l = st.find("goaway_last_ms=");
    ASSERT_TRUE(f != std::string::npos && l != std::string::npos) << st;
    first = std::min<int64_t>(first, std::atoll(st.c_str() + f + 16));
    last = std::max<int64_t>(last, std::atoll(st.c_str() + l + 15));
  }
  // Spread, not a stampede: the first and the last 1001 of the 2,000 lie at
  // least half the drain time apart (slowness only spreads them more; the
  // oldest connections go first, so each client alone sees about half).
  std::printf("drain: 2,000 closes over %lld ms (spread %d s)\n", static_cast<long long>(last - first), kSpreadS);
  EXPECT_GE(last - first, kSpreadS * 1000 / 2) << "the closes came as one burst";
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("edge undrain --room A"), &out), 0) << out;
  EXPECT_TRUE(WaitFor([&] { return listed("DANMU_B_ADMIN", Env("DANMU_A_HTTP")); }, 15000)) << "registered again";
  Raw again(a_port);
  again.Send(WsRequest(room));
  EXPECT_EQ(StatusOf(again.ReadUntil("\r\n\r\n")), 101) << "long connections accepted again";
}

// kill -9 of an edge holding 2,000 WebSockets (room B's frontend): its
// clients, cut without a close frame, reconnect to the other edge (room A's,
// where the router sends them) and resume from their cursors with every
// message exactly once; the dead edge leaves the routers' lists within its
// registration lease (routing.edge_ttl_s, 3 s in this stack), and comes
// back when restarted.
TEST_F(PushTest, KilledEdgeClientsResumeElsewhereNothingLost) {
  const std::string room = "pkill" + tag_;
  const int a_port = PortOf(Env("DANMU_A_HTTP")), b_port = PortOf(Env("DANMU_B_HTTP"));
  auto listed = [&](const std::string& url) { return ListedEdge("DANMU_A_ADMIN", url); };
  // Whatever happens below, room B's danmud runs again afterwards.
  testing::RestartDanmudBOnExit restart;
  std::vector<std::unique_ptr<Client>> clients;
  ASSERT_NO_FATAL_FAILURE(OpenMovable(b_port, 15, room, 1000, a_port, &clients));
  Publish(room, 5);
  ASSERT_TRUE(WaitFor([&] { return listed(Env("DANMU_B_HTTP")); }, 15000)) << "room B's edge is registered first";
  {
    std::string file = WriteExpected();
    for (auto& c : clients) ASSERT_TRUE(Done(c->Call("wait " + file + " 60000")));
  }
  restart.needed = true;
  testing::KillHard("danmud-b");
  Publish(room, 5);  // while they move
  EXPECT_TRUE(WaitFor([&] { return !listed(Env("DANMU_B_HTTP")); }, 15000))
      << "the killed edge is still handed out after its lease TTL";
  Publish(room, 5);
  std::string file = WriteExpected();
  for (auto& c : clients) {
    const std::string st = WaitVerified(*c, file, "killed-edge");
    ASSERT_FALSE(st.empty());
    EXPECT_NE(st.find("conns=1000 "), std::string::npos) << st;
  }
  EXPECT_TRUE(WaitFor([&] {
    return Sample("danmu_push_connections{room=\"A\",class=\"small\",transport=\"ws\"}") +
               Sample("danmu_push_connections{room=\"A\",class=\"big\",transport=\"ws\"}") >= 2000;
  }, 10000)) << "room A's edge holds the 2,000 that moved";
  restart.needed = false;
  testing::StartDanmud("danmud-b");
  ASSERT_TRUE(WaitFor([] { return testing::Healthy(Env("DANMU_B_ADMIN")); }, 30000)) << "room B's danmud restarted";
  EXPECT_TRUE(WaitFor([&] { return listed(Env("DANMU_B_HTTP")); }, 15000)) << "registered again after the restart";
}

}  // namespace
}  // namespace danmu
