#pragma once
// Compiled contact flows: the typed, checked form of the FlowConfig that src/config reads. A
// FlowVersion holds every flow, schedule and entry point of one configuration, is immutable once
// built and is shared as std::shared_ptr<const FlowVersion>: a session pins the version it
// started in, so changing a flow never disturbs contacts already inside the old one.
// CompileFlows checks everything the step table knows (parameters, exits and their targets,
// reachability, loops that never wait for input, queues, schedules, sub-flows, expressions,
// patterns) and reports each error with its file, line and column; a version with errors is
// never built. Nothing here throws.

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "domain/flow_def.h"
#include "domain/routing.h"
#include "flow/expr.h"
#include "flow/schedule.h"
#include "ports/flow_ports.h"

namespace parley::flow {

// One problem in a flow definition.
struct FlowError {
  SourcePos pos;
  std::string message;
  std::string ToString() const;  // "file:line:column: message"
  bool operator==(const FlowError&) const = default;
};

// Step kinds, in the order of the step table (steps.cc).
enum class StepKind : uint8_t {
  kPlay,
  kMenu,
  kCollect,
  kSay,
  kAsk,
  kSet,
  kBranch,
  kHours,
  kLookup,
  kQueue,
  kTransfer,
  kVoicemail,
  kCallback,
  kSurvey,
  kCall,
  kReturn,
  kHangup,
};
std::string_view StepKindName(StepKind kind);

constexpr int kNoStep = -1;  // an exit that is not wired: the flow (or sub-flow) ends there

struct Exit {
  std::string name;
  int target = kNoStep;  // index into the flow's steps
  SourcePos pos;
};

// How a step retries when input is missing or wrong.
struct InputRetry {
  Duration timeout = Seconds(5);
  int retries = 2;  // prompts repeated after the first
  ports::Prompt no_input_prompt;
  ports::Prompt invalid_prompt;
};

struct PlayParams {
  ports::Prompt prompt;
};
struct MenuParams {
  ports::Prompt prompt;
  InputRetry retry;
  // A key ("1") or a word ("billing", matched case-insensitively) and the exit it takes.
  struct Option {
    std::string choice;
    int exit = 0;
  };
  std::vector<Option> options;
};
struct CollectParams {
  ports::Prompt prompt;
  InputRetry retry;
  std::string into;  // attribute
  int min_length = 1;
  int max_length = 32;
  std::string terminator = "#";
  std::string pattern;                      // "" accepts any input of the right length
  std::shared_ptr<const std::regex> regex;  // compiled `pattern`
};
struct SayParams {
  ports::Prompt prompt;
};
struct AskParams {
  ports::Prompt prompt;
  std::vector<std::string> buttons;
  std::string into;
  InputRetry retry;
};
struct SetParams {
  struct Assignment {
    std::string attribute;
    std::optional<Expr> expr;  // "= expression"
    std::string literal;       // otherwise
  };
  std::vector<Assignment> values;
};
struct BranchParams {
  std::string queue;  // "" unless the cases read queue.* statistics
  struct Case {
    Expr when;
    int exit = 0;
  };
  std::vector<Case> cases;
};
struct HoursParams {
  int schedule = 0;  // index into FlowVersion::schedules
};
struct LookupParams {
  std::string method = "GET";
  std::string url;
  Duration timeout = Seconds(5);
  std::vector<std::string> send;  // attributes sent
  struct Store {
    std::string attribute;
    std::string path;  // dotted path into the JSON answer, e.g. "customer.tier"
  };
  std::vector<Store> store;
  std::string store_prefix;  // when set, every field of the answer is stored under it
};
struct QueueParams {
  std::string queue;
  int32_t priority = 0;
  std::vector<SkillRequirement> skills;
  ports::Prompt music;  // empty: silence
  Duration announce_every{0};
  bool announce_position = false;
  bool announce_wait = false;
  Duration max_wait{0};  // 0: none
  struct Offer {
    std::string key;
    int exit = 0;  // "voicemail" or "callback"
  };
  std::vector<Offer> offers;
};
struct TransferParams {
  enum class Kind : uint8_t { kFlow, kQueue, kAgent, kNumber };
  Kind kind = Kind::kQueue;
  std::string target;
  int flow = -1;  // index for kFlow
};
struct VoicemailParams {
  std::string mailbox;
  ports::Prompt prompt;
  Duration max_length = Seconds(120);
};
struct CallbackParams {
  std::string queue;
  bool keep_position = true;
};
struct SurveyParams {
  enum class Kind : uint8_t { kCsat, kNps, kText };
  struct Question {
    std::string id;
    Kind kind = Kind::kCsat;
    ports::Prompt prompt;
  };
  std::vector<Question> questions;
  Duration timeout = Seconds(10);
};
struct CallParams {
  int flow = 0;
};
struct NoParams {};

using StepParams =
    std::variant<PlayParams, MenuParams, CollectParams, SayParams, AskParams, SetParams,
                 BranchParams, HoursParams, LookupParams, QueueParams, TransferParams,
                 VoicemailParams, CallbackParams, SurveyParams, CallParams, NoParams>;

struct Step {
  std::string id;
  StepKind kind = StepKind::kPlay;
  SourcePos pos;
  std::vector<Exit> exits;
  StepParams params;
  // The index in `exits` of `name`, or -1.
  int ExitIndex(std::string_view name) const;
};

struct Flow {
  std::string name;
  SourcePos pos;
  std::vector<Step> steps;
  int start = 0;
  const date::time_zone* zone = nullptr;  // for time.* in expressions
  int FindStep(std::string_view id) const;
};

struct EntryPoint {
  Channel channel = Channel::kVoice;
  std::string address;
  int flow = 0;
};

struct FlowVersion {
  uint64_t version = 0;
  std::vector<Flow> flows;
  std::vector<Schedule> schedules;
  std::vector<EntryPoint> entry_points;
  // nullptr / -1 when unknown.
  const Flow* FindFlow(std::string_view name) const;
  int FlowIndex(std::string_view name) const;
  const Schedule* FindSchedule(std::string_view name) const;
  const EntryPoint* FindEntry(Channel channel, std::string_view address) const;
};

// Compiles `config` against the routing configuration (queue and skill names). `time_zone` is
// the site's, used by flows that name none. Appends every error to `errors` (sorted by file in
// first-seen order, line, column) and returns InvalidArgument; otherwise the new version.
Result<std::shared_ptr<const FlowVersion>> CompileFlows(const FlowConfig& config,
                                                        const RoutingConfig& routing,
                                                        const std::string& time_zone,
                                                        uint64_t version,
                                                        std::vector<FlowError>* errors);

// The current flow version, replaced as a whole. Single-threaded (the core loop owns it);
// sessions keep the versions they pinned alive.
class FlowRegistry {
 public:
  // Compiles `config` as the next version. On any error the current version stays in place,
  // errors are appended and InvalidArgument is returned.
  Status Update(const FlowConfig& config, const RoutingConfig& routing,
                const std::string& time_zone, std::vector<FlowError>* errors);
  // nullptr before the first successful Update.
  std::shared_ptr<const FlowVersion> current() const { return current_; }

 private:
  std::shared_ptr<const FlowVersion> current_;
  uint64_t next_version_ = 1;
};

}  // namespace parley::flow
