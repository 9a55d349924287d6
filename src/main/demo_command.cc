#include "app/demo.h"
#include "main/commands.h"

namespace parley::cli {

void AddDemoCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "demo", "Play a scripted scenario through the real ACD and print each routing decision");
  cmd->callback([exit_code] { *exit_code = app::RunDemo(); });
}

}  // namespace parley::cli
