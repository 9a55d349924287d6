#include "app/staff.h"

#include <fmt/format.h>

#include <algorithm>
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

// A flag as the user gave it: "--target-sl" on the command line, "target_sl" in the API.
std::string Flag(const StaffOptions& o, std::string_view flag) {
  if (!o.api_names) return std::string(flag);
  std::string field(flag.substr(2));
  std::replace(field.begin(), field.end(), '-', '_');
  return field;
}

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

// The lines to report under Erlang B: the given number, or the fewest meeting the target.
Result<int64_t> ErlangBLines(double load, const StaffOptions& options) {
  if (options.lines) {
    if (*options.lines < 0) {
      return InvalidArgument(
          fmt::format("{} must be >= 0, got {}", Flag(options, "--lines"), *options.lines));
    }
    return *options.lines;
  }
  return wfm::LinesForBlocking(load, options.target_blocking);
}

json ErlangBJson(double load, int64_t lines, const StaffOptions& options) {
  json j = {{"model", "erlang_b"},
            {"offered_load_erlangs", load},
            {"lines", lines},
            {"blocking", wfm::ErlangB(lines, load)}};
  if (!options.lines) j["target_blocking"] = options.target_blocking;
  return j;
}

int RunErlangB(double load, const StaffOptions& options, std::ostream& out, std::ostream& err) {
  Result<int64_t> sized = ErlangBLines(load, options);
  if (!sized.ok()) {
    err << "parley staff: " << sized.status().message() << "\n";
    return 1;
  }
  const int64_t lines = *sized;
  const double blocking = wfm::ErlangB(lines, load);
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

// The forecast's intervals, from forecast_csv or the file; errors say where (path or field).
Result<std::vector<wfm::ForecastInterval>> ReadForecast(const StaffOptions& options) {
  const std::string where = options.api_names ? "forecast" : *options.forecast_path;
  std::string text;
  if (options.forecast_csv) {
    text = *options.forecast_csv;
  } else {
    std::ifstream file(*options.forecast_path, std::ios::binary);
    if (!file) return InvalidArgument(fmt::format("cannot read forecast file '{}'", where));
    std::stringstream content;
    content << file.rdbuf();
    text = content.str();
  }
  Result<std::vector<wfm::ForecastInterval>> intervals = wfm::ParseForecastCsv(text);
  if (!intervals.ok()) {
    return InvalidArgument(fmt::format("{}: {}", where, intervals.status().message()));
  }
  if (options.api_names && intervals->size() > kMaxApiIntervals) {
    return InvalidArgument(fmt::format("forecast has {} intervals; at most {} are planned at once",
                                       intervals->size(), kMaxApiIntervals));
  }
  return intervals;
}

// The offered load of one interval, within the API's bound when it applies.
Result<double> Load(double contacts, double aht_seconds, const StaffOptions& options) {
  Result<double> load = wfm::OfferedLoad(contacts, *options.interval_seconds, aht_seconds);
  if (load.ok() && options.api_names && *load > kMaxApiErlangs) {
    return InvalidArgument(fmt::format(
        "calls x aht / interval_seconds is {:g} Erlangs; at most {:g} are planned here (use "
        "`parley staff` for more)",
        *load, kMaxApiErlangs));
  }
  return load;
}

// One forecast interval planned, or the error at its line.
Result<Plan> PlanForecastInterval(const wfm::ForecastInterval& interval,
                                  const StaffOptions& options) {
  Result<double> load = Load(interval.contacts, interval.aht_seconds, options);
  Result<Plan> plan = load.ok() ? PlanInterval({.load_erlangs = *load,
                                                .aht_seconds = interval.aht_seconds,
                                                .patience_seconds = options.patience_seconds},
                                               options)
                                : Result<Plan>(load.status());
  if (plan.ok()) return plan;
  return InvalidArgument(fmt::format("{}:{}: {}",
                                     options.api_names ? "forecast" : *options.forecast_path,
                                     interval.line, plan.status().message()));
}

int RunForecast(const StaffOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::vector<wfm::ForecastInterval>> intervals = ReadForecast(options);
  if (!intervals.ok()) {
    err << "parley staff: " << intervals.status().message() << "\n";
    return 1;
  }
  const bool abandon = options.patience_seconds.has_value();
  out << fmt::format("{:<25} {:>8} {:>6} {:>8} {:>6} {:>9} {:>7} {:>7} {:>7} {:>9}{}\n",
                     "interval_start", "contacts", "aht", "erlangs", "agents", "scheduled",
                     fmt::format("SL({:g}s)", options.target_seconds), "P(wait)", "ASA(s)",
                     "occupancy", abandon ? "  P(abandon)" : "");
  for (const wfm::ForecastInterval& interval : *intervals) {
    Result<Plan> plan = PlanForecastInterval(interval, options);
    if (!plan.ok()) {
      err << "parley staff: " << plan.status().message() << "\n";
      return 1;
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
  return 0;
}

// The performance of the staffings around the chosen one (the API's "table").
json NeighbourTable(const Plan& plan, const StaffOptions& options) {
  json rows = json::array();
  const int64_t lowest = plan.workload.patience_seconds ? 1 : 0;
  const int64_t n = plan.chosen.agents;
  for (int64_t a = std::max(lowest, n - options.table_neighbours);
       a <= n + options.table_neighbours; ++a) {
    Result<wfm::Performance> row = wfm::Evaluate(plan.workload, a, options.target_seconds);
    if (!row.ok()) continue;  // Erlang A with far too few agents: nothing useful to show
    json j = {{"agents", a},
              {"service_level", row->service_level},
              {"probability_of_waiting", row->probability_of_waiting},
              {"asa_seconds", Number(row->asa_seconds)},
              {"occupancy", row->occupancy},
              {"stable", row->stable}};
    if (plan.workload.patience_seconds) j["probability_of_abandon"] = row->probability_of_abandon;
    rows.push_back(std::move(j));
  }
  return rows;
}

// Flag combinations and ranges that the library would otherwise reject less clearly.
Status CheckOptions(const StaffOptions& o) {
  auto flag = [&o](std::string_view f) { return Flag(o, f); };
  auto positive = [&flag](const std::optional<double>& v, const char* name) -> Status {
    if (v && !(std::isfinite(*v) && *v > 0)) {
      return InvalidArgument(fmt::format("{} must be > 0, got {:g}", flag(name), *v));
    }
    return Status::Ok();
  };
  auto fraction = [&flag](const std::optional<double>& v, const char* name, bool one_allowed) {
    if (v && !(std::isfinite(*v) && *v > 0 && (one_allowed ? *v <= 1 : *v < 1))) {
      return InvalidArgument(fmt::format("{} must be a fraction in (0, 1{}, got {:g}", flag(name),
                                         one_allowed ? "]" : ")", *v));
    }
    return Status::Ok();
  };
  for (auto [value, name] :
       {std::pair{&o.calls, "--calls"}, std::pair{&o.interval_seconds, "--interval-seconds"},
        std::pair{&o.aht_seconds, "--aht"}, std::pair{&o.patience_seconds, "--patience"},
        std::pair{&o.target_asa, "--target-asa"}}) {
    if (Status s = positive(*value, name); !s.ok()) return s;
  }
  // A service level of 1 is left to wfm, which explains why it cannot be met.
  if (Status s = fraction(o.target_sl, "--target-sl", true); !s.ok()) return s;
  if (Status s = fraction(o.max_occupancy, "--max-occupancy", true); !s.ok()) return s;
  if (!o.interval_seconds) {
    return InvalidArgument(fmt::format("{} is required", flag("--interval-seconds")));
  }
  if (o.forecast_path || o.forecast_csv) {
    if (o.calls || o.aht_seconds) {
      return InvalidArgument(fmt::format("{} takes contacts and AHT from the {}; drop {} and {}",
                                         flag("--forecast"), o.api_names ? "table" : "file",
                                         flag("--calls"), flag("--aht")));
    }
    if (o.erlang_b) {
      return InvalidArgument(
          fmt::format("{} does not take a {}", flag("--erlang-b"), flag("--forecast")));
    }
  } else {
    if (!o.calls) {
      return InvalidArgument(fmt::format("{} is required (or give {})", flag("--calls"),
                                         o.api_names ? "a forecast" : "--forecast FILE.csv"));
    }
    if (!o.aht_seconds) return InvalidArgument(fmt::format("{} is required", flag("--aht")));
  }
  if (o.erlang_b) {
    if (o.agents || o.patience_seconds || o.target_sl || o.target_asa || o.max_occupancy) {
      return InvalidArgument(fmt::format(
          "{} sizes lines: it takes {} or {}, not agent targets, {} or {}", flag("--erlang-b"),
          flag("--lines"), flag("--target-blocking"), flag("--agents"), flag("--patience")));
    }
    if (!o.lines) {
      const std::optional<double> blocking = o.target_blocking;
      if (Status s = fraction(blocking, "--target-blocking", false); !s.ok()) return s;
    }
    return Status::Ok();
  }
  if (o.lines)
    return InvalidArgument(fmt::format("{} needs {}", flag("--lines"), flag("--erlang-b")));
  if (o.agents && *o.agents < 1) {
    return InvalidArgument(fmt::format("{} must be >= 1, got {}", flag("--agents"), *o.agents));
  }
  if (!o.agents && !o.target_sl && !o.target_asa && !o.max_occupancy) {
    return InvalidArgument(fmt::format(
        "give at least one target ({}, {}, {}) or {}", flag("--target-sl"), flag("--target-asa"),
        flag("--max-occupancy"), o.api_names ? "agents" : "--agents N"));
  }
  if (!std::isfinite(o.target_seconds) || o.target_seconds < 0) {
    return InvalidArgument(
        fmt::format("{} must be >= 0, got {:g}", flag("--target-seconds"), o.target_seconds));
  }
  if (!std::isfinite(o.shrinkage) || o.shrinkage < 0 || o.shrinkage >= 1) {
    return InvalidArgument(
        fmt::format("{} must be a fraction in [0, 1), got {:g}", flag("--shrinkage"), o.shrinkage));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> StaffJson(const StaffOptions& options) {
  if (Status s = CheckOptions(options); !s.ok()) return s;
  if (options.forecast_path || options.forecast_csv) {
    Result<std::vector<wfm::ForecastInterval>> intervals = ReadForecast(options);
    if (!intervals.ok()) return intervals.status();
    json rows = json::array();
    for (const wfm::ForecastInterval& interval : *intervals) {
      Result<Plan> plan = PlanForecastInterval(interval, options);
      if (!plan.ok()) return plan.status();
      json row = {{"interval_start", interval.start},
                  {"contacts", interval.contacts},
                  {"aht_seconds", interval.aht_seconds}};
      row.update(ToJson(*plan, options));
      rows.push_back(std::move(row));
    }
    return rows.dump(2);
  }
  Result<double> load = Load(*options.calls, *options.aht_seconds, options);
  if (!load.ok()) return load.status();
  if (options.erlang_b) {
    if (options.api_names && options.lines && *options.lines > 100 * *load + 1000) {
      return InvalidArgument(fmt::format("lines must be at most 100 x load + 1000 ({:g}), got {}",
                                         100 * *load + 1000, *options.lines));
    }
    Result<int64_t> lines = ErlangBLines(*load, options);
    if (!lines.ok()) return lines.status();
    return ErlangBJson(*load, *lines, options).dump(2);
  }
  if (options.api_names && options.agents && *options.agents > 100 * *load + 1000) {
    return InvalidArgument(fmt::format("agents must be at most 100 x load + 1000 ({:g}), got {}",
                                       100 * *load + 1000, *options.agents));
  }
  Result<Plan> plan = PlanInterval({.load_erlangs = *load,
                                    .aht_seconds = *options.aht_seconds,
                                    .patience_seconds = options.patience_seconds},
                                   options);
  if (!plan.ok()) return plan.status();
  json j = ToJson(*plan, options);
  if (options.table_neighbours > 0) j["table"] = NeighbourTable(*plan, options);
  return j.dump(2);
}

int RunStaff(const StaffOptions& options, std::ostream& out, std::ostream& err) {
  if (options.json) {
    Result<std::string> text = StaffJson(options);
    if (!text.ok()) {
      err << "parley staff: " << text.status().message() << "\n";
      return 1;
    }
    out << *text << "\n";
    return 0;
  }
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
  PrintSingle(*plan, options, out);
  return 0;
}

}  // namespace parley::app
