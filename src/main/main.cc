// parley: the command line. Parses arguments and hands each subcommand to src/app.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "main/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Parley: an open-source contact center", "parley"};
  app.set_version_flag("--version", std::string("parley ") + PARLEY_VERSION);
  app.require_subcommand(0, 1);
  int exit_code = 0;

  // The command table: one line per subcommand.
  parley::cli::AddServeCommand(app, &exit_code);
  parley::cli::AddDemoCommand(app, &exit_code);
  parley::cli::AddValidateCommand(app, &exit_code);
  parley::cli::AddStaffCommand(app, &exit_code);
  parley::cli::AddSimulateCommand(app, &exit_code);
  parley::cli::AddConfigCommand(app, &exit_code);
  parley::cli::AddBackupCommand(app, &exit_code);
  parley::cli::AddExportCommand(app, &exit_code);
  parley::cli::AddUserCommand(app, &exit_code);
  auto* help = app.add_subcommand("help", "Print this help");
  help->callback([&] { std::fputs(app.help().c_str(), stdout); });

  CLI11_PARSE(app, argc, argv);
  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stdout);
  }
  return exit_code;
}
