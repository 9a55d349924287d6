#include "app/config_admin.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

#include "app/data.h"
#include "config/config.h"
#include "config/yaml_util.h"

namespace parley::app {

namespace {

// The keys of a queue the structured edit may write (ports::QueueEdit).
constexpr std::string_view kEditableQueueKeys[] = {"strategy", "service_level", "priority",
                                                   "max_wait", "max_size",      "offer_timeout",
                                                   "wrap_up",  "escalation"};

double SecondsOf(Duration d) { return std::chrono::duration<double>(d).count(); }

// The map of queue `name` in the document's `queues` list (undefined when there is none).
YAML::Node FindQueueNode(const YAML::Node& root, std::string_view name) {
  if (!root.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node queues = root["queues"];
  if (!queues.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
  for (YAML::Node q : queues) {
    if (q.IsMap() && q["name"].IsScalar() && q["name"].Scalar() == name) return q;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// The start of each line of `text` (0-based line numbers, as yaml-cpp's marks count them).
std::vector<size_t> LineStarts(const std::string& text) {
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts.push_back(i + 1);
  }
  return starts;
}

bool BlankOrComment(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos || line[first] == '#';
}

// `edited` (queue `queue` of `text`, changed) written over the queue's own lines only, so the
// rest of the document keeps its comments and layout: from the queue's first key to its last
// line before the next queue or section (blank and comment lines just before those stay), the
// queue emitted in block style at its indentation. "" when the queue is not a block map in a
// block list (flow style `[{...}]`) or the result does not read back as `expected` (the whole
// edited document): the caller then stores the document re-emitted.
std::string SpliceQueue(const std::string& text, std::string_view queue, const YAML::Node& edited,
                        const YAML::Node& expected) {
  std::vector<config::ConfigError> ignored;
  auto original = config::LoadYamlText(text, "", &ignored);
  if (!original.ok()) return "";
  const YAML::Node queues = (*original)["queues"];
  const YAML::Node node = FindQueueNode(*original, queue);
  if (!node.IsDefined() || queues.Style() != YAML::EmitterStyle::Block ||
      node.Style() != YAML::EmitterStyle::Block) {
    return "";
  }
  const std::vector<size_t> starts = LineStarts(text);
  const int first = node.Mark().line;
  int boundary = static_cast<int>(starts.size());  // the first line of whatever follows
  auto later = [&](const YAML::Mark& m) {
    if (m.line > first) boundary = std::min(boundary, m.line);
  };
  for (const auto& kv : *original) later(kv.first.Mark());
  for (const auto& q : queues) later(q.Mark());
  int last = boundary - 1;
  auto line_text = [&](int l) {
    const size_t end = static_cast<size_t>(l) + 1 < starts.size() ? starts[l + 1] : text.size();
    return std::string_view(text).substr(starts[l], end - starts[l]);
  };
  while (last > first && BlankOrComment(line_text(last))) --last;
  const size_t from = starts[first] + static_cast<size_t>(node.Mark().column);
  size_t to = starts[last] + line_text(last).size();
  if (to > from && text[to - 1] == '\n') --to;
  YAML::Emitter emitter;
  emitter << edited;
  std::string block = emitter.c_str();
  const std::string indent(static_cast<size_t>(node.Mark().column), ' ');
  for (size_t at = block.find('\n'); at != std::string::npos; at = block.find('\n', at + 1)) {
    block.insert(at + 1, indent);
  }
  std::string spliced = text.substr(0, from) + block + text.substr(to);
  auto check = config::LoadYamlText(spliced, "", &ignored);
  if (!check.ok() || YAML::Dump(*check) != YAML::Dump(expected)) return "";
  return spliced;
}

// Names the field of queue `name` that holds each problem, by the lines of its keys in `yaml`.
void AttributeProblems(const std::string& yaml, std::string_view name,
                       std::vector<ports::ConfigProblem>* problems) {
  std::vector<config::ConfigError> ignored;
  auto root = config::LoadYamlText(yaml, "", &ignored);
  if (!root.ok()) return;
  const YAML::Node queue = FindQueueNode(*root, name);
  if (!queue.IsDefined()) return;
  std::vector<std::pair<int, std::string>> keys;  // (line, key) of the queue's keys
  for (const auto& kv : queue) {
    keys.emplace_back(config::PositionOf(kv.first).line, kv.first.Scalar());
  }
  if (keys.empty()) return;
  std::sort(keys.begin(), keys.end());
  // The queue ends where the next thing after its first key begins: another queue or section.
  int end = std::numeric_limits<int>::max();
  auto later = [&](const YAML::Node& n) {
    const int line = config::PositionOf(n).line;
    if (line > keys.front().first) end = std::min(end, line);
  };
  for (const auto& kv : *root) later(kv.first);
  for (const auto& q : (*root)["queues"]) later(q);
  for (auto& p : *problems) {
    if (p.line < keys.front().first || p.line >= end) continue;
    auto it = std::upper_bound(keys.begin(), keys.end(), p.line,
                               [](int line, const auto& k) { return line < k.first; });
    const std::string& key = std::prev(it)->second;
    if (std::find(std::begin(kEditableQueueKeys), std::end(kEditableQueueKeys), key) !=
        std::end(kEditableQueueKeys)) {
      p.field = key;
    }
  }
}

}  // namespace

StoreConfigAdministration::StoreConfigAdministration(ports::ConfigDocuments& store,
                                                     std::function<void(uint64_t)> applied)
    : store_(store), applied_(std::move(applied)) {}

Result<ports::ConfigDocument> StoreConfigAdministration::CurrentConfig() {
  return store_.CurrentConfig();
}

Result<std::vector<ports::ConfigDocument>> StoreConfigAdministration::ConfigHistory(size_t limit) {
  return store_.ConfigHistory(limit, /*with_text=*/false);
}

Result<ports::ConfigApplyOutcome> StoreConfigAdministration::Apply(
    const ports::ConfigApplyRequest& request) {
  auto outcome = ApplyConfigDocument(store_, request, "configuration");
  if (outcome.ok() && outcome->applied && applied_) applied_(outcome->version);
  return outcome;
}

Result<ports::ConfigApplyOutcome> StoreConfigAdministration::ApplyConfig(
    const ports::ConfigApplyRequest& request) {
  return Apply(request);
}

Result<ports::QueueSettings> StoreConfigAdministration::GetQueueSettings(const std::string& queue) {
  auto current = store_.CurrentConfig();
  if (!current.ok()) return current.status();
  auto config = ParseStoredConfig(*current);
  if (!config.ok()) return config.status();
  const RoutingConfig& routing = (*config)->routing;
  auto index = routing.FindQueue(queue);
  if (!index)
    return NotFound("no queue '" + queue + "' in configuration version " +
                    std::to_string(current->version));
  const QueueDef& q = routing.queues[*index];
  ports::QueueSettings s;
  s.name = q.name;
  s.strategy = std::string(StrategyName(q.strategy));
  s.service_level_target = q.service_level_fraction;
  s.service_level_seconds = SecondsOf(q.service_level_threshold);
  s.priority = q.priority;
  s.max_wait_seconds = SecondsOf(q.max_wait);
  s.max_size = q.max_size;
  s.offer_timeout_seconds = SecondsOf(q.offer_timeout);
  s.wrap_up_seconds = SecondsOf(q.wrap_up);
  for (const EscalationStep& step : q.escalation) {
    ports::EscalationStepSettings e;
    e.after_seconds = SecondsOf(step.after);
    if (step.skills) {
      e.skills.emplace();
      for (const auto& r : *step.skills) (*e.skills)[routing.skills[r.skill]] = r.min_proficiency;
    }
    if (step.teams) {
      e.teams.emplace();
      for (TeamIndex t : *step.teams) e.teams->push_back(routing.teams[t].name);
    }
    e.priority_boost = step.priority_boost;
    if (step.overflow_queue != kNone) e.overflow = routing.queues[step.overflow_queue].name;
    e.flow = step.flow;
    s.escalation.push_back(std::move(e));
  }
  s.version = current->version;
  return s;
}

Result<ports::ConfigApplyOutcome> StoreConfigAdministration::EditQueue(
    const std::string& queue, const ports::QueueEdit& edit) {
  auto current = store_.CurrentConfig();
  if (!current.ok()) return current.status();
  std::vector<config::ConfigError> errors;
  auto root = config::LoadYamlText(current->yaml, "configuration", &errors);
  if (!root.ok()) {
    return Internal("stored configuration v" + std::to_string(current->version) +
                    " is not valid YAML");
  }
  YAML::Node node = FindQueueNode(*root, queue);
  if (!node.IsDefined()) {
    return NotFound("no queue '" + queue + "' in configuration version " +
                    std::to_string(current->version));
  }
  for (const auto& [key, value] : edit.fields) {
    if (std::find(std::begin(kEditableQueueKeys), std::end(kEditableQueueKeys), key) ==
        std::end(kEditableQueueKeys)) {
      return InvalidArgument("'" + key + "' is not a queue setting the structured edit writes");
    }
    if (Status s = config::ApplyOverride(node, key, value); !s.ok()) return s;
  }
  ports::ConfigApplyRequest request;
  request.yaml = SpliceQueue(current->yaml, queue, node, *root);
  if (request.yaml.empty()) {  // not splicable: the whole document re-emitted (comments lost)
    YAML::Emitter emitter;
    emitter << *root;
    request.yaml = std::string(emitter.c_str()) + "\n";
  }
  request.expected_version = edit.expected_version;
  request.applied_by = edit.applied_by;
  request.comment = "queue '" + queue + "' edited";
  auto outcome = Apply(request);
  if (outcome.ok()) AttributeProblems(outcome->yaml, queue, &outcome->problems);
  return outcome;
}

Result<ports::ConfigNames> StoreConfigAdministration::Names() {
  auto current = store_.CurrentConfig();
  if (!current.ok()) return current.status();
  auto config = ParseStoredConfig(*current);
  if (!config.ok()) return config.status();
  ports::ConfigNames names;
  for (const auto& u : (*config)->users) names.users.push_back(u.login);
  for (const auto& a : (*config)->routing.agents) names.agents.push_back(a.name);
  for (const auto& t : (*config)->routing.teams) names.teams.push_back(t.name);
  return names;
}

}  // namespace parley::app
