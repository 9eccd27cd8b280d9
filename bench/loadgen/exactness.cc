#include "bench/loadgen/exactness.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace danmu::bench {
namespace {
constexpr size_t kMaxExamples = 8;

void Example(ExactnessReport* r, std::string s) {
  if (r->examples.size() < kMaxExamples) r->examples.push_back(std::move(s));
}
}  // namespace

ExactnessReport CheckExactness(const std::vector<Ack>& acks, const std::vector<Follow>& follows) {
  ExactnessReport r;
  r.acked = static_cast<int64_t>(acks.size());
  std::unordered_map<std::string, std::vector<const Ack*>> acks_by_room;
  std::unordered_map<std::string, const Ack*> ack_by_id;
  for (const Ack& a : acks) {
    acks_by_room[a.room].push_back(&a);
    ack_by_id[a.id] = &a;
  }
  // The reference order of a room: its longest follower sequence.
  std::unordered_map<std::string, const Follow*> reference;
  for (const Follow& f : follows) {
    const Follow*& ref = reference[f.room];
    if (!ref || f.ids.size() > ref->ids.size()) ref = &f;
  }
  std::unordered_map<std::string, std::unordered_map<std::string, size_t>> ref_pos;
  for (const auto& [room, f] : reference) {
    auto& pos = ref_pos[room];
    for (size_t i = 0; i < f->ids.size(); ++i) pos.emplace(f->ids[i], i);
  }

  for (const Follow& f : follows) {
    ++r.followers;
    r.delivered += static_cast<int64_t>(f.ids.size());
    std::unordered_set<std::string> seen;
    std::map<std::string, int64_t> last_seq;      // writer and type -> last sequence seen
    std::map<std::string, int64_t> last_ref;      // type -> last reference position seen
    const auto& pos = ref_pos[f.room];
    for (const std::string& id : f.ids) {
      if (!seen.insert(id).second) {
        ++r.duplicates;
        Example(&r, f.follower + " saw " + id + " twice");
        continue;
      }
      bool disorder = false;
      auto a = ack_by_id.find(id);
      const std::string type = a != ack_by_id.end() ? a->second->type : std::string();
      if (a != ack_by_id.end()) {
        auto [it, fresh] = last_seq.emplace(a->second->writer + '\0' + type, a->second->seq);
        if (!fresh) {
          if (a->second->seq < it->second) disorder = true;
          else it->second = a->second->seq;
        }
      }
      auto p = pos.find(id);
      if (p != pos.end()) {
        auto [it, fresh] = last_ref.emplace(type, static_cast<int64_t>(p->second));
        if (!fresh) {
          if (static_cast<int64_t>(p->second) < it->second) disorder = true;
          else it->second = static_cast<int64_t>(p->second);
        }
      }
      if (disorder) {
        ++r.out_of_order;
        Example(&r, f.follower + " saw " + id + " out of order");
      }
    }
    auto room_acks = acks_by_room.find(f.room);
    if (room_acks == acks_by_room.end() || !f.complete) continue;
    for (const Ack* a : room_acks->second) {
      if (a->ack_us <= f.first_answer_us) continue;
      ++r.required;
      if (!seen.count(a->id)) {
        ++r.missing;
        Example(&r, f.follower + " never saw acknowledged " + a->id + " of " + f.room);
      }
    }
  }
  return r;
}

}  // namespace danmu::bench
