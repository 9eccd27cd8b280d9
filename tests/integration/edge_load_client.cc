// danmu-edge-load: a load client for the edge tests (tests/integration/edge_test.cc).
// Plain non-blocking sockets and epoll, one process holding many keep-alive
// connections from --bind-count consecutive source addresses starting at
// --bind (connection i from address i % count), so that a test can spread
// thousands of clients over several processes and addresses (127.0.x.y)
// and stay under the per-address caps.
//
//   poll mode: --viewers N, each on its own keep-alive connection; first a
//     warm-up, not measured: every viewer connects and is answered once
//     ("warmup_failed" counts those that were not, within 60 s); then each
//     polls GET /v1/rooms/ROOM/messages?limit=200&cursor=C every
//     --interval-ms for --duration-ms (first polls spread over one interval). A poll whose
//     answer has not arrived when the next one is due is "late". Every
//     message id a viewer sees is recorded; at the end the process prints
//     one JSON line: polls, ok, errors, late, the fewest answered polls of
//     any viewer, duplicates (an id seen twice by one viewer), and
//     "common": the ids every viewer of this process saw.
//   write mode: --writers N connections; once all are connected each sends
//     one POST of a comment with text "TAG-i" (all in one burst), for
//     --rounds rounds; prints one line per answer: "<status> <text> <id>".
// Exit code 0 when it ran (the test judges the figures), 2 on bad usage.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Args {
  std::string mode = "poll";
  std::string host = "127.0.0.1";
  int port = 0;
  std::string bind = "127.0.0.1";
  int bind_count = 1;
  std::string room = "edge";
  int viewers = 100;
  int writers = 100;
  int rounds = 1;
  int interval_ms = 2000;
  int duration_ms = 30000;
  std::string tag = "w";
};

struct Conn {
  int fd = -1;
  bool connected = false;
  std::string out;       // bytes still to send
  size_t out_pos = 0;
  std::string in;        // bytes of the answer so far
  bool waiting = false;  // a request is out, its answer not complete
  int64_t next_due = 0;  // poll mode: when the next poll is due
  int answered = 0;
  std::string cursor;
  std::unordered_set<std::string> seen;
  std::string text;      // write mode: the text of this connection's comment
};

// Connection `i`'s socket, connecting (non-blocking) from its source address.
int Connect(const Args& a, size_t i) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, a.bind.c_str(), &src.sin_addr);
  src.sin_addr.s_addr = htonl(ntohl(src.sin_addr.s_addr) + static_cast<uint32_t>(i % static_cast<size_t>(a.bind_count)));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(a.port));
  ::inet_pton(AF_INET, a.host.c_str(), &dst.sin_addr);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Appends what the non-blocking socket `fd` holds to `in`; false once the
// peer closed it or it failed (EAGAIN only means "nothing more for now").
bool ReadAvailable(int fd, std::string* in) {
  char buf[65536];
  while (true) {
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r > 0) {
      in->append(buf, static_cast<size_t>(r));
      continue;
    }
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

// A complete answer in `in`: its status and body; false while incomplete.
bool ParseAnswer(const std::string& in, int* status, std::string* body, size_t* used, bool* close) {
  size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  if (in.size() < 12) return false;
  *status = std::atoi(in.c_str() + 9);
  size_t length = 0;
  std::string head = in.substr(0, head_end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t cl = head.find("\r\ncontent-length:");
  if (cl != std::string::npos) length = static_cast<size_t>(std::atoll(head.c_str() + cl + 17));
  *close = head.find("\r\nconnection: close") != std::string::npos;
  if (in.size() < head_end + 4 + length) return false;
  *body = in.substr(head_end + 4, length);
  *used = head_end + 4 + length;
  return true;
}

// Values of every `"key":"value"` in `s` (our JSON never escapes inside ids and cursors).
std::vector<std::string> Strings(const std::string& s, const std::string& key, size_t end = std::string::npos) {
  std::vector<std::string> out;
  const std::string pat = "\"" + key + "\":\"";
  size_t i = 0;
  while ((i = s.find(pat, i)) != std::string::npos && i < end) {
    i += pat.size();
    size_t j = s.find('"', i);
    if (j == std::string::npos) break;
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool Flush(Conn& c) {
  while (c.out_pos < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    c.out_pos += static_cast<size_t>(n);
  }
  return true;
}

int RunPoll(const Args& a) {
  int ep = ::epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(a.viewers));
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  int64_t polls = 0, ok = 0, errors = 0, late = 0, connect_errors = 0, duplicates = 0, warmup_failed = 0;
  std::map<std::string, int64_t> error_kinds;
  using Due = std::pair<int64_t, size_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due;
  // Warm-up, outside the measured run: every viewer connects and gets one
  // answer (so the server accepted it: a burst of thousands of connects
  // waits in the listen backlog and SYN retries for seconds, which is the
  // kernel's accept queue, not the serving of held connections). Bounded.
  std::vector<epoll_event> events(1024);
  {
    const std::string first = "GET /v1/rooms/" + a.room + "/messages?limit=200 HTTP/1.1\r\nHost: edge\r\n\r\n";
    size_t pending = 0;
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      c.fd = Connect(a, i);
      if (c.fd < 0) {
        ++connect_errors;
        continue;
      }
      c.out = first;
      c.out_pos = 0;
      c.waiting = true;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
      ev.data.u64 = i;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
      ++pending;
    }
    const int64_t deadline = NowMs() + 60000;
    while (pending > 0 && NowMs() < deadline) {
      int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
      for (int k = 0; k < n; ++k) {
        const size_t i = events[static_cast<size_t>(k)].data.u64;
        Conn& c = conns[i];
        if (c.fd < 0 || !c.waiting) continue;
        const uint32_t e = events[static_cast<size_t>(k)].events;
        if (!c.connected && (e & EPOLLOUT)) {
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            ++connect_errors;
            ::close(c.fd);
            c.fd = -1;
            --pending;
            continue;
          }
          c.connected = true;
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.u64 = i;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
          (void)Flush(c);
        }
        if (!(e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) continue;
        char buf[65536];
        while (true) {
          ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
          if (r > 0) {
            c.in.append(buf, static_cast<size_t>(r));
            continue;
          }
          break;
        }
        int status = 0;
        std::string body;
        size_t used = 0;
        bool close_after = false;
        if (ParseAnswer(c.in, &status, &body, &used, &close_after)) {
          c.in.erase(0, used);
          c.waiting = false;
          --pending;
          if (status != 200 || close_after) {
            ++warmup_failed;
            continue;
          }
          auto cursors = Strings(body, "cursor");
          if (!cursors.empty()) c.cursor = cursors.front();
          const size_t cursor_at = body.find("\"cursor\":\"");
          for (auto& id : Strings(body, "id", cursor_at)) c.seen.insert(id);
        }
      }
    }
    for (auto& c : conns) {
      if (c.fd >= 0 && c.waiting) {
        ++warmup_failed;  // no answer within the bound
        c.waiting = false;
      }
    }
  }
  // The measured run: first polls spread over one interval from now.
  const int64_t start = NowMs();
  const int64_t end = start + a.duration_ms;
  for (size_t i = 0; i < conns.size(); ++i) {
    Conn& c = conns[i];
    if (c.fd < 0) continue;
    c.next_due = start + static_cast<int64_t>(rng() % static_cast<unsigned>(a.interval_ms));
    due.push({c.next_due, i});
  }
  auto fail = [&](Conn& c, const std::string& why) {
    ++errors;
    ++error_kinds[why];
    if (c.fd >= 0) {
      ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
    }
    c.fd = -1;
    c.waiting = false;
  };
  auto send_poll = [&](Conn& c) {
    c.out = "GET /v1/rooms/" + a.room + "/messages?limit=200" + (c.cursor.empty() ? "" : "&cursor=" + c.cursor) +
            " HTTP/1.1\r\nHost: edge\r\n\r\n";
    c.out_pos = 0;
    c.waiting = true;
    ++polls;
    if (c.connected && !Flush(c)) fail(c, "send");
  };
  while (true) {
    const int64_t now = NowMs();
    while (!due.empty() && due.top().first <= now) {
      auto [t, i] = due.top();
      due.pop();
      Conn& c = conns[i];
      if (c.fd < 0 || t >= end) continue;
      if (c.waiting) {
        ++late;  // the previous answer has not arrived: this interval is missed
      } else {
        send_poll(c);
      }
      c.next_due = t + a.interval_ms;
      due.push({c.next_due, i});
    }
    bool busy = false;
    for (auto& c : conns) busy = busy || (c.fd >= 0 && c.waiting);
    if (now >= end && !busy) break;
    if (now >= end + 10000) break;  // answers that never came are errors below
    int timeout = due.empty() ? 50 : static_cast<int>(std::clamp<int64_t>(due.top().first - now, 0, 50));
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout);
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[events[static_cast<size_t>(k)].data.u64];
      if (c.fd < 0) continue;
      const uint32_t e = events[static_cast<size_t>(k)].events;
      if (!c.connected && (e & EPOLLOUT)) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          ++connect_errors;
          fail(c, "connect");
          continue;
        }
        c.connected = true;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = events[static_cast<size_t>(k)].data.u64;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        if (c.waiting && !Flush(c)) {
          fail(c, "send");
          continue;
        }
      }
      if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        bool closed = !ReadAvailable(c.fd, &c.in);
        int status = 0;
        std::string body;
        size_t used = 0;
        bool close_after = false;
        if (c.waiting && ParseAnswer(c.in, &status, &body, &used, &close_after)) {
          c.in.erase(0, used);
          c.waiting = false;
          if (status != 200) {
            fail(c, "status_" + std::to_string(status));
            continue;
          }
          ++ok;
          ++c.answered;
          const size_t cursor_at = body.find("\"cursor\":\"");
          for (auto& id : Strings(body, "id", cursor_at)) {
            if (!c.seen.insert(id).second) ++duplicates;
          }
          auto cursors = Strings(body, "cursor");
          if (!cursors.empty()) c.cursor = cursors.front();
          if (close_after) {
            fail(c, "server_closed");
            continue;
          }
        }
        if (closed && c.fd >= 0) fail(c, c.waiting ? "closed_while_waiting" : "closed_idle");
      }
    }
  }
  for (auto& c : conns) {
    if (c.fd >= 0 && c.waiting) fail(c, "no_answer");
  }
  // Ids every viewer of this process saw.
  std::unordered_map<std::string, int> counts;
  int live = 0;
  int min_answered = a.viewers > 0 ? 1 << 30 : 0;
  for (auto& c : conns) {
    min_answered = std::min(min_answered, c.answered);
    ++live;
    for (auto& id : c.seen) ++counts[id];
  }
  std::string common;
  for (auto& [id, n] : counts) {
    if (n == live) common += (common.empty() ? "\"" : ",\"") + id + "\"";
  }
  std::string kinds;
  for (auto& [k, v] : error_kinds) kinds += (kinds.empty() ? "\"" : ",\"") + k + "\":" + std::to_string(v);
  std::printf("{\"viewers\":%d,\"warmup_failed\":%lld,\"polls\":%lld,\"ok\":%lld,\"errors\":%lld,\"late\":%lld,\"connect_errors\":%lld,"
              "\"min_answered\":%d,\"duplicates\":%lld,\"error_kinds\":{%s},\"common\":[%s]}\n",
              a.viewers, static_cast<long long>(warmup_failed), static_cast<long long>(polls), static_cast<long long>(ok), static_cast<long long>(errors),
              static_cast<long long>(late), static_cast<long long>(connect_errors), min_answered,
              static_cast<long long>(duplicates), kinds.c_str(), common.c_str());
  return 0;
}

int RunWrite(const Args& a) {
  int ep = ::epoll_create1(0);
  for (int round = 0; round < a.rounds; ++round) {
    std::vector<Conn> conns(static_cast<size_t>(a.writers));
    size_t connected = 0, failed = 0;
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      c.fd = Connect(a, i);
      if (c.fd < 0) {
        std::printf("connect_error %s-%d-%zu -\n", a.tag.c_str(), round, i);
        ++failed;
        continue;
      }
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u64 = i;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }
    std::vector<epoll_event> events(1024);
    const int64_t deadline = NowMs() + 20000;
    while (connected + failed < conns.size() && NowMs() < deadline) {
      int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
      for (int k = 0; k < n; ++k) {
        Conn& c = conns[events[static_cast<size_t>(k)].data.u64];
        if (c.connected || c.fd < 0) continue;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
          std::printf("connect_error %s-%d -\n", a.tag.c_str(), round);
          ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          ::close(c.fd);
          c.fd = -1;
          ++failed;
          continue;
        }
        c.connected = true;
        ++connected;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = events[static_cast<size_t>(k)].data.u64;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
      }
    }
    // Every writer is connected: one burst of requests.
    size_t pending = 0;
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (c.fd < 0 || !c.connected) continue;
      c.text = a.tag + "-" + std::to_string(round) + "-" + std::to_string(i);
      std::string body = "{\"type\":\"comment\",\"uid\":\"" + a.tag + "u" + std::to_string(i) + "\",\"text\":\"" + c.text + "\"}";
      c.out = "POST /v1/rooms/" + a.room + "/messages HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\n"
              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      c.waiting = true;
      if (!Flush(c)) {
        std::printf("send_error %s -\n", c.text.c_str());
        c.waiting = false;
        continue;
      }
      ++pending;
    }
    const int64_t answer_deadline = NowMs() + 30000;
    while (pending > 0 && NowMs() < answer_deadline) {
      int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
      for (int k = 0; k < n; ++k) {
        Conn& c = conns[events[static_cast<size_t>(k)].data.u64];
        if (c.fd < 0 || !c.waiting) continue;
        bool closed = !ReadAvailable(c.fd, &c.in);
        int status = 0;
        std::string body;
        size_t used = 0;
        bool close_after = false;
        if (ParseAnswer(c.in, &status, &body, &used, &close_after)) {
          auto ids = Strings(body, "id");
          std::printf("%d %s %s\n", status, c.text.c_str(), ids.empty() ? "-" : ids.front().c_str());
          c.waiting = false;
          --pending;
        } else if (closed) {
          std::printf("closed %s -\n", c.text.c_str());
          c.waiting = false;
          --pending;
        }
      }
    }
    for (auto& c : conns) {
      if (c.waiting) std::printf("no_answer %s -\n", c.text.c_str());
      if (c.fd >= 0) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
      }
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") a.mode = v;
    else if (k == "--host") a.host = v;
    else if (k == "--port") a.port = std::atoi(v.c_str());
    else if (k == "--bind") a.bind = v;
    else if (k == "--bind-count") a.bind_count = std::atoi(v.c_str());
    else if (k == "--room") a.room = v;
    else if (k == "--viewers") a.viewers = std::atoi(v.c_str());
    else if (k == "--writers") a.writers = std::atoi(v.c_str());
    else if (k == "--rounds") a.rounds = std::atoi(v.c_str());
    else if (k == "--interval-ms") a.interval_ms = std::atoi(v.c_str());
    else if (k == "--duration-ms") a.duration_ms = std::atoi(v.c_str());
    else if (k == "--tag") a.tag = v;
    else {
      std::fprintf(stderr, "danmu-edge-load: unknown argument %s\n", k.c_str());
      return 2;
    }
  }
  if (a.port <= 0 || a.interval_ms <= 0 || a.bind_count <= 0) {
    std::fprintf(stderr, "usage: danmu-edge-load --port P [--mode poll|write] [--bind ADDR [--bind-count N]] [--room R] ...\n");
    return 2;
  }
  return a.mode == "write" ? RunWrite(a) : RunPoll(a);
}
