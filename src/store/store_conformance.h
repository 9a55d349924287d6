#pragma once
// The conformance suite of the Store port: every implementation must pass it. A backend's test
// instantiates it with a factory type that has
//   static ports::StorePtr Make(const std::filesystem::path& dir);  // dir: a fresh temp dir
// e.g.
//   using Backends = ::testing::Types<MemoryFactory, SqliteFactory>;
//   INSTANTIATE_TYPED_TEST_SUITE_P(Store, StoreConformance, Backends);
// Tests that need persistence across reopening, backup or crash recovery are backend-specific
// and live beside the backend's own tests.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/check.h"
#include "ports/store.h"

namespace parley::store::testing {

// A temp directory that exists for the test's lifetime.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "parley-store-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    PARLEY_CHECK(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline Event MakeEvent(EventType type, int64_t time_us, uint64_t contact, int64_t value = 0,
                       std::string text = "") {
  Event e;
  e.type = type;
  e.time = FromMicros(time_us);
  e.contact = ContactId(contact);
  e.agent = 3;
  e.queue = 1;
  e.channel = Channel::kChat;
  e.value = value;
  e.text = std::move(text);
  return e;
}

inline ports::ContactRecord MakeContact(uint64_t id, ports::ContactState state,
                                        std::string queue = "sales", int64_t queued_us = 1000) {
  ports::ContactRecord c;
  c.id = ContactId(id);
  c.channel = Channel::kEmail;
  c.state = state;
  c.queue = std::move(queue);
  c.priority = 2;
  c.attributes = {{"order", "A-17"}, {"lang", "en"}, {"order", "A-18"}};
  c.times.arrived = FromMicros(queued_us - 10);
  c.times.queued = FromMicros(queued_us);
  return c;
}

inline ports::Customer MakeCustomer(std::string name, std::string phone) {
  ports::Customer c;
  c.name = std::move(name);
  c.identities = {{Channel::kVoice, std::move(phone)}};
  c.fields_json = R"({"tier":"gold"})";
  c.tags = {"vip", "b2b", "vip"};
  c.created = FromMicros(5);
  c.updated = FromMicros(5);
  return c;
}

template <typename Factory>
class StoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Factory::Make(dir_.path());
    ASSERT_NE(store_, nullptr);
  }
  ports::Store& store() { return *store_; }

  TempDir dir_;
  ports::StorePtr store_;
};
TYPED_TEST_SUITE_P(StoreConformance);

TYPED_TEST_P(StoreConformance, NewStoreIsEmpty) {
  auto& s = this->store();
  ASSERT_EQ(*s.LastSequence(), 0u);
  EXPECT_TRUE(s.ReadAfter(0, 10)->empty());
  auto state = s.LoadRecoveryState();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->last_seq, 0u);
  EXPECT_TRUE(state->agents.empty());
  EXPECT_TRUE(state->open_contacts.empty());
  EXPECT_EQ(s.CurrentConfig().status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(StoreConformance, AppendGivesConsecutiveSequencesAndReadsBack) {
  auto& s = this->store();
  ports::JournalBatch b1;
  b1.config_version = 4;
  b1.events = {MakeEvent(EventType::kContactQueued, 100, 1, 2),
               MakeEvent(EventType::kPresenceChanged, 101, 0, 1, "lunch")};
  auto r1 = s.Append(std::move(b1));
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->first, 1u);
  EXPECT_EQ(r1->last, 2u);
  auto r2 = s.Append({.events = {MakeEvent(EventType::kContactOffered, 102, 1)}});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->first, 3u);
  EXPECT_EQ(r2->last, 3u);
  auto empty = s.Append({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->first, 4u);
  EXPECT_EQ(empty->last, 3u);
  EXPECT_EQ(*s.LastSequence(), 3u);

  auto all = s.ReadAfter(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].seq, 1u);
  EXPECT_EQ((*all)[0].config_version, 4u);
  EXPECT_EQ((*all)[0].event.type, EventType::kContactQueued);
  EXPECT_EQ((*all)[0].event.time, FromMicros(100));
  EXPECT_EQ((*all)[0].event.contact, ContactId(1));
  EXPECT_EQ((*all)[0].event.agent, 3u);
  EXPECT_EQ((*all)[0].event.queue, 1u);
  EXPECT_EQ((*all)[0].event.channel, Channel::kChat);
  EXPECT_EQ((*all)[0].event.value, 2);
  EXPECT_EQ((*all)[1].event.text, "lunch");
  EXPECT_EQ((*all)[2].seq, 3u);
  EXPECT_EQ((*all)[2].config_version, 0u);

  auto tail = s.ReadAfter(1, 1);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].seq, 2u);
  EXPECT_TRUE(s.ReadAfter(3, 10)->empty());
}

TYPED_TEST_P(StoreConformance, EventFieldsRoundTripAtTheirLimits) {
  auto& s = this->store();
  Event e = MakeEvent(EventType::kContactClosed, -5, UINT64_MAX, INT64_MIN,
                      std::string("nul\0inside", 10) + " \xc3\xa9");
  e.agent = kNone;
  e.queue = kNone;
  e.channel = Channel::kTask;
  ASSERT_TRUE(s.Append({.events = {e}}).ok());
  auto all = s.ReadAfter(0, 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  const Event& got = (*all)[0].event;
  EXPECT_EQ(got.type, e.type);
  EXPECT_EQ(got.time, e.time);
  EXPECT_EQ(got.contact, e.contact);
  EXPECT_EQ(got.agent, kNone);
  EXPECT_EQ(got.queue, kNone);
  EXPECT_EQ(got.channel, Channel::kTask);
  EXPECT_EQ(got.value, INT64_MIN);
  EXPECT_EQ(got.text, e.text);
}

TYPED_TEST_P(StoreConformance, AppendAsyncCompletesInOrderFromManyThreads) {
  auto& s = this->store();
  constexpr int kThreads = 4;
  constexpr int kBatches = 50;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<ports::SequenceRange> ranges;
  bool all_ok = true;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        ports::JournalBatch batch;
        for (int i = 0; i <= b % 3; ++i) {
          batch.events.push_back(MakeEvent(EventType::kContactQueued, b, t * 1000 + b, i));
        }
        s.AppendAsync(std::move(batch), [&](Result<ports::SequenceRange> r) {
          std::lock_guard lock(mu);
          if (r.ok()) {
            ranges.push_back(*r);
          } else {
            all_ok = false;
          }
          ++done;
          cv.notify_all();
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  std::unique_lock lock(mu);
  ASSERT_TRUE(
      cv.wait_for(lock, std::chrono::seconds(60), [&] { return done == kThreads * kBatches; }));
  EXPECT_TRUE(all_ok);
  std::sort(ranges.begin(), ranges.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  ports::Sequence next = 1;
  for (const auto& r : ranges) {
    EXPECT_EQ(r.first, next);
    next = r.last + 1;
  }
  EXPECT_EQ(*s.LastSequence(), next - 1);
  EXPECT_EQ(s.ReadAfter(0, 100000)->size(), next - 1);
}

TYPED_TEST_P(StoreConformance, RecoveryStateHasOpenContactsInQueueOrderAndAgents) {
  auto& s = this->store();
  using ports::ContactState;
  ports::JournalBatch b;
  b.events = {MakeEvent(EventType::kContactQueued, 1, 1)};
  b.contacts = {MakeContact(1, ContactState::kQueued, "sales", 3000),
                MakeContact(2, ContactState::kQueued, "sales", 1000),
                MakeContact(3, ContactState::kOffered, "billing", 2000),
                MakeContact(4, ContactState::kClosed, "sales", 500)};
  b.contacts[0].queue_order = 2;
  b.agents = {{.name = "bob", .presence = Presence::kAvailable, .since = FromMicros(7)},
              {.name = "alice", .presence = Presence::kNotReady, .reason = "lunch"}};
  ASSERT_TRUE(s.Append(std::move(b)).ok());
  // Same queued time as contact 1 but earlier in the engine's enqueue order.
  auto c5 = MakeContact(5, ContactState::kQueued, "sales", 3000);
  c5.queue_order = 1;
  auto c3 = MakeContact(3, ContactState::kHandling, "billing", 2000);
  c3.agent = "alice";
  ASSERT_TRUE(s.Append({.contacts = {c5, c3}, .agents = {{.name = "bob"}}}).ok());

  auto state = s.LoadRecoveryState();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->last_seq, 1u);
  std::vector<uint64_t> ids;
  for (const auto& c : state->open_contacts) ids.push_back(c.id.value());
  EXPECT_EQ(ids, (std::vector<uint64_t>{3, 2, 5, 1}));
  EXPECT_EQ(state->open_contacts[0], c3);
  EXPECT_EQ(state->open_contacts[0].attributes.size(), 3u);
  ASSERT_EQ(state->agents.size(), 2u);
  EXPECT_EQ(state->agents[0].name, "alice");
  EXPECT_EQ(state->agents[0].reason, "lunch");
  EXPECT_EQ(state->agents[1].presence, Presence::kOffline);

  auto closed = s.GetContact(ContactId(4));
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->state, ContactState::kClosed);
  EXPECT_EQ(s.GetContact(ContactId(99)).status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(StoreConformance, FailingBatchFailsAloneAndChangesNothing) {
  auto& s = this->store();
  ASSERT_TRUE(s.Append({.events = {MakeEvent(EventType::kContactQueued, 1, 1)}}).ok());
  auto bad_contact = MakeContact(7, ports::ContactState::kQueued);
  bad_contact.customer = ports::CustomerId(12345);
  std::mutex mu;
  std::vector<StatusCode> codes;
  auto record = [&](Result<ports::SequenceRange> r) {
    std::lock_guard lock(mu);
    codes.push_back(r.status().code());
  };
  s.AppendAsync({.events = {MakeEvent(EventType::kContactQueued, 2, 7)}, .contacts = {bad_contact}},
                record);
  auto after = s.Append({.events = {MakeEvent(EventType::kContactQueued, 3, 8)}});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->first, 2u) << "the failed batch must not use up sequence numbers";
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(codes.size(), 1u);
    EXPECT_EQ(codes[0], StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(s.ReadAfter(0, 10)->size(), 2u);
  EXPECT_EQ(s.GetContact(ContactId(7)).status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(StoreConformance, ConfigVersionsAndConflicts) {
  auto& s = this->store();
  ports::ConfigDocument doc{
      .yaml = "site: a\n", .applied_by = "root", .applied_at = FromMicros(10), .comment = "seed"};
  auto v1 = s.PutConfig(doc, 0);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, 1u);
  EXPECT_EQ(s.PutConfig(doc, 0).status().code(), StatusCode::kConflict);
  doc.yaml = "site: b\n";
  doc.applied_by = "ops";
  ASSERT_EQ(*s.PutConfig(doc, 1), 2u);
  auto current = s.CurrentConfig();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version, 2u);
  EXPECT_EQ(current->yaml, "site: b\n");
  EXPECT_EQ(current->applied_by, "ops");
  EXPECT_EQ(current->applied_at, FromMicros(10));
  auto history = s.ConfigHistory(10, false);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].version, 2u);
  EXPECT_EQ((*history)[1].comment, "seed");
  EXPECT_TRUE((*history)[1].yaml.empty());
  EXPECT_EQ(s.ConfigHistory(1, true)->at(0).yaml, "site: b\n");
  EXPECT_EQ(s.GetConfig(1)->yaml, "site: a\n");
  EXPECT_EQ(s.GetConfig(3).status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(StoreConformance, CustomersIdentitiesAndSearch) {
  auto& s = this->store();
  auto ann = s.CreateCustomer(MakeCustomer("Ann Lee", "+4420001"));
  ASSERT_TRUE(ann.ok()) << ann.status().ToString();
  auto bob_c = MakeCustomer("bob Stone", "+4420002");
  bob_c.identities.push_back({Channel::kEmail, "bob@example.com"});
  auto bob = s.CreateCustomer(bob_c);
  ASSERT_TRUE(bob.ok());
  EXPECT_NE(*ann, *bob);

  auto got = s.GetCustomer(*ann);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "Ann Lee");
  EXPECT_EQ(got->tags, (std::vector<std::string>{"b2b", "vip"}));
  EXPECT_EQ(got->fields_json, R"({"tier":"gold"})");
  EXPECT_EQ(got->created, FromMicros(5));

  auto found = s.FindCustomerByIdentity({Channel::kEmail, "bob@example.com"});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, *bob);
  EXPECT_EQ(found->identities.size(), 2u);
  EXPECT_EQ(s.FindCustomerByIdentity({Channel::kSms, "+4420002"}).status().code(),
            StatusCode::kNotFound);
  auto all = s.AllIdentities();
  ASSERT_TRUE(all.ok());
  size_t identity_count = 0;
  for (ports::CustomerId c : {*ann, *bob}) {
    auto cust = s.GetCustomer(c);
    ASSERT_TRUE(cust.ok());
    identity_count += cust->identities.size();
    for (const auto& identity : cust->identities) {
      EXPECT_NE(std::find(all->begin(), all->end(), std::make_pair(identity, c)), all->end());
    }
  }
  EXPECT_EQ(all->size(), identity_count);

  // (channel, address) is unique.
  EXPECT_EQ(s.CreateCustomer(MakeCustomer("Eve", "+4420001")).status().code(),
            StatusCode::kConflict);
  auto bad = MakeCustomer("Eve", "+4420009");
  bad.fields_json = "[1]";
  EXPECT_EQ(s.CreateCustomer(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.CreateCustomer(MakeCustomer("", "+1")).status().code(), StatusCode::kInvalidArgument);

  auto by_name = s.SearchCustomers("BOB", 10);
  ASSERT_TRUE(by_name.ok());
  ASSERT_EQ(by_name->size(), 1u);
  EXPECT_EQ(by_name->at(0).id, *bob);
  auto by_phone = s.SearchCustomers("+44200", 10);
  ASSERT_TRUE(by_phone.ok());
  ASSERT_EQ(by_phone->size(), 2u);
  EXPECT_EQ(by_phone->at(0).name, "Ann Lee");
  EXPECT_EQ(s.SearchCustomers("+44200", 1)->size(), 1u);
  EXPECT_TRUE(s.SearchCustomers("zz", 10)->empty());
  // LIKE wildcards are literal characters.
  EXPECT_TRUE(s.SearchCustomers("%", 10)->empty());
  EXPECT_TRUE(s.SearchCustomers("_nn", 10)->empty());

  // Update replaces identities, freeing the old ones, and keeps `created`.
  auto changed = *got;
  changed.name = "Ann Lee-Smith";
  changed.identities = {{Channel::kChat, "ann#web"}};
  changed.tags = {"new"};
  changed.created = FromMicros(999);
  changed.updated = FromMicros(50);
  ASSERT_TRUE(s.UpdateCustomer(changed).ok());
  auto reread = s.GetCustomer(*ann);
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(reread->name, "Ann Lee-Smith");
  EXPECT_EQ(reread->identities, changed.identities);
  EXPECT_EQ(reread->tags, (std::vector<std::string>{"new"}));
  EXPECT_EQ(reread->created, FromMicros(5));
  EXPECT_EQ(reread->updated, FromMicros(50));
  EXPECT_TRUE(s.CreateCustomer(MakeCustomer("Eve", "+4420001")).ok());
  changed.identities = {{Channel::kEmail, "bob@example.com"}};
  EXPECT_EQ(s.UpdateCustomer(changed).code(), StatusCode::kConflict);
  changed.id = ports::CustomerId(999);
  EXPECT_EQ(s.UpdateCustomer(changed).code(), StatusCode::kNotFound);
}

TYPED_TEST_P(StoreConformance, NotesTimelineExportAndErase) {
  auto& s = this->store();
  auto ann = *s.CreateCustomer(MakeCustomer("Ann", "+1"));
  ASSERT_TRUE(
      s.AddNote({.customer = ann, .at = FromMicros(20), .author = "bob", .text = "2nd"}).ok());
  ASSERT_TRUE(
      s.AddNote({.customer = ann, .at = FromMicros(10), .author = "bob", .text = "1st"}).ok());
  EXPECT_EQ(s.AddNote({.customer = ports::CustomerId(77), .text = "x"}).status().code(),
            StatusCode::kNotFound);
  auto notes = s.Notes(ann);
  ASSERT_TRUE(notes.ok());
  ASSERT_EQ(notes->size(), 2u);
  EXPECT_EQ(notes->at(0).text, "1st");

  auto call = MakeContact(1, ports::ContactState::kClosed, "sales", 1000);
  call.channel = Channel::kVoice;
  call.customer = ann;
  call.times.closed = FromMicros(5000);
  auto mail = MakeContact(2, ports::ContactState::kQueued, "support", 9000);
  mail.customer = ann;
  auto other = MakeContact(3, ports::ContactState::kQueued, "support", 9500);
  ASSERT_TRUE(s.Append({.contacts = {call, mail, other}}).ok());

  auto timeline = s.Timeline(ann, 10);
  ASSERT_TRUE(timeline.ok());
  ASSERT_EQ(timeline->size(), 2u);
  EXPECT_EQ(timeline->at(0).id, ContactId(2));
  EXPECT_EQ(timeline->at(1), call);

  auto exported = s.ExportCustomer(ann);
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(exported->customer.name, "Ann");
  EXPECT_EQ(exported->notes.size(), 2u);
  ASSERT_EQ(exported->contacts.size(), 2u);
  EXPECT_EQ(exported->contacts[0].id, ContactId(1));

  ASSERT_TRUE(s.EraseCustomer(ann).ok());
  EXPECT_EQ(s.GetCustomer(ann).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s.FindCustomerByIdentity({Channel::kVoice, "+1"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(s.Notes(ann).status().code(), StatusCode::kNotFound);
  auto kept = s.GetContact(ContactId(1));
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(kept->customer.valid());
  EXPECT_TRUE(kept->attributes.empty());
  EXPECT_EQ(kept->times, call.times) << "metrics survive erasure";
  EXPECT_EQ(s.GetContact(ContactId(3))->attributes, other.attributes);
  EXPECT_EQ(s.EraseCustomer(ann).code(), StatusCode::kNotFound);
  // The identity is free again, and the id is never given out again (an outside system that
  // kept the erased id must not reach the new customer).
  auto again = s.CreateCustomer(MakeCustomer("Ann again", "+1"));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, ann);
  EXPECT_GT(again->value(), ann.value());
}

TYPED_TEST_P(StoreConformance, PurgeRemovesOldEventsAndClosedHistoryOnly) {
  auto& s = this->store();
  ASSERT_TRUE(s.Append({.events = {MakeEvent(EventType::kContactQueued, 100, 1),
                                   MakeEvent(EventType::kContactClosed, 200, 1),
                                   MakeEvent(EventType::kContactQueued, 300, 2)}})
                  .ok());
  auto old_closed = MakeContact(1, ports::ContactState::kClosed, "sales", 50);
  old_closed.times.closed = FromMicros(200);
  auto new_closed = MakeContact(2, ports::ContactState::kClosed, "sales", 50);
  new_closed.times.closed = FromMicros(400);
  // Open for ages: never purged.
  auto open = MakeContact(3, ports::ContactState::kQueued, "sales", 10);
  ASSERT_TRUE(s.Append({.contacts = {old_closed, new_closed, open}}).ok());

  auto events = s.Purge(ports::DataClass::kEvents, FromMicros(300));
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_EQ(*events, 2u);
  auto left = s.ReadAfter(0, 10);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).seq, 3u);
  EXPECT_EQ(*s.LastSequence(), 3u);
  auto contacts = s.Purge(ports::DataClass::kContactHistory, FromMicros(300));
  ASSERT_TRUE(contacts.ok());
  EXPECT_EQ(*contacts, 1u);
  EXPECT_EQ(s.GetContact(ContactId(1)).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(s.GetContact(ContactId(2)).ok());
  EXPECT_TRUE(s.GetContact(ContactId(3)).ok());

  // Sequence numbers keep counting after everything was purged.
  ASSERT_EQ(*s.Purge(ports::DataClass::kEvents, FromMicros(1000)), 1u);
  auto next = s.Append({.events = {MakeEvent(EventType::kContactQueued, 500, 4)}});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first, 4u);
}

TYPED_TEST_P(StoreConformance, UsersSessionsTokensAndAuditRoundTrip) {
  auto& s = this->store();
  ports::UserRecord u;
  u.id = 7;
  u.login = "alice";
  u.display_name = "Alice Martin";
  u.roles = {Role::kAgent, Role::kTeamLead};
  u.team = "north";
  u.agent = "alice";
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  u.sip_realm = "parley";
  u.sip_ha1_md5 = std::string(32, 'a');
  u.sip_ha1_sha256 = std::string(64, 'b');
  u.created = FromMicros(10);
  u.updated = FromMicros(20);
  ASSERT_TRUE(s.PutUser(u).ok());
  ports::UserRecord other = u;
  other.id = 8;
  other.login = "bob";
  other.roles = {Role::kWallboard};
  other.disabled = true;
  ASSERT_TRUE(s.PutUser(other).ok());
  // The same login under another id is refused.
  ports::UserRecord clash = other;
  clash.id = 9;
  EXPECT_EQ(s.PutUser(clash).code(), StatusCode::kConflict);
  u.display_name = "Alice M.";
  ASSERT_TRUE(s.PutUser(u).ok());  // replace by id
  auto users = s.LoadUsers();
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ(users->at(0), u);
  EXPECT_EQ(users->at(1), other);

  ports::SessionRecord session{std::string(64, 'c'), 7, FromMicros(30), FromMicros(40), "::1"};
  ASSERT_TRUE(s.PutSession(session).ok());
  ASSERT_TRUE(s.PutUser(u).ok());  // updating a user keeps its sessions
  ASSERT_EQ(s.LoadSessions()->size(), 1u);
  ports::TokenRecord token;
  token.prefix = "pk_abc";
  token.secret_hash = std::string(64, 'd');
  token.user_id = 8;
  token.scope = Role::kWallboard;
  token.description = "lobby screen";
  token.created = FromMicros(50);
  token.expires = FromMicros(5000);
  ASSERT_TRUE(s.PutToken(token).ok());
  ports::TokenRecord plain = token;
  plain.prefix = "pk_def";
  plain.expires.reset();
  plain.last_used = FromMicros(60);
  ASSERT_TRUE(s.PutToken(plain).ok());
  EXPECT_EQ(*s.LoadSessions(), std::vector<ports::SessionRecord>{session});
  EXPECT_EQ(*s.LoadTokens(), (std::vector<ports::TokenRecord>{token, plain}));
  ASSERT_TRUE(s.DeleteToken("pk_abc").ok());
  ASSERT_TRUE(s.DeleteSession(session.id_hash).ok());
  EXPECT_TRUE(s.LoadSessions()->empty());
  EXPECT_EQ(*s.LoadTokens(), std::vector<ports::TokenRecord>{plain});
  // Deleting a user takes its tokens along.
  ASSERT_TRUE(s.DeleteUser(8).ok());
  EXPECT_EQ(s.LoadUsers()->size(), 1u);
  EXPECT_TRUE(s.LoadTokens()->empty());

  EXPECT_EQ(*s.LastAuditSequence(), 0u);
  for (uint64_t i = 1; i <= 3; ++i) {
    ports::AuditRecord a{i,
                         FromMicros(static_cast<int64_t>(100 * i)),
                         "admin",
                         "user.update",
                         "user:alice",
                         ports::AuditOutcome::kDenied,
                         "from ::1"};
    ASSERT_TRUE(s.AppendAudit(a).ok());
  }
  auto audit = s.ReadAudit(1, 10);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ(audit->at(0).sequence, 2u);
  EXPECT_EQ(audit->at(1).outcome, ports::AuditOutcome::kDenied);
  EXPECT_EQ(audit->at(1).detail, "from ::1");
  EXPECT_EQ(s.ReadAudit(0, 1)->size(), 1u);
  EXPECT_EQ(*s.LastAuditSequence(), 3u);
  // Retention: entries before the cutoff go; numbering is not reused.
  ASSERT_EQ(*s.Purge(ports::DataClass::kAudit, FromMicros(250)), 2u);
  ASSERT_EQ(s.ReadAudit(0, 10)->size(), 1u);
  EXPECT_EQ(*s.LastAuditSequence(), 3u);
}

// Issue 6: recordings and media leg quality are written with a journal batch, listed with
// filters and pages, and a bad or duplicate recording fails its batch alone.
TYPED_TEST_P(StoreConformance, RecordingsAndLegQualityRoundTripAndFilter) {
  auto& s = this->store();
  EXPECT_EQ(*s.LastRecordingId(), 0u);
  auto recording = [](uint64_t id, uint64_t contact, int64_t started_us, std::string queue,
                      std::string agent) {
    ports::RecordingRecord r;
    r.id = id;
    r.contact = ContactId(contact);
    r.path = "/data/recordings/2026/01/02/" + std::to_string(contact) + ".wav";
    r.bytes = 32044;
    r.duration = Seconds(1);
    r.sha256 = std::string(64, 'a');
    r.started = FromMicros(started_us);
    r.completed = FromMicros(started_us + 1'000'000);
    r.queue = std::move(queue);
    r.agent = std::move(agent);
    return r;
  };
  ports::JournalBatch batch;
  batch.events.push_back(MakeEvent(EventType::kContactClosed, 100, 7));
  batch.recordings = {recording(1, 7, 100, "sales", "alice"),
                      recording(2, 8, 200, "support", "bob"), recording(3, 9, 300, "sales", "bob")};
  batch.recordings[1].kind = "voicemail";
  ports::LegQualityRecord leg;
  leg.contact = ContactId(7);
  leg.leg = "customer";
  leg.packets_received = 500;
  leg.packets_sent = 499;
  leg.packets_lost = 3;
  leg.packets_dropped = 1;
  leg.jitter_ms = 2.5;
  leg.closed = FromMicros(1100);
  ports::LegQualityRecord agent_leg = leg;
  agent_leg.leg = "agent";
  agent_leg.agent = "alice";
  batch.legs = {leg, agent_leg};
  auto appended = s.Append(batch);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(*s.LastRecordingId(), 3u);

  auto one = s.GetRecording(2);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, batch.recordings[1]);
  EXPECT_EQ(s.GetRecording(4).status().code(), StatusCode::kNotFound);
  ASSERT_EQ(s.RecordingsOfContact(ContactId(7))->size(), 1u);
  auto legs = s.LegQualityOf(ContactId(7));
  ASSERT_TRUE(legs.ok()) << legs.status().ToString();
  ASSERT_EQ(legs->size(), 2u);
  EXPECT_EQ((*legs)[0], leg);
  EXPECT_EQ((*legs)[1], agent_leg);

  auto ids = [&](const ports::RecordingFilter& f) {
    std::vector<uint64_t> out;
    auto list = s.ListRecordings(f);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (list.ok()) {
      for (const auto& r : *list) out.push_back(r.id);
    }
    return out;
  };
  ports::RecordingFilter all;
  EXPECT_EQ(ids(all), (std::vector<uint64_t>{1, 2, 3}));
  ports::RecordingFilter sales;
  sales.queue = "sales";
  EXPECT_EQ(ids(sales), (std::vector<uint64_t>{1, 3}));
  ports::RecordingFilter bob;
  bob.agents = {"bob", "carol"};
  EXPECT_EQ(ids(bob), (std::vector<uint64_t>{2, 3}));
  ports::RecordingFilter window;
  window.from = FromMicros(200);
  window.to = FromMicros(300);  // exclusive
  EXPECT_EQ(ids(window), (std::vector<uint64_t>{2}));
  ports::RecordingFilter page;
  page.limit = 2;
  EXPECT_EQ(ids(page), (std::vector<uint64_t>{1, 2}));
  page.after_id = 2;
  EXPECT_EQ(ids(page), (std::vector<uint64_t>{3}));

  // A duplicate id or a malformed record fails its batch alone.
  ports::JournalBatch dup;
  dup.events.push_back(MakeEvent(EventType::kContactClosed, 400, 10));
  dup.recordings = {recording(3, 10, 400, "sales", "alice")};
  EXPECT_EQ(s.Append(dup).status().code(), StatusCode::kConflict);
  ports::JournalBatch bad;
  bad.recordings = {recording(4, 10, 400, "sales", "alice")};
  bad.recordings[0].sha256 = "not hex";
  EXPECT_EQ(s.Append(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*s.LastRecordingId(), 3u);
  EXPECT_EQ(*s.LastSequence(), 1u);

  // Retention: recordings completed before the cutoff go, and hand back their files' paths.
  auto purged = s.PurgeRecordings(FromMicros(1'000'250));
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  ASSERT_EQ(purged->size(), 2u);
  EXPECT_EQ((*purged)[0], batch.recordings[0]);
  EXPECT_EQ((*purged)[1], batch.recordings[1]);
  EXPECT_EQ(ids(all), (std::vector<uint64_t>{3}));
  EXPECT_EQ(s.GetRecording(1).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(s.PurgeRecordings(FromMicros(1'000'250))->empty());
  // Once every recording is gone their ids are still never given again.
  ASSERT_EQ(s.PurgeRecordings(FromMicros(9'000'000))->size(), 1u);
  EXPECT_TRUE(ids(all).empty());
  EXPECT_EQ(*s.LastRecordingId(), 3u);
}

TYPED_TEST_P(StoreConformance, SipBindingsReplacedPerLoginAndExpiredOnLoad) {
  ports::Store& s = this->store();
  auto binding = [](std::string login, std::string contact, int64_t expires_us) {
    ports::SipBindingRecord b;
    b.login = std::move(login);
    b.contact = std::move(contact);
    b.call_id = "c1@phone";
    b.cseq = 4'000'000'000u;  // CSeq is 32-bit unsigned: the top of its range round-trips
    b.expires = FromMicros(expires_us);
    b.source = "[::1]:5062";
    return b;
  };
  EXPECT_TRUE(s.LoadSipBindings(FromMicros(0))->empty());
  const auto desk = binding("alice", "sip:alice@192.0.2.7:5062", 5'000);
  const auto soft = binding("alice", "sip:alice@192.0.2.8:5070;transport=tcp", 9'000);
  const auto bob = binding("bob", "sip:bob@192.0.2.9", 9'000);
  ASSERT_TRUE(s.ReplaceSipBindings({"alice", "bob"}, {desk, soft, bob}).ok());
  EXPECT_EQ(*s.LoadSipBindings(FromMicros(1'000)),
            (std::vector<ports::SipBindingRecord>{desk, soft, bob}));
  // alice's REGISTER dropped her desk phone: her bindings are replaced, bob's stay.
  ASSERT_TRUE(s.ReplaceSipBindings({"alice"}, {soft}).ok());
  EXPECT_EQ(*s.LoadSipBindings(FromMicros(1'000)),
            (std::vector<ports::SipBindingRecord>{soft, bob}));
  // A login with no binding left (Contact: *, or every expiry 0) has none stored.
  ASSERT_TRUE(s.ReplaceSipBindings({"bob"}, {}).ok());
  EXPECT_EQ(*s.LoadSipBindings(FromMicros(1'000)), (std::vector<ports::SipBindingRecord>{soft}));
  // Loading after a binding's expiry drops it for good.
  ASSERT_TRUE(s.ReplaceSipBindings({"alice"}, {desk, soft}).ok());
  EXPECT_EQ(*s.LoadSipBindings(FromMicros(6'000)), (std::vector<ports::SipBindingRecord>{soft}));
  EXPECT_EQ(*s.LoadSipBindings(FromMicros(1'000)), (std::vector<ports::SipBindingRecord>{soft}));
  EXPECT_TRUE(s.LoadSipBindings(FromMicros(9'000))->empty());
}

TYPED_TEST_P(StoreConformance, CustomerContactsByArrivalTime) {
  auto& s = this->store();
  auto ann = *s.CreateCustomer(MakeCustomer("Ann", "+1"));
  auto bob = *s.CreateCustomer(MakeCustomer("Bob", "+2"));
  auto call = MakeContact(1, ports::ContactState::kClosed, "sales", 1010);  // arrived at 1000
  call.channel = Channel::kVoice;
  call.customer = ann;
  auto dial = MakeContact(2, ports::ContactState::kHandling, "sales", 2010);
  dial.direction = Direction::kOutbound;
  dial.customer = bob;
  auto anonymous = MakeContact(3, ports::ContactState::kQueued, "support", 1510);
  auto mail = MakeContact(4, ports::ContactState::kQueued, "support", 1010);  // a tie: by id
  mail.customer = ann;
  auto late = MakeContact(5, ports::ContactState::kQueued, "support", 3010);
  late.customer = bob;
  ASSERT_TRUE(s.Append({.contacts = {late, mail, anonymous, dial, call}}).ok());

  auto got = s.CustomerContacts(FromMicros(1000), FromMicros(3000));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got,
            (std::vector<ports::CustomerContact>{
                {ContactId(1), ann, Channel::kVoice, Direction::kInbound, FromMicros(1000)},
                {ContactId(4), ann, Channel::kEmail, Direction::kInbound, FromMicros(1000)},
                {ContactId(2), bob, Channel::kEmail, Direction::kOutbound, FromMicros(2000)}}));
  EXPECT_TRUE(s.CustomerContacts(FromMicros(1001), FromMicros(2000))->empty());
  // An erased customer's contacts lose the link, so they are no longer listed.
  ASSERT_TRUE(s.EraseCustomer(ann).ok());
  EXPECT_EQ(s.CustomerContacts(FromMicros(0), FromMicros(9000))->size(), 2u);
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreConformance, RecordingsAndLegQualityRoundTripAndFilter, NewStoreIsEmpty,
    AppendGivesConsecutiveSequencesAndReadsBack, EventFieldsRoundTripAtTheirLimits,
    AppendAsyncCompletesInOrderFromManyThreads, RecoveryStateHasOpenContactsInQueueOrderAndAgents,
    FailingBatchFailsAloneAndChangesNothing, ConfigVersionsAndConflicts,
    CustomersIdentitiesAndSearch, NotesTimelineExportAndErase,
    PurgeRemovesOldEventsAndClosedHistoryOnly, UsersSessionsTokensAndAuditRoundTrip,
    SipBindingsReplacedPerLoginAndExpiredOnLoad, CustomerContactsByArrivalTime);

}  // namespace parley::store::testing
