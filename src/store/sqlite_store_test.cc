// SqliteStore beyond the conformance suite: persistence across reopening, migrations, foreign
// and future files, backup, and durability of acknowledged appends under SIGKILL.

#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include "store/store_conformance.h"

namespace parley::store {
namespace {

using ports::ContactState;
using testing::MakeContact;
using testing::MakeCustomer;
using testing::MakeEvent;
using testing::TempDir;

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path) {
  auto store = SqliteStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Runs `sql` on the database file directly, as an older or newer program would.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

TEST(SqliteStore, EverythingSurvivesReopening) {
  TempDir dir;
  const std::string path = (dir.path() / "parley.db").string();
  ports::CustomerId ann;
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ann = *store->CreateCustomer(MakeCustomer("Ann", "+1"));
    auto contact = MakeContact(1, ContactState::kHandling);
    contact.agent = "bob";
    contact.customer = ann;
    ASSERT_TRUE(store
                    ->Append({.events = {MakeEvent(EventType::kContactQueued, 1, 1),
                                         MakeEvent(EventType::kHandlingStarted, 2, 1)},
                              .contacts = {contact},
                              .agents = {{.name = "bob", .presence = Presence::kAvailable}}})
                    .ok());
    ASSERT_TRUE(store->PutConfig({.yaml = "a: 1\n", .applied_by = "seed"}, 0).ok());
    ASSERT_TRUE(store
                    ->ReplaceSipBindings({"alice"}, {{.login = "alice",
                                                      .contact = "sip:alice@192.0.2.7:5062",
                                                      .expires = FromMicros(9'000'000)}})
                    .ok());
  }
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->LastSequence(), 2u);
  auto state = store->LoadRecoveryState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->last_seq, 2u);
  ASSERT_EQ(state->open_contacts.size(), 1u);
  EXPECT_EQ(state->open_contacts[0].agent, "bob");
  EXPECT_EQ(state->open_contacts[0].customer, ann);
  ASSERT_EQ(state->agents.size(), 1u);
  EXPECT_EQ(store->CurrentConfig()->yaml, "a: 1\n");
  EXPECT_EQ(store->GetCustomer(ann)->name, "Ann");
  ASSERT_EQ(store->LoadSipBindings(FromMicros(1))->size(), 1u);
  auto next = store->Append({.events = {MakeEvent(EventType::kContactClosed, 3, 1)}});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first, 3u);
}

TEST(SqliteStore, MigratesAVersionOneDatabase) {
  TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  const auto& steps = SqliteMigrations();
  ASSERT_GE(steps.size(), 2u);
  ASSERT_EQ(steps[0].version, 1);
  RawExec(path, std::string("CREATE TABLE schema_version (version INTEGER NOT NULL);"
                            "INSERT INTO schema_version VALUES (1);") +
                    steps[0].sql +
                    "INSERT INTO contacts VALUES (9, 1, 0, 1, 'sales', '', 0, '[]', 1, 2, 0, 0, "
                    "0, 0, 0);"
                    "UPDATE journal_meta SET last_seq = 41;");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  auto contact = store->GetContact(ContactId(9));
  ASSERT_TRUE(contact.ok()) << contact.status().ToString();
  EXPECT_EQ(contact->queue, "sales");
  EXPECT_FALSE(contact->customer.valid());
  EXPECT_EQ(*store->LastSequence(), 41u);
  EXPECT_TRUE(store->CreateCustomer(MakeCustomer("Ann", "+1")).ok());
  store.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), SqliteSchemaVersion());
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStore, RefusesADatabaseFromTheFuture) {
  TempDir dir;
  const std::string path = (dir.path() / "future.db").string();
  ASSERT_NE(OpenOrDie(path), nullptr);
  RawExec(path, "UPDATE schema_version SET version = 999");
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("schema version 999 is newer"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find(path), std::string::npos);
}

TEST(SqliteStore, RefusesAFileThatIsNotSqlite) {
  TempDir dir;
  const std::string path = (dir.path() / "notes.txt").string();
  std::ofstream(path) << "This is a text file, not a database. It is long enough to have a "
                         "header of more than one hundred bytes, like a real SQLite file would.\n";
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("not a Parley database"), std::string::npos)
      << store.status().message();
}

TEST(SqliteStore, RefusesAnotherProgramsSqliteDatabase) {
  TempDir dir;
  const std::string path = (dir.path() / "other.db").string();
  RawExec(path, "CREATE TABLE photos (id INTEGER PRIMARY KEY)");
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("no schema_version"), std::string::npos)
      << store.status().message();
  RawExec(path, "DROP TABLE photos; PRAGMA application_id = 42");
  store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("application_id 42"), std::string::npos)
      << store.status().message();
}

TEST(SqliteStore, MissingFileIsNotFoundWhenNotCreating) {
  TempDir dir;
  auto store = SqliteStore::Open((dir.path() / "none.db").string(),
                                 SqliteStore::Options{.create_if_missing = false});
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
}

TEST(SqliteStore, OnlineBackupIsAConsistentCopy) {
  TempDir dir;
  auto store = OpenOrDie((dir.path() / "live.db").string());
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(store
                    ->Append({.events = {MakeEvent(EventType::kContactQueued, i, i + 1),
                                         MakeEvent(EventType::kContactClosed, i, i + 1)}})
                    .ok());
  }
  ASSERT_TRUE(store->PutConfig({.yaml = "x: 1\n"}, 0).ok());
  const std::string copy = (dir.path() / "copy.db").string();
  Status s = store->Backup(copy);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(store->Backup(copy).code(), StatusCode::kConflict);
  // The live store keeps working after the backup.
  ASSERT_TRUE(store->Append({.events = {MakeEvent(EventType::kContactQueued, 1, 1)}}).ok());

  const std::string second = (dir.path() / "second.db").string();
  s = SqliteStore::BackupFile((dir.path() / "live.db").string(), second);
  ASSERT_TRUE(s.ok()) << s.ToString();
  {
    auto restored = OpenOrDie(copy);
    ASSERT_NE(restored, nullptr);
    EXPECT_EQ(*restored->LastSequence(), 400u);
    EXPECT_EQ(restored->ReadAfter(0, 1000)->size(), 400u);
    EXPECT_EQ(restored->CurrentConfig()->yaml, "x: 1\n");
  }
  auto from_file = OpenOrDie(second);
  ASSERT_NE(from_file, nullptr);
  EXPECT_EQ(*from_file->LastSequence(), 401u);
  EXPECT_FALSE(std::filesystem::exists(copy + ".partial"));
  EXPECT_EQ(
      SqliteStore::BackupFile((dir.path() / "nothing.db").string(), (dir.path() / "x.db").string())
          .code(),
      StatusCode::kUnavailable);
}

TEST(SqliteStore, ClosingCommitsEverythingQueued) {
  TempDir dir;
  const std::string path = (dir.path() / "parley.db").string();
  std::mutex mu;
  int acknowledged = 0;
  int on_batch_thread = 0;
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 300; ++i) {
      store->AppendAsync({.events = {MakeEvent(EventType::kContactQueued, i, i + 1)}},
                         [&](Result<ports::SequenceRange> r) {
                           std::lock_guard lock(mu);
                           if (r.ok()) ++acknowledged;
                           // On the journal writer, which does not preempt the appender.
                           if (sched_getscheduler(0) == SCHED_BATCH) ++on_batch_thread;
                         });
    }
  }
  EXPECT_EQ(acknowledged, 300);
  EXPECT_EQ(on_batch_thread, 300);
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->LastSequence(), 300u);
}

// A store whose writer waits 200 ms after each commit, so what is appended meanwhile is one group.
std::unique_ptr<SqliteStore> OpenWithGroupWindow(const TempDir& dir) {
  SqliteStore::Options options;
  options.group_window = Seconds(0.2);
  auto opened = SqliteStore::Open((dir.path() / "parley.db").string(), options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

TEST(SqliteStore, GroupWindowHoldsBatchesAfterACommitAndCommitsThemTogether) {
  TempDir dir;
  auto opened = OpenWithGroupWindow(dir);
  ASSERT_NE(opened, nullptr);
  SqliteStore& store = *opened;
  // The first batch after a quiet time is committed at once (no commit was in the window).
  ASSERT_TRUE(store.Append({.events = {MakeEvent(EventType::kContactQueued, 1, 1)}}).ok());
  ASSERT_EQ(store.group_commits(), 1u);
  const auto after_first = std::chrono::steady_clock::now();
  std::mutex mu;
  std::condition_variable cv;
  int acknowledged = 0;
  for (int i = 0; i < 20; ++i) {
    store.AppendAsync({.events = {MakeEvent(EventType::kContactQueued, i + 2, i + 2)}},
                      [&](Result<ports::SequenceRange> r) {
                        EXPECT_TRUE(r.ok());
                        std::lock_guard lock(mu);
                        ++acknowledged;
                        cv.notify_all();
                      });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return acknowledged == 20; }));
  }
  // They waited for the window to pass since the first commit, and one commit took them all.
  EXPECT_GE(std::chrono::steady_clock::now() - after_first, std::chrono::milliseconds(150));
  EXPECT_EQ(store.group_commits(), 2u);
  EXPECT_EQ(*store.LastSequence(), 21u);
}

// One commit writes each contact's and agent's last record of the group once; a batch the store
// refuses (an unknown customer) leaves out its records, not the others'.
TEST(SqliteStore, AGroupWritesEachRecordsLatestVersionAndNoneOfARefusedBatch) {
  TempDir dir;
  auto opened = OpenWithGroupWindow(dir);
  ASSERT_NE(opened, nullptr);
  SqliteStore& store = *opened;
  auto customer = store.CreateCustomer(MakeCustomer("Ann", "+15550100"));
  ASSERT_TRUE(customer.ok());
  ASSERT_TRUE(store.Append({.events = {MakeEvent(EventType::kContactQueued, 1, 1)}}).ok());
  ASSERT_EQ(store.group_commits(), 1u);

  const auto agent = [](Presence p, std::string reason) {
    return ports::AgentRecord{"alice", p, std::move(reason), FromMicros(5)};
  };
  std::vector<ports::JournalBatch> batches(4);
  batches[0].contacts = {MakeContact(5, ContactState::kQueued)};
  batches[0].contacts[0].customer = *customer;
  batches[0].agents = {agent(Presence::kAvailable, "")};
  batches[1].contacts = {MakeContact(5, ContactState::kOffered),
                         MakeContact(6, ContactState::kQueued)};
  batches[1].contacts[1].customer = ports::CustomerId(999);  // refused: no such customer
  batches[1].agents = {agent(Presence::kNotReady, "refused")};
  batches[2].contacts = {MakeContact(5, ContactState::kHandling)};
  batches[2].contacts[0].customer = *customer;
  batches[2].agents = {agent(Presence::kNotReady, "lunch")};
  batches[3].contacts = {MakeContact(7, ContactState::kQueued)};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Status> results(batches.size());
  int done = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    batches[i].events = {MakeEvent(EventType::kContactQueued, 5, 5)};
    store.AppendAsync(std::move(batches[i]), [&, i](Result<ports::SequenceRange> r) {
      std::lock_guard lock(mu);
      results[i] = r.status();
      ++done;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done == 4; }));
  }
  EXPECT_EQ(store.group_commits(), 2u);  // the four in one commit
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].code(), StatusCode::kInvalidArgument) << results[1].ToString();
  EXPECT_TRUE(results[2].ok());
  EXPECT_TRUE(results[3].ok());

  auto five = store.GetContact(ContactId(5));
  ASSERT_TRUE(five.ok());
  EXPECT_EQ(five->state, ContactState::kHandling);
  EXPECT_EQ(five->customer, *customer);
  EXPECT_EQ(store.GetContact(ContactId(6)).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store.GetContact(ContactId(7)).ok());
  auto recovery = store.LoadRecoveryState();
  ASSERT_TRUE(recovery.ok());
  ASSERT_EQ(recovery->agents.size(), 1u);
  EXPECT_EQ(recovery->agents[0].reason, "lunch");
  EXPECT_EQ(recovery->last_seq, 4u);
}

// What the child reports for each acknowledged batch.
struct Ack {
  uint64_t batch;
  uint64_t last_seq;
};

// Child side of the crash test: appends batches 1, 2, ... (batch b holds b % 5 + 1 events and
// the record of contact b) with up to 64 in flight, and writes an Ack to `fd` from each
// completion. Never returns; the parent kills it.
[[noreturn]] void AppendUntilKilled(const std::string& path, int fd) {
  auto opened = SqliteStore::Open(path);
  if (!opened.ok()) _exit(2);
  auto store = std::move(opened).value();
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  for (uint64_t b = 1;; ++b) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < 64; });
      ++in_flight;
    }
    ports::JournalBatch batch;
    const int size = static_cast<int>(b % 5) + 1;
    for (int i = 0; i < size; ++i) {
      Event e = MakeEvent(EventType::kContactQueued, static_cast<int64_t>(b), b, i);
      e.agent = static_cast<AgentIndex>(size);
      batch.events.push_back(e);
    }
    batch.contacts.push_back(MakeContact(b, ContactState::kQueued));
    store->AppendAsync(std::move(batch), [&, b](Result<ports::SequenceRange> r) {
      if (!r.ok()) _exit(3);
      const Ack ack{b, r->last};
      if (write(fd, &ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) _exit(4);
      {
        std::lock_guard lock(mu);
        --in_flight;
      }
      cv.notify_one();
    });
  }
}

// Reads one Ack, waiting at most 60 s; false on end of file or timeout.
bool ReadAck(int fd, Ack* ack) {
  size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(ack);
  while (got < sizeof *ack) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 60'000) <= 0) return false;
    const ssize_t n = read(fd, bytes + got, sizeof *ack - got);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

TEST(SqliteStoreCrash, SigkillLosesNoAcknowledgedBatchAndLeavesNoPartialOne) {
  TempDir dir;
  const std::string path = (dir.path() / "parley.db").string();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    AppendUntilKilled(path, fds[1]);
  }
  close(fds[1]);
  constexpr size_t kAcksBeforeKill = 2000;
  std::vector<Ack> acks;
  Ack ack{};
  while (acks.size() < kAcksBeforeKill && ReadAck(fds[0], &ack)) acks.push_back(ack);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(acks.size(), kAcksBeforeKill) << "the child stopped early, status " << status;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // Acknowledgements already in the pipe when the kill landed count too.
  while (ReadAck(fds[0], &ack)) acks.push_back(ack);
  close(fds[0]);

  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  const ports::Sequence last = *store->LastSequence();
  auto events = store->ReadAfter(0, SIZE_MAX);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), last) << "a gap in the sequence";
  // Batches are durable as a prefix 1..durable, each one whole.
  uint64_t durable = 0;
  for (size_t i = 0; i < events->size();) {
    const Event& first = (*events)[i].event;
    const uint64_t batch = first.contact.value();
    ASSERT_EQ(batch, durable + 1) << "batch order broken at seq " << (*events)[i].seq;
    const size_t size = first.agent;
    ASSERT_EQ(size, batch % 5 + 1);
    ASSERT_LE(i + size, events->size()) << "partial batch " << batch;
    for (size_t k = 0; k < size; ++k) {
      const auto& entry = (*events)[i + k];
      ASSERT_EQ(entry.seq, i + k + 1);
      ASSERT_EQ(entry.event.contact.value(), batch) << "partial batch " << batch;
      ASSERT_EQ(entry.event.value, static_cast<int64_t>(k));
    }
    i += size;
    durable = batch;
  }
  for (const Ack& a : acks) {
    ASSERT_LE(a.batch, durable) << "acknowledged batch " << a.batch << " was lost";
    ASSERT_LE(a.last_seq, last);
  }
  // The records written with the batches are exactly the durable ones.
  auto state = store->LoadRecoveryState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->last_seq, last);
  EXPECT_EQ(state->open_contacts.size(), durable);
  EXPECT_EQ(store->GetContact(ContactId(durable + 1)).status().code(), StatusCode::kNotFound);
  RecordProperty("acknowledged", static_cast<int>(acks.size()));
  RecordProperty("durable", static_cast<int>(durable));
}

}  // namespace
}  // namespace parley::store
