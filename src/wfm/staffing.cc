#include "wfm/staffing.h"

#include <fmt/format.h>

#include <cmath>

namespace parley::wfm {

Status ValidateTargets(const Targets& targets) {
  if (!targets.service_level && !targets.asa_seconds && !targets.max_occupancy) {
    return InvalidArgument(
        "no staffing target: give a service level, an ASA target or a maximum occupancy");
  }
  if (!std::isfinite(targets.answer_seconds) || targets.answer_seconds < 0) {
    return InvalidArgument(
        fmt::format("target answer time must be >= 0 seconds, got {}", targets.answer_seconds));
  }
  if (targets.service_level) {
    const double sl = *targets.service_level;
    if (!std::isfinite(sl) || sl <= 0 || sl > 1) {
      return InvalidArgument(
          fmt::format("target service level must be a fraction in (0, 1), got {}", sl));
    }
    if (sl == 1) {
      return InvalidArgument(fmt::format(
          "target service level 1 within {} s cannot be met by any number of agents: with "
          "random arrivals some contacts always wait; use a value below 1",
          targets.answer_seconds));
    }
  }
  if (targets.asa_seconds && !(std::isfinite(*targets.asa_seconds) && *targets.asa_seconds > 0)) {
    return InvalidArgument(
        fmt::format("target ASA must be > 0 seconds (some contacts always wait), got {}",
                    *targets.asa_seconds));
  }
  if (targets.max_occupancy) {
    const double occ = *targets.max_occupancy;
    if (!std::isfinite(occ) || occ <= 0 || occ > 1) {
      return InvalidArgument(
          fmt::format("maximum occupancy must be a fraction in (0, 1], got {}", occ));
    }
  }
  return Status::Ok();
}

bool MeetsTargets(const Performance& p, const Targets& targets) {
  if (!p.stable) return false;
  if (targets.service_level && p.service_level < *targets.service_level) return false;
  if (targets.asa_seconds && p.asa_seconds > *targets.asa_seconds) return false;
  if (targets.max_occupancy && p.occupancy > *targets.max_occupancy) return false;
  return true;
}

Result<Performance> RequiredAgents(const Workload& workload, const Targets& targets) {
  if (Status s = ValidateTargets(targets); !s.ok()) return s;
  if (Status s = ValidateWorkload(workload); !s.ok()) return s;
  const double load = workload.load_erlangs;
  if (load == 0) return Evaluate(workload, 0, targets.answer_seconds);

  // Every metric improves with more agents, so the targets hold from some N on: gallop up to a
  // passing N, then bisect. Erlang C is unstable at N <= A, so it starts above the load.
  const int64_t cap = static_cast<int64_t>(100 * load) + 1000;
  int64_t lo = workload.patience_seconds ? 1 : static_cast<int64_t>(std::floor(load)) + 1;
  auto meets = [&](int64_t n) -> Result<Performance> {
    Result<Performance> p = Evaluate(workload, n, targets.answer_seconds);
    // With the workload valid, ErlangA fails only when its queue barely settles: far too few
    // agents, so that N does not meet the targets.
    if (!p.ok() || !MeetsTargets(*p, targets)) return NotFound("");
    return p;
  };

  int64_t hi = lo;
  int64_t step = 1;
  Result<Performance> found = meets(hi);
  while (!found.ok()) {
    if (hi >= cap) {
      return InvalidArgument(fmt::format(
          "no number of agents up to {} meets the targets for {:.3f} Erlangs", cap, load));
    }
    lo = hi + 1;
    hi = std::min(cap, hi + step);
    step *= 2;
    found = meets(hi);
  }
  // Invariant: hi passes; every N < lo fails.
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    Result<Performance> p = meets(mid);
    if (p.ok()) {
      hi = mid;
      found = std::move(p);
    } else {
      lo = mid + 1;
    }
  }
  return found;
}

Result<int64_t> ScheduledAgents(int64_t agents, double shrinkage) {
  if (agents < 0) return InvalidArgument(fmt::format("agents must be >= 0, got {}", agents));
  if (!std::isfinite(shrinkage) || shrinkage < 0 || shrinkage >= 1) {
    return InvalidArgument(
        fmt::format("shrinkage must be a fraction in [0, 1), got {}", shrinkage));
  }
  // The tolerance keeps 14 / (1 - 0.3) = 20.000000000000004 at 20.
  const double scheduled = static_cast<double>(agents) / (1 - shrinkage);
  return static_cast<int64_t>(std::ceil(scheduled - 1e-9 * scheduled));
}

Result<int64_t> LinesForBlocking(double load, double target_blocking) {
  if (!std::isfinite(load) || load < 0) {
    return InvalidArgument(fmt::format("load must be >= 0 Erlangs, got {}", load));
  }
  if (!std::isfinite(target_blocking) || target_blocking <= 0 || target_blocking >= 1) {
    return InvalidArgument(
        fmt::format("target blocking must be a fraction in (0, 1), got {}", target_blocking));
  }
  // B(N) falls with every line, so walk the recursion until it reaches the target.
  const int64_t cap = static_cast<int64_t>(100 * load) + 1000;
  if (load == 0) return int64_t{0};
  double b = 1.0;
  for (int64_t lines = 0; lines <= cap; ++lines) {
    if (lines > 0) b = load * b / (static_cast<double>(lines) + load * b);
    if (b <= target_blocking) return lines;
  }
  return InvalidArgument(
      fmt::format("no number of lines up to {} reaches blocking {}", cap, target_blocking));
}

}  // namespace parley::wfm
