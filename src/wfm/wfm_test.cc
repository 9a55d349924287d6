#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <vector>

#include "base/random.h"
#include "wfm/erlang.h"
#include "wfm/forecast.h"
#include "wfm/staffing.h"

namespace parley::wfm {
namespace {

Targets SlTarget(double sl, double seconds) {
  Targets t;
  t.service_level = sl;
  t.answer_seconds = seconds;
  return t;
}

// --- Erlang B -------------------------------------------------------------------------------

// Classic Erlang B table values (any published Erlang B table, e.g. the ITU-T / Siemens
// "grade of service" tables): 10 E on 15 lines blocks 3.65%; 5 E on 10 lines 1.84%; 15 E on 20
// lines 4.56%. Confirmed against the closed form A^N/N! / sum A^k/k! computed independently.
TEST(ErlangBTest, ClassicTableValues) {
  EXPECT_NEAR(ErlangB(15, 10), 0.0365, 5e-5);
  EXPECT_NEAR(ErlangB(10, 5), 0.0184, 5e-5);
  EXPECT_NEAR(ErlangB(20, 15), 0.0456, 5e-5);
  EXPECT_DOUBLE_EQ(ErlangB(0, 3), 1.0);
  EXPECT_DOUBLE_EQ(ErlangB(5, 0), 0.0);
}

TEST(ErlangBTest, MatchesClosedFormForSmallCases) {
  for (int n = 1; n <= 12; ++n) {
    const double a = 7.5;
    double term = 1, sum = 1;
    for (int k = 1; k <= n; ++k) {
      term *= a / k;
      sum += term;
    }
    EXPECT_NEAR(ErlangB(n, a), term / sum, 1e-14) << n;
  }
}

// Erlang B tables at 1% grade of service: 18 lines carry 10.44 E (17 only 9.65 E); 11 lines
// carry 5.16 E.
TEST(ErlangBTest, LinesForBlockingMatchesTables) {
  EXPECT_EQ(*LinesForBlocking(10, 0.01), 18);
  EXPECT_EQ(*LinesForBlocking(5, 0.01), 11);
  EXPECT_EQ(*LinesForBlocking(0, 0.01), 0);
  EXPECT_FALSE(LinesForBlocking(10, 0).ok());
  EXPECT_FALSE(LinesForBlocking(10, 1).ok());
  EXPECT_FALSE(LinesForBlocking(-1, 0.01).ok());
}

// --- Erlang C -------------------------------------------------------------------------------

TEST(OfferedLoadTest, ContactsTimesHandleTimeOverInterval) {
  EXPECT_DOUBLE_EQ(*OfferedLoad(360, 1800, 240), 48.0);
  EXPECT_DOUBLE_EQ(*OfferedLoad(0, 1800, 240), 0.0);
  EXPECT_FALSE(OfferedLoad(-1, 1800, 240).ok());
  EXPECT_FALSE(OfferedLoad(360, 0, 240).ok());
  EXPECT_FALSE(OfferedLoad(360, 1800, 0).ok());
  EXPECT_FALSE(OfferedLoad(NAN, 1800, 240).ok());
}

// The step-by-step Erlang-C walkthrough widely reproduced on call-centre sites: 360 calls per
// half hour, 4-minute calls (A = 48 Erlangs), 55 agents, 15-second answer target. Its figures:
// occupancy 87.3%, probability of waiting 23.9%, ASA 8.2 s, service level 84.6%. (Values
// re-derived here from the formulas to more places.)
TEST(ErlangCTest, ThreeSixtyCallsFiftyFiveAgentsWalkthrough) {
  const Performance p = ErlangC(55, 48, 240, 15);
  EXPECT_NEAR(p.occupancy, 0.873, 5e-4);
  EXPECT_NEAR(p.probability_of_waiting, 0.2387, 5e-5);
  EXPECT_NEAR(p.asa_seconds, 8.184, 5e-4);
  EXPECT_NEAR(p.service_level, 0.8459, 5e-5);
}

// The same traffic with the common 80/20 target: 53 agents give 75.2%, 54 give 81.7% (P(wait)
// 30.1%), so 54 are needed. (The brief's "55 gives about 0.742" does not follow from the
// formulas: 55 agents give 86.7% within 20 s.)
TEST(ErlangCTest, ThreeSixtyCallsEightyTwenty) {
  const Workload w{.load_erlangs = 48, .aht_seconds = 240};
  const Result<Performance> p = RequiredAgents(w, SlTarget(0.80, 20));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->agents, 54);
  EXPECT_NEAR(p->service_level, 0.817, 5e-4);
  EXPECT_NEAR(p->probability_of_waiting, 0.301, 5e-4);
  EXPECT_NEAR(ErlangC(53, 48, 240, 20).service_level, 0.752, 5e-4);
  EXPECT_NEAR(ErlangC(55, 48, 240, 20).service_level, 0.867, 5e-4);
}

// Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example": 100 calls
// per 30 minutes, AHT 180 s (10 Erlangs), 80% in 20 s, shrinkage 30%. Published answers: 14
// agents, probability of waiting 17.4%, service level 88.8%, ASA about 7.8 s, occupancy
// 71.4%, 20 agents with shrinkage.
TEST(ErlangCTest, HundredCallsWorkedExample) {
  const Workload w{.load_erlangs = *OfferedLoad(100, 1800, 180), .aht_seconds = 180};
  const Result<Performance> p = RequiredAgents(w, SlTarget(0.80, 20));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->agents, 14);
  EXPECT_NEAR(p->probability_of_waiting, 0.174, 5e-4);
  EXPECT_NEAR(p->service_level, 0.888, 5e-4);
  EXPECT_NEAR(p->asa_seconds, 7.84, 5e-3);
  EXPECT_NEAR(p->occupancy, 0.714, 5e-4);
  EXPECT_EQ(*ScheduledAgents(p->agents, 0.30), 20);
}

// An independent route to C(N, A) for huge sites: the Poisson terms summed in log space.
double ErlangCByLogSum(int64_t n, double a) {
  std::vector<double> logs;
  for (int64_t k = 0; k < n; ++k) {
    logs.push_back(k * std::log(a) - std::lgamma(k + 1.0));
  }
  const double log_top = n * std::log(a) - std::lgamma(n + 1.0) + std::log(n / (n - a));
  logs.push_back(log_top);
  const double m = *std::max_element(logs.begin(), logs.end());
  double sum = 0;
  for (double l : logs) sum += std::exp(l - m);
  return std::exp(log_top - m) / sum;
}

TEST(ErlangCTest, StableForLargeSites) {
  const Performance p = ErlangC(5000, 4800, 300, 20);
  ASSERT_TRUE(p.stable);
  EXPECT_TRUE(std::isfinite(p.probability_of_waiting));
  EXPECT_GT(p.probability_of_waiting, 0);
  EXPECT_LT(p.probability_of_waiting, 1);
  EXPECT_NEAR(p.probability_of_waiting, ErlangCByLogSum(5000, 4800), 1e-9);
  EXPECT_NEAR(p.occupancy, 0.96, 1e-12);

  const Result<Performance> need =
      RequiredAgents({.load_erlangs = 4800, .aht_seconds = 300}, SlTarget(0.9, 20));
  ASSERT_TRUE(need.ok());
  EXPECT_GT(need->agents, 4800);
  EXPECT_GE(need->service_level, 0.9);
  EXPECT_LT(ErlangC(need->agents - 1, 4800, 300, 20).service_level, 0.9);
}

TEST(ErlangCTest, UnstableWhenAgentsDoNotExceedLoad) {
  const Performance p = ErlangC(48, 48, 240, 20);
  EXPECT_FALSE(p.stable);
  EXPECT_EQ(p.service_level, 0);
  EXPECT_EQ(p.probability_of_waiting, 1);
  EXPECT_TRUE(std::isinf(p.asa_seconds));
}

TEST(ErlangCTest, ZeroLoadNeedsNoAgents) {
  const Result<Performance> p =
      RequiredAgents({.load_erlangs = 0, .aht_seconds = 240}, SlTarget(0.8, 20));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->agents, 0);
  EXPECT_EQ(p->service_level, 1);
}

// --- Staffing targets -----------------------------------------------------------------------

TEST(StaffingTest, EveryTargetMustHold) {
  const Workload w{.load_erlangs = 48, .aht_seconds = 240};
  Targets occupancy_only;
  occupancy_only.max_occupancy = 0.85;
  EXPECT_EQ(RequiredAgents(w, occupancy_only)->agents, 57);  // 48 / 57 = 0.842; 48 / 56 = 0.857

  Targets both = SlTarget(0.8, 20);
  both.max_occupancy = 0.85;
  EXPECT_EQ(RequiredAgents(w, both)->agents, 57);

  Targets asa;
  asa.asa_seconds = 10;  // 54 agents: 12.05 s; 55: 8.18 s
  EXPECT_EQ(RequiredAgents(w, asa)->agents, 55);
}

TEST(StaffingTest, UnreachableOrInvalidTargetsAreErrors) {
  const Workload w{.load_erlangs = 48, .aht_seconds = 240};
  const Result<Performance> perfect = RequiredAgents(w, SlTarget(1.0, 0));
  ASSERT_FALSE(perfect.ok());
  EXPECT_NE(perfect.status().message().find("cannot be met"), std::string::npos);
  EXPECT_FALSE(RequiredAgents(w, Targets{}).ok());
  EXPECT_FALSE(RequiredAgents(w, SlTarget(1.5, 20)).ok());
  EXPECT_FALSE(RequiredAgents(w, SlTarget(0.8, -1)).ok());
  Targets asa;
  asa.asa_seconds = 0;
  EXPECT_FALSE(RequiredAgents(w, asa).ok());
  Targets occ;
  occ.max_occupancy = 0;
  EXPECT_FALSE(RequiredAgents(w, occ).ok());
  EXPECT_FALSE(RequiredAgents({.load_erlangs = 48, .aht_seconds = 0}, SlTarget(0.8, 20)).ok());
  EXPECT_FALSE(RequiredAgents({.load_erlangs = 48, .aht_seconds = 240, .patience_seconds = 0},
                              SlTarget(0.8, 20))
                   .ok());
}

TEST(StaffingTest, ShrinkageRoundsUp) {
  EXPECT_EQ(*ScheduledAgents(54, 0), 54);
  EXPECT_EQ(*ScheduledAgents(54, 0.30), 78);  // 77.14
  EXPECT_EQ(*ScheduledAgents(14, 0.30), 20);  // exactly 20, despite rounding error
  EXPECT_FALSE(ScheduledAgents(14, 1).ok());
  EXPECT_FALSE(ScheduledAgents(14, -0.1).ok());
}

// --- Erlang A -------------------------------------------------------------------------------

TEST(ErlangATest, ConvergesToErlangCAsPatienceGrows) {
  for (int64_t n : {50, 54, 60}) {
    const Performance c = ErlangC(n, 48, 240, 20);
    const Result<Performance> a = ErlangA(n, 48, 240, 1e9, 20);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_NEAR(a->probability_of_waiting, c.probability_of_waiting, 1e-5) << n;
    EXPECT_NEAR(a->service_level, c.service_level, 1e-5) << n;
    EXPECT_NEAR(a->asa_seconds, c.asa_seconds, 1e-3) << n;
    EXPECT_NEAR(a->occupancy, c.occupancy, 1e-5) << n;
    EXPECT_LT(a->probability_of_abandon, 1e-5) << n;
  }
}

TEST(ErlangATest, AbandonmentTwoWaysAgree) {
  // P(abandon) = theta E[queue] / lambda, and by Little's law also theta x the mean wait of all
  // contacts, which ErlangA sums per arrival state: the two routes must agree.
  const Result<Performance> p = ErlangA(45, 48, 240, 120, 20);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->probability_of_abandon, p->mean_wait_all_seconds / 120, 1e-12);
  EXPECT_GT(p->probability_of_abandon, 0.01);
  // With no threshold, the service level is the share answered at once.
  const Result<Performance> at_zero = ErlangA(45, 48, 240, 120, 0);
  EXPECT_NEAR(at_zero->service_level, 1 - at_zero->probability_of_waiting, 1e-12);
}

TEST(ErlangATest, OverloadIsStableAndLargeSitesWork) {
  const Result<Performance> over = ErlangA(40, 48, 240, 60, 20);
  ASSERT_TRUE(over.ok());
  EXPECT_GT(over->probability_of_abandon, 0.1);
  EXPECT_LE(over->occupancy, 1.0);
  const Result<Performance> big = ErlangA(5000, 4800, 300, 180, 20);
  ASSERT_TRUE(big.ok());
  EXPECT_TRUE(std::isfinite(big->service_level));
  EXPECT_LE(big->service_level, ErlangC(5000, 4800, 300, 20).service_level + 0.1);
  EXPECT_GT(big->service_level, 0);
  EXPECT_FALSE(ErlangA(0, 48, 240, 60, 20).ok());
  EXPECT_FALSE(ErlangA(50, 48, 240, -1, 20).ok());
}

TEST(ErlangATest, StaffingNeedsNoMoreThanErlangC) {
  const Workload c{.load_erlangs = 48, .aht_seconds = 240};
  const Workload a{.load_erlangs = 48, .aht_seconds = 240, .patience_seconds = 120};
  const Result<Performance> na = RequiredAgents(a, SlTarget(0.8, 20));
  ASSERT_TRUE(na.ok());
  EXPECT_LE(na->agents, RequiredAgents(c, SlTarget(0.8, 20))->agents);
  EXPECT_GE(na->service_level, 0.8);
  EXPECT_LT(ErlangA(na->agents - 1, 48, 240, 120, 20)->service_level, 0.8);
}

// M/M/N+M by simulation: FCFS, so each arrival takes the earliest-free agent at
// max(arrival, free time) if that comes within its patience, else abandons.
struct SimulatedQueue {
  double service_level = 0, probability_of_waiting = 0, probability_of_abandon = 0, asa = 0;
};

SimulatedQueue Simulate(int agents, double load, double aht, double patience, double t,
                        int contacts, uint64_t seed) {
  Random random(seed);
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int i = 0; i < agents; ++i) free_at.push(0);
  const double gap = aht / load;
  double now = 0;
  int within = 0, waited = 0, abandoned = 0, served = 0;
  double wait_served = 0;
  for (int i = 0; i < contacts; ++i) {
    now += random.Exponential(gap);
    const double start = std::max(now, free_at.top());
    const double wait = start - now;
    if (wait > 0) ++waited;
    if (wait > random.Exponential(patience)) {
      ++abandoned;
      continue;
    }
    ++served;
    wait_served += wait;
    if (wait <= t) ++within;
    free_at.pop();
    free_at.push(start + random.Exponential(aht));
  }
  return {static_cast<double>(within) / contacts, static_cast<double>(waited) / contacts,
          static_cast<double>(abandoned) / contacts, wait_served / served};
}

TEST(ErlangATest, AgreesWithSimulation) {
  struct Case {
    int agents;
    double load, aht, patience, t;
  };
  for (const Case& c :
       {Case{20, 19, 180, 120, 20}, Case{10, 11, 240, 60, 30}, Case{50, 48, 240, 300, 15}}) {
    const Result<Performance> model = ErlangA(c.agents, c.load, c.aht, c.patience, c.t);
    ASSERT_TRUE(model.ok());
    const SimulatedQueue sim = Simulate(c.agents, c.load, c.aht, c.patience, c.t, 400'000, 7);
    EXPECT_NEAR(model->service_level, sim.service_level, 0.01) << c.agents;
    EXPECT_NEAR(model->probability_of_waiting, sim.probability_of_waiting, 0.01) << c.agents;
    EXPECT_NEAR(model->probability_of_abandon, sim.probability_of_abandon, 0.005) << c.agents;
    EXPECT_NEAR(model->asa_seconds, sim.asa, 0.05 * sim.asa + 0.5) << c.agents;
  }
}

// --- Forecast CSV ---------------------------------------------------------------------------

TEST(ForecastTest, ParsesWithAndWithoutHeader) {
  const auto with_header = ParseForecastCsv(
      "interval_start,contacts,aht_seconds\r\n"
      "2024-05-06T08:00,120,240\r\n"
      "\n"
      "# lunch\n"
      "2024-05-06 08:30:00Z, 180.5 , 230\n");
  ASSERT_TRUE(with_header.ok()) << with_header.status().ToString();
  ASSERT_EQ(with_header->size(), 2u);
  EXPECT_EQ((*with_header)[0].start, "2024-05-06T08:00");
  EXPECT_EQ((*with_header)[0].contacts, 120);
  EXPECT_EQ((*with_header)[1].contacts, 180.5);
  EXPECT_EQ((*with_header)[1].aht_seconds, 230);
  EXPECT_EQ((*with_header)[1].line, 5);

  const auto plain = ParseForecastCsv("08:00,120,240\n08:30,0,240");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->size(), 2u);
}

TEST(ForecastTest, ErrorsNameLineAndField) {
  auto message = [](std::string_view text) { return ParseForecastCsv(text).status().message(); };
  EXPECT_EQ(message("start,contacts,aht\n08:00,120,240\n08:30,abc,240\n"),
            "line 3, field contacts: 'abc' is not a number >= 0");
  EXPECT_EQ(message("08:00,120,0\n"),
            "line 1, field aht_seconds: '0' is not a number of seconds > 0");
  EXPECT_NE(message("08:00,120,240\n25:00,1,1\n").find("line 2, field interval_start"),
            std::string::npos);
  EXPECT_NE(message("08:00,120\n").find("line 1: expected 3 fields"), std::string::npos);
  EXPECT_NE(message("08:00,-3,240\n").find("field contacts"), std::string::npos);
  EXPECT_EQ(message("start,contacts,aht\n"), "forecast has no data lines");
}

TEST(ForecastTest, IntervalStarts) {
  for (const char* ok : {"08:00", "23:59:59", "2024-02-29T00:00", "2024-05-06T08:30:00.5+02:00",
                         "2024-05-06 08:30-0500"}) {
    EXPECT_TRUE(IsIntervalStart(ok)) << ok;
  }
  for (const char* bad : {"8:00", "24:00", "2023-02-29T00:00", "2024-13-01T00:00", "2024-05-06",
                          "2024-05-06T08:30Q", "start", ""}) {
    EXPECT_FALSE(IsIntervalStart(bad)) << bad;
  }
}

}  // namespace
}  // namespace parley::wfm
