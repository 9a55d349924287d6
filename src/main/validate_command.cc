#include <memory>
#include <string>

#include "app/validate.h"
#include "main/commands.h"

namespace parley::cli {

void AddValidateCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "validate", "Check a configuration file; print every error as file:line:column: message");
  auto path = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "Configuration file (YAML)")->required();
  cmd->callback([exit_code, path] { *exit_code = app::RunValidate(*path); });
}

}  // namespace parley::cli
