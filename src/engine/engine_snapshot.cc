// The engine's side of the live view (engine/snapshot.h): which records a step touched, and the
// queue view both the port and the snapshot answer from.
#include <algorithm>
#include <set>

#include "engine/engine.h"

namespace parley::engine {

DayWindow Engine::TodayWindow(TimePoint now) const {
  if (!today_window_.Contains(now)) {
    today_window_ = DayWindowOf([this](TimePoint t) { return DayOf(t); }, now);
  }
  return today_window_;
}

QueueRecord Engine::QueueRecordOf(QueueIndex q, TimePoint now) const {
  const parley::QueueView v = acd_->GetQueue(q);
  QueueRecord r;
  ports::QueueSnapshot& s = r.view;
  s.name = v.name;
  s.waiting = v.waiting;
  r.oldest_arrival = v.oldest_arrival;
  r.today = TodayWindow(now);
  const QueueDef* def = QueueDefByName(*config_, v.name);
  if (def) {
    s.channels = def->channels;
    s.priority = def->priority;
    s.sl_target = def->service_level_threshold;
    s.sl_target_fraction = def->service_level_fraction;
    s.recording = def->recording;
  }
  std::vector<AgentIndex> scanned;  // before Start has a directory
  const std::vector<AgentIndex>& members = directory_ && q < directory_->members.size()
                                               ? directory_->members[q]
                                               : (scanned = QueueMembers(v.name));
  for (AgentIndex a : members) {
    const parley::AgentView av = acd_->GetAgent(a);
    if (av.presence == Presence::kOffline) continue;
    ++s.agents_staffed;
    bool busy = false;
    PerChannel<int> used{};
    bool voice_live = false;
    for (const WorkItem& w : av.work) {
      if (w.queue == q) busy = true;
      ++used[Index(w.channel)];
      if (w.channel == Channel::kVoice && w.stage != WorkStage::kWrapUp) voice_live = true;
    }
    if (busy) ++s.agents_busy;
    const AgentDef* ad = a < agent_defs_.size() ? agent_defs_[a] : AgentDefByName(av.name);
    if (av.presence == Presence::kAvailable && ad && def) {
      for (Channel ch : def->channels) {
        if (used[Index(ch)] >= ad->capacity[Index(ch)]) continue;
        if (ch != Channel::kVoice && voice_live && ad->voice_blocks_other_channels) continue;
        ++s.agents_available;
        break;
      }
    }
  }
  // A new site day with no event yet: today has nothing so far.
  if (DayOf(now) != stats_day_) return r;
  const ContactStats t = kpi_->QueueTotal(q);
  s.offered = static_cast<uint64_t>(t.offered);
  s.answered = static_cast<uint64_t>(t.answered);
  s.abandoned = static_cast<uint64_t>(t.abandoned);
  s.service_level = t.ServiceLevel().value_or(0);
  s.asa = t.Asa().value_or(Duration{0});
  s.aht = t.Aht().value_or(Duration{0});
  return r;
}

ports::QueueSnapshot Engine::QueueView(QueueIndex q) const {
  const TimePoint now = clock_.Now();
  return QueueRecordOf(q, now).At(now);
}

void Engine::RebuildDirectory() {
  auto directory = std::make_shared<LiveDirectory>();
  agent_defs_.assign(acd_->agent_count(), nullptr);
  for (const AgentDef& d : config_->routing.agents) {
    if (auto a = acd_->FindAgent(d.name)) {
      directory->agents.emplace(d.name, *a);
      if (*a < agent_defs_.size()) agent_defs_[*a] = &d;
    }
  }
  directory->members.resize(acd_->queue_count());
  for (const QueueDef& d : config_->routing.queues) {
    auto q = acd_->FindQueue(d.name);
    if (!q || !directory->queues.emplace(d.name, *q).second) continue;
    directory->queue_order.push_back(*q);
    directory->members[*q] = QueueMembers(d.name);
  }
  directory_ = std::move(directory);
}

void Engine::RebuildSnapshot(TimePoint now) {
  today_window_ = DayWindow{TimePoint::max(), TimePoint::max()};  // the zone may have changed
  live_->Reset(directory_);
  std::set<QueueIndex> ignored;
  for (const auto& [name, a] : directory_->agents) StageAgent(a, now, ignored);
  for (uint32_t q : directory_->queue_order) live_->SetQueue(q, QueueRecordOf(q, now));
}

void Engine::StageAgent(AgentIndex a, TimePoint now, std::set<QueueIndex>& queues) {
  ports::AgentSnapshot view = AgentView(a);
  for (const std::string& q : view.queues) {
    if (auto qi = acd_->FindQueue(q)) queues.insert(*qi);
  }
  live_->SetAgent(a, std::move(view), TodayWindow(now));
}

std::shared_ptr<const LiveSnapshot> Engine::StageSnapshot() {
  const TimePoint now = clock_.Now();
  if (snapshot_rebuild_) {
    snapshot_rebuild_ = false;
    RebuildSnapshot(now);
    return live_->Freeze();
  }
  // The agents a step may have changed: those its events name, and every agent of a contact it
  // touched (offered, handling, consulted), whose list of contacts may have changed.
  std::set<AgentIndex> agents(step_agents_.begin(), step_agents_.end());
  std::set<QueueIndex> queues;
  for (const Event& e : step_events_) {
    if (e.agent != kNone) agents.insert(e.agent);
    if (e.queue != kNone) queues.insert(e.queue);
  }
  auto add = [&](const std::string& name) {
    if (auto a = acd_->FindAgent(name)) agents.insert(*a);
  };
  for (ContactId id : step_contacts_) {
    auto it = contacts_.find(id);
    if (it == contacts_.end()) continue;
    for (const std::string& name : it->second.agents) add(name);
    if (!it->second.record.agent.empty()) add(it->second.record.agent);
    if (!it->second.consult_target.empty()) add(it->second.consult_target);
    if (auto q = acd_->FindQueue(it->second.record.queue)) queues.insert(*q);
  }
  if (agents.empty() && queues.empty()) return nullptr;
  const LiveDirectory& directory = live_->directory();
  auto listed = [](const auto& names, const std::string& name, uint32_t index) {
    auto it = names.find(name);
    return it != names.end() && it->second == index;
  };
  for (AgentIndex a : agents) {
    // Its queues' staffing follows the agent: they are staged too.
    if (a < acd_->agent_count() && listed(directory.agents, acd_->AgentName(a), a)) {
      StageAgent(a, now, queues);
    }
  }
  for (QueueIndex q : queues) {
    if (q < acd_->queue_count() && listed(directory.queues, acd_->QueueName(q), q)) {
      live_->SetQueue(q, QueueRecordOf(q, now));
    }
  }
  return live_->Freeze();
}

}  // namespace parley::engine
