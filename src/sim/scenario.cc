#include "sim/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "traffic/arrivals.h"

namespace parley::sim {
namespace {

using config::ConfigError;
using config::YamlReader;

constexpr std::array<MetricInfo, kMetricCount> kMetrics = {{
    {"offered", "offered", false, false},
    {"answered", "answered", false, false},
    {"abandoned", "abandoned", false, false},
    {"timed_out", "timed_out", false, false},
    {"overflowed", "overflowed", false, false},
    {"handled", "handled", false, false},
    {"service_level", "SL", false, true},
    {"abandon_rate", "aband%", false, true},
    {"asa", "ASA", true, false},
    {"average_wait", "avg_wait", true, false},
    {"wait_p90", "p90_wait", true, false},
    {"longest_wait", "max_wait", true, false},
    {"aht", "AHT", true, false},
    {"occupancy", "occ", false, true},
    {"utilisation", "util", false, true},
    {"transfer_rate", "xfer%", false, true},
    {"max_queue", "max_q", false, false},
}};

constexpr std::array<std::string_view, 7> kAgentMetricNames = {
    "offers", "accepted", "rejected", "offer_timeouts", "handled", "occupancy", "utilisation"};

const std::vector<std::string_view> kScenarioKeys = {"scenario", "groups", "timeline", "traffic",
                                                     "expect"};

std::optional<Presence> ParsePresence(std::string_view s) {
  if (s == "available") return Presence::kAvailable;
  if (s == "not-ready" || s == "not_ready" || s == "notready") return Presence::kNotReady;
  if (s == "offline") return Presence::kOffline;
  return std::nullopt;
}

Where At(const YamlReader& r, const YAML::Node& n) {
  const config::Position p = config::PositionOf(n);
  return Where{r.file(), p.line, p.column};
}

std::string Shown(const YAML::Node& n) {
  return n.IsScalar() ? "'" + n.Scalar() + "'" : std::string("(not a scalar)");
}

// Reads the scenario's own keys once the configuration is known.
class ScenarioParser {
 public:
  ScenarioParser(const std::string& file, std::vector<ConfigError>* errors, Scenario* out,
                 bool allow_files)
      : r_(file, errors), s_(*out), errors_(errors), allow_files_(allow_files) {
    dir_ = std::filesystem::path(file).parent_path();
  }

  // Groups are read before the configuration exists: validates their own keys and expands each
  // into `count` agents appended to root's `agents:` list.
  void ExpandGroups(YAML::Node& root) {
    YAML::Node groups = YamlReader::Get(root, "groups");
    if (!groups.IsDefined() || groups.IsNull()) return;
    if (!r_.ExpectSequence(groups, "groups")) return;
    YAML::Node agents = YamlReader::Get(root, "agents");
    if (!agents.IsDefined() || agents.IsNull()) {
      root["agents"] = YAML::Node(YAML::NodeType::Sequence);
      agents.reset(root["agents"]);
    }
    if (!agents.IsSequence()) return;  // the configuration parser reports it
    for (const auto& g : groups) {
      if (!r_.ExpectMap(g, "group")) continue;
      r_.CheckKeys(g, "a group",
                   {"name", "agents", "team", "skills", "capacity", "queues",
                    "voice_blocks_other_channels", "wrap_up_blocks_other_channels", "shift",
                    "breaks", "accept_delay", "reject_probability"});
      auto name = r_.String(r_.Require(g, "name", "group"), "group name");
      auto count = r_.Int(r_.Require(g, "agents", "group"), "group agent count", 0, 100000);
      if (!name || !count) continue;
      groups_.push_back({g, Behaviour(g, "group '" + *name + "'")});
      for (int64_t i = 1; i <= *count; ++i) {
        // Appended first and filled through the sequence's own handle: a node made apart has
        // its own yaml-cpp memory, which every assignment of a shared node below would merge
        // with the whole document's (a copy of its node set each time: quadratic in agents).
        agents.push_back(YAML::Node(YAML::NodeType::Map));
        YAML::Node a = agents[agents.size() - 1];
        a["id"] = *name + "-" + std::to_string(i);
        // Shared nodes, not copies: errors in them point at the group's lines.
        for (const char* key : {"team", "skills", "capacity", "queues",
                                "voice_blocks_other_channels", "wrap_up_blocks_other_channels"}) {
          YAML::Node v = YamlReader::Get(g, key);
          if (v.IsDefined()) a[key] = v;
        }
        group_agents_.push_back({*name + "-" + std::to_string(i), groups_.size() - 1});
      }
    }
  }

  void Parse(const YAML::Node& root) {
    const RoutingConfig& rc = s_.config->routing;
    s_.agents.assign(rc.agents.size(), AgentBehaviour{});
    ParseHeader(YamlReader::Get(root, "scenario"));
    ParseTimeline(YamlReader::Get(root, "timeline"));
    ParseTraffic(YamlReader::Get(root, "traffic"));
    ParseExpect(YamlReader::Get(root, "expect"));
    if (!has_duration_) {
      if (!s_.traffic.empty()) {
        r_.Error(YamlReader::Get(root, "traffic"),
                 "traffic needs scenario.duration (how long contacts keep arriving)");
      }
      s_.duration = s_.timeline.empty() ? Duration{0} : s_.timeline.back().at;
    }
    if (!has_drain_) s_.drain = !s_.traffic.empty();
  }

 private:
  std::optional<Duration> Dur(const YAML::Node& n, std::string_view what) const {
    if (n.IsScalar() && !n.Scalar().empty() &&
        std::all_of(n.Scalar().begin(), n.Scalar().end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      // A bare integer is seconds, as for configuration durations.
      return Seconds(std::stod(n.Scalar()));
    }
    return r_.DurationValue(n, what);
  }

  std::optional<traffic::Distribution> Dist(const YAML::Node& n, std::string_view what) const {
    auto spec = r_.String(n, what);
    if (!spec) return std::nullopt;
    // Numbers may carry a seconds unit ("fixed:2s", "uniform:1s,4s"): src/traffic takes seconds.
    for (size_t i = 1; i < spec->size(); ++i) {
      if ((*spec)[i] == 's' && std::isdigit(static_cast<unsigned char>((*spec)[i - 1])) &&
          (i + 1 == spec->size() || (*spec)[i + 1] == ',')) {
        spec->erase(i, 1);
      }
    }
    const std::filesystem::path dir = dir_;
    const bool files = allow_files_;
    auto loaded = traffic::ParseDistribution(
        *spec, [dir, files](std::string_view name) { return ReadText(dir, name, files); });
    if (!loaded.ok()) {
      r_.Error(n, std::string(what) + ": " + loaded.status().message());
      return std::nullopt;
    }
    return *loaded;
  }

  static Result<std::string> ReadText(const std::filesystem::path& dir, std::string_view name,
                                      bool allow_files) {
    if (!allow_files) {
      return InvalidArgument("files cannot be read here: the scenario must be self-contained");
    }
    std::filesystem::path p(name);
    if (p.is_relative()) p = dir / p;
    std::ifstream in(p);
    if (!in) return NotFound("cannot read '" + p.string() + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // "08:30" or "08:30:15": a time of day on the start's (UTC) day, as an offset from the start.
  // Anything else is a duration after the start.
  std::optional<Duration> Offset(const YAML::Node& n, std::string_view what) const {
    if (n.IsScalar() && n.Scalar().find(':') != std::string::npos) {
      int h = 0, m = 0, sec = 0;
      char extra = 0;
      const int got = std::sscanf(n.Scalar().c_str(), "%d:%d:%d%c", &h, &m, &sec, &extra);
      if (got < 2 || got > 3 || h < 0 || h > 48 || m < 0 || m > 59 || sec < 0 || sec > 59) {
        r_.Error(n, std::string(what) +
                        ": expected a time of day like 08:00 or 08:00:30, or a "
                        "duration after the start, got " +
                        Shown(n));
        return std::nullopt;
      }
      const auto day = std::chrono::floor<std::chrono::days>(s_.start);
      return TimePoint(day) + std::chrono::hours(h) + std::chrono::minutes(m) +
             std::chrono::seconds(sec) - s_.start;
    }
    return Dur(n, what);
  }

  AgentBehaviour Behaviour(const YAML::Node& g, const std::string& what) {
    AgentBehaviour b;
    b.automatic = true;
    if (auto n = YamlReader::Get(g, "accept_delay"); n.IsDefined()) {
      b.accept_delay = Dist(n, what + " accept_delay");
    }
    if (auto n = YamlReader::Get(g, "reject_probability"); n.IsDefined()) {
      if (auto p = r_.Number(n, what + " reject_probability")) {
        if (*p < 0 || *p > 1) {
          r_.Error(n, what + " reject_probability must be in [0, 1], got " + Shown(n));
        } else {
          b.reject_probability = *p;
        }
      }
    }
    return b;
  }

  // Shifts and breaks, once the start is known.
  void ResolveShift(const YAML::Node& g, AgentBehaviour* b) const {
    if (auto shift = YamlReader::Get(g, "shift"); shift.IsDefined()) {
      if (r_.ExpectMap(shift, "shift")) {
        r_.CheckKeys(shift, "a shift", {"start", "end"});
        if (auto n = YamlReader::Get(shift, "start"); n.IsDefined())
          b->shift_start = Offset(n, "shift start");
        if (auto n = YamlReader::Get(shift, "end"); n.IsDefined())
          b->shift_end = Offset(n, "shift end");
      }
    }
    if (auto breaks = YamlReader::Get(g, "breaks"); breaks.IsDefined()) {
      if (r_.ExpectSequence(breaks, "breaks")) {
        for (const auto& br : breaks) {
          if (!r_.ExpectMap(br, "break")) continue;
          r_.CheckKeys(br, "a break", {"at", "length"});
          auto at = Offset(r_.Require(br, "at", "break"), "break at");
          auto length = Dur(r_.Require(br, "length", "break"), "break length");
          if (at && length) b->breaks.push_back({*at, *length});
        }
      }
    }
  }

  void ParseHeader(const YAML::Node& h) {
    s_.start =
        TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 1 / 5)) + std::chrono::hours(8);
    if (h.IsDefined() && !h.IsNull() && r_.ExpectMap(h, "scenario")) {
      r_.CheckKeys(
          h, "scenario",
          {"name", "start", "seed", "duration", "interval", "drain", "drain_limit", "automatic"});
      if (auto n = YamlReader::Get(h, "name"); n.IsDefined()) {
        if (auto v = r_.String(n, "scenario name")) s_.name = *v;
      }
      if (auto n = YamlReader::Get(h, "start"); n.IsDefined()) {
        auto times = n.IsScalar() ? traffic::ParseArrivalTimes(n.Scalar(), TimePoint{})
                                  : Result<std::vector<TimePoint>>(InvalidArgument(""));
        if (!times.ok() || times->size() != 1 || n.Scalar().find('T') == std::string::npos) {
          r_.Error(n,
                   "scenario start: expected an ISO 8601 time like 2026-01-05T08:00:00Z, "
                   "got " +
                       Shown(n));
        } else {
          s_.start = times->front();
        }
      }
      if (auto n = YamlReader::Get(h, "seed"); n.IsDefined()) {
        if (auto v = r_.Int(n, "scenario seed", 0, INT64_MAX)) s_.seed = static_cast<uint64_t>(*v);
      }
      if (auto n = YamlReader::Get(h, "duration"); n.IsDefined()) {
        if (auto v = Dur(n, "scenario duration")) {
          s_.duration = *v;
          has_duration_ = true;
        }
      }
      if (auto n = YamlReader::Get(h, "interval"); n.IsDefined()) {
        if (auto v = Dur(n, "scenario interval")) {
          if (v->count() <= 0) {
            r_.Error(n, "scenario interval must be positive");
          } else {
            s_.interval = *v;
          }
        }
      }
      if (auto n = YamlReader::Get(h, "drain"); n.IsDefined()) {
        if (auto v = r_.Bool(n, "scenario drain")) {
          s_.drain = *v;
          has_drain_ = true;
        }
      }
      if (auto n = YamlReader::Get(h, "drain_limit"); n.IsDefined()) {
        if (auto v = Dur(n, "scenario drain_limit")) s_.drain_limit = *v;
      }
      if (auto n = YamlReader::Get(h, "automatic"); n.IsDefined()) ParseAutomatic(n);
    }
    // Group shifts need the start.
    for (auto& g : groups_) ResolveShift(g.node, &g.behaviour);
    for (auto& [name, g] : group_agents_) {
      if (auto a = s_.config->routing.FindAgent(name)) s_.agents[*a] = groups_[g].behaviour;
    }
  }

  // `automatic: all` or a list of agent ids: configured agents the simulator plays.
  void ParseAutomatic(const YAML::Node& n) {
    AgentBehaviour b;
    b.automatic = true;
    if (n.IsScalar() && n.Scalar() == "all") {
      for (auto& a : s_.agents) {
        if (!a.automatic) a = b;
      }
      return;
    }
    if (!r_.ExpectSequence(n, "scenario automatic (\"all\" or a list of agents)")) return;
    for (const auto& e : n) {
      if (auto a = AgentOf(e, "scenario automatic")) s_.agents[*a] = b;
    }
  }

  std::optional<AgentIndex> AgentOf(const YAML::Node& n, std::string_view what) const {
    auto name = r_.String(n, what);
    if (!name) return std::nullopt;
    auto a = s_.config->routing.FindAgent(*name);
    if (!a) r_.Error(n, std::string(what) + ": no agent '" + *name + "'");
    return a;
  }
  std::optional<QueueIndex> QueueOf(const YAML::Node& n, std::string_view what) const {
    auto name = r_.String(n, what);
    if (!name) return std::nullopt;
    auto q = s_.config->routing.FindQueue(*name);
    if (!q) r_.Error(n, std::string(what) + ": no queue '" + *name + "'");
    return q;
  }
  std::optional<Channel> ChannelOf(const YAML::Node& n, std::string_view what) const {
    auto name = r_.String(n, what);
    if (!name) return std::nullopt;
    auto c = ParseChannel(*name);
    if (!c) r_.Error(n, std::string(what) + ": unknown channel " + Shown(n));
    return c;
  }

  void ParseTimeline(const YAML::Node& t) {
    if (!t.IsDefined() || t.IsNull()) return;
    if (!r_.ExpectSequence(t, "timeline")) return;
    for (const auto& n : t) {
      if (!r_.ExpectMap(n, "timeline step")) continue;
      r_.CheckKeys(n, "a timeline step",
                   {"at", "presence", "arrive", "accept", "reject", "end", "wrap_up_end", "abandon",
                    "transfer", "expect"});
      Step step;
      step.where = At(r_, n);
      auto at = Dur(r_.Require(n, "at", "timeline step"), "timeline at");
      if (!at) continue;
      step.at = *at;
      int actions = 0;
      for (const auto& kv : n) {
        const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
        if (key == "at" || key == "expect" || key.empty()) continue;
        if (++actions > 1) {
          r_.Error(kv.first, "a timeline step has one action; '" + key +
                                 "' is a second one (use another step at the same time)");
          continue;
        }
        ParseAction(key, kv.second, &step);
      }
      if (auto e = YamlReader::Get(n, "expect"); e.IsDefined()) ParseStepExpect(e, &step);
      s_.timeline.push_back(std::move(step));
    }
    std::stable_sort(s_.timeline.begin(), s_.timeline.end(),
                     [](const Step& a, const Step& b) { return a.at < b.at; });
  }

  void ParseAction(const std::string& key, const YAML::Node& v, Step* step) {
    using A = Step::Action;
    const std::string what = key;
    if (!r_.ExpectMap(v, what)) return;
    if (key == "presence") {
      step->action = A::kPresence;
      r_.CheckKeys(v, what, {"agent", "is", "reason"});
      YAML::Node agents = r_.Require(v, "agent", what);
      if (agents.IsSequence()) {
        for (const auto& a : agents) {
          if (auto i = AgentOf(a, "presence agent")) step->agents.push_back(*i);
        }
      } else if (agents.IsDefined()) {
        if (auto i = AgentOf(agents, "presence agent")) step->agents.push_back(*i);
      }
      YAML::Node is = r_.Require(v, "is", what);
      if (auto s = r_.String(is, "presence")) {
        if (auto p = ParsePresence(*s)) {
          step->presence = *p;
        } else {
          r_.Error(is, "presence: expected available, not-ready or offline, got " + Shown(is));
        }
      }
      if (auto n = YamlReader::Get(v, "reason"); n.IsDefined()) {
        if (auto s = r_.String(n, "presence reason")) step->reason = *s;
      }
      return;
    }
    if (key == "arrive") {
      step->action = A::kArrive;
      r_.CheckKeys(v, what,
                   {"id", "queue", "channel", "priority", "skills", "attributes", "customer",
                    "handle", "patience", "wrap_up"});
      if (auto s = r_.String(r_.Require(v, "id", what), "contact id")) step->contact = *s;
      if (auto q = QueueOf(r_.Require(v, "queue", what), "arrive queue")) step->queue = *q;
      if (auto n = YamlReader::Get(v, "channel"); n.IsDefined()) {
        if (auto c = ChannelOf(n, "arrive channel")) step->spec.channel = *c;
      }
      if (auto n = YamlReader::Get(v, "priority"); n.IsDefined()) {
        if (auto p = r_.Int(n, "arrive priority", -1000000, 1000000))
          step->spec.priority = static_cast<int32_t>(*p);
      }
      if (auto n = YamlReader::Get(v, "skills"); n.IsDefined() && r_.ExpectMap(n, "skills")) {
        for (const auto& kv : n) {
          auto name = r_.String(kv.first, "skill");
          auto level = r_.Int(kv.second, "skill proficiency", 1, 5);
          if (!name || !level) continue;
          auto s = s_.config->routing.FindSkill(*name);
          if (!s) {
            r_.Error(kv.first, "arrive skills: no skill '" + *name + "'");
            continue;
          }
          step->spec.skills.push_back({*s, static_cast<uint8_t>(*level)});
        }
      }
      if (auto n = YamlReader::Get(v, "attributes");
          n.IsDefined() && r_.ExpectMap(n, "attributes")) {
        for (const auto& kv : n) {
          auto k = r_.String(kv.first, "attribute name");
          auto val = r_.String(kv.second, "attribute value");
          if (k && val) step->spec.attributes.emplace_back(*k, *val);
        }
      }
      if (auto n = YamlReader::Get(v, "customer"); n.IsDefined()) {
        if (auto s = r_.String(n, "customer")) step->spec.customer = *s;
      }
      if (auto n = YamlReader::Get(v, "handle"); n.IsDefined()) step->handle = Dur(n, "handle");
      if (auto n = YamlReader::Get(v, "patience"); n.IsDefined())
        step->patience = Dur(n, "patience");
      if (auto n = YamlReader::Get(v, "wrap_up"); n.IsDefined()) step->wrap_up = Dur(n, "wrap_up");
      return;
    }
    static const std::vector<std::pair<std::string_view, A>> kContactActions = {
        {"accept", A::kAccept},         {"reject", A::kReject},   {"end", A::kEnd},
        {"wrap_up_end", A::kWrapUpEnd}, {"abandon", A::kAbandon}, {"transfer", A::kTransfer}};
    for (auto [name, action] : kContactActions) {
      if (key != name) continue;
      step->action = action;
      if (action == A::kTransfer) {
        r_.CheckKeys(v, what, {"contact", "queue"});
        if (auto q = QueueOf(r_.Require(v, "queue", what), "transfer queue")) step->queue = *q;
      } else if (action == A::kAccept || action == A::kReject || action == A::kWrapUpEnd) {
        r_.CheckKeys(v, what, {"contact", "agent"});
        if (auto n = YamlReader::Get(v, "agent"); n.IsDefined()) {
          if (auto a = AgentOf(n, what + " agent")) step->agents.push_back(*a);
        }
      } else {
        r_.CheckKeys(v, what, {"contact"});
      }
      if (auto s = r_.String(r_.Require(v, "contact", what), "contact")) step->contact = *s;
    }
  }

  void ParseStepExpect(const YAML::Node& e, Step* step) {
    if (!r_.ExpectMap(e, "expect")) return;
    r_.CheckKeys(e, "a step's expect", {"offer", "state", "presence", "explain", "queue"});
    for (const auto& kv : e) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      std::vector<YAML::Node> items;
      if (kv.second.IsSequence()) {
        for (const auto& i : kv.second) items.push_back(i);
      } else {
        items.push_back(kv.second);
      }
      for (const auto& v : items) {
        if (!r_.ExpectMap(v, "expect " + key)) continue;
        StepExpectation x;
        x.where = At(r_, v);
        const auto contact = [&] {
          if (auto s = r_.String(r_.Require(v, "contact", "expect " + key), "contact"))
            x.contact = *s;
        };
        const auto contains = [&] {
          YAML::Node c = YamlReader::Get(v, "contains");
          if (!c.IsDefined()) return;
          if (c.IsSequence()) {
            for (const auto& f : c) {
              if (auto s = r_.String(f, "contains")) x.contains.push_back(*s);
            }
          } else if (auto s = r_.String(c, "contains")) {
            x.contains.push_back(*s);
          }
        };
        if (key == "offer") {
          x.kind = StepExpectation::Kind::kOffer;
          r_.CheckKeys(v, "expect offer", {"contact", "agent", "contains"});
          contact();
          if (auto a = AgentOf(r_.Require(v, "agent", "expect offer"), "expect offer agent"))
            x.agent = s_.config->routing.agents[*a].name;
          contains();
        } else if (key == "state") {
          x.kind = StepExpectation::Kind::kState;
          r_.CheckKeys(v, "expect state", {"contact", "is", "agent"});
          contact();
          YAML::Node is = r_.Require(v, "is", "expect state");
          if (auto s = r_.String(is, "state")) {
            static const std::vector<std::string_view> kStates = {"waiting", "offered", "handling",
                                                                  "wrap-up", "gone"};
            if (std::find(kStates.begin(), kStates.end(), *s) == kStates.end()) {
              r_.Error(is,
                       "expect state: expected waiting, offered, handling, wrap-up or gone, "
                       "got " +
                           Shown(is));
            }
            x.is = *s;
          }
          if (auto n = YamlReader::Get(v, "agent"); n.IsDefined()) {
            if (auto a = AgentOf(n, "expect state agent"))
              x.agent = s_.config->routing.agents[*a].name;
          }
        } else if (key == "presence") {
          x.kind = StepExpectation::Kind::kPresence;
          r_.CheckKeys(v, "expect presence", {"agent", "is", "reason"});
          if (auto a = AgentOf(r_.Require(v, "agent", "expect presence"), "expect presence agent"))
            x.agent = s_.config->routing.agents[*a].name;
          YAML::Node is = r_.Require(v, "is", "expect presence");
          if (auto s = r_.String(is, "presence")) {
            if (auto p = ParsePresence(*s)) {
              x.is = PresenceName(*p);
            } else {
              r_.Error(is, "presence: expected available, not-ready or offline, got " + Shown(is));
            }
          }
          if (auto n = YamlReader::Get(v, "reason"); n.IsDefined())
            x.reason = r_.String(n, "reason");
        } else if (key == "explain") {
          x.kind = StepExpectation::Kind::kExplain;
          r_.CheckKeys(v, "expect explain", {"contact", "contains"});
          contact();
          contains();
        } else if (key == "queue") {
          x.kind = StepExpectation::Kind::kQueue;
          r_.CheckKeys(v, "expect queue", {"queue", "waiting"});
          if (auto q = QueueOf(r_.Require(v, "queue", "expect queue"), "expect queue"))
            x.queue = *q;
          if (auto n = YamlReader::Get(v, "waiting"); n.IsDefined())
            x.waiting = r_.Int(n, "waiting", 0, INT32_MAX);
        } else {
          continue;
        }
        step->expects.push_back(std::move(x));
      }
    }
  }

  void ParseTraffic(const YAML::Node& t) {
    if (!t.IsDefined() || t.IsNull()) return;
    if (!r_.ExpectSequence(t, "traffic")) return;
    for (const auto& n : t) {
      if (!r_.ExpectMap(n, "traffic stream")) continue;
      r_.CheckKeys(n, "a traffic stream",
                   {"queue", "flow", "entry", "ivr", "survey_flow", "survey_share", "channel",
                    "priority", "arrivals", "handle_time", "patience", "wrap_up"});
      const YAML::Node queue = YamlReader::Get(n, "queue"), flow = YamlReader::Get(n, "flow"),
                       entry = YamlReader::Get(n, "entry");
      const int targets = queue.IsDefined() + flow.IsDefined() + entry.IsDefined();
      if (targets != 1) {
        r_.Error(n,
                 "a traffic stream needs exactly one of queue, flow or entry (an entry "
                 "point's address), got " +
                     std::to_string(targets));
        continue;
      }
      std::optional<QueueIndex> q;
      if (queue.IsDefined()) {
        q = QueueOf(queue, "traffic queue");
        if (!q) continue;
      }
      auto handle = Dist(r_.Require(n, "handle_time", "traffic stream"), "handle_time");
      YAML::Node arrivals = r_.Require(n, "arrivals", "traffic stream");
      if (!handle || !arrivals.IsDefined()) continue;
      Stream s{.queue = q.value_or(kNone), .handle_time = *handle, .where = At(r_, n)};
      if (q) {
        const QueueDef& qd = s_.config->routing.queues[*q];
        s.channel = qd.channels.empty() ? Channel::kVoice : qd.channels.front();
      }
      if (auto c = YamlReader::Get(n, "channel"); c.IsDefined()) {
        if (auto ch = ChannelOf(c, "traffic channel")) s.channel = *ch;
      }
      if (auto p = YamlReader::Get(n, "priority"); p.IsDefined()) {
        if (auto v = r_.Int(p, "traffic priority", -1000000, 1000000))
          s.priority = static_cast<int32_t>(*v);
      }
      if (auto p = YamlReader::Get(n, "patience"); p.IsDefined()) s.patience = Dist(p, "patience");
      if (auto p = YamlReader::Get(n, "wrap_up"); p.IsDefined()) s.wrap_up = Dist(p, "wrap_up");
      if (!q && !ParseFlowStream(n, flow, entry, &s)) continue;
      for (const char* key : {"ivr", "survey_flow", "survey_share"}) {
        if (q && YamlReader::Get(n, key).IsDefined()) {
          r_.Error(YamlReader::Get(n, key),
                   std::string(key) + " needs a flow stream (flow: or entry:), not a queue");
        }
      }
      if (!ParseArrivals(arrivals, &s)) continue;
      s_.traffic.push_back(std::move(s));
    }
  }

  // Compiles the configuration's flows once, for the first flow stream; false after errors.
  bool Flows(const YAML::Node& at) {
    if (flows_tried_) return s_.flows != nullptr;
    flows_tried_ = true;
    std::vector<flow::FlowError> errors;
    auto v = flow::CompileFlows(s_.config->flows, s_.config->routing,
                                s_.config->routing.settings.time_zone, 1, &errors);
    for (const auto& e : errors) {
      errors_->push_back({e.pos.file, e.pos.line, e.pos.column, e.message});
    }
    if (!v.ok()) {
      if (errors.empty()) r_.Error(at, "flows: " + v.status().message());
      return false;
    }
    s_.flows = *v;
    return true;
  }

  // The menu steps called `step` (in any flow), for validating `ivr.menus`.
  std::vector<const flow::Step*> MenuSteps(std::string_view step) const {
    std::vector<const flow::Step*> out;
    for (const auto& f : s_.flows->flows) {
      for (const auto& st : f.steps) {
        if (st.id == step && st.kind == flow::StepKind::kMenu) out.push_back(&st);
      }
    }
    return out;
  }

  // Shares of answers: a map of answer -> share in [0, 1] summing to at most 1. `allowed`
  // says whether an answer exists (it returns the error text, or "").
  std::vector<CallerChoice> Choices(const YAML::Node& m, std::string_view what,
                                    const std::function<std::string(const std::string&)>& allowed) {
    std::vector<CallerChoice> out;
    if (!r_.ExpectMap(m, what)) return out;
    double sum = 0;
    for (const auto& kv : m) {
      auto key = r_.String(kv.first, what);
      auto share = r_.Number(kv.second, std::string(what) + " share");
      if (!key || !share) continue;
      if (!(*share >= 0 && *share <= 1)) {
        r_.Error(kv.second,
                 std::string(what) + " share must be in [0, 1], got " + Shown(kv.second));
        continue;
      }
      if (std::string why = allowed(*key); !why.empty()) {
        r_.Error(kv.first, why);
        continue;
      }
      sum += *share;
      out.push_back({*key, *share});
    }
    if (sum > 1 + 1e-9) {
      r_.Error(m,
               std::string(what) + " shares sum to " + fmt::format("{:g}", sum) + ", more than 1");
    }
    return out;
  }

  bool HasQueueOffer(std::string_view exit) const {
    for (const auto& f : s_.flows->flows) {
      for (const auto& st : f.steps) {
        if (const auto* p = std::get_if<flow::QueueParams>(&st.params)) {
          for (const auto& o : p->offers) {
            if (st.exits[static_cast<size_t>(o.exit)].name == exit) return true;
          }
        }
      }
    }
    return false;
  }

  // The kind of survey answers a key of `ivr.surveys` gives: "csat", "nps", or a question id.
  std::optional<flow::SurveyParams::Kind> SurveyKind(std::string_view key) const {
    if (key == "csat") return flow::SurveyParams::Kind::kCsat;
    if (key == "nps") return flow::SurveyParams::Kind::kNps;
    for (const auto& f : s_.flows->flows) {
      for (const auto& st : f.steps) {
        if (const auto* p = std::get_if<flow::SurveyParams>(&st.params)) {
          for (const auto& q : p->questions) {
            if (q.id == key && q.kind != flow::SurveyParams::Kind::kText) return q.kind;
          }
        }
      }
    }
    return std::nullopt;
  }

  bool ParseFlowStream(const YAML::Node& n, const YAML::Node& flow, const YAML::Node& entry,
                       Stream* s) {
    if (!Flows(flow.IsDefined() ? flow : entry)) return false;
    if (flow.IsDefined()) {
      auto name = r_.String(flow, "traffic flow");
      if (!name) return false;
      if (!s_.flows->FindFlow(*name)) {
        r_.Error(flow, "traffic flow: no flow '" + *name + "'");
        return false;
      }
      s->flow = *name;
    } else {
      auto address = r_.String(entry, "traffic entry");
      if (!address) return false;
      const flow::EntryPoint* e = s_.flows->FindEntry(s->channel, *address);
      if (!e) {
        r_.Error(entry, "traffic entry: no " + std::string(ChannelName(s->channel)) +
                            " entry point '" + *address + "'");
        return false;
      }
      s->entry = *address;
      s->flow = s_.flows->flows[static_cast<size_t>(e->flow)].name;
    }
    if (auto sf = YamlReader::Get(n, "survey_flow"); sf.IsDefined()) {
      if (auto name = r_.String(sf, "survey_flow")) {
        if (!s_.flows->FindFlow(*name)) {
          r_.Error(sf, "survey_flow: no flow '" + *name + "'");
        } else {
          s->survey_flow = *name;
          s->survey_share = 1;
        }
      }
    }
    if (auto sh = YamlReader::Get(n, "survey_share"); sh.IsDefined()) {
      auto v = r_.Number(sh, "survey_share");
      if (v && !(*v >= 0 && *v <= 1)) {
        r_.Error(sh, "survey_share must be in [0, 1], got " + Shown(sh));
      } else if (v) {
        s->survey_share = *v;
      }
      if (s->survey_flow.empty()) r_.Error(sh, "survey_share needs survey_flow");
    }
    if (auto ivr = YamlReader::Get(n, "ivr"); ivr.IsDefined()) ParseIvr(ivr, &s->caller);
    return true;
  }

  void ParseIvr(const YAML::Node& ivr, CallerBehaviour* b) {
    if (!r_.ExpectMap(ivr, "ivr")) return;
    r_.CheckKeys(ivr, "ivr",
                 {"menus", "offers", "surveys", "think_time", "patience", "speaking_rate",
                  "prompts", "recording"});
    if (auto menus = YamlReader::Get(ivr, "menus");
        menus.IsDefined() && r_.ExpectMap(menus, "ivr menus")) {
      for (const auto& kv : menus) {
        auto step = r_.String(kv.first, "ivr menu step");
        if (!step) continue;
        const auto steps = MenuSteps(*step);
        if (steps.empty()) {
          r_.Error(kv.first, "ivr menus: no menu step '" + *step + "' in any flow");
          continue;
        }
        CallerBehaviour::Menu m{.flow = "", .step = *step, .choices = {}};
        m.choices = Choices(kv.second, "menu '" + *step + "' choice", [&](const std::string& k) {
          if (k == kHangupChoice) return std::string();
          for (const flow::Step* st : steps) {
            for (const auto& o : std::get<flow::MenuParams>(st->params).options) {
              if (o.choice == k) return std::string();
            }
          }
          std::string known;
          for (const auto& o : std::get<flow::MenuParams>(steps.front()->params).options) {
            known += (known.empty() ? "" : ", ") + o.choice;
          }
          return "menu '" + *step + "' has no option '" + k + "' (options: " + known +
                 ", or hangup)";
        });
        b->menus.push_back(std::move(m));
      }
    }
    if (auto offers = YamlReader::Get(ivr, "offers");
        offers.IsDefined() && r_.ExpectMap(offers, "ivr offers")) {
      for (const auto& kv : offers) {
        auto exit = r_.String(kv.first, "ivr offer");
        if (!exit) continue;
        if (*exit != "callback" && *exit != "voicemail") {
          r_.Error(kv.first, "ivr offers: expected callback or voicemail, got '" + *exit + "'");
          continue;
        }
        if (!HasQueueOffer(*exit)) {
          r_.Error(kv.first, "ivr offers: no queue step in any flow offers " + *exit);
          continue;
        }
        if (!r_.ExpectMap(kv.second, "ivr offer")) continue;
        r_.CheckKeys(kv.second, "an ivr offer", {"share", "after"});
        CallerBehaviour::QueueOffer o{.exit = *exit, .share = 0, .after = 1};
        auto share = r_.Number(r_.Require(kv.second, "share", "ivr offer"), "offer share");
        if (share && !(*share >= 0 && *share <= 1)) {
          r_.Error(
              YamlReader::Get(kv.second, "share"),
              "offer share must be in [0, 1], got " + Shown(YamlReader::Get(kv.second, "share")));
        } else if (share) {
          o.share = *share;
        }
        if (auto a = YamlReader::Get(kv.second, "after"); a.IsDefined()) {
          if (auto v = r_.Int(a, "offer after (announcements)", 1, 1000))
            o.after = static_cast<int>(*v);
        }
        b->offers.push_back(o);
      }
    }
    if (auto surveys = YamlReader::Get(ivr, "surveys");
        surveys.IsDefined() && r_.ExpectMap(surveys, "ivr surveys")) {
      for (const auto& kv : surveys) {
        auto q = r_.String(kv.first, "survey question");
        if (!q) continue;
        int lo = 0, hi = 10;
        const auto kind = SurveyKind(*q);
        if (!kind) {
          r_.Error(kv.first, "ivr surveys: '" + *q +
                                 "' is neither csat, nps nor the id of a csat or nps question "
                                 "of a survey step");
          continue;
        }
        if (*kind == flow::SurveyParams::Kind::kCsat) lo = 1, hi = 5;
        CallerBehaviour::Survey sv{.question = *q, .scores = {}};
        sv.scores = Choices(kv.second, "survey '" + *q + "' score", [&](const std::string& k) {
          const bool digits =
              !k.empty() && k.size() <= 2 && std::all_of(k.begin(), k.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
              });
          if (digits && std::stoi(k) >= lo && std::stoi(k) <= hi) return std::string();
          return "survey '" + *q + "' score must be a whole number in [" + std::to_string(lo) +
                 ", " + std::to_string(hi) + "], got '" + k + "'";
        });
        b->surveys.push_back(std::move(sv));
      }
    }
    if (auto t = YamlReader::Get(ivr, "think_time"); t.IsDefined())
      b->think_time = Dist(t, "think_time");
    if (auto p = YamlReader::Get(ivr, "patience"); p.IsDefined())
      b->patience = Dist(p, "ivr patience");
    if (auto r = YamlReader::Get(ivr, "speaking_rate"); r.IsDefined()) {
      auto v = r_.Number(r, "speaking_rate");
      if (v && !(*v > 0 && std::isfinite(*v))) {
        r_.Error(r, "speaking_rate must be > 0 characters per second, got " + Shown(r));
      } else if (v) {
        b->speaking_rate = *v;
      }
    }
    if (auto r = YamlReader::Get(ivr, "recording"); r.IsDefined()) {
      if (auto d = Dur(r, "recording duration")) b->recording = *d;
    }
    if (auto p = YamlReader::Get(ivr, "prompts"); p.IsDefined() && r_.ExpectMap(p, "ivr prompts")) {
      for (const auto& kv : p) {
        auto name = r_.String(kv.first, "prompt name");
        auto d = Dur(kv.second, "prompt duration");
        if (name && d) b->prompts.emplace_back(*name, *d);
      }
    }
  }

  bool ParseArrivals(const YAML::Node& a, Stream* s) {
    if (!r_.ExpectMap(a, "arrivals")) return false;
    r_.CheckKeys(a, "arrivals", {"per_interval", "per_hour", "csv", "interval"});
    int forms = 0;
    bool ok = true;
    s->arrival_interval = s_.interval;
    if (auto n = YamlReader::Get(a, "interval"); n.IsDefined()) {
      auto d = Dur(n, "arrivals interval");
      if (!d || d->count() <= 0) {
        if (d) r_.Error(n, "arrivals interval must be positive");
        ok = false;
      } else {
        s->arrival_interval = *d;
      }
    }
    if (auto n = YamlReader::Get(a, "per_interval"); n.IsDefined()) {
      ++forms;
      if (r_.ExpectSequence(n, "per_interval")) {
        for (const auto& v : n) {
          auto x = r_.Number(v, "expected arrivals");
          if (!x || *x < 0 || !std::isfinite(*x)) {
            if (x) r_.Error(v, "expected arrivals must be >= 0, got " + Shown(v));
            ok = false;
          } else {
            s->per_interval.push_back(*x);
          }
        }
      }
    }
    if (auto n = YamlReader::Get(a, "per_hour"); n.IsDefined()) {
      ++forms;
      auto x = r_.Number(n, "per_hour");
      if (!x || *x < 0) {
        if (x) r_.Error(n, "per_hour must be >= 0, got " + Shown(n));
        ok = false;
      } else {
        s->arrival_interval = std::chrono::hours(1);
        // Enough hours to cover any duration; arrivals stop at the end anyway.
        per_hour_streams_.push_back({s_.traffic.size(), *x});
      }
    }
    if (auto n = YamlReader::Get(a, "csv"); n.IsDefined()) {
      ++forms;
      if (auto name = r_.String(n, "csv")) {
        auto text = ReadText(dir_, *name, allow_files_);
        if (!text.ok()) {
          r_.Error(n, "arrivals csv: " + text.status().message());
          ok = false;
        } else {
          auto times = traffic::ParseArrivalTimes(*text, s_.start);
          if (!times.ok()) {
            r_.Error(n, "arrivals csv " + *name + ": " + times.status().message());
            ok = false;
          } else {
            s->times = *times;
          }
        }
      }
    }
    if (forms != 1) {
      r_.Error(a, "arrivals: give exactly one of per_interval, per_hour or csv");
      return false;
    }
    return ok;
  }

  void ParseExpect(const YAML::Node& e) {
    if (!e.IsDefined() || e.IsNull()) return;
    if (!r_.ExpectSequence(e, "expect")) return;
    const RoutingConfig& rc = s_.config->routing;
    for (const auto& n : e) {
      if (!r_.ExpectMap(n, "expectation")) continue;
      KpiBound base;
      base.where = At(r_, n);
      base.scope_name = "overall";
      int scopes = 0;
      if (auto v = YamlReader::Get(n, "queue"); v.IsDefined()) {
        ++scopes;
        auto q = QueueOf(v, "expect queue");
        if (!q) continue;
        base.scope = KpiBound::Scope::kQueue;
        base.index = *q;
        base.scope_name = "queue " + rc.queues[*q].name;
      }
      if (auto v = YamlReader::Get(n, "channel"); v.IsDefined()) {
        ++scopes;
        auto c = ChannelOf(v, "expect channel");
        if (!c) continue;
        base.scope = KpiBound::Scope::kChannel;
        base.index = static_cast<uint32_t>(Index(*c));
        base.scope_name = "channel " + std::string(ChannelName(*c));
      }
      if (auto v = YamlReader::Get(n, "agent"); v.IsDefined()) {
        ++scopes;
        auto a = AgentOf(v, "expect agent");
        if (!a) continue;
        base.scope = KpiBound::Scope::kAgent;
        base.index = *a;
        base.scope_name = "agent " + rc.agents[*a].name;
      }
      if (auto v = YamlReader::Get(n, "overall"); v.IsDefined()) ++scopes;
      if (auto v = YamlReader::Get(n, "flow"); v.IsDefined()) {
        ++scopes;
        auto name = r_.String(v, "expect flow");
        if (!name) continue;
        if (!s_.flows || !s_.flows->FindFlow(*name)) {
          r_.Error(v, s_.flows ? "expect flow: no flow '" + *name + "'"
                               : "expect flow: no traffic stream runs flows");
          continue;
        }
        base.scope = KpiBound::Scope::kFlow;
        base.flow = *name;
        base.scope_name = "flow " + *name;
        if (auto st = YamlReader::Get(n, "step"); st.IsDefined()) {
          auto id = r_.String(st, "expect step");
          if (!id) continue;
          if (s_.flows->FindFlow(*name)->FindStep(*id) < 0) {
            r_.Error(st, "expect step: flow '" + *name + "' has no step '" + *id + "'");
            continue;
          }
          base.step = *id;
          base.scope_name += " step " + *id;
        }
      } else if (auto st = YamlReader::Get(n, "step"); st.IsDefined()) {
        r_.Error(st, "expect step needs flow");
        continue;
      }
      if (scopes > 1) {
        r_.Error(n, "an expectation has one scope: queue, channel, agent, flow or overall");
        continue;
      }
      for (const auto& kv : n) {
        const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
        if (key == "queue" || key == "channel" || key == "agent" || key == "overall" ||
            key == "flow" || key == "step") {
          continue;
        }
        KpiBound b = base;
        b.metric_name = key;
        b.where = At(r_, kv.first);
        if (b.scope == KpiBound::Scope::kFlow) {
          std::vector<std::string_view> known;
          if (b.step.empty()) {
            known.assign(std::begin(kFlowMetricNames), std::end(kFlowMetricNames));
          } else {
            known.assign(std::begin(kFlowStepMetricNames), std::end(kFlowStepMetricNames));
          }
          const bool share = !b.step.empty() && key.rfind("share_", 0) == 0 && key.size() > 6;
          if (!share && std::find(known.begin(), known.end(), key) == known.end()) {
            const std::string near = config::NearestKey(key, known);
            r_.Error(kv.first, "unknown flow " + std::string(b.step.empty() ? "" : "step ") +
                                   "metric '" + key + "'" +
                                   (near.empty() ? "" : "; did you mean '" + near + "'?") +
                                   (b.step.empty() ? "" : " (or share_<option>)"));
            continue;
          }
        } else if (b.scope == KpiBound::Scope::kAgent) {
          auto it = std::find(kAgentMetricNames.begin(), kAgentMetricNames.end(), key);
          if (it == kAgentMetricNames.end()) {
            std::vector<std::string_view> known(kAgentMetricNames.begin(), kAgentMetricNames.end());
            const std::string near = config::NearestKey(key, known);
            r_.Error(kv.first, "unknown agent metric '" + key + "'" +
                                   (near.empty() ? "" : "; did you mean '" + near + "'?"));
            continue;
          }
          b.agent_metric = true;
          b.agent_metric_kind = static_cast<AgentMetric>(it - kAgentMetricNames.begin());
        } else {
          auto m = ParseMetric(key);
          if (!m) {
            std::vector<std::string_view> known;
            for (const auto& i : kMetrics) known.push_back(i.name);
            const std::string near = config::NearestKey(key, known);
            r_.Error(kv.first, "unknown metric '" + key + "'" +
                                   (near.empty() ? "" : "; did you mean '" + near + "'?"));
            continue;
          }
          b.metric = *m;
        }
        const bool duration = b.scope == KpiBound::Scope::kFlow
                                  ? key == "average_ivr_time"
                                  : !b.agent_metric && InfoOf(b.metric).duration;
        const auto value = [&](const YAML::Node& v) -> std::optional<double> {
          if (duration && v.IsScalar()) {
            auto d = Dur(v, key);
            return d ? std::optional<double>(ToSeconds(*d)) : std::nullopt;
          }
          return r_.Number(v, key);
        };
        if (kv.second.IsMap()) {
          r_.CheckKeys(kv.second, key, {"min", "max"});
          if (auto v = YamlReader::Get(kv.second, "min"); v.IsDefined()) b.min = value(v);
          if (auto v = YamlReader::Get(kv.second, "max"); v.IsDefined()) b.max = value(v);
        } else {
          b.min = b.max = value(kv.second);
        }
        if (!b.min && !b.max) continue;
        s_.expect.push_back(std::move(b));
      }
    }
  }

 public:
  void FinishPerHour() {
    const double hours = std::max(1.0, std::ceil(ToSeconds(s_.duration) / 3600.0));
    for (auto [index, rate] : per_hour_streams_) {
      if (index < s_.traffic.size()) {
        s_.traffic[index].per_interval.assign(static_cast<size_t>(hours), rate);
      }
    }
  }

 private:
  YamlReader r_;
  Scenario& s_;
  std::filesystem::path dir_;
  struct Group {
    YAML::Node node;
    AgentBehaviour behaviour;  // shift and breaks filled once the start is known
  };
  std::vector<Group> groups_;
  std::vector<std::pair<std::string, size_t>> group_agents_;  // agent id, group
  std::vector<std::pair<size_t, double>> per_hour_streams_;
  std::vector<ConfigError>* errors_;
  bool allow_files_ = true;
  bool flows_tried_ = false;
  bool has_duration_ = false;
  bool has_drain_ = false;
};

}  // namespace

std::string Where::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const MetricInfo& InfoOf(Metric m) { return kMetrics[static_cast<size_t>(m)]; }

std::optional<Metric> ParseMetric(std::string_view name) {
  if (name == "average_speed_of_answer") return Metric::kAsa;
  if (name == "p90_wait") return Metric::kWaitP90;
  for (size_t i = 0; i < kMetrics.size(); ++i) {
    if (name == kMetrics[i].name) return static_cast<Metric>(i);
  }
  return std::nullopt;
}

namespace {

// Parses a tree this module owns (overrides and groups modify it in place; YAML::Clone would
// lose the source positions).
Result<Scenario> ParseOwned(YAML::Node root, const std::string& file, const LoadOptions& options,
                            std::vector<ConfigError>* errors) {
  const size_t before = errors->size();
  Scenario s;
  s.file = file;
  config::ParseOptions popts;
  popts.extra_top_level_keys.assign(kScenarioKeys.begin(), kScenarioKeys.end());
  if (!root.IsMap()) {
    errors->push_back({file, config::PositionOf(root).line, config::PositionOf(root).column,
                       "expected a map of scenario and configuration sections at the top level"});
    return InvalidArgument("bad scenario " + file);
  }
  for (const auto& o : options.overrides) {
    // Scenario keys and the root's own configuration first; the included files after.
    if (!config::ApplyOverride(root, o.path, o.value).ok()) popts.overrides.push_back(o);
  }
  popts.allow_files = options.allow_files;
  ScenarioParser parser(file, errors, &s, options.allow_files);
  parser.ExpandGroups(root);
  auto cfg = config::ParseConfigNode(root, file, popts, errors);
  if (!cfg.ok()) return cfg.status();
  if (errors->size() > before) return InvalidArgument("bad scenario " + file);
  s.config = *cfg;
  parser.Parse(root);
  parser.FinishPerHour();
  if (errors->size() > before) {
    std::stable_sort(errors->begin() + static_cast<std::ptrdiff_t>(before), errors->end(),
                     [](const ConfigError& a, const ConfigError& b) {
                       if (a.file != b.file) return false;
                       return a.line != b.line ? a.line < b.line : a.column < b.column;
                     });
    return InvalidArgument(std::to_string(errors->size() - before) + " error(s) in " + file);
  }
  return s;
}

}  // namespace

Result<Scenario> ParseScenarioText(std::string_view text, const std::string& file,
                                   const LoadOptions& options, std::vector<ConfigError>* errors) {
  auto root = config::LoadYamlText(text, file, errors);
  if (!root.ok()) return root.status();
  try {
    return ParseOwned(*root, file, options, errors);
  } catch (const YAML::Exception& e) {
    errors->push_back({file, e.mark.is_null() ? 0 : e.mark.line + 1,
                       e.mark.is_null() ? 0 : e.mark.column + 1, e.msg});
    return InvalidArgument("bad scenario " + file);
  }
}

Result<Scenario> LoadScenario(const std::string& path, const LoadOptions& options,
                              std::vector<ConfigError>* errors) {
  auto root = config::LoadYamlFile(path, errors);
  if (!root.ok()) return root.status();
  try {
    return ParseOwned(*root, path, options, errors);
  } catch (const YAML::Exception& e) {
    errors->push_back({path, e.mark.is_null() ? 0 : e.mark.line + 1,
                       e.mark.is_null() ? 0 : e.mark.column + 1, e.msg});
    return InvalidArgument("bad scenario " + path);
  }
}

}  // namespace parley::sim
