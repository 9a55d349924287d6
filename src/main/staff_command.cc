#include <cstdio>

#include "main/commands.h"

namespace parley::cli {

// TODO(issue 3): stub until the feature lands.
void AddStaffCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("staff", "(not yet available)");
  cmd->callback([exit_code] {
    std::fputs("parley staff: not yet available\n", stderr);
    *exit_code = 2;
  });
}

}  // namespace parley::cli
