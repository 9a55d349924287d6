#include "config/site_time.h"

#include <gtest/gtest.h>

namespace parley::config {
namespace {

TimePoint Utc(int64_t unix_seconds) { return FromMicros(unix_seconds * 1'000'000); }

TEST(SiteTimeTest, LocalMidnightFollowsTheZoneAndDaylightSaving) {
  auto paris = SiteDayFunction("Europe/Paris");
  ASSERT_TRUE(paris.ok());
  auto utc = SiteDayFunction("UTC");
  ASSERT_TRUE(utc.ok());
  // 2026-01-05 is day 20458. Winter: Paris midnight is 23:00 UTC the day before.
  EXPECT_EQ((*utc)(Utc(1767571200)), 20458);           // 2026-01-05T00:00Z
  EXPECT_EQ((*paris)(Utc(1767571200 - 3601)), 20457);  // 2026-01-04T22:59:59Z = 23:59:59 Paris
  EXPECT_EQ((*paris)(Utc(1767571200 - 3600)), 20458);  // 23:00Z = 00:00 Paris
  // Summer (CEST, UTC+2): 2026-07-01T22:00Z is midnight of 2 July in Paris.
  EXPECT_EQ((*paris)(Utc(1782943200 - 1)), (*utc)(Utc(1782943200 - 1)));
  EXPECT_EQ((*paris)(Utc(1782943200)), (*utc)(Utc(1782943200)) + 1);
}

TEST(SiteTimeTest, CachingFunctionGivesTheSameDays) {
  // Across daylight-saving changes (one of 30 minutes at Lord Howe, midnight changes in
  // Santiago), forwards in uneven steps and then backwards.
  for (const char* name : {"Europe/Paris", "America/Santiago", "Australia/Lord_Howe", "UTC"}) {
    auto plain = SiteDayFunction(name);
    auto cached = CachingSiteDayFunction(name);
    ASSERT_TRUE(plain.ok() && cached.ok()) << name;
    int64_t t = 1767571200LL * 1'000'000;  // 2026-01-05
    const int64_t end = t + 400LL * 86'400'000'000;
    int64_t step = 1;
    while (t < end) {
      ASSERT_EQ((*cached)(FromMicros(t)), (*plain)(FromMicros(t))) << name << " at " << t;
      t += step;
      step = step * 7 % 3'599'999'999 + 1;  // from a microsecond to about an hour
    }
    for (; t > end - 30LL * 86'400'000'000; t -= 1'799'999'999) {
      ASSERT_EQ((*cached)(FromMicros(t)), (*plain)(FromMicros(t))) << name << " at " << t;
    }
  }
  auto bad = CachingSiteDayFunction("Mars/Olympus");
  EXPECT_FALSE(bad.ok());
}

TEST(SiteTimeTest, UnknownZoneIsAnError) {
  auto bad = SiteDayFunction("Mars/Olympus");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Mars/Olympus"), std::string::npos);
}

}  // namespace
}  // namespace parley::config
