#include "config/config.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <limits>
#include <set>

#include "base/url.h"
#include "domain/event.h"

namespace parley::config {

std::string SourceLocation::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

void SourceMap::Add(SourceKind kind, std::string name, SourceLocation where) {
  names_.insert_or_assign({kind, std::move(name)}, std::move(where));
}

void SourceMap::AddEscalationStep(std::string queue, size_t step, SourceLocation where) {
  steps_.insert_or_assign({std::move(queue), step}, std::move(where));
}

const SourceLocation* SourceMap::Find(SourceKind kind, std::string_view name) const {
  auto it = names_.find(std::make_pair(kind, std::string(name)));
  return it == names_.end() ? nullptr : &it->second;
}

const SourceLocation* SourceMap::FindEscalationStep(std::string_view queue, size_t step) const {
  auto it = steps_.find(std::make_pair(std::string(queue), step));
  return it == steps_.end() ? nullptr : &it->second;
}

const std::vector<SchemaSection>& ConfigSchema() {
  static const std::vector<SchemaSection> kSchema = {
      {"top level",
       {"include", "site", "routing", "skills", "teams", "agents", "queues", "schedules", "flows",
        "entry_points", "users", "reason_codes", "disposition_codes", "webhooks", "retention",
        "reports", "lookups", "voice"}},
      {"site", {"name", "time_zone"}},
      {"routing", {"max_consecutive_misses", "reoffer_delay"}},
      {"skills[]", {"name", "description"}},
      {"teams[]", {"name", "lead"}},
      {"agents[]",
       {"id", "name", "team", "skills", "capacity", "voice_blocks_other_channels",
        "wrap_up_blocks_other_channels", "queues"}},
      {"agents[].queues[]", {"queue", "order", "delay"}},
      {"queues[]",
       {"name", "channels", "strategy", "service_level", "priority", "max_wait", "max_size",
        "offer_timeout", "wrap_up", "aging_per_minute", "skills", "teams", "members",
        "timeout_flow", "escalation", "recording", "recording_announcement"}},
      {"queues[].recording_announcement", {"recording", "text"}},
      {"queues[].service_level", {"target", "seconds"}},
      {"queues[].escalation[]", {"after", "skills", "teams", "priority_boost", "overflow", "flow"}},
      {"schedules[]", {"name", "time_zone", "weekly", "exceptions"}},
      {"schedules[].exceptions[]", {"date", "name", "hours"}},
      {"flows[]", {"name", "description", "start", "time_zone", "steps"}},
      {"flows[].steps[]", {"id", "type", "next", "exits"}},
      {"entry_points[]", {"channel", "address", "flow"}},
      {"users[]", {"login", "name", "roles", "team", "agent"}},
      {"reason_codes[]", {"code", "label"}},
      {"disposition_codes[]", {"code", "label"}},
      {"webhooks[]", {"name", "url", "events", "secret_env"}},
      {"retention", {"contacts", "events", "audit", "recordings"}},
      {"reports", {"fcr_window"}},
      {"lookups", {"timeout", "workers", "max_queued", "max_response_bytes"}},
      {"voice",
       {"realm", "media_address", "media_ports", "media_threads", "ring_timeout", "media_timeout",
        "session_timer", "trunks", "outbound_destinations", "outbound_trunk"}},
      {"voice.trunks[]", {"name", "addresses", "outbound"}},
      {"voice.trunks[].outbound",
       {"host", "port", "transport", "username", "password_env", "caller_id"}},
  };
  return kSchema;
}

namespace {

const std::vector<std::string_view>& KeysOf(std::string_view section) {
  for (const auto& s : ConfigSchema()) {
    if (s.path == section) return s.keys;
  }
  PARLEY_CHECK(false);
  static const std::vector<std::string_view> kNone;
  return kNone;
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string JoinNames(const std::vector<std::string>& names, size_t limit = 12) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  if (names.size() > limit) out += ", ...";
  return out;
}

std::string DurationText(Duration d) {
  const double s = ToSeconds(d);
  std::string text = std::to_string(s);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text + "s";
}

constexpr std::array<std::string_view, 4> kKindNames = {"skill", "team", "agent", "queue"};

// One file's YAML document, read directly or through `include:`.
struct Fragment {
  std::string file;
  YAML::Node root;
};

// A list element or map of the schema, with the fragment it came from.
struct Item {
  YAML::Node node;
  size_t fragment = 0;
};

// Reads all fragments into one Config. Errors are collected locally, then sorted.
class Parser {
 public:
  explicit Parser(const ParseOptions& opts) : opts_(opts) {}

  Result<std::shared_ptr<const Config>> Run(const YAML::Node& root, const std::string& file,
                                            std::vector<ConfigError>* out) {
    try {
      ReadAll(root, file);
      ApplyOverrides();
      Parse();
    } catch (const YAML::Exception& e) {
      // Defensive: the parser checks node types before it reads them.
      errors_.push_back({file, e.mark.is_null() ? 0 : e.mark.line + 1,
                         e.mark.is_null() ? 0 : e.mark.column + 1, e.msg});
    } catch (const std::exception& e) {
      errors_.push_back({file, 0, 0, std::string("internal error: ") + e.what()});
    }
    if (errors_.empty()) {
      config_->files.clear();
      for (const auto& f : fragments_) config_->files.push_back(f.file);
      return std::shared_ptr<const Config>(std::move(config_));
    }
    const auto file_rank = [this](const std::string& f) {
      auto it = std::find(file_order_.begin(), file_order_.end(), f);
      return it - file_order_.begin();
    };
    std::stable_sort(errors_.begin(), errors_.end(),
                     [&](const ConfigError& a, const ConfigError& b) {
                       const auto ra = file_rank(a.file), rb = file_rank(b.file);
                       if (ra != rb) return ra < rb;
                       if (a.line != b.line) return a.line < b.line;
                       return a.column < b.column;
                     });
    const size_t count = errors_.size();
    out->insert(out->end(), errors_.begin(), errors_.end());
    return InvalidArgument(std::to_string(count) + " configuration error(s) in " + file);
  }

 private:
  // ---- reading files ----

  static std::string CanonicalKey(const std::string& path) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(path, ec);
    return ec ? std::filesystem::path(path).lexically_normal().string() : canonical.string();
  }

  void ReadAll(const YAML::Node& root, const std::string& file) {
    file_order_.push_back(file);
    std::vector<std::string> stack;
    AddFragment(root, file, &stack);
  }

  void AddFragment(const YAML::Node& root, const std::string& file,
                   std::vector<std::string>* stack) {
    const size_t index = fragments_.size();
    fragments_.push_back({file, root});
    readers_.emplace_back(file, &errors_);
    const std::string key = CanonicalKey(file);
    seen_files_.insert(key);
    stack->push_back(key);
    const YamlReader& r = readers_[index];
    if (root.IsMap()) {
      YAML::Node include = YamlReader::Get(root, "include");
      if (include.IsDefined() && !opts_.allow_files) {
        r.Error(include, "include is not allowed here: the document must be self-contained");
      } else if (include.IsDefined()) {
        std::vector<YAML::Node> entries;
        if (include.IsScalar()) {
          entries.push_back(include);
        } else if (r.ExpectSequence(include, "include")) {
          for (const auto& e : include) entries.push_back(e);
        }
        for (const auto& entry : entries) {
          auto rel = r.String(entry, "include entry");
          if (!rel) continue;
          std::filesystem::path path(*rel);
          if (path.is_relative()) path = std::filesystem::path(file).parent_path() / path;
          const std::string inc_file = path.lexically_normal().string();
          const std::string inc_key = CanonicalKey(inc_file);
          auto on_stack = std::find(stack->begin(), stack->end(), inc_key);
          if (on_stack != stack->end()) {
            std::string chain;
            for (auto it = on_stack; it != stack->end(); ++it) {
              chain += std::filesystem::path(*it).filename().string() + " -> ";
            }
            r.Error(entry, "include cycle: " + chain + path.filename().string());
            continue;
          }
          if (seen_files_.count(inc_key)) continue;  // included twice, not in a cycle: read once
          file_order_.push_back(inc_file);
          const size_t before = errors_.size();
          Result<YAML::Node> loaded = LoadYamlFile(inc_file, &errors_);
          if (!loaded.ok()) {
            if (errors_.size() > before && errors_[before].line == 0) {
              // The file could not be read: say so where it was included.
              errors_[before] = {file, PositionOf(entry).line, PositionOf(entry).column,
                                 "cannot read included file '" + inc_file + "'"};
            }
            continue;
          }
          AddFragment(*loaded, inc_file, stack);
        }
      }
    }
    stack->pop_back();
  }

  void ApplyOverrides() {
    if (opts_.overrides.empty()) return;
    // reset, not operator=: assigning a Node writes through to the caller's tree.
    for (auto& f : fragments_) f.root.reset(YAML::Clone(f.root));
    for (const auto& o : opts_.overrides) {
      Status first;
      bool applied = false;
      for (auto& f : fragments_) {
        Status s = ApplyOverride(f.root, o.path, o.value);
        if (s.ok()) {
          applied = true;
          break;
        }
        if (first.ok()) first = s;
      }
      if (!applied) errors_.push_back({"<override>", 0, 0, first.message()});
    }
  }

  // ---- parsing ----

  const YamlReader& R(const Item& item) const { return readers_[item.fragment]; }

  void Parse() {
    config_ = std::make_unique<Config>();
    std::vector<Item> site, routing, skills, teams, agents, queues, schedules, flows, entries,
        users, reasons, dispositions, webhooks, retention, reports, lookups, voice;
    for (size_t i = 0; i < fragments_.size(); ++i) {
      const YAML::Node& root = fragments_[i].root;
      const YamlReader& r = readers_[i];
      if (root.IsNull() || !root.IsDefined()) continue;  // an empty file is an empty config
      if (!root.IsMap()) {
        r.Error(root, "expected a map of configuration sections at the top level");
        continue;
      }
      std::vector<std::string_view> known = KeysOf("top level");
      if (i == 0) {
        for (const auto& k : opts_.extra_top_level_keys) known.push_back(k);
      }
      r.CheckKeys(root, "the top level", known);
      const auto collect_map = [&](std::string_view key, std::vector<Item>* out) {
        YAML::Node n = YamlReader::Get(root, key);
        if (n.IsDefined() && r.ExpectMap(n, std::string(key))) out->push_back({n, i});
      };
      const auto collect_list = [&](std::string_view key, std::vector<Item>* out) {
        YAML::Node n = YamlReader::Get(root, key);
        if (!n.IsDefined() || n.IsNull()) return;
        if (!r.ExpectSequence(n, std::string(key))) return;
        for (const auto& e : n) out->push_back({e, i});
      };
      collect_map("site", &site);
      collect_map("routing", &routing);
      collect_list("skills", &skills);
      collect_list("teams", &teams);
      collect_list("agents", &agents);
      collect_list("queues", &queues);
      collect_list("schedules", &schedules);
      collect_list("flows", &flows);
      collect_list("entry_points", &entries);
      collect_list("users", &users);
      collect_list("reason_codes", &reasons);
      collect_list("disposition_codes", &dispositions);
      collect_list("webhooks", &webhooks);
      collect_map("retention", &retention);
      collect_map("reports", &reports);
      collect_map("lookups", &lookups);
      collect_map("voice", &voice);
    }
    ParseSite(site);
    ParseRouting(routing);

    // Names first, so that references may point forward and across files.
    std::vector<std::pair<Item, std::string>> named_teams, named_agents, named_queues;
    for (const Item& item : skills) DeclareSkill(item);
    for (const Item& item : teams)
      Declare(SourceKind::kTeam, item, "name", "teams[]", &named_teams);
    for (const Item& item : agents)
      Declare(SourceKind::kAgent, item, "id", "agents[]", &named_agents);
    for (const Item& item : queues)
      Declare(SourceKind::kQueue, item, "name", "queues[]", &named_queues);

    RoutingConfig& rc = config_->routing;
    rc.teams.resize(named_teams.size());
    rc.agents.resize(named_agents.size());
    rc.queues.resize(named_queues.size());
    for (size_t i = 0; i < named_teams.size(); ++i) {
      ParseTeam(named_teams[i].first, named_teams[i].second, &rc.teams[i]);
    }
    for (size_t i = 0; i < named_agents.size(); ++i) {
      ParseAgent(named_agents[i].first, named_agents[i].second, &rc.agents[i]);
    }
    for (size_t i = 0; i < named_queues.size(); ++i) {
      ParseQueue(named_queues[i].first, named_queues[i].second, static_cast<QueueIndex>(i),
                 &rc.queues[i]);
    }
    for (const Item& item : schedules) ParseSchedule(item);
    for (const Item& item : flows) ParseFlow(item);
    CheckFlowReferences();
    for (const Item& item : entries) ParseEntryPoint(item);
    for (const Item& item : users) ParseUser(item);
    for (const Item& item : reasons) {
      ParseCode(item, "reason_codes[]", "reason code", &reason_names_, &config_->reason_codes);
    }
    for (const Item& item : dispositions) {
      ParseCode(item, "disposition_codes[]", "disposition code", &disposition_names_,
                &config_->disposition_codes);
    }
    for (const Item& item : webhooks) ParseWebhook(item);
    ParseRetention(retention);
    ParseReports(reports);
    ParseLookups(lookups);
    ParseVoice(voice);
    CheckOutboundTrunk();
  }

  // ---- reason and disposition codes, webhooks, retention ----

  // A code is a plain name (`- lunch`) or a map (`- {code: lunch, label: Lunch break}`).
  void ParseCode(const Item& item, std::string_view section, const std::string& kind,
                 std::map<std::string, SourcePos>* seen, std::vector<CodeDef>* out) {
    const YamlReader& r = R(item);
    CodeDef def;
    YAML::Node name_node = item.node;
    if (item.node.IsMap()) {
      r.CheckKeys(item.node, kind, KeysOf(section));
      // reset, not operator=: assigning a Node writes through to item.node.
      name_node.reset(r.Require(item.node, "code", kind));
      if (!name_node.IsDefined()) return;
    }
    auto code = r.String(name_node, kind);
    if (!code) return;
    if (!IsValidLoginName(*code)) {
      r.Error(name_node, "invalid " + kind + " '" + *code +
                             "'; use 1-64 characters a-z, 0-9, '.', '_', '-', starting with a "
                             "letter or digit");
      return;
    }
    if (!NewName(seen, kind, *code, name_node, r)) return;
    def.code = *code;
    def.label = *code;
    if (item.node.IsMap()) {
      if (auto l = YamlReader::Get(item.node, "label"); l.IsDefined()) {
        if (auto v = r.String(l, "label of " + kind + " '" + *code + "'")) def.label = *v;
      }
    }
    out->push_back(std::move(def));
  }

  void ParseWebhook(const Item& item) {
    const YamlReader& r = R(item);
    if (!r.ExpectMap(item.node, "each webhook (a map with 'name' and 'url')")) return;
    YAML::Node n = r.Require(item.node, "name", "webhook");
    std::optional<std::string> name;
    if (n.IsDefined()) name = r.String(n, "webhook name");
    const std::string where = name ? "webhook '" + *name + "'" : "webhook";
    std::vector<std::string_view> known = KeysOf("webhooks[]");
    for (const auto& kv : item.node) {
      if (kv.first.IsScalar() && kv.first.Scalar() == "secret") {
        known.push_back("secret");
        r.Error(kv.first, "'secret' is not allowed in " + where +
                              ": secrets never live in configuration files; put it in an "
                              "environment variable and name that variable with 'secret_env'");
      }
    }
    r.CheckKeys(item.node, where, known);
    if (!name || !NewName(&webhook_names_, "webhook", *name, n, r)) return;
    WebhookDef def;
    def.name = *name;
    if (auto u = r.Require(item.node, "url", where); u.IsDefined()) {
      if (auto v = r.String(u, "url of " + where)) {
        // The webhook client's own parser: what passes here, the dispatcher can send. Its
        // message never repeats the URL, whose query may carry a token.
        if (auto url = ParseHttpUrl(*v); !url.ok()) {
          r.Error(u, "url of " + where + " " + url.status().message());
        } else {
          def.url = *v;
        }
      }
    }
    if (auto e = YamlReader::Get(item.node, "events"); e.IsDefined()) {
      std::vector<YAML::Node> entries;
      if (e.IsScalar()) {
        entries.push_back(e);
      } else if (r.ExpectSequence(e, "events of " + where)) {
        for (const auto& x : e) entries.push_back(x);
      }
      for (const auto& x : entries) {
        auto v = r.String(x, "event type of " + where);
        if (!v) continue;
        bool known_type = false;
        std::vector<std::string_view> names;
        for (int t = 0; t < kEventTypeCount; ++t) {
          names.push_back(EventTypeName(static_cast<EventType>(t)));
          if (names.back() == *v) known_type = true;
        }
        if (!known_type) {
          const std::string hint = NearestKey(*v, names);
          r.Error(x, "unknown event type '" + *v + "' in " + where +
                         (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
          continue;
        }
        def.events.push_back(*v);
      }
    }
    if (auto se = YamlReader::Get(item.node, "secret_env"); se.IsDefined()) {
      if (auto v = r.String(se, "secret_env of " + where)) def.secret_env = *v;
    }
    config_->webhooks.push_back(std::move(def));
  }

  void ParseRetention(const std::vector<Item>& items) {
    for (const Item& item : items) {
      const YamlReader& r = R(item);
      r.CheckKeys(item.node, "retention", KeysOf("retention"));
      for (const auto& kv : item.node) {
        if (!kv.first.IsScalar() || !FirstDefinition("retention", kv.first, item)) continue;
        const std::string& key = kv.first.Scalar();
        Duration* target = key == "contacts"     ? &config_->retention.contacts
                           : key == "events"     ? &config_->retention.events
                           : key == "audit"      ? &config_->retention.audit
                           : key == "recordings" ? &config_->retention.recordings
                                                 : nullptr;
        if (target == nullptr) continue;
        if (auto v = r.DurationValue(kv.second, "retention " + key)) *target = *v;
      }
    }
  }

  // The flows' HTTP lookup limits; bounds keep a typo from starving or flooding the server.
  void ParseReports(const std::vector<Item>& items) {
    for (const Item& item : items) {
      const YamlReader& r = R(item);
      r.CheckKeys(item.node, "reports", KeysOf("reports"));
      for (const auto& kv : item.node) {
        if (!kv.first.IsScalar() || !FirstDefinition("reports", kv.first, item)) continue;
        if (kv.first.Scalar() != "fcr_window") continue;
        if (auto v = r.DurationValue(kv.second, "reports fcr_window")) {
          if (*v < std::chrono::minutes(1) || *v > std::chrono::hours(24 * 90)) {
            r.Error(kv.second, "reports fcr_window must be between 1m and 90d, got '" +
                                   kv.second.Scalar() + "'");
          } else {
            config_->reports.fcr_window = *v;
          }
        }
      }
    }
  }

  void ParseLookups(const std::vector<Item>& items) {
    LookupLimits& l = config_->flows.lookups;
    for (const Item& item : items) {
      const YamlReader& r = R(item);
      r.CheckKeys(item.node, "lookups", KeysOf("lookups"));
      for (const auto& kv : item.node) {
        if (!kv.first.IsScalar() || !FirstDefinition("lookups", kv.first, item)) continue;
        const std::string& key = kv.first.Scalar();
        if (key == "timeout") {
          if (auto v = r.DurationValue(kv.second, "lookups timeout")) {
            if (*v < Seconds(0.1) || *v > Seconds(300)) {
              r.Error(kv.second, "lookups timeout must be between 100ms and 5m, got '" +
                                     kv.second.Scalar() + "'");
            } else {
              l.timeout = *v;
            }
          }
        } else if (key == "workers") {
          if (auto v = r.Int(kv.second, "lookups workers", 1, 64)) {
            l.workers = static_cast<uint32_t>(*v);
          }
        } else if (key == "max_queued") {
          if (auto v = r.Int(kv.second, "lookups max_queued", 0, 100000)) {
            l.max_queued = static_cast<uint32_t>(*v);
          }
        } else if (key == "max_response_bytes") {
          if (auto v = r.Int(kv.second, "lookups max_response_bytes", 1024, 16 * 1024 * 1024)) {
            l.max_response_bytes = static_cast<uint64_t>(*v);
          }
        }
      }
    }
  }

  // ---- voice ----

  static bool IsNumericAddress(const std::string& a) {
    if (a.empty() || a.size() > 45) return false;
    bool colon = false, dot = false;
    for (char c : a) {
      if (c == ':')
        colon = true;
      else if (c == '.')
        dot = true;
      else if (!std::isxdigit(static_cast<unsigned char>(c)))
        return false;
    }
    return colon || dot;
  }

  void ParseVoice(const std::vector<Item>& items) {
    VoiceDef& v = config_->voice;
    for (const Item& item : items) {
      const YamlReader& r = R(item);
      r.CheckKeys(item.node, "voice", KeysOf("voice"));
      if (auto n = YamlReader::Get(item.node, "realm"); n.IsDefined()) {
        if (auto s = r.String(n, "voice realm")) {
          if (s->empty() || s->find_first_of("\"\\ \r\n") != std::string::npos) {
            r.Error(n, "voice realm must be a non-empty word without quotes or spaces");
          } else {
            v.realm = *s;
          }
        }
      }
      if (auto n = YamlReader::Get(item.node, "media_address"); n.IsDefined()) {
        if (auto s = r.String(n, "voice media_address")) {
          if (!IsNumericAddress(*s)) {
            r.Error(n,
                    "voice media_address must be a numeric IPv4 or IPv6 address, got '" + *s + "'");
          } else {
            v.media_address = *s;
          }
        }
      }
      if (auto n = YamlReader::Get(item.node, "media_ports"); n.IsDefined()) {
        if (auto s = r.String(n, "voice media_ports")) {
          const size_t dash = s->find('-');
          char* end1 = nullptr;
          char* end2 = nullptr;
          const long lo = dash == std::string::npos ? 0 : std::strtol(s->c_str(), &end1, 10);
          const long hi =
              dash == std::string::npos ? 0 : std::strtol(s->c_str() + dash + 1, &end2, 10);
          if (dash == std::string::npos || end1 != s->c_str() + dash || *end2 != '\0' ||
              lo < 1024 || hi > 65535 || hi < lo + 1) {
            r.Error(n,
                    "voice media_ports must be FIRST-LAST with 1024 <= FIRST < LAST <= 65535, "
                    "got '" +
                        *s + "'");
          } else {
            v.media_port_min = static_cast<uint16_t>(lo);
            v.media_port_max = static_cast<uint16_t>(hi);
          }
        }
      }
      if (auto n = YamlReader::Get(item.node, "media_threads"); n.IsDefined()) {
        if (auto t = r.Int(n, "voice media_threads", 1, 64)) v.media_threads = static_cast<int>(*t);
      }
      if (auto n = YamlReader::Get(item.node, "ring_timeout"); n.IsDefined()) {
        if (auto d = r.DurationValue(n, "voice ring_timeout")) v.ring_timeout = *d;
      }
      if (auto n = YamlReader::Get(item.node, "media_timeout"); n.IsDefined()) {
        if (auto d = r.DurationValue(n, "voice media_timeout")) {
          if (*d < Seconds(1) || *d > Seconds(3600)) {
            r.Error(n,
                    "voice media_timeout must be between 1s and 1h (a lost BYE must still end "
                    "the call)");
          } else {
            v.media_timeout = *d;
          }
        }
      }
      if (auto n = YamlReader::Get(item.node, "session_timer"); n.IsDefined()) {
        if (auto d = r.DurationValue(n, "voice session_timer")) {
          // Whole seconds: Session-Expires counts seconds. Below RFC 4028's 90 s floor only for
          // tests and labs (docs/configuration.md); above a day a dead call would outlive any
          // shift.
          if (*d < Seconds(2) || *d > Seconds(86400) || d->count() % 1'000'000 != 0) {
            r.Error(n, "voice session_timer must be whole seconds between 2s and 24h, got '" +
                           n.Scalar() + "'");
          } else {
            v.session_timer = *d;
          }
        }
      }
      if (auto n = YamlReader::Get(item.node, "trunks"); n.IsDefined() && !n.IsNull()) {
        if (r.ExpectSequence(n, "voice trunks")) {
          for (const auto& t : n) ParseTrunk(r, t);
        }
      }
      if (auto n = YamlReader::Get(item.node, "outbound_trunk"); n.IsDefined()) {
        if (auto s = r.String(n, "voice outbound_trunk")) {
          v.outbound_trunk = *s;
          outbound_trunk_at_ = {&r, n};
        }
      }
      if (auto n = YamlReader::Get(item.node, "outbound_destinations");
          n.IsDefined() && !n.IsNull()) {
        if (r.ExpectSequence(n, "voice outbound_destinations")) {
          for (const auto& d : n) {
            auto s = r.String(d, "voice outbound destination prefix");
            if (!s) continue;
            if (s->empty() || s->find_first_not_of("+0123456789") != std::string::npos) {
              r.Error(d, "an outbound destination is a number prefix of digits and '+', got '" +
                             *s + "'");
            } else {
              v.outbound_destinations.push_back(*s);
            }
          }
        }
      }
    }
  }

  // After every voice section: the trunk outbound calls use.
  void CheckOutboundTrunk() {
    VoiceDef& v = config_->voice;
    if (v.outbound_trunk.empty()) {
      for (const auto& t : v.trunks) {
        if (!t.outbound.host.empty()) {
          v.outbound_trunk = t.name;
          break;
        }
      }
      return;
    }
    const TrunkDef* trunk = nullptr;
    std::string with_outbound;
    for (const auto& t : v.trunks) {
      if (t.name == v.outbound_trunk) trunk = &t;
      if (!t.outbound.host.empty()) with_outbound += (with_outbound.empty() ? "" : ", ") + t.name;
    }
    if (trunk != nullptr && !trunk->outbound.host.empty()) return;
    const std::string allowed =
        with_outbound.empty() ? "no trunk has one" : "trunks with one: " + with_outbound;
    outbound_trunk_at_.first->Error(
        outbound_trunk_at_.second, "voice outbound_trunk '" + v.outbound_trunk +
                                       "' must name a trunk with an 'outbound' (" +
                                       (trunk == nullptr ? "no such trunk; " : "") + allowed + ")");
  }

  void ParseTrunkOutbound(const YamlReader& r, const YAML::Node& node, const std::string& where,
                          TrunkOutboundDef& out) {
    if (!r.ExpectMap(node, "outbound of " + where + " (a map with 'host', 'port', ...)")) return;
    const std::string at = "outbound of " + where;
    std::vector<std::string_view> known = KeysOf("voice.trunks[].outbound");
    for (const auto& kv : node) {
      if (kv.first.IsScalar() && kv.first.Scalar() == "password") {
        known.push_back("password");
        r.Error(kv.first, "'password' is not allowed in " + at +
                              ": secrets never live in configuration files; put it in an "
                              "environment variable and name that variable with 'password_env'");
      }
    }
    r.CheckKeys(node, at, known);
    if (auto n = r.Require(node, "host", at); n.IsDefined()) {
      if (auto s = r.String(n, "host of " + at)) {
        if (s->empty() || s->find_first_of(" \t\r\n<>;@\"") != std::string::npos) {
          r.Error(n, "host of " + at + " must be a host name or numeric address, got '" + *s + "'");
        } else {
          out.host = *s;
        }
      }
    }
    if (auto n = YamlReader::Get(node, "port"); n.IsDefined()) {
      if (auto p = r.Int(n, "port of " + at, 1, 65535)) out.port = static_cast<uint16_t>(*p);
    }
    if (auto n = YamlReader::Get(node, "transport"); n.IsDefined()) {
      if (auto s = r.String(n, "transport of " + at)) {
        if (*s != "udp" && *s != "tcp" && *s != "tls") {
          r.Error(n, "transport of " + at + " must be udp, tcp or tls, got '" + *s + "'");
        } else {
          out.transport = *s;
        }
      }
    }
    auto word = [&](const char* key, std::string& field, const char* allowed) {
      if (auto n = YamlReader::Get(node, key); n.IsDefined()) {
        if (auto s = r.String(n, std::string(key) + " of " + at)) {
          if (s->empty() || s->find_first_not_of(allowed) != std::string::npos) {
            r.Error(n, std::string(key) + " of " + at +
                           " must be a non-empty word of letters, digits, '+', '-', '_' and '.', "
                           "got '" +
                           *s + "'");
          } else {
            field = *s;
          }
        }
      }
    };
    constexpr const char* kWord =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-_.";
    word("username", out.username, kWord);
    word("password_env", out.password_env, kWord);
    word("caller_id", out.caller_id, kWord);
    if (!out.username.empty() && out.password_env.empty()) {
      r.Error(node, at + " has a username but no password_env (the environment variable that " +
                        "holds the trunk's password)");
    }
  }

  void ParseTrunk(const YamlReader& r, const YAML::Node& node) {
    if (!r.ExpectMap(node, "each voice trunk (a map with 'name' and 'addresses')")) return;
    TrunkDef def;
    if (auto n = r.Require(node, "name", "voice trunk"); n.IsDefined()) {
      if (auto s = r.String(n, "voice trunk name")) def.name = *s;
    }
    const std::string where = "voice trunk '" + def.name + "'";
    r.CheckKeys(node, where, KeysOf("voice.trunks[]"));
    for (const auto& t : config_->voice.trunks) {
      if (!def.name.empty() && t.name == def.name) {
        r.Error(node, "voice trunk '" + def.name + "' is defined twice");
        return;
      }
    }
    if (auto n = r.Require(node, "addresses", where); n.IsDefined()) {
      if (r.ExpectSequence(n, "addresses of " + where)) {
        for (const auto& a : n) {
          auto s = r.String(a, "address of " + where);
          if (!s) continue;
          if (!IsNumericAddress(*s)) {
            r.Error(a, "address of " + where + " must be a numeric IPv4 or IPv6 address, got '" +
                           *s + "'");
          } else {
            def.addresses.push_back(*s);
          }
        }
      }
    }
    if (auto n = YamlReader::Get(node, "outbound"); n.IsDefined() && !n.IsNull()) {
      ParseTrunkOutbound(r, n, where, def.outbound);
    }
    config_->voice.trunks.push_back(std::move(def));
  }

  // ---- users ----

  void ParseUser(const Item& item) {
    const YamlReader& r = R(item);
    if (!r.ExpectMap(item.node, "each user (a map with 'login' and 'roles')")) return;
    YAML::Node n = r.Require(item.node, "login", "user");
    std::optional<std::string> login;
    if (n.IsDefined()) login = r.String(n, "user login");
    const std::string where = login ? "user '" + *login + "'" : "user";
    // Secrets are refused by name, with the reason, before the generic unknown-key check.
    std::vector<std::string_view> known = KeysOf("users[]");
    for (std::string_view secret : {"password", "password_hash", "sip_password"}) {
      std::optional<YAML::Node> key_node;
      for (const auto& kv : item.node) {
        if (kv.first.IsScalar() && kv.first.Scalar() == secret) key_node = kv.first;
      }
      if (!key_node) continue;
      known.push_back(secret);
      r.Error(*key_node, "'" + std::string(secret) + "' is not allowed in " + where +
                             ": passwords never live in configuration files (they would be "
                             "readable by anyone who can read or export the file); set passwords "
                             "through the web UI or the API, which keep only a hash (see "
                             "docs/security.md)");
    }
    r.CheckKeys(item.node, where, known);
    if (!login) return;
    if (!IsValidLoginName(*login)) {
      r.Error(n, "invalid login '" + *login +
                     "'; use 1-64 characters a-z, 0-9, '.', '_', '-', starting with a letter "
                     "or digit");
      return;
    }
    if (!NewName(&user_names_, "user", *login, n, r)) return;
    UserDef u;
    u.login = *login;
    u.display_name = *login;
    if (auto d = YamlReader::Get(item.node, "name"); d.IsDefined()) {
      if (auto v = r.String(d, "name of " + where)) u.display_name = *v;
    }
    bool ok = true;
    YAML::Node roles = r.Require(item.node, "roles", where);
    if (roles.IsDefined()) {
      std::vector<YAML::Node> entries;
      if (roles.IsScalar()) {
        entries.push_back(roles);
      } else if (r.ExpectSequence(roles, "roles of " + where)) {
        for (const auto& e : roles) entries.push_back(e);
      }
      for (const auto& e : entries) {
        auto name = r.String(e, "role of " + where);
        if (!name) {
          ok = false;
          continue;
        }
        auto role = ParseRole(*name);
        if (!role) {
          std::vector<std::string_view> names;
          for (Role k : kAllRoles) names.push_back(RoleName(k));
          const std::string hint = NearestKey(*name, names);
          r.Error(e, "unknown role '" + *name + "' in " + where +
                         (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
                         " (roles: " + RoleList() + ")");
          ok = false;
          continue;
        }
        if (std::find(u.roles.begin(), u.roles.end(), *role) != u.roles.end()) {
          r.Error(e, "role '" + *name + "' is listed twice in " + where);
          ok = false;
          continue;
        }
        u.roles.push_back(*role);
      }
      if (ok && u.roles.empty()) {
        r.Error(roles, where + " needs at least one role (roles: " + RoleList() + ")");
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto t = YamlReader::Get(item.node, "team"); t.IsDefined()) {
      auto team = Resolve(SourceKind::kTeam, t, r, where);
      if (team) u.team = *team;
      ok &= team.has_value();
    }
    YAML::Node agent_node = YamlReader::Get(item.node, "agent");
    if (agent_node.IsDefined()) {
      auto agent = Resolve(SourceKind::kAgent, agent_node, r, where);
      if (agent) {
        auto [it, inserted] = agent_users_.emplace(*agent, *login);
        if (!inserted) {
          r.Error(agent_node, "agent '" + agent_node.Scalar() + "' is already linked to user '" +
                                  it->second + "'; an agent is one user's");
          ok = false;
        }
        u.agent = *agent;
      }
      ok &= agent.has_value();
    }
    if (!ok) return;
    const auto has = [&](Role role) {
      return std::find(u.roles.begin(), u.roles.end(), role) != u.roles.end();
    };
    if (has(Role::kAgent) && u.agent == kNone) {
      r.Error(n, where +
                     " has role agent but no 'agent'; set agent: to the agent id this user "
                     "works as");
      return;
    }
    if (has(Role::kTeamLead) && u.team == kNone &&
        (u.agent == kNone || config_->routing.agents[u.agent].team == kNone)) {
      r.Error(n, where + " has role team_lead but no team; set team: to the team it leads");
      return;
    }
    config_->users.push_back(std::move(u));
  }

  // ---- flows, schedules, entry points ----

  SourcePos PosOf(const YAML::Node& n, const YamlReader& r) const {
    const Position p = PositionOf(n);
    return {r.file(), p.line, p.column};
  }

  // The YAML as written, with positions, for src/flow to interpret.
  FlowValue ToFlowValue(const YAML::Node& n, const YamlReader& r) const {
    FlowValue v;
    v.pos = PosOf(n, r);
    if (n.IsMap()) {
      v.kind = FlowValue::Kind::kMap;
      for (const auto& kv : n) {
        FlowValue e = ToFlowValue(kv.second, r);
        e.key = kv.first.IsScalar() ? kv.first.Scalar() : "";
        e.key_pos = PosOf(kv.first, r);
        v.items.push_back(std::move(e));
      }
    } else if (n.IsSequence()) {
      v.kind = FlowValue::Kind::kList;
      for (const auto& e : n) v.items.push_back(ToFlowValue(e, r));
    } else if (n.IsScalar()) {
      v.scalar = n.Scalar();
      v.quoted = n.Tag() == "!";
    }
    return v;
  }

  // Checks a name against earlier ones of the same kind.
  bool NewName(std::map<std::string, SourcePos>* seen, const std::string& kind,
               const std::string& name, const YAML::Node& at, const YamlReader& r) {
    if (name.empty()) {
      r.Error(at, kind + " name must not be empty");
      return false;
    }
    const SourcePos here = PosOf(at, r);
    auto [it, inserted] = seen->emplace(name, here);
    if (!inserted) {
      r.Error(at, "duplicate " + kind + " '" + name + "' (first defined at " + it->second.file +
                      ":" + std::to_string(it->second.line) + ":" +
                      std::to_string(it->second.column) + ")");
    }
    return inserted;
  }

  // "08:00-12:00, 14:00-18:00", or "closed".
  std::optional<std::vector<TimeRange>> ParseHours(const YAML::Node& n, const YamlReader& r,
                                                   const std::string& what) {
    auto text = r.String(n, what);
    if (!text) return std::nullopt;
    std::vector<TimeRange> out;
    if (*text == "closed") return out;
    const auto minute = [](std::string_view s) -> int {
      if (s.size() != 5 || s[2] != ':' || !std::isdigit(static_cast<unsigned char>(s[0])) ||
          !std::isdigit(static_cast<unsigned char>(s[1])) ||
          !std::isdigit(static_cast<unsigned char>(s[3])) ||
          !std::isdigit(static_cast<unsigned char>(s[4]))) {
        return -1;
      }
      const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
      if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
      return h * 60 + m;
    };
    std::string_view rest = *text;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view part = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
      const size_t dash = part.find('-');
      const int b = dash == std::string_view::npos ? -1 : minute(part.substr(0, dash));
      const int e = dash == std::string_view::npos ? -1 : minute(part.substr(dash + 1));
      if (b < 0 || e < 0 || e <= b) {
        r.Error(n, "invalid hours '" + *text + "' for " + what +
                       "; expected closed or ranges such as 08:00-12:00, 14:00-18:00 (end after "
                       "start, at most 24:00)");
        return std::nullopt;
      }
      out.push_back({b, e});
    }
    return out;
  }

  void ParseSchedule(const Item& item) {
    const YamlReader& r = R(item);
    if (!r.ExpectMap(item.node, "each schedule (a map with 'name')")) return;
    YAML::Node n = r.Require(item.node, "name", "schedule");
    std::optional<std::string> name;
    if (n.IsDefined()) name = r.String(n, "schedule name");
    const std::string where = name ? "schedule '" + *name + "'" : "schedule";
    r.CheckKeys(item.node, where, KeysOf("schedules[]"));
    if (!name || !NewName(&schedule_names_, "schedule", *name, n, r)) return;
    ScheduleDef def;
    def.name = *name;
    def.pos = PosOf(n, r);
    if (auto tz = r.Require(item.node, "time_zone", where); tz.IsDefined()) {
      if (auto v = r.String(tz, "time_zone")) {
        try {
          (void)date::locate_zone(*v);
          def.time_zone = *v;
        } catch (const std::exception&) {
          r.Error(tz, "unknown time zone '" + *v +
                          "'; expected a name of the tz database such as Europe/Paris, "
                          "America/New_York or UTC");
        }
      }
    }
    static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    const auto day_index = [](std::string_view d) -> int {
      for (int i = 0; i < 7; ++i) {
        if (kDays[i] == d) return i;
      }
      return -1;
    };
    if (auto w = YamlReader::Get(item.node, "weekly"); w.IsDefined() && r.ExpectMap(w, "weekly")) {
      for (const auto& kv : w) {
        const std::string key = kv.first.Scalar();
        const size_t dash = key.find('-');
        const int from = day_index(key.substr(0, dash));
        const int to = dash == std::string::npos ? from : day_index(key.substr(dash + 1));
        if (from < 0 || to < from) {
          r.Error(kv.first, "unknown day '" + key + "' in weekly of " + where +
                                "; expected mon, tue, wed, thu, fri, sat, sun or a range such as "
                                "mon-fri");
          continue;
        }
        auto hours = ParseHours(kv.second, r, key + " of " + where);
        if (!hours) continue;
        for (int d = from; d <= to; ++d) def.week[static_cast<size_t>(d)] = *hours;
      }
    }
    if (auto ex = YamlReader::Get(item.node, "exceptions");
        ex.IsDefined() && r.ExpectSequence(ex, "exceptions of " + where)) {
      for (const auto& e : ex) {
        if (!r.ExpectMap(e, "each exception of " + where)) continue;
        r.CheckKeys(e, "an exception of " + where, KeysOf("schedules[].exceptions[]"));
        ScheduleException x;
        x.pos = PosOf(e, r);
        YAML::Node d = r.Require(e, "date", "an exception of " + where);
        if (!d.IsDefined()) continue;
        auto text = r.String(d, "date");
        if (!text) continue;
        int y = 0, m = 0, day = 0;
        char extra = 0;
        if (std::sscanf(text->c_str(), "%4d-%2d-%2d%c", &y, &m, &day, &extra) != 3 ||
            !date::year_month_day(date::year(y), date::month(static_cast<unsigned>(m)),
                                  date::day(static_cast<unsigned>(day)))
                 .ok()) {
          r.Error(d, "invalid date '" + *text + "'; expected YYYY-MM-DD, e.g. 2025-12-25");
          continue;
        }
        x.year = y;
        x.month = m;
        x.day = day;
        if (auto nm = YamlReader::Get(e, "name"); nm.IsDefined()) {
          x.name = r.String(nm, "name").value_or("");
        }
        if (auto h = YamlReader::Get(e, "hours"); h.IsDefined()) {
          auto hours = ParseHours(h, r, "hours of " + *text);
          if (!hours) continue;
          x.hours = *hours;
        }
        def.exceptions.push_back(std::move(x));
      }
    }
    config_->flows.schedules.push_back(std::move(def));
  }

  void ParseFlow(const Item& item) {
    const YamlReader& r = R(item);
    if (!r.ExpectMap(item.node, "each flow (a map with 'name')")) return;
    YAML::Node n = r.Require(item.node, "name", "flow");
    std::optional<std::string> name;
    if (n.IsDefined()) name = r.String(n, "flow name");
    const std::string where = name ? "flow '" + *name + "'" : "flow";
    r.CheckKeys(item.node, where, KeysOf("flows[]"));
    if (!name || !NewName(&flow_names_, "flow", *name, n, r)) return;
    FlowDef def;
    def.name = *name;
    def.pos = PosOf(n, r);
    if (auto d = YamlReader::Get(item.node, "description"); d.IsDefined()) {
      def.description = r.String(d, "description").value_or("");
    }
    if (auto s = YamlReader::Get(item.node, "start"); s.IsDefined()) {
      def.start = r.String(s, "start").value_or("");
      def.start_pos = PosOf(s, r);
    }
    if (auto tz = YamlReader::Get(item.node, "time_zone"); tz.IsDefined()) {
      if (auto v = r.String(tz, "time_zone")) {
        try {
          (void)date::locate_zone(*v);
          def.time_zone = *v;
        } catch (const std::exception&) {
          r.Error(tz, "unknown time zone '" + *v +
                          "'; expected a name of the tz database such as Europe/Paris, "
                          "America/New_York or UTC");
        }
      }
    }
    YAML::Node steps = r.Require(item.node, "steps", where);
    if (steps.IsDefined() && r.ExpectSequence(steps, "steps of " + where)) {
      std::map<std::string, SourcePos> ids;
      for (const auto& s : steps) {
        if (!r.ExpectMap(s, "each step of " + where + " (a map with 'id' and 'type')")) continue;
        StepDef step;
        YAML::Node id = r.Require(s, "id", "a step of " + where);
        YAML::Node type = r.Require(s, "type", "a step of " + where);
        if (!id.IsDefined() || !type.IsDefined()) continue;
        auto id_text = r.String(id, "step id");
        auto type_text = r.String(type, "step type");
        if (!id_text || !type_text) continue;
        if (!NewName(&ids, "step", *id_text, id, r)) continue;
        step.id = *id_text;
        step.pos = PosOf(id, r);
        step.type = *type_text;
        step.type_pos = PosOf(type, r);
        step.params.kind = FlowValue::Kind::kMap;
        step.params.pos = PosOf(s, r);
        for (const auto& kv : s) {
          if (!kv.first.IsScalar()) {
            r.Error(kv.first, "expected a parameter name in step '" + step.id + "'");
            continue;
          }
          if (kv.first.Scalar() == "id" || kv.first.Scalar() == "type") continue;
          FlowValue v = ToFlowValue(kv.second, r);
          v.key = kv.first.Scalar();
          v.key_pos = PosOf(kv.first, r);
          step.params.items.push_back(std::move(v));
        }
        def.steps.push_back(std::move(step));
      }
    }
    config_->flows.flows.push_back(std::move(def));
  }

  // Queues name flows (timeout_flow, an escalation step's flow) before the flows are read.
  void CheckFlowReferences() {
    std::vector<std::string_view> names;
    for (const auto& [n, pos] : flow_names_) names.push_back(n);
    for (const FlowRef& ref : flow_refs_) {
      if (flow_names_.count(ref.name)) continue;
      const std::string hint = NearestKey(ref.name, names);
      ref.reader->Error(ref.node, "unknown flow '" + ref.name + "' in " + ref.where +
                                      (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
  }

  void ParseEntryPoint(const Item& item) {
    const YamlReader& r = R(item);
    if (!r.ExpectMap(item.node, "each entry point (a map with channel, address and flow)")) return;
    r.CheckKeys(item.node, "entry point", KeysOf("entry_points[]"));
    EntryPointDef e;
    e.pos = PosOf(item.node, r);
    YAML::Node ch = r.Require(item.node, "channel", "entry point");
    YAML::Node addr = r.Require(item.node, "address", "entry point");
    YAML::Node flow = r.Require(item.node, "flow", "entry point");
    if (!ch.IsDefined() || !addr.IsDefined() || !flow.IsDefined()) return;
    auto c = r.String(ch, "channel");
    auto a = r.String(addr, "address");
    auto f = r.String(flow, "flow");
    if (!c || !a || !f) return;
    auto channel = ParseChannel(*c);
    if (!channel) {
      r.Error(ch, "unknown channel '" + *c + "'; expected one of " + ChannelList());
      return;
    }
    e.channel = *channel;
    e.address = *a;
    e.flow = *f;
    bool known = false;
    for (const auto& fd : config_->flows.flows) known |= fd.name == *f;
    if (!known && !flow_names_.count(*f)) {
      std::vector<std::string_view> names;
      for (const auto& [n, pos] : flow_names_) names.push_back(n);
      std::string hint = NearestKey(*f, names);
      r.Error(flow, "unknown flow '" + *f + "' in entry point '" + *a + "'" +
                        (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      return;
    }
    const std::string key = std::string(ChannelName(e.channel)) + " " + e.address;
    if (!NewName(&entry_names_, "entry point", key, addr, r)) return;
    config_->flows.entry_points.push_back(std::move(e));
  }

  // Checks that a key of a merged map section (site, routing) is given in only one file.
  bool FirstDefinition(std::string_view section, const YAML::Node& key_node, const Item& item) {
    const std::string full = std::string(section) + "." + key_node.Scalar();
    const Position p = PositionOf(key_node);
    SourceLocation here{R(item).file(), p.line, p.column};
    auto [it, inserted] = section_keys_.emplace(full, here);
    if (!inserted) {
      R(item).Error(key_node,
                    Quoted(full) + " is defined twice (first at " + it->second.ToString() + ")");
    }
    return inserted;
  }

  void ParseSite(const std::vector<Item>& items) {
    for (const Item& item : items) {
      const YamlReader& r = R(item);
      r.CheckKeys(item.node, "site", KeysOf("site"));
      for (const auto& kv : item.node) {
        if (!kv.first.IsScalar() || !FirstDefinition("site", kv.first, item)) continue;
        const std::string& key = kv.first.Scalar();
        if (key == "name") {
          if (auto v = r.String(kv.second, "site name")) config_->site_name = *v;
        } else if (key == "time_zone") {
          auto v = r.String(kv.second, "site time_zone");
          if (!v) continue;
          try {
            (void)date::locate_zone(*v);
            config_->routing.settings.time_zone = *v;
          } catch (const std::exception&) {
            r.Error(kv.second, "unknown time zone '" + *v +
                                   "'; expected a name of the tz database such as "
                                   "Europe/Paris, America/New_York or UTC");
          }
        }
      }
    }
  }

  void ParseRouting(const std::vector<Item>& items) {
    RoutingSettings& s = config_->routing.settings;
    for (const Item& item : items) {
      const YamlReader& r = R(item);
      r.CheckKeys(item.node, "routing", KeysOf("routing"));
      for (const auto& kv : item.node) {
        if (!kv.first.IsScalar() || !FirstDefinition("routing", kv.first, item)) continue;
        const std::string& key = kv.first.Scalar();
        if (key == "max_consecutive_misses") {
          if (auto v = r.Int(kv.second, "max_consecutive_misses", 0, 1000)) {
            s.max_consecutive_misses = static_cast<uint32_t>(*v);
          }
        } else if (key == "reoffer_delay") {
          if (auto v = r.DurationValue(kv.second, "reoffer_delay")) s.reoffer_delay = *v;
        }
      }
    }
  }

  // Records a name; false (after an error) when it is empty or already defined.
  bool Register(SourceKind kind, const std::string& name, const YAML::Node& at, const Item& item) {
    const auto k = static_cast<size_t>(kind);
    const YamlReader& r = R(item);
    if (name.empty()) {
      r.Error(at, std::string(kKindNames[k]) + " name must not be empty");
      return false;
    }
    const Position p = PositionOf(at);
    SourceLocation here{r.file(), p.line, p.column};
    if (const SourceLocation* first = config_->sources.Find(kind, name)) {
      r.Error(at, "duplicate " + std::string(kKindNames[k]) + " '" + name + "' (first defined at " +
                      first->ToString() + ")");
      return false;
    }
    config_->sources.Add(kind, name, here);
    index_[k].emplace(name, static_cast<uint32_t>(names_[k].size()));
    names_[k].push_back(name);
    return true;
  }

  void DeclareSkill(const Item& item) {
    const YamlReader& r = R(item);
    std::string name, description;
    YAML::Node at = item.node;
    if (item.node.IsScalar()) {
      name = item.node.Scalar();
    } else if (item.node.IsMap()) {
      YAML::Node n = r.Require(item.node, "name", "skill");
      r.CheckKeys(item.node, "skill", KeysOf("skills[]"));
      if (!n.IsDefined()) return;
      auto v = r.String(n, "skill name");
      if (!v) return;
      name = *v;
      at.reset(n);  // Node's operator= would overwrite the map itself
      YAML::Node d = YamlReader::Get(item.node, "description");
      if (d.IsDefined()) {
        if (auto dv = r.String(d, "skill description")) description = *dv;
      }
    } else {
      r.Error(item.node, "expected a skill name or a map with 'name' in skills");
      return;
    }
    if (!Register(SourceKind::kSkill, name, at, item)) return;
    if (config_->routing.skills.size() >= std::numeric_limits<SkillIndex>::max()) {
      r.Error(at, "too many skills");
      return;
    }
    config_->routing.skills.push_back(name);
    config_->skill_descriptions.push_back(description);
  }

  void Declare(SourceKind kind, const Item& item, std::string_view name_key,
               std::string_view section, std::vector<std::pair<Item, std::string>>* out) {
    const YamlReader& r = R(item);
    const std::string kind_name(kKindNames[static_cast<size_t>(kind)]);
    if (!r.ExpectMap(item.node,
                     "each " + kind_name + " (a map with '" + std::string(name_key) + "')")) {
      return;
    }
    YAML::Node n = r.Require(item.node, name_key, kind_name);
    std::optional<std::string> name;
    if (n.IsDefined()) name = r.String(n, kind_name + " " + std::string(name_key));
    r.CheckKeys(item.node, name ? kind_name + " '" + *name + "'" : kind_name, KeysOf(section));
    if (!name || !Register(kind, *name, n, item)) return;
    out->push_back({item, *name});
  }

  // The index of the `kind` named by scalar `node`, or nullopt after an error.
  std::optional<uint32_t> Resolve(SourceKind kind, const YAML::Node& node, const YamlReader& r,
                                  const std::string& where) {
    const auto k = static_cast<size_t>(kind);
    const std::string kind_name(kKindNames[k]);
    auto name = r.String(node, kind_name + " name in " + where);
    if (!name) return std::nullopt;
    auto it = index_[k].find(*name);
    if (it != index_[k].end()) return it->second;
    std::string message = "unknown " + kind_name + " '" + *name + "' in " + where;
    std::vector<std::string_view> known(names_[k].begin(), names_[k].end());
    const std::string nearest = NearestKey(*name, known);
    if (!nearest.empty()) {
      message += "; did you mean '" + nearest + "'?";
    } else if (names_[k].empty()) {
      message += " (no " + kind_name + "s are defined)";
    } else {
      message += "; known " + kind_name + "s: " + JoinNames(names_[k]);
    }
    r.Error(node, std::move(message));
    return std::nullopt;
  }

  // A map of skill name -> proficiency 1-5.
  template <typename T>
  std::vector<T> ParseSkillMap(const YAML::Node& node, const YamlReader& r,
                               const std::string& where) {
    std::vector<T> out;
    if (!r.ExpectMap(node, "skills of " + where + " (skill: proficiency 1-5)")) return out;
    for (const auto& kv : node) {
      auto skill = Resolve(SourceKind::kSkill, kv.first, r, where);
      auto level = r.Int(kv.second, "proficiency of skill '" + kv.first.Scalar() + "'", 1, 5);
      if (skill && level) {
        out.push_back({static_cast<SkillIndex>(*skill), static_cast<uint8_t>(*level)});
      }
    }
    return out;
  }

  std::vector<TeamIndex> ParseTeamList(const YAML::Node& node, const YamlReader& r,
                                       const std::string& where) {
    std::vector<TeamIndex> out;
    if (!r.ExpectSequence(node, "teams of " + where)) return out;
    for (const auto& t : node) {
      auto team = Resolve(SourceKind::kTeam, t, r, where);
      if (!team) continue;
      if (std::find(out.begin(), out.end(), *team) != out.end()) {
        r.Error(t, "team '" + t.Scalar() + "' is listed twice in " + where);
        continue;
      }
      out.push_back(*team);
    }
    return out;
  }

  void ParseTeam(const Item& item, const std::string& name, TeamDef* team) {
    const YamlReader& r = R(item);
    team->name = name;
    YAML::Node lead = YamlReader::Get(item.node, "lead");
    if (lead.IsDefined()) {
      if (auto v = r.String(lead, "lead of team '" + name + "'")) team->lead = *v;
    }
  }

  void ParseAgent(const Item& item, const std::string& id, AgentDef* agent) {
    const YamlReader& r = R(item);
    const std::string where = "agent '" + id + "'";
    const auto get = [&](std::string_view key) { return YamlReader::Get(item.node, key); };
    agent->name = id;
    agent->full_name = id;
    if (auto n = get("name"); n.IsDefined()) {
      if (auto v = r.String(n, "name of " + where)) agent->full_name = *v;
    }
    if (auto n = get("team"); n.IsDefined()) {
      if (auto t = Resolve(SourceKind::kTeam, n, r, where)) agent->team = *t;
    }
    if (auto n = get("skills"); n.IsDefined()) {
      agent->skills = ParseSkillMap<SkillLevel>(n, r, where);
    }
    agent->capacity[Index(Channel::kVoice)] = 1;
    if (auto n = get("capacity"); n.IsDefined()) {
      agent->capacity = {};
      if (r.ExpectMap(n, "capacity of " + where + " (channel: number of contacts)")) {
        for (const auto& kv : n) {
          auto channel = kv.first.IsScalar() ? ParseChannel(kv.first.Scalar()) : std::nullopt;
          if (!channel) {
            r.Error(kv.first, "unknown channel " + Shown(kv.first) + " in capacity of " + where +
                                  "; accepted: " + ChannelList());
            continue;
          }
          if (auto c = r.Int(kv.second, std::string(ChannelName(*channel)) + " capacity", 0, 50)) {
            agent->capacity[Index(*channel)] = static_cast<uint8_t>(*c);
          }
        }
      }
    }
    if (auto n = get("voice_blocks_other_channels"); n.IsDefined()) {
      if (auto b = r.Bool(n, "voice_blocks_other_channels"))
        agent->voice_blocks_other_channels = *b;
    }
    if (auto n = get("wrap_up_blocks_other_channels"); n.IsDefined()) {
      if (auto b = r.Bool(n, "wrap_up_blocks_other_channels")) {
        agent->wrap_up_blocks_other_channels = *b;
      }
    }
    if (auto n = get("queues"); n.IsDefined() && r.ExpectSequence(n, "queues of " + where)) {
      uint16_t position = 0;
      for (const auto& entry : n) {
        ++position;
        QueueAssignment qa;
        qa.order = position;
        YAML::Node queue_node = entry;
        if (entry.IsMap()) {
          r.CheckKeys(entry, "queue entry of " + where, KeysOf("agents[].queues[]"));
          queue_node.reset(r.Require(entry, "queue", "queue entry of " + where));
          if (auto o = YamlReader::Get(entry, "order"); o.IsDefined()) {
            if (auto v = r.Int(o, "order", 0, 65535)) qa.order = static_cast<uint16_t>(*v);
          }
          if (auto d = YamlReader::Get(entry, "delay"); d.IsDefined()) {
            if (auto v = r.DurationValue(d, "delay")) qa.delay = *v;
          }
          if (!queue_node.IsDefined()) continue;
        } else if (!entry.IsScalar()) {
          r.Error(entry, "expected a queue name or a map with 'queue' in queues of " + where);
          continue;
        }
        auto q = Resolve(SourceKind::kQueue, queue_node, r, "queues of " + where);
        if (!q) continue;
        qa.queue = *q;
        const bool listed = std::any_of(agent->queues.begin(), agent->queues.end(),
                                        [&](const QueueAssignment& a) { return a.queue == *q; });
        if (listed) {
          r.Error(queue_node, "queue '" + queue_node.Scalar() + "' is listed twice in " + where);
          continue;
        }
        agent->queues.push_back(qa);
      }
    }
  }

  void ParseQueue(const Item& item, const std::string& name, QueueIndex self, QueueDef* q) {
    const YamlReader& r = R(item);
    const std::string where = "queue '" + name + "'";
    const auto get = [&](std::string_view key) { return YamlReader::Get(item.node, key); };
    q->name = name;
    q->channels = {Channel::kVoice};
    if (auto n = get("channels"); n.IsDefined() && r.ExpectSequence(n, "channels of " + where)) {
      q->channels.clear();
      for (const auto& c : n) {
        auto channel = c.IsScalar() ? ParseChannel(c.Scalar()) : std::nullopt;
        if (!channel) {
          r.Error(c,
                  "unknown channel " + Shown(c) + " in " + where + "; accepted: " + ChannelList());
          continue;
        }
        if (std::find(q->channels.begin(), q->channels.end(), *channel) != q->channels.end()) {
          r.Error(c, "channel '" + c.Scalar() + "' is listed twice in " + where);
          continue;
        }
        q->channels.push_back(*channel);
      }
      if (n.size() == 0) r.Error(n, where + " must take at least one channel");
    }
    if (auto n = get("strategy"); n.IsDefined()) {
      if (auto s = r.String(n, "strategy of " + where)) {
        if (auto st = ParseStrategy(*s)) {
          q->strategy = *st;
        } else {
          std::string accepted;
          for (const auto& a : StrategyAliases()) {
            if (!accepted.empty()) accepted += ", ";
            accepted += a.name;
          }
          r.Error(n, "unknown strategy '" + *s + "'; accepted: " + accepted);
        }
      }
    }
    if (auto n = get("service_level"); n.IsDefined() && r.ExpectMap(n, "service_level")) {
      r.CheckKeys(n, "service_level of " + where, KeysOf("queues[].service_level"));
      if (auto t = YamlReader::Get(n, "target"); t.IsDefined()) {
        if (auto v = r.Number(t, "service_level target")) {
          if (*v <= 0 || *v > 1) {
            r.Error(t, "service_level target must be a fraction in (0, 1], e.g. 0.8, got " +
                           t.Scalar());
          } else {
            q->service_level_fraction = *v;
          }
        }
      }
      if (auto s = YamlReader::Get(n, "seconds"); s.IsDefined()) {
        if (auto v = r.DurationValue(s, "service_level seconds")) q->service_level_threshold = *v;
      }
    }
    if (auto n = get("priority"); n.IsDefined()) {
      if (auto v = r.Int(n, "priority", -1000000, 1000000)) q->priority = static_cast<int32_t>(*v);
    }
    if (auto n = get("max_wait"); n.IsDefined()) {
      if (auto v = r.DurationValue(n, "max_wait")) q->max_wait = *v;
    }
    if (auto n = get("max_size"); n.IsDefined()) {
      if (auto v = r.Int(n, "max_size", 0, 1000000)) q->max_size = static_cast<uint32_t>(*v);
    }
    if (auto n = get("offer_timeout"); n.IsDefined()) {
      if (auto v = r.DurationValue(n, "offer_timeout")) {
        if (v->count() == 0) {
          r.Error(n, "offer_timeout must be greater than 0");
        } else {
          q->offer_timeout = *v;
        }
      }
    }
    if (auto n = get("wrap_up"); n.IsDefined()) {
      if (auto v = r.DurationValue(n, "wrap_up")) q->wrap_up = *v;
    }
    if (auto n = get("aging_per_minute"); n.IsDefined()) {
      if (auto v = r.Number(n, "aging_per_minute")) {
        if (*v < 0) {
          r.Error(n, "aging_per_minute must not be negative, got " + n.Scalar());
        } else {
          q->aging_per_minute = *v;
        }
      }
    }
    if (auto n = get("skills"); n.IsDefined()) {
      q->skills = ParseSkillMap<SkillRequirement>(n, r, where);
    }
    if (auto n = get("teams"); n.IsDefined()) q->teams = ParseTeamList(n, r, where);
    if (auto n = get("members"); n.IsDefined() && r.ExpectSequence(n, "members of " + where)) {
      for (const auto& m : n) {
        auto agent = Resolve(SourceKind::kAgent, m, r, "members of " + where);
        if (!agent) continue;
        if (std::find(q->members.begin(), q->members.end(), *agent) != q->members.end()) {
          r.Error(m, "agent '" + m.Scalar() + "' is listed twice in members of " + where);
          continue;
        }
        q->members.push_back(*agent);
      }
    }
    if (auto n = get("timeout_flow"); n.IsDefined()) {
      if (auto v = r.String(n, "timeout_flow")) {
        q->timeout_flow = *v;
        flow_refs_.push_back({*v, n, &r, "timeout_flow of " + where});
      }
    }
    if (auto n = get("recording"); n.IsDefined()) {
      if (auto v = r.String(n, "recording of " + where)) {
        if (auto p = ParseRecordingPolicy(*v)) {
          q->recording = *p;
        } else {
          r.Error(n, "unknown recording policy '" + *v + "' in " + where +
                         "; accepted: always, never, on_demand");
        }
      }
    }
    if (auto n = get("recording_announcement"); n.IsDefined()) {
      // A string is text to speech; a map gives a recorded prompt and/or text, as flow prompts.
      if (n.IsScalar()) {
        if (auto v = r.String(n, "recording_announcement of " + where)) {
          q->recording_announcement.text = *v;
        }
      } else if (r.ExpectMap(n, "recording_announcement of " + where)) {
        r.CheckKeys(n, "recording_announcement of " + where,
                    KeysOf("queues[].recording_announcement"));
        if (auto f = YamlReader::Get(n, "recording"); f.IsDefined()) {
          if (auto v = r.String(f, "recording")) q->recording_announcement.recording = *v;
        }
        if (auto t = YamlReader::Get(n, "text"); t.IsDefined()) {
          if (auto v = r.String(t, "text")) q->recording_announcement.text = *v;
        }
        if (q->recording_announcement.empty()) {
          r.Error(n, "recording_announcement of " + where + " needs a recording or a text");
        }
      }
    }
    if (auto n = get("escalation"); n.IsDefined() && r.ExpectSequence(n, "escalation")) {
      size_t index = 0;
      for (const auto& step_node : n) {
        ParseEscalationStep(step_node, r, name, self, index++, &q->escalation);
      }
    }
  }

  void ParseEscalationStep(const YAML::Node& node, const YamlReader& r, const std::string& queue,
                           QueueIndex self, size_t index, std::vector<EscalationStep>* steps) {
    const std::string where =
        "escalation step " + std::to_string(index + 1) + " of queue '" + queue + "'";
    if (!r.ExpectMap(node, where)) return;
    const Position p = PositionOf(node);
    config_->sources.AddEscalationStep(queue, index, {r.file(), p.line, p.column});
    r.CheckKeys(node, where, KeysOf("queues[].escalation[]"));
    EscalationStep step;
    YAML::Node after = r.Require(node, "after", where);
    if (after.IsDefined()) {
      if (auto v = r.DurationValue(after, "after")) {
        step.after = *v;
        if (!steps->empty() && step.after <= steps->back().after) {
          r.Error(after, "escalation 'after' must increase from step to step: " +
                             DurationText(step.after) + " is not later than " +
                             DurationText(steps->back().after));
        }
      }
    }
    if (auto n = YamlReader::Get(node, "skills"); n.IsDefined()) {
      step.skills = ParseSkillMap<SkillRequirement>(n, r, where);
    }
    if (auto n = YamlReader::Get(node, "teams"); n.IsDefined()) {
      step.teams = ParseTeamList(n, r, where);
    }
    if (auto n = YamlReader::Get(node, "priority_boost"); n.IsDefined()) {
      if (auto v = r.Int(n, "priority_boost", -1000000, 1000000)) {
        step.priority_boost = static_cast<int32_t>(*v);
      }
    }
    if (auto n = YamlReader::Get(node, "overflow"); n.IsDefined()) {
      if (auto target = Resolve(SourceKind::kQueue, n, r, "overflow of " + where)) {
        if (*target == self) {
          r.Error(n, "queue '" + queue + "' cannot overflow to itself");
        } else {
          step.overflow_queue = *target;
        }
      }
    }
    if (auto n = YamlReader::Get(node, "flow"); n.IsDefined()) {
      if (auto v = r.String(n, "flow")) {
        step.flow = *v;
        flow_refs_.push_back({*v, n, &r, "escalation of queue '" + queue + "'"});
      }
    }
    steps->push_back(std::move(step));
  }

  static std::string Shown(const YAML::Node& n) {
    return n.IsScalar() ? "'" + n.Scalar() + "'" : std::string("(not a name)");
  }

  static std::string ChannelList() {
    std::string out;
    for (int i = 0; i < kChannelCount; ++i) {
      if (i) out += ", ";
      out += ChannelName(static_cast<Channel>(i));
    }
    return out;
  }

  const ParseOptions& opts_;
  std::vector<ConfigError> errors_;
  // Deques: AddFragment holds references into them while it recurses into includes.
  std::deque<Fragment> fragments_;
  std::deque<YamlReader> readers_;  // parallel to fragments_
  std::vector<std::string> file_order_;
  std::set<std::string> seen_files_;
  std::map<std::string, SourceLocation> section_keys_;
  std::array<std::map<std::string, uint32_t, std::less<>>, 4> index_;
  std::array<std::vector<std::string>, 4> names_;
  std::unique_ptr<Config> config_;
  struct FlowRef {
    std::string name;
    YAML::Node node;
    const YamlReader* reader;
    std::string where;
  };
  std::vector<FlowRef> flow_refs_;
  std::map<std::string, SourcePos> schedule_names_, flow_names_, entry_names_, user_names_,
      reason_names_, disposition_names_, webhook_names_;
  // Where voice.outbound_trunk was written (for CheckOutboundTrunk's error).
  std::pair<const YamlReader*, YAML::Node> outbound_trunk_at_{nullptr, {}};
  std::map<AgentIndex, std::string> agent_users_;  // agent -> the user linked to it
};

// ---- overrides ----

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    out.push_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

bool IsIndex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The child of `node` selected by `segment`, or an undefined node.
YAML::Node Child(const YAML::Node& node, std::string_view segment) {
  if (node.IsMap()) return YamlReader::Get(node, segment);
  if (!node.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
  if (IsIndex(segment)) {
    const size_t i = std::stoul(std::string(segment));
    if (i < node.size()) return node[i];
    return YAML::Node(YAML::NodeType::Undefined);
  }
  for (const auto& element : node) {
    for (std::string_view key : {"name", "id"}) {
      YAML::Node n = YamlReader::Get(element, key);
      if (n.IsScalar() && n.Scalar() == segment) return element;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace

Status ApplyOverride(YAML::Node& root, std::string_view path, std::string_view value) {
  const std::string prefix = "override '" + std::string(path) + "': ";
  const std::vector<std::string_view> segments = SplitPath(path);
  for (auto s : segments) {
    if (s.empty()) return InvalidArgument(prefix + "empty segment in path");
  }
  try {
    YAML::Node parsed;
    try {
      parsed.reset(YAML::Load(std::string(value)));
    } catch (const YAML::Exception&) {
      parsed.reset(YAML::Node(std::string(value)));
    }
    if (!parsed.IsDefined() || parsed.IsNull()) parsed.reset(YAML::Node(std::string(value)));

    YAML::Node current(root);
    std::string walked;
    for (size_t i = 0; i + 1 < segments.size(); ++i) {
      YAML::Node next = Child(current, segments[i]);
      if (!next.IsDefined()) {
        return InvalidArgument(prefix + "no '" + std::string(segments[i]) + "' in " +
                               (walked.empty() ? std::string("the top level") : walked));
      }
      current.reset(next);
      walked += (walked.empty() ? "" : ".") + std::string(segments[i]);
    }
    const std::string last(segments.back());
    const std::string parent = walked.empty() ? std::string("the top level") : walked;
    YAML::Node target = Child(current, last);
    if (!target.IsDefined()) {
      if (current.IsMap()) {
        current[last] = parsed;
        return Status::Ok();
      }
      if (current.IsSequence()) {
        return InvalidArgument(prefix + "no element '" + last + "' in " + parent);
      }
      return InvalidArgument(prefix + parent + " is not a map or a list");
    }
    if (target.IsScalar() && parsed.IsScalar()) {
      target = parsed.Scalar();  // keeps the node, and so its position, for later errors
    } else {
      target = parsed;
    }
    return Status::Ok();
  } catch (const YAML::Exception& e) {
    return InvalidArgument(prefix + e.msg);
  }
}

Result<std::shared_ptr<const Config>> ParseConfigNode(const YAML::Node& root,
                                                      const std::string& file,
                                                      const ParseOptions& opts,
                                                      std::vector<ConfigError>* errors) {
  return Parser(opts).Run(root, file, errors);
}

Result<std::shared_ptr<const Config>> ParseConfigText(std::string_view text,
                                                      const std::string& file,
                                                      const ParseOptions& opts,
                                                      std::vector<ConfigError>* errors) {
  Result<YAML::Node> root = LoadYamlText(text, file, errors);
  if (!root.ok()) return root.status();
  return ParseConfigNode(*root, file, opts, errors);
}

Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path,
                                                     std::vector<ConfigError>* errors,
                                                     const ParseOptions& opts) {
  Result<YAML::Node> root = LoadYamlFile(path, errors);
  if (!root.ok()) return root.status();
  return ParseConfigNode(*root, path, opts, errors);
}

}  // namespace parley::config

namespace parley::config {

const TrunkDef* VoiceDef::OutboundTrunk() const {
  if (outbound_trunk.empty()) return nullptr;
  for (const auto& t : trunks) {
    if (t.name == outbound_trunk && !t.outbound.host.empty()) return &t;
  }
  return nullptr;
}

}  // namespace parley::config
