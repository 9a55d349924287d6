#pragma once
// The discrete-event simulator: plays a Scenario through the real Acd on a VirtualClock and
// measures it with the real KpiCalculator. Automatic agents accept (or reject) offers after their
// accept delay, handle for the contact's sampled handle time and wrap up; customers abandon after
// their sampled patience if still waiting or being offered; shifts and breaks change presence;
// scripted timeline steps act and check expectations. Streams that name a flow run the real
// flow::FlowRunner on the same clock; the simulation implements the flow's ports (prompts last
// their duration, simulated callers press keys with the scenario's shares, queue steps enqueue
// into the Acd) and measures the flow events with FlowKpiCalculator.
//
// Determinism: randomness comes only from parley::Random streams seeded from the run's seed and
// src/traffic distributions, and nothing iterates an unordered container, so a scenario and a
// seed give the same result with every compiler and standard library.
//
// Ownership and threads: Run() is a pure function of its arguments (plus the listener's side
// effects); it builds and destroys its own Acd, clock and calculator, so runs may proceed on
// different threads with different arguments.

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acd/acd.h"
#include "analytics/flow_kpi.h"
#include "analytics/kpi.h"
#include "base/status.h"
#include "sim/scenario.h"

namespace parley::sim {

// One row of results: every Metric, nullopt when undefined (no denominator).
struct KpiRow {
  std::array<std::optional<double>, kMetricCount> values{};
  std::optional<double>& operator[](Metric m) { return values[static_cast<size_t>(m)]; }
  const std::optional<double>& operator[](Metric m) const { return values[static_cast<size_t>(m)]; }
};

// A failed expectation or scripted action: where it is written and what happened.
struct Failure {
  Where where;
  std::string message;           // "expected ..., got ..."
  std::string ToString() const;  // "file:line:column: message"
};

struct IntervalRow {
  TimePoint start{};
  KpiRow overall;
  std::vector<KpiRow> queues;  // by QueueIndex
};

struct RunResult {
  uint64_t seed = 0;
  TimePoint end{};  // the report time: the end, or later when draining
  KpiReport report;
  std::vector<KpiRow> queues;    // by QueueIndex
  std::vector<KpiRow> channels;  // by Channel index
  KpiRow overall;
  std::vector<IntervalRow> intervals;
  std::vector<Failure> failures;  // timeline steps, in time order (end bounds: CheckBounds)
  // One event is one timer fired by the virtual clock: the simulator's own (arrivals, offer
  // responses, handling ends, wrap-up ends, patience expiries, presence changes, timeline steps,
  // interval snapshots, callers' and ports' answers to flows) and the ACD's (offer timeouts,
  // escalation steps, wrap-up timers) and the flow runner's (input timeouts, announcements).
  uint64_t events = 0;
  uint64_t contacts = 0;  // contacts that arrived
  uint64_t refused = 0;   // arrivals the ACD refused (queue full, channel not taken)
  // Contact flows (streams with `flow:` or `entry:`): the flow KPIs of the run.
  FlowReport flows;
};

// Sees the run as it happens (the demo's narrative, --explain). Called synchronously; must not
// change the Acd.
class RunListener {
 public:
  virtual ~RunListener() = default;
  // Every ACD event, after the calculator and simulator took it. `contact` is the scripted id or
  // "#N" for stochastic contacts.
  virtual void OnEvent(const Event& event, const Acd& acd, std::string_view contact) = 0;
  // A timeline step about to run.
  virtual void OnStep(const Step& step) = 0;
  virtual void OnFailure(const Failure& failure) = 0;
};

struct RunOptions {
  uint64_t seed = 1;
  // Keep each offer's explanation (AcdOptions::explain_offers). Forced on when an expectation
  // checks explanation text.
  bool explain = false;
  // Per-interval occupancy and utilisation: a KPI report at every interval boundary (costs
  // O(finished waits) each).
  bool interval_agent_stats = true;
  RunListener* listener = nullptr;
  // Called about every 65,536 events with the fraction of simulated time done.
  std::function<void(double)> progress;
  // Asked as often as `progress`; true stops the run, which then fails with kUnavailable
  // (the API bounds a simulation's wall time so).
  std::function<bool()> should_stop;
};

// Runs one replication. Errors only for scenarios the ACD refuses to configure.
Result<RunResult> Run(const Scenario& scenario, const RunOptions& options);

// The value of a flow-scoped bound (KpiBound::Scope::kFlow) in a flow report.
std::optional<double> FlowBoundValue(const FlowReport& report, const KpiBound& bound);
// The value a bound constrains in one result (nullopt when undefined).
std::optional<double> BoundValue(const RunResult& result, const KpiBound& bound);
// "expected <scope> <metric> in [min, max], got <value>" for each violated bound; `value`
// returns the figure to compare (one run's, or a mean over replications).
std::vector<Failure> CheckBounds(
    const Scenario& scenario, const std::function<std::optional<double>(const KpiBound&)>& value);

// Mean and 95% confidence half-width (Student t with n - 1 degrees of freedom) of samples; the
// half-width is 0 for fewer than two samples.
struct Estimate {
  double mean = 0;
  double half_width = 0;
  int n = 0;
};
Estimate Summarise(const std::vector<double>& samples);
// The 0.975 quantile of Student's t distribution with `df` >= 1 degrees of freedom.
double StudentT975(int df);

}  // namespace parley::sim
