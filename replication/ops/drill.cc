#include "replication/ops/drill.h"

#include <signal.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "core/http/http_client.h"
#include "core/base/clock.h"
#include "core/base/json_text.h"

namespace danmu::replication {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct PollPage {
  bool ok = false;
  std::string cursor;
  std::vector<std::string> ids;
};

PollPage PollOnce(const std::string& base, const std::string& live_room, const std::string& cursor) {
  core::HttpCall c;
  c.url = base + "/v1/rooms/" + live_room + "/messages?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor);
  c.timeout_ms = 2000;
  PollPage page;
  auto r = core::Fetch(c);
  if (!r.ok() || r->status != 200) return page;
  try {
    Poco::JSON::Parser parser;
    auto o = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>();
    page.cursor = o->getValue<std::string>("cursor");
    auto arr = o->getArray("messages");
    for (size_t i = 0; i < arr->size(); ++i) page.ids.push_back(arr->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"));
    page.ok = true;
  } catch (const std::exception&) {
  }
  return page;
}

void KillRoom(const std::string& run_dir, const std::string& room, std::vector<std::string>* killed) {
  for (const char* proc : {"danmud", "redis", "kafka"}) {
    std::string name = std::string(proc) + "-" + Lower(room);
    std::ifstream in(run_dir + "/pids/" + name + ".pid");
    int pid = 0;
    if (in >> pid && pid > 0 && ::kill(pid, SIGKILL) == 0) killed->push_back(name + ":" + std::to_string(pid));
  }
}

}  // namespace

std::string DrillReport::ToJson() const {
  std::ostringstream o;
  o << "{\"mode\":" << core::JsonString(mode) << ",\"ok\":" << (ok ? "true" : "false")
    << ",\"error\":" << core::JsonString(error) << ",\"old_primary\":" << core::JsonString(old_primary)
    << ",\"new_primary\":" << core::JsonString(new_primary) << ",\"promoted_by\":" << core::JsonString(promoted_by) << ",\"old_epoch\":" << old_epoch
    << ",\"new_epoch\":" << new_epoch << ",\"rto_ms\":" << rto_ms << ",\"rpo_messages\":" << rpo_messages
    << ",\"acked\":" << acked << ",\"failed_writes\":" << failed_writes
    << ",\"lag_before_seconds\":" << lag_before_seconds << ",\"reads_failed\":{";
  bool first = true;
  for (const auto& [room, n] : reads_failed) {
    o << (first ? "" : ",") << core::JsonString(room) << ":" << n;
    first = false;
  }
  o << "},\"reads_ok\":{";
  first = true;
  for (const auto& [room, n] : reads_ok) {
    o << (first ? "" : ",") << core::JsonString(room) << ":" << n;
    first = false;
  }
  o << "},\"missing_ids\":[";
  for (size_t i = 0; i < missing_ids.size(); ++i) o << (i ? "," : "") << core::JsonString(missing_ids[i]);
  o << "],\"invariant_failures\":[";
  for (size_t i = 0; i < invariant_failures.size(); ++i) o << (i ? "," : "") << core::JsonString(invariant_failures[i]);
  o << "],\"steps\":[";
  for (size_t i = 0; i < steps.size(); ++i) {
    o << (i ? "," : "") << "{\"name\":" << core::JsonString(steps[i].name) << ",\"at_ms\":" << steps[i].at_ms
      << ",\"took_ms\":" << steps[i].took_ms << ",\"detail\":" << core::JsonString(steps[i].detail) << "}";
  }
  o << "]}";
  return o.str();
}

std::string DrillReport::ToText() const {
  std::ostringstream o;
  o << "drill " << mode << ": " << (ok ? "OK" : "FAILED") << (error.empty() ? "" : " (" + error + ")") << "\n"
    << "  primary " << old_primary << " (epoch " << old_epoch << ") -> " << new_primary << " (epoch " << new_epoch << ")"
    << (promoted_by.empty() ? "" : ", promoted by " + promoted_by) << "\n"
    << "  RTO " << rto_ms << " ms (first failed write to first successful write after it)\n"
    << "  RPO " << rpo_messages << " acknowledged messages missing (of " << acked << " acknowledged; "
    << failed_writes << " writes refused, clients retry those)\n"
    << "  replication lag before the switch: " << lag_before_seconds << " s\n";
  for (const auto& [room, n] : reads_failed) {
    o << "  reads in room " << room << ": " << reads_ok.at(room) << " ok, " << n << " failed\n";
  }
  o << "  steps:\n";
  for (const auto& s : steps) {
    o << "    +" << s.at_ms << " ms  " << s.name << " (" << s.took_ms << " ms)" << (s.detail.empty() ? "" : "  " + s.detail) << "\n";
  }
  for (const auto& f : invariant_failures) o << "  INVARIANT BROKEN: " << f << "\n";
  return o.str();
}

int DrillReport::ExitCode() const {
  if (!invariant_failures.empty() || !error.empty()) return 1;
  if (mode == "planned" && rpo_messages > 0) return 1;
  return 0;
}

DrillReport RunDrill(const DrillOptions& o) {
  DrillReport rep;
  rep.mode = o.planned ? "planned" : "unplanned";
  const int64_t t0 = core::SystemClock::Instance().MonoMs();
  AdminClient admin_a(o.a.admin_url, o.token), admin_b(o.b.admin_url, o.token);
  auto sa = admin_a.Status();
  auto sb = admin_b.Status();
  if (!sa.ok() || !sb.ok()) {
    rep.error = "both rooms must be up before a drill: " + (sa.ok() ? sb.status().message() : sa.status().message());
    return rep;
  }
  const bool a_primary = sa->active_primary();
  if (a_primary == sb->active_primary()) {
    rep.error = "expected exactly one active primary before the drill";
    return rep;
  }
  const DrillRoom& P = a_primary ? o.a : o.b;
  const DrillRoom& S = a_primary ? o.b : o.a;
  const AdminClient& admin_p = a_primary ? admin_a : admin_b;
  const AdminClient& admin_s = a_primary ? admin_b : admin_a;
  rep.old_primary = P.name;
  rep.old_epoch = a_primary ? sa->epoch : sb->epoch;

  std::vector<std::string> live_rooms;
  for (int i = 0; i < o.live_rooms; ++i) live_rooms.push_back("drill" + std::to_string(t0 % 1000000) + "r" + std::to_string(i));
  // Cursors before any write: the verification reads everything after them.
  std::map<std::string, std::string> start_cursor;
  for (const auto& r : live_rooms) {
    for (int tries = 0; tries < 50 && start_cursor[r].empty(); ++tries) start_cursor[r] = PollOnce(S.public_url, r, "").cursor;
  }

  std::mutex mu;
  std::set<std::string> acked;                 // guarded by mu
  std::map<std::string, std::set<std::string>> acked_by_room;  // live room -> ids; guarded by mu
  int64_t first_fail_ms = -1, recovered_ms = -1;  // guarded by mu
  std::atomic<int64_t> failed{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> primary_dead{false};
  std::map<std::string, std::atomic<int64_t>> reads_ok, reads_failed;
  reads_ok[o.a.name] = 0;
  reads_ok[o.b.name] = 0;
  reads_failed[o.a.name] = 0;
  reads_failed[o.b.name] = 0;

  std::vector<std::thread> threads;
  for (int w = 0; w < o.writers; ++w) {
    threads.emplace_back([&, w] {
      int i = 0;
      bool prefer_s = w % 2;
      while (!stop) {
        // A client whose room is gone moves to the other room (as a load
        // balancer would); otherwise writers alternate between rooms.
        const DrillRoom& room = (prefer_s || primary_dead) ? S : P;
        const std::string& live = live_rooms[i % live_rooms.size()];
        core::HttpCall c;
        c.method = "POST";
        c.url = room.public_url + "/v1/rooms/" + live + "/messages";
        c.body = "{\"type\":\"comment\",\"uid\":\"drill" + std::to_string(w) + "x" + std::to_string(i % 20) +
                 "\",\"text\":\"drill " + std::to_string(i) + "\"}";
        c.timeout_ms = 3000;
        ++i;
        const int64_t started = core::SystemClock::Instance().MonoMs() - t0;
        auto r = core::Fetch(c);
        int64_t now = core::SystemClock::Instance().MonoMs() - t0;
        if (r.ok() && r->status == 202) {
          try {
            Poco::JSON::Parser parser;
            auto id = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
            std::lock_guard lock(mu);
            acked.insert(id);
            acked_by_room[live].insert(id);
            // Recovery is a write that was SENT after the first failure: an
            // earlier request answered late proves nothing about the outage.
            if (first_fail_ms >= 0 && recovered_ms < 0 && started >= first_fail_ms) recovered_ms = now;
          } catch (const std::exception&) {
          }
        } else {
          ++failed;
          std::lock_guard lock(mu);
          if (first_fail_ms < 0) first_fail_ms = now;
          prefer_s = !prefer_s;  // retry elsewhere next time
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(o.write_interval_ms));
      }
    });
  }
  for (const DrillRoom* room : {&o.a, &o.b}) {
    for (const auto& live : live_rooms) {
      for (int p = 0; p < o.pollers_per_room; ++p) {
        threads.emplace_back([&, room, live] {
          std::string cursor = start_cursor[live];
          while (!stop) {
            if (primary_dead && room == &P) break;  // that room is gone: its viewers moved
            auto page = PollOnce(room->public_url, live, cursor);
            if (page.ok) {
              ++reads_ok[room->name];
              cursor = page.cursor;
            } else {
              ++reads_failed[room->name];
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
        });
      }
    }
  }

  std::this_thread::sleep_for(std::chrono::milliseconds(o.warmup_ms));
  if (auto st = admin_s.Status(); st.ok()) rep.lag_before_seconds = st->replication.lag_seconds;

  SwitchoverResult sw;
  const int64_t fault_at = core::SystemClock::Instance().MonoMs() - t0;
  if (o.planned) {
    sw = Switchover(admin_p, admin_s, SwitchoverOptions{});
  } else {
    int64_t kill_at = core::SystemClock::Instance().MonoMs();
    std::vector<std::string> killed;
    KillRoom(o.run_dir, P.name, &killed);
    primary_dead = true;
    std::string detail;
    for (const auto& k : killed) detail += (detail.empty() ? "" : " ") + k;
    auto surv = admin_s.Status();
    if (surv.ok() && surv->auto_failover) {
      // ha.auto_failover: nobody promotes; the survivor takes the expired
      // leader key by itself. Bounded: TTL + renewals + promotion.
      rep.promoted_by = "auto";
      sw = WaitForAutoPromotion(admin_s, o.auto_failover_wait_ms);
    } else {
      rep.promoted_by = "danmuctl";
      sw = ForcePromote(admin_s, "unplanned failover drill: room " + P.name + " lost");
    }
    for (auto& s : sw.steps) s.at_ms += core::SystemClock::Instance().MonoMs() - kill_at;  // promotion ran after the kill
    sw.steps.insert(sw.steps.begin(), DrillStep{"sigkill_primary_room", 0, 0, detail});
  }
  rep.steps.push_back({"load_warmup", 0, fault_at, std::to_string(o.writers) + " writers, " +
                                                       std::to_string(o.live_rooms) + " live rooms"});
  for (auto s : sw.steps) {
    s.at_ms += fault_at;  // steps are timed from the start of the drill
    rep.steps.push_back(s);
  }
  if (!sw.ok) rep.error = sw.error;
  rep.new_epoch = sw.new_epoch;
  rep.new_primary = sw.ok ? S.name : P.name;

  std::this_thread::sleep_for(std::chrono::milliseconds(o.after_ms));
  stop = true;
  for (auto& t : threads) t.join();

  // Verify: read every drill room back from the surviving room (the new
  // primary) from the start cursors, until every id acked into that room is
  // visible. What is missing is counted as lost only once the survivor's
  // processor reported an empty Kafka backlog sampled after the writers
  // stopped, and polls then stayed empty for a quiet second: on a loaded
  // machine the tail can take seconds to arrive, and a hasty give-up would
  // report a loss that is not one. Bounded by 20 s per room.
  const DrillRoom& survivor = (sw.ok || !o.planned) ? S : P;
  AdminClient survivor_admin(survivor.admin_url, o.token);
  // A backlog sample newer than the first one taken now was measured after
  // the writers stopped (compared on the survivor's own clock).
  int64_t first_sample_ms = INT64_MAX;
  if (auto st = survivor_admin.Status(1000); st.ok()) first_sample_ms = st->processor.backlog_sampled_at_ms;
  auto drained = [&] {
    auto st = survivor_admin.Status(1000);
    return st.ok() && st->processor.backlog == 0 && st->processor.backlog_sampled_at_ms > first_sample_ms;
  };
  std::set<std::string> visible;
  int64_t verify_start = core::SystemClock::Instance().MonoMs();
  for (const auto& live : live_rooms) {
    std::string cursor = start_cursor[live];
    const int64_t deadline = core::SystemClock::Instance().MonoMs() + 20000;
    const std::set<std::string> want = acked_by_room[live];  // writers have stopped
    size_t seen = 0;
    int quiet = 0;
    while (core::SystemClock::Instance().MonoMs() < deadline && seen < want.size()) {
      auto page = PollOnce(survivor.public_url, live, cursor);
      if (!page.ok) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      cursor = page.cursor;
      for (const auto& id : page.ids) {
        if (visible.insert(id).second && want.count(id)) ++seen;
      }
      if (!page.ids.empty()) {
        quiet = 0;
        continue;
      }
      quiet = drained() ? quiet + 1 : 0;
      if (quiet > 10) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  rep.steps.push_back({"verify_rpo", verify_start - t0, core::SystemClock::Instance().MonoMs() - verify_start, "read back from room " + survivor.name});
  rep.acked = static_cast<int64_t>(acked.size());
  rep.failed_writes = failed.load();
  for (const auto& id : acked) {
    if (!visible.count(id)) {
      ++rep.rpo_messages;
      if (rep.missing_ids.size() < 100) rep.missing_ids.push_back(id);
    }
  }
  if (!o.acked_ids_file.empty()) {
    std::ofstream out(o.acked_ids_file, std::ios::trunc);
    for (const auto& id : acked) out << id << "\n";
  }
  rep.rto_ms = (first_fail_ms >= 0 && recovered_ms >= 0) ? recovered_ms - first_fail_ms : 0;
  if (first_fail_ms >= 0 && recovered_ms < 0) rep.invariant_failures.push_back("writes never recovered after the fault");
  for (auto& [room, n] : reads_failed) rep.reads_failed[room] = n.load();
  for (auto& [room, n] : reads_ok) rep.reads_ok[room] = n.load();

  // Invariants: exactly one primary among reachable rooms; the epoch grew.
  auto fa = admin_a.Status(1000), fb = admin_b.Status(1000);
  int primaries = (fa.ok() && fa->role == core::Role::kPrimary) + (fb.ok() && fb->role == core::Role::kPrimary);
  if (primaries != 1) rep.invariant_failures.push_back(std::to_string(primaries) + " rooms claim primary after the drill");
  if (sw.ok && rep.new_epoch <= rep.old_epoch) rep.invariant_failures.push_back("the epoch did not increase");
  rep.ok = sw.ok && rep.invariant_failures.empty() && (!o.planned || rep.rpo_messages == 0);
  return rep;
}

}  // namespace danmu::replication
