#include "traffic/arrivals.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>

namespace parley::traffic {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

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

// YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM|+HHMM|-HHMM]; no offset means UTC.
std::optional<TimePoint> ParseIsoDateTime(std::string_view s) {
  using namespace std::chrono;
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, &pos, 4, &y) || !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &mo) ||
      !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &d)) {
    return std::nullopt;
  }
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || pos >= s.size() || (s[pos] != 'T' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!Digits(s, &pos, 2, &h) || h > 23 || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &mi) ||
      mi > 59) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!Digits(s, &pos, 2, &sec) || sec > 59) return std::nullopt;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int64_t scale = 100'000;
      const size_t start = pos;
      for (; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos) {
        micros += (s[pos] - '0') * scale;
        scale /= 10;
      }
      if (pos == start) return std::nullopt;
    }
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!Digits(s, &pos, 2, &oh) || oh > 23) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (!Digits(s, &pos, 2, &om) || om > 59) return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  }
  if (pos != s.size()) return std::nullopt;
  const sys_days days{date};
  return TimePoint(duration_cast<Duration>(days.time_since_epoch()) + hours(h) + minutes(mi) +
                   std::chrono::seconds(sec) + Duration(micros) - minutes(offset_minutes));
}

std::optional<double> ParseSeconds(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

Result<std::unique_ptr<PiecewisePoisson>> PiecewisePoisson::Create(
    TimePoint start, Duration interval, std::vector<double> expected_per_interval) {
  if (interval <= Duration::zero()) {
    return InvalidArgument(fmt::format("interval must be > 0, got {} us", interval.count()));
  }
  for (size_t i = 0; i < expected_per_interval.size(); ++i) {
    const double e = expected_per_interval[i];
    if (!std::isfinite(e) || e < 0) {
      return InvalidArgument(
          fmt::format("expected arrivals in interval {} must be >= 0, got {}", i, e));
    }
  }
  return std::unique_ptr<PiecewisePoisson>(
      new PiecewisePoisson(start, interval, std::move(expected_per_interval)));
}

std::optional<TimePoint> PiecewisePoisson::NextArrival(TimePoint now, Random& random) {
  // Inversion of the integrated rate: spend one unit exponential against rate x time.
  const double length = ToSeconds(interval_);
  double t = std::max(0.0, ToSeconds(now - start_));  // seconds since start_
  auto i = static_cast<size_t>(std::floor(t / length));
  double budget = random.Exponential(1.0);
  for (; i < expected_.size(); ++i) {
    const double rate = expected_[i] / length;
    const double end = static_cast<double>(i + 1) * length;
    const double available = rate * (end - t);
    if (rate > 0 && budget <= available) {
      t += budget / rate;
      TimePoint at = start_ + Duration(std::llround(t * 1e6));
      // Rounding to microseconds must not move the arrival back to (or before) now.
      return at > now ? at : now + Duration(1);
    }
    budget -= available;
    t = end;
  }
  return std::nullopt;
}

ArrivalList::ArrivalList(std::vector<TimePoint> times) : times_(std::move(times)) {
  std::stable_sort(times_.begin(), times_.end());
}

std::optional<TimePoint> ArrivalList::NextArrival(TimePoint now, Random& /*random*/) {
  while (next_ < times_.size() && times_[next_] < now) ++next_;
  if (next_ == times_.size()) return std::nullopt;
  return times_[next_++];
}

Result<std::vector<TimePoint>> ParseArrivalTimes(std::string_view csv, TimePoint base) {
  std::vector<TimePoint> times;
  int line_number = 0;
  bool first = true;
  while (!csv.empty()) {
    const size_t eol = csv.find('\n');
    const std::string_view line = Trim(csv.substr(0, eol));
    csv = eol == std::string_view::npos ? std::string_view() : csv.substr(eol + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string_view field = Trim(line.substr(0, line.find(',')));
    const bool header = first && !std::isdigit(static_cast<unsigned char>(field.front()));
    first = false;
    if (header) continue;
    if (std::optional<TimePoint> at = ParseIsoDateTime(field)) {
      times.push_back(*at);
      continue;
    }
    const std::optional<double> seconds = ParseSeconds(field);
    if (!seconds || *seconds < 0) {
      return InvalidArgument(fmt::format(
          "line {}: arrival time '{}' is neither seconds >= 0 nor an ISO 8601 date-time "
          "(2024-05-06T08:30:00Z)",
          line_number, field));
    }
    times.push_back(base + Duration(std::llround(*seconds * 1e6)));
  }
  return times;
}

}  // namespace parley::traffic
