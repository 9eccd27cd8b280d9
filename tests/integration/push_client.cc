// push_client: a test client holding many WebSocket and SSE connections of
// danmud's push API in one process (epoll, non-blocking sockets, bound to a
// chosen source address), driven line by line on stdin by push_test:
//
//   open ws|sse ROOM COUNT [UIDPREFIX]  open COUNT connections (no cursor:
//                                        the recent tail); answers when every
//                                        one got its first frame
//   reconnect-half                      close every second connection and
//                                        reopen it with its cursor
//   move PORT                           reconnect every connection to PORT
//                                        (the other room) with its cursor
//   wait FILE TIMEOUT_MS                wait until every connection saw the
//                                        ids FILE lists for its room
//   verify FILE                         compare every connection's ids with
//                                        FILE's ("ROOM id id ..." per line):
//                                        exactly once, in order
//   close N                             close the N newest connections
//   elsewhere PORT                      from now on a connection closed with
//                                        1001 ("reconnect elsewhere", a
//                                        draining edge), cut without a close
//                                        (a killed edge) or refused at
//                                        connect reconnects to PORT, as the
//                                        router would send it
//   stats | quit
// Every command is answered by one line starting "done" (or "error").
// Connections closed by the server with 1001/4000 or EOF reconnect with
// their cursor (as the client contract says) and are counted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string g_host = "127.0.0.1";
int g_port = 0;
std::string g_bind = "127.0.0.1";
int g_epoll = -1;
std::mt19937 g_rng(12345);

struct Conn {
  int fd = -1;
  bool ws = true;
  std::string room, uid, cursor;
  int port = 0;
  enum State { kIdle, kConnecting, kHead, kOpen, kClosed } state = kIdle;
  std::string out, in;
  bool first = false;        // first frame since the last (re)connect
  std::vector<std::string> ids;
  int frames = 0, resyncs = 0, reconnects = 0;
  int last_close = 0;
  int http_status = 0;
};

std::vector<std::unique_ptr<Conn>> g_conns;
std::map<int, Conn*> g_by_fd;
std::map<int, int> g_closes;  // close code -> count
long g_refused = 0;
int g_elsewhere_port = 0;                      // 0: reconnect to the same port
int64_t g_goaway_first = 0, g_goaway_last = 0;  // when the first and last 1001 came

void Arm(Conn& c) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() && c.state != Conn::kConnecting ? 0u : static_cast<unsigned>(EPOLLOUT));
  ev.data.ptr = &c;
  epoll_ctl(g_epoll, EPOLL_CTL_MOD, c.fd, &ev);
}

void Drop(Conn& c) {
  if (c.fd >= 0) {
    epoll_ctl(g_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    g_by_fd.erase(c.fd);
  }
  c.fd = -1;
  c.state = Conn::kClosed;
  c.in.clear();
  c.out.clear();
}

std::string Base64(const unsigned char* d, size_t n) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string o;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = d[i] << 16 | (i + 1 < n ? d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
    o += t[(v >> 18) & 63];
    o += t[(v >> 12) & 63];
    o += i + 1 < n ? t[(v >> 6) & 63] : '=';
    o += i + 2 < n ? t[v & 63] : '=';
  }
  return o;
}

void Open(Conn& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c.fd < 0) {
    perror("socket");
    c.state = Conn::kClosed;
    return;
  }
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, g_bind.c_str(), &local.sin_addr);
  bind(c.fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(c.port));
  inet_pton(AF_INET, g_host.c_str(), &to.sin_addr);
  connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  std::string q = "?x=1";
  if (!c.uid.empty()) q += "&uid=" + c.uid;
  if (c.ws) {
    if (!c.cursor.empty()) q += "&cursor=" + c.cursor;
    unsigned char key[16];
    for (auto& k : key) k = static_cast<unsigned char>(g_rng());
    c.out = "GET /v1/rooms/" + c.room + "/ws" + q + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + Base64(key, 16) + "\r\n\r\n";
  } else {
    c.out = "GET /v1/rooms/" + c.room + "/events" + q + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n";
    if (!c.cursor.empty()) c.out += "Last-Event-ID: " + c.cursor + "\r\n";
    c.out += "\r\n";
  }
  c.state = Conn::kConnecting;
  c.first = false;
  c.http_status = 0;
  g_by_fd[c.fd] = &c;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.ptr = &c;
  epoll_ctl(g_epoll, EPOLL_CTL_ADD, c.fd, &ev);
}

void Reconnect(Conn& c) {
  Drop(c);
  c.reconnects++;
  Open(c);
}

// A close by the server (close frame or SSE close event).
void OnServerClose(Conn& c, int code) {
  c.last_close = code;
  g_closes[code]++;
  if (code == 1001) {
    const int64_t now = NowMs();
    if (g_goaway_first == 0) g_goaway_first = now;
    g_goaway_last = now;
    if (g_elsewhere_port) c.port = g_elsewhere_port;
  }
  Reconnect(c);
}

void SendMasked(Conn& c, uint8_t opcode, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  f.push_back(static_cast<char>(0x80 | payload.size()));
  unsigned char m[4] = {1, 2, 3, 4};
  f.append(reinterpret_cast<char*>(m), 4);
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ m[i % 4]));
  c.out += f;
  Arm(c);
}

void OnJson(Conn& c, const std::string& json) {
  c.frames++;
  c.first = true;
  auto cpos = json.find("\"cursor\":\"");
  if (cpos != std::string::npos) {
    auto end = json.find('"', cpos + 10);
    c.cursor = json.substr(cpos + 10, end - cpos - 10);
  }
  if (json.find("\"resync\":true") != std::string::npos) {
    c.resyncs++;
    return;
  }
  auto mpos = json.find("\"messages\":[");
  if (mpos == std::string::npos) return;
  auto mend = json.find("],\"cursor\"", mpos);
  size_t p = mpos;
  while ((p = json.find("\"id\":\"", p)) != std::string::npos && p < mend) {
    auto e = json.find('"', p + 6);
    c.ids.push_back(json.substr(p + 6, e - p - 6));
    p = e;
  }
}

// Returns false when the connection ended.
bool Parse(Conn& c) {
  if (c.state == Conn::kHead) {
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return true;
    c.http_status = std::atoi(c.in.c_str() + 9);
    const int want = c.ws ? 101 : 200;
    if (c.http_status != want) {
      g_refused++;
      std::fprintf(stderr, "refused %d: %s\n", c.http_status, c.in.substr(0, 300).c_str());
      Drop(c);
      return false;
    }
    c.in.erase(0, end + 4);
    c.state = Conn::kOpen;
  }
  if (c.ws) {
    while (c.in.size() >= 2) {
      const auto* p = reinterpret_cast<const unsigned char*>(c.in.data());
      uint8_t op = p[0] & 0x0F;
      uint64_t len = p[1] & 0x7F;
      size_t h = 2;
      if (len == 126) {
        if (c.in.size() < 4) return true;
        len = (p[2] << 8) | p[3];
        h = 4;
      } else if (len == 127) {
        if (c.in.size() < 10) return true;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        h = 10;
      }
      if (c.in.size() < h + len) return true;
      std::string payload = c.in.substr(h, len);
      c.in.erase(0, h + len);
      if (op == 1) OnJson(c, payload);
      else if (op == 9) SendMasked(c, 0xA, payload);
      else if (op == 8) {
        int code = payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8 | static_cast<unsigned char>(payload[1])) : 1005;
        OnServerClose(c, code);
        return false;
      }
    }
    return true;
  }
  size_t end;
  while ((end = c.in.find("\n\n")) != std::string::npos) {
    std::string ev = c.in.substr(0, end);
    c.in.erase(0, end + 2);
    std::string data, event;
    std::istringstream lines(ev);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("data: ", 0) == 0) data = line.substr(6);
      else if (line.rfind("event: ", 0) == 0) event = line.substr(7);
    }
    if (event == "close") {
      auto k = data.find("\"code\":");
      int code = k == std::string::npos ? 0 : std::atoi(data.c_str() + k + 7);
      OnServerClose(c, code);
      return false;
    }
    if (!data.empty()) OnJson(c, data);
  }
  return true;
}

void OnEvent(Conn& c, uint32_t events) {
  if (c.state == Conn::kConnecting && (events & EPOLLOUT)) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      g_closes[-err]++;
      if (g_elsewhere_port) c.port = g_elsewhere_port;
      Reconnect(c);
      return;
    }
    c.state = Conn::kHead;
  }
  if ((events & EPOLLOUT) && !c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) c.out.erase(0, static_cast<size_t>(n));
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    char buf[65536];
    while (true) {
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (!Parse(c)) return;
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        g_closes[0]++;  // EOF without a close frame
        if (g_elsewhere_port) c.port = g_elsewhere_port;
        Reconnect(c);
        return;
      }
      break;
    }
  }
  if (c.fd >= 0) Arm(c);
}

void Pump(int timeout_ms) {
  epoll_event evs[512];
  int n = epoll_wait(g_epoll, evs, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    if (evs[i].data.ptr == nullptr) continue;  // stdin
    OnEvent(*static_cast<Conn*>(evs[i].data.ptr), evs[i].events);
  }
}

bool WaitUntil(const std::function<bool()>& cond, int64_t timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  while (!cond()) {
    if (NowMs() > deadline) return false;
    Pump(20);
  }
  return true;
}

bool AllFirst(size_t from) {
  for (size_t i = from; i < g_conns.size(); ++i) {
    if (!g_conns[i]->first) return false;
  }
  return true;
}

std::map<std::string, std::vector<std::string>> ReadExpected(const std::string& file) {
  std::map<std::string, std::vector<std::string>> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string room, id;
    s >> room;
    auto& v = out[room];
    while (s >> id) v.push_back(id);
  }
  return out;
}

std::string Stats() {
  long frames = 0, resyncs = 0, reconnects = 0;
  for (auto& c : g_conns) {
    frames += c->frames;
    resyncs += c->resyncs;
    reconnects += c->reconnects;
  }
  std::string closes;
  for (auto [code, n] : g_closes) closes += std::to_string(code) + ":" + std::to_string(n) + ",";
  return "conns=" + std::to_string(g_conns.size()) + " frames=" + std::to_string(frames) + " resyncs=" +
         std::to_string(resyncs) + " reconnects=" + std::to_string(reconnects) + " refused=" + std::to_string(g_refused) +
         " closes=" + closes + " goaway_first_ms=" + std::to_string(g_goaway_first) +
         " goaway_last_ms=" + std::to_string(g_goaway_last);  // steady clock: comparable across processes
}

// The next command line; sockets are served while waiting for it, so a
// connection never stalls between commands.
bool ReadLine(std::string* line) {
  static std::string buf;
  while (true) {
    auto nl = buf.find('\n');
    if (nl != std::string::npos) {
      *line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      return true;
    }
    Pump(20);
    char tmp[4096];
    ssize_t n = read(0, tmp, sizeof tmp);
    if (n > 0) buf.append(tmp, static_cast<size_t>(n));
    else if (n == 0) return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port") g_port = std::atoi(argv[i + 1]);
    else if (k == "--bind") g_bind = argv[i + 1];
    else if (k == "--host") g_host = argv[i + 1];
  }
  rlimit rl{20000, 20000};
  setrlimit(RLIMIT_NOFILE, &rl);
  g_epoll = epoll_create1(0);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  std::string line;
  std::printf("ready\n");
  std::fflush(stdout);
  while (ReadLine(&line)) {
    std::istringstream cmd(line);
    std::string op;
    cmd >> op;
    std::string answer;
    if (op == "open") {
      std::string kind, room, prefix;
      int count = 0;
      cmd >> kind >> room >> count >> prefix;
      size_t from = g_conns.size();
      for (int i = 0; i < count; ++i) {
        auto c = std::make_unique<Conn>();
        c->ws = kind == "ws";
        c->room = room;
        c->port = g_port;
        if (!prefix.empty()) c->uid = prefix + std::to_string(i);
        Open(*c);
        g_conns.push_back(std::move(c));
        if (i % 200 == 199) Pump(0);
      }
      bool ok = WaitUntil([&] { return AllFirst(from); }, 120000);
      answer = std::string(ok ? "done" : "error timeout") + " opened " + std::to_string(count) + " " + Stats();
    } else if (op == "reconnect-half") {
      for (size_t i = 0; i < g_conns.size(); i += 2) Reconnect(*g_conns[i]);
      bool ok = WaitUntil([&] { return AllFirst(0); }, 120000);
      answer = std::string(ok ? "done" : "error timeout") + " " + Stats();
    } else if (op == "move") {
      int port = 0;
      cmd >> port;
      for (auto& c : g_conns) {
        c->port = port;
        Reconnect(*c);
        Pump(0);
      }
      bool ok = WaitUntil([&] { return AllFirst(0); }, 120000);
      answer = std::string(ok ? "done" : "error timeout") + " " + Stats();
    } else if (op == "wait") {
      std::string file;
      int64_t timeout = 60000;
      cmd >> file >> timeout;
      auto expected = ReadExpected(file);
      bool ok = WaitUntil([&] {
        for (auto& c : g_conns) {
          if (c->ids.size() < expected[c->room].size()) return false;
        }
        return true;
      }, timeout);
      answer = std::string(ok ? "done" : "error timeout") + " " + Stats();
    } else if (op == "verify") {
      std::string file;
      cmd >> file;
      auto expected = ReadExpected(file);
      long good = 0, bad = 0;
      std::string detail;
      for (auto& c : g_conns) {
        const auto& want = expected[c->room];
        if (c->ids == want) {
          ++good;
          continue;
        }
        ++bad;
        if (bad <= 5) {
          size_t i = 0;
          while (i < want.size() && i < c->ids.size() && want[i] == c->ids[i]) ++i;
          detail += " [room=" + c->room + (c->ws ? " ws" : " sse") + " seen=" + std::to_string(c->ids.size()) +
                    " want=" + std::to_string(want.size()) + " first_diff=" + std::to_string(i) + " got=" +
                    (i < c->ids.size() ? c->ids[i] : "-") + " expected=" + (i < want.size() ? want[i] : "-") + "]";
        }
      }
      answer = "done ok=" + std::to_string(good) + " bad=" + std::to_string(bad) + detail;
    } else if (op == "close") {
      int n = 0;
      cmd >> n;
      for (int i = 0; i < n && !g_conns.empty(); ++i) {
        Drop(*g_conns.back());
        g_conns.pop_back();
      }
      answer = "done " + Stats();
    } else if (op == "elsewhere") {
      cmd >> g_elsewhere_port;
      answer = "done " + Stats();
    } else if (op == "stats") {
      Pump(0);
      answer = "done " + Stats();
    } else if (op == "quit") {
      std::printf("done bye\n");
      std::fflush(stdout);
      return 0;
    } else {
      answer = "error unknown command " + op;
    }
    std::printf("%s\n", answer.c_str());
    std::fflush(stdout);
  }
  return 0;
}
