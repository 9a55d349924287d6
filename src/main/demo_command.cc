#include <memory>
#include <string>

#include "app/demo.h"
#include "main/commands.h"

namespace parley::cli {

void AddDemoCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "demo", "Play a scripted scenario through the real ACD and print each routing decision");
  auto path = std::make_shared<std::string>();
  cmd->add_option("--scenario", *path, "Scenario file (default: config/demo-scenario.yaml)");
  cmd->callback([exit_code, path] { *exit_code = app::RunDemo(*path); });
}

}  // namespace parley::cli
