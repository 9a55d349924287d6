#include <cstdio>

#include "main/commands.h"

namespace parley::cli {

// TODO(issue 2): stub until the feature lands.
void AddValidateCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("validate", "(not yet available)");
  cmd->callback([exit_code] {
    std::fputs("parley validate: not yet available\n", stderr);
    *exit_code = 2;
  });
}

}  // namespace parley::cli
