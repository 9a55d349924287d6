#pragma once
// The ACD's account of a routing decision, for people: which agents it considered, why each was
// eligible or not, their scores, and the rule that decided.

#include <cstdint>
#include <string>
#include <vector>

#include "domain/ids.h"

namespace parley {

struct AgentConsideration {
  AgentIndex agent = kNone;
  std::string name;
  bool eligible = false;
  bool chosen = false;
  // Why not eligible (presence, capacity, skill, ring/step, queue order, refused recently), or
  // for an eligible agent what the strategy looked at.
  std::string reason;
  // The strategy's score, lower is better: (primary, secondary).
  int64_t score_primary = 0;
  int64_t score_secondary = 0;
};

struct Explanation {
  uint64_t contact = 0;
  std::string state;  // waiting, offered, handling, wrap-up
  std::string queue;
  std::string strategy;                    // canonical strategy name
  uint32_t step = 0;                       // escalation steps taken
  std::string rule;                        // how the strategy ranks agents, in words
  std::string summary;                     // one sentence: the decision or why there is none
  std::vector<AgentConsideration> agents;  // every member of the queue, chosen first
};

// Multi-line text for logs, the demo and the command line.
std::string FormatExplanation(const Explanation& e);

}  // namespace parley
