#include "traffic/arrivals.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>

#include "base/text.h"

namespace parley::traffic {
namespace {}  // namespace

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
    const std::optional<double> seconds = ParseFiniteNumber(field);
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
