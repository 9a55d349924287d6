#include "wfm/forecast.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>

namespace parley::wfm {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Reads exactly `digits` decimal digits at `*pos` into `*value` and advances.
bool Digits(std::string_view s, size_t* pos, int digits, int* value) {
  if (*pos + static_cast<size_t>(digits) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = s[*pos + static_cast<size_t>(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<size_t>(digits);
  *value = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// HH:MM[:SS[.fraction]] from *pos.
bool TimeOfDay(std::string_view s, size_t* pos, bool allow_fraction) {
  int h = 0, m = 0, sec = 0;
  if (!Digits(s, pos, 2, &h) || h > 23 || !Expect(s, pos, ':') || !Digits(s, pos, 2, &m) ||
      m > 59) {
    return false;
  }
  if (*pos < s.size() && s[*pos] == ':') {
    ++*pos;
    if (!Digits(s, pos, 2, &sec) || sec > 59) return false;
    if (allow_fraction && *pos < s.size() && s[*pos] == '.') {
      ++*pos;
      const size_t start = *pos;
      while (*pos < s.size() && std::isdigit(static_cast<unsigned char>(s[*pos]))) ++*pos;
      if (*pos == start) return false;
    }
  }
  return true;
}

bool LeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool ParseNumber(std::string_view text, double* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

}  // namespace

bool IsIntervalStart(std::string_view text) {
  size_t pos = 0;
  if (text.size() >= 3 && text[2] == ':') {
    return TimeOfDay(text, &pos, /*allow_fraction=*/false) && pos == text.size();
  }
  int year = 0, month = 0, day = 0;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &month) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &day)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > kDays[month - 1] + (month == 2 && LeapYear(year) ? 1 : 0)) return false;
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != ' ')) return false;
  ++pos;
  if (!TimeOfDay(text, &pos, /*allow_fraction=*/true)) return false;
  if (pos == text.size()) return true;
  if (text[pos] == 'Z') return pos + 1 == text.size();
  if (text[pos] != '+' && text[pos] != '-') return false;
  ++pos;
  int oh = 0, om = 0;
  if (!Digits(text, &pos, 2, &oh) || oh > 23) return false;
  if (pos < text.size() && text[pos] == ':') ++pos;
  return Digits(text, &pos, 2, &om) && om <= 59 && pos == text.size();
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
      const bool header =
          !IsIntervalStart(fields[0]) && (fields.size() < 2 || !ParseNumber(fields[1], &contacts));
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
    if (!ParseNumber(fields[1], &contacts) || contacts < 0) {
      return InvalidArgument(fmt::format("line {}, field contacts: '{}' is not a number >= 0",
                                         line_number, fields[1]));
    }
    if (!ParseNumber(fields[2], &aht) || aht <= 0) {
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
