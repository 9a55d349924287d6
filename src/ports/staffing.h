#pragma once
// The staffing port: Erlang B, C and A staffing for the API (POST /api/v1/staffing), the same
// computation as `parley staff --json` (docs/staffing.md). The composition root (src/app)
// implements it over src/wfm; src/api calls it. Implementations are thread-safe, pure
// computation bounded by the request's limits (may take some milliseconds: call them off any
// event loop that must not wait).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace parley::ports {

// The inputs of `parley staff`, named as the API's JSON fields; unset fields are empty.
struct StaffingQuery {
  std::optional<double> calls;             // contacts offered in the interval
  std::optional<double> interval_seconds;  // interval length
  std::optional<double> aht;               // average handle time, seconds
  std::optional<double> target_sl;         // fraction answered within target_seconds
  double target_seconds = 20;
  std::optional<double> target_asa;  // seconds
  std::optional<double> max_occupancy;
  double shrinkage = 0;
  std::optional<double> patience;  // seconds; set: Erlang A, empty: Erlang C
  std::optional<int64_t> agents;   // evaluate this many instead of searching
  bool erlang_b = false;
  std::optional<int64_t> lines;  // with erlang_b: report blocking for these lines
  double target_blocking = 0.01;
  std::optional<std::string> forecast;  // CSV text: interval_start,contacts,aht_seconds
  int64_t table_neighbours = 0;         // > 0: one interval's answer carries "table" (N +- this)
};

class Staffing {
 public:
  virtual ~Staffing() = default;
  // The JSON document `parley staff --json` prints for these inputs (an object, or an array for
  // a forecast), or kInvalidArgument whose message names the field ("calls must be > 0, got 0",
  // "forecast: line 3, field contacts: ...").
  virtual Result<std::string> Plan(const StaffingQuery& query) const = 0;
};

using StaffingPtr = std::unique_ptr<Staffing>;

}  // namespace parley::ports
