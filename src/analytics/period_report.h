#pragma once
// Period reports: per queue and per agent, for each period of a calendar grid (15, 30 or 60
// minutes, days, ISO weeks, months in the site's time zone), the KPIs of KpiCalculator
// (src/analytics/kpi.h) and the survey results of FlowKpiCalculator (flow_kpi.h) over a slice
// of the event journal. Nothing here defines a KPI; it only chooses which events and which
// calculator buckets make a period (docs/metrics.md, "Reports").
//
// Pure functions of their inputs; single-threaded.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "analytics/flow_kpi.h"
#include "analytics/kpi.h"
#include "base/status.h"
#include "domain/event.h"

namespace parley {

enum class ReportGrain : uint8_t { k15Minutes, k30Minutes, kHour, kDay, kWeek, kMonth };

// "15m", "30m", "1h", "1d", "1w", "1mo"; nullopt for anything else.
std::optional<ReportGrain> ParseReportGrain(std::string_view text);
std::string_view ReportGrainName(ReportGrain grain);

struct ReportPeriod {
  TimePoint start{};  // the period is [start, end)
  TimePoint end{};
};

// The periods of `grain` that overlap [from, to), in order and without gaps: the first starts at
// or before `from`, the last ends at or after `to`. Days, weeks (Monday to Monday) and months
// start at local midnight in `time_zone` (IANA name; daylight saving makes some days 23 or 25
// hours long); 15, 30 and 60 minute periods are fixed lengths aligned to the local clock at
// `from`. kInvalidArgument naming "from"/"to" (from not before to), "time_zone" (unknown) or
// "interval" (more than `max_periods` periods).
[[nodiscard]] Result<std::vector<ReportPeriod>> ReportPeriods(TimePoint from, TimePoint to,
                                                              ReportGrain grain,
                                                              std::string_view time_zone,
                                                              size_t max_periods);

// How far before a run of periods ComputePeriodReport looks at events (and so how much the
// caller must read): a contact queued or answered longer than this before a period's start
// counts in it only through its agent's clocks.
inline constexpr Duration kReportLead = std::chrono::hours(24);

// First-contact resolution (docs/metrics.md, "Reports"). Events carry the contact, not the
// customer, so the customer links come from the contact records: one entry per contact linked to
// a customer.
struct CustomerContactArrival {
  ContactId contact;
  uint64_t customer = 0;
  bool customer_initiated =
      true;  // inbound; an agent's outbound call is neither judged nor a repeat
  TimePoint arrived{};
};

struct FcrInput {
  Duration window{};  // zero: no FCR figures
  // The judging moment: a window that ends after it is still open, and what it holds so far is
  // all that is known.
  TimePoint now{};
  // Every contact linked to a customer that arrived from the first period's start less
  // kReportLead until min(now, last period's end + window), in any order.
  std::vector<CustomerContactArrival> contacts;
};

struct FcrStats {
  uint64_t contacts = 0;  // judged: customer-initiated, answered by an agent, customer known
  uint64_t resolved = 0;  // no repeat contact within the window
  uint64_t open = 0;      // of `resolved`, those whose window has not ended at `now`
  // resolved / contacts.
  std::optional<double> Fcr() const;
};

struct QueuePeriodRow {
  QueueIndex queue = kNone;
  ReportPeriod period;
  ContactStats stats;   // KpiCalculator's queue segments, bucketed as in interval reports
  SurveyStats surveys;  // answers given in the period by contacts last answered from the queue
  FcrStats fcr;         // contacts last answered from the queue in the period
};

struct AgentPeriodRow {
  AgentIndex agent = kNone;
  ReportPeriod period;
  // KpiCalculator's agent figures at the period's end minus those at its start (counters and
  // clocks); presence and active_contacts are the values at the end (or at as_of).
  AgentStats stats;
  SurveyStats surveys;  // answers given in the period by contacts the agent last answered
  FcrStats fcr;         // contacts the agent answered last, in the period
};

struct PeriodReport {
  std::vector<QueuePeriodRow> queues;  // queue-major, then by period
  std::vector<AgentPeriodRow> agents;  // agent-major, then by period
};

// `events` in time order, none after `as_of`, starting early enough before the first period
// that contacts in progress at its start are known (the caller reads a lead time). Rows for
// every queue index below `queue_count` and agent index below `agent_count`, for every period
// (a period after `as_of` has zero figures; clocks stop at as_of). `options.interval` and
// `options.origin` are ignored (each period is its own interval); the rest is used as given.
// With `fcr.window` set, each row also judges first-contact resolution.
PeriodReport ComputePeriodReport(const std::vector<Event>& events,
                                 const std::vector<ReportPeriod>& periods,
                                 const KpiOptions& options, size_t queue_count, size_t agent_count,
                                 TimePoint as_of, const FcrInput& fcr = {});

}  // namespace parley
