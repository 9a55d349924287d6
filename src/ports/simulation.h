#pragma once
// The simulation port: what-if runs of a scenario for the API (POST /api/v1/simulations), the
// same computation as `parley simulate --json` (docs/simulation.md). The composition root
// (src/app) implements it over src/sim; src/api calls it. Implementations are thread-safe and
// bound each run (one at a time, a wall-clock limit): call them off any event loop.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace parley::ports {

// The inputs of `parley simulate --json`, the scenario given as text.
struct SimulationQuery {
  std::string scenario;  // the scenario's YAML; it may not include files
  int replications = 1;
  std::optional<uint64_t> seed;      // default: the scenario's
  std::vector<std::string> sets;     // "PATH=VALUE" what-ifs
  std::optional<std::string> sweep;  // "PATH=FROM:TO:STEP"
};

class Simulation {
 public:
  virtual ~Simulation() = default;
  // The JSON document `parley simulate --json` prints. kInvalidArgument names the problem
  // ("scenario.yaml:3:5: ..." for the scenario's own errors), kConflict when another
  // simulation is running or the server is stopping, kUnavailable when the run outgrew its time
  // limit.
  virtual Result<std::string> Run(const SimulationQuery& query) const = 0;
};

}  // namespace parley::ports
