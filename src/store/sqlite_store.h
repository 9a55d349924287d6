#pragma once
// SqliteStore: the Store port on one SQLite database file (WAL, foreign keys on, synchronous=FULL
// so a commit survives power loss as well as kill -9). Schema changes are an ordered list of
// migration steps (SqliteMigrations); opening an older database migrates it, a newer one is
// refused.
//
// Ownership and threads: the object owns one connection and one journal writer thread. Every
// method may be called from any thread; database work is serialised on the connection by `mu_`.
// AppendAsync only queues the batch (a short lock on the queue, no I/O), so the engine's core
// loop may call it; the writer thread commits everything queued in one transaction (group
// commit) and then runs the callbacks, on the writer thread, in append order. Callbacks must not
// call the store synchronously. The destructor commits what is queued, runs its callbacks and
// joins the writer. One process opens a database for writing at a time (the server); tools read
// it through BackupFile.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/time.h"
#include "ports/store.h"
#include "ports/webhook_outbox.h"

struct sqlite3;
struct sqlite3_stmt;

namespace parley::store {

// One schema step: `sql` moves the database from version - 1 to `version`.
struct SqliteMigration {
  int version;
  const char* description;
  const char* sql;
};
// Ordered by version, starting at 1, no gaps. Append only: a released step never changes.
const std::vector<SqliteMigration>& SqliteMigrations();
int SqliteSchemaVersion();  // the last step's version

// PRAGMA application_id of a Parley database ("PRLY").
inline constexpr int32_t kParleyApplicationId = 0x50524c59;

class SqliteStore final : public ports::Store {
 public:
  struct Options {
    bool create_if_missing = true;
    Duration busy_timeout = Seconds(5);
    // Upper bound on the batches committed in one transaction.
    size_t max_group_batches = 4096;
    // Least time from one commit's end to the next one's start while batches keep coming: under
    // load each commit then takes the batches of a whole window (each commit rewrites the
    // tables' and indexes' last pages in the WAL and syncs it, whatever the batches hold). A
    // batch arriving after a quiet window is committed at once. 0: commit as soon as possible.
    Duration group_window{0};
  };

  // Opens (or creates) the database at `path`, migrating it to SqliteSchemaVersion(). Errors:
  // kNotFound (missing, !create_if_missing), kInvalidArgument (not a Parley database, written by
  // a newer Parley), kUnavailable (cannot open or lock the file).
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, const Options& options);
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path) {
    return Open(path, Options());
  }
  // Copies the database at `source` (which a running server may be writing) to `dest`, read-only,
  // for `parley backup`.
  static Status BackupFile(const std::string& source, const std::string& dest);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Transactions the journal writer has committed (for the benchmark and tests).
  uint64_t group_commits() const;

  // EventJournal
  void AppendAsync(ports::JournalBatch batch, ports::AppendCallback done) override;
  Result<ports::SequenceRange> Append(ports::JournalBatch batch) override;
  Result<std::vector<ports::JournalEntry>> ReadAfter(ports::Sequence after, size_t limit) override;
  Result<ports::Sequence> LastSequence() override;

  // ContactRecords
  Result<ports::RecoveryState> LoadRecoveryState() override;
  Result<ports::ContactRecord> GetContact(ContactId id) override;
  Result<std::vector<ports::CustomerContact>> CustomerContacts(TimePoint from,
                                                               TimePoint to) override;

  // ConfigDocuments
  Result<uint64_t> PutConfig(const ports::ConfigDocument& doc, uint64_t expected_version) override;
  Result<ports::ConfigDocument> CurrentConfig() override;
  Result<std::vector<ports::ConfigDocument>> ConfigHistory(size_t limit, bool with_text) override;
  Result<ports::ConfigDocument> GetConfig(uint64_t version) override;

  // CustomerRecords
  Result<ports::CustomerId> CreateCustomer(const ports::Customer& customer) override;
  Status UpdateCustomer(const ports::Customer& customer) override;
  Result<ports::Customer> GetCustomer(ports::CustomerId id) override;
  Result<ports::Customer> FindCustomerByIdentity(const ports::CustomerIdentity& identity) override;
  Result<std::vector<ports::Customer>> SearchCustomers(const std::string& prefix,
                                                       size_t limit) override;
  Result<uint64_t> AddNote(const ports::CustomerNote& note) override;
  Result<std::vector<ports::CustomerNote>> Notes(ports::CustomerId id) override;
  Result<std::vector<ports::ContactRecord>> Timeline(ports::CustomerId id, size_t limit) override;
  Result<ports::CustomerExport> ExportCustomer(ports::CustomerId id) override;
  Status EraseCustomer(ports::CustomerId id) override;
  Result<std::vector<std::pair<ports::CustomerIdentity, ports::CustomerId>>> AllIdentities()
      override;

  // Maintenance
  Result<uint64_t> Purge(ports::DataClass data_class, TimePoint cutoff) override;
  Result<std::vector<ports::RecordingRecord>> PurgeRecordings(TimePoint cutoff) override;
  Status Backup(const std::string& path) override;

  // SipRegistrations
  Status ReplaceSipBindings(const std::vector<std::string>& logins,
                            const std::vector<ports::SipBindingRecord>& bindings) override;
  Result<std::vector<ports::SipBindingRecord>> LoadSipBindings(TimePoint now) override;
  // RecordingRecords
  Result<std::vector<ports::RecordingRecord>> ListRecordings(
      const ports::RecordingFilter& filter) override;
  Result<ports::RecordingRecord> GetRecording(uint64_t id) override;
  Result<std::vector<ports::RecordingRecord>> RecordingsOfContact(ContactId contact) override;
  Result<std::vector<ports::LegQualityRecord>> LegQualityOf(ContactId contact) override;
  Result<uint64_t> LastRecordingId() override;

  // AuthStore, AuditSink
  Status PutUser(const ports::UserRecord& user) override;
  Status DeleteUser(uint64_t id) override;
  Status PutSession(const ports::SessionRecord& session) override;
  Status DeleteSession(const std::string& id_hash) override;
  Status PutToken(const ports::TokenRecord& token) override;
  Status DeleteToken(const std::string& prefix) override;
  Result<std::vector<ports::UserRecord>> LoadUsers() override;
  Result<std::vector<ports::SessionRecord>> LoadSessions() override;
  Result<std::vector<ports::TokenRecord>> LoadTokens() override;
  Status AppendAudit(const ports::AuditRecord& record) override;
  Result<std::vector<ports::AuditRecord>> ReadAudit(uint64_t after, size_t limit) override;
  Result<uint64_t> LastAuditSequence() override;

  // WebhookOutbox
  Result<uint64_t> EnqueueDelivery(const ports::WebhookDelivery& delivery) override;
  Result<std::vector<ports::WebhookDelivery>> ClaimDueDeliveries(TimePoint now,
                                                                 TimePoint lease_until,
                                                                 size_t limit) override;
  Status MarkDelivered(uint64_t id, int32_t attempts, TimePoint at) override;
  Status RescheduleDelivery(uint64_t id, int32_t attempts, TimePoint next_attempt,
                            const std::string& error) override;
  Status MarkDeliveryDead(uint64_t id, int32_t attempts, TimePoint at,
                          const std::string& error) override;
  Result<std::vector<ports::WebhookDelivery>> DeadDeliveries(size_t limit) override;
  Status RetryDeadDelivery(uint64_t id, TimePoint at) override;
  Result<ports::WebhookDelivery> GetDelivery(uint64_t id) override;
  Result<uint64_t> PurgeDeliveries(TimePoint cutoff) override;

 private:
  class Statement;
  struct Pending {
    ports::JournalBatch batch;
    ports::AppendCallback done;
    Result<ports::SequenceRange> result = Internal("not committed");
  };
  struct StatementDeleter {
    void operator()(sqlite3_stmt* s) const;
  };

  SqliteStore(sqlite3* db, std::string path, const Options& options);

  // All below run with mu_ held.
  Result<Statement> Prepare(const char* sql);
  Status Exec(const char* sql);
  // The rows of a group's batches that only the group's last copy of need writing: each
  // contact's and agent's latest record (a call's first steps usually share a group, and each
  // step's batch carries the whole record).
  struct GroupRecords {
    std::unordered_map<uint64_t, const ports::ContactRecord*> contacts;
    std::unordered_map<std::string_view, const ports::AgentRecord*> agents;
    std::unordered_set<uint64_t> customers;  // known to exist
  };
  // Checks the batch's records (a customer in `known_customers` is not looked up again; one that
  // is found is added) and writes its events and recordings; CommitGroup writes its contacts and
  // agents with WriteGroupRecords after the group's last batch, unless the batch was refused.
  Status WriteBatch(const ports::JournalBatch& batch, ports::Sequence first,
                    std::unordered_set<uint64_t>& known_customers);
  Status WriteGroupRecords(const GroupRecords& group);
  Status WriteRecordings(const ports::JournalBatch& batch);
  Result<std::vector<ports::RecordingRecord>> LoadRecordings(Statement& select);
  Result<ports::Customer> LoadCustomer(ports::CustomerId id);
  Result<std::vector<ports::ContactRecord>> LoadContacts(const char* sql, int64_t arg,
                                                         int64_t limit);
  Status CheckIdentitiesFree(const ports::Customer& customer, ports::CustomerId self);
  Status WriteIdentitiesAndTags(const ports::Customer& customer);
  Result<std::vector<ports::CustomerNote>> LoadNotes(ports::CustomerId id);
  Result<std::vector<ports::WebhookDelivery>> LoadDeliveries(Statement& select);
  // Sets state, attempts, next_us and last_error of a delivery in state `from`; kNotFound if
  // there is none.
  Status UpdateDelivery(uint64_t id, ports::DeliveryState from, ports::DeliveryState to,
                        int32_t attempts, TimePoint next, const std::string& error);

  void WriterLoop();
  void CommitGroup(std::vector<Pending>& group);

  const std::string path_;
  const Options options_;

  mutable std::mutex mu_;
  sqlite3* db_;  // GUARDED_BY(mu_)
  // Keys view the SQL string literals the statements were prepared from.
  std::unordered_map<std::string_view, std::unique_ptr<sqlite3_stmt, StatementDeleter>>
      statements_;                // GUARDED_BY(mu_)
  ports::Sequence last_seq_ = 0;  // GUARDED_BY(mu_)
  uint64_t group_commits_ = 0;    // GUARDED_BY(mu_)

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<Pending> queue_;                           // GUARDED_BY(queue_mu_)
  bool stopping_ = false;                                // GUARDED_BY(queue_mu_)
  std::chrono::steady_clock::time_point last_commit_{};  // the writer thread's
  std::thread writer_;
};

}  // namespace parley::store
