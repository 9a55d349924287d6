#include "engine/snapshot.h"

#include <chrono>

namespace parley::engine {

namespace {

// The first moment in (a, b] that is on `day` (when `on` holds) or off it (when not), given
// that a is not and b is.
TimePoint FirstMoment(const std::function<int64_t(TimePoint)>& day_of, int64_t day, bool on,
                      TimePoint a, TimePoint b) {
  while (b - a > Duration(1)) {
    const TimePoint mid = a + (b - a) / 2;
    ((day_of(mid) == day) == on ? b : a) = mid;
  }
  return b;
}

Status NoAgent(const std::string& agent) { return NotFound("no agent '" + agent + "'"); }

}  // namespace

DayWindow DayWindowOf(const std::function<int64_t(TimePoint)>& day_of, TimePoint t) {
  constexpr auto kStep = std::chrono::hours(1);
  const int64_t day = day_of(t);
  DayWindow w;
  TimePoint hi = t;
  for (int i = 0; i < 48 && day_of(hi) == day; ++i) hi += kStep;
  if (day_of(hi) != day) w.until = FirstMoment(day_of, day, false, hi - kStep, hi);
  TimePoint lo = t;
  for (int i = 0; i < 48 && day_of(lo) == day; ++i) lo -= kStep;
  if (day_of(lo) != day) w.from = FirstMoment(day_of, day, true, lo, lo + kStep);
  return w;
}

bool MayReachAgent(const ports::Caller& who, const std::string& agent, const std::string& team) {
  switch (who.reach) {
    case ports::Caller::Reach::kAll:
      return true;
    case ports::Caller::Reach::kTeam:
      return !who.team.empty() && team == who.team;
    case ports::Caller::Reach::kSelf:
      return !who.agent.empty() && agent == who.agent;
  }
  return false;
}

ports::QueueSnapshot QueueRecord::At(TimePoint now) const {
  ports::QueueSnapshot s = view;
  if (s.waiting > 0 && oldest_arrival != TimePoint::max() && oldest_arrival < now) {
    s.longest_wait = now - oldest_arrival;
  }
  if (!today.Contains(now)) {
    s.offered = s.answered = s.abandoned = 0;
    s.service_level = 0;
    s.asa = s.aht = Duration{0};
  }
  return s;
}

void LiveSnapshots::Reset(std::shared_ptr<const LiveDirectory> directory) {
  next_.directory = std::move(directory);
  next_.agents.Clear();
  next_.queues.Clear();
}

void LiveSnapshots::SetAgent(uint32_t index, ports::AgentSnapshot view, DayWindow today) {
  auto r = std::make_shared<AgentRecord>();
  r->live.json = Render(view);
  r->live.view = std::move(view);
  r->today = today;
  next_.agents.Set(index, std::move(r));
}

void LiveSnapshots::SetQueue(uint32_t index, QueueRecord record) {
  next_.queues.Set(index, std::make_shared<const QueueRecord>(std::move(record)));
}

std::shared_ptr<const LiveSnapshot> LiveSnapshots::Freeze() {
  auto s = std::make_shared<LiveSnapshot>();
  s->directory = next_.directory;
  s->agents = next_.agents.Freeze();
  s->queues = next_.queues.Freeze();
  return s;
}

void LiveSnapshots::Publish(std::shared_ptr<const LiveSnapshot> snapshot) {
  published_.store(std::move(snapshot), std::memory_order_release);
}

Result<std::shared_ptr<const LiveSnapshot>> LiveSnapshots::Current() const {
  auto s = published_.load(std::memory_order_acquire);
  if (!s || !s->directory) return Unavailable("no live snapshot published yet");
  return s;
}

Result<std::shared_ptr<const ports::LiveAgent>> LiveSnapshots::Agent(const ports::Caller& who,
                                                                     const std::string& agent,
                                                                     TimePoint now) const {
  auto s = Current();
  if (!s.ok()) return s.status();
  const auto found = (*s)->directory->agents.find(agent);
  if (found == (*s)->directory->agents.end()) return NoAgent(agent);
  std::shared_ptr<const AgentRecord> r = (*s)->agents.Shared(found->second);
  if (!r || !MayReachAgent(who, agent, r->live.view.team)) return NoAgent(agent);
  if (r->today.Contains(now) || r->live.view.handled_today == 0) {
    return std::shared_ptr<const ports::LiveAgent>(r, &r->live);
  }
  // The site's day the count belongs to is over: nothing handled today yet.
  auto fresh = std::make_shared<ports::LiveAgent>();
  fresh->view = r->live.view;
  fresh->view.handled_today = 0;
  fresh->json = Render(fresh->view);
  return std::shared_ptr<const ports::LiveAgent>(std::move(fresh));
}

Result<ports::QueueSnapshot> LiveSnapshots::Queue(const ports::Caller&, const std::string& queue,
                                                  TimePoint now) const {
  auto s = Current();
  if (!s.ok()) return s.status();
  const auto found = (*s)->directory->queues.find(queue);
  const QueueRecord* r =
      found == (*s)->directory->queues.end() ? nullptr : (*s)->queues.Get(found->second);
  if (!r) return NotFound("no queue '" + queue + "'");
  return r->At(now);
}

Result<std::vector<ports::QueueSnapshot>> LiveSnapshots::Queues(const ports::Caller&,
                                                                TimePoint now) const {
  auto s = Current();
  if (!s.ok()) return s.status();
  std::vector<ports::QueueSnapshot> out;
  out.reserve((*s)->directory->queue_order.size());
  for (uint32_t q : (*s)->directory->queue_order) {
    if (const QueueRecord* r = (*s)->queues.Get(q)) out.push_back(r->At(now));
  }
  return out;
}

}  // namespace parley::engine
