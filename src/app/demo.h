#pragma once

#include <string>

namespace parley::app {

// Plays the bundled demonstration scenario (config/demo-scenario.yaml under PARLEY_SOURCE_DIR,
// or `scenario_path` when not empty) through the real ACD: prints each arrival, offer with its
// explanation, acceptance, rejection, timeout and escalation, then a KPI summary. Returns the
// exit code of `parley simulate` (0, 1 for a failed expectation, 2 for a bad file).
int RunDemo(const std::string& scenario_path = "");

}  // namespace parley::app
