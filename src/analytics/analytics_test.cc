#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analytics/kpi.h"

namespace parley {
namespace {

// 1'700'000'100 s is a multiple of 900 s, so At(0) starts a 15-minute interval of the epoch grid.
constexpr int64_t kT0Seconds = 1'700'000'100;

TimePoint At(double s) { return FromMicros(kT0Seconds * 1'000'000 + std::llround(s * 1e6)); }
Duration S(double s) { return Seconds(s); }
Duration Us(int64_t us) { return Duration(us); }

constexpr QueueIndex kQ0 = 0;
constexpr QueueIndex kQ1 = 1;
constexpr AgentIndex kA0 = 0;
constexpr AgentIndex kA1 = 1;
constexpr AgentIndex kA2 = 2;
constexpr Channel kVoice = Channel::kVoice;
constexpr Channel kChat = Channel::kChat;

// Builds a log in the order written; Sorted() orders it by time, keeping that order for ties.
class Log {
 public:
  void Add(EventType type, double t, uint64_t contact, AgentIndex agent, QueueIndex queue,
           Channel channel, int64_t value = 0, std::string text = {}) {
    Event e;
    e.type = type;
    e.time = At(t);
    e.contact = ContactId(contact);
    e.agent = agent;
    e.queue = queue;
    e.channel = channel;
    e.value = value;
    e.text = std::move(text);
    events_.push_back(std::move(e));
  }
  void Presence(double t, AgentIndex a, parley::Presence p, std::string reason = {}) {
    Add(EventType::kPresenceChanged, t, 0, a, kNone, kVoice, static_cast<int>(p),
        std::move(reason));
  }
  void Queued(double t, uint64_t c, QueueIndex q, Channel ch) {
    Add(EventType::kContactQueued, t, c, kNone, q, ch);
  }
  void Offered(double t, uint64_t c, AgentIndex a, QueueIndex q, Channel ch) {
    Add(EventType::kContactOffered, t, c, a, q, ch);
  }
  // Offered at `offered`, accepted and handling started at `accepted`.
  void Answer(double offered, double accepted, uint64_t c, AgentIndex a, QueueIndex q, Channel ch) {
    Offered(offered, c, a, q, ch);
    Add(EventType::kOfferAccepted, accepted, c, a, q, ch);
    Add(EventType::kHandlingStarted, accepted, c, a, q, ch);
  }
  void Hold(double from, double to, uint64_t c, AgentIndex a) {
    Add(EventType::kHoldStarted, from, c, a, kNone, kVoice);
    Add(EventType::kHoldEnded, to, c, a, kNone, kVoice);
  }
  // Talk ends at `end`; wrap-up runs to `wrap_end` when it is after `end`.
  void Finish(double end, double wrap_end, uint64_t c, AgentIndex a, QueueIndex q, Channel ch) {
    Add(EventType::kHandlingEnded, end, c, a, q, ch);
    if (wrap_end > end) {
      Add(EventType::kWrapUpStarted, end, c, a, q, ch);
      Add(EventType::kWrapUpEnded, wrap_end, c, a, q, ch);
    }
  }
  void Closed(double t, uint64_t c, QueueIndex q, Channel ch) {
    Add(EventType::kContactClosed, t, c, kNone, q, ch);
  }

  std::vector<Event> Sorted() const {
    std::vector<Event> out = events_;
    std::stable_sort(out.begin(), out.end(),
                     [](const Event& a, const Event& b) { return a.time < b.time; });
    return out;
  }

 private:
  std::vector<Event> events_;
};

// The reference day: two 15-minute intervals, I0 = [0 s, 900 s) and I1 = [900 s, 1800 s), from
// At(0). Q0 carries voice with the default 20 s target; Q1 is a mixed queue with a 30 s target.
// Short abandon: 5 s. Agents: A0 and A2 voice, A1 chat (two chats at once).
//
//  C1  voice Q0: queued 10, A0 answers 25 (wait 15, met); talk 25-205 with hold 100-130;
//      wrap-up 205-225.                      talk 150, hold 30, wrap 20.
//  C2  voice Q0: queued 20, A2 rejects an offer at 25-30, answers the second at 55 (wait 35,
//      not met); talk 55-175; A2 transfers it to Q1 at 175 and wraps up 175-185 (talk 120,
//      wrap 10). In Q1 from 175 (a new episode), A0 answers at 240 (wait 65 > 30, not met),
//      talk 240-300, no wrap-up (talk 60).
//  C3  voice Q0: queued 100, abandons 103 (wait 3: short, within target).
//  C4  voice Q0: queued 110, abandons 150 (wait 40).
//  C5  voice Q0: queued 120, overflows to Q1 at 180 (Q0 wait 60); A2's offer at 190 times out at
//      210; A2 answers at 215 (Q1 wait 35, episode wait 95; both over Q1's 30 s);
//      talk 215-275, wrap 275-290 (talk 60, wrap 15).
//  C6  voice Q0: queued 300, escalated at 330, times out at 400 to "voicemail" (wait 100).
//  C7  chat Q1: queued 850, A1 answers 860 (wait 10, met); talk 860-1000, wrap 1000-1010: its
//      wait belongs to I0, its handle times to I1 (talk 140, wrap 10).
//  C8  chat Q1: queued 870, offered ring-all to A1 and A0; A1 answers 880 (wait 10, met); A0's
//      offer is withdrawn; talk 880-950 (concurrent with C7 at A1), wrap 950-960 (talk 70,
//      wrap 10): wait in I0, handle times in I1 like C7.
//  C9  chat Q1: queued 905, abandons 915 (wait 10: not short, within Q1's target).
//  C10 voice Q0: queued 1000, A0 answers 1004 (wait 4, met); talk 1004-1100 with hold
//      1020-1040, wrap 1100-1130 (talk 76, hold 20, wrap 30).
//  C11 voice Q0: queued 1500, still waiting when the report is taken at 1800.
//
// Presence: all three Available at 0; A2 Not Ready 600-700 ("break") and Offline at 1700; A1 Not
// Ready at 1200 ("lunch") and Offline at 1500; A0 Available throughout.
std::vector<Event> ReferenceDay() {
  Log log;
  log.Presence(0, kA0, Presence::kAvailable);
  log.Presence(0, kA1, Presence::kAvailable);
  log.Presence(0, kA2, Presence::kAvailable);
  log.Presence(600, kA2, Presence::kNotReady, "break");
  log.Presence(700, kA2, Presence::kAvailable);
  log.Presence(1200, kA1, Presence::kNotReady, "lunch");
  log.Presence(1500, kA1, Presence::kOffline);
  log.Presence(1700, kA2, Presence::kOffline);

  log.Queued(10, 1, kQ0, kVoice);
  log.Answer(10, 25, 1, kA0, kQ0, kVoice);
  log.Hold(100, 130, 1, kA0);
  log.Finish(205, 225, 1, kA0, kQ0, kVoice);
  log.Closed(225, 1, kQ0, kVoice);

  log.Queued(20, 2, kQ0, kVoice);
  log.Offered(25, 2, kA2, kQ0, kVoice);
  log.Add(EventType::kOfferRejected, 30, 2, kA2, kQ0, kVoice);
  log.Answer(50, 55, 2, kA2, kQ0, kVoice);
  log.Add(EventType::kContactTransferred, 175, 2, kA2, kQ1, kVoice);
  log.Finish(175, 185, 2, kA2, kQ0, kVoice);
  log.Queued(175, 2, kQ1, kVoice);
  log.Answer(235, 240, 2, kA0, kQ1, kVoice);
  log.Finish(300, 300, 2, kA0, kQ1, kVoice);
  log.Closed(300, 2, kQ1, kVoice);

  log.Queued(100, 3, kQ0, kVoice);
  log.Add(EventType::kContactAbandoned, 103, 3, kNone, kQ0, kVoice);

  log.Queued(110, 4, kQ0, kVoice);
  log.Add(EventType::kContactAbandoned, 150, 4, kNone, kQ0, kVoice);
  log.Closed(150, 4, kQ0, kVoice);  // after the abandon freed it: harmless

  log.Queued(120, 5, kQ0, kVoice);
  log.Add(EventType::kContactOverflowed, 180, 5, kNone, kQ0, kVoice, kQ1);
  log.Queued(180, 5, kQ1, kVoice);
  log.Offered(190, 5, kA2, kQ1, kVoice);
  log.Add(EventType::kOfferTimedOut, 210, 5, kA2, kQ1, kVoice);
  log.Answer(212, 215, 5, kA2, kQ1, kVoice);
  log.Finish(275, 290, 5, kA2, kQ1, kVoice);
  log.Closed(290, 5, kQ1, kVoice);

  log.Queued(300, 6, kQ0, kVoice);
  log.Add(EventType::kContactEscalated, 330, 6, kNone, kQ0, kVoice, 1);
  log.Add(EventType::kContactTimedOut, 400, 6, kNone, kQ0, kVoice, 0, "voicemail");

  log.Queued(850, 7, kQ1, kChat);
  log.Answer(850, 860, 7, kA1, kQ1, kChat);
  log.Finish(1000, 1010, 7, kA1, kQ1, kChat);
  log.Closed(1010, 7, kQ1, kChat);

  log.Queued(870, 8, kQ1, kChat);
  log.Offered(870, 8, kA0, kQ1, kChat);
  log.Answer(870, 880, 8, kA1, kQ1, kChat);
  log.Add(EventType::kOfferWithdrawn, 880, 8, kA0, kQ1, kChat);
  log.Finish(950, 960, 8, kA1, kQ1, kChat);
  log.Closed(960, 8, kQ1, kChat);

  log.Queued(905, 9, kQ1, kChat);
  log.Add(EventType::kContactAbandoned, 915, 9, kNone, kQ1, kChat);

  log.Queued(1000, 10, kQ0, kVoice);
  log.Answer(1000, 1004, 10, kA0, kQ0, kVoice);
  log.Hold(1020, 1040, 10, kA0);
  log.Finish(1100, 1130, 10, kA0, kQ0, kVoice);
  log.Closed(1130, 10, kQ0, kVoice);

  log.Queued(1500, 11, kQ0, kVoice);
  return log.Sorted();
}

KpiOptions ReferenceOptions() {
  KpiOptions o;
  o.interval = S(900);
  o.service_level_target = S(20);
  o.queue_service_level_targets = {Duration(0), S(30)};  // Q0: default; Q1: 30 s
  o.short_abandon = S(5);
  return o;
}

KpiCalculator Feed(const std::vector<Event>& events, KpiOptions options = ReferenceOptions()) {
  KpiCalculator calc(std::move(options));
  for (const Event& e : events) calc.Add(e);
  return calc;
}

// Compares every wait and handle counter of `got` with `want` (wait_p90 included).
void ExpectStats(const ContactStats& got, const ContactStats& want, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(got.offered, want.offered);
  EXPECT_EQ(got.answered, want.answered);
  EXPECT_EQ(got.answered_within_target, want.answered_within_target);
  EXPECT_EQ(got.abandoned, want.abandoned);
  EXPECT_EQ(got.short_abandoned, want.short_abandoned);
  EXPECT_EQ(got.abandoned_within_target, want.abandoned_within_target);
  EXPECT_EQ(got.timed_out, want.timed_out);
  EXPECT_EQ(got.overflowed, want.overflowed);
  EXPECT_EQ(got.removed, want.removed);
  EXPECT_EQ(got.transferred, want.transferred);
  EXPECT_EQ(got.answered_wait.count(), want.answered_wait.count());
  EXPECT_EQ(got.total_wait.count(), want.total_wait.count());
  EXPECT_EQ(got.longest_wait.count(), want.longest_wait.count());
  EXPECT_EQ(got.wait_p90.count(), want.wait_p90.count());
  EXPECT_EQ(got.max_waiting, want.max_waiting);
  EXPECT_EQ(got.handled, want.handled);
  EXPECT_EQ(got.talk.count(), want.talk.count());
  EXPECT_EQ(got.hold.count(), want.hold.count());
  EXPECT_EQ(got.wrap_up.count(), want.wrap_up.count());
}

void ExpectRatio(std::optional<double> got, int64_t num, int64_t den) {
  ASSERT_TRUE(got.has_value());
  EXPECT_DOUBLE_EQ(*got, static_cast<double>(num) / static_cast<double>(den));
}

void ExpectDuration(std::optional<Duration> got, Duration want) {
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->count(), want.count());
}

class ReferenceDayTest : public ::testing::Test {
 protected:
  ReferenceDayTest() : calc_(Feed(ReferenceDay())), report_(calc_.Report(At(1800))) {}
  KpiCalculator calc_;
  KpiReport report_;
};

TEST_F(ReferenceDayTest, ShapeAndCounters) {
  EXPECT_EQ(report_.ignored_events, 0);
  EXPECT_EQ(report_.out_of_order_events, 0);
  EXPECT_EQ(report_.events, static_cast<int64_t>(ReferenceDay().size()));
  ASSERT_EQ(report_.queues.size(), 2u);
  ASSERT_EQ(report_.agents.size(), 3u);
  // 1800 s is the first instant of a third interval, which the report includes (empty but for
  // C11, still waiting).
  ASSERT_EQ(report_.overall.intervals.size(), 3u);
  EXPECT_EQ(report_.overall.intervals[0].start, At(0));
  EXPECT_EQ(report_.overall.intervals[1].start, At(900));
  EXPECT_EQ(report_.overall.intervals[2].start, At(1800));
  for (const SeriesStats& q : report_.queues) EXPECT_EQ(q.intervals.size(), 3u);
}

TEST_F(ReferenceDayTest, QueueZeroByInterval) {
  const SeriesStats& q0 = report_.queues[kQ0];
  // I0: C1..C6 entered Q0. Waits: C1 15 (answered, met), C2 35 (answered), C3 3 (abandoned,
  // short, within target), C4 40 (abandoned), C5 60 (overflowed), C6 100 (timed out).
  // Waiting: 1 at 10, 2 at 20, 1 at 25, 0 at 55, 1 at 100, 0 at 103, 1 at 110, 2 at 120, 1 at
  // 150, 0 at 180, 1 at 300, 0 at 400: max 2. Sorted waits 3 15 35 40 60 100: the 90th percentile
  // is the ceil(0.9 * 6) = 6th. Handle times whose talk ended in I0: C1 by A0 (150/30/20) and C2
  // by A2 (120/0/10). C2 was transferred after being answered here.
  ContactStats i0;
  i0.offered = 6;
  i0.answered = 2;
  i0.answered_within_target = 1;
  i0.abandoned = 2;
  i0.short_abandoned = 1;
  i0.abandoned_within_target = 1;
  i0.timed_out = 1;
  i0.overflowed = 1;
  i0.transferred = 1;
  i0.answered_wait = S(15 + 35);
  i0.total_wait = S(15 + 35 + 3 + 40 + 60 + 100);
  i0.longest_wait = S(100);
  i0.wait_p90 = S(100);
  i0.max_waiting = 2;
  i0.handled = 2;
  i0.talk = S(150 + 120);
  i0.hold = S(30);
  i0.wrap_up = S(20 + 10);
  ExpectStats(q0.intervals[0].stats, i0, "Q0 I0");
  const ContactStats& s0 = q0.intervals[0].stats;
  EXPECT_EQ(s0.Finished(), 6);
  EXPECT_EQ(s0.Waiting(), 0);
  ExpectRatio(s0.ServiceLevel(), 1, 6 - 1);  // primary: short abandon C3 leaves the denominator
  ExpectRatio(s0.ServiceLevel(ServiceLevelVariant::kAllFinished), 1, 6);
  ExpectRatio(s0.ServiceLevel(ServiceLevelVariant::kAnsweredOnly), 1, 2);
  ExpectRatio(s0.ServiceLevel(ServiceLevelVariant::kAbandonsWithinTargetMet), 1 + 1, 6);
  ExpectRatio(s0.ServiceLevel(ServiceLevelVariant::kExcludeAbandonsWithinTarget), 1, 6 - 1);
  ExpectRatio(s0.AbandonRate(), 2 - 1, 6 - 1);
  ExpectRatio(s0.AbandonRate(/*exclude_short=*/false), 2, 6);
  ExpectRatio(s0.TransferRate(), 1, 2);
  ExpectDuration(s0.Asa(), S(25));
  ExpectDuration(s0.AverageWait(), Us(253'000'000 / 6));  // 42.166666 s, truncated
  ExpectDuration(s0.Aht(), S((270 + 30 + 30) / 2));       // 165 s
  ExpectDuration(s0.AverageTalk(), S(135));
  ExpectDuration(s0.AverageHold(), S(15));
  ExpectDuration(s0.AverageWrapUp(), S(15));

  // I1: C10 (wait 4, met) and C11 (still waiting). Waiting 1 at 1000, 0 at 1004, 1 from 1500.
  // C10's handling (76/20/30) ended in I1.
  ContactStats i1;
  i1.offered = 2;
  i1.answered = 1;
  i1.answered_within_target = 1;
  i1.answered_wait = S(4);
  i1.total_wait = S(4);
  i1.longest_wait = S(4);
  i1.wait_p90 = S(4);
  i1.max_waiting = 1;
  i1.handled = 1;
  i1.talk = S(76);
  i1.hold = S(20);
  i1.wrap_up = S(30);
  ExpectStats(q0.intervals[1].stats, i1, "Q0 I1");
  EXPECT_EQ(q0.intervals[1].stats.Waiting(), 1);
  ExpectRatio(q0.intervals[1].stats.ServiceLevel(), 1, 1);  // C11 has not finished waiting

  // I2 starts at 1800 with C11 still waiting: only the queue length carries over.
  ContactStats i2;
  i2.max_waiting = 1;
  ExpectStats(q0.intervals[2].stats, i2, "Q0 I2");

  // Total: sums; waits 3 4 15 35 40 60 100, p90 = 7th of 7.
  ContactStats total = i0;
  total.offered = 8;
  total.answered = 3;
  total.answered_within_target = 2;
  total.answered_wait = S(54);
  total.total_wait = S(257);
  total.handled = 3;
  total.talk = S(346);
  total.hold = S(50);
  total.wrap_up = S(60);
  ExpectStats(q0.total, total, "Q0 total");
  ExpectRatio(q0.total.ServiceLevel(), 2, 7 - 1);
  ExpectDuration(q0.total.Aht(), S((346 + 50 + 60) / 3));  // 152 s
}

TEST_F(ReferenceDayTest, QueueOneByInterval) {
  const SeriesStats& q1 = report_.queues[kQ1];
  // I0: C2 (transferred in, wait 65), C5 (overflowed in, wait 35; its time in Q0 does not
  // count here), C7 and C8 (wait 10 each). Target 30 s: C7 and C8 met. Waiting: 1 at 175, 2 at
  // 180, 1 at 215, 0 at 240, then at most 1. Handlings ended in I0: C2 by A0 (60) and C5 by
  // A2 (60, wrap 15); C8's ended at 950 and C7's at 1000, in I1.
  ContactStats i0;
  i0.offered = 4;
  i0.answered = 4;
  i0.answered_within_target = 2;
  i0.answered_wait = S(65 + 35 + 10 + 10);
  i0.total_wait = S(120);
  i0.longest_wait = S(65);
  i0.wait_p90 = S(65);  // 4th of 10 10 35 65
  i0.max_waiting = 2;
  i0.handled = 2;
  i0.talk = S(60 + 60);
  i0.wrap_up = S(15);
  ExpectStats(q1.intervals[0].stats, i0, "Q1 I0");
  ExpectRatio(q1.intervals[0].stats.ServiceLevel(), 2, 4);
  ExpectDuration(q1.intervals[0].stats.Asa(), S(30));
  ExpectDuration(q1.intervals[0].stats.Aht(), S((120 + 15) / 2.0));  // 67.5 s

  // I1: C9 abandoned after 10 s (not short; within the 30 s target). C7's and C8's handle
  // times (140 + 70 talk, 10 + 10 wrap-up).
  ContactStats i1;
  i1.offered = 1;
  i1.abandoned = 1;
  i1.abandoned_within_target = 1;
  i1.total_wait = S(10);
  i1.longest_wait = S(10);
  i1.wait_p90 = S(10);
  i1.max_waiting = 1;
  i1.handled = 2;
  i1.talk = S(140 + 70);
  i1.wrap_up = S(10 + 10);
  const ContactStats& s1 = q1.intervals[1].stats;
  ExpectStats(s1, i1, "Q1 I1");
  ExpectRatio(s1.ServiceLevel(), 0, 1);
  ExpectRatio(s1.ServiceLevel(ServiceLevelVariant::kAbandonsWithinTargetMet), 1, 1);
  EXPECT_FALSE(s1.ServiceLevel(ServiceLevelVariant::kExcludeAbandonsWithinTarget).has_value());
  EXPECT_FALSE(s1.ServiceLevel(ServiceLevelVariant::kAnsweredOnly).has_value());
  EXPECT_FALSE(s1.Asa().has_value());
  EXPECT_FALSE(s1.TransferRate().has_value());
  ExpectRatio(s1.AbandonRate(), 1, 1);

  ExpectStats(q1.intervals[2].stats, ContactStats{}, "Q1 I2");

  // Total: waits 10 10 10 35 65, p90 = 5th of 5.
  ContactStats total = i0;
  total.offered = 5;
  total.abandoned = 1;
  total.abandoned_within_target = 1;
  total.total_wait = S(130);
  total.handled = 4;
  total.talk = S(330);
  total.wrap_up = S(35);
  ExpectStats(q1.total, total, "Q1 total");
}

TEST_F(ReferenceDayTest, ChannelsCountEpisodes) {
  // Voice episodes: C1 15 (met), C2 first 35, C3 3 (short), C4 40, C5 95 (120 to 215 across the
  // overflow, ended in Q1: target 30, not met), C2 second 65 (after the transfer), C6 100 (timed
  // out), all from I0; C10 4 (met) and C11 (waiting) from I1. The overflow does not end C5's
  // episode, so voice waiting is 2 from 120 to 150 and from 175 to 215.
  const SeriesStats& voice = report_.channels[Index(kVoice)];
  ContactStats v0;
  v0.offered = 7;
  v0.answered = 4;
  v0.answered_within_target = 1;
  v0.abandoned = 2;
  v0.short_abandoned = 1;
  v0.abandoned_within_target = 1;
  v0.timed_out = 1;
  v0.transferred = 1;
  v0.answered_wait = S(15 + 35 + 95 + 65);
  v0.total_wait = S(210 + 3 + 40 + 100);
  v0.longest_wait = S(100);
  v0.wait_p90 = S(100);  // 7th of 3 15 35 40 65 95 100
  v0.max_waiting = 2;
  v0.handled = 4;  // C1, C2 at A2, C5, C2 at A0
  v0.talk = S(150 + 120 + 60 + 60);
  v0.hold = S(30);
  v0.wrap_up = S(20 + 10 + 15);
  ExpectStats(voice.intervals[0].stats, v0, "voice I0");
  ExpectDuration(voice.intervals[0].stats.Aht(), Us(465'000'000 / 4));  // 116.25 s

  ContactStats v1;
  v1.offered = 2;
  v1.answered = 1;
  v1.answered_within_target = 1;
  v1.answered_wait = S(4);
  v1.total_wait = S(4);
  v1.longest_wait = S(4);
  v1.wait_p90 = S(4);
  v1.max_waiting = 1;
  v1.handled = 1;
  v1.talk = S(76);
  v1.hold = S(20);
  v1.wrap_up = S(30);
  ExpectStats(voice.intervals[1].stats, v1, "voice I1");
  EXPECT_EQ(voice.intervals[2].stats.max_waiting, 1);

  // Chat: C7 and C8 (10 s each, met) in I0, C9 (abandoned at 10 s, within target) in I1.
  const SeriesStats& chat = report_.channels[Index(kChat)];
  ContactStats c_total;
  c_total.offered = 3;
  c_total.answered = 2;
  c_total.answered_within_target = 2;
  c_total.abandoned = 1;
  c_total.abandoned_within_target = 1;
  c_total.answered_wait = S(20);
  c_total.total_wait = S(30);
  c_total.longest_wait = S(10);
  c_total.wait_p90 = S(10);
  c_total.max_waiting = 1;
  c_total.handled = 2;
  c_total.talk = S(140 + 70);
  c_total.wrap_up = S(10 + 10);
  ExpectStats(chat.total, c_total, "chat total");
  ExpectRatio(chat.total.ServiceLevel(), 2, 3);

  for (Channel c :
       {Channel::kEmail, Channel::kSms, Channel::kSocial, Channel::kCallback, Channel::kTask}) {
    ExpectStats(report_.channels[Index(c)].total, ContactStats{}, std::string(ChannelName(c)));
  }
}

TEST_F(ReferenceDayTest, Overall) {
  // Voice + chat episodes. Twelve episodes, eleven finished: answered 7 (C1, C2 twice, C5, C7,
  // C8, C10), 4 within target (C1, C7, C8, C10), abandoned 3 (C3 short and within target, C4,
  // C9 within target), timed out 1 (C6). Waits 3 4 10 10 10 15 35 40 65 95 100: p90 is the
  // ceil(9.9) = 10th, 95 s.
  const ContactStats& o = report_.overall.total;
  ContactStats want;
  want.offered = 12;
  want.answered = 7;
  want.answered_within_target = 4;
  want.abandoned = 3;
  want.short_abandoned = 1;
  want.abandoned_within_target = 2;
  want.timed_out = 1;
  want.transferred = 1;
  want.answered_wait = S(15 + 35 + 95 + 65 + 10 + 10 + 4);
  want.total_wait = S(234 + 3 + 40 + 10 + 100);
  want.longest_wait = S(100);
  want.wait_p90 = S(95);
  want.max_waiting = 2;
  want.handled = 7;
  want.talk = S(150 + 120 + 60 + 60 + 140 + 70 + 76);
  want.hold = S(30 + 20);
  want.wrap_up = S(20 + 10 + 15 + 10 + 10 + 30);
  ExpectStats(o, want, "overall");
  EXPECT_EQ(o.Finished(), 11);
  EXPECT_EQ(o.Waiting(), 1);
  ExpectRatio(o.ServiceLevel(), 4, 11 - 1);
  ExpectRatio(o.ServiceLevel(ServiceLevelVariant::kAllFinished), 4, 11);
  ExpectRatio(o.ServiceLevel(ServiceLevelVariant::kAnsweredOnly), 4, 7);
  ExpectRatio(o.ServiceLevel(ServiceLevelVariant::kAbandonsWithinTargetMet), 4 + 2, 11);
  ExpectRatio(o.ServiceLevel(ServiceLevelVariant::kExcludeAbandonsWithinTarget), 4, 11 - 2);
  ExpectRatio(o.AbandonRate(), 3 - 1, 11 - 1);
  ExpectRatio(o.TransferRate(), 1, 7);
  ExpectDuration(o.Asa(), Us(234'000'000 / 7));                           // 33.428571 s
  ExpectDuration(o.AverageWait(), Us(387'000'000 / 11));                  // 35.181818 s
  ExpectDuration(o.Aht(), Us((676 + 50 + 95) * int64_t{1'000'000} / 7));  // 117.285714 s

  // Per interval: I0 has 9 episodes (7 voice, 2 chat), I1 three (C9, C10, C11).
  EXPECT_EQ(report_.overall.intervals[0].stats.offered, 9);
  EXPECT_EQ(report_.overall.intervals[0].stats.handled, 4);  // voice only: chats ended in I1
  EXPECT_EQ(report_.overall.intervals[0].stats.wait_p90.count(), S(100).count());  // 9th of 9
  EXPECT_EQ(report_.overall.intervals[1].stats.offered, 3);
  EXPECT_EQ(report_.overall.intervals[1].stats.handled, 3);                       // C7, C8 and C10
  EXPECT_EQ(report_.overall.intervals[1].stats.wait_p90.count(), S(10).count());  // 2nd of 4 10
  EXPECT_EQ(report_.overall.intervals[1].stats.max_waiting, 1);
}

TEST_F(ReferenceDayTest, Agents) {
  // A0: Available 0-1800 (logged in 1800). Busy 25-225 (C1), 240-300 (C2), 1004-1130 (C10):
  // 386. Offers: C1, C2, C8 (withdrawn), C10.
  const AgentStats& a0 = report_.agents[kA0];
  EXPECT_EQ(a0.presence, Presence::kAvailable);
  EXPECT_EQ(a0.active_contacts, 0);
  EXPECT_EQ(a0.offers, 4);
  EXPECT_EQ(a0.accepted, 3);
  EXPECT_EQ(a0.withdrawn, 1);
  EXPECT_EQ(a0.rejected, 0);
  EXPECT_EQ(a0.handled, 3);
  EXPECT_EQ(a0.talk.count(), S(150 + 60 + 76).count());
  EXPECT_EQ(a0.hold.count(), S(30 + 20).count());
  EXPECT_EQ(a0.wrap_up.count(), S(20 + 30).count());
  EXPECT_EQ(a0.logged_in.count(), S(1800).count());
  EXPECT_EQ(a0.busy.count(), S(386).count());
  EXPECT_EQ(a0.available_idle.count(), S(1800 - 386).count());
  EXPECT_EQ(a0.not_ready_idle.count(), 0);
  ExpectRatio(a0.Occupancy(), 386, 1800);
  ExpectRatio(a0.Utilisation(), 386, 1800);
  ExpectDuration(a0.Aht(), Us(386'000'000 / 3));

  // A1: two chats at once. Busy while at least one is in handling or wrap-up: 860-1010 = 150,
  // although the two handle times add up to 150 + 80 = 230. Available 0-1200 (idle 1050),
  // Not Ready 1200-1500 (300), Offline after: logged in 1500.
  const AgentStats& a1 = report_.agents[kA1];
  EXPECT_EQ(a1.presence, Presence::kOffline);
  EXPECT_EQ(a1.offers, 2);
  EXPECT_EQ(a1.accepted, 2);
  EXPECT_EQ(a1.handled, 2);
  EXPECT_EQ(a1.talk.count(), S(140 + 70).count());
  EXPECT_EQ(a1.wrap_up.count(), S(20).count());
  EXPECT_EQ(a1.busy.count(), S(150).count());
  EXPECT_EQ(a1.logged_in.count(), S(1500).count());
  EXPECT_EQ(a1.available_idle.count(), S(1050).count());
  EXPECT_EQ(a1.not_ready_idle.count(), S(300).count());
  ExpectRatio(a1.Occupancy(), 150, 150 + 1050);
  ExpectRatio(a1.Utilisation(), 150, 1500);

  // A2: rejected C2 once, missed C5 once; handled C2 (transferred) and C5. Busy 55-185 and
  // 215-290: 205. Not Ready 600-700; Offline from 1700: logged in 1700, available idle
  // 1700 - 205 - 100 = 1395.
  const AgentStats& a2 = report_.agents[kA2];
  EXPECT_EQ(a2.offers, 4);
  EXPECT_EQ(a2.accepted, 2);
  EXPECT_EQ(a2.rejected, 1);
  EXPECT_EQ(a2.offer_timeouts, 1);
  EXPECT_EQ(a2.transferred, 1);
  EXPECT_EQ(a2.handled, 2);
  EXPECT_EQ(a2.talk.count(), S(120 + 60).count());
  EXPECT_EQ(a2.wrap_up.count(), S(10 + 15).count());
  EXPECT_EQ(a2.busy.count(), S(205).count());
  EXPECT_EQ(a2.logged_in.count(), S(1700).count());
  EXPECT_EQ(a2.not_ready_idle.count(), S(100).count());
  EXPECT_EQ(a2.available_idle.count(), S(1395).count());
  ExpectRatio(a2.Occupancy(), 205, 205 + 1395);
  ExpectRatio(a2.Utilisation(), 205, 1700);
  ExpectRatio(a2.TransferRate(), 1, 2);
  ExpectDuration(a2.Aht(), Us(102'500'000));
}

TEST_F(ReferenceDayTest, LiveAtTheEnd) {
  LiveSnapshot live = calc_.Live(At(1800));
  ASSERT_EQ(live.queues.size(), 2u);
  EXPECT_EQ(live.queues[kQ0].waiting, 1);                            // C11
  EXPECT_EQ(live.queues[kQ0].longest_wait.count(), S(300).count());  // since 1500
  EXPECT_EQ(live.queues[kQ1].waiting, 0);
  EXPECT_EQ(live.queues[kQ1].longest_wait.count(), 0);
  EXPECT_EQ(live.waiting, 1);
  EXPECT_EQ(live.agents_by_presence[static_cast<int>(Presence::kAvailable)], 1);
  EXPECT_EQ(live.agents_by_presence[static_cast<int>(Presence::kOffline)], 2);
  EXPECT_EQ(live.agents_by_presence[static_cast<int>(Presence::kNotReady)], 0);
  EXPECT_EQ(live.agents_busy, 0);
}

// Without live_longest_wait (the simulator) the report is the same and Live() still counts
// the waiting contacts; only the longest wait, which needs every wait kept in order, is 0.
TEST_F(ReferenceDayTest, WithoutLiveLongestWaitTheReportIsTheSame) {
  KpiOptions o = ReferenceOptions();
  o.live_longest_wait = false;
  const KpiCalculator calc = Feed(ReferenceDay(), o);
  const KpiReport r = calc.Report(At(1800));
  ASSERT_EQ(r.queues.size(), report_.queues.size());
  for (size_t q = 0; q < r.queues.size(); ++q) {
    ExpectStats(r.queues[q].total, report_.queues[q].total, "queue " + std::to_string(q));
    ASSERT_EQ(r.queues[q].intervals.size(), report_.queues[q].intervals.size());
    for (size_t i = 0; i < r.queues[q].intervals.size(); ++i) {
      ExpectStats(r.queues[q].intervals[i].stats, report_.queues[q].intervals[i].stats,
                  "queue " + std::to_string(q) + " interval " + std::to_string(i));
    }
  }
  ExpectStats(r.overall.total, report_.overall.total, "overall");
  const LiveSnapshot live = calc.Live(At(1800));
  EXPECT_EQ(live.queues[kQ0].waiting, 1);
  EXPECT_EQ(live.queues[kQ0].longest_wait.count(), 0);
  EXPECT_EQ(live.waiting, 1);
}

// QueueTotal is the report's queue total without the report: every counter, at any as_of, but
// the percentile and the most waiting, which it leaves 0.
TEST_F(ReferenceDayTest, QueueTotalIsTheReportsTotalWithoutPercentileAndLevel) {
  const KpiReport later = calc_.Report(At(86'000));
  for (QueueIndex q = 0; q < 2; ++q) {
    for (const KpiReport* r : {&std::as_const(report_), &later}) {
      ContactStats want = r->queues[q].total;
      want.wait_p90 = Duration{0};
      want.max_waiting = 0;
      ExpectStats(calc_.QueueTotal(q), want, "queue " + std::to_string(q));
    }
  }
  ExpectStats(calc_.QueueTotal(7), ContactStats{}, "a queue with no events");
}

TEST(LiveTest, MidDayAfterAnOverflowAndATransfer) {
  // Up to 200 s: C4 and C5 have left Q0; C2 (since 175) and C5 (since 180) wait in Q1. A0 is
  // busy talking to C1 (until 205); A2's wrap-up of C2 ended at 185 and C5 is only ringing at
  // A2 (offered at 190), which does not make A2 busy.
  KpiCalculator calc(ReferenceOptions());
  for (const Event& e : ReferenceDay()) {
    if (e.time <= At(200)) calc.Add(e);
  }
  LiveSnapshot live = calc.Live(At(200));
  EXPECT_EQ(live.queues[kQ0].waiting, 0);
  EXPECT_EQ(live.queues[kQ0].longest_wait.count(), 0);
  EXPECT_EQ(live.queues[kQ1].waiting, 2);
  EXPECT_EQ(live.queues[kQ1].longest_wait.count(), S(25).count());
  EXPECT_EQ(live.waiting, 2);
  EXPECT_EQ(live.agents_by_presence[static_cast<int>(Presence::kAvailable)], 3);
  EXPECT_EQ(live.agents_busy, 1);  // A0, on C1
}

TEST(KpiCalculatorTest, NoEvents) {
  KpiCalculator calc(KpiOptions{});
  KpiReport r = calc.Report(At(0));
  EXPECT_EQ(r.events, 0);
  EXPECT_TRUE(r.queues.empty());
  EXPECT_TRUE(r.agents.empty());
  EXPECT_TRUE(r.overall.intervals.empty());
  ExpectStats(r.overall.total, ContactStats{}, "overall");
  EXPECT_FALSE(r.overall.total.ServiceLevel().has_value());
  EXPECT_FALSE(r.overall.total.Asa().has_value());
  EXPECT_FALSE(r.overall.total.AverageWait().has_value());
  EXPECT_FALSE(r.overall.total.Aht().has_value());
  EXPECT_FALSE(r.overall.total.AbandonRate().has_value());
  LiveSnapshot live = calc.Live(At(0));
  EXPECT_TRUE(live.queues.empty());
  EXPECT_EQ(live.waiting, 0);
}

TEST(KpiCalculatorTest, ContactStillWaitingCarriesQueueLengthForward) {
  Log log;
  log.Queued(100, 1, kQ0, kVoice);
  log.Queued(200, 2, kQ0, kVoice);
  log.Add(EventType::kContactAbandoned, 250, 2, kNone, kQ0, kVoice);
  KpiCalculator calc = Feed(log.Sorted());
  KpiReport r = calc.Report(At(2 * 900 + 1));  // the third interval
  const SeriesStats& q0 = r.queues[kQ0];
  ASSERT_EQ(q0.intervals.size(), 3u);
  EXPECT_EQ(q0.intervals[0].stats.offered, 2);
  EXPECT_EQ(q0.intervals[0].stats.Waiting(), 1);
  EXPECT_EQ(q0.intervals[0].stats.max_waiting, 2);
  EXPECT_EQ(q0.intervals[1].stats.max_waiting, 1);
  EXPECT_EQ(q0.intervals[2].stats.max_waiting, 1);
  EXPECT_EQ(q0.intervals[1].stats.offered, 0);
  // C1 has not finished waiting: it is in no wait statistic and no service-level denominator.
  EXPECT_EQ(q0.total.Finished(), 1);
  EXPECT_EQ(q0.total.longest_wait.count(), S(50).count());
  ExpectRatio(q0.total.ServiceLevel(ServiceLevelVariant::kAllFinished), 0, 1);
  ExpectRatio(q0.total.ServiceLevel(), 0, 1);  // C2's 50 s abandon is not short
  LiveSnapshot live = calc.Live(At(1000));
  EXPECT_EQ(live.queues[kQ0].waiting, 1);
  EXPECT_EQ(live.queues[kQ0].longest_wait.count(), S(900).count());
}

TEST(KpiCalculatorTest, IntervalBoundaries) {
  KpiOptions o;
  o.interval = S(600);
  o.origin = At(300);  // intervals [300, 900), [900, 1500), ... and [-300, 300) before
  KpiCalculator calc(o);
  EXPECT_EQ(calc.IntervalIndex(At(300)), calc.IntervalIndex(At(899.999999)));
  EXPECT_EQ(calc.IntervalIndex(At(900)), calc.IntervalIndex(At(300)) + 1);
  EXPECT_EQ(calc.IntervalIndex(At(299.999999)), calc.IntervalIndex(At(300)) - 1);
  EXPECT_EQ(calc.IntervalIndex(o.origin), 0);
  EXPECT_EQ(calc.IntervalIndex(o.origin - Duration(1)), -1);  // floor, not truncation
  EXPECT_EQ(calc.IntervalStart(calc.IntervalIndex(At(1000))), At(900));

  // A wait that starts one microsecond before a boundary belongs to the interval before it; the
  // handling that ends exactly on the next boundary belongs to the interval after.
  Log log;
  log.Queued(899.999999, 1, kQ0, kVoice);
  log.Answer(900, 910, 1, kA0, kQ0, kVoice);
  log.Finish(1500, 1500, 1, kA0, kQ0, kVoice);
  log.Closed(1500, 1, kQ0, kVoice);
  for (const Event& e : log.Sorted()) calc.Add(e);
  KpiReport r = calc.Report(At(1500));
  const SeriesStats& q0 = r.queues[kQ0];
  ASSERT_EQ(q0.intervals.size(), 3u);
  EXPECT_EQ(q0.intervals[0].start, At(300));
  EXPECT_EQ(q0.intervals[0].stats.offered, 1);
  EXPECT_EQ(q0.intervals[0].stats.answered, 1);
  EXPECT_EQ(q0.intervals[0].stats.answered_wait.count(), 10'000'001);
  EXPECT_EQ(q0.intervals[0].stats.answered_within_target, 1);
  EXPECT_EQ(q0.intervals[1].stats.max_waiting, 1);  // waiting at 900, answered at 910
  EXPECT_EQ(q0.intervals[1].stats.handled, 0);
  EXPECT_EQ(q0.intervals[2].stats.handled, 1);
  EXPECT_EQ(q0.intervals[2].stats.talk.count(), S(590).count());
}

TEST(KpiCalculatorTest, TargetIsInclusiveAndShortAbandonIsInclusive) {
  Log log;
  log.Queued(0, 1, kQ0, kVoice);
  log.Answer(0, 20, 1, kA0, kQ0, kVoice);  // exactly the target: met
  log.Queued(0, 2, kQ0, kVoice);
  log.Add(EventType::kContactAbandoned, 5, 2, kNone, kQ0, kVoice);  // exactly 5 s: short
  log.Queued(0, 3, kQ0, kVoice);
  log.Add(EventType::kContactAbandoned, 20.000001, 3, kNone, kQ0, kVoice);  // just over
  KpiCalculator calc = Feed(log.Sorted());
  const KpiReport r = calc.Report(At(30));
  const ContactStats& s = r.queues[kQ0].total;
  EXPECT_EQ(s.answered_within_target, 1);
  EXPECT_EQ(s.short_abandoned, 1);
  EXPECT_EQ(s.abandoned_within_target, 1);
  ExpectRatio(s.ServiceLevel(), 1, 3 - 1);
}

TEST(KpiCalculatorTest, OverflowKeepsTheEpisodeWaitingBetweenQueues) {
  Log log;
  log.Queued(0, 1, kQ0, kVoice);
  log.Add(EventType::kContactOverflowed, 30, 1, kNone, kQ0, kVoice, kQ1);
  log.Queued(30, 1, kQ1, kVoice);
  log.Add(EventType::kContactAbandoned, 50, 1, kNone, kQ1, kVoice);
  KpiCalculator calc = Feed(log.Sorted());
  KpiReport r = calc.Report(At(60));
  EXPECT_EQ(r.queues[kQ0].total.overflowed, 1);
  EXPECT_EQ(r.queues[kQ0].total.total_wait.count(), S(30).count());
  EXPECT_EQ(r.queues[kQ1].total.abandoned, 1);
  EXPECT_EQ(r.queues[kQ1].total.total_wait.count(), S(20).count());
  EXPECT_EQ(r.overall.total.offered, 1);
  EXPECT_EQ(r.overall.total.abandoned, 1);
  EXPECT_EQ(r.overall.total.overflowed, 0);
  EXPECT_EQ(r.overall.total.total_wait.count(), S(50).count());
  EXPECT_EQ(r.overall.total.max_waiting, 1);
}

TEST(KpiCalculatorTest, CloseEndsOpenWorkAndCountsAStillWaitingContactAsRemoved) {
  Log log;
  log.Presence(0, kA0, Presence::kAvailable);
  log.Queued(0, 1, kQ0, kVoice);
  log.Answer(0, 10, 1, kA0, kQ0, kVoice);
  log.Add(EventType::kHoldStarted, 20, 1, kA0, kNone, kVoice);
  log.Closed(50, 1, kQ0, kVoice);  // talk and hold end with the contact
  log.Queued(60, 2, kQ0, kVoice);
  log.Closed(70, 2, kQ0, kVoice);
  KpiCalculator calc = Feed(log.Sorted());
  KpiReport r = calc.Report(At(100));
  const ContactStats& s = r.queues[kQ0].total;
  EXPECT_EQ(s.handled, 1);
  EXPECT_EQ(s.talk.count(), S(10).count());
  EXPECT_EQ(s.hold.count(), S(30).count());
  EXPECT_EQ(s.removed, 1);
  EXPECT_EQ(s.Waiting(), 0);
  EXPECT_EQ(r.agents[kA0].busy.count(), S(40).count());
  EXPECT_EQ(r.agents[kA0].active_contacts, 0);
  EXPECT_EQ(calc.Live(At(100)).waiting, 0);
}

TEST(KpiCalculatorTest, SameAgentTakesATransferredContactBackDuringWrapUp) {
  Log log;
  log.Presence(0, kA0, Presence::kAvailable);
  log.Queued(0, 1, kQ0, kVoice);
  log.Answer(0, 10, 1, kA0, kQ0, kVoice);
  log.Add(EventType::kContactTransferred, 40, 1, kA0, kQ1, kVoice);
  log.Add(EventType::kHandlingEnded, 40, 1, kA0, kQ0, kVoice);
  log.Add(EventType::kWrapUpStarted, 40, 1, kA0, kQ0, kVoice);
  log.Queued(40, 1, kQ1, kVoice);
  log.Answer(45, 50, 1, kA0, kQ1, kVoice);  // wrap-up 40-50 ends with the new acceptance
  log.Finish(80, 80, 1, kA0, kQ1, kVoice);
  log.Closed(80, 1, kQ1, kVoice);
  KpiCalculator calc = Feed(log.Sorted());
  KpiReport r = calc.Report(At(100));
  EXPECT_EQ(r.ignored_events, 0);
  const AgentStats& a0 = r.agents[kA0];
  EXPECT_EQ(a0.handled, 2);
  EXPECT_EQ(a0.talk.count(), S(30 + 30).count());
  EXPECT_EQ(a0.wrap_up.count(), S(10).count());
  EXPECT_EQ(a0.busy.count(), S(70).count());  // 10-80, with no double count
  EXPECT_EQ(a0.active_contacts, 0);
  EXPECT_EQ(r.queues[kQ0].total.transferred, 1);
  EXPECT_EQ(r.overall.total.offered, 2);
  EXPECT_EQ(r.overall.total.answered, 2);
}

TEST(KpiCalculatorTest, InconsistentEventsAreCountedNotApplied) {
  Log log;
  log.Add(EventType::kContactAbandoned, 0, 9, kNone, kQ0, kVoice);  // never queued
  log.Add(EventType::kHandlingEnded, 1, 9, kA0, kQ0, kVoice);       // never started
  log.Add(EventType::kContactQueued, 2, 1, kNone, kNone, kVoice);   // no queue
  log.Presence(3, kA0, static_cast<Presence>(7));                   // no such presence
  KpiCalculator calc = Feed(log.Sorted());
  Event late;
  late.type = EventType::kContactQueued;
  late.time = At(1);
  late.contact = ContactId(2);
  late.queue = kQ0;
  calc.Add(late);  // earlier than the event before it: taken at 3 s
  KpiReport r = calc.Report(At(10));
  EXPECT_EQ(r.events, 5);
  EXPECT_EQ(r.ignored_events, 4);
  EXPECT_EQ(r.out_of_order_events, 1);
  EXPECT_EQ(calc.Live(At(10)).queues[kQ0].longest_wait.count(), S(7).count());
}

TEST(KpiOptionsTest, Validation) {
  EXPECT_TRUE(ValidateKpiOptions(KpiOptions{}).ok());
  KpiOptions o;
  o.interval = Duration(0);
  EXPECT_EQ(ValidateKpiOptions(o).code(), StatusCode::kInvalidArgument);
  o = KpiOptions{};
  o.short_abandon = S(-1);
  EXPECT_EQ(ValidateKpiOptions(o).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley
