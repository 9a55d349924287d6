#pragma once
// The inbound port for administering the configuration over the API: the current document, its
// history, applying a whole new document, and the structured edit of one queue. It is the same
// path as `parley config apply` (validated like `parley validate`, shown as a diff, stored all or
// nothing with an expected version), implemented by the composition root (src/app) over the
// store; the running server picks each new version up (docs/configuration.md, "Changing the
// configuration"). Implementations are thread-safe and may block on the store: call them off any
// event loop that must not wait.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ports/store.h"

namespace parley::ports {

// One problem found in a configuration document (positions 1-based, 0 unknown). `field` is set
// by the structured queue edit when the problem lies in one of the fields it wrote
// ("service_level", "escalation", ...).
struct ConfigProblem {
  int line = 0;
  int column = 0;
  std::string message;
  std::string field;
  bool operator==(const ConfigProblem&) const = default;
};

// One item that differs between two documents: {"queues", "billing", "changed"}.
struct ConfigItemChange {
  std::string section;
  std::string item;
  std::string change;  // "added", "removed", "changed"
  bool operator==(const ConfigItemChange&) const = default;
};

// What an apply did, or would do (dry run), or why the document was refused (`problems`). A
// stale expected version is a kConflict status instead, a store failure its own status.
struct ConfigApplyOutcome {
  uint64_t version = 0;  // the new version; the current one after a dry run or no change
  bool applied = false;  // false for a dry run, for no change and for a refusal
  std::vector<ConfigItemChange> changes;
  std::vector<ConfigProblem> problems;  // non-empty exactly when the document is invalid
  std::string yaml;                     // the document that was (or would be) stored
};

struct ConfigApplyRequest {
  std::string yaml;
  uint64_t expected_version = 0;  // the version the edit was based on
  std::string applied_by;         // the login, for the history and the audit log
  std::string comment;
  bool dry_run = false;
};

// One escalation step of a queue, in the configuration's units (durations in seconds).
struct EscalationStepSettings {
  double after_seconds = 0;
  std::optional<std::map<std::string, int>> skills;  // skill -> minimum proficiency
  std::optional<std::vector<std::string>> teams;
  int64_t priority_boost = 0;
  std::string overflow;  // queue name or ""
  std::string flow;      // flow name or ""
  bool operator==(const EscalationStepSettings&) const = default;
};

// The settings of a queue the structured edit reads and writes.
struct QueueSettings {
  std::string name;
  std::string strategy;
  double service_level_target = 0.8;
  double service_level_seconds = 20;
  int64_t priority = 0;
  double max_wait_seconds = 0;
  int64_t max_size = 0;
  double offer_timeout_seconds = 20;
  double wrap_up_seconds = 0;
  std::vector<EscalationStepSettings> escalation;
  uint64_t version = 0;  // of the configuration read
};

// A structured edit: for each field name of QueueSettings' YAML form (`strategy`,
// `service_level`, `priority`, `max_wait`, `max_size`, `offer_timeout`, `wrap_up`,
// `escalation`), the new value as JSON text (JSON is YAML's flow syntax). Fields not listed keep
// their value.
struct QueueEdit {
  std::map<std::string, std::string> fields;
  uint64_t expected_version = 0;
  std::string applied_by;
};

// Names the current configuration declares, for checks made outside it (a user's agent link).
struct ConfigNames {
  std::vector<std::string> users;   // logins of `users:`
  std::vector<std::string> agents;  // agent ids
  std::vector<std::string> teams;
};

class ConfigAdministration {
 public:
  virtual ~ConfigAdministration() = default;
  virtual Result<ConfigDocument> CurrentConfig() = 0;  // kNotFound before the first
  virtual Result<std::vector<ConfigDocument>> ConfigHistory(size_t limit) = 0;  // newest first
  virtual Result<ConfigApplyOutcome> ApplyConfig(const ConfigApplyRequest& request) = 0;
  virtual Result<QueueSettings> GetQueueSettings(const std::string& queue) = 0;  // kNotFound
  virtual Result<ConfigApplyOutcome> EditQueue(const std::string& queue, const QueueEdit& edit) = 0;
  virtual Result<ConfigNames> Names() = 0;
};
using ConfigAdministrationPtr = std::unique_ptr<ConfigAdministration>;

}  // namespace parley::ports
