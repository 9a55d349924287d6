#pragma once
// Arrival processes for the simulator and live demo traffic: each answers "when does the next
// contact arrive?" given the current time and a Random, so the same process runs on a virtual
// clock or the wall clock. Not thread-safe; one per owner.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "base/time.h"

namespace parley::traffic {

class ArrivalProcess {
 public:
  virtual ~ArrivalProcess() = default;
  // The next arrival at or after `now` (strictly after for Poisson processes), or nullopt when
  // the process has no more arrivals. Call it again with the returned time to get the one after.
  virtual std::optional<TimePoint> NextArrival(TimePoint now, Random& random) = 0;
};

// A Poisson process whose rate is constant within each interval: interval i covers
// [start + i x interval, start + (i + 1) x interval) and expects expected_per_interval[i]
// arrivals. Nothing arrives before `start` or after the last interval. Exact: a unit
// exponential is spent against the integrated rate, interval by interval, so boundaries and
// zero-rate intervals are handled without thinning. Stateless between calls.
class PiecewisePoisson : public ArrivalProcess {
 public:
  // Requires interval > 0 and each expectation finite and >= 0 (kInvalidArgument naming the
  // index otherwise).
  static Result<std::unique_ptr<PiecewisePoisson>> Create(
      TimePoint start, Duration interval, std::vector<double> expected_per_interval);

  std::optional<TimePoint> NextArrival(TimePoint now, Random& random) override;

 private:
  PiecewisePoisson(TimePoint start, Duration interval, std::vector<double> expected)
      : start_(start), interval_(interval), expected_(std::move(expected)) {}

  TimePoint start_;
  Duration interval_;
  std::vector<double> expected_;
};

// A fixed list of arrival times, returned in time order, each once (equal times in turn).
// Entries before `now` when asked are skipped (a wall-clock run that starts late).
class ArrivalList : public ArrivalProcess {
 public:
  explicit ArrivalList(std::vector<TimePoint> times);  // sorted here

  std::optional<TimePoint> NextArrival(TimePoint now, Random& random) override;
  size_t size() const { return times_.size(); }

 private:
  std::vector<TimePoint> times_;
  size_t next_ = 0;
};

// Parses arrival times from CSV text, one arrival per line, in the first field: either seconds
// (>= 0, fractions allowed) after `base`, or an ISO 8601 date-time "2024-05-06T08:30:00[.5]"
// with an optional "Z" or "+HH:MM" offset (no offset means UTC). Further fields are ignored; a
// non-time first line is a header; blank lines and '#' comments are skipped. Errors name the
// line.
Result<std::vector<TimePoint>> ParseArrivalTimes(std::string_view csv, TimePoint base);

}  // namespace parley::traffic
