#pragma once
// `parley simulate SCENARIO.yaml`: loads a scenario (src/sim), runs it (replications, what-ifs,
// sweeps) and prints results as a table, JSON or CSV. docs/simulation.md describes the flags.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace parley::app {

struct SimulateOptions {
  std::string path;
  int replications = 1;
  std::optional<uint64_t> seed;      // default: the scenario's
  std::vector<std::string> sets;     // "PATH=VALUE"
  std::optional<std::string> sweep;  // "PATH=FROM:TO:STEP"
  bool json = false;
  bool csv = false;
  bool explain = false;    // print each offer with the ACD's explanation
  bool intervals = false;  // table: also print one row per interval
};

// Returns the exit code: 0 when every expectation holds, 1 when one fails (each printed as
// file:line:column: message to `err`), 2 for a bad file or flag.
int RunSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace parley::app
