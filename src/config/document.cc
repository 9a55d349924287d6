#include "config/document.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "config/config.h"

namespace parley::config {

namespace {

// Adds the top-level sections of `root` (read from `file`) and of the files it includes to `out`.
void Merge(const YAML::Node& root, const std::string& file, std::set<std::string>* seen,
           YAML::Node* out, std::vector<ConfigError>* errors) {
  if (!root.IsMap()) return;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key == "include") continue;
    YAML::Node section = (*out)[key];
    if (kv.second.IsSequence()) {
      for (const auto& item : kv.second) section.push_back(YAML::Clone(item));
    } else if (kv.second.IsMap()) {
      for (const auto& entry : kv.second) section[entry.first.Scalar()] = YAML::Clone(entry.second);
    } else {
      (*out)[key] = YAML::Clone(kv.second);
    }
  }
  YAML::Node include = root["include"];
  if (!include.IsDefined()) return;
  std::vector<std::string> entries;
  if (include.IsScalar()) {
    entries.push_back(include.Scalar());
  } else if (include.IsSequence()) {
    for (const auto& e : include) {
      if (e.IsScalar()) entries.push_back(e.Scalar());
    }
  }
  for (const auto& rel : entries) {
    std::filesystem::path path(rel);
    if (path.is_relative()) path = std::filesystem::path(file).parent_path() / path;
    std::error_code ec;
    const std::string key = std::filesystem::weakly_canonical(path, ec).string();
    if (!seen->insert(key).second) continue;  // read once, as the parser does
    auto loaded = LoadYamlFile(path.lexically_normal().string(), errors);
    if (!loaded.ok()) continue;
    Merge(*loaded, path.lexically_normal().string(), seen, out, errors);
  }
}

std::string Emit(const YAML::Node& node) {
  YAML::Emitter e;
  e << node;
  return e.c_str();
}

// A text that is equal for two nodes exactly when they mean the same: style (flow or block),
// quoting of plain strings and the order of map keys do not matter.
std::string Canonical(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence: {
      std::string out = "[";
      for (const auto& item : node) out += Canonical(item) + ",";
      return out + "]";
    }
    case YAML::NodeType::Map: {
      std::map<std::string, std::string> sorted;
      for (const auto& kv : node) sorted[Canonical(kv.first)] = Canonical(kv.second);
      std::string out = "{";
      for (const auto& [k, v] : sorted) out += k + ":" + v + ",";
      return out + "}";
    }
    default:
      return "~";
  }
}

// The key of a list item: its id, login, code or name (an agent's id, not its display name;
// a user's login); else "#<position>".
std::string ItemKey(const YAML::Node& item, size_t index) {
  if (item.IsMap()) {
    for (const char* k : {"id", "login", "code", "name"}) {
      YAML::Node v = item[k];
      if (v.IsDefined() && v.IsScalar()) return v.Scalar();
    }
  } else if (item.IsScalar()) {
    return item.Scalar();
  }
  return "#" + std::to_string(index + 1);
}

std::vector<std::pair<std::string, std::string>> Items(const YAML::Node& section) {
  std::vector<std::pair<std::string, std::string>> out;
  if (section.IsSequence()) {
    size_t i = 0;
    for (const auto& item : section) out.emplace_back(ItemKey(item, i++), Canonical(item));
  } else if (section.IsMap()) {
    for (const auto& kv : section) out.emplace_back(kv.first.Scalar(), Canonical(kv.second));
  }
  return out;
}

Result<YAML::Node> Parse(std::string_view text, std::string_view which) {
  try {
    YAML::Node n = YAML::Load(std::string(text));
    if (!n.IsNull() && !n.IsMap()) {
      return InvalidArgument(std::string(which) + " configuration is not a map of sections");
    }
    return n;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(which) + " configuration is not valid YAML: " + e.what());
  }
}

}  // namespace

Result<std::string> FlattenConfigFile(const std::string& path, std::vector<ConfigError>* errors) {
  const size_t before = errors->size();
  auto root = LoadYamlFile(path, errors);
  if (!root.ok()) return root.status();
  YAML::Node out(YAML::NodeType::Map);
  std::set<std::string> seen;
  std::error_code ec;
  seen.insert(std::filesystem::weakly_canonical(path, ec).string());
  Merge(*root, path, &seen, &out, errors);
  if (errors->size() > before) return InvalidArgument("cannot read " + path);
  return Emit(out) + "\n";
}

Result<std::vector<ConfigChange>> DiffConfigDocuments(std::string_view before,
                                                      std::string_view after) {
  auto a = Parse(before, "the current");
  if (!a.ok()) return a.status();
  auto b = Parse(after, "the new");
  if (!b.ok()) return b.status();
  std::vector<ConfigChange> out;
  // Sections in schema order, then any others (in the order of the new document).
  std::vector<std::string> sections;
  for (std::string_view k : ConfigSchema().front().keys) {
    if (k != "include") sections.emplace_back(k);
  }
  for (const YAML::Node* doc : {&*a, &*b}) {
    if (!doc->IsMap()) continue;
    for (const auto& kv : *doc) {
      const std::string key = kv.first.Scalar();
      if (std::find(sections.begin(), sections.end(), key) == sections.end()) {
        sections.push_back(key);
      }
    }
  }
  for (const auto& section : sections) {
    YAML::Node sa = a->IsMap() ? (*a)[section] : YAML::Node();
    YAML::Node sb = b->IsMap() ? (*b)[section] : YAML::Node();
    if (sa.IsScalar() || sb.IsScalar()) {
      if (Canonical(sa) != Canonical(sb)) out.push_back({section, "", "changed"});
      continue;
    }
    const auto ia = Items(sa);
    const auto ib = Items(sb);
    std::map<std::string, std::string> old_items(ia.begin(), ia.end());
    std::set<std::string> new_keys;
    for (const auto& [key, text] : ib) {
      new_keys.insert(key);
      auto it = old_items.find(key);
      if (it == old_items.end()) {
        out.push_back({section, key, "added"});
      } else if (it->second != text) {
        out.push_back({section, key, "changed"});
      }
    }
    for (const auto& [key, text] : ia) {
      if (!new_keys.count(key)) out.push_back({section, key, "removed"});
    }
  }
  return out;
}

std::string FormatConfigChanges(const std::vector<ConfigChange>& changes) {
  std::string out;
  for (const auto& c : changes) {
    const char sign = c.change == "added" ? '+' : c.change == "removed" ? '-' : '~';
    out += sign;
    out += ' ';
    out += c.section;
    if (!c.item.empty()) out += " " + c.item;
    out += '\n';
  }
  return out;
}

}  // namespace parley::config
