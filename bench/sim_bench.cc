// sim_bench: simulated events per second of the simulator with the real ACD in the loop, next to
// a minimal event-heap simulation of the same M/M/c traffic with no ACD, in the same process.
// Prints one JSON document: {"runs": [{scenario, agents, events, contacts, seconds,
// events_per_second, contacts_per_second, baseline_events_per_second, cpu_seconds,
// events_per_cpu_second, baseline_events_per_cpu_second, result_digest}, ...]}. The per CPU
// second figures count only this thread's CPU time, steadier than wall time on a shared machine.
//
// One event is one timer fired by the virtual clock (sim::RunResult::events): the simulator's
// arrivals, offer responses (accept or reject after the accept delay), handling ends, wrap-up
// ends, patience expiries, presence changes, timeline steps, and the ACD's own timers (offer
// timeouts, escalation steps, wrap-up timers). The baseline counts its arrivals and service
// completions, the only events an M/M/c queue needs.
//
// Each run also prints `result_digest`, a hash of everything the run reports (events, contacts,
// every KPI row, every agent's figures): a change that should only make the simulator faster
// must leave it unchanged. --digest prints the same hash for scenario files instead.
//
//   sim_bench [--quick] [--hours H]   (--hours: M/M/c over H simulated hours, multi-skill H/4)
//   sim_bench --digest FILE...        (each scenario file's digest at its own seed, no timing)

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <queue>
#include <string>
#include <vector>

#include "base/random.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace parley {
namespace {

using SteadyClock = std::chrono::steady_clock;

// CPU time of this thread: on a shared machine it leaves out the time other processes held the
// core, which wall time counts (cache and core sharing still show).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Rates {
  double per_second = 0;      // events per wall-clock second
  double per_cpu_second = 0;  // events per second of this thread's CPU time
};

// M/M/c: `agents` agents at 85% load, AHT 180 s, longest idle, no abandons, no wrap-up.
std::string MmcScenario(int agents, int hours) {
  const double per_hour = agents * 0.85 * 3600 / 180;
  return "scenario: {name: mmc, duration: " + std::to_string(hours) +
         "h, interval: 1h}\n"
         "skills: [s]\n"
         "queues: [{name: q, channels: [voice], skills: {s: 1}, offer_timeout: 1h}]\n"
         "groups: [{name: a, agents: " +
         std::to_string(agents) +
         ", skills: {s: 1}, queues: [q]}]\n"
         "traffic: [{queue: q, arrivals: {per_hour: " +
         std::to_string(per_hour) + "}, handle_time: \"exp:180\"}]\n";
}

// 1,000 agents in 20 groups of 50; 20 queues with one skill each; each group serves three
// queues; patience, wrap-up and accept delays; about 85% load.
std::string MultiSkillScenario(int hours) {
  std::string s = "scenario: {name: multiskill, duration: " + std::to_string(hours) +
                  "h, interval: 1h}\nskills: [";
  for (int q = 0; q < 20; ++q) s += (q ? ", k" : "k") + std::to_string(q);
  s += "]\nqueues:\n";
  for (int q = 0; q < 20; ++q) {
    s += "  - {name: q" + std::to_string(q) +
         ", channels: [voice], strategy: " + (q % 2 ? "best-skill" : "longest-idle") +
         ", skills: {k" + std::to_string(q) + ": 1}, wrap_up: 30s}\n";
  }
  s += "groups:\n";
  for (int g = 0; g < 20; ++g) {
    const int a = g, b = (g + 1) % 20, c = (g + 7) % 20;
    s += "  - {name: g" + std::to_string(g) + ", agents: 50, skills: {k" + std::to_string(a) +
         ": 5, k" + std::to_string(b) + ": 3, k" + std::to_string(c) + ": 2}, queues: [q" +
         std::to_string(a) + ", q" + std::to_string(b) + ", q" + std::to_string(c) +
         "], accept_delay: \"uniform:1,3\"}\n";
  }
  // 1,000 agents x 0.85 load / (200 s talk + 10 s wrap + 2 s accept) per hour, over 20 queues.
  const double per_queue_hour = 1000 * 0.85 * 3600 / 212.0 / 20;
  s += "traffic:\n";
  for (int q = 0; q < 20; ++q) {
    s += "  - {queue: q" + std::to_string(q) +
         ", arrivals: {per_hour: " + std::to_string(per_queue_hour) +
         "}, handle_time: \"exp:200\", patience: \"exp:240\", wrap_up: \"fixed:10\"}\n";
  }
  return s;
}

// The minimal engine: a binary heap of (time, sequence, kind) and a FIFO queue; M/M/c with the
// same rates. Returns its rates.
Rates BaselineEventsPerSecond(int agents, int hours, uint64_t seed) {
  struct Ev {
    double t;
    uint64_t seq;
    bool arrival;
    bool operator>(const Ev& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };
  const double rate = agents * 0.85 / 180.0, end = hours * 3600.0;
  Random r(seed);
  std::priority_queue<Ev, std::vector<Ev>, std::greater<>> heap;
  std::deque<double> waiting;
  uint64_t seq = 0, events = 0;
  int busy = 0;
  double wait_sum = 0;
  const auto begin = SteadyClock::now();
  const double cpu_begin = ThreadCpuSeconds();
  heap.push({r.Exponential(1 / rate), seq++, true});
  while (!heap.empty()) {
    const Ev e = heap.top();
    heap.pop();
    ++events;
    if (e.arrival) {
      const double next = e.t + r.Exponential(1 / rate);
      if (next < end) heap.push({next, seq++, true});
      if (busy < agents) {
        ++busy;
        heap.push({e.t + r.Exponential(180), seq++, false});
      } else {
        waiting.push_back(e.t);
      }
    } else if (!waiting.empty()) {
      wait_sum += e.t - waiting.front();
      waiting.pop_front();
      heap.push({e.t + r.Exponential(180), seq++, false});
    } else {
      --busy;
    }
  }
  const double secs = std::chrono::duration<double>(SteadyClock::now() - begin).count();
  const double cpu = ThreadCpuSeconds() - cpu_begin;
  if (wait_sum < 0) std::puts("");  // keeps the work observable
  return {static_cast<double>(events) / secs, static_cast<double>(events) / cpu};
}

// FNV-1a over the bytes of every figure the run reports.
class Digest {
 public:
  void Add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ull;
  }
  template <typename T>
  void Add(const T& v) {
    Add(&v, sizeof v);
  }
  void Add(const sim::KpiRow& row) {
    for (const auto& v : row.values) Add(v ? *v : -1e300);
  }
  std::string Hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

std::string ResultDigest(const sim::RunResult& r) {
  Digest d;
  d.Add(r.events);
  d.Add(r.contacts);
  d.Add(r.refused);
  d.Add(r.end.time_since_epoch().count());
  d.Add(r.overall);
  for (const auto& q : r.queues) d.Add(q);
  for (const auto& c : r.channels) d.Add(c);
  for (const auto& i : r.intervals) {
    d.Add(i.start.time_since_epoch().count());
    d.Add(i.overall);
    for (const auto& q : i.queues) d.Add(q);
  }
  for (const auto& a : r.report.agents) {
    for (int64_t v : {a.offers, a.accepted, a.rejected, a.offer_timeouts, a.withdrawn, a.handled,
                      a.talk.count(), a.wrap_up.count(), a.logged_in.count(), a.busy.count(),
                      a.available_idle.count()}) {
      d.Add(v);
    }
  }
  return d.Hex();
}

nlohmann::json RunOne(const std::string& name, int agents, const std::string& text, int hours) {
  std::vector<config::ConfigError> errors;
  auto s = sim::ParseScenarioText(text, name + ".yaml", {}, &errors);
  if (!s.ok()) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    return {{"scenario", name}, {"error", s.status().message()}};
  }
  sim::RunOptions o;
  o.seed = 1;
  o.interval_agent_stats = false;
  const auto begin = SteadyClock::now();
  const double cpu_begin = ThreadCpuSeconds();
  auto r = sim::Run(*s, o);
  const double secs = std::chrono::duration<double>(SteadyClock::now() - begin).count();
  const double cpu = ThreadCpuSeconds() - cpu_begin;
  if (!r.ok()) return {{"scenario", name}, {"error", r.status().message()}};
  const Rates baseline = BaselineEventsPerSecond(agents, hours, 1);
  return {{"scenario", name},
          {"agents", agents},
          {"simulated_hours", hours},
          {"events", r->events},
          {"contacts", r->contacts},
          {"seconds", secs},
          {"events_per_second", static_cast<double>(r->events) / secs},
          {"contacts_per_second", static_cast<double>(r->contacts) / secs},
          {"baseline_events_per_second", baseline.per_second},
          {"cpu_seconds", cpu},
          {"events_per_cpu_second", static_cast<double>(r->events) / cpu},
          {"baseline_events_per_cpu_second", baseline.per_cpu_second},
          {"result_digest", ResultDigest(*r)}};
}

}  // namespace
}  // namespace parley

// The digest of each scenario file run once at its own seed, timeline failures included.
int DigestFiles(int argc, char** argv) {
  nlohmann::json files = nlohmann::json::array();
  for (int i = 2; i < argc; ++i) {
    std::vector<parley::config::ConfigError> errors;
    auto s = parley::sim::LoadScenario(argv[i], {}, &errors);
    if (!s.ok()) {
      files.push_back({{"file", argv[i]}, {"error", s.status().message()}});
      continue;
    }
    parley::sim::RunOptions o;
    o.seed = s->seed;
    auto r = parley::sim::Run(*s, o);
    if (!r.ok()) {
      files.push_back({{"file", argv[i]}, {"error", r.status().message()}});
      continue;
    }
    files.push_back({{"file", argv[i]},
                     {"events", r->events},
                     {"failures", r->failures.size()},
                     {"result_digest", parley::ResultDigest(*r)}});
  }
  std::printf("%s\n", nlohmann::json{{"files", files}}.dump(2).c_str());
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--digest") == 0) return DigestFiles(argc, argv);
  int hours = 400;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      hours = 24;
    } else if (std::strcmp(argv[i], "--hours") == 0 && i + 1 < argc &&
               std::atoi(argv[i + 1]) >= 4) {
      hours = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: sim_bench [--quick] [--hours H (at least 4)] | --digest FILE...\n");
      return 2;
    }
  }
  nlohmann::json runs = nlohmann::json::array();
  runs.push_back(parley::RunOne("mmc-100", 100, parley::MmcScenario(100, hours), hours));
  runs.push_back(
      parley::RunOne("multiskill-1000", 1000, parley::MultiSkillScenario(hours / 4), hours / 4));
  std::printf("%s\n", nlohmann::json{{"runs", runs}}.dump(2).c_str());
  return 0;
}
