#include "analytics/period_report.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// First-contact resolution: a 24-hour window, judged at `now` (an injected moment, the day after).
TEST_F(PeriodReportTest, FcrIsResolvedUnlessTheCustomerComesBackWithinTheWindow) {
  using E = EventType;
  auto answered = [&](uint64_t contact, double s, AgentIndex agent, QueueIndex queue) {
    Add(E::kOfferAccepted, s, contact, agent, queue);
  };
  const Duration day = std::chrono::hours(24);
  FcrInput fcr{.window = day, .now = T(86'600)};
  auto contact = [&](uint64_t id, uint64_t customer, double arrived, bool inbound = true) {
    fcr.contacts.push_back({.contact = ContactId(id),
                            .customer = customer,
                            .customer_initiated = inbound,
                            .arrived = T(arrived)});
  };
  // Customer 7 comes back (on any channel) an hour later: contact 1 is not resolved; contact 2,
  // the repeat, is judged on its own and its window is still open at `now`.
  contact(1, 7, 0);
  answered(1, 10, 0, 0);
  contact(2, 7, 3600);
  answered(2, 3610, 1, 0);
  // Customer 8 comes back only after the window (and is called by an agent within it, which is
  // no repeat): contact 3 is resolved. It was answered twice (a transfer): the last answer's
  // queue and agent are judged.
  contact(3, 8, 100);
  answered(3, 110, 1, 0);
  answered(3, 200, 0, 1);
  contact(4, 8, 100 + 86'400 + 1);
  contact(9, 8, 300, /*inbound=*/false);
  // Without a customer link contact 5 is not judged; nor is an agent's outbound call (6).
  answered(5, 20, 0, 0);
  contact(6, 9, 30, /*inbound=*/false);
  answered(6, 40, 0, 0);
  std::stable_sort(events_.begin(), events_.end(),
                   [](const Event& a, const Event& b) { return a.time < b.time; });

  auto periods = ReportPeriods(T(0), T(7200), ReportGrain::kHour, "UTC", 10);
  ASSERT_TRUE(periods.ok());
  const PeriodReport r = ComputePeriodReport(events_, *periods, KpiOptions{}, 2, 2, T(7200), fcr);
  ASSERT_EQ(r.queues.size(), 4u);
  const FcrStats& q0_first = r.queues[0].fcr;
  EXPECT_EQ(q0_first.contacts, 1u);
  EXPECT_EQ(q0_first.resolved, 0u);
  EXPECT_EQ(q0_first.Fcr(), 0.0);
  const FcrStats& q0_second = r.queues[1].fcr;
  EXPECT_EQ(q0_second.contacts, 1u);
  EXPECT_EQ(q0_second.resolved, 1u);
  EXPECT_EQ(q0_second.open, 1u);  // 3600 + 24 h is after now
  const FcrStats& q1_first = r.queues[2].fcr;
  EXPECT_EQ(q1_first.contacts, 1u);
  EXPECT_EQ(q1_first.resolved, 1u);
  EXPECT_EQ(q1_first.open, 0u);  // 100 + 24 h is before now
  EXPECT_EQ(r.queues[3].fcr.contacts, 0u);
  EXPECT_FALSE(r.queues[3].fcr.Fcr());

  ASSERT_EQ(r.agents.size(), 4u);
  const FcrStats& a0 = r.agents[0].fcr;  // contacts 1 and 3; not 5 nor 6
  EXPECT_EQ(a0.contacts, 2u);
  EXPECT_EQ(a0.resolved, 1u);
  EXPECT_EQ(a0.Fcr(), 0.5);
  EXPECT_EQ(r.agents[2].fcr.contacts, 0u);  // agent 1's first hour: contact 3 went on to agent 0
  EXPECT_EQ(r.agents[3].fcr.contacts, 1u);  // contact 2

  // A repeat one microsecond inside the window still counts; without a window nothing is judged.
  fcr.contacts[1].arrived = T(0) + day - Duration(1);
  EXPECT_EQ(ComputePeriodReport(events_, *periods, KpiOptions{}, 2, 2, T(7200), fcr)
                .queues[0]
                .fcr.resolved,
            0u);
  fcr.contacts[1].arrived = T(0) + day;
  EXPECT_EQ(ComputePeriodReport(events_, *periods, KpiOptions{}, 2, 2, T(7200), fcr)
                .queues[0]
                .fcr.resolved,
            1u);
  fcr.window = Duration(0);
  EXPECT_EQ(ComputePeriodReport(events_, *periods, KpiOptions{}, 2, 2, T(7200), fcr)
                .queues[0]
                .fcr.contacts,
            0u);
}

}  // namespace
}  // namespace parley
