#include <iostream>
#include <memory>

#include "app/simulate.h"
#include "main/commands.h"

namespace parley::cli {

void AddSimulateCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "simulate", "Run a scenario through the real ACD on a virtual clock; check its expectations");
  auto o = std::make_shared<app::SimulateOptions>();
  auto seed = std::make_shared<uint64_t>(0);
  cmd->add_option("SCENARIO", o->path, "Scenario file (YAML)")->required();
  cmd->add_option("--replications", o->replications, "Independent runs (seeds SEED, SEED+1, ...)");
  auto* seed_opt = cmd->add_option("--seed", *seed, "Seed of the first replication");
  cmd->add_option("--set", o->sets, "PATH=VALUE override of the scenario (repeatable)");
  auto* sweep = cmd->add_option("--sweep", "PATH=FROM:TO:STEP: one run per value");
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_flag("--csv", o->csv, "Print CSV");
  cmd->add_flag("--explain", o->explain, "Print each routing decision with its explanation");
  cmd->callback([=] {
    if (*seed_opt) o->seed = *seed;
    if (*sweep) o->sweep = sweep->as<std::string>();
    *exit_code = app::RunSimulate(*o, std::cout, std::cerr);
  });
}

}  // namespace parley::cli
