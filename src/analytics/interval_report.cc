#include "analytics/interval_report.h"

#include <fmt/format.h>

namespace parley {

Result<std::vector<IntervalRow>> QueueIntervalReport(const std::vector<Event>& events,
                                                     const KpiOptions& options, TimePoint as_of) {
  if (Status s = ValidateKpiOptions(options); !s.ok()) return s;
  if (options.interval != Seconds(15 * 60) && options.interval != Seconds(30 * 60) &&
      options.interval != Seconds(60 * 60)) {
    return InvalidArgument("interval: must be 15, 30 or 60 minutes, got " +
                           std::to_string(options.interval.count() / 1'000'000) + " s");
  }
  KpiCalculator calculator(options);
  for (const Event& e : events) calculator.Add(e);
  const KpiReport report = calculator.Report(as_of);
  std::vector<IntervalRow> rows;
  for (size_t q = 0; q < report.queues.size(); ++q) {
    for (const IntervalStats& interval : report.queues[q].intervals) {
      rows.push_back(IntervalRow{.queue = static_cast<QueueIndex>(q),
                                 .start = interval.start,
                                 .end = interval.start + options.interval,
                                 .stats = interval.stats});
    }
  }
  return rows;
}

namespace {

std::string Ratio(std::optional<double> r) { return r ? fmt::format("{:.4f}", *r) : std::string(); }
std::string Average(std::optional<Duration> d) {
  return d ? FormatSecondsMillis(*d) : std::string();
}

}  // namespace

std::string WriteIntervalCsv(const std::vector<IntervalRow>& rows, const ExportNames& names) {
  std::string out;
  AppendCsvRow(out, {"queue",        "interval_start",
                     "interval_end", "offered",
                     "answered",     "answered_within_target",
                     "abandoned",    "short_abandoned",
                     "timed_out",    "overflowed",
                     "removed",      "transferred",
                     "waiting",      "service_level",
                     "abandon_rate", "asa",
                     "average_wait", "longest_wait",
                     "wait_p90",     "max_waiting",
                     "handled",      "talk",
                     "hold",         "wrap_up",
                     "aht"});
  for (const IntervalRow& r : rows) {
    const ContactStats& s = r.stats;
    const auto name = names.Queue(r.queue);
    AppendCsvRow(out, {name.empty() ? std::to_string(r.queue) : std::string(name),
                       FormatIsoUtcMillis(r.start),
                       FormatIsoUtcMillis(r.end),
                       std::to_string(s.offered),
                       std::to_string(s.answered),
                       std::to_string(s.answered_within_target),
                       std::to_string(s.abandoned),
                       std::to_string(s.short_abandoned),
                       std::to_string(s.timed_out),
                       std::to_string(s.overflowed),
                       std::to_string(s.removed),
                       std::to_string(s.transferred),
                       std::to_string(s.Waiting()),
                       Ratio(s.ServiceLevel()),
                       Ratio(s.AbandonRate()),
                       Average(s.Asa()),
                       Average(s.AverageWait()),
                       FormatSecondsMillis(s.longest_wait),
                       FormatSecondsMillis(s.wait_p90),
                       std::to_string(s.max_waiting),
                       std::to_string(s.handled),
                       FormatSecondsMillis(s.talk),
                       FormatSecondsMillis(s.hold),
                       FormatSecondsMillis(s.wrap_up),
                       Average(s.Aht())});
  }
  return out;
}

}  // namespace parley
