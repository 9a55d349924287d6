// Tests of the exports (contact facts and their CSV, queue_log, interval reports) on one small
// event log worked out by hand. Every column and line is compared.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "analytics/contact_export.h"
#include "analytics/export_format.h"
#include "analytics/interval_report.h"
#include "analytics/queue_log.h"

namespace parley {
namespace {

// 1'700'000'100 s = 2023-11-14T22:15:00Z, a boundary of the 15-minute grid.
constexpr int64_t kT0 = 1'700'000'100;
TimePoint At(double s) { return FromMicros(kT0 * 1'000'000 + std::llround(s * 1e6)); }

constexpr QueueIndex kSales = 0;
constexpr QueueIndex kSupport = 1;
constexpr AgentIndex kAlice = 0;
constexpr AgentIndex kBob = 1;

class Log {
 public:
  Log& Add(EventType type, double t, uint64_t contact, AgentIndex agent, QueueIndex queue,
           Channel channel = Channel::kVoice, int64_t value = 0, std::string text = {}) {
    Event e;
    e.type = type;
    e.time = At(t);
    e.contact = ContactId(contact);
    e.agent = agent;
    e.queue = queue;
    e.channel = channel;
    e.value = value;
    e.text = std::move(text);
    events.push_back(std::move(e));
    return *this;
  }
  void Presence(double t, AgentIndex a, parley::Presence p, std::string reason = {}) {
    Add(EventType::kPresenceChanged, t, 0, a, kNone, Channel::kVoice, static_cast<int>(p),
        std::move(reason));
  }
  std::vector<Event> events;
};

// The reference log (times in seconds after 22:15:00Z):
//  c1 sales: queued 10, offered alice 12, answered 15.2505, hold 20-25, talk ends 75 (agent hung
//     up), wrap-up 75-85, closed 85.
//  c2 sales: queued 20, offered bob 21, offer times out 31, abandons 33 (wait 13).
//  c3 sales (chat): queued 22, abandons 25 (wait 3: short).
//  c4 sales: queued 40, overflows to support 50, offered bob 52, answered 54, transferred by bob
//     to sales 80 (bob wraps up 80-90), queued in sales 80, offered alice 95, answered 100, talk
//     ends 130 (caller hung up), closed 130.
//  presence: alice and bob Available at 0; bob Not Ready "lunch" 200, Available 300; alice
//     Offline 400.
//  c5, c6 support (next interval): queued 1000; c6 removed 1010; c5 still waiting.
std::vector<Event> ReferenceLog() {
  using enum EventType;
  Log log;
  log.Presence(0, kAlice, Presence::kAvailable);
  log.Presence(0, kBob, Presence::kAvailable);
  log.Add(kContactQueued, 10, 1, kNone, kSales);
  log.Add(kContactOffered, 12, 1, kAlice, kSales);
  log.Add(kOfferAccepted, 15.2505, 1, kAlice, kSales);
  log.Add(kHandlingStarted, 15.2505, 1, kAlice, kSales);
  log.Add(kHoldStarted, 20, 1, kAlice, kNone);
  log.Add(kContactQueued, 20, 2, kNone, kSales);
  log.Add(kContactOffered, 21, 2, kBob, kSales);
  log.Add(kContactQueued, 22, 3, kNone, kSales, Channel::kChat);
  log.Add(kHoldEnded, 25, 1, kAlice, kNone);
  log.Add(kContactAbandoned, 25, 3, kNone, kSales, Channel::kChat);
  log.Add(kContactClosed, 25, 3, kNone, kSales, Channel::kChat);
  log.Add(kOfferTimedOut, 31, 2, kBob, kSales);
  log.Add(kContactAbandoned, 33, 2, kNone, kSales);
  log.Add(kContactClosed, 33, 2, kNone, kSales);
  log.Add(kContactQueued, 40, 4, kNone, kSales);
  log.Add(kContactOverflowed, 50, 4, kNone, kSales, Channel::kVoice, kSupport);
  log.Add(kContactQueued, 50, 4, kNone, kSupport);
  log.Add(kContactOffered, 52, 4, kBob, kSupport);
  log.Add(kOfferAccepted, 54, 4, kBob, kSupport);
  log.Add(kHandlingStarted, 54, 4, kBob, kSupport);
  log.Add(kHandlingEnded, 75, 1, kAlice, kSales, Channel::kVoice, 0, "agent");
  log.Add(kWrapUpStarted, 75, 1, kAlice, kSales);
  log.Add(kContactTransferred, 80, 4, kBob, kSales);
  log.Add(kHandlingEnded, 80, 4, kBob, kSupport);
  log.Add(kWrapUpStarted, 80, 4, kBob, kSupport);
  log.Add(kContactQueued, 80, 4, kNone, kSales);
  log.Add(kWrapUpEnded, 85, 1, kAlice, kSales);
  log.Add(kContactClosed, 85, 1, kNone, kSales);
  log.Add(kWrapUpEnded, 90, 4, kBob, kSupport);
  log.Add(kContactOffered, 95, 4, kAlice, kSales);
  log.Add(kOfferAccepted, 100, 4, kAlice, kSales);
  log.Add(kHandlingStarted, 100, 4, kAlice, kSales);
  log.Add(kHandlingEnded, 130, 4, kAlice, kSales);
  log.Add(kContactClosed, 130, 4, kNone, kSales);
  log.Presence(200, kBob, Presence::kNotReady, "lunch");
  log.Presence(300, kBob, Presence::kAvailable);
  log.Presence(400, kAlice, Presence::kOffline);
  log.Add(kContactQueued, 1000, 5, kNone, kSupport);
  log.Add(kContactQueued, 1000, 6, kNone, kSupport);
  log.Add(kContactRemoved, 1010, 6, kNone, kSupport);
  log.Add(kContactClosed, 1010, 6, kNone, kSupport);
  return log.events;
}

ExportNames Names() {
  return ExportNames{.agents = {"alice", "bob"}, .queues = {"sales", "support, tier 2"}};
}

TEST(ExportFormat, TimesAndDurations) {
  EXPECT_EQ(FormatIsoUtcMillis(At(0)), "2023-11-14T22:15:00.000Z");
  EXPECT_EQ(FormatIsoUtcMillis(At(15.2505)), "2023-11-14T22:15:15.250Z");
  EXPECT_EQ(FormatIsoUtcMillis(FromMicros(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatSecondsMillis(Duration(54'749'500)), "54.749");
  EXPECT_EQ(FormatSecondsMillis(Duration(0)), "0.000");
  EXPECT_EQ(FormatSecondsMillis(Duration(-1'500'000)), "-1.500");
}

TEST(ExportFormat, CsvQuotesOnlyWhereRfc4180Needs) {
  std::string out;
  AppendCsvRow(out, {"plain", "a,b", "say \"hi\"", "two\nlines", " padded", ""});
  EXPECT_EQ(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",\r\n");
}

TEST(ContactExport, OneFactPerSegmentWithEveryDuration) {
  const auto facts = ContactFacts(ReferenceLog());
  ASSERT_EQ(facts.size(), 8u);
  using enum SegmentOutcome;

  ContactFact c1{.contact = ContactId(1),
                 .segment = 1,
                 .queue = kSales,
                 .agent = kAlice,
                 .outcome = kAnswered,
                 .offers = 1,
                 .queued_at = At(10),
                 .offered_at = At(12),
                 .answered_at = At(15.2505),
                 .talk_ended_at = At(75),
                 .ended_at = At(85),
                 .wait = Seconds(5.2505),
                 .ring = Seconds(3.2505),
                 .talk = Seconds(54.7495),
                 .hold = Seconds(5),
                 .wrap_up = Seconds(10)};
  EXPECT_EQ(facts[0], c1);
  EXPECT_EQ(facts[0].Handle(), Seconds(69.7495));

  ContactFact c2{.contact = ContactId(2),
                 .queue = kSales,
                 .outcome = kAbandoned,
                 .offers = 1,
                 .queued_at = At(20),
                 .offered_at = At(21),
                 .ended_at = At(33),
                 .wait = Seconds(13)};
  EXPECT_EQ(facts[1], c2);

  ContactFact c3{.contact = ContactId(3),
                 .channel = Channel::kChat,
                 .queue = kSales,
                 .outcome = kShortAbandoned,
                 .queued_at = At(22),
                 .ended_at = At(25),
                 .wait = Seconds(3)};
  EXPECT_EQ(facts[2], c3);

  ContactFact c4a{.contact = ContactId(4),
                  .queue = kSales,
                  .outcome = kOverflowed,
                  .queued_at = At(40),
                  .ended_at = At(50),
                  .wait = Seconds(10)};
  EXPECT_EQ(facts[3], c4a);

  ContactFact c4b{.contact = ContactId(4),
                  .segment = 2,
                  .queue = kSupport,
                  .agent = kBob,
                  .outcome = kTransferred,
                  .transferred_to = kSales,
                  .offers = 1,
                  .queued_at = At(50),
                  .offered_at = At(52),
                  .answered_at = At(54),
                  .talk_ended_at = At(80),
                  .ended_at = At(90),
                  .wait = Seconds(4),
                  .ring = Seconds(2),
                  .talk = Seconds(26),
                  .wrap_up = Seconds(10)};
  EXPECT_EQ(facts[4], c4b);

  ContactFact c4c{.contact = ContactId(4),
                  .segment = 3,
                  .queue = kSales,
                  .agent = kAlice,
                  .outcome = kAnswered,
                  .offers = 1,
                  .queued_at = At(80),
                  .offered_at = At(95),
                  .answered_at = At(100),
                  .talk_ended_at = At(130),
                  .ended_at = At(130),
                  .wait = Seconds(20),
                  .ring = Seconds(5),
                  .talk = Seconds(30)};
  EXPECT_EQ(facts[5], c4c);

  ContactFact c5{
      .contact = ContactId(5), .queue = kSupport, .outcome = kWaiting, .queued_at = At(1000)};
  EXPECT_EQ(facts[6], c5);

  ContactFact c6{.contact = ContactId(6),
                 .queue = kSupport,
                 .outcome = kRemoved,
                 .queued_at = At(1000),
                 .ended_at = At(1010),
                 .wait = Seconds(10)};
  EXPECT_EQ(facts[7], c6);
}

TEST(ContactExport, AbandonWhileRingingCountsTheRing) {
  Log log;
  log.Add(EventType::kContactQueued, 0, 9, kNone, kSales);
  log.Add(EventType::kContactOffered, 4, 9, kAlice, kSales);
  log.Add(EventType::kContactAbandoned, 5, 9, kNone, kSales);
  const auto facts = ContactFacts(log.events);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].outcome, SegmentOutcome::kShortAbandoned);  // 5 s is inclusive
  EXPECT_EQ(facts[0].ring, Seconds(1));
  EXPECT_EQ(facts[0].wait, Seconds(5));
}

TEST(ContactExport, CsvHasHeaderAndEveryColumn) {
  const std::string csv = WriteContactCsv(ContactFacts(ReferenceLog()), Names());
  const std::string expected =
      "contact_id,segment,channel,queue,agent,outcome,transferred_to,offers,queued_at,offered_at,"
      "answered_at,talk_ended_at,ended_at,wait,ring,talk,hold,wrap_up,handle\r\n"
      "1,1,voice,sales,alice,answered,,1,2023-11-14T22:15:10.000Z,2023-11-14T22:15:12.000Z,"
      "2023-11-14T22:15:15.250Z,2023-11-14T22:16:15.000Z,2023-11-14T22:16:25.000Z,5.250,3.250,"
      "54.749,5.000,10.000,69.749\r\n"
      "2,1,voice,sales,,abandoned,,1,2023-11-14T22:15:20.000Z,2023-11-14T22:15:21.000Z,,,"
      "2023-11-14T22:15:33.000Z,13.000,0.000,0.000,0.000,0.000,0.000\r\n"
      "3,1,chat,sales,,short_abandoned,,0,2023-11-14T22:15:22.000Z,,,,"
      "2023-11-14T22:15:25.000Z,3.000,0.000,0.000,0.000,0.000,0.000\r\n"
      "4,1,voice,sales,,overflowed,,0,2023-11-14T22:15:40.000Z,,,,2023-11-14T22:15:50.000Z,"
      "10.000,0.000,0.000,0.000,0.000,0.000\r\n"
      "4,2,voice,\"support, tier 2\",bob,transferred,sales,1,2023-11-14T22:15:50.000Z,"
      "2023-11-14T22:15:52.000Z,2023-11-14T22:15:54.000Z,2023-11-14T22:16:20.000Z,"
      "2023-11-14T22:16:30.000Z,4.000,2.000,26.000,0.000,10.000,36.000\r\n"
      "4,3,voice,sales,alice,answered,,1,2023-11-14T22:16:20.000Z,2023-11-14T22:16:35.000Z,"
      "2023-11-14T22:16:40.000Z,2023-11-14T22:17:10.000Z,2023-11-14T22:17:10.000Z,20.000,"
      "5.000,30.000,0.000,0.000,30.000\r\n"
      "5,1,voice,\"support, tier 2\",,waiting,,0,2023-11-14T22:31:40.000Z,,,,,0.000,0.000,"
      "0.000,0.000,0.000,0.000\r\n"
      "6,1,voice,\"support, tier 2\",,removed,,0,2023-11-14T22:31:40.000Z,,,,"
      "2023-11-14T22:31:50.000Z,10.000,0.000,0.000,0.000,0.000,0.000\r\n";
  EXPECT_EQ(csv, expected);
}

TEST(ContactExport, UnnamedIndicesAreWrittenAsNumbers) {
  const std::string csv = WriteContactCsv(ContactFacts(ReferenceLog()), ExportNames{});
  EXPECT_NE(csv.find("\r\n1,1,voice,0,0,answered,,1,"), std::string::npos) << csv;
}

TEST(QueueLog, AsteriskLinesForEveryEvent) {
  const std::string log = WriteQueueLog(QueueLogLines(ReferenceLog(), Names()));
  const std::string expected =
      "1700000100|NONE|NONE|alice|ADDMEMBER|\n"
      "1700000100|NONE|NONE|bob|ADDMEMBER|\n"
      "1700000110|1|sales|NONE|ENTERQUEUE||\n"
      "1700000115|1|sales|alice|CONNECT|5||3\n"
      "1700000120|2|sales|NONE|ENTERQUEUE||\n"
      "1700000122|3|sales|NONE|ENTERQUEUE||\n"
      "1700000125|3|sales|NONE|ABANDON|2|2|3\n"
      "1700000131|2|sales|bob|RINGNOANSWER|10000\n"
      "1700000133|2|sales|NONE|ABANDON|1|1|13\n"
      "1700000140|4|sales|NONE|ENTERQUEUE||\n"
      "1700000150|4|sales|NONE|EXITWITHTIMEOUT|1|1|10\n"
      "1700000150|4|support, tier 2|NONE|ENTERQUEUE||\n"
      "1700000154|4|support, tier 2|bob|CONNECT|4||2\n"
      "1700000175|1|sales|alice|COMPLETEAGENT|5|59|1\n"
      "1700000180|4|support, tier 2|bob|BLINDTRANSFER|sales|queue|4|26|1\n"
      "1700000180|4|sales|NONE|ENTERQUEUE||\n"
      "1700000200|4|sales|alice|CONNECT|20||5\n"
      "1700000230|4|sales|alice|COMPLETECALLER|20|30|1\n"
      "1700000300|NONE|NONE|bob|PAUSE|lunch\n"
      "1700000400|NONE|NONE|bob|UNPAUSE|\n"
      "1700000500|NONE|NONE|alice|REMOVEMEMBER|\n"
      "1700001100|5|support, tier 2|NONE|ENTERQUEUE||\n"
      "1700001100|6|support, tier 2|NONE|ENTERQUEUE||\n"
      "1700001110|6|support, tier 2|NONE|EXITEMPTY|2|2|10\n";
  EXPECT_EQ(log, expected);
}

TEST(QueueLog, MemberLinesPerQueueWhenMembershipIsKnown) {
  Log log;
  log.Presence(0, kAlice, Presence::kNotReady, "training");
  log.Presence(60, kAlice, Presence::kAvailable);
  log.Presence(120, kBob, Presence::kAvailable);  // no queues known: one NONE line
  ExportNames names = Names();
  names.agent_queues = {{kSales, kSupport}};
  EXPECT_EQ(WriteQueueLog(QueueLogLines(log.events, names)),
            "1700000100|NONE|sales|alice|ADDMEMBER|\n"
            "1700000100|NONE|support, tier 2|alice|ADDMEMBER|\n"
            "1700000100|NONE|sales|alice|PAUSE|training\n"
            "1700000100|NONE|support, tier 2|alice|PAUSE|training\n"
            "1700000160|NONE|sales|alice|UNPAUSE|\n"
            "1700000160|NONE|support, tier 2|alice|UNPAUSE|\n"
            "1700000220|NONE|NONE|bob|ADDMEMBER|\n");
}

TEST(ExportFormat, NamesAndMembershipFromTheRoutingConfig) {
  RoutingConfig routing;
  routing.agents.resize(2);
  routing.agents[0].name = "alice";
  routing.agents[0].queues = {{.queue = 1}};
  routing.agents[1].name = "bob";
  routing.queues.resize(2);
  routing.queues[0].name = "sales";
  routing.queues[0].members = {0, 1};
  routing.queues[1].name = "support";
  const ExportNames names = ExportNamesFrom(routing);
  EXPECT_EQ(names.agents, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(names.queues, (std::vector<std::string>{"sales", "support"}));
  EXPECT_EQ(names.agent_queues,
            (std::vector<std::vector<QueueIndex>>{{kSales, kSupport}, {kSales}}));
}

TEST(QueueLog, FieldsCannotBreakTheLine) {
  QueueLogLine line{.epoch = 1,
                    .callid = "7",
                    .queue = "a|b",
                    .agent = "x\ny",
                    .event = "PAUSE",
                    .data = {"r|e\rason"}};
  EXPECT_EQ(FormatQueueLogLine(line), "1|7|a_b|x_y|PAUSE|r_e_ason");
}

TEST(QueueLog, ClosingAnAnsweredCallCompletesIt) {
  Log log;
  log.Add(EventType::kContactQueued, 0, 9, kNone, kSales);
  log.Add(EventType::kContactOffered, 1, 9, kAlice, kSales);
  log.Add(EventType::kOfferAccepted, 2, 9, kAlice, kSales);
  log.Add(EventType::kHandlingStarted, 2, 9, kAlice, kSales);
  log.Add(EventType::kContactClosed, 12, 9, kNone, kSales);
  const auto lines = QueueLogLines(log.events, Names());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(FormatQueueLogLine(lines[2]), "1700000112|9|sales|alice|COMPLETECALLER|2|10|1");
}

TEST(IntervalReport, QueueKpisPerFifteenMinutes) {
  KpiOptions options;
  auto rows = QueueIntervalReport(ReferenceLog(), options, At(1020));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 4u);
  const ContactStats& sales = (*rows)[0].stats;
  EXPECT_EQ((*rows)[0].queue, kSales);
  EXPECT_EQ((*rows)[0].start, At(0));
  EXPECT_EQ((*rows)[0].end, At(900));
  EXPECT_EQ(sales.offered, 5);
  EXPECT_EQ(sales.answered, 2);
  EXPECT_EQ(sales.abandoned, 2);
  EXPECT_EQ(sales.short_abandoned, 1);
  EXPECT_EQ(sales.overflowed, 1);
  EXPECT_EQ(sales.ServiceLevel(), 0.5);
  EXPECT_EQ(sales.Aht(), Duration(49'874'750));
  EXPECT_EQ((*rows)[3].queue, kSupport);
  EXPECT_EQ((*rows)[3].start, At(900));

  const std::string csv = WriteIntervalCsv(*rows, Names());
  const std::string expected =
      "queue,interval_start,interval_end,offered,answered,answered_within_target,abandoned,"
      "short_abandoned,timed_out,overflowed,removed,transferred,waiting,service_level,"
      "abandon_rate,asa,average_wait,longest_wait,wait_p90,max_waiting,handled,talk,hold,"
      "wrap_up,aht\r\n"
      "sales,2023-11-14T22:15:00.000Z,2023-11-14T22:30:00.000Z,5,2,2,2,1,0,1,0,0,0,0.5000,"
      "0.2500,12.625,10.250,20.000,20.000,2,2,84.749,5.000,10.000,49.874\r\n"
      "sales,2023-11-14T22:30:00.000Z,2023-11-14T22:45:00.000Z,0,0,0,0,0,0,0,0,0,0,,,,,0.000,"
      "0.000,0,0,0.000,0.000,0.000,\r\n"
      "\"support, tier 2\",2023-11-14T22:15:00.000Z,2023-11-14T22:30:00.000Z,1,1,1,0,0,0,0,0,1,"
      "0,1.0000,0.0000,4.000,4.000,4.000,4.000,1,1,26.000,0.000,10.000,36.000\r\n"
      "\"support, tier 2\",2023-11-14T22:30:00.000Z,2023-11-14T22:45:00.000Z,2,0,0,0,0,0,0,1,0,"
      "1,0.0000,0.0000,,10.000,10.000,10.000,2,0,0.000,0.000,0.000,\r\n";
  EXPECT_EQ(csv, expected);
}

// The fact table and the KPIs are two views of the same events: per queue, the facts' counts and
// sums must equal KpiCalculator's totals.
TEST(ContactExport, FactsAgreeWithTheKpiCalculator) {
  const std::vector<Event> events = ReferenceLog();
  KpiCalculator kpi{KpiOptions{}};
  for (const Event& e : events) kpi.Add(e);
  const KpiReport report = kpi.Report(At(1020));
  const auto facts = ContactFacts(events);
  for (QueueIndex q : {kSales, kSupport}) {
    SCOPED_TRACE(q);
    ContactStats sum;
    for (const ContactFact& f : facts) {
      if (f.queue != q) continue;
      ++sum.offered;
      const bool answered =
          f.outcome == SegmentOutcome::kAnswered || f.outcome == SegmentOutcome::kTransferred;
      sum.answered += answered ? 1 : 0;
      sum.abandoned +=
          f.outcome == SegmentOutcome::kAbandoned || f.outcome == SegmentOutcome::kShortAbandoned
              ? 1
              : 0;
      sum.short_abandoned += f.outcome == SegmentOutcome::kShortAbandoned ? 1 : 0;
      sum.overflowed += f.outcome == SegmentOutcome::kOverflowed ? 1 : 0;
      sum.removed += f.outcome == SegmentOutcome::kRemoved ? 1 : 0;
      sum.transferred += f.outcome == SegmentOutcome::kTransferred ? 1 : 0;
      if (f.outcome != SegmentOutcome::kWaiting) sum.total_wait += f.wait;
      if (answered) sum.answered_wait += f.wait;
      sum.handled += f.talk_ended_at ? 1 : 0;
      sum.talk += f.talk;
      sum.hold += f.hold;
      sum.wrap_up += f.wrap_up;
    }
    const ContactStats& total = report.queues[q].total;
    EXPECT_EQ(sum.offered, total.offered);
    EXPECT_EQ(sum.answered, total.answered);
    EXPECT_EQ(sum.abandoned, total.abandoned);
    EXPECT_EQ(sum.short_abandoned, total.short_abandoned);
    EXPECT_EQ(sum.overflowed, total.overflowed);
    EXPECT_EQ(sum.removed, total.removed);
    EXPECT_EQ(sum.transferred, total.transferred);
    EXPECT_EQ(sum.total_wait, total.total_wait);
    EXPECT_EQ(sum.answered_wait, total.answered_wait);
    EXPECT_EQ(sum.handled, total.handled);
    EXPECT_EQ(sum.talk, total.talk);
    EXPECT_EQ(sum.hold, total.hold);
    EXPECT_EQ(sum.wrap_up, total.wrap_up);
  }
}

// An attended transfer (a consultation completed, docs/voice.md): alice answers c7 in support,
// holds it 10-30 while consulting bob, the transfer completes at 30 (the ACD's order:
// hold.ended, contact.transferred "attended", handling.ended alice, handling.started bob), bob
// talks until 90 and wraps up until 100; alice wraps up 30-40.
std::vector<Event> AttendedTransferLog() {
  using enum EventType;
  Log log;
  log.Add(kContactQueued, 0, 7, kNone, kSupport);
  log.Add(kContactOffered, 1, 7, kAlice, kSupport);
  log.Add(kOfferAccepted, 2, 7, kAlice, kSupport);
  log.Add(kHandlingStarted, 2, 7, kAlice, kSupport);
  log.Add(kHoldStarted, 10, 7, kAlice, kSupport);
  log.Add(kHoldEnded, 30, 7, kAlice, kSupport);
  log.Add(kContactTransferred, 30, 7, kAlice, kSupport, Channel::kVoice, 0, "attended");
  log.Add(kHandlingEnded, 30, 7, kAlice, kSupport);
  log.Add(kWrapUpStarted, 30, 7, kAlice, kSupport);
  log.Add(kHandlingStarted, 30, 7, kBob, kSupport);
  log.Add(kWrapUpEnded, 40, 7, kAlice, kSupport);
  log.Add(kHandlingEnded, 90, 7, kBob, kSupport, Channel::kVoice, 0, "agent");
  log.Add(kWrapUpStarted, 90, 7, kBob, kSupport);
  log.Add(kWrapUpEnded, 100, 7, kBob, kSupport);
  log.Add(kContactClosed, 100, 7, kNone, kSupport);
  return log.events;
}

// Issue 8: the agent who took an attended transfer had no CONNECT or COMPLETE line.
TEST(QueueLog, AttendedTransferConnectsTheAgentWhoTookTheCall) {
  const std::string log = WriteQueueLog(QueueLogLines(AttendedTransferLog(), Names()));
  EXPECT_EQ(log,
            "1700000100|7|support, tier 2|NONE|ENTERQUEUE||\n"
            "1700000102|7|support, tier 2|alice|CONNECT|2||1\n"
            "1700000130|7|support, tier 2|alice|ATTENDEDTRANSFER|AGENT||2|28|1\n"
            "1700000130|7|support, tier 2|bob|CONNECT|2||0\n"
            "1700000190|7|support, tier 2|bob|COMPLETEAGENT|2|60|1\n");
}

// Issue 8: the agent who took an attended transfer had no fact row, so its talk was lost; it gets
// a segment of its own, and the KPIs credit it the same talk.
TEST(ContactExport, AttendedTransferGivesTheAgentWhoTookTheCallItsOwnSegment) {
  const std::vector<Event> events = AttendedTransferLog();
  const auto facts = ContactFacts(events);
  ASSERT_EQ(facts.size(), 2u);
  EXPECT_EQ(facts[0].agent, kAlice);
  EXPECT_EQ(facts[0].outcome, SegmentOutcome::kTransferred);
  EXPECT_EQ(facts[0].transferred_to, kSupport);
  EXPECT_EQ(facts[0].wait, Seconds(2));
  EXPECT_EQ(facts[0].talk, Seconds(8));
  EXPECT_EQ(facts[0].hold, Seconds(20));
  EXPECT_EQ(facts[0].wrap_up, Seconds(10));
  EXPECT_EQ(facts[1].segment, 2);
  EXPECT_EQ(facts[1].queue, kSupport);
  EXPECT_EQ(facts[1].agent, kBob);
  EXPECT_EQ(facts[1].outcome, SegmentOutcome::kAnswered);
  EXPECT_EQ(facts[1].answered_at, At(30));
  EXPECT_EQ(facts[1].wait, Seconds(0));
  EXPECT_EQ(facts[1].offers, 0);
  EXPECT_EQ(facts[1].talk, Seconds(60));
  EXPECT_EQ(facts[1].wrap_up, Seconds(10));
  EXPECT_EQ(facts[1].talk_ended_at, At(90));
  EXPECT_EQ(facts[1].ended_at, At(100));

  KpiCalculator kpi{KpiOptions{}};
  for (const Event& e : events) kpi.Add(e);
  const KpiReport report = kpi.Report(At(200));
  EXPECT_EQ(report.agents[kBob].handled, 1);
  EXPECT_EQ(report.agents[kBob].talk, Seconds(60));
  EXPECT_EQ(report.agents[kBob].wrap_up, Seconds(10));
  EXPECT_EQ(report.agents[kAlice].transferred, 1);
  EXPECT_EQ(report.agents[kAlice].talk, Seconds(8));
  EXPECT_EQ(report.queues[kSupport].total.handled, 2);
  EXPECT_EQ(report.queues[kSupport].total.talk, facts[0].talk + facts[1].talk);
  EXPECT_EQ(report.queues[kSupport].total.offered, 1);  // one contact offered to the queue
}

// Issue 8: a blind transfer to one agent (alice releases c7 at 30, bob's phone answers at 40)
// and one to a number (c8, alice releases it at 20; it closes when the call ends at 80).
std::vector<Event> BlindTransferLog() {
  using enum EventType;
  Log log;
  log.Add(kContactQueued, 0, 7, kNone, kSupport);
  log.Add(kContactOffered, 1, 7, kAlice, kSupport);
  log.Add(kOfferAccepted, 2, 7, kAlice, kSupport);
  log.Add(kHandlingStarted, 2, 7, kAlice, kSupport);
  log.Add(kContactTransferred, 30, 7, kAlice, kSupport, Channel::kVoice, 0,
          TransferText("agent", "target", "bob"));
  log.Add(kHandlingEnded, 30, 7, kAlice, kSupport);
  log.Add(kHandlingStarted, 40, 7, kBob, kSupport);
  log.Add(kHandlingEnded, 90, 7, kBob, kSupport);
  log.Add(kContactClosed, 90, 7, kNone, kSupport);
  log.Add(kContactQueued, 0, 8, kNone, kSupport);
  log.Add(kContactOffered, 1, 8, kAlice, kSupport);
  log.Add(kOfferAccepted, 2, 8, kAlice, kSupport);
  log.Add(kHandlingStarted, 2, 8, kAlice, kSupport);
  log.Add(kContactTransferred, 20, 8, kAlice, kNone, Channel::kVoice, 0,
          TransferText("external", "number", "+15551234567"));
  log.Add(kHandlingEnded, 20, 8, kAlice, kSupport);
  log.Add(kContactClosed, 80, 8, kNone, kSupport);
  return log.events;
}

TEST(QueueLog, BlindTransferToAnAgentOrANumberNamesItsTarget) {
  auto lines = QueueLogLines(BlindTransferLog(), Names());
  std::erase_if(lines, [](const QueueLogLine& l) { return l.callid != "7"; });
  const std::string seven = WriteQueueLog(lines);
  EXPECT_EQ(seven,
            "1700000100|7|support, tier 2|NONE|ENTERQUEUE||\n"
            "1700000102|7|support, tier 2|alice|CONNECT|2||1\n"
            "1700000130|7|support, tier 2|alice|BLINDTRANSFER|bob|agent|2|28|1\n"
            "1700000140|7|support, tier 2|bob|CONNECT|2||0\n"
            "1700000190|7|support, tier 2|bob|COMPLETECALLER|2|50|1\n");
  const std::string all = WriteQueueLog(QueueLogLines(BlindTransferLog(), Names()));
  EXPECT_NE(all.find("|8|support, tier 2|alice|BLINDTRANSFER|+15551234567|external|2|18|"),
            std::string::npos);
  EXPECT_EQ(all.find("|8|support, tier 2|alice|COMPLETE"), std::string::npos);
}

TEST(ContactExport, BlindTransferToAnAgentGivesHimASegmentFromHisAnswer) {
  const auto facts = ContactFacts(BlindTransferLog());
  ASSERT_EQ(facts.size(), 3u);
  EXPECT_EQ(facts[0].outcome, SegmentOutcome::kTransferred);
  EXPECT_EQ(facts[0].transferred_to, kSupport);
  EXPECT_EQ(facts[1].agent, kBob);
  EXPECT_EQ(facts[1].answered_at, At(40));
  EXPECT_EQ(facts[1].talk, Seconds(50));
  EXPECT_EQ(facts[2].contact, ContactId(8));
  EXPECT_EQ(facts[2].outcome, SegmentOutcome::kTransferred);
  EXPECT_EQ(facts[2].transferred_to, kNone);
}

TEST(IntervalReport, HourlyIntervalsMergeTheQuarters) {
  KpiOptions options;
  options.interval = Seconds(3600);
  auto rows = QueueIntervalReport(ReferenceLog(), options, At(1020));
  ASSERT_TRUE(rows.ok());
  // 22:15 lies in the 22:00-23:00 hour: one row per queue.
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(FormatIsoUtcMillis((*rows)[0].start), "2023-11-14T22:00:00.000Z");
  EXPECT_EQ((*rows)[0].stats.offered, 5);
  EXPECT_EQ((*rows)[1].stats.offered, 3);
  EXPECT_EQ((*rows)[1].stats.Waiting(), 1);
}

TEST(IntervalReport, RejectsOtherIntervalLengths) {
  KpiOptions options;
  options.interval = Seconds(600);
  auto rows = QueueIntervalReport(ReferenceLog(), options, At(1020));
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().message().find("15, 30 or 60"), std::string::npos);
}

}  // namespace
}  // namespace parley
