#include "wfm/erlang.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace parley::wfm {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
// Queue states kept by ErlangA beyond the agents; more means the patience is so long compared
// with the overload that the chain barely settles, and Erlang C is the better model.
constexpr int64_t kMaxQueueStates = 4'000'000;
// A tail of the stationary distribution whose weight is below e^-40 of the largest state's is
// dropped (its mass is below 1e-17).
constexpr double kLogNegligible = 40.0;

bool Positive(double v) { return std::isfinite(v) && v > 0; }
bool NonNegative(double v) { return std::isfinite(v) && v >= 0; }

Performance ZeroLoad(int64_t agents) {
  Performance p;
  p.agents = agents;
  p.service_level = 1;
  return p;
}

}  // namespace

Result<double> OfferedLoad(double contacts, double interval_seconds, double aht_seconds) {
  if (!NonNegative(contacts)) {
    return InvalidArgument(fmt::format("contacts must be a number >= 0, got {}", contacts));
  }
  if (!Positive(interval_seconds)) {
    return InvalidArgument(
        fmt::format("interval length must be > 0 seconds, got {}", interval_seconds));
  }
  if (!Positive(aht_seconds)) {
    return InvalidArgument(
        fmt::format("average handle time must be > 0 seconds, got {}", aht_seconds));
  }
  return contacts * aht_seconds / interval_seconds;
}

double ErlangB(int64_t lines, double load) {
  PARLEY_CHECK(lines >= 0 && NonNegative(load));
  if (load == 0) return 0;  // nothing offered, nothing lost
  double b = 1.0;
  for (int64_t k = 1; k <= lines; ++k) {
    b = load * b / (static_cast<double>(k) + load * b);
  }
  return b;
}

Performance ErlangC(int64_t agents, double load, double aht_seconds, double target_seconds) {
  PARLEY_CHECK(agents >= 0 && NonNegative(load) && Positive(aht_seconds) &&
               NonNegative(target_seconds));
  if (load == 0) return ZeroLoad(agents);
  Performance p;
  p.agents = agents;
  p.load_erlangs = load;
  const double n = static_cast<double>(agents);
  if (n <= load) {
    p.stable = false;
    p.service_level = 0;
    p.probability_of_waiting = 1;
    p.asa_seconds = kInfinity;
    p.mean_wait_all_seconds = kInfinity;
    p.occupancy = 1;
    return p;
  }
  const double b = ErlangB(agents, load);
  const double c = n * b / (n - load * (1 - b));
  p.probability_of_waiting = c;
  p.service_level =
      std::clamp(1 - c * std::exp(-(n - load) * target_seconds / aht_seconds), 0.0, 1.0);
  p.asa_seconds = c * aht_seconds / (n - load);
  p.mean_wait_all_seconds = p.asa_seconds;
  p.occupancy = load / n;
  return p;
}

Result<Performance> ErlangA(int64_t agents, double load, double aht_seconds,
                            double patience_seconds, double target_seconds) {
  if (!NonNegative(load)) return InvalidArgument(fmt::format("load must be >= 0, got {}", load));
  if (!Positive(aht_seconds)) {
    return InvalidArgument(fmt::format("handle time must be > 0 seconds, got {}", aht_seconds));
  }
  if (!Positive(patience_seconds)) {
    return InvalidArgument(fmt::format("patience must be > 0 seconds, got {}", patience_seconds));
  }
  if (!NonNegative(target_seconds)) {
    return InvalidArgument(
        fmt::format("target answer time must be >= 0 seconds, got {}", target_seconds));
  }
  if (load == 0) return ZeroLoad(agents);
  if (agents < 1) {
    return InvalidArgument(fmt::format("agents must be >= 1 under load, got {}", agents));
  }

  const double mu = 1 / aht_seconds;
  const double theta = 1 / patience_seconds;
  const double lambda = load * mu;
  const double service_rate = static_cast<double>(agents) * mu;  // N mu: all agents busy

  // Unnormalised log weights of states k = 0, 1, ...: the ratio of consecutive states is
  // lambda / death rate. Logs keep thousands of agents and hundreds of Erlangs in range.
  std::vector<double> log_w;
  log_w.reserve(static_cast<size_t>(agents) + 1024);
  log_w.push_back(0);
  double log_max = 0;
  const double log_load = std::log(load);
  for (int64_t k = 1; k <= agents; ++k) {
    log_w.push_back(log_w.back() + log_load - std::log(static_cast<double>(k)));
    log_max = std::max(log_max, log_w.back());
  }
  const double log_lambda = std::log(lambda);
  for (int64_t q = 1;; ++q) {
    const double death = service_rate + static_cast<double>(q) * theta;
    log_w.push_back(log_w.back() + log_lambda - std::log(death));
    log_max = std::max(log_max, log_w.back());
    // Once the ratio r = lambda / death is below 1 it keeps falling, so the rest of the tail
    // weighs at most w_q r / (1 - r).
    const double r = lambda / death;
    if (r < 1 && log_w.back() + std::log(r) - std::log1p(-r) < log_max - kLogNegligible) break;
    if (q >= kMaxQueueStates) {
      return InvalidArgument(fmt::format(
          "Erlang A: with {} agents, {} Erlangs and patience {} s the queue does not settle "
          "within {} states; use Erlang C (no patience) for such patient callers",
          agents, load, patience_seconds, kMaxQueueStates));
    }
  }

  double z = 0;
  for (double lw : log_w) z += std::exp(lw - log_max);
  auto pi = [&](size_t k) { return std::exp(log_w[k] - log_max) / z; };

  const size_t n = static_cast<size_t>(agents);
  double p_immediate = 0;
  for (size_t k = 0; k < n; ++k) p_immediate += pi(k);

  // A contact arriving to find q others queued (state N + q, PASTA) waits through q + 1 stages:
  // with i contacts ahead the queue moves on at rate a + i theta (a = N mu), and the contact
  // itself abandons at rate theta. See docs/staffing.md for the three per-state quantities.
  const double a = service_rate;
  const double c = a / theta;
  const double b = c + 1;
  const bool timed = target_seconds > 0;
  const double x = -std::expm1(-theta * target_seconds);  // 1 - e^{-theta t}
  const double log_x = timed ? std::log(x) : 0;
  double log_nb = -(a + theta) * target_seconds;  // log of the negative binomial pmf at j = 0
  double nb_cdf = 0;
  double h = 0;  // sum over i <= q of a / (a + (i + 1) theta)
  double p_wait = 0, queue_mean = 0, served_in_time = 0, wait_served = 0, wait_all = 0;
  for (size_t q = 0; n + q < log_w.size(); ++q) {
    const double p = pi(n + q);
    const double qd = static_cast<double>(q);
    const double leave = a + (qd + 1) * theta;
    p_wait += p;
    queue_mean += qd * p;
    h += a / leave;
    wait_served += p * h / leave;
    wait_all += p * (qd + 1) / leave;
    if (timed) {
      // P(served within t | q ahead) = c / (c + q + 1) I_x(q + 1, c + 1), and
      // I_x(q + 1, b) = 1 - sum_{j <= q} NB_j with NB_j = Gamma(b + j) / (Gamma(b) j!) x^j (1-x)^b.
      nb_cdf += std::exp(log_nb);
      served_in_time += p * c / (c + qd + 1) * std::max(0.0, 1 - nb_cdf);
      log_nb += log_x + std::log(b + qd) - std::log(qd + 1);
    }
  }

  Performance perf;
  perf.agents = agents;
  perf.load_erlangs = load;
  perf.probability_of_waiting = p_wait;
  perf.probability_of_abandon = theta * queue_mean / lambda;
  perf.service_level = std::clamp(p_immediate + served_in_time, 0.0, 1.0);
  const double p_served = 1 - perf.probability_of_abandon;
  perf.asa_seconds = p_served > 0 ? wait_served / p_served : kInfinity;
  perf.mean_wait_all_seconds = wait_all;
  perf.occupancy = std::min(1.0, load * p_served / static_cast<double>(agents));
  return perf;
}

Status ValidateWorkload(const Workload& workload) {
  if (!NonNegative(workload.load_erlangs)) {
    return InvalidArgument(
        fmt::format("offered load must be >= 0 Erlangs, got {}", workload.load_erlangs));
  }
  if (!Positive(workload.aht_seconds)) {
    return InvalidArgument(
        fmt::format("average handle time must be > 0 seconds, got {}", workload.aht_seconds));
  }
  if (workload.patience_seconds && !Positive(*workload.patience_seconds)) {
    return InvalidArgument(
        fmt::format("patience must be > 0 seconds, got {}", *workload.patience_seconds));
  }
  return Status::Ok();
}

Result<Performance> Evaluate(const Workload& workload, int64_t agents, double target_seconds) {
  if (Status s = ValidateWorkload(workload); !s.ok()) return s;
  if (!NonNegative(target_seconds)) {
    return InvalidArgument(
        fmt::format("target answer time must be >= 0 seconds, got {}", target_seconds));
  }
  if (agents < 0) return InvalidArgument(fmt::format("agents must be >= 0, got {}", agents));
  if (workload.patience_seconds) {
    return ErlangA(agents, workload.load_erlangs, workload.aht_seconds, *workload.patience_seconds,
                   target_seconds);
  }
  return ErlangC(agents, workload.load_erlangs, workload.aht_seconds, target_seconds);
}

}  // namespace parley::wfm
