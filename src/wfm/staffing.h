#pragma once
// Staffing searches over the formulas in wfm/erlang.h: the fewest agents that meet service
// targets, the fewest trunk lines for a blocking target, and shrinkage. Pure functions; safe
// from any thread.

#include <cstdint>
#include <optional>

#include "base/status.h"
#include "wfm/erlang.h"

namespace parley::wfm {

// What a staffing level must deliver. Every target that is set must hold; at least one must be
// set for RequiredAgents.
struct Targets {
  // Fraction in (0, 1) of offered contacts to answer within `answer_seconds`.
  std::optional<double> service_level;
  double answer_seconds = 20;           // >= 0; also the threshold reported as service_level
  std::optional<double> asa_seconds;    // > 0: the average speed of answer must not exceed it
  std::optional<double> max_occupancy;  // in (0, 1]: occupancy must not exceed it
};

// Checks the ranges above and that at least one target is set; the error names the value and
// says what is allowed (a service level of 1 is rejected: with random arrivals some contacts
// always wait).
Status ValidateTargets(const Targets& targets);

// True when `performance` meets every target that is set.
bool MeetsTargets(const Performance& performance, const Targets& targets);

// The smallest number of agents meeting every target, with the performance it delivers. Under
// Erlang C only agents > load are considered (fewer is unstable). Zero load needs zero agents.
// kInvalidArgument for an invalid workload or targets, or when no number of agents up to
// 100 x load + 1000 meets them.
Result<Performance> RequiredAgents(const Workload& workload, const Targets& targets);

// Agents to schedule so that `agents` remain after shrinkage (the fraction of paid time not
// available for contacts): ceil(agents / (1 - shrinkage)). Requires agents >= 0 and shrinkage
// in [0, 1) (kInvalidArgument otherwise).
Result<int64_t> ScheduledAgents(int64_t agents, double shrinkage);

// The smallest number of lines whose Erlang B blocking is at most target_blocking, which must
// be in (0, 1); load >= 0.
Result<int64_t> LinesForBlocking(double load, double target_blocking);

}  // namespace parley::wfm
