#include "app/simulate.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "sim/scenario.h"
#include "sim/simulator.h"

namespace parley::app {
namespace {

using sim::KpiRow;
using sim::Metric;

// Prints each routing decision with the ACD's explanation, and each failure as it happens.
class Narrator final : public sim::RunListener {
 public:
  explicit Narrator(std::ostream& out, TimePoint start) : out_(out), start_(start) {}
  void OnEvent(const Event& e, const Acd& acd, std::string_view contact) override {
    const std::string t = fmt::format("[{:>8.1f}s] ", ToSeconds(e.time - start_));
    switch (e.type) {
      case EventType::kContactQueued:
        out_ << t << contact << " queued in " << acd.QueueName(e.queue) << "\n";
        break;
      case EventType::kContactOffered: {
        out_ << t << contact << " offered to " << acd.AgentName(e.agent) << "\n";
        if (const Explanation* x = acd.LastOfferExplanation(e.contact)) {
          out_ << FormatExplanation(*x) << "\n";
        }
        break;
      }
      case EventType::kOfferAccepted:
      case EventType::kOfferRejected:
      case EventType::kOfferTimedOut:
        out_ << t << contact << " " << EventTypeName(e.type) << " by " << acd.AgentName(e.agent)
             << "\n";
        break;
      case EventType::kContactAbandoned:
      case EventType::kContactEscalated:
      case EventType::kContactOverflowed:
      case EventType::kContactTimedOut:
      case EventType::kContactTransferred:
        out_ << t << contact << " " << EventTypeName(e.type) << "\n";
        break;
      case EventType::kPresenceChanged:
        out_ << t << acd.AgentName(e.agent) << " is "
             << PresenceName(static_cast<Presence>(e.value))
             << (e.text.empty() ? "" : " (" + e.text + ")") << "\n";
        break;
      default:
        break;
    }
  }
  void OnStep(const sim::Step&) override {}
  void OnFailure(const sim::Failure& f) override { out_ << "FAILED " << f.ToString() << "\n"; }

 private:
  std::ostream& out_;
  TimePoint start_;
};

std::string Format(Metric m, std::optional<double> v) {
  if (!v) return "-";
  const auto& info = sim::InfoOf(m);
  if (info.ratio) return fmt::format("{:.3f}", *v);
  if (info.duration) return fmt::format("{:.1f}", *v);
  if (std::floor(*v) == *v) return fmt::format("{:.0f}", *v);
  return fmt::format("{:.1f}", *v);
}

// One labelled row over replications: per metric, the values of every replication that has one.
struct Row {
  std::string scope;
  std::array<std::vector<double>, sim::kMetricCount> samples;
  void Add(const KpiRow& r) {
    for (int m = 0; m < sim::kMetricCount; ++m) {
      if (r.values[m]) samples[m].push_back(*r.values[m]);
    }
  }
  sim::Estimate Get(int m) const { return sim::Summarise(samples[m]); }
};

std::vector<Row> Rows(const sim::Scenario& s, const std::vector<sim::RunResult>& runs,
                      bool intervals) {
  std::vector<Row> rows;
  rows.push_back({"overall", {}});
  for (const auto& r : runs) rows.back().Add(r.overall);
  const RoutingConfig& rc = s.config->routing;
  for (QueueIndex q = 0; q < rc.queues.size(); ++q) {
    rows.push_back({"queue " + rc.queues[q].name, {}});
    for (const auto& r : runs) rows.back().Add(r.queues[q]);
  }
  for (int c = 0; c < kChannelCount; ++c) {
    Row row{"channel " + std::string(ChannelName(static_cast<Channel>(c))), {}};
    bool any = false;
    for (const auto& r : runs) {
      row.Add(r.channels[c]);
      any |= r.channels[c][Metric::kOffered].value_or(0) > 0;
    }
    if (any) rows.push_back(std::move(row));
  }
  if (intervals && !runs.empty()) {
    for (size_t i = 0; i < runs.front().intervals.size(); ++i) {
      const TimePoint start = runs.front().intervals[i].start;
      Row row{fmt::format("interval +{:.0f}m", ToSeconds(start - s.start) / 60), {}};
      for (const auto& r : runs) {
        if (i < r.intervals.size()) row.Add(r.intervals[i].overall);
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

void PrintTable(const std::vector<Row>& rows, int reps, std::ostream& out) {
  // The first column fits the longest scope (a sweep's "queues.billing.strategy=round-robin").
  size_t width = 22;
  for (const Row& r : rows) width = std::max(width, r.scope.size());
  std::string head = fmt::format("{:<{}}", "", width);
  for (int m = 0; m < sim::kMetricCount; ++m) {
    head += fmt::format(" {:>{}}", sim::InfoOf(static_cast<Metric>(m)).heading, reps > 1 ? 15 : 9);
  }
  out << head << "\n";
  for (const Row& r : rows) {
    std::string line = fmt::format("{:<{}}", r.scope, width);
    for (int m = 0; m < sim::kMetricCount; ++m) {
      const sim::Estimate e = r.Get(m);
      const auto metric = static_cast<Metric>(m);
      if (reps > 1) {
        const std::string cell =
            e.n == 0 ? "-" : Format(metric, e.mean) + "±" + Format(metric, e.half_width);
        line += fmt::format(" {:>15}", cell);
      } else {
        line +=
            fmt::format(" {:>9}", e.n == 0 ? "-" : Format(metric, std::optional<double>(e.mean)));
      }
    }
    out << line << "\n";
  }
}

nlohmann::json RowJson(const Row& r, int reps) {
  nlohmann::json j = nlohmann::json::object();
  for (int m = 0; m < sim::kMetricCount; ++m) {
    const sim::Estimate e = r.Get(m);
    const char* name = sim::InfoOf(static_cast<Metric>(m)).name;
    if (e.n == 0) {
      j[name] = nullptr;
    } else if (reps > 1) {
      j[name] = {{"mean", e.mean}, {"ci95", e.half_width}, {"n", e.n}};
    } else {
      j[name] = e.mean;
    }
  }
  return j;
}

std::string CsvHeader(int reps, const std::string& first) {
  std::string h = first;
  for (int m = 0; m < sim::kMetricCount; ++m) {
    const char* name = sim::InfoOf(static_cast<Metric>(m)).name;
    h += std::string(",") + name;
    if (reps > 1) h += std::string(",") + name + "_ci95";
  }
  return h;
}
std::string CsvRow(const Row& r, int reps, const std::string& first) {
  std::string line = first;
  for (int m = 0; m < sim::kMetricCount; ++m) {
    const sim::Estimate e = r.Get(m);
    line += e.n == 0 ? "," : fmt::format(",{:.6g}", e.mean);
    if (reps > 1) line += e.n == 0 ? "," : fmt::format(",{:.6g}", e.half_width);
  }
  return line;
}

// Draws a progress bar on stderr when it is a terminal and the run has taken over a second.
class Progress {
 public:
  explicit Progress(bool show)
      : tty_(show && isatty(2) != 0), begin_(std::chrono::steady_clock::now()) {}
  ~Progress() {
    if (shown_) std::cerr << "\r" << std::string(60, ' ') << "\r" << std::flush;
  }
  void Update(int rep, int reps, double fraction) {
    if (!tty_) return;
    if (std::chrono::steady_clock::now() - begin_ < std::chrono::seconds(1)) return;
    shown_ = true;
    const double total = (rep + fraction) / reps;
    const int filled = static_cast<int>(total * 40);
    std::cerr << "\r[" << std::string(filled, '#') << std::string(40 - filled, ' ') << "] "
              << fmt::format("{:3.0f}%", total * 100) << std::flush;
  }

 private:
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point begin_;
};

// ---- the IVR section: flow KPIs (docs/metrics.md, "Contact flows") over replications ----

struct FlowMetricInfo {
  const char* name;  // as in --json, --csv and `expect:`
  const char* heading;
  int kind;  // 0 count, 1 ratio, 2 seconds, 3 score
};
constexpr FlowMetricInfo kFlowMetrics[] = {
    {"entered", "entered", 0},
    {"contained", "contained", 0},
    {"containment_rate", "contain%", 1},
    {"abandoned_in_ivr", "aband.ivr", 0},
    {"abandoned_in_queue", "aband.q", 0},
    {"queued", "queued", 0},
    {"connected", "connected", 0},
    {"callback", "callback", 0},
    {"voicemail", "voicemail", 0},
    {"average_ivr_time", "ivr time", 2},
    {"csat", "CSAT", 1},
    {"csat_mean", "CSAT avg", 3},
    {"nps", "NPS", 3},
};
constexpr FlowMetricInfo kStepMetrics[] = {
    {"entered", "entered", 0},
    {"abandoned", "abandoned", 0},
    {"drop_off", "drop-off", 1},
};

std::string FormatFlow(int kind, double v) {
  switch (kind) {
    case 1:
      return fmt::format("{:.3f}", v);
    case 2:
    case 3:
      return fmt::format("{:.1f}", v);
    default:
      return std::floor(v) == v ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
  }
}

// One flow or step figure over replications.
struct FlowCell {
  std::string name;
  int kind = 0;
  sim::Estimate e;
};
struct FlowRows {
  std::string flow;
  std::vector<FlowCell> cells;
  struct StepRow {
    std::string step, type;
    std::vector<FlowCell> cells;
    std::vector<FlowCell> shares;  // exit shares, "share_<exit>"
  };
  std::vector<StepRow> steps;
};

FlowCell Cell(const std::vector<sim::RunResult>& runs, sim::KpiBound b, const FlowMetricInfo& m) {
  b.metric_name = m.name;
  std::vector<double> v;
  for (const auto& r : runs) {
    if (auto x = sim::FlowBoundValue(r.flows, b)) v.push_back(*x);
  }
  return {m.name, m.kind, sim::Summarise(v)};
}

std::vector<FlowRows> IvrRows(const std::vector<sim::RunResult>& runs) {
  std::vector<FlowRows> out;
  std::vector<std::string> flows;
  std::vector<std::pair<std::string, std::string>> steps;  // (flow, step), first-seen order
  for (const auto& r : runs) {
    for (const auto& f : r.flows.flows) {
      if (std::find(flows.begin(), flows.end(), f.flow) == flows.end()) flows.push_back(f.flow);
    }
    for (const auto& st : r.flows.steps) {
      const auto key = std::make_pair(st.flow, st.step);
      if (std::find(steps.begin(), steps.end(), key) == steps.end()) steps.push_back(key);
    }
  }
  // Steps of sub-flows no contact entered first are listed under their own flow too.
  for (const auto& [flow, step] : steps) {
    if (std::find(flows.begin(), flows.end(), flow) == flows.end()) flows.push_back(flow);
  }
  for (const std::string& flow : flows) {
    FlowRows fr;
    fr.flow = flow;
    sim::KpiBound b;
    b.scope = sim::KpiBound::Scope::kFlow;
    b.flow = flow;
    for (const auto& m : kFlowMetrics) fr.cells.push_back(Cell(runs, b, m));
    for (const auto& [f, step] : steps) {
      if (f != flow) continue;
      FlowRows::StepRow sr;
      sr.step = step;
      b.step = step;
      std::vector<std::string> exits;
      for (const auto& r : runs) {
        if (const FlowStepStats* st = r.flows.FindStep(flow, step)) {
          sr.type = st->type;
          for (const auto& [name, n] : st->exits) {
            if (std::find(exits.begin(), exits.end(), name) == exits.end()) exits.push_back(name);
          }
        }
      }
      for (const auto& m : kStepMetrics) sr.cells.push_back(Cell(runs, b, m));
      if (sr.type == "menu") {
        for (const auto& exit : exits) {
          const std::string name = "share_" + exit;
          FlowCell c = Cell(runs, b, FlowMetricInfo{name.c_str(), "", 1});
          c.name = exit;
          sr.shares.push_back(std::move(c));
        }
      }
      fr.steps.push_back(std::move(sr));
    }
    out.push_back(std::move(fr));
  }
  return out;
}

std::string ShowCell(const FlowCell& c, int reps) {
  if (c.e.n == 0) return "-";
  if (reps > 1) return FormatFlow(c.kind, c.e.mean) + "±" + FormatFlow(c.kind, c.e.half_width);
  return FormatFlow(c.kind, c.e.mean);
}

void PrintIvr(const std::vector<FlowRows>& rows, int reps, std::ostream& out) {
  if (rows.empty()) return;
  const int w = reps > 1 ? 15 : 10;
  out << "\nIVR\n";
  std::string head = fmt::format("{:<22}", "");
  for (const auto& m : kFlowMetrics) head += fmt::format(" {:>{}}", m.heading, w);
  out << head << "\n";
  for (const FlowRows& f : rows) {
    // Sub-flows nobody entered first are only called: their steps are listed below.
    if (f.cells.front().e.n > 0 && f.cells.front().e.mean == 0) continue;
    std::string line = fmt::format("{:<22}", "flow " + f.flow);
    for (const FlowCell& c : f.cells) line += fmt::format(" {:>{}}", ShowCell(c, reps), w);
    out << line << "\n";
  }
  for (const FlowRows& f : rows) {
    for (const auto& st : f.steps) {
      std::string line = fmt::format("  {}/{} ({}):", f.flow, st.step, st.type);
      for (const FlowCell& c : st.cells) line += " " + c.name + " " + ShowCell(c, reps);
      if (!st.shares.empty()) {
        line += "; choices";
        for (const FlowCell& c : st.shares) line += " " + c.name + "=" + ShowCell(c, reps);
      }
      out << line << "\n";
    }
  }
}

nlohmann::json CellJson(const FlowCell& c, int reps) {
  if (c.e.n == 0) return nullptr;
  if (reps > 1) return {{"mean", c.e.mean}, {"ci95", c.e.half_width}, {"n", c.e.n}};
  return c.e.mean;
}

nlohmann::json IvrJson(const std::vector<FlowRows>& rows, int reps) {
  nlohmann::json flows = nlohmann::json::object();
  for (const FlowRows& f : rows) {
    nlohmann::json j = nlohmann::json::object();
    for (const FlowCell& c : f.cells) j[c.name] = CellJson(c, reps);
    nlohmann::json steps = nlohmann::json::object();
    for (const auto& st : f.steps) {
      nlohmann::json sj = {{"type", st.type}};
      for (const FlowCell& c : st.cells) sj[c.name] = CellJson(c, reps);
      if (!st.shares.empty()) {
        nlohmann::json shares = nlohmann::json::object();
        for (const FlowCell& c : st.shares) shares[c.name] = CellJson(c, reps);
        sj["choices"] = shares;
      }
      steps[st.step] = sj;
    }
    j["steps"] = steps;
    flows[f.flow] = j;
  }
  return flows;
}

// Long format: one line per figure, after the KPI table and a blank line.
void PrintIvrCsv(const std::vector<FlowRows>& rows, int reps, std::ostream& out) {
  if (rows.empty()) return;
  out << "\nflow,step,metric,value" << (reps > 1 ? ",ci95" : "") << "\n";
  const auto line = [&](const std::string& flow, const std::string& step, const std::string& name,
                        const FlowCell& c) {
    out << flow << "," << step << "," << name << ",";
    if (c.e.n > 0) out << fmt::format("{:.6g}", c.e.mean);
    if (reps > 1) {
      out << ",";
      if (c.e.n > 0) out << fmt::format("{:.6g}", c.e.half_width);
    }
    out << "\n";
  };
  for (const FlowRows& f : rows) {
    for (const FlowCell& c : f.cells) line(f.flow, "", c.name, c);
    for (const auto& st : f.steps) {
      for (const FlowCell& c : st.cells) line(f.flow, st.step, c.name, c);
      for (const FlowCell& c : st.shares) line(f.flow, st.step, "share_" + c.name, c);
    }
  }
}

struct Outcome {
  sim::Scenario scenario;
  std::vector<sim::RunResult> runs;
  std::vector<std::string> failures;
};

// Loads with `overrides` and runs every replication; nullopt after printing load errors.
std::optional<Outcome> LoadAndRun(const SimulateOptions& o,
                                  const std::vector<config::Override>& overrides, std::ostream& out,
                                  std::ostream& err, Progress* progress, bool* stopped) {
  std::vector<config::ConfigError> errors;
  sim::LoadOptions lo{overrides};
  lo.allow_files = !o.text.has_value();
  auto loaded = o.text ? sim::ParseScenarioText(*o.text, o.path, lo, &errors)
                       : sim::LoadScenario(o.path, lo, &errors);
  if (!loaded.ok()) {
    for (const auto& e : errors) err << e.ToString() << "\n";
    if (errors.empty()) err << o.path << ": " << loaded.status().message() << "\n";
    return std::nullopt;
  }
  Outcome oc{std::move(*loaded), {}, {}};
  const uint64_t seed = o.seed.value_or(oc.scenario.seed);
  Narrator narrator(out, oc.scenario.start);
  std::set<std::string> seen;
  for (int i = 0; i < o.replications; ++i) {
    sim::RunOptions ro;
    ro.seed = seed + static_cast<uint64_t>(i);
    ro.explain = o.explain;
    if (o.explain && i == 0) ro.listener = &narrator;
    ro.progress = [&, i](double f) { progress->Update(i, o.replications, f); };
    ro.should_stop = o.should_stop;
    auto r = sim::Run(oc.scenario, ro);
    if (!r.ok() && o.should_stop && o.should_stop()) {
      err << o.path << ": stopped\n";
      *stopped = true;
      return std::nullopt;
    }
    if (!r.ok()) {
      err << o.path << ": " << r.status().message() << "\n";
      return std::nullopt;
    }
    for (const auto& f : r->failures) {
      if (seen.insert(f.ToString()).second) oc.failures.push_back(f.ToString());
    }
    oc.runs.push_back(std::move(*r));
  }
  const auto mean = [&](const sim::KpiBound& b) -> std::optional<double> {
    std::vector<double> v;
    for (const auto& r : oc.runs) {
      if (auto x = sim::BoundValue(r, b)) v.push_back(*x);
    }
    if (v.empty()) return std::nullopt;
    return sim::Summarise(v).mean;
  };
  for (const auto& f : sim::CheckBounds(oc.scenario, mean)) oc.failures.push_back(f.ToString());
  return oc;
}

std::optional<config::Override> SplitSet(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return config::Override{text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace

int RunSimulate(const SimulateOptions& o, std::ostream& out, std::ostream& err) {
  if (o.replications < 1) {
    err << "--replications must be >= 1\n";
    return 2;
  }
  std::vector<config::Override> overrides;
  for (const auto& s : o.sets) {
    auto ov = SplitSet(s);
    if (!ov) {
      err << "--set '" << s << "': expected PATH=VALUE\n";
      return 2;
    }
    overrides.push_back(*ov);
  }
  const int reps = o.replications;
  Progress progress(o.show_progress);
  bool stopped = false;

  if (o.sweep) {
    auto ov = SplitSet(*o.sweep);
    double from = 0, to = 0, step = 0;
    char extra = 0;
    if (!ov || std::sscanf(ov->value.c_str(), "%lf:%lf:%lf%c", &from, &to, &step, &extra) != 3 ||
        step <= 0 || to < from) {
      err << "--sweep '" << *o.sweep << "': expected PATH=FROM:TO:STEP with FROM <= TO, STEP > 0\n";
      return 2;
    }
    std::vector<std::pair<std::string, Outcome>> results;
    const double points = std::floor((to - from) / step + 1e-9) + 1;
    if (o.max_sweep_points > 0 && points > o.max_sweep_points) {
      err << "--sweep '" << *o.sweep << "': " << points << " values, at most " << o.max_sweep_points
          << " here\n";
      return 2;
    }
    for (int k = 0;; ++k) {
      const double v = from + k * step;
      if (v > to + step * 1e-9) break;
      const std::string text = fmt::format("{:g}", v);
      auto all = overrides;
      all.push_back({ov->path, text});
      auto oc = LoadAndRun(o, all, out, err, &progress, &stopped);
      if (!oc) return stopped ? 3 : 2;
      results.emplace_back(text, std::move(*oc));
    }
    bool failed = false;
    nlohmann::json runs = nlohmann::json::array();
    if (o.csv) out << CsvHeader(reps, ov->path) << "\n";
    if (!o.csv && !o.json) {
      std::vector<Row> rows;
      for (auto& [value, oc] : results) {
        auto r = Rows(oc.scenario, oc.runs, false);
        r.front().scope = ov->path + "=" + value;
        rows.push_back(r.front());
      }
      PrintTable(rows, reps, out);
    }
    for (auto& [value, oc] : results) {
      auto rows = Rows(oc.scenario, oc.runs, false);
      if (o.csv) out << CsvRow(rows.front(), reps, value) << "\n";
      if (o.json) {
        nlohmann::json run = {
            {"value", value}, {"overall", RowJson(rows.front(), reps)}, {"failures", oc.failures}};
        if (oc.scenario.flows) run["ivr"] = IvrJson(IvrRows(oc.runs), reps);
        runs.push_back(std::move(run));
      }
      for (const auto& f : oc.failures) err << "[" << ov->path << "=" << value << "] " << f << "\n";
      failed |= !oc.failures.empty();
    }
    if (o.json) {
      out << nlohmann::json{{"sweep", ov->path}, {"replications", reps}, {"runs", runs}}.dump(2)
          << "\n";
    }
    return failed ? 1 : 0;
  }

  auto oc = LoadAndRun(o, overrides, out, err, &progress, &stopped);
  if (!oc) return stopped ? 3 : 2;
  const sim::Scenario& s = oc->scenario;
  const auto rows = Rows(s, oc->runs, true);
  uint64_t contacts = 0, events = 0;
  for (const auto& r : oc->runs) {
    contacts += r.contacts;
    events += r.events;
  }
  if (o.json) {
    nlohmann::json j;
    j["scenario"] = s.name.empty() ? o.path : s.name;
    j["seed"] = o.seed.value_or(s.seed);
    j["replications"] = reps;
    j["contacts"] = contacts;
    j["events"] = events;
    nlohmann::json queues = nlohmann::json::object(), channels = nlohmann::json::object();
    nlohmann::json intervals = nlohmann::json::array();
    for (const Row& r : rows) {
      if (r.scope == "overall") {
        j["overall"] = RowJson(r, reps);
      } else if (r.scope.rfind("queue ", 0) == 0) {
        queues[r.scope.substr(6)] = RowJson(r, reps);
      } else if (r.scope.rfind("channel ", 0) == 0) {
        channels[r.scope.substr(8)] = RowJson(r, reps);
      }
    }
    const RoutingConfig& rc = s.config->routing;
    const auto& first = oc->runs.front();
    for (size_t i = 0; i < first.intervals.size(); ++i) {
      Row overall{"", {}};
      std::vector<Row> per_queue(rc.queues.size());
      for (const auto& r : oc->runs) {
        if (i >= r.intervals.size()) continue;
        overall.Add(r.intervals[i].overall);
        for (size_t q = 0; q < per_queue.size(); ++q) per_queue[q].Add(r.intervals[i].queues[q]);
      }
      nlohmann::json qj = nlohmann::json::object();
      for (size_t q = 0; q < per_queue.size(); ++q)
        qj[rc.queues[q].name] = RowJson(per_queue[q], reps);
      intervals.push_back({{"start_seconds", ToSeconds(first.intervals[i].start - s.start)},
                           {"overall", RowJson(overall, reps)},
                           {"queues", qj}});
    }
    j["queues"] = queues;
    j["channels"] = channels;
    j["intervals"] = intervals;
    if (s.flows) j["ivr"] = IvrJson(IvrRows(oc->runs), reps);
    j["failures"] = oc->failures;
    out << j.dump(2) << "\n";
  } else if (o.csv) {
    out << CsvHeader(reps, "scope") << "\n";
    for (const Row& r : rows) out << CsvRow(r, reps, r.scope) << "\n";
    if (s.flows) PrintIvrCsv(IvrRows(oc->runs), reps, out);
  } else {
    out << fmt::format("{} — seed {}, {} replication(s), {} contacts, {} events\n",
                       s.name.empty() ? o.path : s.name, o.seed.value_or(s.seed), reps, contacts,
                       events);
    PrintTable(rows, reps, out);
    if (s.flows) PrintIvr(IvrRows(oc->runs), reps, out);
  }
  for (const auto& f : oc->failures) err << f << "\n";
  if (!oc->failures.empty()) {
    err << oc->failures.size() << " expectation(s) failed\n";
    return 1;
  }
  return 0;
}

}  // namespace parley::app
