#pragma once
// The step table: every step type a flow may use, with its parameters and exits. Listed here,
// not self-registered, so a reader can find them all; the session (session.cc) runs them.

#include <string_view>
#include <vector>

#include "flow/flow.h"

namespace parley::flow {

struct StepType {
  std::string_view name;  // as written in `type:`
  StepKind kind;
  std::vector<std::string_view> params;          // besides `next` and `exits`
  std::vector<std::string_view> exits;           // fixed exit names the step may take
  std::vector<std::string_view> required_exits;  // must be wired (others may end the flow)
  // Waits for the contact or the world (input, an answer, an agent) on every visit, so a loop
  // through it cannot spin.
  bool waits_for_input;
};

const std::vector<StepType>& StepTable();
const StepType* FindStepType(std::string_view name);

// Parses a duration: "500ms", "20s", "5m", "1h", "1h30m" or a number of seconds.
std::optional<Duration> ParseFlowDuration(std::string_view text);

}  // namespace parley::flow
