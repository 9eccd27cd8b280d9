#pragma once
// Push fan-out's metrics (DESIGN §12), registered once per process and shared
// by the hub and the transport sessions. Labels are bounded: transport
// (ws|sse), class (small|big: the room's fan-out mode), mode
// (notify_pull|broadcast|control), reason (a fixed set per family).
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "core/read/push_frame.h"
#include "core/read/send_queue.h"

namespace danmu::core {

struct PushMetrics {
  PushMetrics(prometheus::Registry& registry, const std::string& room);

  prometheus::Family<prometheus::Gauge>& connections;      // transport, class
  prometheus::Family<prometheus::Counter>& handshakes;     // transport, result=accepted|refused
  prometheus::Family<prometheus::Counter>& refusals;       // transport, reason
  prometheus::Family<prometheus::Counter>& frames;         // mode
  prometheus::Family<prometheus::Counter>& bytes;          // mode
  prometheus::Family<prometheus::Counter>& renders;        // mode: JSON renders (broadcast: one per room per tick)
  prometheus::Family<prometheus::Gauge>& queue_bytes_gauge;
  prometheus::Family<prometheus::Gauge>& queue_peak_gauge;
  prometheus::Family<prometheus::Counter>& resyncs;
  prometheus::Family<prometheus::Counter>& closes;         // transport, reason
  prometheus::Family<prometheus::Histogram>& delay;        // mode: visible in cache -> frame written
  prometheus::Family<prometheus::Gauge>& rooms;            // mode
  prometheus::Family<prometheus::Counter>& mode_switches;  // to
  prometheus::Family<prometheus::Gauge>& poll_only;
  prometheus::Family<prometheus::Gauge>& draining;

  // Cached series for the per-frame path (index: OutFrame::Kind).
  prometheus::Counter* frames_by_kind[3] = {};
  prometheus::Counter* bytes_by_kind[3] = {};
  prometheus::Histogram* delay_by_kind[2] = {};

  // Every connection's send queue adds to these (the sum, one queue's peak).
  SendQueueTotals queue_totals;

  // Counted when a session has written a batch (any thread).
  void Written(const OutFrame& f, int64_t now_mono_ms);
  void Close(PushTransport t, uint16_t code);
  void Refuse(PushTransport t, const std::string& reason);
};

}  // namespace danmu::core
