// DemoDriver against a hand-written ContactCenter on a VirtualClock: a small contact center
// (queues, agents of capacity one, offers without time-out) that publishes events before it
// replies, as the engine does.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/virtual_clock.h"
#include "demo/demo_driver.h"
#include "demo/synthetic_customers.h"

namespace parley::demo {
namespace {

using ports::Caller;
using ports::ContactState;
template <class T>
using Reply = ports::Reply<T>;
using ::testing::Contains;
using ::testing::Each;
using ::testing::HasSubstr;

class FakeCenter final : public ports::ContactCenter, public TimerTarget {
 public:
  struct Agent {
    Presence presence = Presence::kOffline;
    std::string reason;
    std::vector<std::string> queues;
    std::map<ContactId, ContactState> held;
  };
  struct Contact {
    ports::ContactRecord record;
    std::string disposition;
    std::optional<ports::CustomerIdentity> from;
  };
  // One port call: who made it, what, and for which agent and contact.
  struct Call {
    std::string user;
    std::string what;
    std::string agent;
    ContactId contact;
  };

  explicit FakeCenter(VirtualClock& clock) : clock_(clock) {}

  void AddQueue(const std::string& name, std::vector<Channel> channels) {
    queues_[name] = std::move(channels);
  }
  void AddAgent(const std::string& name, std::vector<std::string> queues) {
    agents[name].queues = std::move(queues);
  }
  // A contact the agent holds before the demo starts (as after a restart).
  ContactId Hold(const std::string& agent, const std::string& queue, ContactState state) {
    const ContactId id(next_contact_++);
    Contact& c = contacts[id];
    c.record.id = id;
    c.record.channel = Channel::kChat;
    c.record.queue = queue;
    c.record.agent = agent;
    c.record.state = state;
    agents[agent].held[id] = state;
    return id;
  }
  size_t active_subscriptions() const {
    size_t n = 0;
    for (const auto& s : sinks_) n += s->active ? 1 : 0;
    return n;
  }
  std::vector<Call> CallsFor(const std::string& agent, const std::string& what) const {
    std::vector<Call> out;
    for (const Call& c : calls) {
      if (c.agent == agent && c.what == what) out.push_back(c);
    }
    return out;
  }

  std::map<std::string, Agent> agents;
  std::map<ContactId, Contact> contacts;
  std::vector<ports::Customer> customers;
  std::vector<Call> calls;

  // ContactCenter ------------------------------------------------------------------------------

  void ListAgents(const Caller& who, Reply<std::vector<ports::AgentSnapshot>> reply) override {
    Log(who, "ListAgents");
    Later([this, reply] {
      std::vector<ports::AgentSnapshot> out;
      for (const auto& [name, a] : agents) out.push_back(Snapshot(name));
      reply(out);
    });
  }
  void GetAgent(const Caller&, std::string, Reply<ports::AgentSnapshot> reply) override {
    Refuse(reply);
  }
  void SetPresence(const Caller& who, std::string agent, Presence presence, std::string reason,
                   Reply<ports::AgentSnapshot> reply) override {
    Log(who, "SetPresence", agent);
    Later([this, agent, presence, reason, reply] {
      auto it = agents.find(agent);
      if (it == agents.end()) return reply(NotFound("no agent " + agent));
      Agent& a = it->second;
      const std::string r = presence == Presence::kNotReady ? reason : "";
      if (a.presence != presence || a.reason != r) {
        a.presence = presence;
        a.reason = r;
        nlohmann::json j{{"presence", std::string(PresenceName(presence))}, {"reason", r}};
        Publish("agent.presence_changed", agent, ContactId(), j);
        Route();
      }
      reply(Snapshot(agent));
    });
  }
  void ListQueues(const Caller& who, Reply<std::vector<ports::QueueSnapshot>> reply) override {
    Log(who, "ListQueues");
    Later([this, reply] {
      std::vector<ports::QueueSnapshot> out;
      for (const auto& [name, channels] : queues_) {
        ports::QueueSnapshot q;
        q.name = name;
        q.channels = channels;
        out.push_back(q);
      }
      reply(out);
    });
  }
  void GetQueue(const Caller&, std::string, Reply<ports::QueueSnapshot> reply) override {
    Refuse(reply);
  }
  void CreateContact(const Caller& who, ports::NewContact nc,
                     Reply<ports::ContactSnapshot> reply) override {
    Log(who, "CreateContact");
    Later([this, nc, reply] {
      if (!queues_.count(nc.queue)) return reply(NotFound("no queue " + nc.queue));
      const ContactId id(next_contact_++);
      Contact& c = contacts[id];
      c.record.id = id;
      c.record.channel = nc.channel;
      c.record.queue = nc.queue;
      c.record.state = ContactState::kQueued;
      c.record.attributes = nc.attributes;
      c.from = nc.from;
      queue_order_.push_back(id);
      Publish("contact.queued", "", id, {{"channel", std::string(ChannelName(nc.channel))}});
      Route();
      reply(View(id));
    });
  }
  void GetContact(const Caller&, ContactId, Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void ListContacts(const Caller&, ports::ContactFilter,
                    Reply<std::vector<ports::ContactSnapshot>> reply) override {
    Refuse(reply);
  }
  void AcceptOffer(const Caller& who, ContactId id, std::string agent,
                   Reply<ports::ContactSnapshot> reply) override {
    Log(who, "AcceptOffer", agent, id);
    Later([this, id, agent, reply] {
      auto it = contacts.find(id);
      if (it == contacts.end() || it->second.record.state != ContactState::kOffered ||
          it->second.record.agent != agent) {
        return reply(Conflict("not offered to " + agent));
      }
      it->second.record.state = ContactState::kHandling;
      agents[agent].held[id] = ContactState::kHandling;
      Publish("offer.accepted", agent, id, {});
      Publish("handling.started", agent, id, {});
      reply(View(id));
    });
  }
  void RejectOffer(const Caller& who, ContactId id, std::string agent,
                   Reply<ports::ContactSnapshot> reply) override {
    Log(who, "RejectOffer", agent, id);
    Refuse(reply);
  }
  void EndHandling(const Caller& who, ContactId id, Reply<ports::ContactSnapshot> reply) override {
    Log(who, "EndHandling", AgentOf(id), id);
    Later([this, id, reply] {
      auto it = contacts.find(id);
      if (it == contacts.end() || it->second.record.state != ContactState::kHandling) {
        return reply(Conflict("not handling"));
      }
      const std::string agent = it->second.record.agent;
      it->second.record.state = ContactState::kWrapUp;
      agents[agent].held[id] = ContactState::kWrapUp;
      Publish("handling.ended", agent, id, {});
      Publish("wrap_up.started", agent, id, {});
      reply(View(id));
    });
  }
  void CompleteWrapUp(const Caller& who, ContactId id, ports::WrapUp wrap_up,
                      Reply<ports::ContactSnapshot> reply) override {
    Log(who, "CompleteWrapUp", AgentOf(id), id);
    Later([this, id, wrap_up, reply] {
      auto it = contacts.find(id);
      if (it == contacts.end() || it->second.record.state != ContactState::kWrapUp) {
        return reply(Conflict("not in wrap-up"));
      }
      const std::string agent = it->second.record.agent;
      it->second.record.state = ContactState::kClosed;
      it->second.disposition = wrap_up.disposition;
      agents[agent].held.erase(id);
      Publish("wrap_up.ended", agent, id, {{"disposition", wrap_up.disposition}});
      Publish("contact.closed", "", id, {});
      Route();
      reply(View(id));
    });
  }
  void TransferContact(const Caller&, ContactId, ports::TransferTarget,
                       Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void CancelContact(const Caller& who, ContactId id,
                     Reply<ports::ContactSnapshot> reply) override {
    Log(who, "CancelContact", "", id);
    Later([this, id, reply] {
      auto it = contacts.find(id);
      if (it == contacts.end()) return reply(NotFound("no contact"));
      ports::ContactRecord& r = it->second.record;
      if (r.state == ContactState::kOffered) {
        agents[r.agent].held.erase(id);
        Publish("offer.withdrawn", r.agent, id, {});
        r.agent.clear();
      } else if (r.state != ContactState::kQueued) {
        return reply(Conflict("already answered"));
      }
      r.state = ContactState::kClosed;
      Publish("contact.removed", "", id, {});
      Route();
      reply(View(id));
    });
  }
  void ExplainContact(const Caller&, ContactId, Reply<std::string> reply) override {
    Refuse(reply);
  }
  void SearchCustomers(const Caller&, std::string, size_t,
                       Reply<std::vector<ports::Customer>> reply) override {
    Refuse(reply);
  }
  void GetCustomer(const Caller&, ports::CustomerId, Reply<ports::CustomerView> reply) override {
    Refuse(reply);
  }
  void CreateCustomer(const Caller& who, ports::Customer customer,
                      Reply<ports::CustomerView> reply) override {
    Log(who, "CreateCustomer");
    Later([this, customer, reply] {
      for (const auto& c : customers) {
        for (const auto& i : c.identities) {
          for (const auto& n : customer.identities) {
            if (i == n) return reply(Conflict("identity " + n.address + " has a customer"));
          }
        }
      }
      customers.push_back(customer);
      customers.back().id = ports::CustomerId(customers.size());
      reply(ports::CustomerView{customers.back(), {}});
    });
  }
  void UpdateCustomer(const Caller&, ports::Customer, Reply<ports::CustomerView> reply) override {
    Refuse(reply);
  }
  void AddCustomerNote(const Caller&, ports::CustomerId, std::string,
                       Reply<ports::CustomerNote> reply) override {
    Refuse(reply);
  }
  void CustomerTimeline(const Caller&, ports::CustomerId, size_t,
                        Reply<std::vector<ports::ContactRecord>> reply) override {
    Refuse(reply);
  }
  void ExportCustomer(const Caller&, ports::CustomerId,
                      Reply<ports::CustomerExport> reply) override {
    Refuse(reply);
  }
  void EraseCustomer(const Caller&, ports::CustomerId, Reply<ports::CustomerId> reply) override {
    Refuse(reply);
  }
  void GetMetrics(Reply<ports::MetricsSnapshot> reply) override { Refuse(reply); }
  void ControlRecording(const Caller&, ContactId, ports::RecordingCommand,
                        Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void ListRecordings(const Caller&, ports::RecordingFilter,
                      Reply<std::vector<ports::RecordingRecord>> reply) override {
    Refuse(reply);
  }
  void GetRecording(const Caller&, uint64_t, Reply<ports::RecordingRecord> reply) override {
    Refuse(reply);
  }
  void HoldContact(const Caller&, ContactId, bool, Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void MuteContact(const Caller&, ContactId, bool, Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void SendDigits(const Caller&, ContactId, std::string,
                  Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void HangupContact(const Caller&, ContactId, Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void MonitorContact(const Caller&, ContactId, std::optional<ports::MonitorMode>,
                      Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void ConsultContact(const Caller&, ContactId, ConsultStep, std::string,
                      Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }
  void PlaceCall(const Caller&, ports::OutboundCall, Reply<ports::ContactSnapshot> reply) override {
    Refuse(reply);
  }

  std::unique_ptr<ports::Subscription> Subscribe(const Caller& who, ports::Sequence,
                                                 ports::EventSink sink) override {
    Log(who, "Subscribe");
    auto s = std::make_shared<Sink>();
    s->sink = std::move(sink);
    sinks_.push_back(s);
    return std::make_unique<Unsubscribe>(s);
  }

  void OnTimer(uint64_t tag) override {
    auto it = later_.find(tag);
    if (it == later_.end()) return;
    auto work = std::move(it->second);
    later_.erase(it);
    work();
  }

 private:
  struct Sink {
    ports::EventSink sink;
    bool active = true;
  };
  struct Unsubscribe final : ports::Subscription {
    explicit Unsubscribe(std::shared_ptr<Sink> s) : sink(std::move(s)) {}
    ~Unsubscribe() override { sink->active = false; }
    std::shared_ptr<Sink> sink;
  };

  template <class T>
  void Refuse(const Reply<T>& reply) {
    Later([reply] { reply(Unavailable("not in the fake")); });
  }
  void Log(const Caller& who, std::string what, std::string agent = "", ContactId id = {}) {
    calls.push_back({who.user, std::move(what), std::move(agent), id});
  }
  std::string AgentOf(ContactId id) const {
    auto it = contacts.find(id);
    return it == contacts.end() ? "" : it->second.record.agent;
  }
  // The port's loop: work runs at the current virtual time, after what was posted before it.
  void Later(std::function<void()> work) {
    const uint64_t tag = next_tag_++;
    later_[tag] = std::move(work);
    clock_.Schedule(clock_.Now(), *this, tag);
  }
  void Publish(const std::string& type, const std::string& agent, ContactId id, nlohmann::json j) {
    j["type"] = type;
    ports::PublishedEvent e;
    e.seq = ++seq_;
    e.type = type;
    e.agent = agent;
    e.contact = id;
    if (id.valid()) j["channel"] = std::string(ChannelName(contacts[id].record.channel));
    e.json = j.dump();
    for (const auto& s : sinks_) {
      if (s->active) s->sink({e});
    }
  }
  // Oldest waiting contact first, to the first Available agent of its queue that holds nothing.
  void Route() {
    for (ContactId id : queue_order_) {
      Contact& c = contacts[id];
      if (c.record.state != ContactState::kQueued) continue;
      for (auto& [name, a] : agents) {
        if (a.presence != Presence::kAvailable || !a.held.empty()) continue;
        if (std::find(a.queues.begin(), a.queues.end(), c.record.queue) == a.queues.end()) {
          continue;
        }
        c.record.state = ContactState::kOffered;
        c.record.agent = name;
        a.held[id] = ContactState::kOffered;
        Publish("contact.offered", name, id, {{"queue", c.record.queue}});
        break;
      }
    }
  }
  ports::AgentSnapshot Snapshot(const std::string& name) {
    const Agent& a = agents[name];
    ports::AgentSnapshot s;
    s.id = name;
    s.presence = a.presence;
    s.reason = a.reason;
    s.queues = a.queues;
    for (const auto& [id, state] : a.held) {
      s.contacts.push_back({id, contacts[id].record.channel, state, contacts[id].record.queue});
    }
    return s;
  }
  ports::ContactSnapshot View(ContactId id) {
    ports::ContactSnapshot s;
    s.record = contacts[id].record;
    s.disposition = contacts[id].disposition;
    return s;
  }

  VirtualClock& clock_;
  std::map<std::string, std::vector<Channel>> queues_;
  std::vector<ContactId> queue_order_;
  std::vector<std::shared_ptr<Sink>> sinks_;
  std::map<uint64_t, std::function<void()>> later_;
  uint64_t next_tag_ = 1;
  uint64_t next_contact_ = 1;
  ports::Sequence seq_ = 0;
};

const ports::Caller kHumanAlice{
    .user = "alice", .reach = ports::Caller::Reach::kSelf, .agent = "alice"};

class DemoDriverTest : public ::testing::Test {
 protected:
  DemoDriverTest() : clock_(TimePoint{} + std::chrono::hours(24 * 365 * 50)), center_(clock_) {
    center_.AddQueue("sales", {Channel::kVoice, Channel::kChat});
    center_.AddQueue("support", {Channel::kVoice, Channel::kChat, Channel::kEmail, Channel::kTask});
    center_.AddAgent("alice", {"sales"});
    center_.AddAgent("bob", {"sales", "support"});
    center_.AddAgent("carol", {"support"});
    options_.contacts_per_minute = 2;
    options_.reason_codes = {"break", "lunch"};
    options_.disposition_codes = {"resolved", "sale"};
    options_.customers = 10;
    options_.seed = 7;
  }

  std::unique_ptr<DemoDriver> StartDriver() {
    auto created = DemoDriver::Create(
        center_, clock_, clock_, [](std::function<void()> work) { work(); }, options_,
        [this](const std::string& action, const std::string& target, const Status& s,
               const std::string& detail) {
          audit_.push_back(action + " " + target + " " + (s.ok() ? "ok" : "failed") + " " + detail);
        });
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (!created.ok()) return nullptr;
    auto driver = std::move(*created);
    driver->Start();
    return driver;
  }
  // The human as the web UI would act: through the port, as itself.
  void HumanSetsPresence(Presence p, const std::string& reason = "") {
    center_.SetPresence(kHumanAlice, "alice", p, reason, [](Result<ports::AgentSnapshot> r) {
      EXPECT_TRUE(r.ok()) << r.status().message();
    });
  }

  VirtualClock clock_;
  FakeCenter center_;
  DemoOptions options_;
  std::vector<std::string> audit_;
};

TEST_F(DemoDriverTest, CustomersArriveOnEveryChannelFromNamedCustomers) {
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(60));
  // Two a minute for an hour: a Poisson count far from zero (seeded, so exact each run).
  EXPECT_GT(driver->counters().contacts_created, 60u);
  EXPECT_LT(driver->counters().contacts_created, 200u);
  std::set<Channel> channels;
  std::set<std::string> queues;
  for (const auto& [id, c] : center_.contacts) {
    channels.insert(c.record.channel);
    queues.insert(c.record.queue);
    ASSERT_TRUE(c.from.has_value());
    EXPECT_EQ(c.from->channel, c.record.channel);
    ASSERT_EQ(c.record.attributes.size(), 1u);
    EXPECT_EQ(c.record.attributes[0].first, "subject");
    // Email only goes where a queue takes it; the fake's task channel is never used.
    if (c.record.channel == Channel::kEmail) {
      EXPECT_EQ(c.record.queue, "support");
    }
  }
  EXPECT_EQ(channels, (std::set<Channel>{Channel::kVoice, Channel::kChat, Channel::kEmail}));
  EXPECT_EQ(queues, (std::set<std::string>{"sales", "support"}));
  // The pool: named customers, a phone for calls and an example.com address for the rest.
  ASSERT_EQ(center_.customers.size(), 10u);
  for (const auto& c : center_.customers) {
    EXPECT_THAT(c.name, HasSubstr(" "));
    for (const auto& i : c.identities) {
      if (i.channel == Channel::kVoice) {
        EXPECT_EQ(i.address.substr(0, 3), "+33");
        EXPECT_EQ(i.address.size(), 12u);
      } else {
        EXPECT_THAT(i.address, HasSubstr("@example.com"));
      }
    }
  }
  // Every call was made as the demo's caller, and the start is in the audit trail.
  for (const auto& call : center_.calls) EXPECT_EQ(call.user, "demo") << call.what;
  EXPECT_THAT(audit_, Contains(HasSubstr("demo.start contact-center ok 2 contacts a minute")));
}

TEST_F(DemoDriverTest, BotsAcceptOffersHandleAndWrapUpWithADisposition) {
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(60));
  const DemoCounters& n = driver->counters();
  EXPECT_GT(n.offers_accepted, 10u);
  EXPECT_GT(n.wrap_ups_completed, 10u);
  size_t closed_with_disposition = 0;
  for (const auto& [id, c] : center_.contacts) {
    if (c.record.state != ContactState::kClosed || c.disposition.empty()) continue;
    ++closed_with_disposition;
    EXPECT_TRUE(c.disposition == "resolved" || c.disposition == "sale") << c.disposition;
  }
  EXPECT_EQ(closed_with_disposition, n.wrap_ups_completed);
  // Each of the three agents worked, and some took a break with a configured reason.
  for (const std::string agent : {"alice", "bob", "carol"}) {
    EXPECT_FALSE(center_.CallsFor(agent, "AcceptOffer").empty()) << agent;
    EXPECT_TRUE(driver->DrivesAgent(agent));
  }
  EXPECT_GT(n.breaks, 0u);
  EXPECT_EQ(n.handovers, 0u);
}

TEST_F(DemoDriverTest, CustomersWithNoAgentGiveUpAfterTheirPatience) {
  center_.AddQueue("billing", {Channel::kEmail});  // nobody serves it
  options_.voice_weight = 0;
  options_.chat_weight = 0;
  options_.patience = "fixed:60";
  center_.agents.clear();
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(30));
  EXPECT_GT(driver->counters().contacts_cancelled, 0u);
  // Those that arrived more than a minute ago are all gone.
  size_t open = 0;
  for (const auto& [id, c] : center_.contacts) {
    if (c.record.state != ContactState::kClosed) ++open;
  }
  EXPECT_EQ(driver->counters().contacts_created - driver->counters().contacts_cancelled, open);
  EXPECT_LT(open, 10u);
}

TEST_F(DemoDriverTest, AnAgentWhosePresenceAHumanChangesIsLeftAlone) {
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(5));
  ASSERT_TRUE(driver->DrivesAgent("alice"));
  // Alice logs in and goes Not Ready, then Available: from the first change she is hers.
  HumanSetsPresence(Presence::kNotReady, "lunch");
  clock_.AdvanceBy(std::chrono::seconds(1));
  EXPECT_FALSE(driver->DrivesAgent("alice"));
  EXPECT_TRUE(driver->DrivesAgent("bob"));
  EXPECT_THAT(audit_,
              Contains(HasSubstr("demo.handover agent:alice ok presence set to not-ready")));
  // What the bot had already accepted, it finishes; nothing else.
  std::set<ContactId> accepted_by_bot;
  for (const auto& [id, state] : center_.agents["alice"].held) {
    if (state != ContactState::kOffered) accepted_by_bot.insert(id);
  }
  const size_t calls_before = center_.calls.size();
  HumanSetsPresence(Presence::kAvailable);
  clock_.AdvanceBy(std::chrono::minutes(60));
  // Alice got an offer and it waits for her: the demo never acted for her again.
  ASSERT_FALSE(center_.agents["alice"].held.empty());
  EXPECT_THAT(center_.agents["alice"].held,
              Each(::testing::Pair(::testing::_, ContactState::kOffered)));
  for (size_t i = calls_before; i < center_.calls.size(); ++i) {
    const auto& call = center_.calls[i];
    if (call.user != "demo" || call.agent != "alice") continue;
    EXPECT_TRUE(call.what == "EndHandling" || call.what == "CompleteWrapUp") << call.what;
    EXPECT_EQ(accepted_by_bot.count(call.contact), 1u) << call.what;
  }
  EXPECT_EQ(center_.agents["alice"].presence, Presence::kAvailable);
  EXPECT_EQ(driver->counters().handovers, 1u);
}

TEST_F(DemoDriverTest, AnOfferAcceptedByAHumanHandsTheAgentOver) {
  options_.ring = "fixed:30";  // slow bots, so the human is first
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  ContactId offered;
  while (!offered.valid() && clock_.RunNext()) {
    for (const auto& [id, state] : center_.agents["alice"].held) {
      if (state == ContactState::kOffered) offered = id;
    }
  }
  ASSERT_TRUE(offered.valid());
  center_.AcceptOffer(kHumanAlice, offered, "alice", [](Result<ports::ContactSnapshot> r) {
    EXPECT_TRUE(r.ok()) << r.status().message();
  });
  clock_.AdvanceBy(std::chrono::minutes(10));
  EXPECT_FALSE(driver->DrivesAgent("alice"));
  // The human's contact is the human's: the bot neither ends nor wraps it up.
  EXPECT_EQ(center_.contacts[offered].record.state, ContactState::kHandling);
  for (const auto& call : center_.calls) {
    if (call.user == "demo") {
      EXPECT_NE(call.contact, offered) << call.what;
    }
  }
}

TEST_F(DemoDriverTest, ContactsHeldBeforeAStartAreFinishedByTheBots) {
  const ContactId handling = center_.Hold("carol", "support", ContactState::kHandling);
  const ContactId wrapping = center_.Hold("bob", "support", ContactState::kWrapUp);
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(30));
  EXPECT_EQ(center_.contacts[handling].record.state, ContactState::kClosed);
  EXPECT_EQ(center_.contacts[wrapping].record.state, ContactState::kClosed);
  EXPECT_FALSE(center_.contacts[wrapping].disposition.empty());
}

TEST_F(DemoDriverTest, StoppingCancelsEveryTimerAndTheSubscription) {
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(10));
  EXPECT_EQ(center_.active_subscriptions(), 1u);
  EXPECT_GT(clock_.pending(), 0u);
  driver->Stop();
  EXPECT_FALSE(driver->running());
  EXPECT_EQ(center_.active_subscriptions(), 0u);
  // Only replies already posted by the port are left, and they find the driver stopped.
  clock_.AdvanceBy(std::chrono::seconds(0));
  EXPECT_EQ(clock_.pending(), 0u);
  const size_t calls = center_.calls.size();
  clock_.AdvanceBy(std::chrono::hours(2));
  EXPECT_EQ(center_.calls.size(), calls);
  EXPECT_THAT(audit_, Contains(HasSubstr("demo.stop")));
  driver.reset();  // the destructor after Stop() does nothing more
}

TEST_F(DemoDriverTest, ADestroyedDriverIgnoresRepliesStillOnTheWay) {
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  // Start() asked for agents, queues and customers; the replies are posted, not yet run.
  driver.reset();
  clock_.AdvanceBy(std::chrono::minutes(5));
  EXPECT_EQ(center_.active_subscriptions(), 0u);
}

TEST_F(DemoDriverTest, ADailyShapeWithoutARateStillBringsContacts) {
  options_.contacts_per_minute = 0;
  options_.peak_per_minute = 3;
  options_.day_length = std::chrono::minutes(12);
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(36));  // three compressed days
  EXPECT_GT(driver->counters().contacts_created, 20u);
}

TEST_F(DemoDriverTest, TheDefaultDayBringsContactsInItsFirstMinutes) {
  options_ = DemoOptions{};
  options_.customers = 5;
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(5));
  // The day opens at its 10:00 peak: 4 a minute, about 20 in five minutes.
  EXPECT_GT(driver->counters().contacts_created, 8u);
  // The whole compressed day expects 4 x (the shape's sum, 8.35) x 5 minutes = 167.
  clock_.AdvanceBy(std::chrono::minutes(55));
  EXPECT_GT(driver->counters().contacts_created, 120u);
  EXPECT_LT(driver->counters().contacts_created, 220u);
}

TEST_F(DemoDriverTest, WithVoiceByPhoneTheBotsLeaveCallsToThePhones) {
  options_.voice_by_phone = true;
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  clock_.AdvanceBy(std::chrono::minutes(1));
  // A call from a trunk, as the SIP adapter would create it.
  ContactId call;
  center_.CreateContact(ports::Caller{.user = "system"},
                        ports::NewContact{.channel = Channel::kVoice, .queue = "support"},
                        [&call](Result<ports::ContactSnapshot> r) {
                          ASSERT_TRUE(r.ok());
                          call = r->record.id;
                        });
  clock_.AdvanceBy(std::chrono::minutes(30));
  ASSERT_TRUE(call.valid());
  for (const auto& [id, c] : center_.contacts) {
    if (id != call) {
      EXPECT_NE(c.record.channel, Channel::kVoice);
    }
  }
  for (const auto& c : center_.calls) {
    if (c.user == "demo") {
      EXPECT_NE(c.contact, call) << c.what;
    }
  }
  EXPECT_EQ(driver->counters().handovers, 0u);
}

TEST_F(DemoDriverTest, AFasterDemoScalesEveryTimeItsPeopleTake) {
  options_.contacts_per_minute = 120;
  options_.time_scale = TimeScaleForRate(120);
  auto driver = StartDriver();
  ASSERT_TRUE(driver);
  // Two virtual minutes are enough for whole contacts: at the default times a handle alone is
  // two and a half minutes on average.
  clock_.AdvanceBy(std::chrono::minutes(2));
  EXPECT_GT(driver->counters().wrap_ups_completed, 20u);
}

TEST(DemoOptionsTest, TheTimeScaleKeepsTheNominalLoad) {
  EXPECT_EQ(TimeScaleForRate(1), 1.0);
  EXPECT_EQ(TimeScaleForRate(kNominalPerMinute), 1.0);
  EXPECT_DOUBLE_EQ(TimeScaleForRate(120), kNominalPerMinute / 120);
}

TEST(DemoOptionsTest, BadSettingsAreRefusedNamingTheSetting) {
  VirtualClock clock;
  FakeCenter center(clock);
  auto make = [&](DemoOptions o) {
    return DemoDriver::Create(
               center, clock, clock, [](std::function<void()> w) { w(); }, o)
        .status();
  };
  DemoOptions bad_ring;
  bad_ring.ring = "uniform:5,2";
  EXPECT_THAT(make(bad_ring).message(), HasSubstr("demo ring"));
  DemoOptions bad_rate;
  bad_rate.contacts_per_minute = -1;
  EXPECT_EQ(make(bad_rate).code(), StatusCode::kInvalidArgument);
  DemoOptions no_channel;
  no_channel.voice_weight = no_channel.chat_weight = no_channel.email_weight = 0;
  EXPECT_THAT(make(no_channel).message(), HasSubstr("weights"));
  DemoOptions no_time;
  no_time.time_scale = 0;
  EXPECT_THAT(make(no_time).message(), HasSubstr("time scale"));
}

TEST(SyntheticCustomersTest, NamesPhonesAndAddressesAreDistinct) {
  Random random(3);
  const auto customers = MakeCustomers(200, random);
  ASSERT_EQ(customers.size(), 200u);
  std::set<std::string> names, phones, emails;
  for (const auto& c : customers) {
    names.insert(c.name);
    phones.insert(c.phone);
    emails.insert(c.email);
    EXPECT_EQ(c.ToCustomer().identities.size(), 3u);
  }
  EXPECT_EQ(names.size(), 200u);
  EXPECT_EQ(phones.size(), 200u);
  EXPECT_EQ(emails.size(), 200u);
}

}  // namespace
}  // namespace parley::demo
