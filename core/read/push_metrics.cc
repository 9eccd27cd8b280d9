#include "core/read/push_metrics.h"

#include "core/base/metrics.h"

namespace danmu::core {
PushMetrics::PushMetrics(prometheus::Registry& r, const std::string& room)
    : connections(prometheus::BuildGauge().Name("danmu_push_connections").Help("Open long connections by transport and room-size class (small: notify-pull room, big: broadcast room)").Labels({{"room", room}}).Register(r)),
      handshakes(prometheus::BuildCounter().Name("danmu_push_handshakes_total").Help("Long-connection handshakes by transport and result").Labels({{"room", room}}).Register(r)),
      refusals(prometheus::BuildCounter().Name("danmu_push_refusals_total").Help("Long-connection handshakes refused, by transport and reason").Labels({{"room", room}}).Register(r)),
      frames(prometheus::BuildCounter().Name("danmu_push_frames_total").Help("Frames written to long connections by fan-out mode").Labels({{"room", room}}).Register(r)),
      bytes(prometheus::BuildCounter().Name("danmu_push_bytes_total").Help("Bytes written to long connections by fan-out mode").Labels({{"room", room}}).Register(r)),
      renders(prometheus::BuildCounter().Name("danmu_push_renders_total").Help("Frames rendered (JSON built) by fan-out mode; broadcast renders once per room per tick").Labels({{"room", room}}).Register(r)),
      queue_bytes_gauge(prometheus::BuildGauge().Name("danmu_push_queue_bytes").Help("Bytes waiting in every long connection's send queue, summed").Labels({{"room", room}}).Register(r)),
      queue_peak_gauge(prometheus::BuildGauge().Name("danmu_push_queue_peak_bytes").Help("The most bytes any one long connection's send queue has held since the process started (the bound is push.queue_max_bytes plus control frames)").Labels({{"room", room}}).Register(r)),
      resyncs(prometheus::BuildCounter().Name("danmu_push_resyncs_total").Help("Slow consumers whose queue was dropped and who were told to resync").Labels({{"room", room}}).Register(r)),
      closes(prometheus::BuildCounter().Name("danmu_push_closes_total").Help("Long connections closed by the server, by transport and reason (slow_consumer, use_polling, idle, protocol_error, too_big, unsupported_data, going_away)").Labels({{"room", room}}).Register(r)),
      delay(prometheus::BuildHistogram().Name("danmu_push_delay_seconds").Help("Push delay: message visible in the frontend cache -> its frame written to the socket").Labels({{"room", room}}).Register(r)),
      rooms(prometheus::BuildGauge().Name("danmu_push_rooms").Help("Live rooms with long connections, by fan-out mode").Labels({{"room", room}}).Register(r)),
      mode_switches(prometheus::BuildCounter().Name("danmu_push_mode_switches_total").Help("Fan-out mode switches of live rooms, by the mode switched to").Labels({{"room", room}}).Register(r)),
      poll_only(prometheus::BuildGauge().Name("danmu_push_poll_only").Help("1 while the operator switch tells long-connection clients to move to polling").Labels({{"room", room}}).Register(r)),
      draining(prometheus::BuildGauge().Name("danmu_push_draining").Help("1 while this frontend drains (danmuctl edge drain, SIGTERM): long connections refused, open ones closed with 1001 over push.drain_spread_ms").Labels({{"room", room}}).Register(r)) {
  for (auto t : {"ws", "sse"}) {
    for (auto c : {"small", "big"}) connections.Add({{"transport", t}, {"class", c}});
    handshakes.Add({{"transport", t}, {"result", "accepted"}});
    handshakes.Add({{"transport", t}, {"result", "refused"}});
    closes.Add({{"transport", t}, {"reason", "slow_consumer"}});
    closes.Add({{"transport", t}, {"reason", "going_away"}});  // drains and shutdowns: watched by alerts and tests
    // The caps' refusals exist from the start (dashboards and alerts query
    // them before the first refusal).
    for (auto reason : {"process_cap", "address_cap", "draining"}) refusals.Add({{"transport", t}, {"reason", reason}});
  }
  int k = 0;
  for (auto m : {"notify_pull", "broadcast", "control"}) {
    frames_by_kind[k] = &frames.Add({{"mode", m}});
    bytes_by_kind[k] = &bytes.Add({{"mode", m}});
    renders.Add({{"mode", m}});
    ++k;
  }
  k = 0;
  for (auto m : {"notify_pull", "broadcast"}) {
    delay_by_kind[k++] = &delay.Add({{"mode", m}}, Metrics::LatencyBuckets());
    rooms.Add({{"mode", m}});
    mode_switches.Add({{"to", m}});
  }
  queue_bytes_gauge.Add({});
  queue_peak_gauge.Add({});
  resyncs.Add({});
  poll_only.Add({});
  draining.Add({});
}

void PushMetrics::Written(const OutFrame& f, int64_t now_mono_ms) {
  const int k = static_cast<int>(f.kind);
  frames_by_kind[k]->Increment();
  bytes_by_kind[k]->Increment(f.bytes ? static_cast<double>(f.bytes->size()) : 0.0);
  if (f.visible_mono_ms > 0 && f.kind != OutFrame::Kind::kControl) {
    delay_by_kind[k]->Observe(static_cast<double>(now_mono_ms - f.visible_mono_ms) / 1000.0);
  }
}

void PushMetrics::Close(PushTransport t, uint16_t code) {
  std::string reason(CloseReason(code));
  if (code == kCloseResume) reason = "slow_consumer";
  closes.Add({{"transport", std::string(TransportName(t))}, {"reason", reason}}).Increment();
}

void PushMetrics::Refuse(PushTransport t, const std::string& reason) {
  handshakes.Add({{"transport", std::string(TransportName(t))}, {"result", "refused"}}).Increment();
  refusals.Add({{"transport", std::string(TransportName(t))}, {"reason", reason}}).Increment();
}

}  // namespace danmu::core
