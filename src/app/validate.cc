#include "app/validate.h"

#include <vector>

#include "config/config.h"

namespace parley::app {

int RunValidate(const std::string& path, std::FILE* out, std::FILE* err) {
  std::vector<config::ConfigError> errors;
  auto result = config::LoadConfigFile(path, &errors);
  if (!result.ok()) {
    for (const auto& e : errors) std::fprintf(err, "%s\n", e.ToString().c_str());
    if (errors.empty())
      std::fprintf(err, "%s: %s\n", path.c_str(), result.status().message().c_str());
    return 1;
  }
  const RoutingConfig& routing = (*result)->routing;
  std::fprintf(out, "%s: ok (%zu queues, %zu agents, %zu skills)\n", path.c_str(),
               routing.queues.size(), routing.agents.size(), routing.skills.size());
  return 0;
}

}  // namespace parley::app
