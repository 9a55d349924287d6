#pragma once

#include <cstdio>
#include <string>

namespace parley::app {

// `parley validate FILE`: loads and validates the configuration at `path` (with its includes).
// Compiles its flows too (flow::CompileFlows). Prints every error as "file:line:column: message" to `err` and returns 1, or prints
// "FILE: ok (N queues, M agents, K skills, F flows)" to `out` and returns 0.
int RunValidate(const std::string& path, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace parley::app
