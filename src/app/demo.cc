#include "app/demo.h"

#include <iostream>

#include "app/simulate.h"

namespace parley::app {

int RunDemo(const std::string& scenario_path) {
  SimulateOptions o;
  o.path = scenario_path.empty() ? std::string(PARLEY_SOURCE_DIR) + "/config/demo-scenario.yaml"
                                 : scenario_path;
  o.explain = true;
  std::cout << "Parley demo: " << o.path << "\n"
            << "Every routing decision below is made by the real ACD on a virtual clock.\n\n";
  return RunSimulate(o, std::cout, std::cerr);
}

}  // namespace parley::app
