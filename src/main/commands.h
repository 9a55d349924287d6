#pragma once
// The `parley` subcommands, listed in main.cc. Each file parses its flags with CLI11 and calls
// one function of src/app; nothing else lives here.

#include <CLI/CLI.hpp>

namespace parley::cli {

// Each Add*Command adds a subcommand whose callback stores its exit code in `*exit_code`.
void AddDemoCommand(CLI::App& app, int* exit_code);
void AddValidateCommand(CLI::App& app, int* exit_code);
void AddStaffCommand(CLI::App& app, int* exit_code);
void AddSimulateCommand(CLI::App& app, int* exit_code);
void AddConfigCommand(CLI::App& app, int* exit_code);
void AddBackupCommand(CLI::App& app, int* exit_code);
void AddExportCommand(CLI::App& app, int* exit_code);
void AddServeCommand(CLI::App& app, int* exit_code);
void AddUserCommand(CLI::App& app, int* exit_code);

}  // namespace parley::cli
