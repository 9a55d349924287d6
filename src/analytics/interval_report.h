#pragma once
// Interval reports: per queue and per interval (15, 30 or 60 minutes), the KPIs of
// KpiCalculator (src/analytics/kpi.h) over a finished event log, as rows and as CSV. Wait
// numbers belong to the interval in which the contact entered the queue, handle numbers to the
// interval in which talk ended (docs/metrics.md).

#include <string>
#include <vector>

#include "analytics/export_format.h"
#include "analytics/kpi.h"
#include "base/status.h"
#include "domain/event.h"

namespace parley {

struct IntervalRow {
  QueueIndex queue = kNone;
  TimePoint start{};  // the interval is [start, start + interval)
  TimePoint end{};
  ContactStats stats;
};

// Every queue that appears in the events, and every interval from the first event's to the one
// containing `as_of`, queue-major then by time (empty intervals included, so a report has no
// holes). kInvalidArgument if `options` is invalid or `options.interval` is not 15, 30 or 60
// minutes.
[[nodiscard]] Result<std::vector<IntervalRow>> QueueIntervalReport(const std::vector<Event>& events,
                                                                   const KpiOptions& options,
                                                                   TimePoint as_of);

// Header and one CSV row per IntervalRow (RFC 4180, CRLF). Ratios are written as fractions
// with four decimals (0.8571), durations in seconds with milliseconds; an undefined ratio or
// average (zero denominator) is an empty field.
std::string WriteIntervalCsv(const std::vector<IntervalRow>& rows, const ExportNames& names);

}  // namespace parley
