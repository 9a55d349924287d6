#include "analytics/flow_kpi.h"

#include <gtest/gtest.h>

#include <string>

namespace parley {
namespace {

using flow::FlowEvent;
using flow::FlowEventKind;
using flow::FlowOutcome;

TimePoint At(double s) { return TimePoint{} + Seconds(1000 + s); }

class Log {
 public:
  explicit Log(FlowKpiCalculator* c) : c_(c) {}
  void Entered(double t, uint64_t contact, std::string flow, std::string step, std::string type) {
    Add(t, contact, FlowEventKind::kStepEntered, std::move(flow), std::move(step), std::move(type));
  }
  void Exited(double t, uint64_t contact, std::string flow, std::string step, std::string type,
              std::string exit) {
    FlowEvent e = Make(t, contact, FlowEventKind::kStepExited, std::move(flow), std::move(step),
                       std::move(type));
    e.exit = std::move(exit);
    c_->Add(e);
  }
  void Ended(double t, uint64_t contact, std::string flow, std::string step, std::string type,
             FlowOutcome outcome) {
    FlowEvent e = Make(t, contact, FlowEventKind::kFlowEnded, std::move(flow), std::move(step),
                       std::move(type));
    e.outcome = outcome;
    c_->Add(e);
  }
  void Answer(double t, uint64_t contact, std::string flow, std::string kind, int score) {
    FlowEvent e = Make(t, contact, FlowEventKind::kSurveyAnswer, std::move(flow), "ask", "survey");
    e.survey_kind = std::move(kind);
    e.score = score;
    c_->Add(e);
  }

 private:
  static FlowEvent Make(double t, uint64_t contact, FlowEventKind kind, std::string flow,
                        std::string step, std::string type) {
    FlowEvent e;
    e.at = At(t);
    e.contact = ContactId(contact);
    e.kind = kind;
    e.flow = std::move(flow);
    e.step = std::move(step);
    e.step_type = std::move(type);
    return e;
  }
  void Add(double t, uint64_t contact, FlowEventKind kind, std::string flow, std::string step,
           std::string type) {
    c_->Add(Make(t, contact, kind, std::move(flow), std::move(step), std::move(type)));
  }
  FlowKpiCalculator* c_;
};

// Five callers through a two-level IVR (menu -> queue or info), one still inside, plus a survey
// flow; every figure below is worked out by hand in the comments (docs/metrics.md formulas).
TEST(FlowKpiTest, HandComputedFromASmallLog) {
  FlowKpiCalculator c;
  Log log(&c);
  // 1: menu "1" -> queue sales, connected. IVR time 0 -> 12 = 12 s.
  log.Entered(0, 1, "main", "menu", "menu");
  log.Exited(10, 1, "main", "menu", "menu", "1");
  log.Entered(12, 1, "main", "sales", "queue");
  log.Exited(40, 1, "main", "sales", "queue", "connected");
  log.Ended(40, 1, "main", "sales", "queue", FlowOutcome::kConnected);
  // 2: menu "2" -> info (play), then hangup step: contained. IVR time 5 -> 35 = 30 s.
  log.Entered(5, 2, "main", "menu", "menu");
  log.Exited(15, 2, "main", "menu", "menu", "2");
  log.Entered(15, 2, "main", "info", "play");
  log.Exited(33, 2, "main", "info", "play", "next");
  log.Entered(33, 2, "main", "bye", "hangup");
  log.Ended(35, 2, "main", "bye", "hangup", FlowOutcome::kCompleted);
  // 3: hangs up in the menu. IVR time 6 -> 9 = 3 s.
  log.Entered(6, 3, "main", "menu", "menu");
  log.Ended(9, 3, "main", "menu", "menu", FlowOutcome::kAbandoned);
  // 4: menu "1" -> queue, abandons there. IVR time 20 -> 31 = 11 s.
  log.Entered(20, 4, "main", "menu", "menu");
  log.Exited(30, 4, "main", "menu", "menu", "1");
  log.Entered(31, 4, "main", "sales", "queue");
  log.Ended(90, 4, "main", "sales", "queue", FlowOutcome::kAbandoned);
  // 5: still in the menu at the report: entered, not ended, no IVR time yet.
  log.Entered(50, 5, "main", "menu", "menu");
  // 1 again, after its call: a survey flow with CSAT 5 and NPS 10; contained in "survey".
  log.Entered(100, 1, "survey", "ask", "survey");
  log.Answer(104, 1, "survey", "csat", 5);
  log.Answer(108, 1, "survey", "nps", 10);
  log.Ended(110, 1, "survey", "ask", "survey", FlowOutcome::kCompleted);
  // 2's survey: CSAT 3, NPS 6 (a detractor); 4's: CSAT 4, NPS 8 (passive).
  log.Entered(100, 2, "survey", "ask", "survey");
  log.Answer(101, 2, "survey", "csat", 3);
  log.Answer(102, 2, "survey", "nps", 6);
  log.Ended(103, 2, "survey", "ask", "survey", FlowOutcome::kCompleted);
  log.Entered(100, 4, "survey", "ask", "survey");
  log.Answer(101, 4, "survey", "csat", 4);
  log.Answer(102, 4, "survey", "nps", 8);
  log.Ended(103, 4, "survey", "ask", "survey", FlowOutcome::kCompleted);

  const FlowReport r = c.Report();
  const FlowStats* main = r.FindFlow("main");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->entered, 5u);
  EXPECT_EQ(main->ended, 4u);
  EXPECT_EQ(main->completed, 1u);
  EXPECT_EQ(main->abandoned_in_ivr, 1u);
  EXPECT_EQ(main->abandoned_in_queue, 1u);
  EXPECT_EQ(main->queued, 2u);
  EXPECT_EQ(main->connected, 1u);
  // Containment 1 / 5; abandon rate 2 / 5.
  EXPECT_DOUBLE_EQ(*main->ContainmentRate(), 0.2);
  EXPECT_DOUBLE_EQ(*main->AbandonRate(), 0.4);
  // IVR time (12 + 30 + 3 + 11) / 4 = 14 s.
  EXPECT_EQ(*main->AverageIvrTime(), Seconds(14));
  EXPECT_FALSE(main->surveys.Csat());

  // Drop-off per step: menu 1 abandon / 5 entered, sales 1 / 2, info 0 / 1.
  const FlowStepStats* menu = r.FindStep("main", "menu");
  ASSERT_NE(menu, nullptr);
  EXPECT_EQ(menu->entered, 5u);
  EXPECT_EQ(menu->abandoned, 1u);
  EXPECT_DOUBLE_EQ(*menu->DropOff(), 0.2);
  EXPECT_DOUBLE_EQ(*r.FindStep("main", "sales")->DropOff(), 0.5);
  EXPECT_DOUBLE_EQ(*r.FindStep("main", "info")->DropOff(), 0.0);
  // Menu shares: "1" twice, "2" once, over 3 choices made.
  EXPECT_EQ(menu->exited, 3u);
  EXPECT_DOUBLE_EQ(*menu->ExitShare("1"), 2.0 / 3);
  EXPECT_DOUBLE_EQ(*menu->ExitShare("2"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(*menu->ExitShare("3"), 0.0);

  const FlowStats* survey = r.FindFlow("survey");
  ASSERT_NE(survey, nullptr);
  EXPECT_EQ(survey->entered, 3u);
  EXPECT_DOUBLE_EQ(*survey->ContainmentRate(), 1.0);
  // CSAT: answers 5, 3, 4: two of three are 4-5, mean 4.
  EXPECT_DOUBLE_EQ(*survey->surveys.Csat(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(*survey->surveys.CsatMean(), 4.0);
  // NPS: 10 (promoter), 6 (detractor), 8 (passive): 100 * (1 - 1) / 3 = 0.
  EXPECT_DOUBLE_EQ(*survey->surveys.Nps(), 0.0);

  // Overall: the sum of both flows.
  EXPECT_EQ(r.overall.entered, 8u);
  EXPECT_EQ(r.overall.completed, 4u);
  EXPECT_DOUBLE_EQ(*r.overall.ContainmentRate(), 0.5);
  EXPECT_EQ(r.overall.surveys.csat_answers, 3u);
}

TEST(FlowKpiTest, NpsOfAllPromotersIsHundredAndEmptyFiguresAreUndefined) {
  FlowKpiCalculator c;
  Log log(&c);
  EXPECT_FALSE(c.Report().overall.ContainmentRate());
  EXPECT_FALSE(c.Report().overall.AverageIvrTime());
  log.Entered(0, 7, "s", "q", "survey");
  log.Answer(1, 7, "s", "nps", 9);
  log.Answer(2, 7, "s", "nps", 42);  // out of range: ignored
  log.Answer(3, 7, "s", "csat", 0);  // out of range: ignored
  EXPECT_DOUBLE_EQ(*c.Report().overall.surveys.Nps(), 100.0);
  EXPECT_EQ(c.Report().overall.surveys.nps_answers, 1u);
  EXPECT_FALSE(c.Report().overall.surveys.Csat());
}

}  // namespace
}  // namespace parley
