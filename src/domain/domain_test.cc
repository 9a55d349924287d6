#include <gtest/gtest.h>

#include <set>

#include "domain/channel.h"
#include "domain/event.h"
#include "domain/routing.h"

namespace parley {
namespace {

TEST(ChannelTest, NamesRoundTrip) {
  for (int i = 0; i < kChannelCount; ++i) {
    auto c = static_cast<Channel>(i);
    EXPECT_EQ(ParseChannel(ChannelName(c)), c);
  }
  EXPECT_FALSE(ParseChannel("fax").has_value());
}

TEST(StrategyTest, PeerNamesMapToTheSameMeaning) {
  EXPECT_EQ(ParseStrategy("leastrecent"), Strategy::kLongestIdle);
  EXPECT_EQ(ParseStrategy("longest-idle-agent"), Strategy::kLongestIdle);
  EXPECT_EQ(ParseStrategy("rrmemory"), Strategy::kRoundRobin);
  EXPECT_EQ(ParseStrategy("fewestcalls"), Strategy::kFewestContacts);
  EXPECT_EQ(ParseStrategy("ringall"), Strategy::kRingAll);
  EXPECT_EQ(ParseStrategy("top-down"), Strategy::kLinear);
  EXPECT_FALSE(ParseStrategy("wrandom").has_value());
  for (int i = 0; i < kStrategyCount; ++i) {
    auto s = static_cast<Strategy>(i);
    EXPECT_EQ(ParseStrategy(StrategyName(s)), s) << StrategyName(s);
  }
}

TEST(EventTest, EveryTypeHasADistinctName) {
  std::set<std::string_view> names;
  for (int i = 0; i < kEventTypeCount; ++i) names.insert(EventTypeName(static_cast<EventType>(i)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kEventTypeCount));
}

TEST(EventTest, FlowEventFieldsRoundTripThroughTheEventText) {
  FlowEventFields f;
  f.flow = "main";
  f.version = 3;
  f.step = "survey";
  f.step_type = "survey";
  f.question = "q1";
  f.survey_kind = "csat";
  f.score = 4;
  f.answer = "was = fine\tthanks";
  const std::string text = FormatFlowEventFields(f);
  EXPECT_EQ(text,
            "flow=main\tversion=3\tstep=survey\tstep_type=survey\tquestion=q1\tsurvey_kind=csat"
            "\tscore=4\tanswer=was = fine thanks");
  FlowEventFields back = ParseFlowEventFields(text);
  f.answer = "was = fine thanks";
  EXPECT_EQ(back, f);
  // Unknown keys and pairs without '=' are skipped; a bad number keeps the default.
  back = ParseFlowEventFields("colour=red\tjunk\tstep=menu\tscore=x\tversion=-5");
  EXPECT_EQ(back.step, "menu");
  EXPECT_EQ(back.score, -1);
  EXPECT_EQ(back.version, 0u);
  EXPECT_TRUE(IsFlowEvent(EventType::kSurveyAnswered));
  EXPECT_FALSE(IsFlowEvent(EventType::kContactClosed));
}

TEST(RoutingConfigTest, FindsByName) {
  RoutingConfig c;
  c.skills = {"english", "billing"};
  c.queues.push_back(QueueDef{.name = "sales"});
  EXPECT_EQ(c.FindSkill("billing"), SkillIndex{1});
  EXPECT_EQ(c.FindQueue("sales"), QueueIndex{0});
  EXPECT_FALSE(c.FindAgent("nobody").has_value());
}

}  // namespace
}  // namespace parley
