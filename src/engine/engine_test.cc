#include "engine/engine.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/virtual_clock.h"
#include "config/config.h"
#include "config/site_time.h"
#include "store/forwarding_store.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace parley::engine {
namespace {

using ports::Caller;
using ports::ContactSnapshot;
using ports::ContactState;
using ports::PublishedEvent;

const TimePoint kStart = FromMicros(int64_t{1'764'662'400} * 1'000'000);  // 2025-12-02T08:00Z

// A temp directory for the test's lifetime.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "parley-engine-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    PARLEY_CHECK(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The loop thread of these tests: work posted from any thread waits here until the test pumps.
class ManualLoop {
 public:
  Executor executor() {
    return [this](std::function<void()> work) {
      {
        std::lock_guard lock(mu_);
        work_.push_back(std::move(work));
      }
      cv_.notify_all();
    };
  }
  // Runs work until none is queued.
  void RunAll() {
    for (;;) {
      std::function<void()> work;
      {
        std::lock_guard lock(mu_);
        if (work_.empty()) return;
        work = std::move(work_.front());
        work_.pop_front();
      }
      work();
    }
  }
  // Runs work until `done` holds, waiting (bounded) for work posted by other threads (SQLite's
  // journal writer). Returns false on timeout.
  bool RunUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      RunAll();
      if (done()) return true;
      std::unique_lock lock(mu_);
      if (!cv_.wait_until(lock, deadline, [&] { return !work_.empty(); })) return false;
    }
  }
  void Drop() {
    std::lock_guard lock(mu_);
    work_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> work_;
};

// A store whose AppendAsync waits until the test releases it: what the engine does while the
// journal has not said "durable" yet.
class HeldStore final : public store::ForwardingStore {
 public:
  explicit HeldStore(ports::Store& inner) : ForwardingStore(inner) {}
  void AppendAsync(ports::JournalBatch batch, ports::AppendCallback done) override {
    held_.emplace_back(std::move(batch), std::move(done));
  }
  size_t held() const { return held_.size(); }
  void ReleaseOne() {
    auto [batch, done] = std::move(held_.front());
    held_.pop_front();
    inner_.AppendAsync(std::move(batch), std::move(done));
  }
  void ReleaseAll() {
    while (!held_.empty()) ReleaseOne();
  }

 private:
  std::deque<std::pair<ports::JournalBatch, ports::AppendCallback>> held_;
};

// Skills: general. Teams: blue (alice, bob), red (carol). Queues: support, billing (voice, chat,
// task; 20 s offer timeout; 60 s wrap-up; 20 s service level).
std::shared_ptr<config::Config> MakeConfig() {
  auto c = std::make_shared<config::Config>();
  RoutingConfig& r = c->routing;
  r.skills = {"general"};
  r.teams = {TeamDef{"blue", ""}, TeamDef{"red", ""}};
  for (const char* q : {"support", "billing"}) {
    QueueDef def;
    def.name = q;
    def.channels = {Channel::kVoice, Channel::kChat, Channel::kTask};
    def.offer_timeout = Seconds(20);
    def.wrap_up = Seconds(60);
    def.service_level_threshold = Seconds(20);
    r.queues.push_back(def);
  }
  auto agent = [&](const char* name, const char* full, TeamIndex team) {
    AgentDef a;
    a.name = name;
    a.full_name = full;
    a.team = team;
    a.skills = {SkillLevel{0, 3}};
    a.capacity[Index(Channel::kVoice)] = 1;
    a.capacity[Index(Channel::kChat)] = 2;
    a.capacity[Index(Channel::kTask)] = 1;
    a.voice_blocks_other_channels = false;
    a.queues = {QueueAssignment{0, 0, Duration{0}}, QueueAssignment{1, 1, Duration{0}}};
    r.agents.push_back(a);
  };
  agent("alice", "Alice Archer", 0);
  agent("bob", "Bob Baker", 0);
  agent("carol", "Carol Cole", 1);
  r.settings.time_zone = "UTC";
  return c;
}

Caller All() { return Caller{"admin", Caller::Reach::kAll, "", ""}; }
Caller Self(const std::string& agent) { return Caller{agent, Caller::Reach::kSelf, agent, ""}; }
Caller Team(const std::string& team) { return Caller{"lead", Caller::Reach::kTeam, "", team}; }

// One engine over a store, with a virtual clock and a manual loop.
class Harness {
 public:
  Harness(ports::Store& store, std::shared_ptr<const config::Config> cfg, TimePoint start = kStart,
          EngineOptions options = {})
      : clock(start), engine(clock, clock, loop.executor(), store, std::move(cfg), options) {}

  // Calls `call` with a reply that records the result, then pumps the loop until it arrives.
  template <class T>
  Result<T> Run(const std::function<void(ports::Reply<T>)>& call) {
    std::optional<Result<T>> out;
    call([&](Result<T> r) { out.emplace(std::move(r)); });
    EXPECT_TRUE(loop.RunUntil([&] { return out.has_value(); })) << "no reply";
    if (!out) return Status(StatusCode::kInternal, "no reply");
    return std::move(*out);
  }
  Result<ports::AgentSnapshot> SetPresence(const Caller& who, const std::string& agent, Presence p,
                                           const std::string& reason = "") {
    return Run<ports::AgentSnapshot>(
        [&](auto reply) { engine.SetPresence(who, agent, p, reason, std::move(reply)); });
  }
  Result<ContactSnapshot> Create(const std::string& queue, Channel ch = Channel::kTask) {
    ports::NewContact nc;
    nc.channel = ch;
    nc.queue = queue;
    return Run<ContactSnapshot>([&](auto reply) { engine.CreateContact(All(), nc, reply); });
  }
  Result<ContactSnapshot> Accept(const Caller& who, ContactId id, const std::string& agent) {
    return Run<ContactSnapshot>([&](auto reply) { engine.AcceptOffer(who, id, agent, reply); });
  }
  Result<ContactSnapshot> Reject(const Caller& who, ContactId id, const std::string& agent) {
    return Run<ContactSnapshot>([&](auto reply) { engine.RejectOffer(who, id, agent, reply); });
  }
  Result<ContactSnapshot> EndHandling(const Caller& who, ContactId id) {
    return Run<ContactSnapshot>([&](auto reply) { engine.EndHandling(who, id, reply); });
  }
  Result<ContactSnapshot> WrapUp(const Caller& who, ContactId id, const std::string& disposition) {
    return Run<ContactSnapshot>([&](auto reply) {
      engine.CompleteWrapUp(who, id, ports::WrapUp{disposition, "notes"}, reply);
    });
  }
  Result<ContactSnapshot> Get(const Caller& who, ContactId id) {
    return Run<ContactSnapshot>([&](auto reply) { engine.GetContact(who, id, reply); });
  }
  Result<ports::AgentSnapshot> Agent(const Caller& who, const std::string& name) {
    return Run<ports::AgentSnapshot>([&](auto reply) { engine.GetAgent(who, name, reply); });
  }
  Result<ports::QueueSnapshot> Queue(const std::string& name) {
    return Run<ports::QueueSnapshot>([&](auto reply) { engine.GetQueue(All(), name, reply); });
  }

  VirtualClock clock;
  ManualLoop loop;
  Engine engine;
};

// Collects what a subscription delivers.
struct Collector {
  std::vector<PublishedEvent> events;
  ports::EventSink Sink() {
    return [this](const std::vector<PublishedEvent>& batch) {
      events.insert(events.end(), batch.begin(), batch.end());
    };
  }
  std::vector<std::string> Types() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.type);
    return out;
  }
};

std::vector<std::string> JournalTypes(ports::Store& store, ports::Sequence after = 0) {
  std::vector<std::string> out;
  auto entries = store.ReadAfter(after, 1000);
  EXPECT_TRUE(entries.ok());
  for (const auto& e : *entries) out.push_back(std::string(EventTypeName(e.event.type)));
  return out;
}

// ---------------------------------------------------------------------------------------------

TEST(EngineTest, TaskContactLifeIsJournaledPublishedAndCounted) {
  store::MemoryStore store;
  Harness h(store, MakeConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  Collector seen;
  auto sub = h.engine.Subscribe(All(), 0, seen.Sink());
  h.loop.RunAll();

  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto created = h.Create("support");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const ContactId id = created->record.id;
  EXPECT_EQ(id.value(), 1u);
  EXPECT_EQ(created->record.state, ContactState::kOffered);
  EXPECT_EQ(created->record.agent, "alice");
  EXPECT_EQ(created->offered_to, std::vector<std::string>{"alice"});
  EXPECT_EQ(created->record.times.arrived, kStart);

  auto alice = h.Agent(All(), "alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->name, "Alice Archer");
  EXPECT_EQ(alice->team, "blue");
  ASSERT_EQ(alice->contacts.size(), 1u);
  EXPECT_EQ(alice->contacts[0].state, ContactState::kOffered);
  EXPECT_EQ(alice->contacts[0].offer_expires, kStart + Seconds(20));
  EXPECT_EQ(alice->queues, (std::vector<std::string>{"support", "billing"}));

  h.clock.AdvanceBy(Seconds(5));
  auto accepted = h.Accept(Self("alice"), id, "alice");
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->record.state, ContactState::kHandling);
  h.clock.AdvanceBy(Seconds(30));
  auto ended = h.EndHandling(Self("alice"), id);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->record.state, ContactState::kWrapUp);
  h.clock.AdvanceBy(Seconds(10));
  auto closed = h.WrapUp(Self("alice"), id, "resolved");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(closed->record.state, ContactState::kClosed);
  EXPECT_EQ(closed->disposition, "resolved");

  const std::vector<std::string> expected = {
      "agent.presence_changed", "contact.queued",   "contact.offered",
      "offer.accepted",         "handling.started", "handling.ended",
      "wrap_up.started",        "wrap_up.ended",    "contact.closed"};
  EXPECT_EQ(seen.Types(), expected);
  EXPECT_EQ(JournalTypes(store), expected);
  for (size_t i = 0; i < seen.events.size(); ++i) {
    const PublishedEvent& e = seen.events[i];
    EXPECT_EQ(e.seq, i + 1);
    const auto j = nlohmann::json::parse(e.json);
    EXPECT_EQ(j["schema"], 1);
    EXPECT_EQ(j["seq"], i + 1);
    EXPECT_EQ(j["type"], e.type);
  }
  const auto offered = nlohmann::json::parse(seen.events[2].json);
  EXPECT_EQ(offered["agent"], "alice");
  EXPECT_EQ(offered["team"], "blue");
  EXPECT_EQ(offered["queue"], "support");
  EXPECT_EQ(offered["contact"], "1");
  EXPECT_EQ(offered["channel"], "task");
  EXPECT_EQ(offered["time"], "2025-12-02T08:00:00.000000Z");
  EXPECT_EQ(nlohmann::json::parse(seen.events[0].json)["presence"], "available");
  EXPECT_EQ(nlohmann::json::parse(seen.events[7].json)["disposition"], "resolved");
  EXPECT_EQ(seen.events[2].agent, "alice");
  EXPECT_EQ(seen.events[2].team, "blue");
  EXPECT_EQ(seen.events[2].queue, "support");

  // The durable record is the closed contact.
  auto rec = store.GetContact(id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->state, ContactState::kClosed);
  EXPECT_EQ(rec->agent, "alice");
  EXPECT_EQ(rec->times.answered, kStart + Seconds(5));

  auto q = h.Queue("support");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->waiting, 0u);
  EXPECT_EQ(q->offered, 1u);
  EXPECT_EQ(q->answered, 1u);
  EXPECT_EQ(q->abandoned, 0u);
  EXPECT_DOUBLE_EQ(q->service_level, 1.0);
  EXPECT_EQ(q->asa, Seconds(5));
  EXPECT_EQ(q->aht, Seconds(40));  // 30 s talk + 10 s wrap-up
  EXPECT_EQ(q->sl_target, Seconds(20));
  EXPECT_EQ(q->agents_staffed, 1u);
  EXPECT_EQ(q->agents_available, 1u);

  auto m = h.Run<ports::MetricsSnapshot>([&](auto reply) { h.engine.GetMetrics(reply); });
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->last_seq, 9u);
  ASSERT_EQ(m->queues.size(), 2u);
  EXPECT_EQ(m->queues[0].name, "support");
  EXPECT_EQ(m->queues[0].offered_total, 1u);
  EXPECT_EQ(m->queues[0].answered_total, 1u);
  EXPECT_EQ(m->queues[0].answer_wait_sum, Seconds(5));
  ASSERT_EQ(m->queues[0].answer_wait_buckets.size(), 7u);
  EXPECT_EQ(m->queues[0].answer_wait_buckets[0], std::make_pair(Seconds(5), uint64_t{1}));
  EXPECT_EQ(m->queues[0].answer_wait_buckets[6].second, 1u);
  EXPECT_EQ(m->agents_by_presence[1], std::make_pair(Presence::kAvailable, uint32_t{1}));
  EXPECT_EQ(m->agents_by_presence[0], std::make_pair(Presence::kOffline, uint32_t{2}));

  // The next site day starts from nothing; the since-start counters keep counting.
  h.clock.AdvanceBy(std::chrono::hours(24));
  q = h.Queue("support");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->offered, 0u);
  EXPECT_EQ(q->answered, 0u);
  m = h.Run<ports::MetricsSnapshot>([&](auto reply) { h.engine.GetMetrics(reply); });
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->queues[0].answered_total, 1u);
}

// An agent's snapshot lists the queues it serves, through its own list or a queue's members, in
// configuration order.
TEST(EngineTest, AgentSnapshotListsTheQueuesItServes) {
  auto config = MakeConfig();
  QueueDef sales = config->routing.queues[0];
  sales.name = "sales";
  config->routing.queues.push_back(sales);                                  // index 2
  config->routing.queues[0].members = {2};                                  // support: carol
  config->routing.agents[2].queues = {QueueAssignment{2, 0, Duration{0}}};  // carol: sales
  store::MemoryStore store;
  Harness h(store, config);
  ASSERT_TRUE(h.engine.Start().ok());
  auto carol = h.Agent(All(), "carol");
  ASSERT_TRUE(carol.ok()) << carol.status().ToString();
  EXPECT_EQ(carol->queues, (std::vector<std::string>{"support", "sales"}));
  auto alice = h.Agent(All(), "alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->queues, (std::vector<std::string>{"support", "billing"}));
}

TEST(EngineTest, OfferTimeoutIsATimerStepJournaledAndPublished) {
  store::MemoryStore store;
  Harness h(store, MakeConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  Collector seen;
  auto sub = h.engine.Subscribe(All(), 0, seen.Sink());
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto c = h.Create("support");
  ASSERT_TRUE(c.ok());
  const size_t before = seen.events.size();
  h.clock.AdvanceBy(Seconds(20));  // the offer times out on the timer, not in a command
  h.loop.RunAll();
  ASSERT_GT(seen.events.size(), before);
  EXPECT_EQ(seen.events[before].type, "offer.timed_out");
  EXPECT_EQ(JournalTypes(store, before).front(), "offer.timed_out");
  auto rec = store.GetContact(c->record.id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->state, ContactState::kQueued);  // alice refused it: it waits again
}

TEST(EngineTest, ReplyNeverArrivesBeforeItsBatchIsDurable) {
  store::MemoryStore inner;
  HeldStore store(inner);
  Harness h(store, MakeConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  h.loop.RunAll();
  store.ReleaseAll();  // recovery's batch
  h.loop.RunAll();
  Collector seen;
  auto sub = h.engine.Subscribe(All(), 0, seen.Sink());
  h.loop.RunAll();

  std::vector<std::string> order;
  h.engine.SetPresence(All(), "alice", Presence::kAvailable, "", [&](auto r) {
    ASSERT_TRUE(r.ok());
    EXPECT_GE(*inner.LastSequence(), 1u);  // durable before the reply
    order.push_back("presence");
  });
  ports::NewContact nc;
  nc.queue = "support";
  h.engine.CreateContact(All(), nc, [&](auto r) {
    ASSERT_TRUE(r.ok());
    EXPECT_GE(*inner.LastSequence(), 3u);
    order.push_back("contact");
  });
  h.loop.RunAll();
  EXPECT_EQ(store.held(), 2u);
  EXPECT_TRUE(order.empty());
  EXPECT_TRUE(seen.events.empty());
  EXPECT_EQ(*inner.LastSequence(), 0u);

  store.ReleaseOne();
  h.loop.RunAll();
  EXPECT_EQ(order, std::vector<std::string>{"presence"});
  EXPECT_EQ(seen.Types(), std::vector<std::string>{"agent.presence_changed"});

  // Shutdown waits for the outstanding batch, then calls done; later commands are refused.
  bool down = false;
  h.engine.Shutdown([&] { down = true; });
  h.loop.RunAll();
  EXPECT_FALSE(down);
  auto refused = h.SetPresence(All(), "bob", Presence::kAvailable);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  store.ReleaseAll();
  h.loop.RunAll();
  EXPECT_EQ(order, (std::vector<std::string>{"presence", "contact"}));
  EXPECT_EQ(seen.Types(), (std::vector<std::string>{"agent.presence_changed", "contact.queued",
                                                    "contact.offered"}));
  EXPECT_TRUE(down);
}

TEST(EngineTest, ScopeRefusesWhatTheCallerMayNotReach) {
  store::MemoryStore store;
  Harness h(store, MakeConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto c = h.Create("support");
  ASSERT_TRUE(c.ok());
  const ContactId id = c->record.id;
  ASSERT_EQ(c->record.agent, "alice");

  // An agent: only itself and its own contacts.
  EXPECT_EQ(h.Agent(Self("bob"), "alice").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(h.Agent(Self("bob"), "bob").ok());
  EXPECT_EQ(h.SetPresence(Self("bob"), "alice", Presence::kOffline).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(h.Get(Self("bob"), id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Accept(Self("bob"), id, "alice").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Get(Self("bob"), ContactId(999)).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(h.Get(Self("alice"), id).ok());
  auto bobs = h.Run<std::vector<ports::AgentSnapshot>>(
      [&](auto reply) { h.engine.ListAgents(Self("bob"), reply); });
  ASSERT_TRUE(bobs.ok());
  ASSERT_EQ(bobs->size(), 1u);
  EXPECT_EQ((*bobs)[0].id, "bob");

  // A team lead: only the team's agents and their contacts.
  EXPECT_EQ(h.Agent(Team("red"), "alice").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(h.Agent(Team("red"), "carol").ok());
  EXPECT_EQ(h.Get(Team("red"), id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(h.Get(Team("blue"), id).ok());
  auto reds = h.Run<std::vector<ports::AgentSnapshot>>(
      [&](auto reply) { h.engine.ListAgents(Team("red"), reply); });
  ASSERT_TRUE(reds.ok());
  ASSERT_EQ(reds->size(), 1u);
  EXPECT_EQ((*reds)[0].id, "carol");
  auto listed = h.Run<std::vector<ContactSnapshot>>(
      [&](auto reply) { h.engine.ListContacts(Team("red"), {}, reply); });
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  auto all = h.Run<std::vector<ContactSnapshot>>(
      [&](auto reply) { h.engine.ListContacts(All(), {}, reply); });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);

  // The event stream is filtered the same way.
  Collector bob_sees, alice_sees;
  auto s1 = h.engine.Subscribe(Self("bob"), 0, bob_sees.Sink());
  auto s2 = h.engine.Subscribe(Self("alice"), 0, alice_sees.Sink());
  ASSERT_TRUE(h.Accept(Self("alice"), id, "alice").ok());
  EXPECT_TRUE(bob_sees.events.empty());
  EXPECT_EQ(alice_sees.Types(), (std::vector<std::string>{"offer.accepted", "handling.started"}));
}

TEST(EngineTest, ReasonAndDispositionCodesAreChecked) {
  auto cfg = MakeConfig();
  cfg->reason_codes = {config::CodeDef{"lunch", "Lunch"}, config::CodeDef{"training", ""}};
  cfg->disposition_codes = {config::CodeDef{"resolved", "Resolved"}};
  store::MemoryStore store;
  Harness h(store, cfg);
  ASSERT_TRUE(h.engine.Start().ok());

  auto bad = h.SetPresence(All(), "alice", Presence::kNotReady, "coffee");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("lunch"), std::string::npos);
  EXPECT_NE(bad.status().message().find("training"), std::string::npos);
  EXPECT_EQ(h.SetPresence(All(), "alice", Presence::kNotReady, "").status().code(),
            StatusCode::kInvalidArgument);
  auto good = h.SetPresence(All(), "alice", Presence::kNotReady, "lunch");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->presence, Presence::kNotReady);
  EXPECT_EQ(good->reason, "lunch");

  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto c = h.Create("support");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(h.Accept(All(), c->record.id, "alice").ok());
  ASSERT_TRUE(h.EndHandling(All(), c->record.id).ok());
  auto wrong = h.WrapUp(All(), c->record.id, "nope");
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("resolved"), std::string::npos);
  auto still = h.Get(All(), c->record.id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->record.state, ContactState::kWrapUp);
  auto right = h.WrapUp(All(), c->record.id, "resolved");
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(right->record.state, ContactState::kClosed);
}

TEST(EngineTest, RecoveryKeepsQueueOrderAndTimesRequeuesOffersAndWrapsUpVoice) {
  TempDir dir;
  const std::string path = (dir.path() / "parley.db").string();
  auto cfg = MakeConfig();
  ContactId voice, t1, t2, t3;
  TimePoint t2_arrived{}, t3_arrived{};
  {
    auto store = store::SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Harness h(**store, cfg);
    ASSERT_TRUE(h.engine.Start().ok());
    ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
    auto v = h.Create("support", Channel::kVoice);
    ASSERT_TRUE(v.ok());
    voice = v->record.id;
    ASSERT_TRUE(h.Accept(All(), voice, "alice").ok());
    h.clock.AdvanceBy(Seconds(1));
    auto c1 = h.Create("support");  // offered to alice, never answered
    ASSERT_TRUE(c1.ok());
    t1 = c1->record.id;
    ASSERT_EQ(c1->record.state, ContactState::kOffered);
    h.clock.AdvanceBy(Seconds(1));
    auto c2 = h.Create("support");  // alice's task slot is taken: these wait
    h.clock.AdvanceBy(Seconds(1));
    auto c3 = h.Create("support");
    ASSERT_TRUE(c2.ok() && c3.ok());
    t2 = c2->record.id;
    t3 = c3->record.id;
    t2_arrived = c2->record.times.arrived;
    t3_arrived = c3->record.times.arrived;
    ASSERT_EQ(c2->record.state, ContactState::kQueued);
    h.loop.Drop();  // the process dies: no Shutdown
  }
  auto store = store::SqliteStore::Open(path);
  ASSERT_TRUE(store.ok());
  const ports::Sequence before = *(*store)->LastSequence();
  Harness h(**store, cfg, kStart + Seconds(60));
  ASSERT_TRUE(h.engine.Start().ok());

  // Voice in handling has no call any more: alice wraps it up.
  auto v = h.Get(All(), voice);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->record.state, ContactState::kWrapUp);
  EXPECT_EQ(v->record.agent, "alice");
  // The offer died with the process; t1, first in the queue, is offered again at once.
  auto c1 = h.Get(All(), t1);
  ASSERT_TRUE(c1.ok());
  EXPECT_EQ(c1->record.state, ContactState::kOffered);
  EXPECT_EQ(c1->record.times.arrived, kStart + Seconds(1));
  // The others wait with their original times.
  auto c2 = h.Get(All(), t2);
  auto c3 = h.Get(All(), t3);
  ASSERT_TRUE(c2.ok() && c3.ok());
  EXPECT_EQ(c2->record.state, ContactState::kQueued);
  EXPECT_EQ(c2->record.times.arrived, t2_arrived);
  EXPECT_EQ(c2->record.times.queued, t2_arrived);
  EXPECT_EQ(c3->record.times.arrived, t3_arrived);
  auto q = h.Queue("support");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->waiting, 2u);
  EXPECT_EQ(q->longest_wait, kStart + Seconds(60) - t2_arrived);
  // Queue order: when alice turns t1 down, t2 (older) is next, not t3.
  ASSERT_TRUE(h.Reject(All(), t1, "alice").ok());
  c2 = h.Get(All(), t2);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->record.state, ContactState::kOffered);
  EXPECT_EQ(h.Get(All(), t3)->record.state, ContactState::kQueued);

  // Recovery's changes are journaled after what was there.
  const auto types = JournalTypes(**store, before);
  auto has = [&](const char* t) { return std::find(types.begin(), types.end(), t) != types.end(); };
  EXPECT_TRUE(has("offer.withdrawn"));
  EXPECT_TRUE(has("handling.ended"));
  EXPECT_TRUE(has("wrap_up.started"));
  auto rec = (*store)->GetContact(voice);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->state, ContactState::kWrapUp);

  // Contact ids keep counting after the restart.
  auto next = h.Create("billing");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->record.id.value(), t3.value() + 1);
}

TEST(EngineTest, RecoveryKeepsDurableChannelsWithTheirAgent) {
  TempDir dir;
  const std::string path = (dir.path() / "parley.db").string();
  auto cfg = MakeConfig();
  ContactId chat;
  {
    auto store = store::SqliteStore::Open(path);
    ASSERT_TRUE(store.ok());
    Harness h(**store, cfg);
    ASSERT_TRUE(h.engine.Start().ok());
    ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
    auto c = h.Create("billing", Channel::kChat);
    ASSERT_TRUE(c.ok());
    chat = c->record.id;
    ASSERT_TRUE(h.Accept(All(), chat, "bob").ok());
    h.loop.Drop();
  }
  auto store = store::SqliteStore::Open(path);
  ASSERT_TRUE(store.ok());
  Harness h(**store, cfg, kStart + Seconds(30));
  ASSERT_TRUE(h.engine.Start().ok());
  auto c = h.Get(Self("bob"), chat);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->record.state, ContactState::kHandling);
  EXPECT_EQ(c->record.agent, "bob");
  auto bob = h.Agent(All(), "bob");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->presence, Presence::kAvailable);
  ASSERT_EQ(bob->contacts.size(), 1u);
  EXPECT_EQ(bob->contacts[0].state, ContactState::kHandling);
  ASSERT_TRUE(h.EndHandling(Self("bob"), chat).ok());
}

TEST(EngineTest, SubscribeResumesFromTheRingAndBeyondItFromTheJournal) {
  store::MemoryStore store;
  EngineOptions options;
  options.ring_size = 4;
  Harness h(store, MakeConfig(), kStart, options);
  ASSERT_TRUE(h.engine.Start().ok());
  Collector all;  // every event as it was published live
  auto s0 = h.engine.Subscribe(All(), 0, all.Sink());
  h.loop.RunAll();
  for (int i = 0; i < 4; ++i) {  // 8 presence events, seq 1..8; the ring keeps 5..8
    ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
    ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kOffline).ok());
  }

  Collector resumed;
  auto s1 = h.engine.Subscribe(All(), 6, resumed.Sink());
  h.loop.RunAll();
  ASSERT_EQ(resumed.events.size(), 2u);
  EXPECT_EQ(resumed.events[0].seq, 7u);
  EXPECT_EQ(resumed.events[1].seq, 8u);

  // 3 and 4 are only in the journal: read from there, then the ring's 5..8, each once, in order.
  Collector from_journal;
  auto s2 = h.engine.Subscribe(All(), 2, from_journal.Sink());
  h.loop.RunAll();
  ASSERT_EQ(from_journal.events.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(from_journal.events[i].seq, 3 + i);
    EXPECT_EQ(from_journal.events[i].type, "agent.presence_changed");
    EXPECT_EQ(nlohmann::json::parse(from_journal.events[i].json)["seq"], 3 + i);
    EXPECT_EQ(from_journal.events[i].agent, "alice");
  }
  // The journal's copies render as the live ones did.
  ASSERT_EQ(all.events.size(), 8u);
  EXPECT_EQ(from_journal.events[0].json, all.events[2].json);
  EXPECT_EQ(from_journal.events[1].json, all.events[3].json);

  Collector live;
  auto s3 = h.engine.Subscribe(All(), 0, live.Sink());
  h.loop.RunAll();
  EXPECT_TRUE(live.events.empty());

  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  EXPECT_EQ(resumed.events.back().seq, 9u);
  EXPECT_EQ(from_journal.events.back().seq, 9u);
  EXPECT_EQ(from_journal.events.size(), 7u);
  ASSERT_EQ(live.events.size(), 1u);
  EXPECT_EQ(live.events[0].seq, 9u);

  s3.reset();  // unsubscribed: nothing more arrives
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kOffline).ok());
  EXPECT_EQ(live.events.size(), 1u);
  EXPECT_EQ(resumed.events.back().seq, 10u);
}

// Events nobody took live are rendered when a late subscriber replays them from the ring, as a
// live subscriber saw them; a subscriber with a type filter gets only the types it wants, live
// and replayed.
TEST(EngineTest, EventsNobodyTookRenderOnReplayAndFilteredSubscribersGetOnlyWhatTheyWant) {
  store::MemoryStore store;
  Harness h(store, MakeConfig(), kStart);
  ASSERT_TRUE(h.engine.Start().ok());
  Collector presence;  // filtered from the start
  auto s0 = h.engine.Subscribe(
      All(), 0, [](std::string_view type) { return type == "agent.presence_changed"; },
      presence.Sink());
  h.loop.RunAll();
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());  // seq 1
  ASSERT_TRUE(h.Create("support").ok());  // contact events, then alice's offer
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());

  // Only the presence events were rendered (for the filtered subscriber); the rest render now.
  Collector replayed;
  auto s1 = h.engine.Subscribe(All(), 1, replayed.Sink());
  h.loop.RunAll();
  Collector replayed_presence;
  auto s2 = h.engine.Subscribe(
      All(), 1, [](std::string_view type) { return type == "agent.presence_changed"; },
      replayed_presence.Sink());
  h.loop.RunAll();
  const std::vector<std::string> journal = JournalTypes(store, 1);
  ASSERT_EQ(replayed.Types(), journal);
  ASSERT_GT(journal.size(), 2u);
  for (const PublishedEvent& e : replayed.events) {
    const auto json = nlohmann::json::parse(e.json);
    EXPECT_EQ(json["seq"], e.seq);
    EXPECT_EQ(json["type"], e.type);
  }
  EXPECT_EQ(nlohmann::json::parse(replayed.events.front().json)["queue"], "support");
  EXPECT_EQ(nlohmann::json::parse(replayed.events.back().json)["agent"], "bob");

  ASSERT_EQ(presence.Types(),
            (std::vector<std::string>{"agent.presence_changed", "agent.presence_changed"}));
  ASSERT_EQ(replayed_presence.Types(), std::vector<std::string>{"agent.presence_changed"});
  EXPECT_EQ(replayed_presence.events[0].json, presence.events[1].json);
  EXPECT_EQ(replayed_presence.events[0].json, replayed.events.back().json);
}

TEST(EngineTest, SubscribeSaysResetWhenTheJournalNoLongerHasTheEventsOrTheSeqIsAhead) {
  store::MemoryStore store;
  EngineOptions options;
  options.ring_size = 2;
  Harness h(store, MakeConfig(), kStart, options);
  ASSERT_TRUE(h.engine.Start().ok());
  for (int i = 0; i < 2; ++i) {  // seq 1..4 at kStart
    ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
    ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kOffline).ok());
  }
  h.clock.AdvanceBy(std::chrono::hours(2));
  for (int i = 0; i < 2; ++i) {  // seq 5..8 two hours later; the ring keeps 7, 8
    ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
    ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kOffline).ok());
  }
  auto purged = store.Purge(ports::DataClass::kEvents, kStart + std::chrono::hours(1));
  ASSERT_TRUE(purged.ok());
  ASSERT_EQ(*purged, 4u);

  Collector lost;
  auto s1 = h.engine.Subscribe(All(), 2, lost.Sink());
  h.loop.RunAll();
  ASSERT_EQ(lost.events.size(), 1u);
  EXPECT_EQ(lost.events[0].type, "reset");
  EXPECT_EQ(lost.events[0].seq, 8u);
  const auto reset = nlohmann::json::parse(lost.events[0].json);
  EXPECT_EQ(reset["type"], "reset");
  EXPECT_EQ(reset["after"], 2);
  EXPECT_EQ(reset["seq"], 8);
  EXPECT_NE(reset["reason"].get<std::string>().find("no longer in the journal"), std::string::npos)
      << reset.dump();

  Collector kept;  // 5 and 6 survived the purge: from the journal, then 7 and 8 from the ring
  auto s2 = h.engine.Subscribe(All(), 4, kept.Sink());
  h.loop.RunAll();
  ASSERT_EQ(kept.events.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(kept.events[i].seq, 5 + i);

  Collector ahead;  // a client of another data directory, or of one restored from a backup
  auto s3 = h.engine.Subscribe(All(), 50, ahead.Sink());
  h.loop.RunAll();
  ASSERT_EQ(ahead.events.size(), 1u);
  EXPECT_EQ(ahead.events[0].type, "reset");
  EXPECT_NE(ahead.events[0].json.find("ends at 8"), std::string::npos) << ahead.events[0].json;

  // A client that missed more than it may be sent in one go re-reads the state too.
  Harness capped(store, MakeConfig(), kStart + std::chrono::hours(2),
                 EngineOptions{.ring_size = 2, .max_resume_events = 3});
  ASSERT_TRUE(capped.engine.Start().ok());
  Collector too_many;
  auto s4 = capped.engine.Subscribe(All(), 4, too_many.Sink());
  capped.loop.RunAll();
  ASSERT_EQ(too_many.events.size(), 1u);
  EXPECT_EQ(too_many.events[0].type, "reset");
  EXPECT_NE(too_many.events[0].json.find("more than 3 events were missed"), std::string::npos)
      << too_many.events[0].json;
  Collector three;
  auto s5 = capped.engine.Subscribe(All(), 5, three.Sink());
  capped.loop.RunAll();
  ASSERT_EQ(three.events.size(), 3u);  // from the journal: a fresh engine's ring is empty
  EXPECT_EQ(three.events[0].seq, 6u);
  EXPECT_EQ(three.events[2].seq, 8u);
  capped.loop.Drop();

  // All three are live afterwards.
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  for (Collector* c : {&lost, &kept, &ahead}) {
    EXPECT_EQ(c->events.back().seq, 9u);
    EXPECT_EQ(c->events.back().type, "agent.presence_changed");
  }
}

TEST(EngineTest, TodaysQueueStatisticsSurviveARestartAndYesterdaysDoNot) {
  store::MemoryStore store;
  ports::QueueSnapshot before;
  {
    Harness h(store, MakeConfig());
    ASSERT_TRUE(h.engine.Start().ok());
    ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
    auto answered = h.Create("support");
    ASSERT_TRUE(answered.ok());
    h.clock.AdvanceBy(Seconds(4));
    ASSERT_TRUE(h.Accept(All(), answered->record.id, "alice").ok());
    h.clock.AdvanceBy(Seconds(60));
    ASSERT_TRUE(h.EndHandling(All(), answered->record.id).ok());
    h.clock.AdvanceBy(Seconds(10));
    ASSERT_TRUE(h.WrapUp(All(), answered->record.id, "resolved").ok());
    auto waiting = h.Create("support");  // alice is wrapping up nothing now: offered to her
    ASSERT_TRUE(waiting.ok());
    h.clock.AdvanceBy(Seconds(30));
    auto gave_up = h.Run<ContactSnapshot>(
        [&](auto reply) { h.engine.CancelContact(All(), waiting->record.id, reply); });
    ASSERT_TRUE(gave_up.ok()) << gave_up.status().ToString();
    auto q = h.Queue("support");
    ASSERT_TRUE(q.ok());
    before = *q;
    ASSERT_EQ(before.answered, 1u);
    ASSERT_GE(before.offered, 2u);
    h.loop.Drop();
  }
  {
    Harness h(store, MakeConfig(), kStart + Seconds(200));  // the same day
    ASSERT_TRUE(h.engine.Start().ok());
    auto after = h.Queue("support");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->offered, before.offered);
    EXPECT_EQ(after->answered, before.answered);
    EXPECT_EQ(after->abandoned, before.abandoned);
    EXPECT_DOUBLE_EQ(after->service_level, before.service_level);
    EXPECT_EQ(after->asa, before.asa);
    EXPECT_EQ(after->aht, before.aht);
    h.loop.Drop();
  }
  Harness next_day(store, MakeConfig(), kStart + std::chrono::hours(24));
  ASSERT_TRUE(next_day.engine.Start().ok());
  auto fresh = next_day.Queue("support");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->offered, 0u);
  EXPECT_EQ(fresh->answered, 0u);
}

TEST(EngineTest, TransferCancelExplainAndReconfigure) {
  store::MemoryStore store;
  Harness h(store, MakeConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto c = h.Create("support");
  ASSERT_TRUE(c.ok());
  const ContactId id = c->record.id;
  auto why = h.Run<std::string>([&](auto reply) { h.engine.ExplainContact(All(), id, reply); });
  ASSERT_TRUE(why.ok()) << why.status().ToString();
  EXPECT_NE(why->find("alice"), std::string::npos);
  ASSERT_TRUE(h.Accept(All(), id, "alice").ok());
  h.clock.AdvanceBy(Seconds(3));
  auto moved = h.Run<ContactSnapshot>(
      [&](auto reply) { h.engine.TransferContact(Self("alice"), id, {.name = "billing"}, reply); });
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->record.state, ContactState::kQueued);
  EXPECT_EQ(moved->record.queue, "billing");
  EXPECT_EQ(moved->record.times.arrived, kStart);  // keeps its arrival
  // Alice handled it, so she still sees it; carol's lead does not.
  EXPECT_TRUE(h.Get(Self("alice"), id).ok());
  auto cancelled =
      h.Run<ContactSnapshot>([&](auto reply) { h.engine.CancelContact(All(), id, reply); });
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->record.state, ContactState::kClosed);
  EXPECT_EQ(store.GetContact(id)->state, ContactState::kClosed);

  auto bad = MakeConfig();
  bad->routing.settings.time_zone = "Nowhere/Atlantis";
  EXPECT_FALSE(h.engine.Reconfigure(bad).ok());
  auto more = MakeConfig();
  QueueDef sales = more->routing.queues[0];
  sales.name = "sales";
  more->routing.queues.push_back(sales);
  std::optional<Status> applied;
  ASSERT_TRUE(h.engine.Reconfigure(more, [&](Status s) { applied = s; }).ok());
  ASSERT_TRUE(h.loop.RunUntil([&] { return applied.has_value(); }));
  EXPECT_TRUE(applied->ok()) << applied->ToString();
  auto q = h.Queue("sales");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->name, "sales");
  EXPECT_EQ(h.Queue("nowhere").status().code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// The live view (engine/snapshot.h)

// Every field of an agent's view, for comparing the live view's answer with the port's.
nlohmann::json Fields(const ports::AgentSnapshot& a) {
  nlohmann::json contacts = nlohmann::json::array();
  for (const ports::HeldContact& h : a.contacts) {
    contacts.push_back({h.contact.value(), static_cast<int>(h.channel), static_cast<int>(h.state),
                        h.queue, ToMicros(h.since), ToMicros(h.offer_expires)});
  }
  nlohmann::json capacity = nlohmann::json::array();
  for (const auto& [channel, n] : a.capacity) capacity.push_back({static_cast<int>(channel), n});
  return {a.id,           a.name,
          a.team,         static_cast<int>(a.presence),
          a.reason,       ToMicros(a.presence_since),
          a.skills,       capacity,
          contacts,       a.queues,
          a.handled_today};
}

nlohmann::json Fields(const ports::QueueSnapshot& q) {
  nlohmann::json channels = nlohmann::json::array();
  for (Channel c : q.channels) channels.push_back(static_cast<int>(c));
  return {q.name,
          channels,
          q.priority,
          q.waiting,
          q.longest_wait.count(),
          q.agents_staffed,
          q.agents_available,
          q.agents_busy,
          q.offered,
          q.answered,
          q.abandoned,
          q.service_level,
          q.asa.count(),
          q.aht.count(),
          q.sl_target.count(),
          q.sl_target_fraction,
          static_cast<int>(q.recording)};
}

// The live view answers every agent and queue read as the port does now, for callers of every
// reach, refusals included.
void ExpectLiveViewMatchesThePort(Harness& h, const std::string& when) {
  SCOPED_TRACE(when);
  h.loop.RunAll();
  const ports::LiveView& live = h.engine.live_view();
  const TimePoint now = h.clock.Now();
  for (const Caller& who : {All(), Self("alice"), Self("carol"), Team("blue"), Team("red")}) {
    for (const std::string name : {"alice", "bob", "carol", "nobody"}) {
      auto port = h.Agent(who, name);
      auto read = live.Agent(who, name, now);
      ASSERT_EQ(port.ok(), read.ok()) << who.user << "/" << who.team << " reads " << name;
      if (!port.ok()) {
        EXPECT_EQ(read.status().ToString(), port.status().ToString());
        continue;
      }
      EXPECT_EQ(Fields((*read)->view), Fields(*port)) << name;
    }
  }
  for (const std::string name : {"support", "billing", "sales", "nowhere"}) {
    auto port = h.Queue(name);
    auto read = live.Queue(Self("alice"), name, now);
    ASSERT_EQ(port.ok(), read.ok()) << name;
    if (port.ok()) {
      EXPECT_EQ(Fields(*read), Fields(*port)) << name;
    } else {
      EXPECT_EQ(read.status().ToString(), port.status().ToString());
    }
  }
  auto port = h.Run<std::vector<ports::QueueSnapshot>>(
      [&](auto reply) { h.engine.ListQueues(All(), reply); });
  auto read = live.Queues(All(), now);
  ASSERT_TRUE(port.ok() && read.ok());
  ASSERT_EQ(read->size(), port->size());
  for (size_t i = 0; i < port->size(); ++i) EXPECT_EQ(Fields((*read)[i]), Fields((*port)[i]));
}

TEST(EngineLiveViewTest, AnswersAsThePortDoesAfterEveryKindOfStepAndBetweenThem) {
  store::MemoryStore store;
  Harness h(store, MakeConfig());
  EXPECT_EQ(h.engine.live_view().Agent(All(), "alice", kStart).status().code(),
            StatusCode::kUnavailable);  // nothing published before the first step
  ASSERT_TRUE(h.engine.Start().ok());
  ExpectLiveViewMatchesThePort(h, "after start");
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kNotReady, "lunch").ok());
  ExpectLiveViewMatchesThePort(h, "presence");
  auto first = h.Create("support");
  ASSERT_TRUE(first.ok());
  ExpectLiveViewMatchesThePort(h, "offered");
  h.clock.AdvanceBy(Seconds(5));
  ASSERT_TRUE(h.Accept(Self("alice"), first->record.id, "alice").ok());
  auto waiting = h.Create("billing");  // alice's one task slot is taken: it waits
  ASSERT_TRUE(waiting.ok());
  h.clock.AdvanceBy(Seconds(7));  // no step: the longest wait runs with the clock
  ExpectLiveViewMatchesThePort(h, "handling, one waiting for 7 s");
  ASSERT_TRUE(h.EndHandling(Self("alice"), first->record.id).ok());
  ASSERT_TRUE(h.WrapUp(Self("alice"), first->record.id, "resolved").ok());
  ExpectLiveViewMatchesThePort(h, "wrapped up, the waiting call offered");
  h.clock.AdvanceBy(Seconds(25));  // the offer times out: a timer step
  ExpectLiveViewMatchesThePort(h, "offer timed out");
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto taken = h.Accept(Self("alice"), waiting->record.id, "alice");
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  ExpectLiveViewMatchesThePort(h, "offered again and accepted");
  auto moved = h.Run<ContactSnapshot>([&](auto reply) {
    h.engine.TransferContact(All(), waiting->record.id, {.name = "support"}, reply);
  });
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  ASSERT_TRUE(h.Run<ContactSnapshot>([&](auto r) {
                 h.engine.CancelContact(All(), waiting->record.id, r);
               }).ok());
  ExpectLiveViewMatchesThePort(h, "transferred and cancelled");

  auto more = MakeConfig();
  QueueDef sales = more->routing.queues[0];
  sales.name = "sales";
  more->routing.queues.push_back(sales);
  more->routing.agents[2].team = 0;  // carol joins blue
  std::optional<Status> applied;
  ASSERT_TRUE(h.engine.Reconfigure(more, [&](Status s) { applied = s; }).ok());
  ASSERT_TRUE(h.loop.RunUntil([&] { return applied.has_value(); }));
  ExpectLiveViewMatchesThePort(h, "reconfigured");

  // Past midnight with no step: nothing handled or offered today yet.
  ASSERT_EQ(h.Agent(All(), "alice")->handled_today, 1u);
  h.clock.AdvanceTo(kStart + std::chrono::hours(17));
  ExpectLiveViewMatchesThePort(h, "the next day");
  EXPECT_EQ((*h.engine.live_view().Agent(All(), "alice", h.clock.Now()))->view.handled_today, 0u);
}

TEST(EngineLiveViewTest, IsPublishedWhenTheStepIsDurableBeforeItsReply) {
  store::MemoryStore memory;
  HeldStore store(memory);
  Harness h(store, MakeConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  store.ReleaseAll();
  h.loop.RunAll();
  const ports::LiveView& live = h.engine.live_view();
  std::optional<Presence> seen_at_reply;
  h.engine.SetPresence(
      All(), "alice", Presence::kAvailable, "", [&](Result<ports::AgentSnapshot> r) {
        ASSERT_TRUE(r.ok());
        seen_at_reply = (*live.Agent(All(), "alice", h.clock.Now()))->view.presence;
      });
  h.loop.RunAll();
  ASSERT_EQ(store.held(), 1u);  // the step is not durable yet: readers see the state before it
  EXPECT_EQ((*live.Agent(All(), "alice", h.clock.Now()))->view.presence, Presence::kOffline);
  store.ReleaseAll();
  ASSERT_TRUE(h.loop.RunUntil([&] { return seen_at_reply.has_value(); }));
  EXPECT_EQ(*seen_at_reply, Presence::kAvailable);
}

TEST(EngineLiveViewTest, AStepRerendersOnlyTheAgentsAndQueuesItTouched) {
  store::MemoryStore store;
  std::map<std::string, int> renders;
  EngineOptions options;
  options.render_agent = [&renders](const ports::AgentSnapshot& a) {
    ++renders[a.id];
    return "{\"id\":\"" + a.id + "\",\"presence\":" + std::to_string(static_cast<int>(a.presence)) +
           "}";
  };
  auto config = MakeConfig();
  config->routing.agents[2].queues = {QueueAssignment{1, 0, Duration{0}}};  // carol: billing only
  Harness h(store, config, kStart, options);
  ASSERT_TRUE(h.engine.Start().ok());
  h.loop.RunAll();
  const ports::LiveView& live = h.engine.live_view();
  EXPECT_EQ(renders, (std::map<std::string, int>{{"alice", 1}, {"bob", 1}, {"carol", 1}}));
  const auto carol = *live.Agent(All(), "carol", h.clock.Now());
  const auto bob = *live.Agent(All(), "bob", h.clock.Now());

  ASSERT_TRUE(h.SetPresence(All(), "carol", Presence::kAvailable).ok());
  EXPECT_EQ(renders, (std::map<std::string, int>{{"alice", 1}, {"bob", 1}, {"carol", 2}}));
  const auto carol_now = *live.Agent(All(), "carol", h.clock.Now());
  EXPECT_EQ(carol_now->json, "{\"id\":\"carol\",\"presence\":1}");  // the renderer's text
  EXPECT_NE(carol_now.get(), carol.get());
  EXPECT_EQ(live.Agent(All(), "bob", h.clock.Now())->get(), bob.get());  // shared, not copied
  EXPECT_EQ(live.Queue(All(), "billing", h.clock.Now())->agents_staffed, 1u);
  EXPECT_EQ(live.Queue(All(), "support", h.clock.Now())->agents_staffed, 0u);
}

TEST(EngineLiveViewTest, DayWindowsFollowTheSiteCalendarAcrossDaylightSaving) {
  auto paris = config::SiteDayFunction("Europe/Paris");
  ASSERT_TRUE(paris.ok());
  // 2025-03-30 in Paris: 23 hours, from 2025-03-29T23:00Z to 2025-03-30T22:00Z.
  const TimePoint noon = FromMicros(int64_t{1'743'336'000} * 1'000'000);  // 2025-03-30T12:00Z
  const DayWindow w = DayWindowOf(*paris, noon);
  EXPECT_EQ(w.from, FromMicros(int64_t{1'743'289'200} * 1'000'000));
  EXPECT_EQ(w.until, FromMicros(int64_t{1'743'372'000} * 1'000'000));
  EXPECT_TRUE(w.Contains(w.from));
  EXPECT_FALSE(w.Contains(w.until));
  EXPECT_FALSE(w.Contains(w.from - Duration(1)));
}

// A loop on its own thread, as in production: the test thread calls the port concurrently.
class ThreadLoop {
 public:
  ThreadLoop() : thread_([this] { Run(); }) {}
  ~ThreadLoop() { Stop(); }
  Executor executor() {
    return [this](std::function<void()> work) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        work_.push_back(std::move(work));
      }
      cv_.notify_all();
    };
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !work_.empty(); });
      if (work_.empty()) return;
      auto work = std::move(work_.front());
      work_.pop_front();
      lock.unlock();
      work();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> work_;
  bool stopping_ = false;
  std::thread thread_;
};

TEST(EngineTest, DroppedSubscriptionGetsNothingMoreEvenWhileTheLoopPublishes) {
  store::MemoryStore store;
  VirtualClock clock(kStart);
  ThreadLoop loop;
  auto engine = std::make_unique<Engine>(clock, clock, loop.executor(), store, MakeConfig());
  std::promise<Status> started;
  loop.executor()([&] { started.set_value(engine->Start()); });
  ASSERT_TRUE(started.get_future().get().ok());

  std::atomic<int> delivered{0};
  std::atomic<bool> dropped{false};
  std::atomic<bool> called_after_drop{false};
  auto sub = engine->Subscribe(All(), 0, [&](const std::vector<PublishedEvent>& batch) {
    if (dropped) called_after_drop = true;
    delivered += static_cast<int>(batch.size());
  });
  constexpr int kCommands = 400;
  std::atomic<int> replies{0};
  std::promise<void> all_replied;
  for (int i = 0; i < kCommands; ++i) {
    engine->SetPresence(All(), "alice", i % 2 == 0 ? Presence::kAvailable : Presence::kOffline, "",
                        [&](auto) {
                          if (++replies == kCommands) all_replied.set_value();
                        });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (delivered == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_GT(delivered.load(), 0);
  sub.reset();  // from this thread, while the loop keeps publishing
  dropped = true;
  ASSERT_EQ(all_replied.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_FALSE(called_after_drop.load());
  loop.Stop();
  engine.reset();
}

TEST(EngineTest, NormaliseIdentityKeepsPhoneDigitsAndLowersEmail) {
  using ports::CustomerIdentity;
  EXPECT_EQ(NormaliseIdentity({Channel::kSms, " +44 (20) 7946-0001"}),
            (CustomerIdentity{Channel::kVoice, "+442079460001"}));
  EXPECT_EQ(NormaliseIdentity({Channel::kVoice, "020 7946"}),
            (CustomerIdentity{Channel::kVoice, "0207946"}));
  EXPECT_EQ(NormaliseIdentity({Channel::kEmail, "Ann.Lee@Example.COM "}),
            (CustomerIdentity{Channel::kEmail, "ann.lee@example.com"}));
  EXPECT_EQ(NormaliseIdentity({Channel::kChat, "  @ann "}),
            (CustomerIdentity{Channel::kChat, "@ann"}));
  EXPECT_EQ(NormaliseIdentity({Channel::kVoice, "+"}).address, "");
}

TEST(EngineTest, ContactFromAnIdentityIsAttachedToItsCustomerCreatedOffTheLoopIfNew) {
  store::MemoryStore store;
  ports::Customer ann;
  ann.name = "Ann";
  ann.identities = {{Channel::kEmail, "ann@example.com"}};
  auto ann_id = store.CreateCustomer(ann);
  ASSERT_TRUE(ann_id.ok());
  // The worker queues the blocking store work; the test runs it, as another thread would.
  std::deque<std::function<void()>> worker;
  EngineOptions options;
  options.customer_worker = [&](std::function<void()> work) { worker.push_back(std::move(work)); };
  Harness h(store, MakeConfig(), kStart, options);
  ASSERT_TRUE(h.engine.Start().ok());
  Collector seen;
  auto sub = h.engine.Subscribe(All(), 0, seen.Sink());
  h.loop.RunAll();

  auto create = [&](Channel ch, const std::string& address) {
    ports::NewContact nc;
    nc.channel = Channel::kVoice;  // the queues take voice, chat and tasks
    nc.queue = "support";
    nc.from = ports::CustomerIdentity{ch, address};
    std::optional<Result<ContactSnapshot>> out;
    h.engine.CreateContact(All(), nc,
                           [&](Result<ContactSnapshot> r) { out.emplace(std::move(r)); });
    for (int i = 0; i < 100 && !out; ++i) {
      h.loop.RunAll();
      while (!worker.empty()) {
        auto w = std::move(worker.front());
        worker.pop_front();
        w();
      }
    }
    EXPECT_TRUE(out.has_value()) << "no reply";
    return out ? std::move(*out) : Result<ContactSnapshot>(Status(StatusCode::kInternal, "none"));
  };

  // Known at Start: attached from the index, no store call.
  auto from_ann = create(Channel::kEmail, "ANN@example.com");
  ASSERT_TRUE(from_ann.ok()) << from_ann.status().ToString();
  EXPECT_EQ(from_ann->record.customer, *ann_id);

  // Unknown: created once, then found in the index on every phone channel.
  auto first = create(Channel::kVoice, "+44 20 7946 0001");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const ports::CustomerId created = first->record.customer;
  ASSERT_TRUE(created.valid());
  EXPECT_NE(created, *ann_id);
  auto second = create(Channel::kSms, "+442079460001");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->record.customer, created);
  auto stored = store.GetCustomer(created);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->identities,
            (std::vector<ports::CustomerIdentity>{{Channel::kVoice, "+442079460001"}}));
  EXPECT_EQ(store.GetContact(second->record.id)->customer, created);

  // contact.queued names the customer.
  int queued_with_customer = 0;
  for (const auto& e : seen.events) {
    if (e.type != "contact.queued") continue;
    auto j = nlohmann::json::parse(e.json);
    if (j.contains("customer")) ++queued_with_customer;
    if (e.contact == second->record.id) {
      EXPECT_EQ(j["customer"], std::to_string(created.value()));
    }
  }
  EXPECT_EQ(queued_with_customer, 3);

  EXPECT_EQ(create(Channel::kVoice, "--").status().code(), StatusCode::kInvalidArgument);

  // A restarted engine loads the index again: no new customer.
  Harness again(store, MakeConfig(), kStart + Seconds(60), options);
  ASSERT_TRUE(again.engine.Start().ok());
  ports::NewContact nc;
  nc.channel = Channel::kVoice;
  nc.queue = "support";
  nc.from = ports::CustomerIdentity{Channel::kCallback, "+442079460001"};
  auto third =
      again.Run<ContactSnapshot>([&](auto reply) { again.engine.CreateContact(All(), nc, reply); });
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->record.customer, created);
  EXPECT_TRUE(worker.empty());
}

// ---------------------------------------------------------------------------------------------
// Flows and channels: config/demo.yaml's flow `main` (welcome, opening hours, menu 1 sales,
// 2 support, 3 billing) on the voice entry point "+33123456789", with a fake voice adapter.

// What the engine asked of the voice channel, in order.
class FakeChannel final : public ports::ChannelAdapter {
 public:
  void Play(ContactId c, const ports::PlayRequest& r) override {
    plays.push_back(r);
    calls.push_back("play " + std::to_string(c.value()));
  }
  void StopPlayback(ContactId c) override { calls.push_back("stop " + std::to_string(c.value())); }
  void SendText(ContactId c, const ports::TextMessage&) override {
    calls.push_back("text " + std::to_string(c.value()));
  }
  void Hangup(ContactId c) override { calls.push_back("hangup " + std::to_string(c.value())); }
  void OfferToAgent(ContactId c, const std::string& agent, Duration timeout) override {
    calls.push_back("offer " + std::to_string(c.value()) + " " + agent + " " +
                    std::to_string(ToSeconds(timeout)) + "s");
  }
  void OfferWithdrawn(ContactId c, const std::string& agent) override {
    calls.push_back("withdrawn " + std::to_string(c.value()) + " " + agent);
  }
  void ContactEnded(ContactId c) override { calls.push_back("ended " + std::to_string(c.value())); }
  void PrepareRecording(ContactId c, const ports::RecordingPlan& plan) override {
    calls.push_back("plan " + std::to_string(c.value()) + (plan.record ? " record" : "") +
                    (plan.announcement.empty() ? "" : " announce"));
  }
  void RecordingControl(ContactId c, ports::RecordingCommand command) override {
    calls.push_back("recording " + std::to_string(c.value()) + " " +
                    std::to_string(static_cast<int>(command)));
  }
  void ControlCall(ContactId c, ports::CallCommand command,
                   std::function<void(Status)> done) override {
    const std::string id = std::to_string(c.value());
    if (auto* h = std::get_if<ports::HoldCall>(&command)) {
      calls.push_back((h->on_hold ? "hold " : "resume ") + id);
    } else if (auto* m = std::get_if<ports::MuteAgent>(&command)) {
      calls.push_back((m->muted ? "mute " : "unmute ") + id);
    } else if (auto* d = std::get_if<ports::SendDigitsToCustomer>(&command)) {
      calls.push_back("digits " + id + " " + d->digits);
    } else if (auto* r = std::get_if<ports::ReleaseAgent>(&command)) {
      calls.push_back("release " + id + " " + r->agent);
    } else if (auto* m = std::get_if<ports::MonitorCall>(&command)) {
      calls.push_back("monitor " + id + " " + m->supervisor + " " +
                      (m->mode ? std::to_string(static_cast<int>(*m->mode)) : "stop"));
    } else if (auto* k = std::get_if<ports::ConsultCall>(&command)) {
      static constexpr const char* kSteps[] = {"start", "complete", "cancel", "conference"};
      calls.push_back("consult " + id + " " + kSteps[static_cast<int>(k->step)] + " " + k->target);
    } else if (auto* b = std::get_if<ports::BlindTransferCall>(&command)) {
      calls.push_back("blind " + id +
                      (b->kind == ports::BlindTransferCall::Kind::kAgent ? " agent " : " number ") +
                      b->target);
    }
    if (done) done(control_status);
  }
  void PlaceCall(ContactId c, ports::OutboundDial dial, std::function<void(Status)> done) override {
    calls.push_back("dial " + std::to_string(c.value()) + " " + dial.agent + " " + dial.number +
                    (dial.recording.record ? " record" : "") + (dial.offer ? " offer" : ""));
    done(control_status);
  }

  void RecordVoicemail(ContactId c, const ports::VoicemailRequest& r) override {
    calls.push_back("voicemail " + std::to_string(c.value()) + " " + r.mailbox + " " +
                    std::to_string(ToSeconds(r.max_length)) + "s " + r.prompt.text);
  }

  Status control_status;  // what ControlCall and PlaceCall answer
  bool Called(const std::string& call) const {
    return std::find(calls.begin(), calls.end(), call) != calls.end();
  }
  std::vector<ports::PlayRequest> plays;
  std::vector<std::string> calls;
};

std::shared_ptr<const config::Config> DemoConfig() {
  std::vector<config::ConfigError> errors;
  auto c = config::LoadConfigFile(std::string(PARLEY_SOURCE_DIR) + "/config/demo.yaml", &errors);
  PARLEY_CHECK(c.ok());
  return *c;
}

// 2025-12-07 is a Sunday: the demo's office schedule is closed all day.
const TimePoint kSunday = FromMicros(int64_t{1'765'101'600} * 1'000'000);  // 2025-12-07T10:00Z

class FlowHarness : public Harness {
 public:
  explicit FlowHarness(ports::Store& store, TimePoint start = kStart)
      : Harness(store, DemoConfig(), start) {
    engine.AttachChannel(Channel::kVoice, &voice);
  }
  FlowHarness(ports::Store& store, std::shared_ptr<const config::Config> cfg)
      : Harness(store, std::move(cfg), kStart) {
    engine.AttachChannel(Channel::kVoice, &voice);
  }
  Result<ContactSnapshot> Call(const std::string& entry = "+33123456789") {
    ports::ArrivingContact ac;
    ac.channel = Channel::kVoice;
    ac.entry = entry;
    ac.language = "fr-FR";
    ac.attributes = {{"sip.call_id", "abc@host"}};
    ac.from = ports::CustomerIdentity{Channel::kVoice, "+33 6 12 34 56 78"};
    return Run<ContactSnapshot>([&](auto reply) { engine.ContactArrived(ac, reply); });
  }
  void Input(ContactId id, ports::ChannelInput input) {
    engine.ChannelInputFor(id, std::move(input));
    loop.RunAll();
  }
  // The prompt playing now has ended.
  void PromptEnded(ContactId id) { Input(id, ports::PromptEnded{voice.plays.back().play_id}); }
  // Welcome, open, menu: digit `key`.
  void ThroughMenu(ContactId id, const std::string& key) {
    PromptEnded(id);  // welcome
    ASSERT_EQ(voice.plays.size(), 2u);
    EXPECT_NE(voice.plays.back().prompt.text.find("For sales press 1"), std::string::npos);
    Input(id, ports::DigitsPressed{key});  // during the menu prompt (barge-in)
  }

  FakeChannel voice;
};

// The flow events of `contact` in the journal, as "type step [exit|outcome]".
std::vector<std::string> FlowTrail(ports::Store& store, ContactId contact) {
  std::vector<std::string> out;
  auto entries = store.ReadAfter(0, 10000);
  EXPECT_TRUE(entries.ok());
  for (const auto& e : *entries) {
    if (e.event.contact != contact || !IsFlowEvent(e.event.type)) continue;
    const FlowEventFields f = ParseFlowEventFields(e.event.text);
    std::string line = std::string(EventTypeName(e.event.type)) + " " + f.step;
    if (!f.exit.empty()) line += " " + f.exit;
    if (!f.outcome.empty()) line += " " + f.outcome;
    out.push_back(std::move(line));
  }
  return out;
}

TEST(EngineFlowTest, CallRunsTheMenuIntoSupportRingsTheAgentsPhoneAndWrapsUpWhenTheCallerHangsUp) {
  store::MemoryStore store;
  FlowHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  Collector seen;
  auto sub = h.engine.Subscribe(All(), 0, seen.Sink());
  ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());

  auto c = h.Call();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ContactId id = c->record.id;
  EXPECT_EQ(c->record.state, ContactState::kInFlow);
  EXPECT_TRUE(c->record.customer.valid());  // attached from the caller's number
  ASSERT_EQ(h.voice.plays.size(), 1u);      // the flow started after the reply
  EXPECT_EQ(h.voice.plays[0].prompt.text, "Welcome to Demo.");
  EXPECT_EQ(h.voice.calls, std::vector<std::string>{"play 1"});

  h.ThroughMenu(id, "2");
  auto queued = h.Get(All(), id);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->record.state, ContactState::kOffered);
  EXPECT_EQ(queued->record.queue, "support");
  EXPECT_EQ(queued->record.agent, "dave");
  EXPECT_TRUE(h.voice.Called("offer 1 dave 20.000000s")) << ::testing::PrintToString(h.voice.calls);

  h.clock.AdvanceBy(Seconds(4));
  auto accepted = h.Accept(All(), id, "dave");  // the phone answered
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->record.state, ContactState::kHandling);
  EXPECT_TRUE(h.voice.Called("stop 1"));  // AgentConnected reached the flow

  h.clock.AdvanceBy(Seconds(30));
  h.Input(id, ports::CustomerLeft{});
  auto after = h.Get(All(), id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->record.state, ContactState::kWrapUp);
  EXPECT_EQ(after->record.agent, "dave");
  EXPECT_FALSE(h.voice.Called("ended 1"));  // the leg is already gone
  EXPECT_FALSE(h.voice.Called("withdrawn 1 dave"));

  EXPECT_EQ(FlowTrail(store, id),
            (std::vector<std::string>{
                "flow.step_entered welcome", "flow.step_exited welcome next",
                "flow.step_entered hours", "flow.step_exited hours open", "flow.step_entered menu",
                "flow.step_exited menu 2", "flow.step_entered support",
                "flow.step_exited support connected", "flow.ended support connected"}));
  // Published with its fields, in journal order with the routing events.
  std::optional<nlohmann::json> ended;
  std::vector<std::string> types;
  for (const auto& e : seen.events) {
    if (e.contact != id) continue;
    types.push_back(e.type);
    if (e.type == "flow.ended") ended = nlohmann::json::parse(e.json);
  }
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ((*ended)["flow"], "main");
  EXPECT_EQ((*ended)["step"], "support");
  EXPECT_EQ((*ended)["step_type"], "queue");
  EXPECT_EQ((*ended)["outcome"], "connected");
  EXPECT_EQ((*ended)["channel"], "voice");
  const auto at = [&](const std::string& t) {
    return std::find(types.begin(), types.end(), t) - types.begin();
  };
  EXPECT_LT(at("flow.step_entered"), at("contact.queued"));
  EXPECT_LT(at("offer.accepted"), at("flow.ended"));
  EXPECT_LT(at("flow.ended"), at("wrap_up.started"));
}

TEST(EngineFlowTest, CallerWhoHangsUpWhileQueuedIsAbandonedAndCounted) {
  store::MemoryStore store;
  FlowHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  auto c = h.Call();
  ASSERT_TRUE(c.ok());
  const ContactId id = c->record.id;
  h.ThroughMenu(id, "2");
  auto queued = h.Get(All(), id);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->record.state, ContactState::kQueued);  // nobody is available

  h.clock.AdvanceBy(Seconds(40));
  h.Input(id, ports::CustomerLeft{});
  auto gone = h.Get(All(), id);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->record.state, ContactState::kClosed);
  auto q = h.Queue("support");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->waiting, 0u);
  EXPECT_EQ(q->abandoned, 1u);
  const auto trail = FlowTrail(store, id);
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back(), "flow.ended support abandoned");
  const auto types = JournalTypes(store);
  EXPECT_EQ(std::count(types.begin(), types.end(), "contact.abandoned"), 1);
  EXPECT_EQ(types.back(), "contact.closed");
  // Nothing is sent to a caller who is gone; later input for it is ignored.
  EXPECT_FALSE(h.voice.Called("hangup 1"));
  EXPECT_FALSE(h.voice.Called("ended 1"));
  const size_t journaled = JournalTypes(store).size();
  h.Input(id, ports::DigitsPressed{"1"});
  EXPECT_EQ(JournalTypes(store).size(), journaled);
}

TEST(EngineFlowTest, UnansweredPhoneIsWithdrawnAndTheCallKeepsItsPlace) {
  store::MemoryStore store;
  FlowHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());
  auto c = h.Call();
  ASSERT_TRUE(c.ok());
  const ContactId id = c->record.id;
  h.ThroughMenu(id, "2");
  auto offered = h.Get(All(), id);
  ASSERT_TRUE(offered.ok());
  ASSERT_EQ(offered->record.state, ContactState::kOffered);
  const ContactTimes times = offered->record.times;

  h.clock.AdvanceBy(Seconds(20));  // the engine's offer timer, not the adapter
  h.loop.RunAll();
  EXPECT_TRUE(h.voice.Called("withdrawn 1 dave")) << ::testing::PrintToString(h.voice.calls);
  auto after = h.Get(All(), id);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->record.state, ContactState::kClosed);
  EXPECT_EQ(after->record.queue, "support");
  EXPECT_EQ(after->record.times.arrived, times.arrived);
  EXPECT_EQ(after->record.times.queued, times.queued);
  const auto types = JournalTypes(store);
  EXPECT_EQ(std::count(types.begin(), types.end(), "offer.timed_out"), 1);
  EXPECT_FALSE(h.voice.Called("hangup 1"));
}

TEST(EngineFlowTest, OutsideOpeningHoursTheCallerHearsTheClosedMessageAndIsHungUp) {
  store::MemoryStore store;
  FlowHarness h(store, kSunday);
  ASSERT_TRUE(h.engine.Start().ok());
  auto c = h.Call();
  ASSERT_TRUE(c.ok());
  const ContactId id = c->record.id;
  h.PromptEnded(id);  // welcome
  ASSERT_EQ(h.voice.plays.size(), 2u);
  EXPECT_NE(h.voice.plays[1].prompt.text.find("We are closed"), std::string::npos);
  EXPECT_FALSE(h.voice.Called("hangup 1"));
  h.PromptEnded(id);
  EXPECT_TRUE(h.voice.Called("hangup 1"));
  EXPECT_FALSE(h.voice.Called("ended 1"));  // the flow hung up itself
  auto closed = h.Get(All(), id);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->record.state, ContactState::kClosed);
  const auto trail = FlowTrail(store, id);
  ASSERT_GE(trail.size(), 4u);
  EXPECT_EQ(trail[3], "flow.step_exited hours closed");
  EXPECT_EQ(trail.back(), "flow.ended bye completed");
  EXPECT_EQ(JournalTypes(store).back(), "contact.closed");
}

TEST(EngineFlowTest, RestartInTheMiddleOfAFlowClosesItsContactsAsAbandonedInTheFlow) {
  store::MemoryStore store;
  ContactId at_menu, in_queue;
  {
    FlowHarness h(store);
    ASSERT_TRUE(h.engine.Start().ok());
    auto a = h.Call();
    ASSERT_TRUE(a.ok());
    at_menu = a->record.id;
    h.PromptEnded(at_menu);  // waits in the menu
    auto b = h.Call();
    ASSERT_TRUE(b.ok());
    in_queue = b->record.id;
    h.PromptEnded(in_queue);
    h.Input(in_queue, ports::DigitsPressed{"2"});  // waits in support's queue step
    auto q = h.Get(All(), in_queue);
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q->record.state, ContactState::kQueued);
    h.loop.Drop();  // the process dies
  }
  const ports::Sequence before = *store.LastSequence();
  FlowHarness h(store, kStart + Seconds(60));
  ASSERT_TRUE(h.engine.Start().ok());
  h.loop.RunAll();
  for (ContactId id : {at_menu, in_queue}) {
    auto c = h.Get(All(), id);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->record.state, ContactState::kClosed) << id.value();
  }
  EXPECT_EQ(FlowTrail(store, at_menu).back(), "flow.ended menu abandoned");
  EXPECT_EQ(FlowTrail(store, in_queue).back(), "flow.ended support abandoned");
  EXPECT_EQ(JournalTypes(store, before),
            (std::vector<std::string>{"flow.ended", "contact.closed", "flow.ended",
                                      "contact.abandoned", "contact.closed"}));
  auto q = h.Queue("support");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->waiting, 0u);
  EXPECT_TRUE(h.voice.calls.empty());  // nothing to tell a channel about legs that are gone
  // Contact ids go on after the ones the journal knows.
  auto next = h.Call();
  ASSERT_TRUE(next.ok());
  EXPECT_GT(next->record.id.value(), in_queue.value());
}

TEST(EngineFlowTest, UnknownEntryPointsAreNotFoundAndEntryAndQueueAreExclusive) {
  store::MemoryStore store;
  FlowHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  auto c = h.Call("+440000");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.status().message(), "no entry point for voice '+440000'");
  ports::NewContact nc;
  nc.channel = Channel::kChat;
  nc.entry = "website";
  nc.queue = "support";
  auto both = h.Run<ContactSnapshot>([&](auto reply) { h.engine.CreateContact(All(), nc, reply); });
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(h.voice.calls.empty());
}

TEST(EngineFlowTest, ChatWithoutAnAdapterRunsItsFlowThroughTheApiEntryAndCancelEndsTheFlow) {
  store::MemoryStore store;
  FlowHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  ports::NewContact nc;
  nc.channel = Channel::kChat;
  nc.entry = "website";
  auto c = h.Run<ContactSnapshot>([&](auto reply) { h.engine.CreateContact(All(), nc, reply); });
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ContactId id = c->record.id;
  // No chat adapter: the welcome ends at once and the flow waits in the menu for text.
  auto waiting = h.Get(All(), id);
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->record.state, ContactState::kInFlow);
  EXPECT_EQ(FlowTrail(store, id).back(), "flow.step_entered menu");
  h.Input(id, ports::TextArrived{"billing"});
  auto queued = h.Get(All(), id);
  ASSERT_TRUE(queued.ok());
  // billing takes voice and email only: routing refuses the chat, and the flow says so.
  EXPECT_EQ(queued->record.state, ContactState::kClosed);
  EXPECT_EQ(FlowTrail(store, id).back(), "flow.ended billing failed");

  auto d = h.Run<ContactSnapshot>([&](auto reply) { h.engine.CreateContact(All(), nc, reply); });
  ASSERT_TRUE(d.ok());
  auto cancelled = h.Run<ContactSnapshot>(
      [&](auto reply) { h.engine.CancelContact(All(), d->record.id, reply); });
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->record.state, ContactState::kClosed);
  EXPECT_EQ(FlowTrail(store, d->record.id).back(), "flow.ended menu cancelled");
  EXPECT_TRUE(h.voice.calls.empty());  // not the voice adapter's contacts
}

TEST(EngineFlowTest, CancelThroughTheApiEndsTheCallOnItsChannel) {
  store::MemoryStore store;
  FlowHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  auto c = h.Call();
  ASSERT_TRUE(c.ok());
  const ContactId id = c->record.id;
  h.ThroughMenu(id, "2");
  auto cancelled =
      h.Run<ContactSnapshot>([&](auto reply) { h.engine.CancelContact(All(), id, reply); });
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->record.state, ContactState::kClosed);
  EXPECT_TRUE(h.voice.Called("ended 1"));
  EXPECT_EQ(FlowTrail(store, id).back(), "flow.ended support cancelled");
  const auto types = JournalTypes(store);
  EXPECT_EQ(std::count(types.begin(), types.end(), "contact.removed"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "contact.closed"), 1);
}

TEST(EngineFlowTest, TransfersToAgentsOrNumbersAreRefusedWhenFlowsAreLoaded) {
  const std::string yaml = R"(site: {name: T, time_zone: UTC}
skills: [support]
agents:
  - {id: alice, name: Alice, skills: {support: 5}, capacity: {task: 1}, queues: [support]}
queues:
  - {name: support, channels: [task]}
flows:
  - name: main
    steps:
      - {id: out, type: transfer, to: {number: "+331"}}
entry_points:
  - {channel: task, address: web, flow: main}
)";
  std::vector<config::ConfigError> errors;
  auto cfg = config::ParseConfigText(yaml, "site.yaml", {}, &errors);
  ASSERT_TRUE(cfg.ok()) << (errors.empty() ? cfg.status().ToString() : errors[0].ToString());
  store::MemoryStore store;
  Harness h(store, *cfg);
  const Status s = h.engine.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "site.yaml:10:14: step 'out': transfer to a number is not supported by the server yet; "
            "transfer to a queue or a flow");
  // A running engine refuses it at once, so `config apply` can say why.
  store::MemoryStore other;
  FlowHarness running(other);
  ASSERT_TRUE(running.engine.Start().ok());
  const Status refused = running.engine.Reconfigure(*cfg);
  EXPECT_EQ(refused.message(), s.message());
}

// ---------------------------------------------------------------------------------------------
// Reports (ports::Reports, reports.cc)

TEST(EngineReportTest, ReportsCountTheJournalAndKeepToTheCallersScope) {
  auto cfg = MakeConfig();
  cfg->reason_codes = {config::CodeDef{"lunch", "Lunch"}};
  cfg->disposition_codes = {config::CodeDef{"resolved", "Resolved"}, config::CodeDef{"sale", ""}};
  store::MemoryStore store;
  Harness h(store, cfg);
  ASSERT_TRUE(h.engine.Start().ok());

  auto codes = h.Run<ports::WorkCodes>([&](auto reply) { h.engine.ListWorkCodes(reply); });
  ASSERT_TRUE(codes.ok());
  ASSERT_EQ(codes->reason_codes.size(), 1u);
  EXPECT_EQ(codes->reason_codes[0].label, "Lunch");
  ASSERT_EQ(codes->disposition_codes.size(), 2u);
  EXPECT_EQ(codes->disposition_codes[1].code, "sale");
  // The site's time zone, in which the web UI computes "today" (docs/web.md, "Reports").
  EXPECT_EQ(codes->time_zone, cfg->routing.settings.time_zone);
  EXPECT_FALSE(codes->time_zone.empty());

  // Alice answers one support contact after 5 s, talks 30 s and wraps up 10 s.
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto c = h.Create("support");
  ASSERT_TRUE(c.ok());
  h.clock.AdvanceBy(Seconds(5));
  ASSERT_TRUE(h.Accept(All(), c->record.id, "alice").ok());
  h.clock.AdvanceBy(Seconds(30));
  ASSERT_TRUE(h.EndHandling(All(), c->record.id).ok());
  h.clock.AdvanceBy(Seconds(10));
  ASSERT_TRUE(h.WrapUp(All(), c->record.id, "resolved").ok());

  auto report = [&](const Caller& who, ports::ReportSubject subject, std::vector<std::string> names,
                    std::string interval = "1h", TimePoint from = kStart - std::chrono::hours(1)) {
    ports::ReportQuery q;
    q.subject = subject;
    q.from = from;
    q.to = kStart + std::chrono::hours(1);
    q.interval = std::move(interval);
    q.names = std::move(names);
    return h.Run<ports::Report>([&](auto reply) { h.engine.RunReport(who, q, reply); });
  };
  using S = ports::ReportSubject;

  auto queues = report(All(), S::kQueues, {"support"});
  ASSERT_TRUE(queues.ok()) << queues.status().ToString();
  EXPECT_EQ(queues->time_zone, "UTC");
  EXPECT_EQ(queues->as_of, kStart + Seconds(45));
  ASSERT_EQ(queues->rows.size(), 2u);  // 07:00 and 08:00
  const ports::ReportRow& row = queues->rows[1];
  EXPECT_EQ(row.name, "support");
  EXPECT_EQ(row.start, kStart);
  EXPECT_EQ(row.offered, 1);
  EXPECT_EQ(row.answered, 1);
  EXPECT_EQ(row.handled, 1);
  EXPECT_EQ(row.asa, Seconds(5));
  EXPECT_EQ(row.talk, Seconds(30));
  EXPECT_EQ(row.wrap_up, Seconds(10));
  EXPECT_EQ(row.aht, Seconds(40));
  EXPECT_EQ(row.service_level, 1.0);
  EXPECT_EQ(row.sl_threshold, Seconds(20));
  EXPECT_EQ(queues->rows[0].offered, 0);
  EXPECT_FALSE(queues->rows[0].service_level);

  // Every queue by default, in configuration order.
  auto both = report(All(), S::kQueues, {}, "1d");
  ASSERT_TRUE(both.ok());
  ASSERT_EQ(both->rows.size(), 2u);
  EXPECT_EQ(both->rows[0].name, "support");
  EXPECT_EQ(both->rows[1].name, "billing");
  EXPECT_EQ(both->rows[1].offered, 0);

  // An agent reads its own agent report only.
  auto own = report(Self("alice"), S::kAgents, {}, "1d");
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->rows.size(), 1u);
  EXPECT_EQ(own->rows[0].name, "alice");
  EXPECT_EQ(own->rows[0].handled, 1);
  EXPECT_EQ(own->rows[0].accepted, 1);
  EXPECT_EQ(own->rows[0].logged_in, Seconds(45));
  EXPECT_EQ(own->rows[0].busy, Seconds(40));
  auto other = report(Self("bob"), S::kAgents, {"alice"});
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.status().message(), "agent: no agent 'alice'");
  EXPECT_EQ(report(Self("bob"), S::kQueues, {}).status().code(), StatusCode::kPermissionDenied);
  // A team lead gets its team's agents.
  auto red = report(Team("red"), S::kAgents, {}, "1d");
  ASSERT_TRUE(red.ok());
  ASSERT_EQ(red->rows.size(), 1u);
  EXPECT_EQ(red->rows[0].name, "carol");

  // Bad queries name their parameter.
  auto bad_interval = report(All(), S::kQueues, {}, "2h");
  EXPECT_EQ(bad_interval.status().message().rfind("interval:", 0), 0u);
  auto unknown = report(All(), S::kQueues, {"nope"});
  EXPECT_EQ(unknown.status().message(), "queue: no queue 'nope'");
  auto too_long = report(All(), S::kQueues, {}, "1d", kStart - std::chrono::hours(24 * 500));
  EXPECT_EQ(too_long.status().message().rfind("to:", 0), 0u);
  auto too_many = report(All(), S::kQueues, {}, "15m", kStart - std::chrono::hours(24 * 30));
  EXPECT_EQ(too_many.status().message().rfind("interval:", 0), 0u);
}

// First-contact resolution reads the contacts' customer links from the store: a customer who
// comes back on another channel within reports.fcr_window makes the first contact unresolved.
TEST(EngineReportTest, FcrJudgesAnsweredContactsByTheirCustomersRepeatContacts) {
  auto cfg = MakeConfig();
  cfg->reports.fcr_window = std::chrono::hours(1);
  store::MemoryStore store;
  Harness h(store, cfg);
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto create = [&](std::optional<ports::CustomerIdentity> from) {
    ports::NewContact nc;
    nc.channel = Channel::kTask;
    nc.queue = "support";
    nc.from = std::move(from);
    return h.Run<ContactSnapshot>([&](auto reply) { h.engine.CreateContact(All(), nc, reply); });
  };
  auto handled = [&](std::optional<ports::CustomerIdentity> from) {
    auto c = create(std::move(from));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return;
    h.clock.AdvanceBy(Seconds(5));
    EXPECT_TRUE(h.Accept(All(), c->record.id, "alice").ok());
    h.clock.AdvanceBy(Seconds(30));
    EXPECT_TRUE(h.EndHandling(All(), c->record.id).ok());
    EXPECT_TRUE(h.WrapUp(All(), c->record.id, "resolved").ok());
  };
  handled(ports::CustomerIdentity{Channel::kVoice, "+15550100"});  // comes back
  handled(ports::CustomerIdentity{Channel::kEmail, "bo@example.com"});
  handled(std::nullopt);  // no customer: not judged
  h.clock.AdvanceBy(std::chrono::minutes(30));
  ASSERT_TRUE(create(ports::CustomerIdentity{Channel::kSms, "+1 555 0100"}).ok());

  auto report = [&](ports::ReportSubject subject) {
    ports::ReportQuery q;
    q.subject = subject;
    q.names = {subject == ports::ReportSubject::kQueues ? "support" : "alice"};
    q.from = kStart;
    q.to = kStart + std::chrono::hours(1);
    return h.Run<ports::Report>([&](auto reply) { h.engine.RunReport(All(), q, reply); });
  };
  auto open = report(ports::ReportSubject::kQueues);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  ASSERT_EQ(open->rows.size(), 1u);
  EXPECT_EQ(open->rows[0].fcr_contacts, 2u);
  EXPECT_EQ(open->rows[0].fcr, 0.5);
  EXPECT_EQ(open->rows[0].fcr_open, 1u);  // bo's window ends later than now

  h.clock.AdvanceBy(std::chrono::hours(2));
  auto closed = report(ports::ReportSubject::kQueues);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->rows[0].fcr_contacts, 2u);
  EXPECT_EQ(closed->rows[0].fcr, 0.5);
  EXPECT_EQ(closed->rows[0].fcr_open, 0u);
  auto agents = report(ports::ReportSubject::kAgents);
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->rows.size(), 1u);
  EXPECT_EQ(agents->rows[0].fcr_contacts, 2u);
  EXPECT_EQ(agents->rows[0].fcr, 0.5);
}

}  // namespace
}  // namespace parley::engine

// ---------------------------------------------------------------------------------------------
// Call recording (issue 6): the queue's policy, commands, and what the adapter reports.

namespace parley::engine {
namespace {

std::shared_ptr<const config::Config> DemoWithRecording(RecordingPolicy policy) {
  auto c = std::make_shared<config::Config>(*DemoConfig());
  for (QueueDef& q : c->routing.queues) {
    if (q.name == "support") {
      q.recording = policy;
      q.recording_announcement.text = "This call may be recorded.";
    }
  }
  return c;
}

class RecordingHarness : public FlowHarness {
 public:
  RecordingHarness(ports::Store& store, RecordingPolicy policy)
      : FlowHarness(store, DemoWithRecording(policy)) {}
  Result<ContactSnapshot> Control(const Caller& who, ContactId id, ports::RecordingCommand c) {
    return Run<ContactSnapshot>(
        [&](auto reply) { engine.ControlRecording(who, id, c, std::move(reply)); });
  }
  // A call through the menu to support, answered by dave.
  ContactId Answered() {
    auto c = Call();
    EXPECT_TRUE(c.ok());
    ThroughMenu(c->record.id, "2");
    EXPECT_TRUE(Accept(All(), c->record.id, "dave").ok());
    return c->record.id;
  }
};

std::vector<std::string> Types(ports::Store& store, ContactId contact) {
  std::vector<std::string> out;
  // Kept in a variable: `*store.ReadAfter(...)` in the range-for would read a destroyed temporary.
  auto entries = store.ReadAfter(0, 10000);
  for (const auto& e : *entries) {
    if (e.event.contact == contact && (EventTypeName(e.event.type).rfind("recording.", 0) == 0 ||
                                       e.event.type == EventType::kMediaStats)) {
      out.emplace_back(EventTypeName(e.event.type));
    }
  }
  return out;
}

TEST(EngineRecordingTest, AlwaysQueuePlansTheRecordingAndJournalsWhatTheAdapterReports) {
  store::MemoryStore store;
  RecordingHarness h(store, RecordingPolicy::kAlways);
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());
  const ContactId id = h.Answered();
  // The plan came before the offer rang the phone.
  const auto plan = std::find(h.voice.calls.begin(), h.voice.calls.end(),
                              "plan " + std::to_string(id.value()) + " record announce");
  const auto offer = std::find_if(h.voice.calls.begin(), h.voice.calls.end(),
                                  [](const std::string& c) { return c.rfind("offer ", 0) == 0; });
  ASSERT_NE(plan, h.voice.calls.end()) << ::testing::PrintToString(h.voice.calls);
  EXPECT_LT(plan, offer);

  // Mask for a card payment and unmask: events, and the adapter is told.
  auto paused = h.Control(Self("dave"), id, ports::RecordingCommand::kPause);
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_TRUE(paused->recording_masked);
  EXPECT_TRUE(h.voice.Called("recording " + std::to_string(id.value()) + " 2"));
  EXPECT_EQ(h.Control(Self("dave"), id, ports::RecordingCommand::kPause).status().code(),
            StatusCode::kConflict);
  EXPECT_TRUE(h.Control(Self("dave"), id, ports::RecordingCommand::kResume).ok());
  // `always` cannot be stopped; another agent cannot reach the contact.
  EXPECT_EQ(h.Control(All(), id, ports::RecordingCommand::kStop).status().code(),
            StatusCode::kConflict);
  EXPECT_EQ(h.Control(Self("erin"), id, ports::RecordingCommand::kPause).status().code(),
            StatusCode::kNotFound);

  // The adapter reports the legs and the finished file: journaled and stored with the contact.
  h.Input(id, ports::CustomerLeft{});
  h.engine.LegClosed(id, ports::LegRole::kAgent, "dave", ports::LegStats{100, 99, 2, 1, 3.5});
  h.engine.LegClosed(id, ports::LegRole::kCustomer, "", ports::LegStats{101, 100, 0, 0, 1.25});
  ports::RecordedAudio audio;
  audio.info = {"/data/recordings/2025/12/01/1.wav", 64044, Seconds(2), std::string(64, 'c')};
  audio.started = h.clock.Now() - Seconds(2);
  h.engine.RecordingFinished(id, audio);
  h.loop.RunAll();
  EXPECT_EQ(Types(store, id),
            (std::vector<std::string>{"recording.started", "recording.masked", "recording.unmasked",
                                      "media.stats", "media.stats", "recording.completed"}));
  auto stored = store.RecordingsOfContact(id);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].id, 1u);
  EXPECT_EQ((*stored)[0].agent, "dave");
  EXPECT_EQ((*stored)[0].queue, "support");
  EXPECT_EQ((*stored)[0].bytes, 64044u);
  EXPECT_EQ(store.LegQualityOf(id)->size(), 2u);
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->recordings.size(), 1u);
  EXPECT_EQ(view->legs.size(), 2u);
  EXPECT_FALSE(view->recording_active);

  // Listed for everyone who reaches dave; a recording of another team is not found.
  auto all = h.Run<std::vector<ports::RecordingRecord>>(
      [&](auto reply) { h.engine.ListRecordings(All(), {}, std::move(reply)); });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
  auto other = h.Run<ports::RecordingRecord>(
      [&](auto reply) { h.engine.GetRecording(Self("erin"), 1, std::move(reply)); });
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
  auto own = h.Run<ports::RecordingRecord>(
      [&](auto reply) { h.engine.GetRecording(Self("dave"), 1, std::move(reply)); });
  EXPECT_TRUE(own.ok());
}

TEST(EngineRecordingTest, NeverQueueRefusesToStartAndOnDemandStartsAndStops) {
  {
    store::MemoryStore store;
    RecordingHarness h(store, RecordingPolicy::kNever);
    ASSERT_TRUE(h.engine.Start().ok());
    ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());
    auto queue = h.Queue("support");  // GET /queues shows the policy (the desktop's Start)
    ASSERT_TRUE(queue.ok()) << queue.status().ToString();
    EXPECT_EQ(queue->recording, RecordingPolicy::kNever);
    const ContactId id = h.Answered();
    EXPECT_TRUE(h.voice.Called("plan " + std::to_string(id.value())));  // no record, no announce
    auto start = h.Control(All(), id, ports::RecordingCommand::kStart);
    EXPECT_EQ(start.status().code(), StatusCode::kConflict);
    EXPECT_NE(start.status().message().find("never records"), std::string::npos);
    EXPECT_TRUE(Types(store, id).empty());
  }
  store::MemoryStore store;
  RecordingHarness h(store, RecordingPolicy::kOnDemand);
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());
  auto queue = h.Queue("support");
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  EXPECT_EQ(queue->recording, RecordingPolicy::kOnDemand);
  const ContactId id = h.Answered();
  EXPECT_TRUE(h.voice.Called("plan " + std::to_string(id.value()) + " announce"));
  EXPECT_EQ(h.Control(All(), id, ports::RecordingCommand::kPause).status().code(),
            StatusCode::kConflict);  // nothing to pause yet
  auto started = h.Control(Self("dave"), id, ports::RecordingCommand::kStart);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_TRUE(started->recording_active);
  EXPECT_TRUE(h.Control(All(), id, ports::RecordingCommand::kStop).ok());
  EXPECT_EQ(Types(store, id), (std::vector<std::string>{"recording.started", "recording.stopped"}));
}

// Call control (engine/call_control.cc): state rules, scope, what reaches the voice adapter.

class CallControlHarness : public FlowHarness {
 public:
  using FlowHarness::FlowHarness;
  // A call through the menu into support, answered by dave.
  ContactId TalkingToDave() {
    EXPECT_TRUE(SetPresence(All(), "dave", Presence::kAvailable).ok());
    auto c = Call();
    EXPECT_TRUE(c.ok());
    const ContactId id = c->record.id;
    ThroughMenu(id, "2");
    EXPECT_TRUE(Accept(All(), id, "dave").ok());
    return id;
  }
  // Dave talks to the caller, bob is Available, and dave starts a consultation with bob.
  ContactId DaveConsultingBob() {
    const ContactId id = TalkingToDave();
    EXPECT_TRUE(SetPresence(All(), "bob", Presence::kAvailable).ok());
    EXPECT_TRUE(Consult(All(), id, ports::ContactCenter::ConsultStep::kStart, "bob").ok());
    return id;
  }
  Result<ContactSnapshot> Hold(const Caller& who, ContactId id, bool on) {
    return Run<ContactSnapshot>([&](auto reply) { engine.HoldContact(who, id, on, reply); });
  }
  Result<ContactSnapshot> Mute(const Caller& who, ContactId id, bool on) {
    return Run<ContactSnapshot>([&](auto reply) { engine.MuteContact(who, id, on, reply); });
  }
  Result<ContactSnapshot> Digits(const Caller& who, ContactId id, const std::string& d) {
    return Run<ContactSnapshot>([&](auto reply) { engine.SendDigits(who, id, d, reply); });
  }
  Result<ContactSnapshot> Hangup(const Caller& who, ContactId id) {
    return Run<ContactSnapshot>([&](auto reply) { engine.HangupContact(who, id, reply); });
  }
  Result<ContactSnapshot> Transfer(const Caller& who, ContactId id, const std::string& queue) {
    return Run<ContactSnapshot>(
        [&](auto reply) { engine.TransferContact(who, id, {.name = queue}, reply); });
  }
  Result<ContactSnapshot> TransferTo(const Caller& who, ContactId id,
                                     ports::TransferTarget::Kind kind, const std::string& name) {
    return Run<ContactSnapshot>([&](auto reply) {
      engine.TransferContact(who, id, ports::TransferTarget{kind, name, ""}, reply);
    });
  }
  Result<ContactSnapshot> Monitor(const Caller& who, ContactId id,
                                  std::optional<ports::MonitorMode> mode) {
    return Run<ContactSnapshot>([&](auto reply) { engine.MonitorContact(who, id, mode, reply); });
  }
  Result<ContactSnapshot> Consult(const Caller& who, ContactId id,
                                  ports::ContactCenter::ConsultStep step,
                                  const std::string& target = "") {
    return Run<ContactSnapshot>(
        [&](auto reply) { engine.ConsultContact(who, id, step, target, reply); });
  }
  // The states of the contacts `agent` holds, as "id:state" (handling, wrap-up, ...).
  std::vector<std::string> Holds(const std::string& agent) {
    std::vector<std::string> out;
    auto a = Agent(All(), agent);
    EXPECT_TRUE(a.ok());
    if (!a.ok()) return out;
    for (const auto& c : a->contacts) {
      out.push_back(std::to_string(c.contact.value()) + ":" +
                    std::string(c.state == ContactState::kHandling ? "handling"
                                : c.state == ContactState::kWrapUp ? "wrap-up"
                                                                   : "offered"));
    }
    return out;
  }
};

// Supervisor monitoring (engine/monitor.cc).

// The monitor.* events of the journal, as "type supervisor mode|reason".
std::vector<std::string> MonitorTrail(ports::Store& store) {
  std::vector<std::string> out;
  auto entries = store.ReadAfter(0, 10000);  // kept: the loop reads into it
  EXPECT_TRUE(entries.ok());
  for (const auto& e : *entries) {
    const std::string type(EventTypeName(e.event.type));
    if (type.rfind("monitor.", 0) != 0) continue;
    std::string line = type;
    for (const auto& [k, v] : ParseEventFields(e.event.text)) {
      if (k == "supervisor" || k == "mode" || k == "reason") line += " " + v;
    }
    out.push_back(line);
  }
  return out;
}

TEST(EngineMonitorTest, StartSwitchAndStopAreJournaledAndReachTheAdapter) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  const Caller sup{"sue", Caller::Reach::kAll, "", ""};

  auto listen = h.Monitor(sup, id, ports::MonitorMode::kListen);
  ASSERT_TRUE(listen.ok()) << listen.status().ToString();
  EXPECT_EQ(listen->monitor_supervisor, "sue");
  EXPECT_EQ(listen->monitor_mode, "listen");
  EXPECT_TRUE(h.voice.Called("monitor 1 sue 0"));
  auto same = h.Monitor(sup, id, ports::MonitorMode::kListen);
  EXPECT_EQ(same.status().code(), StatusCode::kConflict);
  EXPECT_EQ(same.status().message(), "contact 1 is already monitored in listen mode");
  // Another supervisor cannot take over a monitored call.
  auto other = h.Monitor(All(), id, ports::MonitorMode::kBarge);
  EXPECT_EQ(other.status().code(), StatusCode::kConflict);
  EXPECT_EQ(other.status().message(), "contact 1 is already monitored by sue");

  auto whisper = h.Monitor(sup, id, ports::MonitorMode::kWhisper);
  ASSERT_TRUE(whisper.ok());
  EXPECT_EQ(whisper->monitor_mode, "whisper");
  EXPECT_TRUE(h.voice.Called("monitor 1 sue 1"));
  ASSERT_TRUE(h.Monitor(sup, id, ports::MonitorMode::kBarge).ok());
  auto stopped = h.Monitor(sup, id, std::nullopt);
  ASSERT_TRUE(stopped.ok());
  EXPECT_TRUE(stopped->monitor_supervisor.empty());
  EXPECT_TRUE(h.voice.Called("monitor 1 sue stop"));
  EXPECT_EQ(h.Monitor(sup, id, std::nullopt).status().code(), StatusCode::kConflict);
  EXPECT_EQ(
      MonitorTrail(store),
      (std::vector<std::string>{"monitor.started sue listen", "monitor.mode_changed sue whisper",
                                "monitor.mode_changed sue barge", "monitor.ended sue stopped"}));
  // The call itself is untouched: still handled by dave.
  auto view = h.Run<ContactSnapshot>([&](auto reply) { h.engine.GetContact(All(), id, reply); });
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.agent, "dave");
}

TEST(EngineMonitorTest, NoPhoneIsTheAdaptersRefusalAndNothingIsJournaled) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  h.voice.control_status = InvalidArgument("user admin has no registered phone to monitor with");
  auto refused = h.Monitor(All(), id, ports::MonitorMode::kListen);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(MonitorTrail(store).empty());
  h.voice.control_status = Status::Ok();
  EXPECT_TRUE(h.Monitor(All(), id, ports::MonitorMode::kListen).ok());
}

TEST(EngineMonitorTest, OnlyALiveCallInScopeCanBeMonitored) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  // A team lead of another team does not reach dave's call; the lead of his team does.
  EXPECT_EQ(h.Monitor(Team("south"), id, ports::MonitorMode::kListen).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(h.Monitor(Team("north"), id, ports::MonitorMode::kListen).ok());
  ASSERT_TRUE(h.Monitor(Team("north"), id, std::nullopt).ok());
  // In wrap-up the call is over.
  ASSERT_TRUE(h.EndHandling(All(), id).ok());
  auto late = h.Monitor(All(), id, ports::MonitorMode::kListen);
  EXPECT_EQ(late.status().code(), StatusCode::kConflict);
  EXPECT_EQ(late.status().message(),
            "contact 1 is not a call being handled, so it cannot be monitored");
  // A chat is not a call.
  auto chat = h.Create("support", Channel::kChat);
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(h.Monitor(All(), chat->record.id, ports::MonitorMode::kListen).status().code(),
            StatusCode::kConflict);
}

TEST(EngineMonitorTest, TheAdapterEndingTheSessionIsJournaledOnce) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  const Caller sup{"sue", Caller::Reach::kAll, "", ""};
  ASSERT_TRUE(h.Monitor(sup, id, ports::MonitorMode::kBarge).ok());
  // The supervisor hangs up: monitoring ends, the call goes on.
  h.engine.MonitorEnded(id, "sue", ports::MonitorEnd::kSupervisorHungUp);
  h.loop.RunAll();
  h.engine.MonitorEnded(id, "sue", ports::MonitorEnd::kCallEnded);  // already ended: ignored
  h.loop.RunAll();
  EXPECT_EQ(MonitorTrail(store),
            (std::vector<std::string>{"monitor.started sue barge",
                                      "monitor.ended sue supervisor_hung_up"}));
  auto view = h.Run<ContactSnapshot>([&](auto reply) { h.engine.GetContact(All(), id, reply); });
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->monitor_supervisor.empty());
  // A new session may start afterwards.
  EXPECT_TRUE(h.Monitor(sup, id, ports::MonitorMode::kListen).ok());
}

// Consultation transfer (engine/consult.cc).

using Step = ports::ContactCenter::ConsultStep;

// The journal's consult.*, hold.*, transfer and handling events, as "type agent [field ...]".
std::vector<std::string> ConsultTrail(ports::Store& store, const RoutingConfig& routing) {
  std::vector<std::string> out;
  auto entries = store.ReadAfter(0, 10000);
  EXPECT_TRUE(entries.ok());
  for (const auto& e : *entries) {
    const std::string type(EventTypeName(e.event.type));
    if (type.rfind("consult.", 0) != 0 && type.rfind("hold.", 0) != 0 &&
        type.rfind("conference.", 0) != 0 && type != "contact.transferred" &&
        type.rfind("handling.", 0) != 0 && type != "contact.queued" && type != "contact.closed" &&
        type.rfind("transfer.", 0) != 0) {
      continue;
    }
    std::string line = type;
    if (e.event.agent < routing.agents.size()) line += " " + routing.agents[e.event.agent].name;
    if (type == "contact.transferred") line += " " + std::string(TransferKind(e.event.text));
    for (const auto& [k, v] : ParseEventFields(e.event.text)) {
      if (k == "target" || k == "consulted_queue" || k == "passed" || k == "reason" ||
          k == "number" || k == "sip_status") {
        line += " " + v;
      }
    }
    out.push_back(line);
  }
  return out;
}

// The trail without queueing and closing (what the consultation tests compare).
std::vector<std::string> ConsultOnly(std::vector<std::string> trail) {
  std::erase_if(trail, [](const std::string& l) {
    return l.rfind("contact.queued", 0) == 0 || l.rfind("contact.closed", 0) == 0;
  });
  return trail;
}

int CountOf(const std::vector<std::string>& trail, const std::string& line) {
  return static_cast<int>(std::count(trail.begin(), trail.end(), line));
}

TEST(EngineConsultTest, StartHoldsTheCustomerAndReservesTheTargetCompleteHandsTheCallOver) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  auto started = h.Consult(All(), id, Step::kStart, "bob");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->consult_target, "bob");
  EXPECT_TRUE(started->on_hold);
  EXPECT_TRUE(h.voice.Called("consult 1 start bob"));
  // Bob is held for the call: the ACD offers him nothing else meanwhile.
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:handling"}));
  auto twice = h.Consult(All(), id, Step::kStart, "carol");
  EXPECT_EQ(twice.status().code(), StatusCode::kConflict);
  EXPECT_EQ(twice.status().message(), "contact 1 is already in a consultation with bob");
  EXPECT_EQ(h.Hold(All(), id, false).status().code(), StatusCode::kConflict);
  EXPECT_EQ(h.Monitor(All(), id, ports::MonitorMode::kListen).status().code(),
            StatusCode::kConflict);

  auto done = h.Consult(All(), id, Step::kComplete);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(h.voice.Called("consult 1 complete bob"));
  EXPECT_FALSE(h.voice.Called("release 1 dave"));  // not a blind transfer: the legs moved
  EXPECT_EQ(done->record.agent, "bob");
  EXPECT_TRUE(done->consult_target.empty());
  EXPECT_FALSE(done->on_hold);
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:handling"}));
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  EXPECT_EQ(ConsultOnly(ConsultTrail(store, DemoConfig()->routing)),
            (std::vector<std::string>{"handling.started dave", "hold.started dave",
                                      "consult.started dave bob", "hold.ended dave",
                                      "contact.transferred dave attended", "handling.ended dave",
                                      "handling.started bob", "consult.ended bob bob completed"}));
  // Bob ends the call like any other.
  ASSERT_TRUE(h.EndHandling(All(), id).ok());
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:wrap-up"}));
}

// Issue 7: the consulted agent's desktop shows the caller they are about to take (the contact,
// its events, its customer), read-only: commanding the call stays with the agent who has it.
TEST(EngineConsultTest, TheConsultedAgentReadsTheContactButCannotCommandIt) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  EXPECT_EQ(h.Get(Self("bob"), id).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  ASSERT_TRUE(h.Consult(All(), id, Step::kStart, "bob").ok());
  auto seen = h.Get(Self("bob"), id);
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(seen->consult_target, "bob");
  auto listed = h.Run<std::vector<ContactSnapshot>>(
      [&](auto reply) { h.engine.ListContacts(Self("bob"), ports::ContactFilter{}, reply); });
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().record.id, id);
  EXPECT_EQ(h.Hold(Self("bob"), id, true).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Hangup(Self("bob"), id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Get(Self("carol"), id).status().code(), StatusCode::kNotFound);
  // Cancelled, the consultation no longer opens the contact to bob.
  ASSERT_TRUE(h.Consult(All(), id, Step::kCancel).ok());
  EXPECT_EQ(h.Get(Self("bob"), id).status().code(), StatusCode::kNotFound);
}

TEST(EngineConsultTest, CancelOrTheTargetHangingUpReturnsTheCustomerToTheAgent) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.DaveConsultingBob();
  auto cancelled = h.Consult(All(), id, Step::kCancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_TRUE(h.voice.Called("consult 1 cancel bob"));
  EXPECT_TRUE(cancelled->consult_target.empty());
  EXPECT_FALSE(cancelled->on_hold);
  EXPECT_EQ(cancelled->record.agent, "dave");
  EXPECT_TRUE(h.Holds("bob").empty());
  EXPECT_EQ(h.Consult(All(), id, Step::kCancel).status().message(),
            "contact 1 has no consultation to cancel");

  ASSERT_TRUE(h.Consult(All(), id, Step::kStart, "bob").ok());
  h.engine.ConsultEnded(id, "bob", ports::ConsultEnd::kTargetHungUp);
  h.loop.RunAll();
  h.engine.ConsultEnded(id, "bob", ports::ConsultEnd::kCallEnded);  // already ended: ignored
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->consult_target.empty());
  EXPECT_FALSE(view->on_hold);
  EXPECT_TRUE(h.Holds("bob").empty());
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:handling"}));
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "consult.ended dave bob cancelled"), 1);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "consult.ended dave bob target_hung_up"), 1);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "hold.ended dave"), 2);
}

TEST(EngineConsultTest, ConferenceEndsTheHoldAndTheFirstAgentLeavingHandsTheCallOver) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  EXPECT_EQ(h.Consult(All(), id, Step::kConference).status().message(),
            "contact 1 has no consultation to become a conference");
  ASSERT_TRUE(h.Consult(All(), id, Step::kStart, "bob").ok());
  auto conf = h.Consult(All(), id, Step::kConference);
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  EXPECT_TRUE(h.voice.Called("consult 1 conference bob"));
  EXPECT_TRUE(conf->conference);
  EXPECT_EQ(conf->consult_target, "bob");
  EXPECT_FALSE(conf->on_hold);
  EXPECT_EQ(h.Consult(All(), id, Step::kConference).status().code(), StatusCode::kConflict);
  // Dave hangs up: bob and the customer stay, bob has the call.
  h.engine.ConsultEnded(id, "bob", ports::ConsultEnd::kAgentLeft);
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.agent, "bob");
  EXPECT_FALSE(view->conference);
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:handling"}));
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "conference.started dave bob"), 1);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "contact.transferred dave attended"), 1);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "conference.ended bob bob agent_left"), 1);
}

// Issue 8: the first agent hanging up once the target answered completed nothing (the call
// ended); as in Asterisk's atxfer, the transfer completes.
TEST(EngineConsultTest, TheFirstAgentHangingUpAfterTheTargetAnsweredCompletesTheTransfer) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.DaveConsultingBob();
  // The adapter bridged the customer to bob's answered phone and reports dave's hang-up.
  h.engine.ConsultEnded(id, "bob", ports::ConsultEnd::kAgentLeft);
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.agent, "bob");
  EXPECT_TRUE(view->consult_target.empty());
  EXPECT_FALSE(view->on_hold);
  EXPECT_FALSE(h.voice.Called("release 1 dave"));  // the legs moved already
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:handling"}));
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "contact.transferred dave attended"), 1);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "consult.ended bob bob transferor_hung_up"), 1);
  ASSERT_TRUE(h.EndHandling(All(), id).ok());
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:wrap-up"}));
}

// Issue 8: hung up while the target's phone still rang, the call went with the agent; it goes
// back to its queue instead (keeping its place by arrival time), bob is free again.
TEST(EngineConsultTest, TheFirstAgentHangingUpWhileTheTargetRingsPutsTheCallBackInItsQueue) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.DaveConsultingBob();
  h.engine.ConsultEnded(id, "bob", ports::ConsultEnd::kAgentLeftRinging);
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.queue, "support");
  EXPECT_NE(view->record.agent, "dave");
  EXPECT_TRUE(view->record.state == ports::ContactState::kQueued ||
              view->record.state == ports::ContactState::kOffered)
      << static_cast<int>(view->record.state);
  EXPECT_TRUE(view->consult_target.empty());
  EXPECT_FALSE(view->on_hold);
  EXPECT_TRUE(h.voice.Called("release 1 dave"));  // the adapter lets the agent's leg go
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(std::count(trail.begin(), trail.end(),
                       "consult.ended dave bob transferor_hung_up_before_answer"),
            1);
  EXPECT_EQ(std::count(trail.begin(), trail.end(), "contact.transferred dave attended"), 0);
  EXPECT_EQ(std::count_if(
                trail.begin(), trail.end(),
                [](const std::string& l) { return l.rfind("contact.transferred dave", 0) == 0; }),
            1);
}

// Issue 8: a consultation of a queue rings its free member who waited longest, not a chosen one.
TEST(EngineConsultTest, ConsultingAQueueRingsItsFreeMemberIdleLongest) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  EXPECT_EQ(h.Consult(All(), id, Step::kStartQueue, "nowhere").status().code(),
            StatusCode::kNotFound);
  // Carol has been free longer than bob: she is the one consulted.
  ASSERT_TRUE(h.SetPresence(All(), "carol", Presence::kAvailable).ok());
  h.clock.AdvanceBy(Seconds(5));
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  auto started = h.Consult(All(), id, Step::kStartQueue, "sales");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->consult_target, "carol");
  EXPECT_TRUE(h.voice.Called("consult 1 start carol"));
  EXPECT_EQ(h.Holds("carol"), (std::vector<std::string>{"1:handling"}));
  EXPECT_TRUE(h.Holds("bob").empty());
  EXPECT_EQ(started->consult_queue, "sales");
  EXPECT_EQ(started->consult_state, "ringing");
}

// Issue 8: with nobody of the queue free, the consultation waits (the customer on hold) and the
// first member who becomes free is rung; his phone answering shows the agents talking.
TEST(EngineConsultTest, ConsultingAQueueWithNobodyFreeWaitsForItsNextFreeMember) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  // Sales (alice, bob, carol, ...): nobody is Available yet.
  auto waiting = h.Consult(All(), id, Step::kStartQueue, "sales");
  ASSERT_TRUE(waiting.ok()) << waiting.status().ToString();
  EXPECT_EQ(waiting->consult_state, "waiting");
  EXPECT_EQ(waiting->consult_queue, "sales");
  EXPECT_TRUE(waiting->consult_target.empty());
  EXPECT_TRUE(waiting->on_hold);
  EXPECT_TRUE(h.voice.Called("hold 1"));
  EXPECT_EQ(h.Consult(All(), id, Step::kComplete).status().message(),
            "contact 1 waits for an agent of queue 'sales': nobody answered the consultation yet");
  EXPECT_EQ(h.Consult(All(), id, Step::kStartQueue, "sales").status().message(),
            "contact 1 is already in a consultation with queue sales");
  EXPECT_EQ(h.Hold(All(), id, false).status().code(), StatusCode::kConflict);
  EXPECT_EQ(h.TransferTo(All(), id, ports::TransferTarget::Kind::kAgent, "erin").status().code(),
            StatusCode::kConflict);
  // Bob becomes free: he is held for the call and rung, not offered anything else.
  h.clock.AdvanceBy(Seconds(30));
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  EXPECT_TRUE(h.voice.Called("consult 1 start bob"));
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:handling"}));
  auto ringing = h.Get(All(), id);
  ASSERT_TRUE(ringing.ok());
  EXPECT_EQ(ringing->consult_target, "bob");
  EXPECT_EQ(ringing->consult_state, "ringing");
  h.engine.ConsultAnswered(id, "bob");
  h.loop.RunAll();
  h.engine.ConsultAnswered(id, "bob");  // once only
  h.loop.RunAll();
  EXPECT_EQ(h.Get(All(), id)->consult_state, "talking");
  auto done = h.Consult(All(), id, Step::kComplete);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->record.agent, "bob");
  EXPECT_TRUE(done->consult_state.empty());
  EXPECT_EQ(ConsultOnly(ConsultTrail(store, DemoConfig()->routing)),
            (std::vector<std::string>{
                "handling.started dave", "hold.started dave", "consult.waiting dave sales",
                "consult.started dave bob sales", "consult.answered dave bob", "hold.ended dave",
                "contact.transferred dave attended", "handling.ended dave", "handling.started bob",
                "consult.ended bob bob sales completed"}));
  // The waiting consultation is no customer contact of sales: its statistics never saw it.
  auto sales =
      h.Run<ports::QueueSnapshot>([&](auto reply) { h.engine.GetQueue(All(), "sales", reply); });
  ASSERT_TRUE(sales.ok());
  EXPECT_EQ(sales->waiting, 0u);
  EXPECT_EQ(sales->offered, 0u);
}

TEST(EngineConsultTest, CancellingAWaitingConsultationTakesTheCustomerOffHold) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.Consult(All(), id, Step::kStartQueue, "sales").ok());
  auto cancelled = h.Consult(Self("dave"), id, Step::kCancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_TRUE(cancelled->consult_state.empty());
  EXPECT_FALSE(cancelled->on_hold);
  EXPECT_TRUE(h.voice.Called("resume 1"));
  // Bob becoming free rings nobody for it.
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  EXPECT_FALSE(h.voice.Called("consult 1 start bob"));
  EXPECT_TRUE(h.Holds("bob").empty());
  EXPECT_EQ(ConsultOnly(ConsultTrail(store, DemoConfig()->routing)),
            (std::vector<std::string>{"handling.started dave", "hold.started dave",
                                      "consult.waiting dave sales", "hold.ended dave",
                                      "consult.ended dave sales cancelled"}));
}

TEST(EngineConsultTest, TheCustomerHangingUpWithdrawsAWaitingConsultation) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.Consult(All(), id, Step::kStartQueue, "sales").ok());
  h.Input(id, ports::CustomerLeft{});
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  EXPECT_FALSE(h.voice.Called("consult 1 start bob"));
  EXPECT_TRUE(h.Holds("bob").empty());
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(CountOf(trail, "consult.ended dave sales call_ended"), 1)
      << ::testing::PrintToString(trail);
  EXPECT_TRUE(h.Get(All(), id)->consult_state.empty());
}

TEST(EngineConsultTest, AWaitingConsultationEndsAtTheQueuesMaxWait) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.Consult(All(), id, Step::kStartQueue, "sales").ok());  // max_wait: 10m
  h.clock.AdvanceBy(Seconds(599));
  h.loop.RunAll();
  EXPECT_EQ(h.Get(All(), id)->consult_state, "waiting");
  h.clock.AdvanceBy(Seconds(1));
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->consult_state.empty());
  EXPECT_FALSE(view->on_hold);
  EXPECT_EQ(view->record.agent, "dave");
  EXPECT_TRUE(h.voice.Called("resume 1"));
  EXPECT_EQ(CountOf(ConsultTrail(store, DemoConfig()->routing), "consult.ended dave sales timeout"),
            1);
}

TEST(EngineConsultTest, TheAgentEndingTheCallWithdrawsAWaitingConsultation) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.Consult(All(), id, Step::kStartQueue, "sales").ok());
  ASSERT_TRUE(h.EndHandling(Self("dave"), id).ok());
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  EXPECT_FALSE(h.voice.Called("consult 1 start bob"));
  EXPECT_EQ(
      CountOf(ConsultTrail(store, DemoConfig()->routing), "consult.ended dave sales call_ended"),
      1);
}

// Issue 8: the bound passing while a member rings lets him ring; his not answering then ends the
// consultation instead of waiting again.
TEST(EngineConsultTest, AfterTheBoundAMemberWhoDoesNotAnswerEndsTheConsultation) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.Consult(All(), id, Step::kStartQueue, "sales").ok());
  h.clock.AdvanceBy(Seconds(590));
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  EXPECT_TRUE(h.voice.Called("consult 1 start bob"));
  h.clock.AdvanceBy(Seconds(20));  // past sales' max_wait (10 min)
  h.loop.RunAll();
  EXPECT_EQ(h.Get(All(), id)->consult_state, "ringing");
  h.engine.ConsultEnded(id, "bob", ports::ConsultEnd::kNoAnswer);
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->consult_state.empty());
  EXPECT_FALSE(view->on_hold);
  EXPECT_TRUE(h.Holds("bob").empty());
  EXPECT_EQ(
      CountOf(ConsultTrail(store, DemoConfig()->routing), "consult.ended dave bob sales no_answer"),
      1);
}

// Issue 8: a member whose phones do not answer (or refuse) is passed over; the consultation
// waits for the next free member rather than ending.
TEST(EngineConsultTest, AQueueMemberWhoDoesNotAnswerIsPassedOverAndTheWaitGoesOn) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  auto started = h.Consult(All(), id, Step::kStartQueue, "sales");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->consult_target, "bob");
  h.engine.ConsultEnded(id, "bob", ports::ConsultEnd::kNoAnswer);
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->consult_state, "waiting");
  EXPECT_TRUE(view->on_hold);
  EXPECT_TRUE(h.Holds("bob").empty());
  EXPECT_EQ(std::count(h.voice.calls.begin(), h.voice.calls.end(), "consult 1 start bob"), 1);
  EXPECT_TRUE(h.voice.Called("hold 1"));  // the adapter had bridged them again
  // Carol becomes free: she is rung; her phones refuse: the wait goes on again.
  ASSERT_TRUE(h.SetPresence(All(), "carol", Presence::kAvailable).ok());
  EXPECT_TRUE(h.voice.Called("consult 1 start carol"));
  h.engine.ConsultEnded(id, "carol", ports::ConsultEnd::kRefused);
  h.loop.RunAll();
  EXPECT_EQ(h.Get(All(), id)->consult_state, "waiting");
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(CountOf(trail, "consult.waiting dave sales bob no_answer"), 1);
  EXPECT_EQ(CountOf(trail, "consult.waiting dave sales carol refused"), 1);
  EXPECT_EQ(CountOf(trail, "consult.ended dave bob sales no_answer"), 0);
  // An agent without a phone is passed over as well.
  h.voice.control_status = InvalidArgument("agent ivan has no registered phone to consult");
  ASSERT_TRUE(h.SetPresence(All(), "ivan", Presence::kAvailable).ok());
  h.loop.RunAll();
  EXPECT_TRUE(h.voice.Called("consult 1 start ivan"));
  EXPECT_TRUE(h.Holds("ivan").empty());
  EXPECT_EQ(CountOf(ConsultTrail(store, DemoConfig()->routing),
                    "consult.waiting dave sales ivan no_phone"),
            1);
  EXPECT_EQ(h.Get(All(), id)->consult_state, "waiting");
}

TEST(EngineConsultTest, RefusalsSayWhatIsWrongAndReserveNobody) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  EXPECT_EQ(h.Consult(All(), id, Step::kStart, "nobody").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Consult(All(), id, Step::kStart, "dave").status().code(),
            StatusCode::kInvalidArgument);
  auto offline = h.Consult(All(), id, Step::kStart, "bob");  // bob is not Available
  EXPECT_EQ(offline.status().code(), StatusCode::kConflict);
  EXPECT_EQ(offline.status().message(), "agent 'bob' is not Available with a free voice slot");
  EXPECT_EQ(h.Consult(All(), id, Step::kComplete).status().message(),
            "contact 1 has no consultation to complete");
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  h.voice.control_status = InvalidArgument("agent bob has no registered phone to consult");
  EXPECT_EQ(h.Consult(All(), id, Step::kStart, "bob").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(h.Holds("bob").empty());  // the reservation was undone
  h.voice.control_status = Status::Ok();
  EXPECT_TRUE(h.Consult(All(), id, Step::kStart, "bob").ok());
  // Outside the caller's scope the contact does not exist.
  EXPECT_EQ(h.Consult(Team("south"), id, Step::kCancel).status().code(), StatusCode::kNotFound);
}

// Blind transfer to one agent or an external number (engine/transfer.cc, issue 8).

using TransferKind_ = ports::TransferTarget::Kind;

TEST(EngineBlindTransferTest, ToAnAgentReleasesTheFirstAgentAndTheTargetAnsweringHandlesIt) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  auto moved = h.TransferTo(Self("dave"), id, TransferKind_::kAgent, "bob");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_TRUE(h.voice.Called("blind 1 agent bob"));
  EXPECT_FALSE(h.voice.Called("release 1 dave"));  // the adapter released dave's leg itself
  EXPECT_EQ(moved->transfer_target, "bob");
  EXPECT_EQ(moved->record.agent, "bob");
  // Dave wraps up at once; bob is held for the call while his phones ring.
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:handling"}));
  auto held = h.Hold(All(), id, true);
  EXPECT_EQ(held.status().code(), StatusCode::kConflict);
  EXPECT_EQ(held.status().message(),
            "contact 1 is being transferred to bob, so it cannot be put on hold");
  EXPECT_EQ(h.EndHandling(All(), id).status().code(), StatusCode::kConflict);
  auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(CountOf(trail, "contact.transferred dave agent bob"), 1);
  EXPECT_EQ(CountOf(trail, "handling.started bob"), 0);  // not before he answers

  h.engine.TransferProgress(id, {ports::TransferUpdate::Stage::kAnswered, "bob", "", 0});
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->transfer_target.empty());
  EXPECT_EQ(view->record.agent, "bob");
  EXPECT_EQ(view->record.state, ports::ContactState::kHandling);
  trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(std::vector<std::string>(trail.begin() + 1, trail.end()),
            (std::vector<std::string>{"handling.started dave", "contact.transferred dave agent bob",
                                      "handling.ended dave", "handling.started bob"}));
  // Bob has the call now: he ends it like any other and wraps up.
  ASSERT_TRUE(h.EndHandling(All(), id).ok());
  EXPECT_EQ(h.Holds("bob"), (std::vector<std::string>{"1:wrap-up"}));
}

TEST(EngineBlindTransferTest, ToAnAgentWhoDoesNotAnswerPutsTheCallBackInItsQueue) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  const TimePoint arrived = h.Get(All(), id)->record.times.arrived;
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  ASSERT_TRUE(h.TransferTo(All(), id, TransferKind_::kAgent, "bob").ok());
  h.engine.TransferProgress(id, {ports::TransferUpdate::Stage::kFailed, "bob", "no_answer", 0});
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->transfer_target.empty());
  EXPECT_EQ(view->record.queue, "support");
  EXPECT_EQ(view->record.times.arrived, arrived);  // its place
  EXPECT_TRUE(view->record.state == ports::ContactState::kQueued ||
              view->record.state == ports::ContactState::kOffered)
      << static_cast<int>(view->record.state);
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(CountOf(trail, "contact.queued"), 2);  // the arrival and the return
  EXPECT_EQ(CountOf(trail, "handling.started bob"), 0);
  // Issue 8: the desktop and integrators learn why (transfer.failed, before the return).
  EXPECT_EQ(CountOf(trail, "transfer.failed bob bob no_answer"), 1);
  // A late answer of the adapter for the transfer that failed changes nothing.
  h.engine.TransferProgress(id, {ports::TransferUpdate::Stage::kAnswered, "bob", "", 0});
  h.loop.RunAll();
  EXPECT_EQ(CountOf(ConsultTrail(store, DemoConfig()->routing), "handling.started bob"), 0);
}

TEST(EngineBlindTransferTest, TheCustomerHangingUpWhileTheTargetRingsClosesTheContact) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  ASSERT_TRUE(h.TransferTo(All(), id, TransferKind_::kAgent, "bob").ok());
  h.Input(id, ports::CustomerLeft{});
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.state, ports::ContactState::kClosed);
  EXPECT_TRUE(view->transfer_target.empty());
  EXPECT_TRUE(h.Holds("bob").empty());  // free again, no wrap-up for a call he never had
  // Bob's phone answering after the customer left (the adapter's late report) changes nothing.
  h.engine.TransferProgress(id, {ports::TransferUpdate::Stage::kAnswered, "bob", "", 0});
  h.loop.RunAll();
  EXPECT_TRUE(h.Holds("bob").empty());
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(CountOf(trail, "handling.started bob"), 0);
  EXPECT_EQ(CountOf(trail, "contact.closed"), 1);
}

TEST(EngineBlindTransferTest, HangingUpFromTheApiWhileTheTargetRingsEndsTheCall) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  ASSERT_TRUE(h.TransferTo(All(), id, TransferKind_::kAgent, "bob").ok());
  auto hung = h.Hangup(All(), id);
  ASSERT_TRUE(hung.ok()) << hung.status().ToString();
  EXPECT_EQ(hung->record.state, ports::ContactState::kClosed);
  EXPECT_TRUE(h.voice.Called("ended 1"));
  EXPECT_TRUE(h.Holds("bob").empty());
}

TEST(EngineBlindTransferTest, RefusalsSayWhatIsWrongAndReserveNobody) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  auto unknown = h.TransferTo(All(), id, TransferKind_::kAgent, "nobody");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "no agent 'nobody'");
  auto self = h.TransferTo(All(), id, TransferKind_::kAgent, "dave");
  EXPECT_EQ(self.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(self.status().message(),
            "agent 'dave' handles contact 1: transfer it to another agent");
  auto offline = h.TransferTo(All(), id, TransferKind_::kAgent, "bob");
  EXPECT_EQ(offline.status().code(), StatusCode::kConflict);
  EXPECT_EQ(offline.status().message(), "agent 'bob' is not Available with a free voice slot");
  ASSERT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  h.voice.control_status =
      InvalidArgument("agent bob has no registered phone to take the transfer");
  EXPECT_EQ(h.TransferTo(All(), id, TransferKind_::kAgent, "bob").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(h.Holds("bob").empty());  // the reservation was undone
  h.voice.control_status = InvalidArgument("number +449 is not an allowed destination");
  EXPECT_EQ(h.TransferTo(All(), id, TransferKind_::kNumber, "+449").status().code(),
            StatusCode::kInvalidArgument);
  // A voice contact the adapter holds no call for (made through the API) has no legs to move.
  h.voice.control_status = NotFound("no call for contact 1");
  auto legless = h.TransferTo(All(), id, TransferKind_::kAgent, "bob");
  EXPECT_EQ(legless.status().code(), StatusCode::kConflict);
  EXPECT_EQ(legless.status().message(),
            "contact 1 cannot be transferred: no voice channel is attached to it");
  EXPECT_TRUE(h.Holds("bob").empty());
  h.voice.control_status = Status::Ok();
  auto malformed = h.TransferTo(All(), id, TransferKind_::kNumber, "12ab");
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(malformed.status().message(),
            "number '12ab' must be 3 to 20 digits with an optional leading '+'");
  ASSERT_TRUE(h.Consult(All(), id, Step::kStart, "bob").ok());
  EXPECT_EQ(h.TransferTo(All(), id, TransferKind_::kNumber, "+15551234567").status().message(),
            "contact 1 is in a consultation with bob: complete or cancel it first");
  // Nothing of it reached the journal: dave still has the call.
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:handling"}));
}

TEST(EngineBlindTransferTest, ToANumberTakesTheCallOutOfRoutingUntilAHangUp) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  auto moved = h.TransferTo(Self("dave"), id, TransferKind_::kNumber, "+15551234567");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_TRUE(h.voice.Called("blind 1 number +15551234567"));
  EXPECT_EQ(moved->transfer_target, "+15551234567");
  EXPECT_EQ(moved->record.state, ports::ContactState::kHandling);
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  h.engine.TransferProgress(id, {ports::TransferUpdate::Stage::kAnswered, "+15551234567", "", 200});
  h.loop.RunAll();
  auto talking = h.Get(All(), id);
  ASSERT_TRUE(talking.ok());
  EXPECT_TRUE(talking->transfer_target.empty());
  EXPECT_EQ(talking->transferred_to_number, "+15551234567");
  EXPECT_EQ(talking->record.state, ports::ContactState::kHandling);
  EXPECT_EQ(h.Hold(All(), id, true).status().code(), StatusCode::kConflict);
  // Either side hanging up ends the call and the contact.
  h.Input(id, ports::CustomerLeft{});
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.state, ports::ContactState::kClosed);
  const auto trail = ConsultTrail(store, DemoConfig()->routing);
  EXPECT_EQ(CountOf(trail, "contact.transferred dave external +15551234567"), 1);
  EXPECT_EQ(CountOf(trail, "contact.closed"), 1);
}

TEST(EngineBlindTransferTest, ANumberThatDoesNotAnswerPutsTheCallBackInItsQueue) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  const TimePoint arrived = h.Get(All(), id)->record.times.arrived;
  ASSERT_TRUE(h.TransferTo(All(), id, TransferKind_::kNumber, "+15551234567").ok());
  h.engine.TransferProgress(id,
                            {ports::TransferUpdate::Stage::kFailed, "+15551234567", "busy", 486});
  h.loop.RunAll();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->transfer_target.empty());
  EXPECT_TRUE(view->transferred_to_number.empty());
  EXPECT_EQ(view->record.queue, "support");
  EXPECT_EQ(view->record.times.arrived, arrived);
  EXPECT_EQ(view->record.state, ports::ContactState::kQueued);
  EXPECT_EQ(CountOf(ConsultTrail(store, DemoConfig()->routing), "contact.queued"), 2);
  EXPECT_EQ(
      CountOf(ConsultTrail(store, DemoConfig()->routing), "transfer.failed +15551234567 busy 486"),
      1);
}

// A phone's REFER names its target by one string (docs/voice.md, "Call control").
Result<ContactSnapshot> ReferTo(const std::string& name, const std::string& login_agent,
                                std::string* adapter_call) {
  store::MemoryStore store;
  CallControlHarness h(store);
  EXPECT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  EXPECT_TRUE(h.SetPresence(All(), "bob", Presence::kAvailable).ok());
  auto r = h.Run<ContactSnapshot>([&](auto reply) {
    h.engine.TransferContact(All(), id, {TransferKind_::kAny, name, login_agent}, reply);
  });
  *adapter_call = h.voice.calls.empty() ? "" : h.voice.calls.back();
  return r;
}

TEST(EngineBlindTransferTest, AReferTargetIsAQueueThenAnEntryPointThenAnAgentThenANumber) {
  std::string call;
  auto queue = ReferTo("billing", "bob", &call);  // a queue's name wins over a login
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  EXPECT_EQ(queue->record.queue, "billing");
  auto agent = ReferTo("bob", "", &call);
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  EXPECT_EQ(call, "blind 1 agent bob");
  auto login = ReferTo("robert", "bob", &call);  // the agent of the SIP login robert
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(call, "blind 1 agent bob");
  auto number = ReferTo("+15551234567", "", &call);
  ASSERT_TRUE(number.ok()) << number.status().ToString();
  EXPECT_EQ(call, "blind 1 number +15551234567");
  EXPECT_EQ(ReferTo("nowhere", "", &call).status().code(), StatusCode::kNotFound);
}

TEST(EngineCallControlTest, HoldAndResumeAreJournaledOnceEachAndReachTheAdapter) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();

  auto held = h.Hold(Self("dave"), id, true);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_TRUE(held->on_hold);
  EXPECT_TRUE(h.voice.Called("hold 1"));
  auto twice = h.Hold(Self("dave"), id, true);
  EXPECT_EQ(twice.status().code(), StatusCode::kConflict);
  EXPECT_EQ(twice.status().message(), "contact 1 is already on hold");
  // Another agent does not reach the contact at all.
  EXPECT_EQ(h.Hold(Self("erin"), id, false).status().code(), StatusCode::kNotFound);

  h.clock.AdvanceBy(Seconds(20));
  auto resumed = h.Hold(All(), id, false);  // a supervisor resumes it
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_FALSE(resumed->on_hold);
  EXPECT_TRUE(h.voice.Called("resume 1"));
  auto again = h.Hold(All(), id, false);
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_EQ(again.status().message(), "contact 1 is not on hold");

  const auto types = JournalTypes(store);
  EXPECT_EQ(std::count(types.begin(), types.end(), "hold.started"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "hold.ended"), 1);

  // Held when the call ends: the hold ends with the handling, the flag with it.
  ASSERT_TRUE(h.Hold(All(), id, true).ok());
  auto ended = h.EndHandling(All(), id);
  ASSERT_TRUE(ended.ok());
  EXPECT_FALSE(ended->on_hold);
  EXPECT_EQ(h.Hold(All(), id, true).status().code(), StatusCode::kConflict);  // in wrap-up
}

TEST(EngineCallControlTest, MuteAndDigitsNeedALiveCallAndValidDigits) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();

  auto muted = h.Mute(Self("dave"), id, true);
  ASSERT_TRUE(muted.ok());
  EXPECT_TRUE(muted->muted);
  EXPECT_TRUE(h.voice.Called("mute 1"));
  EXPECT_EQ(h.Mute(Self("dave"), id, true).status().code(), StatusCode::kConflict);
  ASSERT_TRUE(h.Mute(Self("dave"), id, false).ok());
  EXPECT_TRUE(h.voice.Called("unmute 1"));

  ASSERT_TRUE(h.Digits(Self("dave"), id, "12#").ok());
  EXPECT_TRUE(h.voice.Called("digits 1 12#"));
  auto bad = h.Digits(Self("dave"), id, "1x");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "digits: 'x' is not a DTMF digit (allowed: 0-9 * # A-D)");
  // The adapter's refusal (no telephone-event negotiated) is the caller's answer.
  h.voice.control_status = InvalidArgument("no telephone-event");
  EXPECT_EQ(h.Digits(Self("dave"), id, "1").status().code(), StatusCode::kInvalidArgument);

  // A chat is not a call.
  auto task = h.Create("support", Channel::kChat);
  ASSERT_TRUE(task.ok());
  auto refused = h.Hold(All(), task->record.id, true);
  EXPECT_EQ(refused.status().code(), StatusCode::kConflict);
  EXPECT_NE(refused.status().message().find("only a voice call"), std::string::npos);
}

TEST(EngineCallControlTest, BlindTransferOfALiveCallReleasesTheAgentsLeg) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  ASSERT_TRUE(h.Hold(Self("dave"), id, true).ok());
  auto moved = h.Transfer(Self("dave"), id, "sales");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->record.queue, "sales");
  EXPECT_FALSE(moved->on_hold);  // the hold ended with dave's part
  EXPECT_TRUE(h.voice.Called("release 1 dave")) << ::testing::PrintToString(h.voice.calls);
  EXPECT_FALSE(h.voice.Called("ended 1"));  // the customer's leg stays
  auto dave = h.Agent(All(), "dave");
  ASSERT_TRUE(dave.ok());
  ASSERT_EQ(dave->contacts.size(), 1u);
  EXPECT_EQ(dave->contacts[0].state, ContactState::kWrapUp);
  const auto types = JournalTypes(store);
  EXPECT_NE(std::find(types.begin(), types.end(), "contact.transferred"), types.end());
}

TEST(EngineCallControlTest, BlindTransferToAnEntryPointRunsItsFlowAgain) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  const size_t plays = h.voice.plays.size();
  auto moved = h.Transfer(Self("dave"), id, "+33123456789");  // the demo's entry point
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->record.state, ContactState::kInFlow);
  EXPECT_TRUE(h.voice.Called("release 1 dave"));
  ASSERT_GT(h.voice.plays.size(), plays);
  EXPECT_EQ(h.voice.plays.back().prompt.text, "Welcome to Demo.");
  auto dave = h.Agent(All(), "dave");
  ASSERT_TRUE(dave.ok());
  ASSERT_EQ(dave->contacts.size(), 1u);
  EXPECT_EQ(dave->contacts[0].state, ContactState::kWrapUp);
  // Through the menu again, into sales this time.
  h.PromptEnded(id);
  h.Input(id, ports::DigitsPressed{"1"});
  auto queued = h.Get(All(), id);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->record.queue, "sales");
  EXPECT_EQ(h.Transfer(All(), id, "nowhere").status().code(), StatusCode::kNotFound);
}

// Issue 8: a flow started again by a blind transfer had an empty contact.caller (the ANI), so
// a flow routing or looking up by the caller's number lost it.
TEST(EngineCallControlTest, AFlowStartedByATransferKnowsTheCallersNumber) {
  const std::string yaml = R"(site: {name: T, time_zone: UTC}
skills: [support]
agents:
  - {id: alice, name: Alice, skills: {support: 5}, capacity: {voice: 1}, queues: [support]}
queues:
  - {name: support, channels: [voice]}
flows:
  - name: first
    steps:
      - {id: seen, type: set, values: {ani_first: "= contact.caller"}, next: queue}
      - {id: queue, type: queue, queue: support}
  - name: again
    steps:
      - {id: seen, type: set, values: {ani_again: "= contact.caller"}, next: queue}
      - {id: queue, type: queue, queue: support}
entry_points:
  - {channel: voice, address: "100", flow: first}
  - {channel: voice, address: "200", flow: again}
)";
  std::vector<config::ConfigError> errors;
  auto cfg = config::ParseConfigText(yaml, "site.yaml", {}, &errors);
  ASSERT_TRUE(cfg.ok()) << (errors.empty() ? cfg.status().ToString() : errors[0].ToString());
  store::MemoryStore store;
  CallControlHarness h(store, *cfg);
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto c = h.Call("100");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ContactId id = c->record.id;
  ASSERT_TRUE(h.Accept(All(), id, "alice").ok());
  auto moved = h.Transfer(Self("alice"), id, "200");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  auto view = h.Get(All(), id);
  ASSERT_TRUE(view.ok());
  std::map<std::string, std::string> attributes(view->record.attributes.begin(),
                                                view->record.attributes.end());
  EXPECT_EQ(attributes["ani_first"], "+33 6 12 34 56 78");
  EXPECT_EQ(attributes["ani_again"], "+33 6 12 34 56 78");
}

TEST(EngineCallControlTest, HangupEndsHandlingIntoWrapUpOrWithdrawsAWaitingCall) {
  store::MemoryStore store;
  CallControlHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  const ContactId id = h.TalkingToDave();
  auto hung = h.Hangup(Self("dave"), id);
  ASSERT_TRUE(hung.ok()) << hung.status().ToString();
  EXPECT_EQ(hung->record.state, ContactState::kWrapUp);
  EXPECT_TRUE(h.voice.Called("ended 1"));
  auto twice = h.Hangup(Self("dave"), id);
  EXPECT_EQ(twice.status().code(), StatusCode::kConflict);
  EXPECT_EQ(twice.status().message(), "contact 1 has no call left to hang up");

  // A call waiting in its queue (nobody free) is withdrawn and closes.
  auto c = h.Call();
  ASSERT_TRUE(c.ok());
  h.PromptEnded(c->record.id);
  h.Input(c->record.id, ports::DigitsPressed{"2"});
  auto withdrawn = h.Hangup(All(), c->record.id);
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status().ToString();
  EXPECT_EQ(withdrawn->record.state, ContactState::kClosed);
  EXPECT_TRUE(h.voice.Called("ended " + std::to_string(c->record.id.value())));
}

TEST(EngineFlowTest, LookupsFailWithoutAnHttpClientAndACallbackTakesTheCallersPlace) {
  const std::string yaml = R"(site: {name: T, time_zone: UTC}
skills: [support]
agents:
  - {id: alice, name: Alice, skills: {support: 5}, capacity: {voice: 1, callback: 1}, queues: [support]}
queues:
  - {name: support, channels: [voice, callback]}
flows:
  - name: main
    steps:
      - {id: crm, type: lookup, url: "http://crm.example/customer", exits: {next: wait, failure: nocrm}}
      - {id: nocrm, type: set, values: {crm: down}, next: wait}
      - {id: wait, type: queue, queue: support, offers: {"9": callback}, exits: {callback: cb}}
      - {id: cb, type: callback, queue: support, next: bye}
      - {id: bye, type: hangup}
entry_points:
  - {channel: voice, address: "+1000", flow: main}
)";
  std::vector<config::ConfigError> errors;
  auto cfg = config::ParseConfigText(yaml, "site.yaml", {}, &errors);
  ASSERT_TRUE(cfg.ok()) << (errors.empty() ? cfg.status().ToString() : errors[0].ToString());
  store::MemoryStore store;
  Harness h(store, *cfg);
  FakeChannel voice;
  h.engine.AttachChannel(Channel::kVoice, &voice);
  ASSERT_TRUE(h.engine.Start().ok());
  auto call = [&](const std::string& number) {
    ports::ArrivingContact ac;
    ac.channel = Channel::kVoice;
    ac.entry = "+1000";
    ac.from = ports::CustomerIdentity{Channel::kVoice, number};
    return h.Run<ContactSnapshot>([&](auto reply) { h.engine.ContactArrived(ac, reply); });
  };
  auto a = call("+33111");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const ContactId first = a->record.id;
  auto queued = h.Get(All(), first);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->record.state, ContactState::kQueued);
  auto attr = [](const ContactSnapshot& c, const std::string& name) {
    for (const auto& [k, v] : c.record.attributes) {
      if (k == name) return v;
    }
    return std::string();
  };
  EXPECT_EQ(attr(*queued, "crm"), "down");  // the lookup took its failure exit
  const TimePoint first_queued = queued->record.times.queued;

  h.clock.AdvanceBy(Seconds(10));
  auto b = call("+33222");
  ASSERT_TRUE(b.ok());
  h.clock.AdvanceBy(Seconds(20));
  voice.calls.clear();
  h.engine.ChannelInputFor(first, ports::DigitsPressed{"9"});  // "call me back"
  h.loop.RunAll();
  EXPECT_TRUE(voice.Called("hangup 1"));
  auto left = h.Get(All(), first);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->record.state, ContactState::kClosed);
  EXPECT_EQ(FlowTrail(store, first).back(), "flow.ended bye callback");

  // The callback is a new contact that waits where the caller waited: ahead of the second call.
  auto all = h.Run<std::vector<ContactSnapshot>>(
      [&](auto reply) { h.engine.ListContacts(All(), ports::ContactFilter{}, reply); });
  ASSERT_TRUE(all.ok());
  std::optional<ContactSnapshot> callback;
  for (const auto& c : *all) {
    if (c.record.channel == Channel::kCallback) callback = c;
  }
  ASSERT_TRUE(callback.has_value());
  EXPECT_EQ(callback->record.times.queued, first_queued);
  EXPECT_EQ(callback->record.times.arrived, a->record.times.arrived);
  EXPECT_EQ(attr(*callback, "callback.number"), "+33111");
  EXPECT_EQ(attr(*callback, "origin.contact"), std::to_string(first.value()));
  EXPECT_EQ(callback->record.customer, a->record.customer);
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  auto offered = h.Get(All(), callback->record.id);
  ASSERT_TRUE(offered.ok());
  EXPECT_EQ(offered->record.state, ContactState::kOffered);
  // Alice takes a voice call and a callback at once: the callback, which waited longest, first.
  std::vector<ContactId> offers;
  auto entries = store.ReadAfter(0, 10000);
  ASSERT_TRUE(entries.ok());
  for (const auto& e : *entries) {
    if (e.event.type == EventType::kContactOffered) offers.push_back(e.event.contact);
  }
  EXPECT_EQ(offers, (std::vector<ContactId>{callback->record.id, b->record.id}));
  EXPECT_FALSE(voice.Called("offer " + std::to_string(callback->record.id.value()) +
                            " alice 20.000000s"));  // no adapter for callbacks
}

constexpr const char* kVoicemailSite = R"(site: {name: T, time_zone: UTC}
skills: [support]
agents:
  - {id: alice, name: Alice, skills: {support: 5}, capacity: {voice: 1, callback: 1}, queues: [support]}
queues:
  - {name: support, channels: [voice, callback]}
flows:
  - name: main
    steps:
      - {id: vm, type: voicemail, mailbox: support, prompt: {text: Leave a message}, max_length: 30s}
entry_points:
  - {channel: voice, address: "+1000", flow: main}
)";

std::shared_ptr<const config::Config> VoicemailConfig() {
  std::vector<config::ConfigError> errors;
  auto cfg = config::ParseConfigText(kVoicemailSite, "site.yaml", {}, &errors);
  PARLEY_CHECK(cfg.ok());
  return *cfg;
}

std::string AttributeOf(const ContactSnapshot& c, const std::string& name) {
  for (const auto& [k, v] : c.record.attributes) {
    if (k == name) return v;
  }
  return "";
}

std::vector<ContactSnapshot> CallbacksOf(Harness& h) {
  auto all = h.Run<std::vector<ContactSnapshot>>(
      [&](auto reply) { h.engine.ListContacts(All(), ports::ContactFilter{}, reply); });
  std::vector<ContactSnapshot> out;
  for (const auto& c : *all) {
    if (c.record.channel == Channel::kCallback) out.push_back(c);
  }
  return out;
}

ports::RecordedAudio Voicemail(Duration length) {
  ports::RecordedAudio audio;
  audio.info = {"/data/recordings/2025/12/01/1.wav", 80044, length, std::string(64, 'e')};
  audio.channels = 1;
  return audio;
}

// The caller hangs up after speaking: the contact stays open until the adapter's recording
// arrives, and only then is the message a contact of the mailbox, carrying its recording.
TEST(EngineVoicemailTest, AMessageBecomesAContactOnlyOnceItsRecordingArrives) {
  store::MemoryStore store;
  FlowHarness h(store, VoicemailConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  auto call = h.Call("+1000");
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  const ContactId first = call->record.id;
  EXPECT_TRUE(h.voice.Called("voicemail " + std::to_string(first.value()) +
                             " support 30.000000s Leave a message"))
      << ::testing::PrintToString(h.voice.calls);
  EXPECT_TRUE(h.voice.plays.empty());  // the adapter plays the prompt, before its beep
  EXPECT_TRUE(CallbacksOf(h).empty());

  h.Input(first, ports::CustomerLeft{});
  EXPECT_NE(h.Get(All(), first)->record.state, ContactState::kClosed);
  EXPECT_TRUE(CallbacksOf(h).empty());

  h.clock.AdvanceBy(Seconds(7));
  ports::RecordedAudio audio = Voicemail(Seconds(5));
  audio.started = h.clock.Now() - Seconds(5);
  h.engine.RecordingFinished(first, audio);
  h.loop.RunAll();
  EXPECT_EQ(h.Get(All(), first)->record.state, ContactState::kClosed);
  auto callbacks = CallbacksOf(h);
  ASSERT_EQ(callbacks.size(), 1u);
  const ContactSnapshot& message = callbacks[0];
  EXPECT_EQ(message.record.queue, "support");
  EXPECT_EQ(AttributeOf(message, "voicemail.mailbox"), "support");
  EXPECT_EQ(AttributeOf(message, "voicemail.recording"), "1");
  EXPECT_EQ(AttributeOf(message, "voicemail.duration"), "5");
  EXPECT_EQ(AttributeOf(message, "origin.contact"), std::to_string(first.value()));
  ASSERT_EQ(message.recordings.size(), 1u);
  EXPECT_EQ(message.recordings[0].kind, "voicemail");

  // Stored and journaled with the new contact, listed by the recordings API.
  auto stored = store.RecordingsOfContact(message.record.id);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].id, 1u);
  EXPECT_EQ((*stored)[0].kind, "voicemail");
  EXPECT_EQ((*stored)[0].duration, Seconds(5));
  EXPECT_EQ((*stored)[0].bytes, 80044u);
  EXPECT_EQ((*stored)[0].sha256, std::string(64, 'e'));
  EXPECT_EQ(Types(store, message.record.id), (std::vector<std::string>{"recording.completed"}));
  auto listed = h.Run<std::vector<ports::RecordingRecord>>(
      [&](auto reply) { h.engine.ListRecordings(All(), {}, std::move(reply)); });
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].contact, message.record.id);

  // An agent is offered the message.
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  EXPECT_EQ(h.Get(All(), message.record.id)->record.state, ContactState::kOffered);
}

// The caller hung up at the beep: nobody is offered an empty message; the adapter hangs up.
TEST(EngineVoicemailTest, AMessageShorterThanASecondMakesNoContact) {
  store::MemoryStore store;
  FlowHarness h(store, VoicemailConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  auto call = h.Call("+1000");
  ASSERT_TRUE(call.ok());
  const ContactId first = call->record.id;
  h.engine.RecordingFinished(first, Voicemail(Seconds(0.4)));
  h.loop.RunAll();
  EXPECT_EQ(h.Get(All(), first)->record.state, ContactState::kClosed);
  EXPECT_TRUE(h.voice.Called("ended " + std::to_string(first.value())));
  EXPECT_TRUE(CallbacksOf(h).empty());
  // The short file is still accounted for (retention deletes it), with the call.
  auto stored = store.RecordingsOfContact(first);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].kind, "voicemail");
}

// Nothing recorded (no recordings directory, the caller left before the beep): no contact.
TEST(EngineVoicemailTest, NothingRecordedMakesNoContactAndStoresNothing) {
  store::MemoryStore store;
  FlowHarness h(store, VoicemailConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  auto call = h.Call("+1000");
  ASSERT_TRUE(call.ok());
  const ContactId first = call->record.id;
  ports::RecordedAudio nothing;
  nothing.channels = 1;
  h.engine.RecordingFinished(first, nothing);
  h.loop.RunAll();
  EXPECT_EQ(h.Get(All(), first)->record.state, ContactState::kClosed);
  EXPECT_TRUE(CallbacksOf(h).empty());
  EXPECT_TRUE(store.RecordingsOfContact(first)->empty());
}

// The process died while the caller was leaving a message: the restart closes the call (its flow
// had already ended, with "voicemail": no second flow.ended), and the file the SIP adapter
// recovers at its start becomes the mailbox's message all the same. Before, it stayed with the
// closed call and nobody was offered the message.
TEST(EngineVoicemailTest, AMessageCutShortByARestartBecomesAContactFromItsRecoveredFile) {
  store::MemoryStore store;
  ContactId first;
  {
    FlowHarness h(store, VoicemailConfig());
    ASSERT_TRUE(h.engine.Start().ok());
    auto call = h.Call("+1000");
    ASSERT_TRUE(call.ok());
    first = call->record.id;
    h.loop.Drop();  // the process dies while the adapter records
  }
  const ports::Sequence before = *store.LastSequence();
  FlowHarness h(store, VoicemailConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  h.loop.RunAll();
  EXPECT_EQ(h.Get(All(), first)->record.state, ContactState::kClosed);
  EXPECT_EQ(JournalTypes(store, before), (std::vector<std::string>{"contact.closed"}));
  EXPECT_TRUE(CallbacksOf(h).empty());

  h.engine.RecordingFinished(first, Voicemail(Seconds(4)));
  h.loop.RunAll();
  auto callbacks = CallbacksOf(h);
  ASSERT_EQ(callbacks.size(), 1u);
  const ContactSnapshot& message = callbacks[0];
  EXPECT_EQ(message.record.queue, "support");
  EXPECT_EQ(message.record.state, ContactState::kQueued);
  EXPECT_EQ(AttributeOf(message, "voicemail.mailbox"), "support");
  EXPECT_EQ(AttributeOf(message, "voicemail.duration"), "4");
  EXPECT_EQ(AttributeOf(message, "origin.contact"), std::to_string(first.value()));
  auto stored = store.RecordingsOfContact(message.record.id);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].kind, "voicemail");
  EXPECT_EQ(AttributeOf(message, "voicemail.recording"), std::to_string((*stored)[0].id));
  EXPECT_TRUE(store.RecordingsOfContact(first)->empty());
  // Only once: a second mono file of the same call stays with it.
  h.engine.RecordingFinished(first, Voicemail(Seconds(3)));
  h.loop.RunAll();
  EXPECT_EQ(CallbacksOf(h).size(), 1u);
  EXPECT_EQ(store.RecordingsOfContact(first)->size(), 1u);
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  EXPECT_EQ(h.Get(All(), message.record.id)->record.state, ContactState::kOffered);
}

TEST(EngineFlowTest, QueueAnnouncementsTellThePositionAndTheEstimatedWaitFromLiveStatistics) {
  const std::string yaml = R"(site: {name: T, time_zone: UTC}
skills: [support]
agents:
  - {id: alice, name: Alice, skills: {support: 5}, capacity: {voice: 1}, queues: [support]}
queues:
  - {name: support, channels: [voice]}
flows:
  - name: main
    steps:
      - id: check
        type: branch
        queue: support
        cases:
          - {when: "queue.agents_available > 0", next: wait}
        exits: {default: busy}
      - {id: busy, type: say, text: "All our agents are busy.", next: wait}
      - {id: wait, type: queue, queue: support, announce_every: 30s, announce: [position, wait]}
entry_points:
  - {channel: voice, address: "+1000", flow: main}
)";
  std::vector<config::ConfigError> errors;
  auto cfg = config::ParseConfigText(yaml, "site.yaml", {}, &errors);
  ASSERT_TRUE(cfg.ok()) << (errors.empty() ? cfg.status().ToString() : errors[0].ToString());
  store::MemoryStore store;
  Harness h(store, *cfg);
  FakeChannel voice;
  h.engine.AttachChannel(Channel::kVoice, &voice);
  ASSERT_TRUE(h.engine.Start().ok());
  auto call = [&] {
    ports::ArrivingContact ac;
    ac.channel = Channel::kVoice;
    ac.entry = "+1000";
    return h.Run<ContactSnapshot>([&](auto reply) { h.engine.ContactArrived(ac, reply); });
  };
  auto a = call();
  ASSERT_TRUE(a.ok());
  // Nobody is available: the branch took its default exit.
  ASSERT_EQ(voice.plays.size(), 1u);
  EXPECT_EQ(voice.plays[0].prompt.text, "All our agents are busy.");
  h.engine.ChannelInputFor(a->record.id, ports::PromptEnded{voice.plays[0].play_id});
  auto b = call();
  ASSERT_TRUE(b.ok());
  h.engine.ChannelInputFor(b->record.id, ports::PromptEnded{voice.plays[1].play_id});
  h.loop.RunAll();
  ASSERT_EQ(h.Get(All(), b->record.id)->record.state, ContactState::kQueued);

  h.clock.AdvanceBy(Seconds(30));
  h.loop.RunAll();
  ASSERT_EQ(voice.plays.size(), 4u) << ::testing::PrintToString(voice.calls);
  // Nothing answered today yet: 3 minutes per contact ahead, over one staffed agent at least.
  EXPECT_EQ(voice.plays[2].prompt.text,
            "You are number 1 in the queue. Your estimated wait is about 3 minutes.");
  EXPECT_EQ(voice.plays[3].prompt.text,
            "You are number 2 in the queue. Your estimated wait is about 6 minutes.");

  // With Alice available, the next caller skips the busy message.
  h.engine.ChannelInputFor(a->record.id, ports::CustomerLeft{});
  h.engine.ChannelInputFor(b->record.id, ports::CustomerLeft{});
  h.loop.RunAll();
  ASSERT_TRUE(h.SetPresence(All(), "alice", Presence::kAvailable).ok());
  const size_t played = voice.plays.size();
  auto c = call();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(voice.plays.size(), played);  // straight into the queue
  auto offered = h.Get(All(), c->record.id);
  ASSERT_TRUE(offered.ok());
  EXPECT_EQ(offered->record.state, ContactState::kOffered);
}

// Click-to-dial (engine/outbound.cc).

class OutboundHarness : public CallControlHarness {
 public:
  using CallControlHarness::CallControlHarness;
  Result<ContactSnapshot> Dial(const Caller& who, const std::string& agent,
                               const std::string& number, const std::string& queue = "support") {
    return Run<ContactSnapshot>([&](auto reply) {
      engine.PlaceCall(who, ports::OutboundCall{agent, number, queue, {}}, reply);
    });
  }
  void Progress(ContactId id, ports::OutboundUpdate::Stage stage, const std::string& reason = "",
                int status = 0) {
    engine.OutboundProgress(id, ports::OutboundUpdate{stage, reason, status});
    loop.RunAll();
  }
};

// The journal's outbound.*, handling.* and wrap_up.* events, as "type agent [field ...]".
std::vector<std::string> OutboundTrail(ports::Store& store, const RoutingConfig& routing) {
  std::vector<std::string> out;
  auto entries = store.ReadAfter(0, 10000);
  EXPECT_TRUE(entries.ok());
  for (const auto& e : *entries) {
    const std::string type(EventTypeName(e.event.type));
    if (type.rfind("outbound.", 0) != 0 && type.rfind("handling.", 0) != 0 &&
        type.rfind("wrap_up.", 0) != 0) {
      continue;
    }
    std::string line = type;
    if (e.event.agent < routing.agents.size()) line += " " + routing.agents[e.event.agent].name;
    for (const auto& [k, v] : ParseEventFields(e.event.text)) {
      if (k == "number" || k == "reason" || k == "sip_status" || k == "by") line += " " + v;
    }
    out.push_back(line);
  }
  return out;
}

TEST(EngineOutboundTest, ClickToDialPutsTheCallAtTheAgentAndTheAnswerConnectsIt) {
  store::MemoryStore store;
  OutboundHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());
  auto placed = h.Dial(Self("dave"), "", "+442071234567");
  ASSERT_TRUE(placed.ok()) << placed.status().ToString();
  const ContactId id = placed->record.id;
  EXPECT_TRUE(h.voice.Called("dial 1 dave +442071234567"))
      << ::testing::PrintToString(h.voice.calls);
  EXPECT_EQ(placed->record.direction, Direction::kOutbound);
  EXPECT_EQ(placed->record.state, ContactState::kHandling);
  EXPECT_EQ(placed->record.agent, "dave");
  EXPECT_EQ(placed->record.queue, "support");
  EXPECT_TRUE(placed->record.customer.valid());  // the number dialled is the customer
  EXPECT_EQ(placed->record.times.answered, TimePoint{});
  // Dave is busy with it: the ACD offers him nothing else, and a second call is refused.
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:handling"}));
  auto again = h.Dial(All(), "dave", "+442071234568");
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);

  h.clock.AdvanceBy(Seconds(7));
  h.Progress(id, ports::OutboundUpdate::Stage::kAnswered);
  auto talking = h.Get(All(), id);
  ASSERT_TRUE(talking.ok());
  EXPECT_EQ(talking->record.times.answered, talking->record.times.arrived + Seconds(7));
  // The customer hangs up: dave wraps up as after an inbound call.
  h.Input(id, ports::CustomerLeft{});
  EXPECT_EQ(h.Holds("dave"), (std::vector<std::string>{"1:wrap-up"}));
  EXPECT_EQ(
      OutboundTrail(store, DemoConfig()->routing),
      (std::vector<std::string>{"outbound.started dave +442071234567 dave", "handling.started dave",
                                "outbound.answered dave +442071234567", "handling.ended dave",
                                "wrap_up.started dave"}));
}

TEST(EngineOutboundTest, AFailedCallEndsWithItsReasonAndTheAgentWrapsUp) {
  store::MemoryStore store;
  OutboundHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());
  auto placed = h.Dial(All(), "dave", "0800123456");
  ASSERT_TRUE(placed.ok()) << placed.status().ToString();
  const ContactId id = placed->record.id;
  h.Progress(id, ports::OutboundUpdate::Stage::kFailed, "busy", 486);
  auto after = h.Get(All(), id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->record.state, ContactState::kWrapUp);
  EXPECT_TRUE(h.voice.Called("ended 1"));  // the adapter lets go of the agent's phone
  bool result = false;
  for (const auto& [k, v] : after->record.attributes) {
    if (k == "outbound.result") result = v == "busy";
  }
  EXPECT_TRUE(result) << ::testing::PrintToString(after->record.attributes);
  EXPECT_EQ(
      OutboundTrail(store, DemoConfig()->routing),
      (std::vector<std::string>{"outbound.started dave 0800123456 admin", "handling.started dave",
                                "outbound.failed dave 0800123456 busy 486", "handling.ended dave",
                                "wrap_up.started dave"}));
  // A late answer after the end is ignored.
  h.Progress(id, ports::OutboundUpdate::Stage::kAnswered);
  EXPECT_EQ(OutboundTrail(store, DemoConfig()->routing).size(), 5u);
}

TEST(EngineOutboundTest, RefusalsSayWhatWasWrong) {
  store::MemoryStore store;
  OutboundHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  // Not Available.
  auto busy = h.Dial(All(), "dave", "+442071234567");
  EXPECT_EQ(busy.status().code(), StatusCode::kConflict);
  EXPECT_EQ(busy.status().message(),
            "agent 'dave' is not Available with a free voice slot (offline)");
  ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());
  EXPECT_EQ(h.Dial(All(), "dave", "+44 20").status().message(),
            "number '+44 20' must be 3 to 20 digits with an optional leading '+'");
  EXPECT_EQ(h.Dial(All(), "dave", "+442071234567", "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Dial(All(), "zed", "+442071234567").status().code(), StatusCode::kNotFound);
  // An agent dials only for itself; a team lead for its team.
  EXPECT_EQ(h.Dial(Self("bob"), "dave", "+442071234567").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Dial(Team("south"), "dave", "+442071234567").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h.Dial(All(), "", "+442071234567").status().code(), StatusCode::kInvalidArgument);
  // The adapter's refusal (no registered phone, destination not allowed) is the reply, and
  // nothing is left at the agent.
  h.voice.control_status = InvalidArgument("agent dave has no registered phone");
  auto refused = h.Dial(All(), "dave", "+442071234567");
  EXPECT_EQ(refused.status().message(), "agent dave has no registered phone");
  EXPECT_TRUE(h.Holds("dave").empty());
  EXPECT_TRUE(OutboundTrail(store, DemoConfig()->routing).empty());
}

// config/demo.yaml where oscar also takes callbacks.
std::shared_ptr<const config::Config> CallbackConfig() {
  std::vector<config::ConfigError> errors;
  config::ParseOptions opts;
  opts.overrides = {{"agents.oscar.capacity.callback", "1"}};
  auto c =
      config::LoadConfigFile(std::string(PARLEY_SOURCE_DIR) + "/config/demo.yaml", &errors, opts);
  PARLEY_CHECK(c.ok());
  return *c;
}

// The journal's event types for `contact`.
std::vector<std::string> AllTypes(ports::Store& store, ContactId contact) {
  std::vector<std::string> out;
  auto entries = store.ReadAfter(0, 10000);
  for (const auto& e : *entries) {
    if (e.event.contact == contact) out.emplace_back(EventTypeName(e.event.type));
  }
  return out;
}

TEST(EngineOutboundTest, ACallbackOfferedToAnAgentIsDialledAndItsAnswerConnectsIt) {
  store::MemoryStore store;
  OutboundHarness h(store, CallbackConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  ports::NewContact nc;
  nc.channel = Channel::kCallback;
  nc.queue = "support";
  nc.attributes = {{"callback.number", "+442079460001"}};
  auto created =
      h.Run<ContactSnapshot>([&](auto reply) { h.engine.CreateContact(All(), nc, reply); });
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const ContactId id = created->record.id;
  ASSERT_TRUE(h.SetPresence(All(), "oscar", Presence::kAvailable).ok());
  auto offered = h.Get(All(), id);
  ASSERT_TRUE(offered.ok());
  ASSERT_EQ(offered->record.state, ContactState::kOffered) << offered->record.agent;
  const std::string agent = offered->record.agent;
  EXPECT_TRUE(h.voice.Called("dial 1 " + agent + " +442079460001 offer"))
      << ::testing::PrintToString(h.voice.calls);
  EXPECT_FALSE(h.voice.Called("offer 1 " + agent + " 0.000000s"));
  // The phone answers: the SIP adapter accepts the offer, then the customer answers.
  ASSERT_TRUE(h.Accept(All(), id, agent).ok());
  h.Progress(id, ports::OutboundUpdate::Stage::kAnswered);
  h.Input(id, ports::CustomerLeft{});
  EXPECT_EQ(h.Holds(agent), (std::vector<std::string>{"1:wrap-up"}));
  std::vector<std::string> trail;
  for (const auto& line : OutboundTrail(store, DemoConfig()->routing)) {
    if (line.rfind("outbound.", 0) == 0) trail.push_back(line);
  }
  EXPECT_EQ(trail, (std::vector<std::string>{"outbound.answered " + agent + " +442079460001"}));
}

TEST(EngineOutboundTest, ACallbackThatCannotBeDialledIsDeclinedAndWaitsAgain) {
  store::MemoryStore store;
  OutboundHarness h(store, CallbackConfig());
  ASSERT_TRUE(h.engine.Start().ok());
  h.voice.control_status = InvalidArgument("agent oscar has no registered phone");
  ports::NewContact nc;
  nc.channel = Channel::kCallback;
  nc.queue = "support";
  nc.attributes = {{"callback.number", "+442079460001"}};
  auto created =
      h.Run<ContactSnapshot>([&](auto reply) { h.engine.CreateContact(All(), nc, reply); });
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(h.SetPresence(All(), "oscar", Presence::kAvailable).ok());
  h.loop.RunAll();
  const auto types = AllTypes(store, created->record.id);
  ASSERT_GE(types.size(), 3u) << ::testing::PrintToString(types);
  EXPECT_EQ(std::vector<std::string>(types.begin(), types.begin() + 3),
            (std::vector<std::string>{"contact.queued", "contact.offered", "offer.rejected"}));
}

TEST(EngineOutboundTest, AHangUpBeforeTheCustomerAnswersIsJournaledAsCancelled) {
  store::MemoryStore store;
  OutboundHarness h(store);
  ASSERT_TRUE(h.engine.Start().ok());
  ASSERT_TRUE(h.SetPresence(All(), "dave", Presence::kAvailable).ok());
  auto placed = h.Dial(Self("dave"), "", "+442071234567");
  ASSERT_TRUE(placed.ok()) << placed.status().ToString();
  ASSERT_TRUE(h.Hangup(Self("dave"), placed->record.id).ok());
  EXPECT_TRUE(h.voice.Called("ended 1"));  // the adapter lets go of the phone and the trunk
  EXPECT_EQ(
      OutboundTrail(store, DemoConfig()->routing),
      (std::vector<std::string>{"outbound.started dave +442071234567 dave", "handling.started dave",
                                "outbound.failed dave +442071234567 cancelled dave",
                                "handling.ended dave", "wrap_up.started dave"}));
}

}  // namespace
}  // namespace parley::engine
