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

TEST(SiteTimeTest, UnknownZoneIsAnError) {
  auto bad = SiteDayFunction("Mars/Olympus");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Mars/Olympus"), std::string::npos);
}

}  // namespace
}  // namespace parley::config
