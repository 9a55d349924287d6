#include "app/validate.h"

#include <algorithm>
#include <vector>

#include "config/config.h"
#include "flow/flow.h"

namespace parley::app {

namespace {

// Compiles the flows of `config` with the flow engine's own step table and appends each error,
// in the files' reading order; false when there was one.
bool CheckFlows(const config::Config& config, std::vector<config::ConfigError>* errors) {
  std::vector<flow::FlowError> flow_errors;
  auto flows = flow::CompileFlows(config.flows, config.routing, config.routing.settings.time_zone,
                                  1, &flow_errors);
  if (flows.ok()) return true;
  const auto rank = [&](const std::string& f) {
    return std::find(config.files.begin(), config.files.end(), f) - config.files.begin();
  };
  std::stable_sort(flow_errors.begin(), flow_errors.end(),
                   [&](const flow::FlowError& a, const flow::FlowError& b) {
                     if (rank(a.pos.file) != rank(b.pos.file)) {
                       return rank(a.pos.file) < rank(b.pos.file);
                     }
                     if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
                     return a.pos.column < b.pos.column;
                   });
  for (const auto& e : flow_errors) {
    errors->push_back({e.pos.file, e.pos.line, e.pos.column, e.message});
  }
  return false;
}

}  // namespace

int RunValidate(const std::string& path, std::FILE* out, std::FILE* err) {
  auto result = LoadCheckedConfig(path, err);
  if (!result.ok()) return 1;
  const config::Config& config = **result;
  const RoutingConfig& routing = config.routing;
  std::fprintf(out, "%s: ok (%zu queues, %zu agents, %zu skills, %zu flows)\n", path.c_str(),
               routing.queues.size(), routing.agents.size(), routing.skills.size(),
               config.flows.flows.size());
  return 0;
}

Result<std::shared_ptr<const config::Config>> LoadCheckedConfig(const std::string& path,
                                                                std::FILE* err) {
  std::vector<config::ConfigError> errors;
  auto result = config::LoadConfigFile(path, &errors);
  if (result.ok() && !CheckFlows(**result, &errors)) {
    result = InvalidArgument(path + ": invalid flows");
  }
  if (!result.ok()) {
    for (const auto& e : errors) std::fprintf(err, "%s\n", e.ToString().c_str());
    if (errors.empty())
      std::fprintf(err, "%s: %s\n", path.c_str(), result.status().message().c_str());
    return result.status();
  }
  return *result;
}

Result<std::shared_ptr<const config::Config>> CheckConfigText(
    std::string_view text, const std::string& name, std::vector<config::ConfigError>* errors) {
  auto result = config::ParseConfigText(text, name, {}, errors);
  if (!result.ok()) return result.status();
  if (!CheckFlows(**result, errors)) return InvalidArgument(name + ": invalid flows");
  return *result;
}

}  // namespace parley::app
