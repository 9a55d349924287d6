// CompileFlows: FlowConfig (as written) -> FlowVersion (typed and checked).
#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "base/url.h"
#include "flow/flow.h"
#include "flow/steps.h"

namespace parley::flow {

std::string FlowError::ToString() const {
  return pos.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
         message;
}

int Step::ExitIndex(std::string_view name) const {
  for (size_t i = 0; i < exits.size(); ++i) {
    if (exits[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Flow::FindStep(std::string_view id) const {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].id == id) return static_cast<int>(i);
  }
  return kNoStep;
}

int FlowVersion::FlowIndex(std::string_view name) const {
  for (size_t i = 0; i < flows.size(); ++i) {
    if (flows[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const Flow* FlowVersion::FindFlow(std::string_view name) const {
  const int i = FlowIndex(name);
  return i < 0 ? nullptr : &flows[static_cast<size_t>(i)];
}

const Schedule* FlowVersion::FindSchedule(std::string_view name) const {
  for (const auto& s : schedules) {
    if (s.name() == name) return &s;
  }
  return nullptr;
}

const EntryPoint* FlowVersion::FindEntry(Channel channel, std::string_view address) const {
  for (const auto& e : entry_points) {
    if (e.channel == channel && e.address == address) return &e;
  }
  return nullptr;
}

namespace {

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diag = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

template <typename Names>
std::string DidYouMean(std::string_view name, const Names& known) {
  std::string best;
  int best_d = 3;
  for (const auto& k : known) {
    const int d = EditDistance(name, k);
    if (d < best_d) {
      best_d = d;
      best = std::string(k);
    }
  }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

template <typename Names>
std::string Join(const Names& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += std::string(n);
  }
  return out.empty() ? "none" : out;
}

// Compiles one FlowConfig; collects errors.
class Compiler {
 public:
  Compiler(const FlowConfig& config, const RoutingConfig& routing, const std::string& tz,
           std::vector<FlowError>* errors)
      : config_(config), routing_(routing), site_tz_(tz), errors_(errors) {}

  std::shared_ptr<FlowVersion> Run(uint64_t version) {
    auto v = std::make_shared<FlowVersion>();
    v->version = version;
    version_ = v.get();
    for (const auto& s : config_.schedules) {
      auto made = Schedule::Make(s);
      if (!made.ok()) {
        Error(s.pos, "unknown time zone '" + s.time_zone + "' in schedule '" + s.name + "'");
        continue;
      }
      v->schedules.push_back(std::move(made).value());
      names_.schedules.push_back(s.name);
    }
    for (const auto& f : config_.flows) {
      Flow flow;
      flow.name = f.name;
      flow.pos = f.pos;
      v->flows.push_back(std::move(flow));
    }
    for (size_t i = 0; i < config_.flows.size(); ++i) CompileFlow(config_.flows[i], &v->flows[i]);
    CheckCalls();
    for (size_t i = 0; i < v->flows.size(); ++i) CheckGraph(config_.flows[i], v->flows[i]);
    for (const auto& e : config_.entry_points) {
      const int flow = v->FlowIndex(e.flow);
      if (flow < 0) {
        Error(e.pos, "entry point '" + e.address + "' names unknown flow '" + e.flow + "'");
        continue;
      }
      v->entry_points.push_back({e.channel, e.address, flow});
    }
    return v;
  }

 private:
  void Error(const SourcePos& pos, std::string message) {
    errors_->push_back({pos, std::move(message)});
  }

  // ---- typed values ----

  std::optional<std::string> Text(const FlowValue& v, std::string_view what) {
    if (v.kind != FlowValue::Kind::kScalar) {
      Error(v.pos, "expected a string for " + std::string(what));
      return std::nullopt;
    }
    return v.scalar;
  }
  std::optional<int64_t> Int(const FlowValue& v, std::string_view what, int64_t lo, int64_t hi) {
    auto s = Text(v, what);
    if (!s) return std::nullopt;
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
    if (ec != std::errc() || p != s->data() + s->size() || n < lo || n > hi) {
      Error(v.pos, std::string(what) + " must be an integer from " + std::to_string(lo) + " to " +
                       std::to_string(hi) + ", got '" + *s + "'");
      return std::nullopt;
    }
    return n;
  }
  std::optional<Duration> Dur(const FlowValue& v, std::string_view what) {
    auto s = Text(v, what);
    if (!s) return std::nullopt;
    auto d = ParseFlowDuration(*s);
    if (!d) {
      Error(v.pos, "invalid duration '" + *s +
                       "'; expected e.g. 20s, 500ms, 5m, 1h, 1h30m or a number of seconds for " +
                       std::string(what));
    }
    return d;
  }
  std::optional<bool> Bool(const FlowValue& v, std::string_view what) {
    auto s = Text(v, what);
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "yes") return true;
    if (*s == "false" || *s == "no") return false;
    Error(v.pos, "expected true or false for " + std::string(what) + ", got '" + *s + "'");
    return std::nullopt;
  }
  // A prompt: text to speech as a plain string, or {recording, text, language, voice}.
  ports::Prompt PromptOf(const FlowValue& v, std::string_view what) {
    ports::Prompt p;
    if (v.kind == FlowValue::Kind::kScalar) {
      p.text = v.scalar;
      return p;
    }
    if (v.kind != FlowValue::Kind::kMap) {
      Error(v.pos, "expected text or a map with recording, text, language, voice for " +
                       std::string(what));
      return p;
    }
    for (const auto& e : v.items) {
      auto s = Text(e, what);
      if (!s) continue;
      if (e.key == "recording") {
        p.recording = *s;
      } else if (e.key == "text") {
        p.text = *s;
      } else if (e.key == "language") {
        p.language = *s;
      } else if (e.key == "voice") {
        p.voice = *s;
      } else {
        Error(e.key_pos, "unknown key '" + e.key + "' in " + std::string(what) +
                             "; expected recording, text, language or voice");
      }
    }
    if (p.empty()) Error(v.pos, std::string(what) + " needs a recording or a text");
    return p;
  }
  std::optional<Expr> ParseExpr(const FlowValue& v, std::string_view text, size_t skip,
                                const ExprNames& names, const std::string& where) {
    ExprError err;
    auto e = Expr::Parse(text, names, &err);
    if (!e) {
      SourcePos at = v.pos;
      // Plain scalars start at the value's column; quoted ones one character later.
      at.column += static_cast<int>(skip + err.offset) + (v.quoted ? 1 : 0);
      Error(at, "bad expression in " + where + ": " + err.message);
    }
    return e;
  }
  std::shared_ptr<const std::regex> Pattern(const FlowValue& v, const std::string& text) {
    try {
      return std::make_shared<const std::regex>(text, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      Error(v.pos, "bad pattern '" + text + "': not a valid ECMAScript regular expression");
      return nullptr;
    }
  }
  bool KnownQueue(const FlowValue& v, const std::string& queue, const std::string& where) {
    for (const auto& q : routing_.queues) {
      if (q.name == queue) return true;
    }
    std::vector<std::string> names;
    for (const auto& q : routing_.queues) names.push_back(q.name);
    Error(v.pos, "unknown queue '" + queue + "' in " + where + DidYouMean(queue, names));
    return false;
  }

  // ---- steps ----

  struct PendingExit {
    int step;
    int exit;
    std::string target;
    SourcePos pos;
  };

  int AddExit(Step* step, std::string name, const FlowValue* target_value) {
    step->exits.push_back({std::move(name), kNoStep, target_value ? target_value->pos : step->pos});
    const int index = static_cast<int>(step->exits.size() - 1);
    if (target_value) {
      if (target_value->kind != FlowValue::Kind::kScalar) {
        Error(target_value->pos, "expected a step id as the target of exit '" +
                                     step->exits.back().name + "' of step '" + step->id + "'");
      } else {
        pending_.push_back({current_step_, index, target_value->scalar, target_value->pos});
      }
    }
    return index;
  }

  void CompileFlow(const FlowDef& def, Flow* flow) {
    const std::string tz = def.time_zone.empty() ? site_tz_ : def.time_zone;
    flow->zone = FindZone(tz.empty() ? "UTC" : tz);
    if (!flow->zone) {
      Error(def.pos, "unknown time zone '" + tz + "' in flow '" + def.name + "'");
    }
    pending_.clear();
    std::vector<std::string> ids;
    for (const auto& sd : def.steps) ids.push_back(sd.id);
    flow->steps.resize(def.steps.size());
    for (size_t i = 0; i < def.steps.size(); ++i) {
      current_step_ = static_cast<int>(i);
      CompileStep(def, def.steps[i], &flow->steps[i]);
    }
    for (const auto& p : pending_) {
      const int target = flow->FindStep(p.target);
      Step& step = flow->steps[static_cast<size_t>(p.step)];
      if (target == kNoStep) {
        Error(p.pos, "exit '" + step.exits[static_cast<size_t>(p.exit)].name + "' of step '" +
                         step.id + "' goes to '" + p.target + "', which is not a step of flow '" +
                         def.name + "'" + DidYouMean(p.target, ids));
        continue;
      }
      step.exits[static_cast<size_t>(p.exit)].target = target;
    }
    if (def.steps.empty()) {
      Error(def.pos, "flow '" + def.name + "' has no steps");
      return;
    }
    flow->start = 0;
    if (!def.start.empty()) {
      flow->start = flow->FindStep(def.start);
      if (flow->start == kNoStep) {
        Error(def.start_pos, "start '" + def.start + "' of flow '" + def.name +
                                 "' is not one of its steps" + DidYouMean(def.start, ids));
        flow->start = 0;
      }
    }
  }

  void CompileStep(const FlowDef& flow, const StepDef& sd, Step* step) {
    step->id = sd.id;
    step->pos = sd.pos;
    step->params = NoParams{};
    const std::string where = "step '" + sd.id + "' of flow '" + flow.name + "'";
    const StepType* type = FindStepType(sd.type);
    if (!type) {
      std::vector<std::string_view> names;
      for (const auto& t : StepTable()) names.push_back(t.name);
      Error(sd.type_pos, "unknown step type '" + sd.type + "' in " + where +
                             DidYouMean(sd.type, names) + " (accepted: " + Join(names) + ")");
      return;
    }
    step->kind = type->kind;
    // Keys common to all steps, then the type's own.
    for (const auto& e : sd.params.items) {
      if (e.key == "next" || e.key == "exits") continue;
      if (std::find(type->params.begin(), type->params.end(), e.key) == type->params.end()) {
        Error(e.key_pos, "unknown parameter '" + e.key + "' for " + std::string(type->name) + " " +
                             where + DidYouMean(e.key, type->params) +
                             " (accepted: " + Join(type->params) + ")");
      }
    }
    if (const FlowValue* next = sd.params.Find("next")) {
      if (std::find(type->exits.begin(), type->exits.end(), "next") == type->exits.end()) {
        Error(next->key_pos, std::string(type->name) + " " + where + " has no exit 'next'" +
                                 " (exits: " + Join(type->exits) + ")");
      } else {
        AddExit(step, "next", next);
      }
    }
    if (const FlowValue* exits = sd.params.Find("exits")) {
      if (exits->kind != FlowValue::Kind::kMap) {
        Error(exits->pos, "expected a map of exit names to step ids for exits of " + where);
      } else {
        for (const auto& e : exits->items) {
          if (std::find(type->exits.begin(), type->exits.end(), e.key) == type->exits.end()) {
            Error(e.key_pos, "unknown exit '" + e.key + "' of " + std::string(type->name) + " " +
                                 where + DidYouMean(e.key, type->exits) +
                                 " (exits: " + Join(type->exits) + ")");
            continue;
          }
          if (step->ExitIndex(e.key) >= 0) {
            Error(e.key_pos, "exit '" + e.key + "' of " + where + " is given twice");
            continue;
          }
          AddExit(step, e.key, &e);
        }
      }
    }
    for (const auto& required : type->required_exits) {
      if (step->ExitIndex(required) < 0) {
        Error(sd.pos, std::string(type->name) + " " + where + " needs exit '" +
                          std::string(required) + "'" +
                          (required == "next" ? " (next: STEP)"
                                              : " (exits: {" + std::string(required) + ": STEP})"));
      }
    }
    const auto get = [&](std::string_view key) { return sd.params.Find(key); };
    const auto require = [&](std::string_view key) -> const FlowValue* {
      const FlowValue* v = get(key);
      if (!v) {
        Error(sd.pos, std::string(type->name) + " " + where + " needs '" + std::string(key) + "'");
      }
      return v;
    };
    const auto retry = [&](InputRetry* r) {
      if (auto v = get("timeout")) r->timeout = Dur(*v, "timeout").value_or(r->timeout);
      if (auto v = get("retries"))
        r->retries = static_cast<int>(Int(*v, "retries", 0, 10).value_or(2));
      if (auto v = get("no_input_prompt")) r->no_input_prompt = PromptOf(*v, "no_input_prompt");
      if (auto v = get("invalid_prompt")) r->invalid_prompt = PromptOf(*v, "invalid_prompt");
    };
    const auto attribute = [&](std::string* out) {
      if (auto v = require("into")) {
        if (auto s = Text(*v, "into")) *out = *s;
      }
    };

    switch (type->kind) {
      case StepKind::kPlay: {
        PlayParams p;
        if (auto v = require("prompt")) p.prompt = PromptOf(*v, "prompt");
        step->params = std::move(p);
        break;
      }
      case StepKind::kSay: {
        SayParams p;
        if (auto v = get("text")) {
          p.prompt.text = Text(*v, "text").value_or("");
        } else if (auto pv = get("prompt")) {
          p.prompt = PromptOf(*pv, "prompt");
        } else {
          Error(sd.pos, "say " + where + " needs 'text' or 'prompt'");
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kMenu: {
        MenuParams p;
        if (auto v = require("prompt")) p.prompt = PromptOf(*v, "prompt");
        retry(&p.retry);
        if (auto v = require("options")) {
          if (v->kind != FlowValue::Kind::kMap || v->items.empty()) {
            Error(v->pos, "expected a map of keys or words to step ids for options of " + where);
          } else {
            for (const auto& o : v->items) {
              if (step->ExitIndex(o.key) >= 0) {
                Error(o.key_pos, "option '" + o.key + "' of " + where + " is given twice");
                continue;
              }
              p.options.push_back({o.key, AddExit(step, o.key, &o)});
            }
          }
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kCollect: {
        CollectParams p;
        if (auto v = get("prompt")) p.prompt = PromptOf(*v, "prompt");
        retry(&p.retry);
        attribute(&p.into);
        if (auto v = get("min_length")) {
          p.min_length = static_cast<int>(Int(*v, "min_length", 0, 256).value_or(1));
        }
        if (auto v = get("max_length")) {
          p.max_length = static_cast<int>(Int(*v, "max_length", 1, 256).value_or(32));
          if (p.max_length < p.min_length) {
            Error(v->pos, "max_length " + std::to_string(p.max_length) +
                              " is less than min_length " + std::to_string(p.min_length));
          }
        }
        if (auto v = get("terminator")) p.terminator = Text(*v, "terminator").value_or("#");
        if (auto v = get("pattern")) {
          p.pattern = Text(*v, "pattern").value_or("");
          p.regex = Pattern(*v, p.pattern);
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kAsk: {
        AskParams p;
        p.retry.timeout = Seconds(300);
        p.retry.retries = 0;
        if (auto v = get("text")) {
          p.prompt.text = Text(*v, "text").value_or("");
        } else if (auto pv = get("prompt")) {
          p.prompt = PromptOf(*pv, "prompt");
        } else {
          Error(sd.pos, "ask " + where + " needs 'text' or 'prompt'");
        }
        retry(&p.retry);
        attribute(&p.into);
        if (auto v = get("buttons")) {
          if (v->kind != FlowValue::Kind::kList) {
            Error(v->pos, "expected a list of button labels for buttons of " + where);
          } else {
            for (const auto& b : v->items) {
              if (auto s = Text(b, "button")) p.buttons.push_back(*s);
            }
          }
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kSet: {
        SetParams p;
        if (auto v = require("values")) {
          if (v->kind != FlowValue::Kind::kMap) {
            Error(v->pos, "expected a map of attribute names to values for values of " + where);
          } else {
            for (const auto& e : v->items) {
              auto s = Text(e, "value of " + e.key);
              if (!s) continue;
              SetParams::Assignment a;
              a.attribute = e.key;
              if (s->starts_with("=")) {
                a.expr = ParseExpr(e, std::string_view(*s).substr(1), 1, names_,
                                   "value of '" + e.key + "' in " + where);
              } else {
                a.literal = *s;
              }
              p.values.push_back(std::move(a));
            }
          }
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kBranch: {
        BranchParams p;
        ExprNames names = names_;
        if (auto v = get("queue")) {
          p.queue = Text(*v, "queue").value_or("");
          if (KnownQueue(*v, p.queue, where)) names.queue_stats = true;
        }
        if (auto v = require("cases")) {
          if (v->kind != FlowValue::Kind::kList) {
            Error(v->pos,
                  "expected a list of {when: EXPRESSION, next: STEP} for cases of " + where);
          } else {
            int n = 0;
            for (const auto& c : v->items) {
              ++n;
              const FlowValue* when = c.Find("when");
              const FlowValue* next = c.Find("next");
              if (!when || !next) {
                Error(c.pos,
                      "case " + std::to_string(n) + " of " + where + " needs 'when' and 'next'");
                continue;
              }
              for (const auto& k : c.items) {
                if (k.key != "when" && k.key != "next") {
                  Error(k.key_pos, "unknown key '" + k.key + "' in case " + std::to_string(n) +
                                       " of " + where + " (accepted: when, next)");
                }
              }
              auto text = Text(*when, "when");
              if (!text) continue;
              auto expr =
                  ParseExpr(*when, *text, 0, names, "case " + std::to_string(n) + " of " + where);
              const int exit = AddExit(step, "case " + std::to_string(n), next);
              if (expr) p.cases.push_back({std::move(*expr), exit});
            }
          }
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kHours: {
        HoursParams p;
        if (auto v = require("schedule")) {
          if (auto s = Text(*v, "schedule")) {
            const auto it = std::find(names_.schedules.begin(), names_.schedules.end(), *s);
            if (it == names_.schedules.end()) {
              Error(v->pos,
                    "unknown schedule '" + *s + "' in " + where + DidYouMean(*s, names_.schedules));
            } else {
              p.schedule = static_cast<int>(it - names_.schedules.begin());
            }
          }
        }
        step->params = p;
        break;
      }
      case StepKind::kLookup: {
        LookupParams p;
        p.timeout = config_.lookups.timeout;
        if (auto v = require("url")) {
          if (auto text = Text(*v, "url")) {
            p.url = *text;
            // The client's own parser: what passes here, the lookup client can send.
            if (auto u = ParseHttpUrl(p.url); !u.ok()) {
              Error(v->pos, "url of " + where + " " + u.status().message());
            }
          }
        }
        if (auto v = get("method")) {
          p.method = Text(*v, "method").value_or("GET");
          if (p.method != "GET" && p.method != "POST") {
            Error(v->pos, "method must be GET or POST, got '" + p.method + "'");
          }
        }
        if (auto v = get("timeout")) p.timeout = Dur(*v, "timeout").value_or(p.timeout);
        if (auto v = get("send")) {
          if (v->kind != FlowValue::Kind::kList) {
            Error(v->pos, "expected a list of attribute names for send of " + where);
          } else {
            for (const auto& a : v->items) {
              if (auto s = Text(a, "send")) p.send.push_back(*s);
            }
          }
        }
        if (auto v = get("store")) {
          if (v->kind != FlowValue::Kind::kMap) {
            Error(v->pos, "expected a map of attribute names to JSON paths for store of " + where);
          } else {
            for (const auto& e : v->items) {
              if (auto s = Text(e, "store")) p.store.push_back({e.key, *s});
            }
          }
        }
        if (auto v = get("store_prefix")) p.store_prefix = Text(*v, "store_prefix").value_or("");
        step->params = std::move(p);
        break;
      }
      case StepKind::kQueue: {
        QueueParams p;
        if (auto v = require("queue")) {
          p.queue = Text(*v, "queue").value_or("");
          KnownQueue(*v, p.queue, where);
        }
        if (auto v = get("priority")) {
          p.priority = static_cast<int32_t>(Int(*v, "priority", -1000000, 1000000).value_or(0));
        }
        if (auto v = get("skills")) {
          if (v->kind != FlowValue::Kind::kMap) {
            Error(v->pos, "expected a map of skill names to levels 1-5 for skills of " + where);
          } else {
            for (const auto& e : v->items) {
              auto it = std::find(routing_.skills.begin(), routing_.skills.end(), e.key);
              if (it == routing_.skills.end()) {
                Error(e.key_pos, "unknown skill '" + e.key + "' in " + where +
                                     DidYouMean(e.key, routing_.skills));
                continue;
              }
              auto level = Int(e, "skill level", 1, 5);
              if (!level) continue;
              p.skills.push_back({static_cast<SkillIndex>(it - routing_.skills.begin()),
                                  static_cast<uint8_t>(*level)});
            }
          }
        }
        if (auto v = get("music")) {
          if (!(v->kind == FlowValue::Kind::kScalar && v->scalar == "silence")) {
            p.music = PromptOf(*v, "music");
          }
        }
        if (auto v = get("announce_every")) {
          p.announce_every = Dur(*v, "announce_every").value_or(Duration{0});
        }
        if (auto v = get("announce")) {
          if (v->kind != FlowValue::Kind::kList) {
            Error(v->pos, "expected a list of position and/or wait for announce of " + where);
          } else {
            for (const auto& a : v->items) {
              if (a.scalar == "position") {
                p.announce_position = true;
              } else if (a.scalar == "wait") {
                p.announce_wait = true;
              } else {
                Error(a.pos, "unknown announcement '" + a.scalar + "'; expected position or wait");
              }
            }
          }
          if (p.announce_every == Duration{0}) {
            Error(v->pos, "announce in " + where + " needs announce_every");
          }
        }
        if (auto v = get("max_wait")) {
          p.max_wait = Dur(*v, "max_wait").value_or(Duration{0});
          if (p.max_wait > Duration{0} && step->ExitIndex("timeout") < 0) {
            Error(v->pos, "max_wait in " + where + " needs exit 'timeout'");
          }
        }
        if (auto v = get("offers")) {
          if (v->kind != FlowValue::Kind::kMap) {
            Error(v->pos, "expected a map of keys to voicemail or callback for offers of " + where);
          } else {
            for (const auto& o : v->items) {
              auto action = Text(o, "offer");
              if (!action) continue;
              if (*action != "voicemail" && *action != "callback") {
                Error(o.pos, "unknown offer '" + *action + "'; expected voicemail or callback");
                continue;
              }
              const int exit = step->ExitIndex(*action);
              if (exit < 0) {
                Error(o.pos,
                      "offer '" + *action + "' in " + where + " needs exit '" + *action + "'");
                continue;
              }
              p.offers.push_back({o.key, exit});
            }
          }
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kTransfer: {
        TransferParams p;
        const FlowValue* v = require("to");
        if (v && (v->kind != FlowValue::Kind::kMap || v->items.size() != 1)) {
          Error(v->pos,
                "expected one of {flow: NAME}, {queue: NAME}, {agent: ID}, "
                "{number: NUMBER} for to of " +
                    where);
        } else if (v) {
          const FlowValue& t = v->items[0];
          p.target = Text(t, "transfer target").value_or("");
          if (t.key == "flow") {
            p.kind = TransferParams::Kind::kFlow;
            p.flow = version_->FlowIndex(p.target);
            if (p.flow < 0) {
              std::vector<std::string> names;
              for (const auto& f : config_.flows) names.push_back(f.name);
              Error(t.pos,
                    "unknown flow '" + p.target + "' in " + where + DidYouMean(p.target, names));
            }
          } else if (t.key == "queue") {
            p.kind = TransferParams::Kind::kQueue;
            KnownQueue(t, p.target, where);
          } else if (t.key == "agent") {
            p.kind = TransferParams::Kind::kAgent;
            bool known = false;
            for (const auto& a : routing_.agents) known |= a.name == p.target;
            if (!known) Error(t.pos, "unknown agent '" + p.target + "' in " + where);
          } else if (t.key == "number") {
            p.kind = TransferParams::Kind::kNumber;
          } else {
            Error(t.key_pos,
                  "unknown transfer target '" + t.key + "'; expected flow, queue, agent or number");
          }
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kVoicemail: {
        VoicemailParams p;
        if (auto v = require("mailbox")) p.mailbox = Text(*v, "mailbox").value_or("");
        if (auto v = get("prompt")) p.prompt = PromptOf(*v, "prompt");
        if (auto v = get("max_length")) p.max_length = Dur(*v, "max_length").value_or(p.max_length);
        step->params = std::move(p);
        break;
      }
      case StepKind::kCallback: {
        CallbackParams p;
        if (auto v = require("queue")) {
          p.queue = Text(*v, "queue").value_or("");
          KnownQueue(*v, p.queue, where);
        }
        if (auto v = get("keep_position"))
          p.keep_position = Bool(*v, "keep_position").value_or(true);
        step->params = std::move(p);
        break;
      }
      case StepKind::kSurvey: {
        SurveyParams p;
        if (auto v = get("timeout")) p.timeout = Dur(*v, "timeout").value_or(p.timeout);
        if (auto v = require("questions")) {
          if (v->kind != FlowValue::Kind::kList || v->items.empty()) {
            Error(v->pos, "expected a list of {id, kind, prompt} for questions of " + where);
          } else {
            for (const auto& q : v->items) {
              SurveyParams::Question question;
              const FlowValue* id = q.Find("id");
              const FlowValue* kind = q.Find("kind");
              const FlowValue* prompt = q.Find("prompt");
              if (!id || !kind || !prompt) {
                Error(q.pos, "a survey question needs id, kind (csat, nps or text) and prompt");
                continue;
              }
              question.id = Text(*id, "id").value_or("");
              const std::string k = Text(*kind, "kind").value_or("");
              if (k == "csat") {
                question.kind = SurveyParams::Kind::kCsat;
              } else if (k == "nps") {
                question.kind = SurveyParams::Kind::kNps;
              } else if (k == "text") {
                question.kind = SurveyParams::Kind::kText;
              } else {
                Error(kind->pos, "unknown survey question kind '" + k +
                                     "'; expected csat (1-5), nps (0-10) or text");
              }
              question.prompt = PromptOf(*prompt, "prompt");
              p.questions.push_back(std::move(question));
            }
          }
        }
        step->params = std::move(p);
        break;
      }
      case StepKind::kCall: {
        CallParams p;
        if (auto v = require("flow")) {
          const std::string name = Text(*v, "flow").value_or("");
          p.flow = version_->FlowIndex(name);
          if (p.flow < 0) {
            std::vector<std::string> names;
            for (const auto& f : config_.flows) names.push_back(f.name);
            Error(v->pos, "unknown sub-flow '" + name + "' in " + where + DidYouMean(name, names));
            p.flow = 0;
          } else {
            calls_.push_back({current_flow_index(flow), p.flow, v->pos});
          }
        }
        step->params = p;
        break;
      }
      case StepKind::kReturn:
      case StepKind::kHangup:
        break;
    }
  }

  int current_flow_index(const FlowDef& flow) const { return version_->FlowIndex(flow.name); }

  // Sub-flows may not call themselves, directly or through others: a call stack would grow
  // without a bound.
  void CheckCalls() {
    const size_t n = version_->flows.size();
    std::vector<std::vector<int>> edges(n);
    for (const auto& c : calls_) edges[static_cast<size_t>(c.from)].push_back(c.to);
    for (const auto& c : calls_) {
      // Is c.from reachable from c.to?
      std::vector<bool> seen(n, false);
      std::vector<int> stack = {c.to};
      bool cycle = false;
      while (!stack.empty() && !cycle) {
        const int f = stack.back();
        stack.pop_back();
        if (f == c.from) cycle = true;
        if (seen[static_cast<size_t>(f)]) continue;
        seen[static_cast<size_t>(f)] = true;
        for (int t : edges[static_cast<size_t>(f)]) stack.push_back(t);
      }
      if (cycle) {
        Error(c.pos, "flow '" + version_->flows[static_cast<size_t>(c.from)].name +
                         "' calls sub-flow '" + version_->flows[static_cast<size_t>(c.to)].name +
                         "', which calls it back: sub-flows may not recurse");
      }
    }
  }

  bool Waits(const Step& s) const {
    const StepType* t = nullptr;
    for (const auto& e : StepTable()) {
      if (e.kind == s.kind) t = &e;
    }
    if (t->waits_for_input) return true;
    if (s.kind == StepKind::kCall) {
      const auto* p = std::get_if<CallParams>(&s.params);
      if (!p) return false;
      for (const auto& callee : version_->flows[static_cast<size_t>(p->flow)].steps) {
        const StepType* ct = nullptr;
        for (const auto& e : StepTable()) {
          if (e.kind == callee.kind) ct = &e;
        }
        if (ct->waits_for_input) return true;
      }
    }
    return false;
  }

  // Unreachable steps, and loops in which no step waits for input.
  void CheckGraph(const FlowDef& def, const Flow& flow) {
    if (flow.steps.empty()) return;
    const size_t n = flow.steps.size();
    std::vector<bool> reached(n, false);
    std::vector<int> stack = {flow.start};
    while (!stack.empty()) {
      const int s = stack.back();
      stack.pop_back();
      if (s == kNoStep || reached[static_cast<size_t>(s)]) continue;
      reached[static_cast<size_t>(s)] = true;
      for (const auto& e : flow.steps[static_cast<size_t>(s)].exits) stack.push_back(e.target);
    }
    for (size_t i = 0; i < n; ++i) {
      if (!reached[i]) {
        Error(def.steps[i].pos, "step '" + flow.steps[i].id + "' of flow '" + flow.name +
                                    "' is unreachable from its start '" +
                                    flow.steps[static_cast<size_t>(flow.start)].id + "'");
      }
    }
    // Depth-first search over steps that do not wait; a back edge closes a spinning loop.
    std::vector<int> color(n, 0);  // 0 new, 1 on the path, 2 done
    std::vector<int> path;
    std::set<int> reported;
    const auto visit = [&](auto&& self, int s) -> void {
      color[static_cast<size_t>(s)] = 1;
      path.push_back(s);
      const Step& step = flow.steps[static_cast<size_t>(s)];
      for (const auto& e : step.exits) {
        if (e.target == kNoStep) continue;
        const Step& next = flow.steps[static_cast<size_t>(e.target)];
        if (Waits(next)) continue;
        if (color[static_cast<size_t>(e.target)] == 1) {
          auto from = std::find(path.begin(), path.end(), e.target);
          std::string chain;
          int first = *std::min_element(from, path.end());
          for (auto it = from; it != path.end(); ++it)
            chain += flow.steps[static_cast<size_t>(*it)].id + " -> ";
          chain += next.id;
          if (reported.insert(first).second) {
            Error(def.steps[static_cast<size_t>(first)].pos,
                  "loop without a step that waits for input in flow '" + flow.name + "': " + chain);
          }
        } else if (color[static_cast<size_t>(e.target)] == 0) {
          self(self, e.target);
        }
      }
      path.pop_back();
      color[static_cast<size_t>(s)] = 2;
    };
    for (size_t i = 0; i < n; ++i) {
      if (color[i] == 0 && !Waits(flow.steps[i])) visit(visit, static_cast<int>(i));
    }
  }

  struct CallEdge {
    int from;
    int to;
    SourcePos pos;
  };

  const FlowConfig& config_;
  const RoutingConfig& routing_;
  std::string site_tz_;
  std::vector<FlowError>* errors_;
  FlowVersion* version_ = nullptr;
  ExprNames names_;
  std::vector<PendingExit> pending_;
  std::vector<CallEdge> calls_;
  int current_step_ = 0;
};

}  // namespace

Result<std::shared_ptr<const FlowVersion>> CompileFlows(const FlowConfig& config,
                                                        const RoutingConfig& routing,
                                                        const std::string& time_zone,
                                                        uint64_t version,
                                                        std::vector<FlowError>* errors) {
  std::vector<FlowError> found;
  Compiler compiler(config, routing, time_zone, &found);
  std::shared_ptr<FlowVersion> v = compiler.Run(version);
  if (found.empty()) return std::shared_ptr<const FlowVersion>(std::move(v));
  std::vector<std::string> files;
  for (const auto& e : found) {
    if (std::find(files.begin(), files.end(), e.pos.file) == files.end())
      files.push_back(e.pos.file);
  }
  std::stable_sort(found.begin(), found.end(), [&](const FlowError& a, const FlowError& b) {
    const auto fa = std::find(files.begin(), files.end(), a.pos.file) - files.begin();
    const auto fb = std::find(files.begin(), files.end(), b.pos.file) - files.begin();
    if (fa != fb) return fa < fb;
    if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
    return a.pos.column < b.pos.column;
  });
  const size_t count = found.size();
  errors->insert(errors->end(), found.begin(), found.end());
  return InvalidArgument(std::to_string(count) + " flow error(s)");
}

Status FlowRegistry::Update(const FlowConfig& config, const RoutingConfig& routing,
                            const std::string& time_zone, std::vector<FlowError>* errors) {
  auto v = CompileFlows(config, routing, time_zone, next_version_, errors);
  if (!v.ok()) return v.status();
  ++next_version_;
  current_ = std::move(v).value();
  return Status::Ok();
}

}  // namespace parley::flow
