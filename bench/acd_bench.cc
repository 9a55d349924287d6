// acd_bench: routing decisions per second of the real ACD under a steady stream of arrivals and
// completions, next to a naive baseline that scans every agent on every decision, run on the same
// operation sequence in the same process. Prints one JSON document.
//
// One decision is one routing question answered: an arriving contact looking for an agent, or an
// agent who freed capacity looking for a waiting contact (whether or not a match is found). The
// timed work per decision includes the offer, the acceptance and the index updates it causes.
//
//   acd_bench [--quick]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "acd/acd.h"
#include "base/random.h"
#include "base/virtual_clock.h"

namespace parley {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Shape {
  uint32_t agents;
  uint32_t queues;
  uint64_t operations;  // arrivals + completions timed
  uint64_t baseline_operations;
};

// A site: agents each in 5-10 queues, 100 skills, queue q needs skill q % 100.
RoutingConfig MakeSite(uint32_t agents, uint32_t queues, uint64_t seed) {
  Random r(seed);
  RoutingConfig c;
  for (int s = 0; s < 100; ++s) c.skills.push_back("skill" + std::to_string(s));
  for (uint32_t q = 0; q < queues; ++q) {
    QueueDef d;
    d.name = "q" + std::to_string(q);
    d.channels = {Channel::kVoice};
    d.skills = {SkillRequirement{static_cast<SkillIndex>(q % 100), 1}};
    d.offer_timeout = Seconds(30);
    c.queues.push_back(std::move(d));
  }
  for (uint32_t a = 0; a < agents; ++a) {
    AgentDef d;
    d.name = "a" + std::to_string(a);
    d.capacity[Index(Channel::kVoice)] = 1;
    const uint32_t n = 5 + static_cast<uint32_t>(r.Below(6));
    while (d.queues.size() < n && d.queues.size() < queues) {
      const auto q = static_cast<QueueIndex>(r.Below(queues));
      bool dup = false;
      for (auto& qa : d.queues) dup |= qa.queue == q;
      if (dup) continue;
      d.queues.push_back(QueueAssignment{q, static_cast<uint16_t>(d.queues.size()), Duration{0}});
      const auto skill = static_cast<SkillIndex>(q % 100);
      bool has = false;
      for (auto& s : d.skills) has |= s.skill == skill;
      if (!has) d.skills.push_back(SkillLevel{skill, static_cast<uint8_t>(1 + r.Below(5))});
    }
    c.agents.push_back(std::move(d));
  }
  return c;
}

// The operation sequence both engines replay: arrival at a queue, or completion of the k-th
// contact in handling (k drawn modulo the number in handling at that moment).
struct Op {
  bool arrival;
  uint32_t value;  // queue for an arrival, draw for a completion
};

std::vector<Op> MakeOps(const RoutingConfig& c, uint64_t count, uint64_t seed) {
  Random r(seed);
  std::vector<Op> ops;
  ops.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (i % 2 == 0) {
      // Arrivals in proportion to staffing: a random agent's random queue.
      const AgentDef& a = c.agents[r.Below(c.agents.size())];
      ops.push_back(Op{true, a.queues[r.Below(a.queues.size())].queue});
    } else {
      ops.push_back(Op{false, static_cast<uint32_t>(r.Next())});
    }
  }
  return ops;
}

class OfferTaker : public AcdObserver {
 public:
  void OnEvent(const Event& e) override {
    if (e.type == EventType::kContactOffered) offers.push_back({e.contact, e.agent});
  }
  std::vector<std::pair<ContactId, AgentIndex>> offers;
};

struct Measured {
  double decisions_per_second = 0;
  double p50_ns = 0;
  double p99_ns = 0;
  double bytes_per_agent = 0;
};

double Percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k];
}

// Replays `ops` through a fresh Acd. With `time_each`, records each operation's latency
// (the clock reads cost about as much as a decision, so throughput is measured without them).
Measured RunAcd(const RoutingConfig& config, const std::vector<Op>& ops, bool time_each) {
  VirtualClock clock(FromMicros(int64_t{1'700'000'000} * 1'000'000));
  OfferTaker taker;
  Acd acd(clock, clock, taker, AcdOptions{});
  if (!acd.Configure(config).ok()) std::abort();
  std::vector<ContactId> handling;
  handling.reserve(config.agents.size());
  uint64_t next_id = 1;
  auto take_offers = [&] {
    for (auto& [c, a] : taker.offers) {
      if (acd.Accept(c, a).ok()) handling.push_back(c);
    }
    taker.offers.clear();
  };
  for (AgentIndex a = 0; a < config.agents.size(); ++a) {
    (void)acd.SetPresence(a, Presence::kAvailable);
  }
  // Warm up: fill 90% of the agents, so that decisions see a realistic mix of free and busy.
  Random warm(99);
  while (handling.size() < config.agents.size() * 9 / 10) {
    const AgentDef& a = config.agents[warm.Below(config.agents.size())];
    (void)acd.Enqueue(ContactId(next_id++), a.queues[0].queue, ContactSpec{});
    take_offers();
  }
  std::vector<uint32_t> samples;
  samples.reserve(ops.size());
  uint64_t decisions = 0;
  const auto start = SteadyClock::now();
  for (const Op& op : ops) {
    // Expired offer timers fire here; they are ACD work too, so they count in the throughput.
    clock.AdvanceBy(Duration(1000));
    const auto t0 = time_each ? SteadyClock::now() : SteadyClock::time_point{};
    if (op.arrival) {
      (void)acd.Enqueue(ContactId(next_id++), op.value, ContactSpec{});
    } else if (!handling.empty()) {
      const size_t k = op.value % handling.size();
      const ContactId c = handling[k];
      handling[k] = handling.back();
      handling.pop_back();
      (void)acd.EndHandling(c);
    }
    take_offers();
    if (time_each) {
      const auto t1 = SteadyClock::now();
      samples.push_back(static_cast<uint32_t>(std::min<int64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), UINT32_MAX)));
    }
    ++decisions;
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  Measured m;
  m.decisions_per_second = static_cast<double>(decisions) / seconds;
  m.p50_ns = Percentile(samples, 0.50);
  m.p99_ns = Percentile(samples, 0.99);
  m.bytes_per_agent = static_cast<double>(acd.MemoryBytes()) / config.agents.size();
  return m;
}

// The naive baseline: on every arrival, scan every agent for a free member of the queue with
// the skill, longest idle first; on every completion, scan the agent's queues for the oldest
// waiting contact. This is how a simple ACD (or one SQL query per decision) works.
double RunBaseline(const RoutingConfig& config, const std::vector<Op>& ops) {
  struct A {
    bool busy = false;
    int64_t idle_since = 0;
  };
  std::vector<A> agents(config.agents.size());
  std::vector<std::deque<uint64_t>> waiting(config.queues.size());
  std::vector<uint32_t> handling;  // agent indices
  int64_t now = 0;
  auto member = [&](uint32_t a, uint32_t q) {
    for (const auto& qa : config.agents[a].queues) {
      if (qa.queue == q) return true;
    }
    return false;
  };
  auto has_skill = [&](uint32_t a, SkillIndex s) {
    for (const auto& sl : config.agents[a].skills) {
      if (sl.skill == s) return true;
    }
    return false;
  };
  auto arrive = [&](uint32_t q, uint64_t id) {
    int64_t best_idle = INT64_MAX;
    uint32_t best = UINT32_MAX;
    for (uint32_t a = 0; a < agents.size(); ++a) {
      if (agents[a].busy || !member(a, q) || !has_skill(a, config.queues[q].skills[0].skill)) {
        continue;
      }
      if (agents[a].idle_since < best_idle) {
        best_idle = agents[a].idle_since;
        best = a;
      }
    }
    if (best == UINT32_MAX) {
      waiting[q].push_back(id);
    } else {
      agents[best].busy = true;
      handling.push_back(best);
    }
  };
  auto complete = [&](uint32_t draw) {
    if (handling.empty()) return;
    const size_t k = draw % handling.size();
    const uint32_t a = handling[k];
    handling[k] = handling.back();
    handling.pop_back();
    agents[a].busy = false;
    agents[a].idle_since = now;
    uint32_t best_q = UINT32_MAX;
    for (const auto& qa : config.agents[a].queues) {
      if (!waiting[qa.queue].empty() &&
          (best_q == UINT32_MAX || waiting[qa.queue].front() < waiting[best_q].front())) {
        best_q = qa.queue;
      }
    }
    if (best_q != UINT32_MAX) {
      waiting[best_q].pop_front();
      agents[a].busy = true;
      handling.push_back(a);
    }
  };
  // Warm up to the same load as the ACD run (90% busy) without timing it: mark agents busy
  // directly, since the full scans would take minutes at 50k agents.
  Random warm(99);
  uint64_t id = 1;
  while (handling.size() < agents.size() * 9 / 10) {
    const auto a = static_cast<uint32_t>(warm.Below(agents.size()));
    if (agents[a].busy) continue;
    agents[a].busy = true;
    handling.push_back(a);
  }
  const auto start = SteadyClock::now();
  for (const Op& op : ops) {
    ++now;
    if (op.arrival) {
      arrive(op.value, id++);
    } else {
      complete(op.value);
    }
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  return static_cast<double>(ops.size()) / seconds;
}

// Reload of a configuration whose 10k-member queue changes (a new member, a new skill level),
// with contacts waiting; checks that every waiting contact is still there.
double ReloadMs(bool* nothing_lost) {
  RoutingConfig c;
  c.skills = {"s"};
  QueueDef big;
  big.name = "big";
  big.channels = {Channel::kVoice};
  big.skills = {SkillRequirement{0, 1}};
  c.queues.push_back(big);
  for (uint32_t a = 0; a < 10'000; ++a) {
    AgentDef d;
    d.name = "a" + std::to_string(a);
    d.capacity[Index(Channel::kVoice)] = 1;
    d.skills = {SkillLevel{0, 3}};
    d.queues = {QueueAssignment{0, 0, Duration{0}}};
    c.agents.push_back(std::move(d));
  }
  VirtualClock clock(FromMicros(int64_t{1'700'000'000} * 1'000'000));
  OfferTaker taker;
  Acd acd(clock, clock, taker, AcdOptions{});
  if (!acd.Configure(c).ok()) std::abort();
  for (AgentIndex a = 0; a < 10'000; a += 2) (void)acd.SetPresence(a, Presence::kAvailable);
  for (uint64_t id = 1; id <= 7'000; ++id) (void)acd.Enqueue(ContactId(id), 0, ContactSpec{});
  const uint32_t waiting_before = acd.GetQueue(0).waiting;
  RoutingConfig changed = c;
  changed.agents[17].skills[0].proficiency = 5;
  AgentDef extra = c.agents[0];
  extra.name = "new-agent";
  changed.agents.push_back(extra);
  changed.queues[0].strategy = Strategy::kBestSkill;
  const auto t0 = SteadyClock::now();
  if (!acd.Configure(changed).ok()) std::abort();
  const double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
  *nothing_lost = acd.GetQueue(0).waiting == waiting_before && waiting_before == 2'000;
  return ms;
}

}  // namespace
}  // namespace parley

int main(int argc, char** argv) {
  using namespace parley;  // NOLINT
  bool quick = false;
  uint32_t only = 0;  // --only AGENTS: one configuration, for profiling
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = std::stoul(argv[++i]);
  }
  std::vector<Shape> shapes = {
      {1'000, 100, quick ? 100'000u : 2'000'000u, quick ? 100'000u : 1'000'000u},
      {10'000, 1'000, quick ? 100'000u : 2'000'000u, quick ? 20'000u : 200'000u},
      {50'000, 40'000, quick ? 100'000u : 2'000'000u, quick ? 4'000u : 40'000u},
  };
  nlohmann::json out;
  out["quick"] = quick;
  out["runs"] = nlohmann::json::array();
  double first_ns = 0;
  for (const Shape& s : shapes) {
    if (only != 0 && s.agents != only) continue;
    const RoutingConfig config = MakeSite(s.agents, s.queues, 42);
    const std::vector<Op> ops = MakeOps(config, s.operations, 7);
    Measured m = RunAcd(config, ops, /*time_each=*/false);
    const Measured latency = RunAcd(config, ops, /*time_each=*/true);
    m.p50_ns = latency.p50_ns;
    m.p99_ns = latency.p99_ns;
    const std::vector<Op> base_ops(
        ops.begin(),
        ops.begin() + static_cast<ptrdiff_t>(std::min(ops.size(), s.baseline_operations)));
    const double baseline = RunBaseline(config, base_ops);
    const double ns_per_decision = 1e9 / m.decisions_per_second;
    if (first_ns == 0) first_ns = ns_per_decision;
    out["runs"].push_back({{"agents", s.agents},
                           {"queues", s.queues},
                           {"decisions", s.operations},
                           {"decisions_per_second", std::round(m.decisions_per_second)},
                           {"p50_ns", m.p50_ns},
                           {"p99_ns", m.p99_ns},
                           {"bytes_per_agent", std::round(m.bytes_per_agent)},
                           {"baseline_decisions_per_second", std::round(baseline)},
                           {"speedup_over_baseline", m.decisions_per_second / baseline},
                           {"time_per_decision_vs_smallest", ns_per_decision / first_ns}});
  }
  bool nothing_lost = false;
  out["reload_10k_member_queue_ms"] = ReloadMs(&nothing_lost);
  out["reload_nothing_lost"] = nothing_lost;
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
