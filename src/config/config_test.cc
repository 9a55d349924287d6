#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace parley::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::shared_ptr<const Config> ParseOk(const std::string& text, const ParseOptions& opts = {}) {
  std::vector<ConfigError> errors;
  auto result = ParseConfigText(text, "test.yaml", opts, &errors);
  std::string all;
  for (const auto& e : errors) all += e.ToString() + "\n";
  EXPECT_TRUE(result.ok()) << all;
  EXPECT_THAT(errors, IsEmpty());
  return result.ok() ? *result : nullptr;
}

// Every error as "file:line:column: message".
std::vector<std::string> Errors(const std::string& text, const ParseOptions& opts = {}) {
  std::vector<ConfigError> errors;
  auto result = ParseConfigText(text, "test.yaml", opts, &errors);
  EXPECT_FALSE(result.ok());
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.ToString());
  return out;
}

std::string FirstError(const std::string& text) {
  auto errors = Errors(text);
  return errors.empty() ? std::string() : errors.front();
}

constexpr const char* kGood = R"(
site: {name: Demo, time_zone: Europe/Paris}
routing: {max_consecutive_misses: 5, reoffer_delay: 7s}
skills: [english, french, {name: sales, description: Selling}, billing]
teams: [{name: north, lead: alice}, {name: south}]
agents:
  - id: alice
    name: Alice Martin
    team: north
    skills: {english: 5, sales: 3}
    capacity: {voice: 1, chat: 3, email: 5}
    voice_blocks_other_channels: false
    wrap_up_blocks_other_channels: true
    queues: [sales, {queue: support, order: 7, delay: 30s}]
  - id: bob
queues:
  - name: sales
    channels: [voice, chat]
    strategy: leastrecent
    service_level: {target: 0.9, seconds: 15}
    priority: 3
    max_wait: 10m
    max_size: 25
    offer_timeout: 12s
    wrap_up: 30s
    aging_per_minute: 1.5
    skills: {sales: 2}
    teams: [north]
    members: [alice, bob]
    timeout_flow: voicemail
    escalation:
      - {after: 30s, skills: {sales: 1}}
      - {after: 60s, teams: [], priority_boost: 5}
      - {after: 2m, overflow: support}
      - {after: 300s, flow: callback-offer}
  - name: support
flows:
  - name: voicemail
    steps: [{id: record, type: voicemail, mailbox: support}]
  - name: callback-offer
    steps: [{id: bye, type: hangup}]
)";

TEST(ConfigTest, GoodConfigFieldByField) {
  auto config = ParseOk(kGood);
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->site_name, "Demo");
  const RoutingConfig& rc = config->routing;
  EXPECT_EQ(rc.settings.time_zone, "Europe/Paris");
  EXPECT_EQ(rc.settings.max_consecutive_misses, 5u);
  EXPECT_EQ(rc.settings.reoffer_delay, Seconds(7));
  EXPECT_THAT(rc.skills, ElementsAre("english", "french", "sales", "billing"));
  EXPECT_THAT(config->skill_descriptions, ElementsAre("", "", "Selling", ""));
  ASSERT_EQ(rc.teams.size(), 2u);
  EXPECT_EQ(rc.teams[0], (TeamDef{"north", "alice"}));
  EXPECT_EQ(rc.teams[1], (TeamDef{"south", ""}));

  ASSERT_EQ(rc.agents.size(), 2u);
  const AgentDef& alice = rc.agents[0];
  EXPECT_EQ(alice.name, "alice");
  EXPECT_EQ(alice.full_name, "Alice Martin");
  EXPECT_EQ(alice.team, 0u);
  EXPECT_THAT(alice.skills, ElementsAre(SkillLevel{0, 5}, SkillLevel{2, 3}));
  EXPECT_EQ(alice.capacity[Index(Channel::kVoice)], 1);
  EXPECT_EQ(alice.capacity[Index(Channel::kChat)], 3);
  EXPECT_EQ(alice.capacity[Index(Channel::kEmail)], 5);
  EXPECT_EQ(alice.capacity[Index(Channel::kSms)], 0);
  EXPECT_FALSE(alice.voice_blocks_other_channels);
  EXPECT_TRUE(alice.wrap_up_blocks_other_channels);
  EXPECT_THAT(alice.queues,
              ElementsAre(QueueAssignment{0, 1, Duration(0)}, QueueAssignment{1, 7, Seconds(30)}));
  const AgentDef& bob = rc.agents[1];  // defaults
  EXPECT_EQ(bob.full_name, "bob");
  EXPECT_EQ(bob.team, kNone);
  EXPECT_EQ(bob.capacity[Index(Channel::kVoice)], 1);
  EXPECT_EQ(bob.capacity[Index(Channel::kChat)], 0);
  EXPECT_TRUE(bob.voice_blocks_other_channels);
  EXPECT_FALSE(bob.wrap_up_blocks_other_channels);
  EXPECT_THAT(bob.queues, IsEmpty());

  ASSERT_EQ(rc.queues.size(), 2u);
  const QueueDef& sales = rc.queues[0];
  EXPECT_EQ(sales.name, "sales");
  EXPECT_THAT(sales.channels, ElementsAre(Channel::kVoice, Channel::kChat));
  EXPECT_EQ(sales.strategy, Strategy::kLongestIdle);
  EXPECT_DOUBLE_EQ(sales.service_level_fraction, 0.9);
  EXPECT_EQ(sales.service_level_threshold, Seconds(15));
  EXPECT_EQ(sales.priority, 3);
  EXPECT_EQ(sales.max_wait, Seconds(600));
  EXPECT_EQ(sales.max_size, 25u);
  EXPECT_EQ(sales.offer_timeout, Seconds(12));
  EXPECT_EQ(sales.wrap_up, Seconds(30));
  EXPECT_DOUBLE_EQ(sales.aging_per_minute, 1.5);
  EXPECT_THAT(sales.skills, ElementsAre(SkillRequirement{2, 2}));
  EXPECT_THAT(sales.teams, ElementsAre(0u));
  EXPECT_THAT(sales.members, ElementsAre(0u, 1u));
  EXPECT_EQ(sales.timeout_flow, "voicemail");
  ASSERT_EQ(sales.escalation.size(), 4u);
  EXPECT_EQ(sales.escalation[0].after, Seconds(30));
  EXPECT_EQ(sales.escalation[0].skills, std::vector<SkillRequirement>({{2, 1}}));
  EXPECT_FALSE(sales.escalation[0].teams.has_value());
  EXPECT_EQ(sales.escalation[1].teams, std::vector<TeamIndex>());
  EXPECT_EQ(sales.escalation[1].priority_boost, 5);
  EXPECT_FALSE(sales.escalation[1].skills.has_value());
  EXPECT_EQ(sales.escalation[2].after, Seconds(120));
  EXPECT_EQ(sales.escalation[2].overflow_queue, 1u);
  EXPECT_EQ(sales.escalation[3].flow, "callback-offer");
  EXPECT_EQ(sales.escalation[3].overflow_queue, kNone);

  const QueueDef& support = rc.queues[1];  // defaults
  EXPECT_THAT(support.channels, ElementsAre(Channel::kVoice));
  EXPECT_EQ(support.strategy, Strategy::kLongestIdle);
  EXPECT_DOUBLE_EQ(support.service_level_fraction, 0.8);
  EXPECT_EQ(support.service_level_threshold, Seconds(20));
  EXPECT_EQ(support.offer_timeout, Seconds(20));
  EXPECT_EQ(support.max_wait, Duration(0));

  EXPECT_EQ(config->files, std::vector<std::string>{"test.yaml"});
}

TEST(ConfigTest, SourceMapPointsAtDefinitions) {
  auto config = ParseOk(kGood);
  ASSERT_NE(config, nullptr);
  const SourceLocation* q = config->sources.Find(SourceKind::kQueue, "sales");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->ToString(), "test.yaml:17:11");
  const SourceLocation* a = config->sources.Find(SourceKind::kAgent, "alice");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ToString(), "test.yaml:7:9");
  const SourceLocation* s = config->sources.Find(SourceKind::kSkill, "sales");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ToString(), "test.yaml:4:34");
  const SourceLocation* t = config->sources.Find(SourceKind::kTeam, "south");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->line, 5);
  const SourceLocation* step = config->sources.FindEscalationStep("sales", 2);
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->ToString(), "test.yaml:34:9");
  EXPECT_EQ(config->sources.Find(SourceKind::kQueue, "nope"), nullptr);
  EXPECT_EQ(config->sources.FindEscalationStep("sales", 4), nullptr);
}

TEST(ConfigTest, EmptyDocumentIsAnEmptyConfig) {
  auto config = ParseOk("# nothing yet\n");
  ASSERT_NE(config, nullptr);
  EXPECT_THAT(config->routing.queues, IsEmpty());
  EXPECT_EQ(config->routing.settings.time_zone, "UTC");
}

TEST(ConfigTest, DemoConfigValidates) {
  std::vector<ConfigError> errors;
  auto config = LoadConfigFile(std::string(PARLEY_SOURCE_DIR) + "/config/demo.yaml", &errors);
  ASSERT_TRUE(config.ok()) << (errors.empty() ? "" : errors[0].ToString());
  EXPECT_EQ((*config)->routing.queues.size(), 3u);
  EXPECT_EQ((*config)->routing.agents.size(), 12u);
  // An administrator, two supervisors, two team leads, a QA analyst, a wallboard and one user
  // per agent (the team leads are agents too).
  EXPECT_EQ((*config)->users.size(), 17u);
}

// ---- users ----

constexpr const char* kUsersBase = R"(
teams: [{name: north}, {name: south}]
agents:
  - {id: alice, team: north}
  - {id: bob, team: south}
)";

TEST(ConfigUsersTest, UsersWithRolesTeamsAndAgents) {
  auto config = ParseOk(std::string(kUsersBase) + R"(
users:
  - {login: root, name: Root Admin, roles: [administrator]}
  - {login: alice, roles: [agent, team_lead], agent: alice}
  - {login: lead.south, roles: team_lead, team: south}
  - {login: bob, roles: [agent], agent: bob}
)");
  ASSERT_TRUE(config);
  ASSERT_EQ(config->users.size(), 4u);
  EXPECT_EQ(config->users[0],
            (UserDef{"root", "Root Admin", {Role::kAdministrator}, kNone, kNone}));
  EXPECT_EQ(config->users[1],
            (UserDef{"alice", "alice", {Role::kAgent, Role::kTeamLead}, kNone, 0}));
  EXPECT_EQ(config->users[2], (UserDef{"lead.south", "lead.south", {Role::kTeamLead}, 1, kNone}));
  EXPECT_EQ(config->users[3].agent, 1u);
}

TEST(ConfigUsersTest, PasswordsAreRefusedWithTheReason) {
  const auto errors = Errors(std::string(kUsersBase) +
                             "users:\n  - {login: root, roles: [administrator], password: "
                             "hunter22}\n");
  ASSERT_EQ(errors.size(), 1u) << errors[0];
  EXPECT_THAT(errors[0], HasSubstr("test.yaml:7:43: 'password' is not allowed in user 'root': "
                                   "passwords never live in configuration files"));
  // The value itself is never echoed.
  EXPECT_THAT(errors[0], ::testing::Not(HasSubstr("hunter22")));
  EXPECT_THAT(FirstError("users:\n  - {login: x, roles: [wallboard], sip_password: s3cret}\n"),
              HasSubstr("'sip_password' is not allowed in user 'x'"));
}

TEST(ConfigUsersTest, UnknownRoleTeamAgentAndDuplicates) {
  EXPECT_EQ(FirstError("users:\n  - {login: x, roles: [supervsor]}\n"),
            "test.yaml:2:24: unknown role 'supervsor' in user 'x'; did you mean 'supervisor'? "
            "(roles: administrator, supervisor, team_lead, qa_analyst, agent, wallboard)");
  EXPECT_EQ(FirstError(std::string(kUsersBase) +
                       "users:\n  - {login: x, roles: [team_lead], team: west}\n"),
            "test.yaml:7:42: unknown team 'west' in user 'x'; known teams: north, south");
  EXPECT_EQ(FirstError(std::string(kUsersBase) +
                       "users:\n  - {login: x, roles: [agent], agent: carol}\n"),
            "test.yaml:7:39: unknown agent 'carol' in user 'x'; known agents: alice, bob");
  EXPECT_EQ(FirstError("users:\n  - {login: x, roles: [qa_analyst]}\n  - {login: x, roles: "
                       "[wallboard]}\n"),
            "test.yaml:3:13: duplicate user 'x' (first defined at test.yaml:2:13)");
  EXPECT_EQ(FirstError("users:\n  - {login: x, roles: [agent, agent], agent: a}\nagents: [{id: "
                       "a}]\n"),
            "test.yaml:2:31: role 'agent' is listed twice in user 'x'");
  EXPECT_EQ(FirstError(std::string(kUsersBase) +
                       "users:\n  - {login: a1, roles: [agent], agent: alice}\n  - {login: a2, "
                       "roles: [agent], agent: alice}\n"),
            "test.yaml:8:40: agent 'alice' is already linked to user 'a1'; an agent is one "
            "user's");
}

TEST(ConfigUsersTest, RoleRequirementsAndLoginNames) {
  EXPECT_THAT(FirstError("users:\n  - {login: x, roles: [agent]}\n"),
              HasSubstr("2:13: user 'x' has role agent but no 'agent'"));
  EXPECT_THAT(FirstError("users:\n  - {login: x, roles: [team_lead]}\n"),
              HasSubstr("2:13: user 'x' has role team_lead but no team"));
  EXPECT_THAT(FirstError("users:\n  - {login: x, roles: []}\n"),
              HasSubstr("2:23: user 'x' needs at least one role"));
  EXPECT_THAT(FirstError("users:\n  - {login: Bob Smith, roles: [wallboard]}\n"),
              HasSubstr("2:13: invalid login 'Bob Smith'; use 1-64 characters"));
  EXPECT_THAT(FirstError("users:\n  - {roles: [wallboard]}\n"),
              HasSubstr("missing required key 'login' in user"));
  EXPECT_THAT(Errors("users:\n  - {login: x, role: [wallboard]}\n"),
              ElementsAre(HasSubstr("2:5: missing required key 'roles' in user 'x'"),
                          HasSubstr("2:16: unknown key 'role' in user 'x'; did you mean "
                                    "'roles'?")));
}

// ---- syntax ----

TEST(ConfigServerTest, CodesWebhooksAndRetention) {
  auto config = ParseOk(R"(
reason_codes: [break, {code: lunch, label: Lunch break}]
disposition_codes:
  - {code: sale, label: Sale made}
  - no-sale
webhooks:
  - {name: crm, url: "https://crm.example/hook", events: [contact.queued, wrap_up.ended], secret_env: CRM_SECRET}
  - {name: all, url: "http://127.0.0.1:9000/"}
retention: {contacts: 400d, events: 90d, recordings: 30d}
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->reason_codes,
            (std::vector<CodeDef>{{"break", "break"}, {"lunch", "Lunch break"}}));
  EXPECT_EQ(config->disposition_codes,
            (std::vector<CodeDef>{{"sale", "Sale made"}, {"no-sale", "no-sale"}}));
  ASSERT_EQ(config->webhooks.size(), 2u);
  EXPECT_EQ(
      config->webhooks[0],
      (WebhookDef{
          "crm", "https://crm.example/hook", {"contact.queued", "wrap_up.ended"}, "CRM_SECRET"}));
  EXPECT_TRUE(config->webhooks[1].events.empty());
  EXPECT_EQ(config->retention.contacts, std::chrono::hours(24 * 400));
  EXPECT_EQ(config->retention.events, std::chrono::hours(24 * 90));
  EXPECT_EQ(config->retention.audit, Duration{});
  EXPECT_EQ(config->retention.recordings, std::chrono::hours(24 * 30));
}

TEST(ConfigServerTest, BadCodesWebhooksAndRetention) {
  EXPECT_THAT(FirstError("reason_codes: [break, break]\n"),
              HasSubstr("test.yaml:1:23: duplicate reason code 'break'"));
  EXPECT_THAT(FirstError("disposition_codes: [{label: x}]\n"), HasSubstr("'code'"));
  EXPECT_THAT(FirstError("reason_codes: [\"Lunch Break\"]\n"),
              HasSubstr("invalid reason code 'Lunch Break'"));
  EXPECT_THAT(FirstError("webhooks: [{name: a, url: ftp://x}]\n"),
              HasSubstr("test.yaml:1:27: url of webhook 'a' must start with http:// or https://"));
  // The client's parser decides: what it could not send is refused where it is written, and the
  // message does not repeat the URL (a query may carry a token).
  const auto credentials = FirstError("webhooks: [{name: a, url: \"http://u:tok3n@crm/x\"}]\n");
  EXPECT_THAT(credentials, HasSubstr("url of webhook 'a'"));
  EXPECT_THAT(credentials, ::testing::Not(HasSubstr("tok3n")));
  EXPECT_THAT(FirstError("webhooks: [{name: a, url: \"http://crm:99999/x\"}]\n"),
              HasSubstr("port"));
  EXPECT_THAT(FirstError("webhooks: [{name: a, url: \"https://crm/a b\"}]\n"),
              HasSubstr("url of webhook 'a'"));
  EXPECT_THAT(FirstError("webhooks: [{name: a, url: http://x, events: [contact.queud]}]\n"),
              HasSubstr("unknown event type 'contact.queud' in webhook 'a'; did you mean "
                        "'contact.queued'?"));
  const auto secret = FirstError("webhooks: [{name: a, url: http://x, secret: s3cr3t}]\n");
  EXPECT_THAT(secret, HasSubstr("'secret' is not allowed in webhook 'a'"));
  EXPECT_THAT(secret, ::testing::Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(FirstError("retention: {contacts: forever}\n"), HasSubstr("test.yaml:1:23:"));
  EXPECT_THAT(FirstError("retention: {contact: 1d}\n"), HasSubstr("did you mean 'contacts'"));
}

TEST(ConfigServerTest, LookupLimits) {
  auto defaults = ParseOk("site: {name: x}\n");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->flows.lookups, LookupLimits{});
  EXPECT_EQ(defaults->flows.lookups.timeout, Seconds(5));
  EXPECT_EQ(defaults->flows.lookups.workers, 8u);
  EXPECT_EQ(defaults->flows.lookups.max_queued, 256u);
  EXPECT_EQ(defaults->flows.lookups.max_response_bytes, 256u * 1024);
  auto config = ParseOk(R"(
lookups:
  timeout: 2500ms
  workers: 16
  max_queued: 0
  max_response_bytes: 65536
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(
      config->flows.lookups,
      (LookupLimits{
          .timeout = Seconds(2.5), .workers = 16, .max_queued = 0, .max_response_bytes = 65536}));
}

TEST(ConfigServerTest, BadLookupLimitsNameTheirLineAndBounds) {
  EXPECT_THAT(FirstError("lookups: {workers: 0}\n"),
              HasSubstr("test.yaml:1:20: lookups workers must be between 1 and 64"));
  EXPECT_THAT(FirstError("lookups:\n  max_response_bytes: 100\n"),
              HasSubstr("test.yaml:2:23: lookups max_response_bytes must be between 1024 "
                        "and 16777216"));
  EXPECT_THAT(FirstError("lookups: {max_queued: -1}\n"),
              HasSubstr("lookups max_queued must be between 0 and 100000"));
  EXPECT_THAT(
      FirstError("lookups: {timeout: 10ms}\n"),
      HasSubstr("test.yaml:1:20: lookups timeout must be between 100ms and 5m, got '10ms'"));
  EXPECT_THAT(FirstError("lookups: {timeout: soon}\n"), HasSubstr("test.yaml:1:20:"));
  EXPECT_THAT(FirstError("lookups: {worker: 4}\n"), HasSubstr("did you mean 'workers'"));
  EXPECT_THAT(FirstError("lookups: [8]\n"), HasSubstr("test.yaml:1:10:"));
}

TEST(ConfigServerTest, ReportsFcrWindowDefaultsToAWeekAndIsBounded) {
  auto config = ParseOk("site: {name: x}\n");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->reports.fcr_window, std::chrono::hours(24 * 7));
  auto day = ParseOk("reports: {fcr_window: 24h}\n");
  ASSERT_TRUE(day);
  EXPECT_EQ(day->reports.fcr_window, std::chrono::hours(24));
  EXPECT_THAT(
      FirstError("reports: {fcr_window: 30s}\n"),
      HasSubstr("test.yaml:1:23: reports fcr_window must be between 1m and 90d, got '30s'"));
  EXPECT_THAT(FirstError("reports: {fcr_window: 91d}\n"), HasSubstr("between 1m and 90d"));
  EXPECT_THAT(FirstError("reports: {fcr: 1d}\n"), HasSubstr("unknown key 'fcr' in reports"));
}

TEST(ConfigServerTest, Voice) {
  auto config = ParseOk(R"(
voice:
  realm: example.com
  media_address: 127.0.0.1
  media_ports: 30000-30100
  media_threads: 4
  ring_timeout: 15s
  media_timeout: 10s
  session_timer: 15m
  trunks:
    - {name: carrier, addresses: [192.0.2.10, "2001:db8::1"]}
  outbound_destinations: ["+44", "0800"]
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->voice.realm, "example.com");
  EXPECT_EQ(config->voice.media_address, "127.0.0.1");
  EXPECT_EQ(config->voice.media_port_min, 30000);
  EXPECT_EQ(config->voice.media_port_max, 30100);
  EXPECT_EQ(config->voice.media_threads, 4);
  EXPECT_EQ(config->voice.ring_timeout, Seconds(15));
  EXPECT_EQ(config->voice.media_timeout, Seconds(10));
  EXPECT_EQ(config->voice.session_timer, Seconds(900));
  EXPECT_EQ(config->voice.trunks,
            (std::vector<TrunkDef>{{"carrier", {"192.0.2.10", "2001:db8::1"}, {}}}));
  EXPECT_EQ(config->voice.outbound_destinations, (std::vector<std::string>{"+44", "0800"}));
  auto defaults = ParseOk("site: {name: x}\n");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->voice, VoiceDef{});
}

TEST(ConfigServerTest, TrunkOutbound) {
  auto config = ParseOk(R"(
voice:
  trunks:
    - {name: in_only, addresses: [192.0.2.9]}
    - name: carrier
      addresses: [192.0.2.10]
      outbound: {host: sip.carrier.example, port: 5080, transport: tcp, username: acct-1,
                 password_env: CARRIER_PASSWORD, caller_id: "+442071234567"}
  outbound_destinations: ["+44"]
)");
  ASSERT_TRUE(config);
  const TrunkOutboundDef& out = config->voice.trunks[1].outbound;
  EXPECT_EQ(out, (TrunkOutboundDef{"sip.carrier.example", 5080, "tcp", "acct-1", "CARRIER_PASSWORD",
                                   "+442071234567"}));
  EXPECT_TRUE(config->voice.trunks[0].outbound.host.empty());
  // The default is the first trunk with an outbound target.
  EXPECT_EQ(config->voice.outbound_trunk, "carrier");
  ASSERT_NE(config->voice.OutboundTrunk(), nullptr);
  EXPECT_EQ(config->voice.OutboundTrunk()->name, "carrier");
  auto defaults = ParseOk("voice: {trunks: [{name: a, addresses: [1.2.3.4]}]}\n");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->voice.OutboundTrunk(), nullptr);
  EXPECT_EQ(defaults->voice.trunks[0].outbound.port, 5060);
  EXPECT_EQ(defaults->voice.trunks[0].outbound.transport, "udp");
}

TEST(ConfigServerTest, BadTrunkOutbound) {
  EXPECT_EQ(FirstError("voice:\n  trunks:\n    - name: a\n      addresses: [1.2.3.4]\n"
                       "      outbound: {host: h, password: x}\n"),
            "test.yaml:5:27: 'password' is not allowed in outbound of voice trunk 'a': secrets "
            "never live in configuration files; put it in an environment variable and name that "
            "variable with 'password_env'");
  EXPECT_THAT(FirstError("voice: {trunks: [{name: a, addresses: [1.2.3.4], outbound: {port: "
                         "5060}}]}\n"),
              HasSubstr("outbound of voice trunk 'a'"));
  EXPECT_THAT(FirstError("voice: {trunks: [{name: a, addresses: [1.2.3.4], outbound: {host: h, "
                         "transport: sctp}}]}\n"),
              HasSubstr("must be udp, tcp or tls, got 'sctp'"));
  EXPECT_THAT(FirstError("voice: {trunks: [{name: a, addresses: [1.2.3.4], outbound: {host: h, "
                         "port: 70000}}]}\n"),
              HasSubstr("port of outbound of voice trunk 'a'"));
  EXPECT_THAT(FirstError("voice: {trunks: [{name: a, addresses: [1.2.3.4], outbound: {host: h, "
                         "username: u}}]}\n"),
              HasSubstr("has a username but no password_env"));
  EXPECT_THAT(FirstError("voice: {trunks: [{name: a, addresses: [1.2.3.4], outbound: {host: "
                         "\"a b\"}}]}\n"),
              HasSubstr("host name or numeric address"));
  EXPECT_EQ(FirstError("voice:\n  trunks: [{name: a, addresses: [1.2.3.4]}]\n"
                       "  outbound_trunk: a\n"),
            "test.yaml:3:19: voice outbound_trunk 'a' must name a trunk with an 'outbound' (no "
            "trunk has one)");
  EXPECT_THAT(FirstError("voice:\n  trunks: [{name: a, addresses: [1.2.3.4], outbound: {host: "
                         "h}}]\n  outbound_trunk: b\n"),
              HasSubstr("no such trunk; trunks with one: a"));
}

TEST(ConfigServerTest, BadVoice) {
  EXPECT_THAT(FirstError("voice: {media_ports: 10-20}\n"), HasSubstr("FIRST-LAST"));
  EXPECT_THAT(FirstError("voice: {media_address: pbx.example}\n"),
              HasSubstr("numeric IPv4 or IPv6"));
  EXPECT_THAT(FirstError("voice: {trunks: [{name: a, addresses: [evil.example]}]}\n"),
              HasSubstr("address of voice trunk 'a'"));
  EXPECT_THAT(FirstError("voice: {trunks: [{name: a, addresses: [1.2.3.4]}, {name: a, "
                         "addresses: [1.2.3.5]}]}\n"),
              HasSubstr("defined twice"));
  EXPECT_THAT(FirstError("voice: {outbound_destinations: [\"+44*\"]}\n"),
              HasSubstr("number prefix"));
  EXPECT_THAT(FirstError("voice: {realm: \"a b\"}\n"), HasSubstr("voice realm"));
  EXPECT_THAT(FirstError("voice: {trunk: []}\n"), HasSubstr("did you mean 'trunks'"));
  EXPECT_EQ(FirstError("voice: {media_timeout: 0s}\n"),
            "test.yaml:1:24: voice media_timeout must be between 1s and 1h (a lost BYE must "
            "still end the call)");
  EXPECT_EQ(FirstError("voice: {session_timer: 1s}\n"),
            "test.yaml:1:24: voice session_timer must be whole seconds between 2s and 24h, got "
            "'1s'");
  EXPECT_THAT(FirstError("voice: {session_timer: 25h}\n"), HasSubstr("between 2s and 24h"));
  EXPECT_THAT(FirstError("voice: {session_timer: 1500ms}\n"), HasSubstr("whole seconds"));
  EXPECT_THAT(FirstError("voice: {media_threads: 0}\n"), HasSubstr("voice media_threads"));
  EXPECT_THAT(FirstError("voice: {media_threads: 65}\n"), HasSubstr("voice media_threads"));
}

TEST(ConfigErrorsTest, YamlSyntaxErrorHasPosition) {
  EXPECT_THAT(FirstError("skills: [a, b\nqueues: []\n"),
              HasSubstr("test.yaml:2:7: end of sequence flow not found"));
}

TEST(ConfigErrorsTest, DuplicateKey) {
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    priority: 1\n    priority: 2\n"),
            "test.yaml:4:5: duplicate key 'priority' (first defined at 3:5)");
}

TEST(ConfigErrorsTest, UnterminatedQuote) {
  EXPECT_EQ(FirstError("site:\n  name: \"Demo\n"),
            "test.yaml:2:9: unterminated quoted string (missing closing \")");
  // Inside a flow list yaml-cpp itself notices the missing end.
  EXPECT_THAT(FirstError("site: {name: Demo}\nskills: ['x\n"),
              HasSubstr("end of sequence flow not found"));
  // Escaped quotes do not end the string, and a quote inside a plain scalar is text.
  ParseOk("site: {name: 'O''Brien \"x\" \\'}\nteams: [{name: north, lead: O'Brien}]\n");
}

// ---- schema ----

TEST(ConfigErrorsTest, UnknownKeySuggestsNearest) {
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    stratgy: linear\n"),
            "test.yaml:3:5: unknown key 'stratgy' in queue 'a'; did you mean 'strategy'?");
  EXPECT_EQ(FirstError("sites: {name: x}\n"),
            "test.yaml:1:1: unknown key 'sites' in the top level; did you mean 'site'?");
  EXPECT_THAT(FirstError("routing: {colour: red}\n"),
              HasSubstr("1:11: unknown key 'colour' in routing; known keys: "
                        "max_consecutive_misses, reoffer_delay"));
}

TEST(ConfigErrorsTest, ExtraTopLevelKeysAreIgnored) {
  ParseOptions opts;
  opts.extra_top_level_keys = {"arrivals", "expect"};
  ParseOk("arrivals: [1, 2]\nexpect: {x: 1}\nskills: [a]\n", opts);
  EXPECT_THAT(FirstError("arrivals: [1]\n"), HasSubstr("unknown key 'arrivals'"));
}

TEST(ConfigErrorsTest, WrongTypes) {
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    priority: high\n"),
            "test.yaml:3:15: expected an integer for priority, got 'high'");
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    aging_per_minute: [1]\n"),
            "test.yaml:3:23: expected a number for aging_per_minute, got a list");
  EXPECT_EQ(FirstError("agents:\n  - id: a\n    voice_blocks_other_channels: maybe\n"),
            "test.yaml:3:34: expected true or false for voice_blocks_other_channels, got 'maybe'");
  EXPECT_EQ(FirstError("queues: {name: a}\n"), "test.yaml:1:9: expected a list for queues");
  EXPECT_EQ(FirstError("site: Demo\n"), "test.yaml:1:7: expected a map for site");
  EXPECT_EQ(FirstError("- a\n- b\n"),
            "test.yaml:1:1: expected a map of configuration sections at the top level");
  EXPECT_EQ(
      FirstError("queues:\n  - name: a\n    wrap_up: soon\n"),
      "test.yaml:3:14: invalid duration 'soon'; expected e.g. 20s, 500ms, 5m, 1h, 1h30m, 90d or "
      "a number of seconds for wrap_up");
}

TEST(ConfigErrorsTest, MissingRequiredKeyPointsAtEnclosingMap) {
  EXPECT_EQ(FirstError("queues:\n  - strategy: linear\n"),
            "test.yaml:2:5: missing required key 'name' in queue");
  EXPECT_EQ(FirstError("agents:\n  - name: Alice\n"),
            "test.yaml:2:5: missing required key 'id' in agent");
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    escalation:\n      - {priority_boost: 1}\n"),
            "test.yaml:4:9: missing required key 'after' in escalation step 1 of queue 'a'");
}

TEST(ConfigErrorsTest, RangesAndValues) {
  EXPECT_EQ(FirstError("skills: [x]\nagents:\n  - id: a\n    skills: {x: 6}\n"),
            "test.yaml:4:17: proficiency of skill 'x' must be between 1 and 5, got 6");
  EXPECT_EQ(FirstError("skills: [x]\nqueues:\n  - name: q\n    skills: {x: 0}\n"),
            "test.yaml:4:17: proficiency of skill 'x' must be between 1 and 5, got 0");
  EXPECT_EQ(FirstError("agents:\n  - id: a\n    capacity: {chat: 51}\n"),
            "test.yaml:3:22: chat capacity must be between 0 and 50, got 51");
  EXPECT_EQ(FirstError("agents:\n  - id: a\n    capacity: {fax: 1}\n"),
            "test.yaml:3:16: unknown channel 'fax' in capacity of agent 'a'; accepted: voice, "
            "chat, email, sms, social, callback, task");
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    service_level: {target: 1.5}\n"),
            "test.yaml:3:29: service_level target must be a fraction in (0, 1], e.g. 0.8, got 1.5");
  EXPECT_THAT(FirstError("queues:\n  - name: a\n    service_level: {target: 0}\n"),
              HasSubstr("3:29: service_level target must be a fraction in (0, 1]"));
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    max_wait: -5s\n"),
            "test.yaml:3:15: max_wait must not be negative, got '-5s'");
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    offer_timeout: 0\n"),
            "test.yaml:3:20: offer_timeout must be greater than 0");
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    channels: [voice, pigeon]\n"),
            "test.yaml:3:23: unknown channel 'pigeon' in queue 'a'; accepted: voice, chat, email, "
            "sms, social, callback, task");
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    channels: []\n"),
            "test.yaml:3:15: queue 'a' must take at least one channel");
  EXPECT_EQ(FirstError("site: {time_zone: Mars/Olympus}\n"),
            "test.yaml:1:19: unknown time zone 'Mars/Olympus'; expected a name of the tz database "
            "such as Europe/Paris, America/New_York or UTC");
}

TEST(ConfigErrorsTest, UnknownStrategyListsAcceptedNames) {
  const std::string e = FirstError("queues:\n  - name: a\n    strategy: fastest\n");
  EXPECT_THAT(e, HasSubstr("test.yaml:3:15: unknown strategy 'fastest'; accepted: longest-idle, "
                           "leastrecent, "));
  EXPECT_THAT(e, HasSubstr("rrmemory"));
  EXPECT_THAT(e, HasSubstr("ring-all"));
}

TEST(ConfigErrorsTest, StrategyAliasesAreAccepted) {
  auto config = ParseOk(
      "queues:\n  - {name: a, strategy: rrmemory}\n  - {name: b, strategy: "
      "top-down}\n  - {name: c, strategy: ringall}\n");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->routing.queues[0].strategy, Strategy::kRoundRobin);
  EXPECT_EQ(config->routing.queues[1].strategy, Strategy::kLinear);
  EXPECT_EQ(config->routing.queues[2].strategy, Strategy::kRingAll);
}

TEST(ConfigErrorsTest, UnknownReferences) {
  EXPECT_EQ(FirstError("skills: [english]\nagents:\n  - id: a\n    skills: {englsh: 3}\n"),
            "test.yaml:4:14: unknown skill 'englsh' in agent 'a'; did you mean 'english'?");
  EXPECT_EQ(FirstError("agents:\n  - id: a\n    team: north\n"),
            "test.yaml:3:11: unknown team 'north' in agent 'a' (no teams are defined)");
  EXPECT_EQ(FirstError("agents: [{id: alice}, {id: bob}]\nqueues:\n  - name: a\n    members: "
                       "[carol]\n"),
            "test.yaml:4:15: unknown agent 'carol' in members of queue 'a'; known agents: "
            "alice, bob");
  EXPECT_THAT(
      FirstError("queues:\n  - name: a\n    escalation:\n      - {after: 1s, overflow: zz}\n"),
      HasSubstr("4:31: unknown queue 'zz' in overflow of escalation step 1 of queue 'a'; "
                "known queues: a"));
  EXPECT_EQ(FirstError("queues: [{name: sales}]\nagents:\n  - id: a\n    queues: [sales, "
                       "{queue: support}]\n"),
            "test.yaml:4:29: unknown queue 'support' in queues of agent 'a'; known queues: sales");
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    teams: [north]\n"),
            "test.yaml:3:13: unknown team 'north' in queue 'a' (no teams are defined)");
}

TEST(ConfigErrorsTest, ReferencesMayPointForward) {
  auto config = ParseOk(
      "agents: [{id: a, queues: [q2]}]\nqueues:\n  - name: q1\n    escalation: "
      "[{after: 1s, overflow: q2}]\n  - name: q2\n");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->routing.queues[0].escalation[0].overflow_queue, 1u);
}

TEST(ConfigErrorsTest, DuplicateNames) {
  EXPECT_EQ(FirstError("queues:\n  - name: sales\n  - name: sales\n"),
            "test.yaml:3:11: duplicate queue 'sales' (first defined at test.yaml:2:11)");
  EXPECT_EQ(FirstError("skills: [a, {name: a}]\n"),
            "test.yaml:1:20: duplicate skill 'a' (first defined at test.yaml:1:10)");
  EXPECT_EQ(FirstError("agents: [{id: a}, {id: a}]\n"),
            "test.yaml:1:24: duplicate agent 'a' (first defined at test.yaml:1:15)");
  EXPECT_EQ(FirstError("teams: [{name: t}, {name: t}]\n"),
            "test.yaml:1:27: duplicate team 't' (first defined at test.yaml:1:16)");
  EXPECT_EQ(FirstError("queues: [{name: a}]\nagents:\n  - id: x\n    queues: [a, a]\n"),
            "test.yaml:4:17: queue 'a' is listed twice in agent 'x'");
  EXPECT_EQ(FirstError("queues: [{name: ''}]\n"), "test.yaml:1:17: queue name must not be empty");
}

TEST(ConfigErrorsTest, EscalationOrderAndSelfOverflow) {
  EXPECT_EQ(FirstError("queues:\n  - name: a\n    escalation:\n      - {after: 60s}\n"
                       "      - {after: 1m}\n"),
            "test.yaml:5:17: escalation 'after' must increase from step to step: 60s is not "
            "later than 60s");
  EXPECT_EQ(
      FirstError("queues:\n  - name: a\n    escalation:\n      - {after: 60s, overflow: a}\n"),
      "test.yaml:4:32: queue 'a' cannot overflow to itself");
}

TEST(ConfigErrorsTest, CollectsAllErrorsSorted) {
  const auto errors = Errors(
      "queues:\n  - name: a\n    priority: x\n    strategy: nope\n    members: [ghost]\n"
      "agents:\n  - id: b\n    capacity: {voice: 99}\n");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_THAT(errors[0], HasSubstr("test.yaml:3:15:"));
  EXPECT_THAT(errors[1], HasSubstr("test.yaml:4:15:"));
  EXPECT_THAT(errors[2], HasSubstr("test.yaml:5:15:"));
  EXPECT_THAT(errors[3], HasSubstr("test.yaml:8:23:"));
}

// ---- durations ----

TEST(DurationTest, Forms) {
  EXPECT_EQ(*ParseDuration("20s"), Seconds(20));
  EXPECT_EQ(*ParseDuration("500ms"), Duration(500'000));
  EXPECT_EQ(*ParseDuration("5m"), Seconds(300));
  EXPECT_EQ(*ParseDuration("1h"), Seconds(3600));
  EXPECT_EQ(*ParseDuration("1h30m"), Seconds(5400));
  EXPECT_EQ(*ParseDuration("1m30s"), Seconds(90));
  EXPECT_EQ(*ParseDuration("20"), Seconds(20));
  EXPECT_EQ(*ParseDuration("0.25"), Seconds(0.25));
  EXPECT_EQ(*ParseDuration("1.5s"), Seconds(1.5));
  EXPECT_EQ(*ParseDuration("-3s"), Seconds(-3));
  for (const char* bad : {"", "s", "5x", "1m20", "abc", "5 s", "1..2s", "-", "99999999999h"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_THAT(ParseDuration("5x").status().message(), HasSubstr("invalid duration '5x'"));
}

TEST(YamlUtilTest, ReaderReportsPositionsAndNearestKey) {
  std::vector<ConfigError> errors;
  auto root = LoadYamlText("a: 1\nb: x\n", "s.yaml", &errors);
  ASSERT_TRUE(root.ok());
  YamlReader r("s.yaml", &errors);
  EXPECT_EQ(r.Int(YamlReader::Get(*root, "a"), "a", 0, 10), 1);
  EXPECT_EQ(r.Number(YamlReader::Get(*root, "b"), "b"), std::nullopt);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), "s.yaml:2:4: expected a number for b, got 'x'");
  EXPECT_EQ(PositionText(YamlReader::Get(*root, "b")), "2:4");
  EXPECT_EQ(NearestKey("priorty", {"priority", "strategy"}), "priority");
  EXPECT_EQ(NearestKey("zzz", {"priority", "strategy"}), "");
  EXPECT_EQ(NearestKey("Name", {"name"}), "name");
}

// ---- includes ----

class IncludeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("parley_config_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "parts");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(IncludeTest, MergesListsAndMaps) {
  Write("parts/skills.yaml", "skills: [english, sales]\nrouting: {reoffer_delay: 9s}\n");
  Write("parts/agents.yaml", "include: [skills.yaml]\nagents: [{id: a, skills: {sales: 2}}]\n");
  const std::string main =
      Write("main.yaml",
            "include: [parts/agents.yaml, parts/skills.yaml]\nsite: {name: X}\n"
            "routing: {max_consecutive_misses: 1}\nskills: [french]\n"
            "queues: [{name: q, members: [a], skills: {english: 1}}]\n");
  std::vector<ConfigError> errors;
  auto config = LoadConfigFile(main, &errors);
  ASSERT_TRUE(config.ok()) << errors[0].ToString();
  const RoutingConfig& rc = (*config)->routing;
  EXPECT_THAT(rc.skills, ElementsAre("french", "english", "sales"));
  EXPECT_EQ(rc.settings.reoffer_delay, Seconds(9));
  EXPECT_EQ(rc.settings.max_consecutive_misses, 1u);
  EXPECT_THAT(rc.agents[0].skills, ElementsAre(SkillLevel{2, 2}));
  ASSERT_EQ((*config)->files.size(), 3u);  // skills.yaml is read once
  const SourceLocation* where = (*config)->sources.Find(SourceKind::kSkill, "sales");
  ASSERT_NE(where, nullptr);
  EXPECT_EQ(where->file, (dir_ / "parts/skills.yaml").string());
}

TEST_F(IncludeTest, ErrorsNameTheIncludedFile) {
  const std::string part = Write("parts/q.yaml", "queues:\n  - name: q\n    strategy: fastest\n");
  const std::string main = Write("main.yaml", "include: [parts/q.yaml]\n");
  std::vector<ConfigError> errors;
  EXPECT_FALSE(LoadConfigFile(main, &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, part);
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_EQ(errors[0].column, 15);
}

TEST_F(IncludeTest, NameDefinedInTwoFilesPointsAtBoth) {
  const std::string part = Write("parts/q.yaml", "queues:\n  - name: sales\n");
  const std::string main = Write("main.yaml",
                                 "include: [parts/q.yaml]\nqueues:\n  - name: sales\n"
                                 "routing: {reoffer_delay: 1s}\n");
  Write("parts/r.yaml", "routing: {reoffer_delay: 2s}\n");
  std::vector<ConfigError> errors;
  EXPECT_FALSE(LoadConfigFile(main, &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            part + ":2:11: duplicate queue 'sales' (first defined at " + main + ":3:11)");

  const std::string main2 =
      Write("main2.yaml", "include: [parts/r.yaml]\nrouting: {reoffer_delay: 1s}\n");
  errors.clear();
  EXPECT_FALSE(LoadConfigFile(main2, &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), dir_.string() +
                                      "/parts/r.yaml:1:11: 'routing.reoffer_delay' "
                                      "is defined twice (first at " +
                                      main2 + ":2:11)");
}

TEST_F(IncludeTest, CycleIsAnError) {
  Write("a.yaml", "include: [b.yaml]\nskills: [x]\n");
  Write("b.yaml", "include: [a.yaml]\n");
  std::vector<ConfigError> errors;
  EXPECT_FALSE(LoadConfigFile((dir_ / "a.yaml").string(), &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, (dir_ / "b.yaml").string());
  EXPECT_EQ(errors[0].line, 1);
  EXPECT_EQ(errors[0].column, 11);
  EXPECT_EQ(errors[0].message, "include cycle: a.yaml -> b.yaml -> a.yaml");

  Write("self.yaml", "include: self.yaml\n");
  errors.clear();
  EXPECT_FALSE(LoadConfigFile((dir_ / "self.yaml").string(), &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "include cycle: self.yaml -> self.yaml");
}

TEST_F(IncludeTest, MissingIncludeIsReportedWhereIncluded) {
  const std::string main = Write("main.yaml", "skills: [x]\ninclude: [nope.yaml]\n");
  std::vector<ConfigError> errors;
  EXPECT_FALSE(LoadConfigFile(main, &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            main + ":2:11: cannot read included file '" + (dir_ / "nope.yaml").string() + "'");
}

TEST_F(IncludeTest, SyntaxErrorInIncludedFile) {
  const std::string part = Write("parts/bad.yaml", "skills: [a\n");
  const std::string main = Write("main.yaml", "include: [parts/bad.yaml]\n");
  std::vector<ConfigError> errors;
  EXPECT_FALSE(LoadConfigFile(main, &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, part);
}

// ---- overrides ----

YAML::Node Load(const std::string& text) {
  std::vector<ConfigError> errors;
  auto root = LoadYamlText(text, "o.yaml", &errors);
  EXPECT_TRUE(root.ok());
  return *root;
}

constexpr const char* kOverrideBase = R"(
routing: {max_consecutive_misses: 3}
skills: [sales, english]
agents:
  - id: alice
    skills: {sales: 2}
queues:
  - name: billing
    strategy: longest-idle
  - name: support
)";

TEST(OverrideTest, SetsValuesByNameIndexAndKey) {
  YAML::Node root = Load(kOverrideBase);
  EXPECT_TRUE(ApplyOverride(root, "queues.billing.strategy", "round-robin").ok());
  EXPECT_TRUE(ApplyOverride(root, "agents.alice.skills.sales", "4").ok());
  EXPECT_TRUE(ApplyOverride(root, "agents.alice.skills.english", "1").ok());  // new key
  EXPECT_TRUE(ApplyOverride(root, "routing.max_consecutive_misses", "5").ok());
  EXPECT_TRUE(ApplyOverride(root, "queues.1.teams", "[]").ok());
  EXPECT_TRUE(ApplyOverride(root, "queues.support.channels", "[voice, chat]").ok());
  std::vector<ConfigError> errors;
  auto config = ParseConfigNode(root, "o.yaml", {}, &errors);
  ASSERT_TRUE(config.ok()) << errors[0].ToString();
  const RoutingConfig& rc = (*config)->routing;
  EXPECT_EQ(rc.queues[0].strategy, Strategy::kRoundRobin);
  EXPECT_THAT(rc.agents[0].skills, ElementsAre(SkillLevel{0, 4}, SkillLevel{1, 1}));
  EXPECT_EQ(rc.settings.max_consecutive_misses, 5u);
  EXPECT_THAT(rc.queues[1].channels, ElementsAre(Channel::kVoice, Channel::kChat));
}

TEST(OverrideTest, UnknownPathIsAClearError) {
  YAML::Node root = Load(kOverrideBase);
  Status s = ApplyOverride(root, "queues.nosuch.strategy", "linear");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "override 'queues.nosuch.strategy': no 'nosuch' in queues");
  EXPECT_EQ(ApplyOverride(root, "quues.billing.strategy", "x").message(),
            "override 'quues.billing.strategy': no 'quues' in the top level");
  EXPECT_EQ(ApplyOverride(root, "queues.7", "x").message(),
            "override 'queues.7': no element '7' in queues");
  EXPECT_EQ(ApplyOverride(root, "queues..strategy", "x").message(),
            "override 'queues..strategy': empty segment in path");
  EXPECT_EQ(ApplyOverride(root, "queues.billing.strategy.x", "x").message(),
            "override 'queues.billing.strategy.x': queues.billing.strategy is not a map or a list");
}

TEST(OverrideTest, BadValueKeepsOriginalPosition) {
  YAML::Node root = Load(kOverrideBase);
  ASSERT_TRUE(ApplyOverride(root, "queues.billing.strategy", "fastest").ok());
  std::vector<ConfigError> errors;
  EXPECT_FALSE(ParseConfigNode(root, "o.yaml", {}, &errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 9);
  EXPECT_EQ(errors[0].column, 15);
  EXPECT_THAT(errors[0].message, HasSubstr("unknown strategy 'fastest'"));
}

TEST_F(IncludeTest, OptionsOverridesReachIncludedFiles) {
  Write("parts/q.yaml", "queues:\n  - name: billing\n    strategy: linear\n");
  const std::string main = Write("main.yaml", "include: [parts/q.yaml]\nskills: [x]\n");
  ParseOptions opts;
  opts.overrides = {{"queues.billing.strategy", "ring-all"}, {"skills.0", "y"}};
  std::vector<ConfigError> errors;
  auto config = LoadConfigFile(main, &errors, opts);
  ASSERT_TRUE(config.ok()) << errors[0].ToString();
  EXPECT_EQ((*config)->routing.queues[0].strategy, Strategy::kRingAll);
  EXPECT_THAT((*config)->routing.skills, ElementsAre("y"));

  opts.overrides = {{"queues.nosuch.strategy", "linear"}};
  errors.clear();
  EXPECT_FALSE(LoadConfigFile(main, &errors, opts).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            "<override>:0:0: override 'queues.nosuch.strategy': no 'queues' in the top level");
}

// Regression: cloning the fragments with Node::operator= wrote the clone into the caller's tree.
TEST(OverrideTest, OptionsOverridesLeaveCallersTreeAlone) {
  YAML::Node root = Load(kOverrideBase);
  ParseOptions opts;
  opts.overrides = {{"queues.billing.strategy", "linear"}};
  std::vector<ConfigError> errors;
  auto config = ParseConfigNode(root, "o.yaml", opts, &errors);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ((*config)->routing.queues[0].strategy, Strategy::kLinear);
  EXPECT_EQ(root["queues"][0]["strategy"].Scalar(), "longest-idle");
}

// ---- documentation ----

// docs/configuration.md documents each schema section under a heading "### `section`" with a
// table whose rows start "| `key` |".
TEST(ConfigDocsTest, EveryKeyIsDocumentedAndEveryDocumentedKeyIsKnown) {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing";
  std::map<std::string, std::set<std::string>> documented;
  const std::regex heading(R"(^#{2,4} `([^`]+)`)");
  const std::regex row(R"(^\| `([^`]+)` \|)");
  std::string line, section;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) {
      section = m[1];
      documented[section];
    } else if (!section.empty() && std::regex_search(line, m, row)) {
      documented[section].insert(m[1]);
    }
  }
  std::set<std::string> known_sections;
  for (const auto& s : ConfigSchema()) {
    known_sections.insert(std::string(s.path));
    ASSERT_TRUE(documented.count(std::string(s.path))) << "section not documented: " << s.path;
    const auto& keys = documented[std::string(s.path)];
    for (auto k : s.keys) {
      EXPECT_TRUE(keys.count(std::string(k))) << "undocumented key " << s.path << "." << k;
    }
    for (const auto& k : keys) {
      EXPECT_NE(std::find(s.keys.begin(), s.keys.end(), k), s.keys.end())
          << "documented key unknown to the parser: " << s.path << "." << k;
    }
  }
  for (const auto& [s, keys] : documented) {
    EXPECT_TRUE(known_sections.count(s)) << "documented section unknown to the parser: " << s;
  }
}

}  // namespace
}  // namespace parley::config
