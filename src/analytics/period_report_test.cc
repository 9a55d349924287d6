#include "analytics/period_report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/text.h"

namespace parley {
namespace {

TimePoint Iso(const char* text) { return *ParseIsoDateTime(text); }

TEST(ReportGrainTest, NamesRoundTripAndOthersAreRefused) {
  for (const char* name : {"15m", "30m", "1h", "1d", "1w", "1mo"}) {
    auto grain = ParseReportGrain(name);
    ASSERT_TRUE(grain) << name;
    EXPECT_EQ(ReportGrainName(*grain), name);
  }
  EXPECT_FALSE(ParseReportGrain("2h"));
  EXPECT_FALSE(ParseReportGrain(""));
}

TEST(ReportPeriodsTest, MonthsStartAtLocalMidnight) {
  auto periods = ReportPeriods(Iso("2026-01-15T00:00:00Z"), Iso("2026-03-02T00:00:00Z"),
                               ReportGrain::kMonth, "Europe/Berlin", 100);
  ASSERT_TRUE(periods.ok()) << periods.status().message();
  ASSERT_EQ(periods->size(), 3u);
  EXPECT_EQ((*periods)[0].start, Iso("2025-12-31T23:00:00Z"));
  EXPECT_EQ((*periods)[1].start, Iso("2026-01-31T23:00:00Z"));
  EXPECT_EQ((*periods)[2].start, Iso("2026-02-28T23:00:00Z"));
  EXPECT_EQ((*periods)[2].end, Iso("2026-03-31T22:00:00Z"));  // summer time from 29 March
}

TEST(ReportPeriodsTest, TheDayClocksGoForwardHas23Hours) {
  auto periods = ReportPeriods(Iso("2026-03-28T12:00:00Z"), Iso("2026-03-30T12:00:00Z"),
                               ReportGrain::kDay, "Europe/Berlin", 100);
  ASSERT_TRUE(periods.ok());
  ASSERT_EQ(periods->size(), 3u);
  EXPECT_EQ((*periods)[1].end - (*periods)[1].start, std::chrono::hours(23));
}

TEST(ReportPeriodsTest, WeeksStartOnMonday) {
  // 2026-12-03 is a Thursday.
  auto periods = ReportPeriods(Iso("2026-12-03T10:00:00Z"), Iso("2026-12-04T00:00:00Z"),
                               ReportGrain::kWeek, "UTC", 10);
  ASSERT_TRUE(periods.ok());
  ASSERT_EQ(periods->size(), 1u);
  EXPECT_EQ((*periods)[0].start, Iso("2026-11-30T00:00:00Z"));
}

TEST(ReportPeriodsTest, QuarterHoursFollowTheLocalClock) {
  // Kolkata is UTC+05:30, so its quarter hours fall on the UTC quarter hours too, but its hours
  // start at half past.
  auto hours = ReportPeriods(Iso("2026-12-03T10:10:00Z"), Iso("2026-12-03T12:00:00Z"),
                             ReportGrain::kHour, "Asia/Kolkata", 10);
  ASSERT_TRUE(hours.ok());
  EXPECT_EQ(hours->front().start, Iso("2026-12-03T09:30:00Z"));
  EXPECT_EQ(hours->size(), 3u);
}

TEST(ReportPeriodsTest, BadInputIsNamed) {
  const TimePoint t = Iso("2026-12-03T00:00:00Z");
  auto backwards = ReportPeriods(t, t, ReportGrain::kDay, "UTC", 10);
  ASSERT_FALSE(backwards.ok());
  EXPECT_EQ(backwards.status().message().rfind("from:", 0), 0u);
  auto zone = ReportPeriods(t, t + std::chrono::hours(1), ReportGrain::kDay, "Mars/Olympus", 10);
  ASSERT_FALSE(zone.ok());
  EXPECT_EQ(zone.status().message().rfind("time_zone:", 0), 0u);
  auto many = ReportPeriods(t, t + std::chrono::hours(24), ReportGrain::k15Minutes, "UTC", 95);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().message().rfind("interval:", 0), 0u);
  EXPECT_TRUE(
      ReportPeriods(t, t + std::chrono::hours(24), ReportGrain::k15Minutes, "UTC", 96).ok());
}

class PeriodReportTest : public ::testing::Test {
 protected:
  TimePoint T(double s) const { return t0_ + Seconds(s); }
  void Add(EventType type, double s, uint64_t contact, AgentIndex agent, QueueIndex queue,
           int64_t value = 0, std::string text = {}) {
    events_.push_back(Event{.type = type,
                            .time = T(s),
                            .contact = ContactId(contact),
                            .agent = agent,
                            .queue = queue,
                            .channel = Channel::kVoice,
                            .value = value,
                            .text = std::move(text)});
  }
  TimePoint t0_ = Iso("2026-12-03T09:00:00Z");
  std::vector<Event> events_;
};

TEST_F(PeriodReportTest, QueueAndAgentRowsPerQuarterHour) {
  using E = EventType;
  Add(E::kPresenceChanged, -60, 0, 0, kNone, static_cast<int>(Presence::kAvailable));
  // Contact 1: queued at 0, answered at 10, talk to 100, wrap-up to 110, a CSAT of 5 at 200.
  Add(E::kContactQueued, 0, 1, kNone, 0);
  Add(E::kContactOffered, 5, 1, 0, 0);
  Add(E::kOfferAccepted, 10, 1, 0, 0);
  Add(E::kHandlingStarted, 10, 1, 0, 0);
  Add(E::kHandlingEnded, 100, 1, 0, 0);
  Add(E::kWrapUpStarted, 100, 1, 0, 0);
  Add(E::kWrapUpEnded, 110, 1, 0, 0);
  Add(E::kContactClosed, 110, 1, kNone, 0);
  Add(E::kSurveyAnswered, 200, 1, kNone, kNone, 5,
      FormatFlowEventFields(
          {.flow = "survey", .question = "q1", .survey_kind = "csat", .score = 5}));
  // Contact 2: queued in the second quarter hour, abandons after 30 s.
  Add(E::kContactQueued, 950, 2, kNone, 0);
  Add(E::kContactAbandoned, 980, 2, kNone, 0);

  auto periods = ReportPeriods(T(0), T(1800), ReportGrain::k15Minutes, "UTC", 10);
  ASSERT_TRUE(periods.ok());
  ASSERT_EQ(periods->size(), 2u);
  const PeriodReport r = ComputePeriodReport(events_, *periods, KpiOptions{}, 2, 1, T(1800));

  ASSERT_EQ(r.queues.size(), 4u);  // two queues x two periods, the unused queue with zeros
  const ContactStats& first = r.queues[0].stats;
  EXPECT_EQ(first.offered, 1);
  EXPECT_EQ(first.answered, 1);
  EXPECT_EQ(first.handled, 1);
  EXPECT_EQ(first.Asa(), Seconds(10));
  EXPECT_EQ(first.AverageTalk(), Seconds(90));
  EXPECT_EQ(first.AverageWrapUp(), Seconds(10));
  EXPECT_EQ(r.queues[0].surveys.csat_answers, 1u);
  EXPECT_EQ(r.queues[0].surveys.Csat(), 1.0);
  const ContactStats& second = r.queues[1].stats;
  EXPECT_EQ(r.queues[1].period.start, T(900));
  EXPECT_EQ(second.offered, 1);
  EXPECT_EQ(second.abandoned, 1);
  EXPECT_EQ(second.answered, 0);
  EXPECT_EQ(r.queues[2].queue, 1u);
  EXPECT_EQ(r.queues[2].stats.offered, 0);

  ASSERT_EQ(r.agents.size(), 2u);
  const AgentStats& a0 = r.agents[0].stats;
  EXPECT_EQ(a0.handled, 1);
  EXPECT_EQ(a0.talk, Seconds(90));
  EXPECT_EQ(a0.wrap_up, Seconds(10));
  EXPECT_EQ(a0.logged_in, Seconds(900));
  EXPECT_EQ(a0.busy, Seconds(100));
  EXPECT_EQ(r.agents[0].surveys.csat_answers, 1u);
  const AgentStats& a1 = r.agents[1].stats;
  EXPECT_EQ(a1.handled, 0);
  EXPECT_EQ(a1.logged_in, Seconds(900));
  EXPECT_EQ(a1.Occupancy(), 0.0);
}

TEST_F(PeriodReportTest, PeriodsAfterAsOfAreEmpty) {
  Add(EventType::kPresenceChanged, 0, 0, 0, kNone, static_cast<int>(Presence::kAvailable));
  auto periods = ReportPeriods(T(0), T(3600), ReportGrain::k30Minutes, "UTC", 10);
  ASSERT_TRUE(periods.ok());
  const PeriodReport r = ComputePeriodReport(events_, *periods, KpiOptions{}, 0, 1, T(600));
  ASSERT_EQ(r.agents.size(), 2u);
  EXPECT_EQ(r.agents[0].stats.logged_in, Seconds(600));
  EXPECT_EQ(r.agents[1].stats.logged_in, Seconds(0));
}

}  // namespace
}  // namespace parley
