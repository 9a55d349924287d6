#pragma once
// `parley simulate SCENARIO.yaml`: loads a scenario (src/sim), runs it (replications, what-ifs,
// sweeps) and prints results as a table, JSON or CSV. docs/simulation.md describes the flags.

#include <cstdint>
#include <functional>
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
  // The scenario's YAML itself instead of reading `path` (which then only names it in
  // messages); such a scenario may not read files (includes, CSV arrivals): the API's case.
  std::optional<std::string> text;
  bool show_progress = true;  // the progress bar on a terminal's standard error
  // Asked every 65,536 simulated events; true stops the run (exit code 3, "stopped" on `err`).
  std::function<bool()> should_stop;
  int max_sweep_points = 0;  // > 0: a sweep with more values is refused (exit code 2)
};

// Returns the exit code: 0 when every expectation holds, 1 when one fails (each printed as
// file:line:column: message to `err`), 2 for a bad file or flag, 3 when should_stop stopped it.
int RunSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace parley::app
