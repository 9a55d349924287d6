#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "config/config.h"

namespace parley::app {

// `parley validate FILE`: loads and validates the configuration at `path` (with its includes).
// Compiles its flows too (flow::CompileFlows). Prints every error as "file:line:column: message" to
// `err` and returns 1, or prints "FILE: ok (N queues, M agents, K skills, F flows)" to `out` and
// returns 0.
int RunValidate(const std::string& path, std::FILE* out = stdout, std::FILE* err = stderr);

// What `validate` checks, for the commands that load a configuration (serve, config apply):
// the configuration, or every error printed to `err` as file:line:column: message and
// InvalidArgument.
Result<std::shared_ptr<const config::Config>> LoadCheckedConfig(const std::string& path,
                                                                std::FILE* err);

// The same checks on one YAML document held in memory (a stored or submitted configuration):
// the configuration, or InvalidArgument with every error appended to `errors` (file = `name`).
Result<std::shared_ptr<const config::Config>> CheckConfigText(
    std::string_view text, const std::string& name, std::vector<config::ConfigError>* errors);

}  // namespace parley::app
