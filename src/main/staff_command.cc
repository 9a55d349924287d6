#include <iostream>
#include <memory>

#include "app/staff.h"
#include "main/commands.h"

namespace parley::cli {

void AddStaffCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "staff",
      "Agents needed for a service target (Erlang C, or Erlang A with --patience), "
      "or trunk lines (Erlang B)");
  // CLI11 fills these when the flag is given; the callback turns them into optionals.
  struct Flags {
    double calls = 0, interval = 0, aht = 0, sl = 0, asa = 0, occupancy = 0, patience = 0;
    int64_t agents = 0, lines = 0;
    app::StaffOptions options;
  };
  auto flags = std::make_shared<Flags>();
  auto* calls = cmd->add_option("--calls", flags->calls, "Contacts offered in the interval");
  auto* interval =
      cmd->add_option("--interval-seconds", flags->interval, "Interval length in seconds");
  auto* aht = cmd->add_option("--aht", flags->aht, "Average handle time in seconds");
  auto* sl = cmd->add_option("--target-sl", flags->sl,
                             "Service level target: fraction answered within --target-seconds");
  cmd->add_option("--target-seconds", flags->options.target_seconds,
                  "Answer-time threshold of the service level (default 20)");
  auto* asa = cmd->add_option("--target-asa", flags->asa, "Average speed of answer target, s");
  auto* occupancy = cmd->add_option("--max-occupancy", flags->occupancy, "Maximum occupancy");
  cmd->add_option("--shrinkage", flags->options.shrinkage,
                  "Fraction of paid time unavailable (default 0)");
  auto* patience = cmd->add_option("--patience", flags->patience,
                                   "Mean caller patience in seconds: use Erlang A");
  auto* agents = cmd->add_option("--agents", flags->agents, "Evaluate this many agents");
  cmd->add_flag("--json", flags->options.json, "Print JSON");
  cmd->add_flag("--erlang-b", flags->options.erlang_b, "Trunk sizing with Erlang B");
  auto* lines = cmd->add_option("--lines", flags->lines, "With --erlang-b: lines to evaluate");
  cmd->add_option("--target-blocking", flags->options.target_blocking,
                  "With --erlang-b: blocking target (default 0.01)");
  auto* forecast = cmd->add_option("--forecast", "CSV: interval_start,contacts,aht_seconds");

  cmd->callback([=] {
    app::StaffOptions& o = flags->options;
    if (*calls) o.calls = flags->calls;
    if (*interval) o.interval_seconds = flags->interval;
    if (*aht) o.aht_seconds = flags->aht;
    if (*sl) o.target_sl = flags->sl;
    if (*asa) o.target_asa = flags->asa;
    if (*occupancy) o.max_occupancy = flags->occupancy;
    if (*patience) o.patience_seconds = flags->patience;
    if (*agents) o.agents = flags->agents;
    if (*lines) o.lines = flags->lines;
    if (*forecast) o.forecast_path = forecast->as<std::string>();
    *exit_code = app::RunStaff(o, std::cout, std::cerr);
  });
}

}  // namespace parley::cli
