#pragma once
// Scenario: one YAML file that is both a server configuration (the keys of config/demo.yaml,
// validated by src/config) and a script for the simulator: synthetic agent groups, a timeline of
// scripted steps with expectations, stochastic traffic streams and KPI bounds. The format is
// documented in docs/simulation.md.
//
// Loading is pure apart from reading the scenario file, its includes and the CSV files it names.
// A Scenario is an immutable value once loaded; the simulator only reads it, so one Scenario can
// drive many replications. Nothing here throws.

#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "config/config.h"
#include "domain/agent_state.h"
#include "domain/channel.h"
#include "domain/contact.h"
#include "domain/ids.h"
#include "flow/flow.h"
#include "traffic/distribution.h"

namespace parley::sim {

// A position in the scenario file, for "file:line:column: expected ..., got ..." messages.
struct Where {
  std::string file;
  int line = 0;
  int column = 0;
  std::string ToString() const;  // "file:line:column"
};

// How the simulator plays one agent. Manual agents (the default for agents under `agents:`) do
// only what the timeline says; automatic agents (from `groups:` or `scenario.automatic`) log in
// for their shift, take breaks, and accept or reject every offer by themselves.
struct AgentBehaviour {
  bool automatic = false;
  // Offsets from the scenario start. Without a shift an automatic agent is Available from the
  // start to the end.
  std::optional<Duration> shift_start;
  std::optional<Duration> shift_end;
  struct Break {
    Duration at{0};  // offset from the scenario start
    Duration length{0};
  };
  std::vector<Break> breaks;
  std::optional<traffic::Distribution> accept_delay;  // empty: accept at once
  double reject_probability = 0;
};

// One check made at a timeline step, after the step's action.
struct StepExpectation {
  enum class Kind { kOffer, kState, kPresence, kExplain, kQueue };
  Kind kind = Kind::kState;
  std::string contact;                // kOffer, kState, kExplain
  std::string agent;                  // kOffer, kPresence; kState: optional handling agent
  std::string is;                     // kState: contact state name; kPresence: presence name
  std::optional<std::string> reason;  // kPresence
  std::vector<std::string> contains;  // kExplain, kOffer: text fragments of the explanation
  QueueIndex queue = kNone;           // kQueue
  std::optional<int64_t> waiting;     // kQueue
  Where where;
};

// One scripted step: an optional action, then its expectations, at `at` after the start.
struct Step {
  enum class Action {
    kNone,
    kPresence,
    kArrive,
    kAccept,
    kReject,
    kEnd,
    kWrapUpEnd,
    kAbandon,
    kTransfer
  };
  Duration at{0};
  Action action = Action::kNone;
  Where where;
  std::vector<AgentIndex> agents;  // kPresence (one or more); kAccept, kReject, kWrapUpEnd (0/1)
  Presence presence = Presence::kAvailable;
  std::string reason;
  std::string contact;       // every contact action
  QueueIndex queue = kNone;  // kArrive, kTransfer
  ContactSpec spec;          // kArrive
  // kArrive: what automatic agents and the customer do with this contact.
  std::optional<Duration> handle;
  std::optional<Duration> patience;
  std::optional<Duration> wrap_up;
  std::vector<StepExpectation> expects;
};

// One answer a simulated caller may give, with its share of callers. The input "hangup" hangs
// up instead of answering.
struct CallerChoice {
  std::string input;
  double share = 0;
};
constexpr std::string_view kHangupChoice = "hangup";

// How simulated callers behave inside a contact flow (the stream's `ivr:` map).
struct CallerBehaviour {
  // Per menu step: what callers press after its prompt. Shares sum to at most 1; the rest
  // press nothing (the step's no-input retries, then its failure exit).
  struct Menu {
    std::string flow;  // "" matches the step id in any flow
    std::string step;
    std::vector<CallerChoice> choices;
  };
  std::vector<Menu> menus;
  // In-queue offers (a queue step's `offers:` whose exit is `exit`): the share of callers who
  // press the offer's key after hearing `after` announcements.
  struct QueueOffer {
    std::string exit;  // "callback" or "voicemail"
    double share = 0;
    int after = 1;
  };
  std::vector<QueueOffer> offers;
  // Survey answers: per question id, or per kind ("csat", "nps"); shares of each score, the
  // rest does not answer.
  struct Survey {
    std::string question;
    std::vector<CallerChoice> scores;
  };
  std::vector<Survey> surveys;
  // Seconds from the end of a prompt to the caller's key.
  std::optional<traffic::Distribution> think_time;  // empty: 1 s
  // How long a caller stays in the flow before reaching a queue; then hangs up. Empty: forever.
  std::optional<traffic::Distribution> patience;
  double speaking_rate = 15;  // characters of text-to-speech per second
  // Durations of recorded prompts by name; others last `recording`.
  std::vector<std::pair<std::string, Duration>> prompts;
  Duration recording = Seconds(5);
};

// A stochastic stream of contacts into one queue, or into a contact flow in front of the queues.
struct Stream {
  QueueIndex queue = kNone;  // kNone for a flow stream
  // A flow stream: the flow to run (named by `flow:` or found from `entry:`), the address the
  // contact called, and how its callers behave. A flow's queue steps enqueue into the Acd.
  std::string flow;
  std::string entry;
  CallerBehaviour caller;
  // After a contact of this stream is handled, this share of them runs `survey_flow`.
  std::string survey_flow;
  double survey_share = 0;
  Channel channel = Channel::kVoice;
  int32_t priority = 0;
  // Exactly one arrival form: expected arrivals per `arrival_interval` (a piecewise Poisson
  // process from the scenario start), or fixed times (from a CSV file).
  std::vector<double> per_interval;
  Duration arrival_interval{0};
  std::optional<std::vector<TimePoint>> times;
  traffic::Distribution handle_time;
  std::optional<traffic::Distribution> patience;  // empty: never abandons
  std::optional<traffic::Distribution> wrap_up;   // empty: the queue's wrap-up timer ends it
  Where where;
};

// Metrics the simulator reports for a queue, a channel, an interval or overall. Durations are in
// seconds, ratios in [0, 1].
enum class Metric {
  kOffered,
  kAnswered,
  kAbandoned,
  kTimedOut,
  kOverflowed,
  kHandled,
  kServiceLevel,
  kAbandonRate,
  kAsa,
  kAverageWait,
  kWaitP90,
  kLongestWait,
  kAht,
  kOccupancy,
  kUtilisation,
  kTransferRate,
  kMaxQueue,
};
constexpr int kMetricCount = 17;
struct MetricInfo {
  const char* name;     // as in YAML, JSON and CSV
  const char* heading;  // table heading
  bool duration;        // seconds
  bool ratio;
};
const MetricInfo& InfoOf(Metric m);
std::optional<Metric> ParseMetric(std::string_view name);

// Per-agent metrics an end expectation may bound.
enum class AgentMetric {
  kOffers,
  kAccepted,
  kRejected,
  kOfferTimeouts,
  kHandled,
  kOccupancy,
  kUtilisation
};

// A bound on one KPI at the end of the run (for replications: on the mean).
// Flow metrics an expectation with `flow:` (and `step:`) may bound (docs/metrics.md).
constexpr std::string_view kFlowMetricNames[] = {"entered",
                                                 "ended",
                                                 "contained",
                                                 "containment_rate",
                                                 "abandoned_in_ivr",
                                                 "abandoned_in_queue",
                                                 "abandon_rate",
                                                 "queued",
                                                 "connected",
                                                 "transferred",
                                                 "voicemail",
                                                 "callback",
                                                 "failed",
                                                 "average_ivr_time",
                                                 "csat",
                                                 "csat_mean",
                                                 "nps"};
// Per step: entered, abandoned, drop_off and share_<exit> (a menu option's share).
constexpr std::string_view kFlowStepMetricNames[] = {"entered", "abandoned", "drop_off"};

struct KpiBound {
  enum class Scope { kOverall, kQueue, kChannel, kAgent, kFlow };
  // kFlow: the flow (and step) and the flow metric's name.
  std::string flow;
  std::string step;
  Scope scope = Scope::kOverall;
  uint32_t index = 0;  // QueueIndex, Channel or AgentIndex
  std::string scope_name;
  bool agent_metric = false;
  Metric metric = Metric::kOffered;
  AgentMetric agent_metric_kind = AgentMetric::kHandled;
  std::string metric_name;
  std::optional<double> min;
  std::optional<double> max;
  Where where;
};

struct Scenario {
  std::string file;
  std::string name;
  TimePoint start{};
  uint64_t seed = 1;
  // Arrivals stop at start + duration. Without `duration`, the run ends at the last timeline step.
  Duration duration{0};
  Duration interval = Seconds(15 * 60);  // report interval
  // After the end, keep running (no new arrivals) until every contact has finished, for at most
  // drain_limit. Default: on when there is traffic.
  bool drain = false;
  Duration drain_limit = Seconds(4 * 3600);
  std::shared_ptr<const config::Config> config;
  std::vector<AgentBehaviour> agents;  // by AgentIndex
  std::vector<Step> timeline;          // sorted by `at`, file order within a time
  std::vector<Stream> traffic;
  std::vector<KpiBound> expect;
  // The compiled flows when a stream runs flows; nullptr otherwise.
  std::shared_ptr<const flow::FlowVersion> flows;
};

struct LoadOptions {
  // "PATH=VALUE" what-ifs, applied to the scenario tree before groups are expanded (a path that
  // does not resolve there is tried in the included files, as config::ParseOptions does).
  std::vector<config::Override> overrides;
  // False: includes and CSV files are refused (a scenario sent over the API must not read the
  // server's files).
  bool allow_files = true;
};

// Parses and validates a scenario from YAML text said to come from `file` (includes and CSV
// files resolve against its directory). Appends every error with its position to `errors` and
// returns InvalidArgument, or returns the scenario.
Result<Scenario> ParseScenarioText(std::string_view text, const std::string& file,
                                   const LoadOptions& options,
                                   std::vector<config::ConfigError>* errors);
// Reads `path` and parses it as ParseScenarioText does.
Result<Scenario> LoadScenario(const std::string& path, const LoadOptions& options,
                              std::vector<config::ConfigError>* errors);

}  // namespace parley::sim
