#include "analytics/period_report.h"

#include <date/tz.h>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

namespace parley {

namespace {

constexpr std::pair<std::string_view, ReportGrain> kGrainNames[] = {
    {"15m", ReportGrain::k15Minutes}, {"30m", ReportGrain::k30Minutes},
    {"1h", ReportGrain::kHour},       {"1d", ReportGrain::kDay},
    {"1w", ReportGrain::kWeek},       {"1mo", ReportGrain::kMonth},
};

Status TooMany(ReportGrain grain, size_t max_periods) {
  return InvalidArgument("interval: the range holds more than " + std::to_string(max_periods) +
                         " periods of " + std::string(ReportGrainName(grain)) +
                         "; choose a longer interval or a shorter range");
}

// Counters and clocks of `later` minus those of `earlier`; the state fields are `later`'s.
AgentStats Difference(const AgentStats& later, const AgentStats& earlier) {
  AgentStats d = later;
  d.offers -= earlier.offers;
  d.accepted -= earlier.accepted;
  d.rejected -= earlier.rejected;
  d.offer_timeouts -= earlier.offer_timeouts;
  d.withdrawn -= earlier.withdrawn;
  d.handled -= earlier.handled;
  d.transferred -= earlier.transferred;
  d.talk -= earlier.talk;
  d.hold -= earlier.hold;
  d.wrap_up -= earlier.wrap_up;
  d.logged_in -= earlier.logged_in;
  d.busy -= earlier.busy;
  d.available_idle -= earlier.available_idle;
  d.not_ready_idle -= earlier.not_ready_idle;
  return d;
}

// The index of the period holding t, or nullopt outside them all.
std::optional<size_t> PeriodOf(const std::vector<ReportPeriod>& periods, TimePoint t) {
  if (periods.empty() || t < periods.front().start || t >= periods.back().end) return std::nullopt;
  auto it = std::upper_bound(periods.begin(), periods.end(), t,
                             [](TimePoint v, const ReportPeriod& p) { return v < p.start; });
  return static_cast<size_t>(it - periods.begin()) - 1;
}

void AddQueueRows(const std::vector<Event>& events, const std::vector<ReportPeriod>& periods,
                  const KpiOptions& options, size_t queue_count, TimePoint as_of,
                  std::vector<std::vector<QueuePeriodRow>>& rows) {
  // Consecutive periods of one length share a calculator whose interval grid is theirs.
  for (size_t i = 0; i < periods.size();) {
    const Duration length = periods[i].end - periods[i].start;
    size_t j = i + 1;
    while (j < periods.size() && periods[j].end - periods[j].start == length) ++j;
    const TimePoint run_start = periods[i].start;
    const TimePoint run_end = periods[j - 1].end;
    if (run_start < as_of) {
      KpiOptions o = options;
      o.origin = run_start;
      o.interval = length;
      KpiCalculator calculator(o);
      for (const Event& e : events) {
        if (e.time >= run_end) break;
        if (e.time >= run_start - kReportLead) calculator.Add(e);
      }
      const KpiReport report = calculator.Report(std::min(as_of, run_end - Duration(1)));
      for (size_t q = 0; q < std::min(queue_count, report.queues.size()); ++q) {
        for (const IntervalStats& interval : report.queues[q].intervals) {
          if (interval.start < run_start || interval.start >= run_end) continue;
          const size_t k = i + static_cast<size_t>((interval.start - run_start) / length);
          if (k < j) rows[q][k].stats = interval.stats;
        }
      }
    }
    i = j;
  }
}

void AddAgentRows(const std::vector<Event>& events, const std::vector<ReportPeriod>& periods,
                  const KpiOptions& options, size_t agent_count, TimePoint as_of,
                  std::vector<std::vector<AgentPeriodRow>>& rows) {
  KpiOptions o = options;
  o.origin = periods.front().start;
  o.interval = std::chrono::hours(24);
  KpiCalculator calculator(o);
  size_t next = 0;
  // Events before t, and at t too when t is as_of (the report's last moment).
  auto feed_until = [&](TimePoint t) {
    while (next < events.size() &&
           (events[next].time < t || (t == as_of && events[next].time == t))) {
      calculator.Add(events[next++]);
    }
  };
  auto snapshot = [&](TimePoint t) {
    feed_until(t);
    return calculator.Report(t).agents;
  };
  std::vector<AgentStats> before = snapshot(std::min(as_of, periods.front().start));
  for (size_t k = 0; k < periods.size(); ++k) {
    std::vector<AgentStats> after = snapshot(std::min(as_of, periods[k].end));
    for (size_t a = 0; a < std::min(agent_count, after.size()); ++a) {
      rows[a][k].stats = a < before.size() ? Difference(after[a], before[a]) : after[a];
    }
    before = std::move(after);
  }
}

// Survey answers, counted by FlowKpiCalculator, per (queue or agent, period) of the contact's
// last answer before the survey.
void AddSurveys(const std::vector<Event>& events, const std::vector<ReportPeriod>& periods,
                std::vector<std::vector<QueuePeriodRow>>& queue_rows,
                std::vector<std::vector<AgentPeriodRow>>& agent_rows) {
  std::map<ContactId, std::pair<QueueIndex, AgentIndex>> answered_by;
  std::map<std::pair<size_t, size_t>, FlowKpiCalculator> by_queue, by_agent;
  for (const Event& e : events) {
    if (e.type == EventType::kOfferAccepted) {
      answered_by[e.contact] = {e.queue, e.agent};
      continue;
    }
    if (e.type != EventType::kSurveyAnswered) continue;
    const auto k = PeriodOf(periods, e.time);
    auto who = answered_by.find(e.contact);
    if (!k || who == answered_by.end()) continue;
    const FlowEventFields f = ParseFlowEventFields(e.text);
    const flow::FlowEvent fe{.at = e.time,
                             .contact = e.contact,
                             .kind = flow::FlowEventKind::kSurveyAnswer,
                             .flow = f.flow,
                             .version = f.version,
                             .step = f.step,
                             .step_type = f.step_type,
                             .question = f.question,
                             .survey_kind = f.survey_kind,
                             .score = f.score,
                             .text = f.answer};
    const auto [q, a] = who->second;
    if (q < queue_rows.size()) by_queue[{q, *k}].Add(fe);
    if (a < agent_rows.size()) by_agent[{a, *k}].Add(fe);
  }
  for (const auto& [key, calculator] : by_queue) {
    queue_rows[key.first][key.second].surveys = calculator.Report().overall.surveys;
  }
  for (const auto& [key, calculator] : by_agent) {
    agent_rows[key.first][key.second].surveys = calculator.Report().overall.surveys;
  }
}

// Each customer-initiated contact with a customer, last answered by an agent in a period, is
// judged there: resolved unless the same customer started another contact within the window
// after its arrival.
void AddFcr(const std::vector<Event>& events, const std::vector<ReportPeriod>& periods,
            const FcrInput& fcr, std::vector<std::vector<QueuePeriodRow>>& queue_rows,
            std::vector<std::vector<AgentPeriodRow>>& agent_rows) {
  if (fcr.window <= Duration(0)) return;
  struct Answer {
    QueueIndex queue;
    AgentIndex agent;
    TimePoint at;
  };
  std::unordered_map<uint64_t, Answer> last_answer;
  for (const Event& e : events) {
    if (e.type == EventType::kOfferAccepted)
      last_answer[e.contact.value()] = {e.queue, e.agent, e.time};
  }
  // Each customer's own contacts by (arrival, id): the repeats.
  using Start = std::pair<TimePoint, ContactId>;
  std::unordered_map<uint64_t, std::vector<Start>> started;
  for (const CustomerContactArrival& c : fcr.contacts) {
    if (c.customer_initiated) started[c.customer].push_back({c.arrived, c.contact});
  }
  for (auto& [customer, starts] : started) std::sort(starts.begin(), starts.end());
  for (const CustomerContactArrival& c : fcr.contacts) {
    if (!c.customer_initiated) continue;
    const auto answer = last_answer.find(c.contact.value());
    if (answer == last_answer.end()) continue;
    const auto k = PeriodOf(periods, answer->second.at);
    if (!k) continue;
    const std::vector<Start>& starts = started[c.customer];
    const auto next = std::upper_bound(starts.begin(), starts.end(), Start{c.arrived, c.contact});
    const bool repeated = next != starts.end() && next->first < c.arrived + fcr.window;
    auto count = [&](FcrStats& s) {
      ++s.contacts;
      if (repeated) return;
      ++s.resolved;
      if (fcr.now < c.arrived + fcr.window) ++s.open;
    };
    const auto [q, a] = std::pair(answer->second.queue, answer->second.agent);
    if (q < queue_rows.size()) count(queue_rows[q][*k].fcr);
    if (a < agent_rows.size()) count(agent_rows[a][*k].fcr);
  }
}

}  // namespace

std::optional<double> FcrStats::Fcr() const {
  if (contacts == 0) return std::nullopt;
  return static_cast<double>(resolved) / static_cast<double>(contacts);
}

std::optional<ReportGrain> ParseReportGrain(std::string_view text) {
  for (const auto& [name, grain] : kGrainNames) {
    if (name == text) return grain;
  }
  return std::nullopt;
}

std::string_view ReportGrainName(ReportGrain grain) {
  for (const auto& [name, g] : kGrainNames) {
    if (g == grain) return name;
  }
  return "?";
}

Result<std::vector<ReportPeriod>> ReportPeriods(TimePoint from, TimePoint to, ReportGrain grain,
                                                std::string_view time_zone, size_t max_periods) {
  if (from >= to) return InvalidArgument("from: must be before to");
  const date::time_zone* zone = nullptr;
  try {  // date::locate_zone throws for an unknown name; nothing crosses this boundary
    zone = date::locate_zone(std::string(time_zone));
  } catch (const std::exception&) {
    return InvalidArgument("time_zone: unknown time zone '" + std::string(time_zone) + "'");
  }
  const auto local_from = zone->to_local(date::sys_time<Duration>(from.time_since_epoch()));
  std::vector<ReportPeriod> periods;
  if (grain == ReportGrain::k15Minutes || grain == ReportGrain::k30Minutes ||
      grain == ReportGrain::kHour) {
    const Duration length = grain == ReportGrain::k15Minutes   ? std::chrono::minutes(15)
                            : grain == ReportGrain::k30Minutes ? std::chrono::minutes(30)
                                                               : std::chrono::minutes(60);
    Duration into = local_from.time_since_epoch() % length;
    if (into < Duration(0)) into += length;
    const TimePoint start = from - into;
    const int64_t count = (to - start + length - Duration(1)) / length;
    if (count > static_cast<int64_t>(max_periods)) return TooMany(grain, max_periods);
    for (int64_t k = 0; k < count; ++k) {
      periods.push_back({start + k * length, start + (k + 1) * length});
    }
    return periods;
  }
  auto midnight = [zone](date::local_days day) {
    return TimePoint(
        zone->to_sys(date::local_time<Duration>(day), date::choose::earliest).time_since_epoch());
  };
  date::local_days day = date::floor<date::days>(local_from);
  if (grain == ReportGrain::kWeek) day -= date::weekday(day) - date::Monday;
  if (grain == ReportGrain::kMonth) {
    const date::year_month_day ymd(day);
    day = date::local_days(ymd.year() / ymd.month() / 1);
  }
  auto next = [grain](date::local_days d) {
    if (grain == ReportGrain::kDay) return d + date::days(1);
    if (grain == ReportGrain::kWeek) return d + date::days(7);
    const date::year_month_day ymd(d);
    return date::local_days((ymd.year() / ymd.month() + date::months(1)) / 1);
  };
  for (TimePoint start = midnight(day); start < to;) {
    if (periods.size() == max_periods) return TooMany(grain, max_periods);
    day = next(day);
    const TimePoint end = midnight(day);
    periods.push_back({start, end});
    start = end;
  }
  return periods;
}

PeriodReport ComputePeriodReport(const std::vector<Event>& events,
                                 const std::vector<ReportPeriod>& periods,
                                 const KpiOptions& options, size_t queue_count, size_t agent_count,
                                 TimePoint as_of, const FcrInput& fcr) {
  std::vector<std::vector<QueuePeriodRow>> queue_rows(queue_count);
  for (size_t q = 0; q < queue_count; ++q) {
    for (const ReportPeriod& p : periods) {
      queue_rows[q].push_back({.queue = static_cast<QueueIndex>(q), .period = p});
    }
  }
  std::vector<std::vector<AgentPeriodRow>> agent_rows(agent_count);
  for (size_t a = 0; a < agent_count; ++a) {
    for (const ReportPeriod& p : periods) {
      agent_rows[a].push_back({.agent = static_cast<AgentIndex>(a), .period = p});
    }
  }
  if (!periods.empty()) {
    if (queue_count > 0) AddQueueRows(events, periods, options, queue_count, as_of, queue_rows);
    if (agent_count > 0) AddAgentRows(events, periods, options, agent_count, as_of, agent_rows);
    AddSurveys(events, periods, queue_rows, agent_rows);
    AddFcr(events, periods, fcr, queue_rows, agent_rows);
  }
  PeriodReport report;
  for (auto& rows : queue_rows) {
    for (auto& r : rows) report.queues.push_back(std::move(r));
  }
  for (auto& rows : agent_rows) {
    for (auto& r : rows) report.agents.push_back(std::move(r));
  }
  return report;
}

}  // namespace parley
