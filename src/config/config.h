#pragma once
// The configuration: YAML text (which may include other files) turned into a validated,
// immutable snapshot. A Config is built once and then shared read-only as
// std::shared_ptr<const Config>; reloading builds a new one. The schema is documented in
// docs/configuration.md, and ConfigSchema() lists its keys so a test can keep the two in step.
// Nothing here throws: yaml-cpp exceptions become ConfigErrors with positions.

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "config/yaml_util.h"
#include "domain/flow_def.h"
#include "domain/routing.h"
#include "domain/user.h"

namespace parley::config {

// Where a named thing of the configuration was defined.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based
  int column = 0;
  std::string ToString() const;  // "file:line:column"
  bool operator==(const SourceLocation&) const = default;
};

enum class SourceKind { kSkill, kTeam, kAgent, kQueue };

// Remembers the definition of every skill, team, agent, queue and escalation step, so that
// later errors (simulation, apply, routing explanations) can point at the YAML.
class SourceMap {
 public:
  void Add(SourceKind kind, std::string name, SourceLocation where);
  void AddEscalationStep(std::string queue, size_t step, SourceLocation where);
  // nullptr when unknown.
  const SourceLocation* Find(SourceKind kind, std::string_view name) const;
  const SourceLocation* FindEscalationStep(std::string_view queue, size_t step) const;

 private:
  std::map<std::pair<SourceKind, std::string>, SourceLocation, std::less<>> names_;
  std::map<std::pair<std::string, size_t>, SourceLocation, std::less<>> steps_;
};

// A reason code (Not Ready) or a disposition code (wrap-up).
struct CodeDef {
  std::string code;   // what the API and events carry, e.g. "lunch"
  std::string label;  // what people read, e.g. "Lunch break" (the code when not given)
  bool operator==(const CodeDef&) const = default;
};

// An outgoing webhook (`webhooks:`): signed POSTs of the chosen event types to a URL. The
// signing secret is never in the file: `secret_env` names the environment variable holding it.
struct WebhookDef {
  std::string name;
  std::string url;
  std::vector<std::string> events;  // event type names; empty = every type
  std::string secret_env;
  bool operator==(const WebhookDef&) const = default;
};

// How long each class of data is kept (`retention:`); zero = forever.
struct RetentionDef {
  Duration contacts{};    // closed contact records (history, timelines)
  Duration events{};      // journal events
  Duration audit{};       // audit log
  Duration recordings{};  // recordings (rows and audio files), by completion time
  bool operator==(const RetentionDef&) const = default;
};

// Reports (`reports:`; docs/metrics.md, "Reports").
struct ReportsDef {
  // First-contact resolution: a contact is resolved unless its customer starts another contact
  // within this time after its arrival.
  Duration fcr_window = std::chrono::hours(24 * 7);
  bool operator==(const ReportsDef&) const = default;
};

// Where a trunk takes outbound calls (`voice.trunks[].outbound`): INVITEs to
// sip:NUMBER@host:port, answering the carrier's digest challenge with `username` and the
// password held by the environment variable `password_env` (never in the file, as webhooks'
// secrets). An empty host: the trunk takes no outbound calls.
struct TrunkOutboundDef {
  std::string host;  // name or numeric address of the carrier's SIP server
  uint16_t port = 5060;
  std::string transport = "udp";  // udp, tcp or tls
  std::string username;           // "" = the carrier does not challenge
  std::string password_env;
  std::string caller_id;  // From user of outbound calls ("" = the username, or "parley")
  bool operator==(const TrunkOutboundDef&) const = default;
};

// A carrier's SIP trunk (`voice.trunks[]`): INVITEs from its addresses are trusted without
// digest authentication; outbound calls go to its `outbound` target.
struct TrunkDef {
  std::string name;
  std::vector<std::string> addresses;  // numeric IPv4 or IPv6 source addresses
  TrunkOutboundDef outbound;
  bool operator==(const TrunkDef&) const = default;
};

// Voice over SIP (`voice:`, docs/voice.md). The listen address is a command-line setting
// (`parley serve --sip`), not configuration.
struct VoiceDef {
  std::string realm = "parley";  // digest realm of the users' SIP passwords
  std::string media_address;     // advertised in SDP; "" = the SIP listen address
  uint16_t media_port_min = 20000;
  uint16_t media_port_max = 29999;
  // Media threads; each call's legs live on one of them (docs/media.md). One is the measured
  // best on two cores, where the SIP thread and the journal need the other.
  int media_threads = 1;
  Duration ring_timeout = Seconds(20);  // upper bound on ringing an agent's phone
  // A call leg that sends no RTP this long is hung up (a BYE that never came; Asterisk's
  // rtptimeout).
  Duration media_timeout = Seconds(30);
  // RFC 4028 session interval asked of callers and phones (`voice.session_timer`): a dialog not
  // refreshed within it is hung up (the other way a lost BYE ends; docs/voice.md).
  Duration session_timer = Seconds(1800);
  std::vector<TrunkDef> trunks;
  // Number prefixes a call may be placed to through a trunk ("+44", "0800"); none = no outbound.
  std::vector<std::string> outbound_destinations;
  // The trunk outbound calls use (`voice.outbound_trunk`; default: the first trunk with an
  // `outbound` target; "" when none has one).
  std::string outbound_trunk;
  // The trunk outbound calls use, or nullptr when none is configured.
  const TrunkDef* OutboundTrunk() const;
  bool operator==(const VoiceDef&) const = default;
};

struct Config {
  std::string site_name;
  RoutingConfig routing;
  std::vector<std::string> skill_descriptions;  // parallel to routing.skills ("" if none)
  SourceMap sources;
  // Contact flows, schedules and entry points as written; src/flow compiles and checks the
  // steps (CompileFlows), config checks names, schedules and entry points.
  FlowConfig flows;
  // Users and their roles (`users:`), in the order written. Passwords are never part of the
  // configuration: they are set through the API and stored hashed (docs/security.md).
  std::vector<UserDef> users;
  // Not Ready reasons (`reason_codes:`) and wrap-up dispositions (`disposition_codes:`), in the
  // order written. When a list is empty any text is accepted; otherwise only its codes.
  std::vector<CodeDef> reason_codes;
  std::vector<CodeDef> disposition_codes;
  std::vector<WebhookDef> webhooks;
  RetentionDef retention;
  ReportsDef reports;
  VoiceDef voice;
  std::vector<std::string> files;  // the files read: the root first, then includes in order
};

// A what-if override: `path` as for ApplyOverride, `value` as YAML text.
struct Override {
  std::string path;
  std::string value;
};

struct ParseOptions {
  // Top-level keys of the root document that belong to the caller (e.g. a scenario's
  // `arrivals:`); they are skipped, not reported as unknown.
  std::vector<std::string> extra_top_level_keys;
  // Applied after includes are read, to the first file in which the path resolves (the root
  // first), before validation.
  std::vector<Override> overrides;
  // False: `include:` is an error (text from a client of the API must not read the server's
  // files).
  bool allow_files = true;
};

// Parses and validates the configuration rooted at `root`, read from `file` (relative includes
// are resolved against its directory). Appends every error found to `errors`, sorted by file
// (in reading order), line and column, and then returns InvalidArgument; otherwise returns the
// snapshot. `root` is not modified.
Result<std::shared_ptr<const Config>> ParseConfigNode(const YAML::Node& root,
                                                      const std::string& file,
                                                      const ParseOptions& opts,
                                                      std::vector<ConfigError>* errors);
// LoadYamlText + ParseConfigNode.
Result<std::shared_ptr<const Config>> ParseConfigText(std::string_view text,
                                                      const std::string& file,
                                                      const ParseOptions& opts,
                                                      std::vector<ConfigError>* errors);
// LoadYamlFile + ParseConfigNode.
Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path,
                                                     std::vector<ConfigError>* errors,
                                                     const ParseOptions& opts = {});

// Sets the value at `path` in `root` to `value` (parsed as YAML; a plain scalar keeps the
// position of the value it replaces). Each dot-separated segment selects a map key; in a list
// of maps, the element whose `name` (or `id`) equals the segment; a number indexes a list. All
// segments but the last must exist; the last may add a key to a map. Examples:
// "queues.billing.strategy" = "round-robin", "agents.alice.skills.sales" = "4",
// "routing.max_consecutive_misses" = "5". Returns InvalidArgument naming the segment that does
// not resolve.
Status ApplyOverride(YAML::Node& root, std::string_view path, std::string_view value);

// One map of the schema and its keys, e.g. {"queues[].service_level", {"target", "seconds"}}.
// Maps whose keys are names (skill proficiencies, capacities per channel) are not listed.
struct SchemaSection {
  std::string_view path;
  std::vector<std::string_view> keys;
};
const std::vector<SchemaSection>& ConfigSchema();

}  // namespace parley::config
