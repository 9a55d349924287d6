#pragma once
// The configuration as one document: what the store keeps (src/ports/store.h ConfigDocument),
// what `parley config export` prints and `parley config apply` compares. A configuration written
// as several files (`include:`) is flattened into one YAML text with the same meaning, and two
// documents are compared item by item (an agent, a queue, a user, a setting) so an administrator
// sees what an apply will change before it happens.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "config/yaml_util.h"

namespace parley::config {

// Reads `path` and every file it includes and returns one YAML document without `include`:
// lists (skills, agents, queues, ...) concatenated in reading order, maps (site, routing,
// retention) merged. Errors (unreadable file, syntax) are appended to `errors` with positions.
// Callers validate the files first (LoadConfigFile) so that errors name the files people edit.
Result<std::string> FlattenConfigFile(const std::string& path, std::vector<ConfigError>* errors);

// One difference between two configuration documents, e.g. {"queues", "billing", "changed"}.
struct ConfigChange {
  std::string section;  // top-level key
  std::string item;     // name of the list item or key of the map; "" for a whole section
  std::string change;   // "added", "removed" or "changed"
  bool operator==(const ConfigChange&) const = default;
};

// What turns `before` into `after`, section by section in schema order, items by name (`name`,
// `id`, `login` or `code`, else by position). Both must be valid YAML (kInvalidArgument
// otherwise). An empty result means the two mean the same configuration.
Result<std::vector<ConfigChange>> DiffConfigDocuments(std::string_view before,
                                                      std::string_view after);

// "+ queues billing", "- agents zoe", "~ routing reoffer_delay": one line per change.
std::string FormatConfigChanges(const std::vector<ConfigChange>& changes);

}  // namespace parley::config
