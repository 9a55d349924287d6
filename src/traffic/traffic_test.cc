#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "traffic/arrivals.h"
#include "traffic/distribution.h"

namespace parley::traffic {
namespace {

struct Moments {
  double mean = 0, variance = 0;
};

Moments Measure(const Distribution& d, uint64_t seed, int n = 200'000) {
  Random random(seed);
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = d.Sample(random);
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / n;
  return {mean, sum_sq / n - mean * mean};
}

TEST(DistributionTest, SampleMomentsMatchAtFixedSeeds) {
  const std::vector<std::string> specs = {"fixed:30", "exp:180", "lognormal:180,90",
                                          "uniform:10,20"};
  for (const std::string& spec : specs) {
    const Result<Distribution> d = ParseDistribution(spec);
    ASSERT_TRUE(d.ok()) << spec << ": " << d.status().ToString();
    EXPECT_EQ(d->ToString(), spec);
    const Moments m = Measure(*d, 42);
    EXPECT_NEAR(m.mean, d->Mean(), 0.01 * d->Mean()) << spec;
    EXPECT_NEAR(m.variance, d->Variance(), 0.04 * d->Variance() + 1e-9) << spec;
  }
  EXPECT_DOUBLE_EQ(ParseDistribution("exp:180")->Variance(), 180.0 * 180.0);
  EXPECT_DOUBLE_EQ(ParseDistribution("uniform:10,20")->Variance(), 100.0 / 12);
}

TEST(DistributionTest, SameSeedSameDraws) {
  const Distribution d = *ParseDistribution("lognormal:180,90");
  Random a(7), b(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(d.Sample(a), d.Sample(b));
}

TEST(DistributionTest, EmpiricalDrawsOnlyItsSamplesThroughTheLoader) {
  std::string asked;
  const TextLoader loader = [&](std::string_view name) -> Result<std::string> {
    asked = std::string(name);
    return std::string("handle_seconds\n10\n\n# comment\n20,extra\n30\n");
  };
  const Result<Distribution> d = ParseDistribution("empirical:aht.csv", loader);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(asked, "aht.csv");
  EXPECT_DOUBLE_EQ(d->Mean(), 20);
  EXPECT_DOUBLE_EQ(d->Variance(), 200.0 / 3);
  Random random(3);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 30'000; ++i) {
    const double x = d->Sample(random);
    ASSERT_TRUE(x == 10 || x == 20 || x == 30) << x;
    ++counts[static_cast<int>(x) / 10 - 1];
  }
  for (int c : counts) EXPECT_NEAR(c, 10'000, 500);
}

TEST(DistributionTest, BadSpecsSayWhatIsWrong) {
  auto error = [](std::string_view spec, const TextLoader& loader = {}) {
    const Result<Distribution> d = ParseDistribution(spec, loader);
    EXPECT_FALSE(d.ok()) << spec;
    return d.ok() ? std::string() : d.status().message();
  };
  EXPECT_NE(error("180").find("expected KIND:PARAMETERS"), std::string::npos);
  EXPECT_NE(error("gamma:2,3").find("unknown kind 'gamma'"), std::string::npos);
  EXPECT_NE(error("exp:").find("'' is not a number"), std::string::npos);
  EXPECT_NE(error("exp:abc").find("'abc' is not a number"), std::string::npos);
  EXPECT_NE(error("exp:-5").find("mean must be > 0"), std::string::npos);
  EXPECT_NE(error("lognormal:180").find("takes 2 numbers"), std::string::npos);
  EXPECT_NE(error("lognormal:180,-1").find("sd must be >= 0"), std::string::npos);
  EXPECT_NE(error("uniform:20,10").find("min <= max"), std::string::npos);
  EXPECT_NE(error("fixed:1,2").find("takes 1 number"), std::string::npos);
  EXPECT_NE(error("fixed:inf").find("not a number"), std::string::npos);
  EXPECT_NE(error("empirical:x.csv").find("no file loader"), std::string::npos);
  const TextLoader missing = [](std::string_view name) -> Result<std::string> {
    return NotFound(fmt::format("cannot read '{}'", name));
  };
  EXPECT_EQ(error("empirical:x.csv", missing), "cannot read 'x.csv'");
  const TextLoader bad = [](std::string_view) -> Result<std::string> {
    return std::string("10\n-3\n");
  };
  EXPECT_EQ(error("empirical:x.csv", bad), "x.csv: line 2: '-3' is not a number of seconds >= 0");
  const TextLoader empty = [](std::string_view) -> Result<std::string> { return std::string(); };
  EXPECT_NE(error("empirical:x.csv", empty).find("no samples"), std::string::npos);
}

// --- Arrivals -------------------------------------------------------------------------------

constexpr TimePoint kStart = FromMicros(1'700'000'000'000'000);

std::vector<int> CountPerInterval(ArrivalProcess& process, TimePoint from, Duration interval,
                                  size_t intervals, Random& random) {
  std::vector<int> counts(intervals + 1, 0);  // the last slot counts strays after the end
  TimePoint now = from;
  while (std::optional<TimePoint> next = process.NextArrival(now, random)) {
    EXPECT_GT(*next, now);
    EXPECT_GE(*next, kStart);
    const auto slot = static_cast<size_t>((*next - kStart) / interval);
    ++counts[std::min(slot, intervals)];
    now = *next;
  }
  return counts;
}

TEST(PiecewisePoissonTest, CountsPerIntervalMatchOnAverage) {
  const std::vector<double> expected = {10, 0, 30, 2.5, 60};
  const Duration interval = std::chrono::minutes(15);
  auto process = PiecewisePoisson::Create(kStart, interval, expected);
  ASSERT_TRUE(process.ok());
  Random random(11);
  const int runs = 4000;
  std::vector<double> sum(expected.size(), 0), sum_sq(expected.size(), 0);
  for (int r = 0; r < runs; ++r) {
    // Start before the process begins: nothing may arrive before kStart.
    const std::vector<int> counts = CountPerInterval(**process, kStart - std::chrono::hours(1),
                                                     interval, expected.size(), random);
    EXPECT_EQ(counts.back(), 0);
    EXPECT_EQ(counts[1], 0);  // zero-rate interval
    for (size_t i = 0; i < expected.size(); ++i) {
      sum[i] += counts[i];
      sum_sq[i] += counts[i] * counts[i];
    }
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const double mean = sum[i] / runs;
    const double variance = sum_sq[i] / runs - mean * mean;
    // Standard error of the mean is sqrt(expected / runs) <= 0.13 here.
    EXPECT_NEAR(mean, expected[i], 0.5) << i;
    EXPECT_NEAR(variance, expected[i], 0.1 * expected[i] + 0.05) << i;  // Poisson: var = mean
  }
}

TEST(PiecewisePoissonTest, StartsFromAnyTimeAndEndsAfterTheLastInterval) {
  auto process = PiecewisePoisson::Create(kStart, std::chrono::seconds(60), {0, 0, 120});
  ASSERT_TRUE(process.ok());
  Random random(5);
  const auto next = (*process)->NextArrival(kStart + std::chrono::seconds(30), random);
  ASSERT_TRUE(next.has_value());
  EXPECT_GE(*next, kStart + std::chrono::seconds(120));  // skips the two empty minutes
  EXPECT_FALSE((*process)->NextArrival(kStart + std::chrono::seconds(180), random).has_value());
  EXPECT_FALSE(PiecewisePoisson::Create(kStart, Duration(0), {1}).ok());
  EXPECT_FALSE(PiecewisePoisson::Create(kStart, std::chrono::seconds(60), {1, -1}).ok());
}

TEST(ArrivalListTest, ParsesSecondsAndIsoTimesAndReturnsEachOnce) {
  const Result<std::vector<TimePoint>> times = ParseArrivalTimes(
      "at,queue\n"
      "5,sales\n"
      "1.5\n"
      "# duplicate on purpose\n"
      "5\n"
      "2023-11-14T22:13:20.25Z\n"
      "2023-11-14T23:13:21+01:00\n",
      kStart);
  ASSERT_TRUE(times.ok()) << times.status().ToString();
  ArrivalList list(*times);
  ASSERT_EQ(list.size(), 5u);
  Random random(1);
  std::vector<int64_t> got;
  TimePoint now = kStart;
  while (auto next = list.NextArrival(now, random)) {
    got.push_back(ToMicros(*next) - ToMicros(kStart));
    now = *next;
  }
  // kStart is 2023-11-14T22:13:20Z.
  EXPECT_EQ(got, (std::vector<int64_t>{250'000, 1'000'000, 1'500'000, 5'000'000, 5'000'000}));

  ArrivalList late(*times);
  EXPECT_EQ(ToMicros(*late.NextArrival(kStart + std::chrono::seconds(2), random)),
            ToMicros(kStart) + 5'000'000);
}

TEST(ArrivalListTest, ErrorsNameTheLine) {
  const auto bad = ParseArrivalTimes("1\n2\n2023-02-30T00:00:00Z\n", kStart);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 3: arrival time '2023-02-30T00:00:00Z'"),
            std::string::npos);
  EXPECT_FALSE(ParseArrivalTimes("1\n-4\n", kStart).ok());
}

}  // namespace
}  // namespace parley::traffic
