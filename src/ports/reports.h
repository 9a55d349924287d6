#pragma once
// The reports port: what the outside world may ask of the contact center's history and of its
// configured code lists, beside the live commands and views of ports/contact_center.h. src/engine
// implements it; src/api calls it.
//
// Threading contract: as ContactCenter's. Any method may be called from any thread and returns at
// once; each reply is invoked exactly once on the implementation's loop thread. A report reads
// the journal, which may take long: the implementation does that off its loop.
//
// Object-level scope: as ContactCenter's; a kSelf caller gets only its own agent's rows, a kTeam
// caller only its team's agents (queues are not team-scoped), others are refused kNotFound.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "ports/contact_center.h"

namespace parley::ports {

// A Not Ready reason or a wrap-up disposition, as configured.
struct WorkCode {
  std::string code;
  std::string label;
};

struct WorkCodes {
  std::vector<WorkCode> reason_codes;       // in configuration order
  std::vector<WorkCode> disposition_codes;  // in configuration order
  // The site's time zone (IANA name), whose calendar days reports follow: clients compute
  // "today" and "yesterday" in it.
  std::string time_zone;
};

enum class ReportSubject : uint8_t { kQueues, kAgents };

struct ReportQuery {
  ReportSubject subject = ReportSubject::kQueues;
  TimePoint from{};  // rows for the periods overlapping [from, to)
  TimePoint to{};
  std::string interval = "1h";     // "15m", "30m", "1h", "1d", "1w" or "1mo"
  std::vector<std::string> names;  // queues or agents to report; empty: all the caller may see
};

// One queue or agent in one period. Which fields apply depends on the subject (docs/metrics.md,
// "Reports"); a ratio or average whose denominator is zero is nullopt.
struct ReportRow {
  std::string name;  // queue or agent (configuration name)
  TimePoint start{};
  TimePoint end{};
  // Queues: waits that started in the period, handling that ended in it.
  int64_t offered = 0;
  int64_t answered = 0;
  int64_t answered_within_target = 0;
  int64_t abandoned = 0;
  int64_t short_abandoned = 0;
  int64_t timed_out = 0;
  int64_t overflowed = 0;
  int64_t transferred = 0;
  std::optional<double> service_level;  // ServiceLevelVariant::kExcludeShortAbandons
  std::optional<double> abandon_rate;   // short abandons excluded
  std::optional<Duration> asa;
  Duration sl_threshold{};  // the queue's service-level threshold
  double sl_target = 0;     // the queue's target share within it, 0..1
  // Both: handling whose talk ended in the period, and its averages per handling.
  int64_t handled = 0;
  std::optional<Duration> aht;  // talk + hold + wrap-up
  std::optional<Duration> talk;
  std::optional<Duration> hold;
  std::optional<Duration> wrap_up;
  // Agents.
  int64_t offers = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t offer_timeouts = 0;
  Duration logged_in{};
  Duration busy{};
  Duration available_idle{};
  Duration not_ready_idle{};
  std::optional<double> occupancy;    // busy / (busy + available idle)
  std::optional<double> utilisation;  // busy / logged in
  // Surveys answered in the period by contacts last answered from this queue or by this agent.
  uint64_t csat_answers = 0;
  std::optional<double> csat;  // share of 4 and 5 on 1-5
  uint64_t nps_answers = 0;
  std::optional<double> nps;  // -100..100
  // First-contact resolution of the contacts last answered in the period from this queue or by
  // this agent: those judged (customer-initiated, with a customer), the share resolved (no repeat
  // contact by the customer within the window), and how many of the resolved ones are still
  // within their window (provisional).
  uint64_t fcr_contacts = 0;
  std::optional<double> fcr;
  uint64_t fcr_open = 0;
};

struct Report {
  ReportSubject subject = ReportSubject::kQueues;
  std::string interval;
  std::string time_zone;        // the site's, which days, weeks and months follow
  TimePoint from{};             // the first period's start
  TimePoint to{};               // the last period's end
  TimePoint as_of{};            // figures include events before this time
  std::vector<ReportRow> rows;  // by name in configuration order, then by period
};

class Reports {
 public:
  virtual ~Reports() = default;

  // The configured Not Ready reasons and wrap-up dispositions (empty lists: free text allowed).
  virtual void ListWorkCodes(Reply<WorkCodes> reply) = 0;

  // kInvalidArgument naming the parameter ("from", "to", "interval", "queue", "agent") for a bad
  // or too large query; kNotFound for a name the caller may not see or that does not exist.
  virtual void RunReport(const Caller& who, ReportQuery query, Reply<Report> reply) = 0;
};

}  // namespace parley::ports
