#include <memory>
#include <string>

#include "app/data.h"
#include "main/commands.h"

namespace parley::cli {

void AddConfigCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("config", "Apply or export the configuration of a data directory");
  cmd->require_subcommand(1);

  auto apply = std::make_shared<app::ApplyOptions>();
  auto* a = cmd->add_subcommand(
      "apply", "Validate FILE, show what changes, and make it the current configuration");
  a->add_option("FILE", apply->file, "Configuration file (YAML, may include others)")->required();
  a->add_option("--data", apply->data_dir, "Data directory")->capture_default_str();
  a->add_flag("--dry-run", apply->dry_run, "Show the changes without applying them");
  a->add_option("--comment", apply->comment, "Why (kept in the configuration history)");
  a->callback([exit_code, apply] { *exit_code = app::RunConfigApply(*apply); });

  auto data = std::make_shared<std::string>("data");
  auto* e = cmd->add_subcommand("export", "Print the current configuration as YAML");
  e->add_option("--data", *data, "Data directory")->capture_default_str();
  e->callback([exit_code, data] { *exit_code = app::RunConfigExport(*data); });
}

void AddExportCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<app::ExportOptions>();
  auto* cmd = app.add_subcommand(
      "export", "Write the journal as contact records (CSV), an Asterisk queue_log, or intervals");
  cmd->add_option("KIND", o->what, "contacts, queue-log or intervals")
      ->required()
      ->check(CLI::IsMember({"contacts", "queue-log", "intervals"}));
  cmd->add_option("--data", o->data_dir, "Data directory")->capture_default_str();
  cmd->add_option("--from", o->from, "First event time, ISO 8601 (default: the beginning)");
  cmd->add_option("--to", o->to, "End of the period, ISO 8601, exclusive (default: now)");
  cmd->add_option("--interval", o->interval_minutes, "Interval length in minutes (intervals)")
      ->capture_default_str()
      ->check(CLI::IsMember({15, 30, 60}));
  cmd->callback([exit_code, o] { *exit_code = app::RunExport(*o); });
}

void AddBackupCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "backup", "Copy a data directory's database consistently, even while the server runs");
  auto dest = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>("data");
  cmd->add_option("DEST", *dest, "Directory to write the copy to (must not hold one)")->required();
  cmd->add_option("--data", *data, "Data directory")->capture_default_str();
  cmd->callback([exit_code, dest, data] { *exit_code = app::RunBackup(*data, *dest); });
}

void AddUserCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("user", "Manage users' credentials in a data directory");
  cmd->require_subcommand(1);
  auto login = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>("data");
  auto* sip = cmd->add_subcommand(
      "sip-password",
      "Set LOGIN's SIP digest password (read from standard input; stored only as HA1)");
  sip->add_option("LOGIN", *login, "The user's login")->required();
  sip->add_option("--data", *data, "Data directory")->capture_default_str();
  sip->callback([exit_code, login, data] { *exit_code = app::RunSipPassword(*data, *login); });
}

}  // namespace parley::cli
