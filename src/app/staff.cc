#include "app/staff.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <vector>

#include "wfm/erlang.h"
#include "wfm/forecast.h"
#include "wfm/staffing.h"

namespace parley::app {
namespace {

using nlohmann::json;

// One interval's traffic and the staffing chosen for it.
struct Plan {
  wfm::Workload workload;
  wfm::Performance chosen;
  int64_t scheduled = 0;
};

std::string Percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

std::string Seconds(double s) { return std::isfinite(s) ? fmt::format("{:.1f}", s) : "inf"; }

// JSON has no infinity: an unbounded wait is null.
json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json ToJson(const Plan& plan, const StaffOptions& options) {
  const wfm::Performance& p = plan.chosen;
  json j = {
      {"model", plan.workload.patience_seconds ? "erlang_a" : "erlang_c"},
      {"offered_load_erlangs", p.load_erlangs},
      {"agents", p.agents},
      {"scheduled_agents", plan.scheduled},
      {"shrinkage", options.shrinkage},
      {"target_seconds", options.target_seconds},
      {"service_level", p.service_level},
      {"probability_of_waiting", p.probability_of_waiting},
      {"asa_seconds", Number(p.asa_seconds)},
      {"occupancy", p.occupancy},
      {"stable", p.stable},
  };
  if (plan.workload.patience_seconds) {
    j["probability_of_abandon"] = p.probability_of_abandon;
    j["mean_wait_all_seconds"] = Number(p.mean_wait_all_seconds);
  }
  return j;
}

// Chooses the agents for one interval: the given number, or the fewest meeting the targets.
Result<Plan> PlanInterval(const wfm::Workload& workload, const StaffOptions& options) {
  Plan plan{.workload = workload};
  Result<wfm::Performance> chosen = Status(StatusCode::kInternal, "unset");
  if (options.agents) {
    chosen = wfm::Evaluate(workload, *options.agents, options.target_seconds);
  } else {
    wfm::Targets targets;
    targets.service_level = options.target_sl;
    targets.answer_seconds = options.target_seconds;
    targets.asa_seconds = options.target_asa;
    targets.max_occupancy = options.max_occupancy;
    chosen = wfm::RequiredAgents(workload, targets);
  }
  if (!chosen.ok()) return chosen.status();
  plan.chosen = *chosen;
  Result<int64_t> scheduled = wfm::ScheduledAgents(plan.chosen.agents, options.shrinkage);
  if (!scheduled.ok()) return scheduled.status();
  plan.scheduled = *scheduled;
  return plan;
}

std::string TargetsText(const StaffOptions& o) {
  std::vector<std::string> parts;
  if (o.target_sl) {
    parts.push_back(fmt::format("{} within {:g} s", Percent(*o.target_sl), o.target_seconds));
  }
  if (o.target_asa) parts.push_back(fmt::format("ASA <= {:g} s", *o.target_asa));
  if (o.max_occupancy) parts.push_back(fmt::format("occupancy <= {}", Percent(*o.max_occupancy)));
  std::string text;
  for (const std::string& p : parts) text += (text.empty() ? "" : ", ") + p;
  return text;
}

void PrintSingle(const Plan& plan, const StaffOptions& options, std::ostream& out) {
  const wfm::Performance& p = plan.chosen;
  const bool abandon = plan.workload.patience_seconds.has_value();
  out << fmt::format(
      "Offered load: {:.3f} Erlangs ({})\n", p.load_erlangs,
      abandon ? fmt::format("Erlang A, mean patience {:g} s", *plan.workload.patience_seconds)
              : "Erlang C");
  if (options.agents) {
    out << fmt::format("Agents evaluated: {}\n", p.agents);
  } else {
    out << fmt::format("Agents needed: {} (targets: {})\n", p.agents, TargetsText(options));
  }
  if (options.shrinkage > 0) {
    out << fmt::format("Scheduled agents: {} (shrinkage {})\n", plan.scheduled,
                       Percent(options.shrinkage));
  }
  if (!p.stable) {
    out << fmt::format(
        "Warning: {} agents cannot keep up with {:.3f} Erlangs; the queue grows "
        "without bound\n",
        p.agents, p.load_erlangs);
  }
  out << fmt::format("\n    agents  SL({:g}s)  P(wait)  ASA (s)  occupancy{}\n",
                     options.target_seconds, abandon ? "  P(abandon)" : "");
  const int64_t lowest = abandon ? 1 : 0;
  for (int64_t n = std::max(lowest, p.agents - 2); n <= p.agents + 2; ++n) {
    Result<wfm::Performance> row = wfm::Evaluate(plan.workload, n, options.target_seconds);
    if (!row.ok()) continue;  // Erlang A with far too few agents: nothing useful to show
    out << fmt::format("  {} {:6}  {:>8}  {:>7}  {:>7}  {:>9}", n == p.agents ? ">" : " ", n,
                       Percent(row->service_level), Percent(row->probability_of_waiting),
                       Seconds(row->asa_seconds), Percent(row->occupancy));
    if (abandon) out << fmt::format("  {:>10}", Percent(row->probability_of_abandon));
    out << "\n";
  }
}

int RunErlangB(double load, const StaffOptions& options, std::ostream& out, std::ostream& err) {
  int64_t lines = 0;
  if (options.lines) {
    if (*options.lines < 0) {
      err << fmt::format("parley staff: --lines must be >= 0, got {}\n", *options.lines);
      return 1;
    }
    lines = *options.lines;
  } else {
    Result<int64_t> sized = wfm::LinesForBlocking(load, options.target_blocking);
    if (!sized.ok()) {
      err << "parley staff: " << sized.status().message() << "\n";
      return 1;
    }
    lines = *sized;
  }
  const double blocking = wfm::ErlangB(lines, load);
  if (options.json) {
    json j = {{"model", "erlang_b"},
              {"offered_load_erlangs", load},
              {"lines", lines},
              {"blocking", blocking}};
    if (!options.lines) j["target_blocking"] = options.target_blocking;
    out << j.dump(2) << "\n";
    return 0;
  }
  out << fmt::format("Offered load: {:.3f} Erlangs (Erlang B, blocked calls lost)\n", load);
  if (options.lines) {
    out << fmt::format("Lines: {}\n", lines);
  } else {
    out << fmt::format("Lines needed: {} (target blocking {})\n", lines,
                       Percent(options.target_blocking));
  }
  out << fmt::format("Blocking: {:.4f} ({:.2f}%)\n\n     lines  blocking\n", blocking,
                     100 * blocking);
  for (int64_t n = std::max<int64_t>(0, lines - 2); n <= lines + 2; ++n) {
    out << fmt::format("  {} {:6}  {:>7.3f}%\n", n == lines ? ">" : " ", n,
                       100 * wfm::ErlangB(n, load));
  }
  return 0;
}

int RunForecast(const StaffOptions& options, std::ostream& out, std::ostream& err) {
  const std::string& path = *options.forecast_path;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    err << fmt::format("parley staff: cannot read forecast file '{}'\n", path);
    return 1;
  }
  std::stringstream text;
  text << file.rdbuf();
  Result<std::vector<wfm::ForecastInterval>> intervals = wfm::ParseForecastCsv(text.str());
  if (!intervals.ok()) {
    err << fmt::format("parley staff: {}: {}\n", path, intervals.status().message());
    return 1;
  }
  const bool abandon = options.patience_seconds.has_value();
  json rows = json::array();
  if (!options.json) {
    out << fmt::format("{:<25} {:>8} {:>6} {:>8} {:>6} {:>9} {:>7} {:>7} {:>7} {:>9}{}\n",
                       "interval_start", "contacts", "aht", "erlangs", "agents", "scheduled",
                       fmt::format("SL({:g}s)", options.target_seconds), "P(wait)", "ASA(s)",
                       "occupancy", abandon ? "  P(abandon)" : "");
  }
  for (const wfm::ForecastInterval& interval : *intervals) {
    Result<double> load =
        wfm::OfferedLoad(interval.contacts, *options.interval_seconds, interval.aht_seconds);
    Result<Plan> plan = load.ok() ? PlanInterval({.load_erlangs = *load,
                                                  .aht_seconds = interval.aht_seconds,
                                                  .patience_seconds = options.patience_seconds},
                                                 options)
                                  : Result<Plan>(load.status());
    if (!plan.ok()) {
      err << fmt::format("parley staff: {}:{}: {}\n", path, interval.line, plan.status().message());
      return 1;
    }
    if (options.json) {
      json row = {{"interval_start", interval.start},
                  {"contacts", interval.contacts},
                  {"aht_seconds", interval.aht_seconds}};
      row.update(ToJson(*plan, options));
      rows.push_back(std::move(row));
      continue;
    }
    const wfm::Performance& p = plan->chosen;
    out << fmt::format("{:<25} {:>8g} {:>6g} {:>8.3f} {:>6} {:>9} {:>7} {:>7} {:>7} {:>9}",
                       interval.start, interval.contacts, interval.aht_seconds, p.load_erlangs,
                       p.agents, plan->scheduled, Percent(p.service_level),
                       Percent(p.probability_of_waiting), Seconds(p.asa_seconds),
                       Percent(p.occupancy));
    if (abandon) out << fmt::format("  {:>10}", Percent(p.probability_of_abandon));
    out << "\n";
  }
  if (options.json) out << rows.dump(2) << "\n";
  return 0;
}

// Flag combinations and ranges that the library would otherwise reject less clearly.
Status CheckOptions(const StaffOptions& o) {
  auto positive = [](const std::optional<double>& v, const char* flag) -> Status {
    if (v && !(std::isfinite(*v) && *v > 0)) {
      return InvalidArgument(fmt::format("{} must be > 0, got {:g}", flag, *v));
    }
    return Status::Ok();
  };
  for (auto [value, flag] :
       {std::pair{&o.calls, "--calls"}, std::pair{&o.interval_seconds, "--interval-seconds"},
        std::pair{&o.aht_seconds, "--aht"}, std::pair{&o.patience_seconds, "--patience"},
        std::pair{&o.target_asa, "--target-asa"}}) {
    if (Status s = positive(*value, flag); !s.ok()) return s;
  }
  if (!o.interval_seconds) return InvalidArgument("--interval-seconds is required");
  if (o.forecast_path) {
    if (o.calls || o.aht_seconds) {
      return InvalidArgument(
          "--forecast takes contacts and AHT from the file; drop --calls and --aht");
    }
    if (o.erlang_b) return InvalidArgument("--erlang-b does not take a --forecast");
  } else {
    if (!o.calls) return InvalidArgument("--calls is required (or give --forecast FILE.csv)");
    if (!o.aht_seconds) return InvalidArgument("--aht is required");
  }
  if (o.erlang_b) {
    if (o.agents || o.patience_seconds || o.target_sl || o.target_asa || o.max_occupancy) {
      return InvalidArgument(
          "--erlang-b sizes lines: it takes --lines or --target-blocking, not agent targets, "
          "--agents or --patience");
    }
    return Status::Ok();
  }
  if (o.lines) return InvalidArgument("--lines needs --erlang-b");
  if (o.agents && *o.agents < 1) {
    return InvalidArgument(fmt::format("--agents must be >= 1, got {}", *o.agents));
  }
  if (!o.agents && !o.target_sl && !o.target_asa && !o.max_occupancy) {
    return InvalidArgument(
        "give at least one target (--target-sl, --target-asa, --max-occupancy) or --agents N");
  }
  if (!std::isfinite(o.target_seconds) || o.target_seconds < 0) {
    return InvalidArgument(
        fmt::format("--target-seconds must be >= 0, got {:g}", o.target_seconds));
  }
  if (!std::isfinite(o.shrinkage) || o.shrinkage < 0 || o.shrinkage >= 1) {
    return InvalidArgument(
        fmt::format("--shrinkage must be a fraction in [0, 1), got {:g}", o.shrinkage));
  }
  return Status::Ok();
}

}  // namespace

int RunStaff(const StaffOptions& options, std::ostream& out, std::ostream& err) {
  if (Status s = CheckOptions(options); !s.ok()) {
    err << "parley staff: " << s.message() << "\n";
    return 1;
  }
  if (options.forecast_path) return RunForecast(options, out, err);

  Result<double> load =
      wfm::OfferedLoad(*options.calls, *options.interval_seconds, *options.aht_seconds);
  if (!load.ok()) {
    err << "parley staff: " << load.status().message() << "\n";
    return 1;
  }
  if (options.erlang_b) return RunErlangB(*load, options, out, err);

  Result<Plan> plan = PlanInterval({.load_erlangs = *load,
                                    .aht_seconds = *options.aht_seconds,
                                    .patience_seconds = options.patience_seconds},
                                   options);
  if (!plan.ok()) {
    err << "parley staff: " << plan.status().message() << "\n";
    return 1;
  }
  if (options.json) {
    out << ToJson(*plan, options).dump(2) << "\n";
  } else {
    PrintSingle(*plan, options, out);
  }
  return 0;
}

}  // namespace parley::app
