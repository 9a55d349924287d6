#include "wfm/forecast.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>

#include "base/text.h"

namespace parley::wfm {
namespace {}  // namespace

bool IsIntervalStart(std::string_view text) {
  return ParseTimeOfDay(text).has_value() || ParseIsoDateTime(text).has_value();
}

Result<std::vector<ForecastInterval>> ParseForecastCsv(std::string_view text) {
  std::vector<ForecastInterval> intervals;
  bool first_line = true;
  int line_number = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = Trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;

    std::vector<std::string_view> fields;
    for (size_t start = 0;;) {
      const size_t comma = line.find(',', start);
      fields.push_back(Trim(line.substr(start, comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    double contacts = 0, aht = 0;
    if (first_line) {
      first_line = false;
      const bool header = !IsIntervalStart(fields[0]) &&
                          (fields.size() < 2 || !ParseFiniteNumber(fields[1], &contacts));
      if (header) continue;
    }
    if (fields.size() != 3) {
      return InvalidArgument(
          fmt::format("line {}: expected 3 fields (interval_start,contacts,aht_seconds), found {}",
                      line_number, fields.size()));
    }
    if (!IsIntervalStart(fields[0])) {
      return InvalidArgument(
          fmt::format("line {}, field interval_start: '{}' is not an ISO 8601 date-time "
                      "(2024-05-06T08:30[:00]) or a time of day (HH:MM)",
                      line_number, fields[0]));
    }
    if (!ParseFiniteNumber(fields[1], &contacts) || contacts < 0) {
      return InvalidArgument(fmt::format("line {}, field contacts: '{}' is not a number >= 0",
                                         line_number, fields[1]));
    }
    if (!ParseFiniteNumber(fields[2], &aht) || aht <= 0) {
      return InvalidArgument(
          fmt::format("line {}, field aht_seconds: '{}' is not a number of seconds > 0",
                      line_number, fields[2]));
    }
    intervals.push_back({std::string(fields[0]), contacts, aht, line_number});
  }
  if (intervals.empty()) return InvalidArgument("forecast has no data lines");
  return intervals;
}

}  // namespace parley::wfm
