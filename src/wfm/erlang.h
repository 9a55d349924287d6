#pragma once
// Queueing formulas for staffing: Erlang B (blocked calls lost), Erlang C (callers wait forever)
// and Erlang A (callers abandon after an exponential patience). Pure functions of their
// arguments: no I/O, no clock, no global state; safe to call from any thread.
//
// Units: a load is in Erlangs (arrival rate x mean handle time); times are in seconds. See
// docs/staffing.md for the formulas and the exact definition of each reported figure.

#include <cstdint>
#include <optional>

#include "base/status.h"

namespace parley::wfm {

// Offered load in Erlangs: contacts x aht_seconds / interval_seconds. Requires contacts >= 0 and
// interval_seconds, aht_seconds > 0 (kInvalidArgument naming the value otherwise).
Result<double> OfferedLoad(double contacts, double interval_seconds, double aht_seconds);

// Erlang B: the probability that a call offered `load` Erlangs finds all `lines` busy and is lost.
// Computed by the recursion B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)), which is stable for any
// number of lines. Zero load blocks nothing (0). Requires lines >= 0 and load >= 0 (CHECKed;
// validate input before calling).
double ErlangB(int64_t lines, double load);

// What one staffing level delivers for one interval's traffic.
struct Performance {
  int64_t agents = 0;
  double load_erlangs = 0;
  // Fraction of offered contacts answered within the target answer time. Under Erlang A,
  // contacts that abandon count as not answered within the target.
  double service_level = 0;
  // Fraction of offered contacts that find every agent busy on arrival.
  double probability_of_waiting = 0;
  // Average speed of answer: the mean wait of answered contacts, counting those answered at
  // once as zero. +infinity when the queue is unstable (Erlang C with agents <= load).
  double asa_seconds = 0;
  // Mean fraction of agents busy: handled load / agents (at most 1).
  double occupancy = 0;
  // Fraction of offered contacts that abandon; 0 under Erlang C.
  double probability_of_abandon = 0;
  // Mean wait of every offered contact, abandoned ones included (Little's law: E[queue] /
  // arrival rate); equals asa_seconds under Erlang C. +infinity when unstable.
  double mean_wait_all_seconds = 0;
  // False under Erlang C when agents <= load: the queue grows without bound, service_level is
  // 0, probability_of_waiting 1, occupancy 1 and the waits +infinity.
  bool stable = true;
};

// One interval's traffic as the formulas see it.
struct Workload {
  double load_erlangs = 0;  // >= 0
  double aht_seconds = 0;   // > 0
  // Mean patience of a waiting contact (exponential). Absent: contacts never abandon (Erlang C).
  std::optional<double> patience_seconds;
};

// Erlang C (M/M/N): C = N B / (N - A (1 - B)), SL(t) = 1 - C e^{-(N - A) t / AHT},
// ASA = C AHT / (N - A), occupancy A / N. Requires agents >= 0, load >= 0, aht > 0 and
// target_seconds >= 0 (CHECKed). With load 0 every contact is answered at once.
Performance ErlangC(int64_t agents, double load, double aht_seconds, double target_seconds);

// Erlang A (M/M/N+M): the birth-death chain with birth rate lambda = load / AHT and death rate
// min(k, N) / AHT + max(k - N, 0) / patience, normalised in log space and truncated once the
// remaining queue states are negligible (relative weight below e^-40). Service level uses the
// exact per-state formula derived in docs/staffing.md (regularised incomplete beta function).
// Requires agents >= 1 or load == 0, load >= 0, aht > 0, patience > 0, target_seconds >= 0
// (kInvalidArgument otherwise); kInvalidArgument too if the queue needs more than 4 x 10^6 states
// to settle (patience enormous compared with the overload: use Erlang C instead).
Result<Performance> ErlangA(int64_t agents, double load, double aht_seconds,
                            double patience_seconds, double target_seconds);

// Checks load >= 0, aht > 0 and patience (when set) > 0; the error names the value.
Status ValidateWorkload(const Workload& workload);

// Erlang C or Erlang A according to workload.patience_seconds.
Result<Performance> Evaluate(const Workload& workload, int64_t agents, double target_seconds);

}  // namespace parley::wfm
