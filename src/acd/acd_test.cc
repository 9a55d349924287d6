#include "acd/acd.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "base/virtual_clock.h"

namespace parley {
namespace {

constexpr TimePoint kStart = TimePoint(Duration(int64_t{1'700'000'000} * 1'000'000));

class Recorder : public AcdObserver {
 public:
  void OnEvent(const Event& e) override { events.push_back(e); }
  std::vector<Event> Of(EventType t) const {
    std::vector<Event> out;
    for (const Event& e : events) {
      if (e.type == t) out.push_back(e);
    }
    return out;
  }
  std::vector<Event> events;
};

// Builds routing configurations by name.
struct ConfigBuilder {
  RoutingConfig c;
  SkillIndex Skill(const std::string& name) {
    if (auto s = c.FindSkill(name)) return *s;
    c.skills.push_back(name);
    return static_cast<SkillIndex>(c.skills.size() - 1);
  }
  TeamIndex Team(const std::string& name) {
    if (auto t = c.FindTeam(name)) return *t;
    c.teams.push_back(TeamDef{name, ""});
    return static_cast<TeamIndex>(c.teams.size() - 1);
  }
  QueueDef& Queue(const std::string& name, Strategy s = Strategy::kLongestIdle,
                  std::vector<Channel> channels = {Channel::kVoice}) {
    QueueDef q;
    q.name = name;
    q.strategy = s;
    q.channels = std::move(channels);
    c.queues.push_back(q);
    return c.queues.back();
  }
  AgentDef& Agent(const std::string& name, std::vector<std::string> queues,
                  std::map<std::string, int> skills = {}) {
    AgentDef a;
    a.name = name;
    a.capacity[Index(Channel::kVoice)] = 1;
    for (size_t i = 0; i < queues.size(); ++i) {
      QueueAssignment qa;
      qa.queue = *c.FindQueue(queues[i]);
      qa.order = static_cast<uint16_t>(i);
      a.queues.push_back(qa);
    }
    for (auto& [skill, p] : skills)
      a.skills.push_back(SkillLevel{Skill(skill), static_cast<uint8_t>(p)});
    c.agents.push_back(a);
    return c.agents.back();
  }
};

class AcdTest : public ::testing::Test {
 protected:
  void Start(const RoutingConfig& config, AcdOptions options = {}) {
    options.explain_offers = true;
    acd.reset();
    clock = VirtualClock(kStart);  // timers of an earlier Acd must not fire into a new one
    acd = std::make_unique<Acd>(clock, clock, rec, options);
    ASSERT_TRUE(acd->Configure(config).ok());
  }
  AgentIndex A(const std::string& n) { return *acd->FindAgent(n); }
  QueueIndex Q(const std::string& n) { return *acd->FindQueue(n); }
  void Available(const std::string& n) {
    ASSERT_TRUE(acd->SetPresence(A(n), Presence::kAvailable).ok());
  }
  void Arrive(uint64_t id, const std::string& q, ContactSpec spec = {}) {
    Status s = acd->Enqueue(ContactId(id), Q(q), std::move(spec));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ContactSpec Chat() {
    ContactSpec s;
    s.channel = Channel::kChat;
    return s;
  }
  // The agent the contact is offered to (single offer), or "" when none.
  std::string OfferedTo(uint64_t id) {
    auto v = acd->GetContact(ContactId(id));
    if (!v || v->state != ContactState::kOffered || v->offered_to.empty()) return "";
    return acd->AgentName(v->offered_to.front());
  }
  ContactState State(uint64_t id) {
    auto v = acd->GetContact(ContactId(id));
    return v ? v->state : ContactState::kGone;
  }
  // Accepts, ends handling and (if any) wrap-up of a contact, advancing `talk` in between.
  void Handle(uint64_t id, Duration talk = Seconds(60)) {
    auto v = acd->GetContact(ContactId(id));
    ASSERT_TRUE(v.has_value());
    ASSERT_EQ(v->state, ContactState::kOffered);
    const AgentIndex a = v->offered_to.front();
    ASSERT_TRUE(acd->Accept(ContactId(id), a).ok());
    clock.AdvanceBy(talk);
    ASSERT_TRUE(acd->EndHandling(ContactId(id)).ok());
    if (State(id) == ContactState::kWrapUp) {
      ASSERT_TRUE(acd->EndWrapUp(ContactId(id), a).ok());
    }
  }

  VirtualClock clock{kStart};
  Recorder rec;
  std::unique_ptr<Acd> acd;
};

TEST_F(AcdTest, LongestIdleOffersTheAgentIdleLongest) {
  ConfigBuilder b;
  b.Queue("sales");
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"sales"});
  b.Agent("carol", {"sales"});
  Start(b.c);
  Available("bob");
  clock.AdvanceBy(Seconds(10));
  Available("alice");
  clock.AdvanceBy(Seconds(10));
  Available("carol");
  Arrive(1, "sales");
  EXPECT_EQ(OfferedTo(1), "bob");
  Handle(1);
  Arrive(2, "sales");
  EXPECT_EQ(OfferedTo(2), "alice");
  Arrive(3, "sales");
  EXPECT_EQ(OfferedTo(3), "carol");
  Arrive(4, "sales");
  EXPECT_EQ(OfferedTo(4), "bob");  // idle again since contact 1 ended, the most recent
}

TEST_F(AcdTest, LongestIdleCountsFromTheEndOfTheLastContact) {
  ConfigBuilder b;
  b.Queue("sales");
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"sales"});
  Start(b.c);
  Available("alice");
  Available("bob");
  Arrive(1, "sales");
  ASSERT_EQ(OfferedTo(1), "alice");  // equal idle time: member order
  Arrive(2, "sales");
  ASSERT_EQ(OfferedTo(2), "bob");
  ASSERT_TRUE(acd->Accept(ContactId(2), A("bob")).ok());
  ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
  clock.AdvanceBy(Seconds(30));
  ASSERT_TRUE(acd->EndHandling(ContactId(2)).ok());  // bob free first
  clock.AdvanceBy(Seconds(30));
  ASSERT_TRUE(acd->EndHandling(ContactId(1)).ok());
  Arrive(3, "sales");
  EXPECT_EQ(OfferedTo(3), "bob");
}

TEST_F(AcdTest, LeastOccupiedPrefersTheAgentWithTheMostFreeCapacity) {
  ConfigBuilder b;
  b.Queue("chat", Strategy::kLeastOccupied, {Channel::kChat});
  b.Agent("alice", {"chat"}).capacity[Index(Channel::kChat)] = 3;
  b.Agent("bob", {"chat"}).capacity[Index(Channel::kChat)] = 3;
  Start(b.c);
  Available("alice");
  Available("bob");
  Arrive(1, "chat", Chat());
  Arrive(2, "chat", Chat());
  Arrive(3, "chat", Chat());
  Arrive(4, "chat", Chat());
  // Alternates: each new chat goes to the less loaded agent.
  EXPECT_EQ(OfferedTo(1), "alice");
  EXPECT_EQ(OfferedTo(2), "bob");
  EXPECT_EQ(OfferedTo(3), "alice");
  EXPECT_EQ(OfferedTo(4), "bob");
}

TEST_F(AcdTest, FewestContactsCountsContactsHandledToday) {
  ConfigBuilder b;
  b.Queue("sales", Strategy::kFewestContacts);
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"sales"});
  Start(b.c);
  Available("alice");
  Arrive(1, "sales");
  Handle(1);
  Arrive(2, "sales");
  Handle(2);
  Available("bob");  // bob became available last but handled none
  Arrive(3, "sales");
  EXPECT_EQ(OfferedTo(3), "bob");
  Handle(3);
  Arrive(4, "sales");
  EXPECT_EQ(OfferedTo(4), "bob");  // 1 < 2
  Handle(4);
  // A new day (site time zone UTC here) resets the counts: longest idle decides.
  clock.AdvanceBy(std::chrono::hours(24));
  EXPECT_EQ(acd->GetAgent(A("alice")).handled_today, 0u);
  Arrive(5, "sales");
  EXPECT_EQ(OfferedTo(5), "alice");
}

TEST_F(AcdTest, RoundRobinRemembersWhereItStopped) {
  ConfigBuilder b;
  b.Queue("q", Strategy::kRoundRobin);
  for (std::string n : {"a1", "a2", "a3"}) b.Agent(n, {"q"});
  Start(b.c);
  for (std::string n : {"a1", "a2", "a3"}) Available(n);
  std::vector<std::string> order;
  for (uint64_t id = 1; id <= 6; ++id) {
    Arrive(id, "q");
    order.push_back(OfferedTo(id));
    Handle(id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "a2", "a3", "a1", "a2", "a3"}));
}

TEST_F(AcdTest, LinearAlwaysStartsFromTheFirstMember) {
  ConfigBuilder b;
  b.Queue("q", Strategy::kLinear);
  for (std::string n : {"a1", "a2", "a3"}) b.Agent(n, {"q"});
  Start(b.c);
  for (std::string n : {"a3", "a2", "a1"}) Available(n);
  Arrive(1, "q");
  EXPECT_EQ(OfferedTo(1), "a1");
  Handle(1);
  Arrive(2, "q");
  EXPECT_EQ(OfferedTo(2), "a1");
  Arrive(3, "q");
  EXPECT_EQ(OfferedTo(3), "a2");
}

TEST_F(AcdTest, RandomIsSeededAndReachesEveryAgent) {
  auto run = [&](uint64_t seed) {
    ConfigBuilder b;
    b.Queue("q", Strategy::kRandom);
    for (int i = 0; i < 5; ++i) b.Agent("a" + std::to_string(i), {"q"});
    AcdOptions o;
    o.seed = seed;
    rec.events.clear();
    Start(b.c, o);
    for (int i = 0; i < 5; ++i) Available("a" + std::to_string(i));
    std::vector<std::string> picks;
    for (uint64_t id = 1; id <= 40; ++id) {
      Arrive(id, "q");
      picks.push_back(OfferedTo(id));
      Handle(id, Seconds(1));
    }
    return picks;
  };
  auto first = run(7);
  EXPECT_EQ(first, run(7));
  EXPECT_NE(first, run(8));
  std::set<std::string> seen(first.begin(), first.end());
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(AcdTest, BestSkillPrefersHighestProficiency) {
  ConfigBuilder b;
  b.Skill("french");
  auto& q = b.Queue("fr", Strategy::kBestSkill);
  q.skills = {SkillRequirement{b.Skill("french"), 1}};
  b.Agent("novice", {"fr"}, {{"french", 2}});
  b.Agent("expert", {"fr"}, {{"french", 5}});
  b.Agent("good", {"fr"}, {{"french", 4}});
  Start(b.c);
  Available("novice");
  Available("good");
  Available("expert");
  Arrive(1, "fr");
  EXPECT_EQ(OfferedTo(1), "expert");
  Arrive(2, "fr");
  EXPECT_EQ(OfferedTo(2), "good");
  Arrive(3, "fr");
  EXPECT_EQ(OfferedTo(3), "novice");
}

TEST_F(AcdTest, RingAllOffersEveryoneFirstAcceptWinsLosersAreNotMisses) {
  ConfigBuilder b;
  b.Queue("q", Strategy::kRingAll);
  for (std::string n : {"a1", "a2", "a3"}) b.Agent(n, {"q"});
  b.c.settings.max_consecutive_misses = 1;
  Start(b.c);
  for (std::string n : {"a1", "a2", "a3"}) Available(n);
  Arrive(1, "q");
  auto v = acd->GetContact(ContactId(1));
  ASSERT_EQ(v->offered_to.size(), 3u);
  EXPECT_EQ(rec.Of(EventType::kContactOffered).size(), 3u);
  ASSERT_TRUE(acd->Accept(ContactId(1), A("a2")).ok());
  EXPECT_EQ(rec.Of(EventType::kOfferWithdrawn).size(), 2u);
  EXPECT_EQ(acd->GetAgent(A("a1")).presence, Presence::kAvailable);
  EXPECT_EQ(acd->GetAgent(A("a1")).work.size(), 0u);
  // The losers are free again at once.
  Arrive(2, "q");
  EXPECT_EQ(acd->GetContact(ContactId(2))->offered_to.size(), 2u);
}

TEST_F(AcdTest, OfferTimeoutReturnsContactAndMissesMakeAgentNotReady) {
  ConfigBuilder b;
  b.Queue("q").offer_timeout = Seconds(15);
  b.Agent("alice", {"q"});
  b.Agent("bob", {"q"});
  b.c.settings.max_consecutive_misses = 2;
  Start(b.c);
  Available("alice");
  clock.AdvanceBy(Seconds(1));
  Available("bob");
  Arrive(1, "q");
  ASSERT_EQ(OfferedTo(1), "alice");
  clock.AdvanceBy(Seconds(15));
  // Back in the queue and straight to bob.
  EXPECT_EQ(rec.Of(EventType::kOfferTimedOut).size(), 1u);
  EXPECT_EQ(OfferedTo(1), "bob");
  EXPECT_EQ(acd->GetAgent(A("alice")).consecutive_misses, 1u);
  ASSERT_TRUE(acd->Reject(ContactId(1), A("bob")).ok());
  // Both refused within the reoffer delay (5 s): it waits, then goes to the longest idle.
  EXPECT_EQ(State(1), ContactState::kWaiting);
  clock.AdvanceBy(Seconds(5));
  EXPECT_EQ(OfferedTo(1), "alice");
  clock.AdvanceBy(Seconds(15));  // alice's second miss in a row
  EXPECT_EQ(acd->GetAgent(A("alice")).presence, Presence::kNotReady);
  EXPECT_EQ(acd->GetAgent(A("alice")).reason, "missed");
  EXPECT_EQ(State(1), ContactState::kOffered);  // bob again, his 5 s skip is over
  EXPECT_EQ(OfferedTo(1), "bob");
}

TEST_F(AcdTest, AcceptedOffersLeaveNoTimersBehind) {
  ConfigBuilder b;
  b.Queue("q").offer_timeout = Seconds(30);
  for (int i = 0; i < 50; ++i) b.Agent("a" + std::to_string(i), {"q"});
  Start(b.c);
  for (int i = 0; i < 50; ++i) Available("a" + std::to_string(i));
  const size_t before = clock.pending();
  for (uint64_t id = 1; id <= 50; ++id) {
    Arrive(id, "q");
    clock.AdvanceBy(Seconds(0.1));
    ASSERT_TRUE(acd->Accept(ContactId(id), acd->GetContact(ContactId(id))->offered_to[0]).ok());
  }
  // One timer for the head of the pending offers at most, not one per offer made.
  EXPECT_LE(clock.pending(), before + 1);
}

TEST_F(AcdTest, OffersWithDifferentTimeoutsEachExpireOnTime) {
  ConfigBuilder b;
  b.Queue("fast").offer_timeout = Seconds(5);
  b.Queue("slow").offer_timeout = Seconds(20);
  b.Agent("alice", {"fast"});
  b.Agent("bob", {"slow"});
  b.Agent("carol", {"fast"});
  Start(b.c);
  Available("alice");
  Available("bob");
  Arrive(1, "slow");
  clock.AdvanceBy(Seconds(1));
  Arrive(2, "fast");
  clock.AdvanceBy(Seconds(3));
  Available("carol");  // 3 s into contact 2's ring
  clock.AdvanceBy(Seconds(1.999));
  EXPECT_EQ(OfferedTo(2), "alice");
  clock.AdvanceBy(Seconds(0.001));  // 5 s after the offer
  ASSERT_EQ(OfferedTo(2), "carol");
  ASSERT_TRUE(acd->Accept(ContactId(2), A("carol")).ok());
  EXPECT_EQ(OfferedTo(1), "bob");
  clock.AdvanceBy(Seconds(13.999));  // 19.999 s into bob's ring, which began at 0
  EXPECT_EQ(OfferedTo(1), "bob");
  clock.AdvanceBy(Seconds(0.001));
  EXPECT_EQ(State(1), ContactState::kWaiting);  // bob missed it; he is skipped for 5 s
  auto timed_out = rec.Of(EventType::kOfferTimedOut);
  ASSERT_EQ(timed_out.size(), 2u);
  EXPECT_EQ(timed_out[0].time, kStart + Seconds(6));
  EXPECT_EQ(timed_out[1].time, kStart + Seconds(20));
}

TEST_F(AcdTest, RejectedContactKeepsItsPlaceAtTheHead) {
  ConfigBuilder b;
  b.Queue("q");
  b.Agent("alice", {"q"});
  Start(b.c);
  Arrive(1, "q");
  clock.AdvanceBy(Seconds(1));
  Arrive(2, "q");
  Available("alice");
  ASSERT_EQ(OfferedTo(1), "alice");
  ASSERT_TRUE(acd->Reject(ContactId(1), A("alice")).ok());
  // Alice is skipped for contact 1 for the reoffer delay, so she gets 2 meanwhile.
  EXPECT_EQ(OfferedTo(2), "alice");
  Handle(2);
  clock.AdvanceBy(Seconds(5));
  EXPECT_EQ(OfferedTo(1), "alice");
}

TEST_F(AcdTest, ChatCapacityAllowsSeveralAndVoiceBlocksOtherChannels) {
  ConfigBuilder b;
  b.Queue("chat", Strategy::kLongestIdle, {Channel::kChat});
  b.Queue("voice");
  auto& a = b.Agent("alice", {"chat", "voice"});
  a.capacity[Index(Channel::kChat)] = 3;
  Start(b.c);
  Available("alice");
  Arrive(1, "chat", Chat());
  Arrive(2, "chat", Chat());
  Arrive(3, "chat", Chat());
  Arrive(4, "chat", Chat());
  EXPECT_EQ(OfferedTo(1), "alice");
  EXPECT_EQ(OfferedTo(2), "alice");
  EXPECT_EQ(OfferedTo(3), "alice");
  EXPECT_EQ(State(4), ContactState::kWaiting);
  // A voice call is still possible next to chats (voice blocks others, not the reverse).
  Arrive(5, "voice");
  EXPECT_EQ(OfferedTo(5), "alice");
  ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
  ASSERT_TRUE(acd->EndHandling(ContactId(1)).ok());
  // A chat slot is free, but the voice offer blocks new chats.
  EXPECT_EQ(State(4), ContactState::kWaiting);
  auto ex = acd->Explain(ContactId(4));
  ASSERT_TRUE(ex.ok());
  EXPECT_NE(ex->agents[0].reason.find("voice"), std::string::npos) << ex->agents[0].reason;
  ASSERT_TRUE(acd->Reject(ContactId(5), A("alice")).ok());
  EXPECT_EQ(OfferedTo(4), "alice");
}

TEST_F(AcdTest, WrapUpOfOneChatDoesNotBlockOthersUnlessConfigured) {
  for (bool blocks : {false, true}) {
    ConfigBuilder b;
    b.Queue("chat", Strategy::kLongestIdle, {Channel::kChat}).wrap_up = Seconds(30);
    auto& a = b.Agent("alice", {"chat"});
    a.capacity[Index(Channel::kChat)] = 2;
    a.wrap_up_blocks_other_channels = blocks;
    Start(b.c);
    Available("alice");
    Arrive(1, "chat", Chat());
    ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
    ASSERT_TRUE(acd->EndHandling(ContactId(1)).ok());
    ASSERT_EQ(State(1), ContactState::kWrapUp);
    Arrive(2, "chat", Chat());
    EXPECT_EQ(OfferedTo(2), blocks ? "" : "alice") << blocks;
    clock.AdvanceBy(Seconds(30));  // the wrap-up timer ends it
    EXPECT_EQ(State(1), ContactState::kGone);
    EXPECT_EQ(OfferedTo(2), "alice");
    EXPECT_EQ(rec.Of(EventType::kWrapUpEnded).size(), 1u);
    rec.events.clear();
  }
}

TEST_F(AcdTest, FreeAgentTakesHigherPriorityQueueThenOldestContact) {
  ConfigBuilder b;
  b.Queue("low").priority = 0;
  b.Queue("high").priority = 5;
  b.Agent("alice", {"low", "high"});
  // Same routing-profile order for both queues: queue priority decides.
  b.c.agents[0].queues[1].order = 0;
  Start(b.c);
  Arrive(1, "low");
  clock.AdvanceBy(Seconds(10));
  Arrive(2, "high");
  clock.AdvanceBy(Seconds(10));
  Arrive(3, "high");
  Available("alice");
  EXPECT_EQ(OfferedTo(2), "alice");
  Handle(2);
  EXPECT_EQ(OfferedTo(3), "alice");
  Handle(3);
  EXPECT_EQ(OfferedTo(1), "alice");
}

TEST_F(AcdTest, RoutingProfileOrderAndDelay) {
  ConfigBuilder b;
  b.Queue("a");
  b.Queue("b");
  auto& alice = b.Agent("alice", {"a", "b"});
  alice.queues[1].delay = Seconds(30);  // serve b only once a contact waited 30 s there
  Start(b.c);
  Arrive(1, "b");
  Available("alice");
  EXPECT_EQ(State(1), ContactState::kWaiting);
  auto ex = acd->Explain(ContactId(1));
  EXPECT_NE(ex->agents[0].reason.find("routing profile"), std::string::npos);
  clock.AdvanceBy(Seconds(29));
  EXPECT_EQ(State(1), ContactState::kWaiting);
  Arrive(2, "a");
  EXPECT_EQ(OfferedTo(2), "alice");  // order: queue a first
  ASSERT_TRUE(acd->Reject(ContactId(2), A("alice")).ok());
  clock.AdvanceBy(Seconds(1));
  // Contact 1 now qualifies (30 s in b) while 2 is skipped for alice's refusal.
  EXPECT_EQ(OfferedTo(1), "alice");
}

TEST_F(AcdTest, PriorityAgingLetsOldContactsOvertakePriority) {
  ConfigBuilder b;
  b.Queue("q").aging_per_minute = 1.0;
  b.Agent("alice", {"q"});
  Start(b.c);
  ContactSpec vip;
  vip.priority = 2;
  Arrive(1, "q");                 // priority 0, arrives first
  clock.AdvanceBy(Seconds(150));  // +2.5 by aging
  Arrive(2, "q", vip);            // priority 2, no aging yet
  Available("alice");
  EXPECT_EQ(OfferedTo(1), "alice");
  ConfigBuilder b2;
  b2.Queue("q").aging_per_minute = 1.0;
  b2.Agent("alice", {"q"});
  rec.events.clear();
  Start(b2.c);
  Arrive(1, "q");
  clock.AdvanceBy(Seconds(90));  // +1.5 by aging < 2
  Arrive(2, "q", vip);
  Available("alice");
  EXPECT_EQ(OfferedTo(2), "alice");
}

TEST_F(AcdTest, EscalationRelaxesProficiencyOverTime) {
  ConfigBuilder b;
  auto sales = b.Skill("sales");
  auto& q = b.Queue("q");
  q.skills = {SkillRequirement{sales, 4}};
  EscalationStep relax;
  relax.after = Seconds(30);
  relax.skills = std::vector<SkillRequirement>{SkillRequirement{sales, 2}};
  q.escalation = {relax};
  b.Agent("junior", {}, {{"sales", 2}});
  b.Agent("senior", {}, {{"sales", 5}});
  Start(b.c);
  Available("junior");
  Arrive(1, "q");
  EXPECT_EQ(State(1), ContactState::kWaiting);
  auto ex = acd->Explain(ContactId(1));
  ASSERT_TRUE(ex.ok());
  EXPECT_NE(ex->agents[0].reason.find("sales is 2, needs 4"), std::string::npos)
      << ex->agents[0].reason;
  EXPECT_NE(ex->agents[0].reason.find("eligible from escalation step 1"), std::string::npos);
  clock.AdvanceBy(Seconds(30));
  EXPECT_EQ(OfferedTo(1), "junior");
  EXPECT_EQ(rec.Of(EventType::kContactEscalated).size(), 1u);
}

TEST_F(AcdTest, EscalationNarrowsRingsAndOverflowsAndHandsToFlow) {
  ConfigBuilder b;
  auto north = b.Team("north");
  auto south = b.Team("south");
  auto& q = b.Queue("q");
  q.teams = {north};
  EscalationStep widen;
  widen.after = Seconds(10);
  widen.teams = std::vector<TeamIndex>{north, south};
  EscalationStep narrow;  // back to the south team only
  narrow.after = Seconds(20);
  narrow.teams = std::vector<TeamIndex>{south};
  EscalationStep overflow;
  overflow.after = Seconds(30);
  overflow.overflow_queue = 1;
  q.escalation = {widen, narrow, overflow};
  auto& q2 = b.Queue("q2");
  EscalationStep flow;
  flow.after = Seconds(10);
  flow.flow = "voicemail";
  q2.escalation = {flow};
  b.Agent("n1", {"q"}).team = north;
  b.Agent("s1", {"q"}).team = south;
  b.c.settings.reoffer_delay = Seconds(60);  // a refusing agent stays skipped for this test
  Start(b.c);
  Available("s1");
  Arrive(1, "q");
  EXPECT_EQ(State(1), ContactState::kWaiting);
  clock.AdvanceBy(Seconds(10));
  EXPECT_EQ(OfferedTo(1), "s1");
  ASSERT_TRUE(acd->Reject(ContactId(1), A("s1")).ok());
  ASSERT_TRUE(acd->SetPresence(A("s1"), Presence::kNotReady, "lunch").ok());
  Available("n1");
  EXPECT_EQ(OfferedTo(1), "n1");  // north still in the ring at step 1
  ASSERT_TRUE(acd->Reject(ContactId(1), A("n1")).ok());
  clock.AdvanceBy(Seconds(10));  // step 2: south only; n1 is no longer eligible
  EXPECT_EQ(State(1), ContactState::kWaiting);
  auto ex = acd->Explain(ContactId(1));
  EXPECT_NE(ex->summary.find("no eligible agent"), std::string::npos) << ex->summary;
  clock.AdvanceBy(Seconds(10));  // step 3: overflow to q2 (no members)
  auto v = acd->GetContact(ContactId(1));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->queue, Q("q2"));
  EXPECT_EQ(rec.Of(EventType::kContactOverflowed).size(), 1u);
  clock.AdvanceBy(Seconds(10));  // q2 hands it to the voicemail flow
  EXPECT_EQ(State(1), ContactState::kGone);
  auto out = rec.Of(EventType::kContactTimedOut);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "voicemail");
}

TEST_F(AcdTest, MaxWaitAndMaxSize) {
  ConfigBuilder b;
  auto& q = b.Queue("q");
  q.max_wait = Seconds(60);
  q.max_size = 2;
  q.timeout_flow = "callback-offer";
  b.Agent("alice", {"q"});
  Start(b.c);
  Arrive(1, "q");
  Arrive(2, "q");
  Status full = acd->Enqueue(ContactId(3), Q("q"), {});
  EXPECT_EQ(full.code(), StatusCode::kUnavailable);
  clock.AdvanceBy(Seconds(60));
  EXPECT_EQ(State(1), ContactState::kGone);
  EXPECT_EQ(rec.Of(EventType::kContactTimedOut).size(), 2u);
  EXPECT_EQ(rec.Of(EventType::kContactTimedOut)[0].text, "callback-offer");
}

TEST_F(AcdTest, ContactSkillsNarrowTheChoice) {
  ConfigBuilder b;
  b.Queue("q");
  b.Agent("en", {"q"}, {{"english", 5}});
  b.Agent("fr", {"q"}, {{"french", 3}});
  Start(b.c);
  Available("en");
  Available("fr");
  ContactSpec s;
  s.skills = {SkillRequirement{*b.c.FindSkill("french"), 2}};
  Arrive(1, "q", s);
  EXPECT_EQ(OfferedTo(1), "fr");
}

TEST_F(AcdTest, AbandonWhileOfferedWithdrawsTheOffer) {
  ConfigBuilder b;
  b.Queue("q");
  b.Agent("alice", {"q"});
  Start(b.c);
  Available("alice");
  Arrive(1, "q");
  Arrive(2, "q");
  ASSERT_TRUE(acd->Abandon(ContactId(1)).ok());
  EXPECT_EQ(rec.Of(EventType::kOfferWithdrawn).size(), 1u);
  EXPECT_EQ(rec.Of(EventType::kContactAbandoned).size(), 1u);
  EXPECT_EQ(OfferedTo(2), "alice");
  EXPECT_EQ(acd->Abandon(ContactId(1)).code(), StatusCode::kNotFound);
}

TEST_F(AcdTest, OfflineWithdrawsOffersNotReadyKeepsThem) {
  ConfigBuilder b;
  b.Queue("q");
  b.Agent("alice", {"q"});
  Start(b.c);
  Available("alice");
  Arrive(1, "q");
  ASSERT_TRUE(acd->SetPresence(A("alice"), Presence::kNotReady, "break").ok());
  EXPECT_EQ(OfferedTo(1), "alice");
  ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
  ASSERT_TRUE(acd->EndHandling(ContactId(1)).ok());
  Arrive(2, "q");
  EXPECT_EQ(State(2), ContactState::kWaiting);  // not ready: no new offers
  Available("alice");
  ASSERT_EQ(OfferedTo(2), "alice");
  ASSERT_TRUE(acd->SetPresence(A("alice"), Presence::kOffline).ok());
  EXPECT_EQ(State(2), ContactState::kWaiting);
}

TEST_F(AcdTest, TransferRequeuesAndAgentWrapsUp) {
  ConfigBuilder b;
  b.Queue("sales").wrap_up = Seconds(10);
  b.Queue("billing");
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"billing"});
  Start(b.c);
  Available("alice");
  Arrive(1, "sales");
  ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
  ASSERT_TRUE(acd->Transfer(ContactId(1), Q("billing")).ok());
  EXPECT_EQ(acd->GetAgent(A("alice")).work.at(0).stage, WorkStage::kWrapUp);
  Available("bob");
  EXPECT_EQ(OfferedTo(1), "bob");
  ASSERT_TRUE(acd->Accept(ContactId(1), A("bob")).ok());
  clock.AdvanceBy(Seconds(10));
  EXPECT_TRUE(acd->GetAgent(A("alice")).work.empty());
  EXPECT_EQ(rec.Of(EventType::kContactTransferred).size(), 1u);
  ASSERT_TRUE(acd->EndHandling(ContactId(1)).ok());
  EXPECT_EQ(State(1), ContactState::kGone);
}

// Issue 8: a consultation of a queue takes the member the queue's strategy would offer a
// contact to, passing over the excluded and honouring member delays, and changes nothing.
TEST_F(AcdTest, BestFreeMemberFollowsTheQueuesStrategyAndSkipsTheExcluded) {
  ConfigBuilder b;
  b.Queue("sales");
  b.Queue("chat", Strategy::kLongestIdle, {Channel::kChat});
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"sales"});
  b.Agent("carol", {"sales"}).queues[0].delay = Seconds(30);
  Start(b.c);
  EXPECT_EQ(acd->BestFreeMember(Q("sales"), Channel::kVoice, clock.Now(), {}), std::nullopt);
  Available("carol");
  clock.AdvanceBy(Seconds(10));
  Available("bob");
  clock.AdvanceBy(Seconds(10));
  Available("alice");
  const size_t events = rec.events.size();
  // Carol, idle longest, only takes what waited 30 s in sales.
  EXPECT_EQ(acd->BestFreeMember(Q("sales"), Channel::kVoice, clock.Now(), {}), A("bob"));
  EXPECT_EQ(acd->BestFreeMember(Q("sales"), Channel::kVoice, clock.Now() - Seconds(30), {}),
            A("carol"));
  EXPECT_EQ(acd->BestFreeMember(Q("sales"), Channel::kVoice, clock.Now(), {A("bob")}), A("alice"));
  EXPECT_EQ(acd->BestFreeMember(Q("sales"), Channel::kVoice, clock.Now(), {A("bob"), A("alice")}),
            std::nullopt);
  EXPECT_EQ(acd->BestFreeMember(Q("chat"), Channel::kVoice, clock.Now(), {}), std::nullopt);
  EXPECT_EQ(acd->BestFreeMember(Q("sales"), Channel::kChat, clock.Now(), {}), std::nullopt);
  // Nothing was offered or reserved: no event, and a contact still goes to bob.
  EXPECT_EQ(rec.events.size(), events);
  Arrive(1, "sales");
  EXPECT_EQ(OfferedTo(1), "bob");
}

TEST_F(AcdTest, ReservedAgentIsOfferedNothingAndHandToMovesTheContactToIt) {
  ConfigBuilder b;
  b.Queue("sales").wrap_up = Seconds(10);
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"sales"});
  Start(b.c);
  Available("alice");
  Arrive(1, "sales");
  ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
  // Bob is not Available yet: no reservation.
  EXPECT_EQ(acd->Reserve(ContactId(1), A("bob")).code(), StatusCode::kConflict);
  EXPECT_EQ(acd->Reserve(ContactId(1), A("alice")).code(), StatusCode::kInvalidArgument);
  Available("bob");
  ASSERT_TRUE(acd->Reserve(ContactId(1), A("bob")).ok());
  // A new call waits: bob is held for contact 1.
  Arrive(2, "sales");
  EXPECT_EQ(State(2), ContactState::kWaiting);
  ASSERT_TRUE(acd->HandTo(ContactId(1), A("bob")).ok());
  auto v = acd->GetContact(ContactId(1));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->state, ContactState::kHandling);
  EXPECT_EQ(v->agent, A("bob"));
  EXPECT_EQ(acd->GetAgent(A("alice")).work.at(0).stage, WorkStage::kWrapUp);
  auto transfers = rec.Of(EventType::kContactTransferred);
  ASSERT_EQ(transfers.size(), 1u);
  EXPECT_EQ(transfers[0].text, "attended");
  EXPECT_EQ(transfers[0].agent, A("alice"));
  EXPECT_EQ(rec.Of(EventType::kHandlingStarted).back().agent, A("bob"));
  // Bob ends the call; after alice's wrap-up contact 2 goes to whoever is free first.
  ASSERT_TRUE(acd->EndHandling(ContactId(1)).ok());
  EXPECT_EQ(acd->GetAgent(A("bob")).work.at(0).stage, WorkStage::kWrapUp);
  clock.AdvanceBy(Seconds(10));
  EXPECT_FALSE(OfferedTo(2).empty());
}

// Blind transfer to one agent (issue 8): alice is released at once, the contact is pending at
// bob until his phone answers (StartPending) or not (ReturnPending: back in its queue ahead of a
// later arrival, or closed when the customer left).
TEST_F(AcdTest, PassedContactIsPendingAtTheTargetUntilHeAnswersOrItReturnsToItsPlace) {
  ConfigBuilder b;
  b.Queue("sales").wrap_up = Seconds(10);
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"sales"});
  Start(b.c);
  Available("alice");
  Arrive(1, "sales");
  ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
  EXPECT_EQ(acd->PassTo(ContactId(1), A("bob"), "agent").code(), StatusCode::kConflict);
  Available("bob");
  ASSERT_TRUE(acd->Reserve(ContactId(1), A("bob")).ok());
  ASSERT_TRUE(acd->PassTo(ContactId(1), A("bob"), "agent\ttarget=bob").ok());
  EXPECT_EQ(acd->GetAgent(A("alice")).work.at(0).stage, WorkStage::kWrapUp);
  EXPECT_EQ(acd->GetContact(ContactId(1))->agent, A("bob"));
  const size_t started = rec.Of(EventType::kHandlingStarted).size();
  clock.AdvanceBy(Seconds(1));
  Arrive(2, "sales");  // later: waits behind contact 1 once it returns
  EXPECT_EQ(State(2), ContactState::kWaiting);
  ASSERT_TRUE(acd->ReturnPending(ContactId(1), /*close=*/false).ok());
  EXPECT_EQ(rec.Of(EventType::kHandlingStarted).size(), started);  // bob never handled it
  EXPECT_EQ(OfferedTo(1), "bob");                                  // its place: ahead of contact 2
  EXPECT_EQ(rec.Of(EventType::kContactQueued).size(), 3u);

  ASSERT_TRUE(acd->Accept(ContactId(1), A("bob")).ok());
  Available("alice");
  clock.AdvanceBy(Seconds(10));  // alice's wrap-up ends: she takes contact 2
  ASSERT_TRUE(acd->Accept(ContactId(2), A("alice")).ok());
  ASSERT_TRUE(acd->EndHandling(ContactId(1)).ok());
  clock.AdvanceBy(Seconds(10));
  ASSERT_TRUE(acd->Reserve(ContactId(2), A("bob")).ok());
  ASSERT_TRUE(acd->PassTo(ContactId(2), A("bob"), "agent\ttarget=bob").ok());
  ASSERT_TRUE(acd->StartPending(ContactId(2)).ok());
  EXPECT_EQ(rec.Of(EventType::kHandlingStarted).back().agent, A("bob"));
  EXPECT_EQ(acd->GetAgent(A("bob")).work.at(0).stage, WorkStage::kHandling);
}

TEST_F(AcdTest, ReturnPendingWithCloseFreesTheTargetWithoutWrapUp) {
  ConfigBuilder b;
  b.Queue("sales").wrap_up = Seconds(10);
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"sales"});
  Start(b.c);
  Available("alice");
  Available("bob");
  Arrive(1, "sales");
  const AgentIndex first = acd->GetContact(ContactId(1))->offered_to.at(0);
  const AgentIndex other = first == A("alice") ? A("bob") : A("alice");
  ASSERT_TRUE(acd->Accept(ContactId(1), first).ok());
  ASSERT_TRUE(acd->Reserve(ContactId(1), other).ok());
  ASSERT_TRUE(acd->PassTo(ContactId(1), other, "agent").ok());
  ASSERT_TRUE(acd->ReturnPending(ContactId(1), /*close=*/true).ok());
  EXPECT_EQ(State(1), ContactState::kGone);
  EXPECT_TRUE(acd->GetAgent(other).work.empty());
  EXPECT_EQ(rec.Of(EventType::kContactClosed).size(), 1u);
  EXPECT_EQ(rec.Of(EventType::kWrapUpStarted).size(), 1u);  // the first agent's only
}

TEST_F(AcdTest, UnreserveFreesTheAgentForTheNextCall) {
  ConfigBuilder b;
  b.Queue("sales");
  b.Agent("alice", {"sales"});
  b.Agent("bob", {"sales"});
  Start(b.c);
  Available("alice");
  Arrive(1, "sales");
  ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
  Available("bob");
  ASSERT_TRUE(acd->Reserve(ContactId(1), A("bob")).ok());
  Arrive(2, "sales");
  EXPECT_EQ(State(2), ContactState::kWaiting);
  ASSERT_TRUE(acd->Unreserve(ContactId(1), A("bob")).ok());
  EXPECT_EQ(OfferedTo(2), "bob");
  EXPECT_EQ(acd->Unreserve(ContactId(1), A("bob")).code(), StatusCode::kNotFound);
  EXPECT_TRUE(rec.Of(EventType::kContactTransferred).empty());
}

TEST_F(AcdTest, ReloadWhileContactsWaitLosesNothing) {
  ConfigBuilder b;
  b.Queue("sales");
  b.Queue("old");
  b.Agent("alice", {"old"});
  Start(b.c);
  Arrive(1, "sales");
  clock.AdvanceBy(Seconds(1));
  Arrive(2, "sales");
  Arrive(3, "old");
  // New configuration: queue "old" removed, bob added to sales, alice moves to sales.
  ConfigBuilder b2;
  b2.Queue("sales");
  b2.Agent("bob", {"sales"});
  b2.Agent("alice", {"sales"});
  ASSERT_TRUE(acd->Configure(b2.c).ok());
  EXPECT_EQ(acd->GetQueue(Q("sales")).waiting, 2u);
  EXPECT_EQ(acd->GetQueue(Q("old")).waiting, 1u);
  EXPECT_TRUE(acd->GetQueue(Q("old")).removed);
  EXPECT_EQ(acd->Enqueue(ContactId(4), Q("old"), {}).code(), StatusCode::kNotFound);
  Available("alice");
  EXPECT_EQ(OfferedTo(1), "alice");  // the oldest first: its place was kept
  Available("bob");
  EXPECT_EQ(OfferedTo(2), "bob");
  EXPECT_EQ(State(3), ContactState::kWaiting);  // draining to its former member, who is busy
  ASSERT_TRUE(acd->Accept(ContactId(1), A("alice")).ok());
  ASSERT_TRUE(acd->EndHandling(ContactId(1)).ok());
  EXPECT_EQ(OfferedTo(3), "alice");
  EXPECT_TRUE(acd->Remove(ContactId(3)).ok());
}

TEST_F(AcdTest, ReloadAddingAMemberRoutesWaitingContactsAtOnce) {
  ConfigBuilder b;
  b.Queue("q");
  b.Agent("alice", {});
  b.Agent("bob", {"q"});  // explicit membership: alice is not a member yet
  Start(b.c);
  Available("alice");
  Arrive(1, "q");
  EXPECT_EQ(State(1), ContactState::kWaiting);
  b.c.agents[0].queues.push_back(QueueAssignment{0, 0, Duration{0}});
  ASSERT_TRUE(acd->Configure(b.c).ok());
  EXPECT_EQ(OfferedTo(1), "alice");
}

TEST_F(AcdTest, SkillsBasedMembershipWhenNoExplicitMembers) {
  ConfigBuilder b;
  auto& q = b.Queue("support");
  q.skills = {SkillRequirement{b.Skill("support"), 3}};
  b.Agent("weak", {}, {{"support", 2}});
  b.Agent("strong", {}, {{"support", 3}});
  Start(b.c);
  Available("weak");
  Available("strong");
  Arrive(1, "support");
  EXPECT_EQ(OfferedTo(1), "strong");
  EXPECT_EQ(acd->GetQueue(Q("support")).members, 1u);
}

TEST_F(AcdTest, OfferExplanationNamesEveryMemberAndTheRule) {
  ConfigBuilder b;
  b.Queue("q");
  b.Agent("alice", {"q"});
  b.Agent("bob", {"q"});
  b.Agent("carol", {"q"});
  Start(b.c);
  Available("bob");
  clock.AdvanceBy(Seconds(40));
  Available("alice");
  ASSERT_TRUE(acd->SetPresence(A("carol"), Presence::kNotReady, "lunch").ok());
  Arrive(1, "q");
  const Explanation* e = acd->LastOfferExplanation(ContactId(1));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->strategy, "longest-idle");
  ASSERT_EQ(e->agents.size(), 3u);
  EXPECT_EQ(e->agents[0].name, "bob");
  EXPECT_TRUE(e->agents[0].chosen);
  EXPECT_EQ(e->agents[0].reason, "idle 40s");
  EXPECT_EQ(e->agents[1].name, "alice");
  EXPECT_TRUE(e->agents[1].eligible);
  EXPECT_EQ(e->agents[2].reason, "not ready (lunch)");
  EXPECT_NE(FormatExplanation(*e).find("* bob"), std::string::npos);
}

// The summary counted the chosen agent twice ("3 of 2 members eligible").
TEST_F(AcdTest, OfferSummaryCountsChosenAgentOnce) {
  ConfigBuilder b;
  b.Queue("q");
  b.Agent("alice", {"q"});
  b.Agent("bob", {"q"});
  Start(b.c);
  Available("alice");
  Available("bob");
  Arrive(1, "q");
  const Explanation* e = acd->LastOfferExplanation(ContactId(1));
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->summary.find(": 2 of 2 members eligible"), std::string::npos) << e->summary;
}

TEST_F(AcdTest, SameInputsSameEvents) {
  auto run = [&] {
    ConfigBuilder b;
    b.Queue("q", Strategy::kRandom).offer_timeout = Seconds(5);
    for (int i = 0; i < 4; ++i) b.Agent("a" + std::to_string(i), {"q"});
    rec.events.clear();
    clock = VirtualClock(kStart);
    Start(b.c);
    for (int i = 0; i < 4; ++i) Available("a" + std::to_string(i));
    for (uint64_t id = 1; id <= 20; ++id) {
      Arrive(id, "q");
      clock.AdvanceBy(Seconds(id % 3 == 0 ? 6 : 1));
    }
    std::vector<std::tuple<int, uint64_t, uint32_t, int64_t>> log;
    for (const Event& e : rec.events) {
      log.emplace_back(static_cast<int>(e.type), e.contact.value(), e.agent, ToMicros(e.time));
    }
    return log;
  };
  EXPECT_EQ(run(), run());
}

TEST_F(AcdTest, BadCallsGetErrorsNotCrashes) {
  ConfigBuilder b;
  b.Queue("q", Strategy::kLongestIdle, {Channel::kVoice});
  b.Agent("alice", {"q"});
  Start(b.c);
  EXPECT_EQ(acd->Enqueue(ContactId(0), Q("q"), {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(acd->Enqueue(ContactId(1), 99, {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(acd->Enqueue(ContactId(1), Q("q"), Chat()).code(), StatusCode::kInvalidArgument);
  Arrive(1, "q");
  EXPECT_EQ(acd->Enqueue(ContactId(1), Q("q"), {}).code(), StatusCode::kConflict);
  EXPECT_EQ(acd->Accept(ContactId(1), A("alice")).code(), StatusCode::kConflict);
  EXPECT_EQ(acd->EndHandling(ContactId(1)).code(), StatusCode::kConflict);
  EXPECT_EQ(acd->EndWrapUp(ContactId(1), A("alice")).code(), StatusCode::kConflict);
  EXPECT_EQ(acd->SetPresence(42, Presence::kAvailable).code(), StatusCode::kNotFound);
  RoutingConfig bad = b.c;
  bad.agents[0].queues[0].queue = 7;
  EXPECT_EQ(acd->Configure(bad).code(), StatusCode::kInvalidArgument);
}

TEST_F(AcdTest, RestoreKeepsArrivalOrderAndTimesWithoutEvents) {
  ConfigBuilder b;
  b.Queue("sales");
  b.Agent("alice", {"sales"});
  Start(b.c);
  clock.AdvanceBy(Seconds(100));
  // Restored in the order given; the older arrival is served first whatever the call order.
  RestoredContact late;
  late.id = ContactId(2);
  late.queue = Q("sales");
  late.times.arrived = late.times.queued = kStart + Seconds(20);
  RestoredContact early = late;
  early.id = ContactId(1);
  early.times.arrived = early.times.queued = kStart + Seconds(10);
  ASSERT_TRUE(acd->Restore(late).ok());
  ASSERT_TRUE(acd->Restore(early).ok());
  EXPECT_TRUE(rec.events.empty());
  EXPECT_EQ(acd->GetContact(ContactId(1))->times.arrived, kStart + Seconds(10));
  EXPECT_EQ(acd->GetQueue(Q("sales")).waiting, 2u);
  EXPECT_EQ(acd->Restore(early).code(), StatusCode::kConflict);
  Available("alice");
  EXPECT_EQ(OfferedTo(1), "alice");
  EXPECT_EQ(OfferedTo(2), "");
}

TEST_F(AcdTest, RestoreAtAnAgentHoldsItsCapacityAndWrapUpTimer) {
  ConfigBuilder b;
  b.Queue("sales").wrap_up = Seconds(30);
  b.Agent("alice", {"sales"});
  Start(b.c);
  Available("alice");
  rec.events.clear();
  RestoredContact r;
  r.id = ContactId(7);
  r.queue = Q("sales");
  r.agent = A("alice");
  r.stage = WorkStage::kWrapUp;
  r.times.arrived = r.times.queued = kStart - Seconds(60);
  r.times.answered = kStart - Seconds(50);
  r.times.wrap_up = kStart - Seconds(10);
  ASSERT_TRUE(acd->Restore(r).ok());
  EXPECT_EQ(State(7), ContactState::kWrapUp);
  Arrive(8, "sales");  // alice's only voice slot is in wrap-up: 8 waits
  EXPECT_EQ(OfferedTo(8), "");
  clock.AdvanceBy(Seconds(20));  // the wrap-up ends 30 s after it started, 20 s from now
  EXPECT_EQ(State(7), ContactState::kGone);
  EXPECT_EQ(OfferedTo(8), "alice");
}

}  // namespace
}  // namespace parley
