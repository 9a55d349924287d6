#pragma once
// `parley staff`: staffing tables from Erlang B/C/A (src/wfm) for one interval or a forecast.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

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
};

// Runs the command: results to `out`, a one-line error naming the bad value, flag or
// file:line:field to `err`. Returns the process exit code: 0, or 1 for bad input.
int RunStaff(const StaffOptions& options, std::ostream& out, std::ostream& err);

}  // namespace parley::app
