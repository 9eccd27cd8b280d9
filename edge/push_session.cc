#include "edge/push_session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "core/base/log.h"
#include "core/base/secret_compare.h"

namespace danmu::edge {
namespace {

namespace asio = boost::asio;
constexpr int kLingerMs = 2000;  // after a close frame: wait this long for the client's EOF

const char* StatusText(int s) {
  switch (s) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

PushSession::PushSession(LongConnection&& c, const PushSessionContext& ctx)
    : conn_(std::move(c)), ctx_(ctx), timer_(conn_.stream.get_executor()) {
  last_rx_ms_ = ctx_.clock->MonoMs();
  if (ctx_.options.socket_send_buffer_bytes > 0) {
    boost::beast::error_code ec;
    conn_.stream.socket().set_option(asio::socket_base::send_buffer_size(ctx_.options.socket_send_buffer_bytes), ec);
  }
}

PushSession::~PushSession() {
  if (sub_ && !sub_->released.load()) ctx_.hub->Detach(sub_);
}

bool PushSession::authorized(const core::HttpRequest& req) const {
  return core::BearerTokenMatches(req.Header("authorization"), ctx_.admin_token);
}

void PushSession::Refuse(const core::HttpResponse& r) {
  auto text = std::make_shared<std::string>();
  *text = "HTTP/1.1 " + std::to_string(r.status) + " " + StatusText(r.status) + "\r\n";
  *text += "Content-Type: " + r.content_type + "\r\n";
  for (const auto& [k, v] : r.headers) *text += k + ": " + v + "\r\n";
  *text += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n" + r.body;
  auto self = shared_from_this();
  asio::async_write(conn_.stream, asio::buffer(*text), [self, text](boost::beast::error_code ec, size_t) {
    if (ec) {
      self->End();
      return;
    }
    self->CloseAfterWrite();
    self->Read();  // drain until the client's EOF (or the linger ends)
  });
}

void PushSession::Begin(std::shared_ptr<core::PushSubscription> sub, std::string head) {
  sub_ = std::move(sub);
  std::weak_ptr<PushSession> weak = shared_from_this();
  sub_->SetWake([weak] {
    auto self = weak.lock();
    if (!self || self->flush_posted_.exchange(true)) return;
    asio::post(self->conn_.stream.get_executor(), [self] {
      self->flush_posted_ = false;
      self->Flush();
    });
  });
  // The head goes through the same queue as every frame: it is written first.
  core::OutFrame h;
  h.bytes = std::make_shared<const std::string>(std::move(head));
  (void)sub_->queue.PushControl(std::move(h));
  ctx_.hub->Attach(sub_);
  Flush();
  if (conn_.buffer.size() > 0) {
    // Bytes the client sent right after its request head.
    auto data = conn_.buffer.data();
    std::string pre(static_cast<const char*>(data.data()), data.size());
    conn_.buffer.consume(conn_.buffer.size());
    OnBytes(pre.data(), pre.size());
  }
  if (ended_) return;
  Read();
  Tick();
}

void PushSession::QueueControl(std::string bytes, bool close_after) {
  if (!sub_) return;
  core::OutFrame f;
  f.bytes = std::make_shared<const std::string>(std::move(bytes));
  f.close_after = close_after;
  (void)sub_->queue.PushControl(std::move(f));
  Flush();
}

void PushSession::Flush() {
  if (ended_ || writing_ || closing_ || !sub_) return;
  batch_ = sub_->queue.TakeAll();
  if (batch_.empty()) return;
  std::vector<asio::const_buffer> bufs;
  bufs.reserve(batch_.size());
  for (const auto& f : batch_) bufs.emplace_back(f.bytes->data(), f.bytes->size());
  writing_ = true;
  auto self = shared_from_this();
  asio::async_write(conn_.stream, bufs, [self](boost::beast::error_code ec, size_t) {
    self->writing_ = false;
    if (ec) {
      self->End();
      return;
    }
    bool close = false;
    const int64_t now = self->ctx_.clock->MonoMs();
    for (const auto& f : self->batch_) {
      if (self->ctx_.metrics) self->ctx_.metrics->Written(f, now);
      close = close || f.close_after;
    }
    self->batch_.clear();
    self->OnWritten();
    if (close) {
      self->CloseAfterWrite();
      return;
    }
    self->Flush();
  });
}

void PushSession::CloseAfterWrite() {
  closing_ = true;
  boost::beast::error_code ec;
  conn_.stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  timer_.expires_after(std::chrono::milliseconds(kLingerMs));
  auto self = shared_from_this();
  timer_.async_wait([self](boost::beast::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    self->End();
  });
}

void PushSession::Read() {
  if (ended_) return;
  auto self = shared_from_this();
  conn_.stream.async_read_some(asio::buffer(rx_), [self](boost::beast::error_code ec, size_t n) {
    if (ec) {
      self->End();
      return;
    }
    self->last_rx_ms_ = self->ctx_.clock->MonoMs();
    if (!self->closing_) self->OnBytes(self->rx_.data(), n);
    self->Read();
  });
}

void PushSession::Tick() {
  if (ended_ || closing_) return;
  timer_.expires_after(std::chrono::milliseconds(ctx_.options.ping_interval_ms));
  auto self = shared_from_this();
  timer_.async_wait([self](boost::beast::error_code ec) {
    if (ec || self->ended_ || self->closing_) return;
    self->OnTick(self->ctx_.clock->MonoMs());
    self->Tick();
  });
}

void PushSession::End() {
  if (ended_) return;
  ended_ = true;
  timer_.cancel();
  boost::beast::error_code ec;
  conn_.stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  conn_.stream.socket().close(ec);
  if (sub_) ctx_.hub->Detach(sub_);
  conn_.lease.Release();
}

}  // namespace danmu::edge
