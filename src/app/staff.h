#pragma once
// `parley staff`: staffing tables from Erlang B/C/A (src/wfm) for one interval or a forecast.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "base/status.h"

namespace parley::app {

// The command line of `parley staff`, as parsed by src/main; unset flags are empty.
struct StaffOptions {
  std::optional<double> calls;             // contacts offered in the interval
  std::optional<double> interval_seconds;  // interval length
  std::optional<double> aht_seconds;       // average handle time
  std::optional<double> target_sl;         // fraction answered within target_seconds
  double target_seconds = 20;
  std::optional<double> target_asa;  // seconds
  std::optional<double> max_occupancy;
  double shrinkage = 0;
  std::optional<double> patience_seconds;  // set: Erlang A; empty: Erlang C
  std::optional<int64_t> agents;           // evaluate this many instead of searching
  bool json = false;
  bool erlang_b = false;
  std::optional<int64_t> lines;  // with erlang_b: report blocking for these lines
  double target_blocking = 0.01;
  std::optional<std::string> forecast_path;  // CSV: interval_start,contacts,aht_seconds
  // The forecast's CSV text itself (the API's "forecast"); when set, forecast_path is not read.
  std::optional<std::string> forecast_csv;
  // Errors name the API's JSON fields ("calls", "target_sl", "forecast:3") rather than the
  // flags ("--calls", "--target-sl", the file's path), and the API's bounds apply: offered load
  // at most kMaxApiErlangs, at most kMaxApiIntervals forecast intervals.
  bool api_names = false;
  // > 0: a single Erlang C/A interval's JSON also carries "table", the performance of every
  // staffing from agents - table_neighbours (at least the smallest that can be evaluated) to
  // agents + table_neighbours.
  int64_t table_neighbours = 0;
};

inline constexpr double kMaxApiErlangs = 5000;
inline constexpr size_t kMaxApiIntervals = 2000;

// Runs the command: results to `out`, a one-line error naming the bad value, flag or
// file:line:field to `err`. Returns the process exit code: 0, or 1 for bad input.
int RunStaff(const StaffOptions& options, std::ostream& out, std::ostream& err);

// The JSON document `parley staff --json` prints (an object for one interval, an array for a
// forecast), or kInvalidArgument with the one-line message RunStaff would print after
// "parley staff: ". Pure apart from reading forecast_path; safe from any thread.
Result<std::string> StaffJson(const StaffOptions& options);

}  // namespace parley::app
