#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/thread_name.h"
#include "store/records.h"

namespace parley::store {

using namespace ports;  // NOLINT(google-build-using-namespace): this file implements the port.

// ---------------------------------------------------------------------------------------------
// Schema

const std::vector<SqliteMigration>& SqliteMigrations() {
  static const std::vector<SqliteMigration> kMigrations = {
      {1, "journal, contact and agent records, configuration documents", R"sql(
CREATE TABLE journal_meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq INTEGER NOT NULL
);
INSERT INTO journal_meta (id, last_seq) VALUES (1, 0);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  time_us INTEGER NOT NULL,
  type INTEGER NOT NULL,
  contact_id INTEGER NOT NULL,
  agent INTEGER NOT NULL,
  queue INTEGER NOT NULL,
  channel INTEGER NOT NULL,
  value INTEGER NOT NULL,
  text BLOB NOT NULL,
  config_version INTEGER NOT NULL
);
CREATE INDEX events_by_time ON events (time_us);
CREATE TABLE contacts (
  id INTEGER PRIMARY KEY,
  channel INTEGER NOT NULL,
  direction INTEGER NOT NULL,
  state INTEGER NOT NULL,
  queue TEXT NOT NULL,
  agent TEXT NOT NULL,
  priority INTEGER NOT NULL,
  attributes TEXT NOT NULL,
  arrived_us INTEGER NOT NULL,
  queued_us INTEGER NOT NULL,
  offered_us INTEGER NOT NULL,
  answered_us INTEGER NOT NULL,
  wrap_up_us INTEGER NOT NULL,
  closed_us INTEGER NOT NULL,
  queue_order INTEGER NOT NULL
);
CREATE INDEX contacts_open ON contacts (state) WHERE state <> 5;
CREATE INDEX contacts_closed ON contacts (closed_us) WHERE state = 5;
CREATE TABLE agents (
  name TEXT PRIMARY KEY,
  presence INTEGER NOT NULL,
  reason TEXT NOT NULL,
  since_us INTEGER NOT NULL
);
CREATE TABLE config_documents (
  version INTEGER PRIMARY KEY,
  yaml TEXT NOT NULL,
  applied_by TEXT NOT NULL,
  applied_us INTEGER NOT NULL,
  comment TEXT NOT NULL
);
)sql"},
      {2, "customers: identities, tags, notes; contacts link to customers", R"sql(
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  name_lower TEXT NOT NULL,
  fields TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  updated_us INTEGER NOT NULL
);
CREATE INDEX customers_by_name ON customers (name_lower);
CREATE TABLE customer_identities (
  channel INTEGER NOT NULL,
  address TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  PRIMARY KEY (channel, address)
);
CREATE INDEX customer_identities_by_address ON customer_identities (address);
CREATE INDEX customer_identities_by_customer ON customer_identities (customer_id);
CREATE TABLE customer_tags (
  customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (customer_id, tag)
);
CREATE TABLE customer_notes (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  at_us INTEGER NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX customer_notes_by_customer ON customer_notes (customer_id, at_us);
ALTER TABLE contacts ADD COLUMN customer_id INTEGER REFERENCES customers (id) ON DELETE SET NULL;
CREATE INDEX contacts_by_customer ON contacts (customer_id, arrived_us) WHERE customer_id IS NOT NULL;
)sql"},
      {3, "users, sessions, API tokens and the audit log (src/auth)", R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  roles TEXT NOT NULL,
  team TEXT NOT NULL,
  agent TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  password_hash TEXT NOT NULL,
  sip_realm TEXT NOT NULL,
  sip_ha1_md5 TEXT NOT NULL,
  sip_ha1_sha256 TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  updated_us INTEGER NOT NULL
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_us INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL,
  client_address TEXT NOT NULL
);
CREATE TABLE api_tokens (
  prefix TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scope INTEGER NOT NULL,
  description TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  expires_us INTEGER,
  last_used_us INTEGER
);
CREATE TABLE audit_log (
  sequence INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome INTEGER NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at_us);
)sql"},
      {4, "webhook outbox: pending, delivered and dead deliveries", R"sql(
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY,
  webhook TEXT NOT NULL,
  url TEXT NOT NULL,
  event_seq INTEGER NOT NULL,
  body BLOB NOT NULL,
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  next_us INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  UNIQUE (webhook, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_us, id) WHERE state = 0;
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (state, next_us) WHERE state <> 0;
)sql"},
      {5, "customer ids are never reused after an erasure (high-water mark)", R"sql(
CREATE TABLE id_high_water (
  name TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL
);
INSERT INTO id_high_water (name, last_id) SELECT 'customers', COALESCE(MAX(id), 0) FROM customers;
)sql"},
      {6, "call recordings and media leg quality, stored with their contact", R"sql(
CREATE TABLE recordings (
  id INTEGER PRIMARY KEY,
  contact_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  started_us INTEGER NOT NULL,
  completed_us INTEGER NOT NULL,
  queue TEXT NOT NULL,
  agent TEXT NOT NULL,
  customer_id INTEGER
);
CREATE INDEX recordings_by_contact ON recordings (contact_id);
CREATE INDEX recordings_by_start ON recordings (started_us);
CREATE TABLE media_legs (
  contact_id INTEGER NOT NULL,
  leg TEXT NOT NULL,
  agent TEXT NOT NULL,
  packets_received INTEGER NOT NULL,
  packets_sent INTEGER NOT NULL,
  packets_lost INTEGER NOT NULL,
  packets_dropped INTEGER NOT NULL,
  jitter_us INTEGER NOT NULL,
  closed_us INTEGER NOT NULL
);
CREATE INDEX media_legs_by_contact ON media_legs (contact_id);
)sql"},
      {7, "SIP phone registrations survive a restart", R"sql(
CREATE TABLE sip_bindings (
  login TEXT NOT NULL,
  contact TEXT NOT NULL,
  call_id TEXT NOT NULL,
  cseq INTEGER NOT NULL,
  expires_us INTEGER NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (login, contact)
) WITHOUT ROWID;
)sql"},
      {8, "customer contacts by arrival time, for first-contact resolution", R"sql(
CREATE INDEX contacts_by_arrival ON contacts (arrived_us, id) WHERE customer_id IS NOT NULL;
)sql"},
  };
  return kMigrations;
}

int SqliteSchemaVersion() { return SqliteMigrations().back().version; }

namespace {

// Maps an SQLite result code to the port's codes, naming what was being done.
Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string message =
      std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Conflict(std::move(message));
      }
      return InvalidArgument(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Unavailable(std::move(message));
    case SQLITE_NOTADB:
      return InvalidArgument(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

int64_t ToColumn(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t FromColumn(int64_t v) { return static_cast<uint64_t>(v); }

// The byte after every UTF-8 string that starts with a prefix: [prefix, prefix + "\xff") is the
// prefix range under binary collation, since 0xff never occurs in UTF-8.
std::string PrefixEnd(std::string prefix) { return prefix + '\xff'; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Statements

void SqliteStore::StatementDeleter::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

// A cached prepared statement in use; resets it when it goes out of scope so the next user finds
// it clean. Lives only while mu_ is held.
class SqliteStore::Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  Statement& Bind(int index, int64_t v) {
    sqlite3_bind_int64(stmt_, index, v);
    return *this;
  }
  Statement& BindText(int index, std::string_view v) {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int index, std::string_view v) {
    sqlite3_bind_blob(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindNull(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }

  // True for a row, false when done; an error otherwise.
  Result<bool> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, sqlite3_extended_errcode(db_), sqlite3_sql(stmt_));
  }
  // Steps a statement that returns no rows.
  Status Run() {
    auto r = Step();
    return r.ok() ? Status::Ok() : r.status();
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p == nullptr ? std::string()
                        : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

Result<SqliteStore::Statement> SqliteStore::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, std::string("prepare ") + sql);
    it = statements_.emplace(sql, std::unique_ptr<sqlite3_stmt, StatementDeleter>(stmt)).first;
  }
  return Statement(db_, it->second.get());
}

Status SqliteStore::Exec(const char* sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->Run();
}

namespace {

// Runs `body` in a transaction on a connection whose mutex the caller holds; rolls back on error.
template <typename Exec, typename Body>
Status InTransaction(Exec&& exec, Body&& body) {
  if (Status s = exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Status s = body();
  if (s.ok()) s = exec("COMMIT");
  if (!s.ok()) (void)exec("ROLLBACK");
  return s;
}

// One-off statements on a connection that is not (yet) a SqliteStore.
Status ExecRaw(sqlite3* db, const std::string& sql, std::string_view what) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = std::string(what) + ": " + (error != nullptr ? error : sqlite3_errstr(rc));
  sqlite3_free(error);
  return SqliteError(nullptr, sqlite3_extended_errcode(db), message);
}

// The first column of the first row of `sql` as an integer (nullopt: no row).
Result<std::optional<int64_t>> QueryInt(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, sqlite3_extended_errcode(db), sql);
  std::optional<int64_t> out;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) out = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return SqliteError(db, sqlite3_extended_errcode(db), sql);
  }
  return out;
}

// Brings the database to SqliteSchemaVersion() in one transaction, or explains why it cannot.
Status Migrate(sqlite3* db, const std::string& path) {
  auto exec = [db](const std::string& sql) { return ExecRaw(db, sql, "migrate: " + sql); };
  return InTransaction(exec, [&]() -> Status {
    auto app_id = QueryInt(db, "PRAGMA application_id");
    if (!app_id.ok()) return app_id.status();
    auto has_version = QueryInt(
        db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (!has_version.ok()) return has_version.status();
    const int64_t application = app_id->value_or(0);
    int64_t version = 0;
    if (application != 0 && application != kParleyApplicationId) {
      return InvalidArgument(path + ": not a Parley database (SQLite application_id " +
                             std::to_string(application) + ")");
    }
    if (has_version->has_value()) {
      auto v = QueryInt(db, "SELECT version FROM schema_version");
      if (!v.ok()) return v.status();
      if (!v->has_value()) return Internal(path + ": schema_version table is empty");
      version = **v;
    } else {
      auto tables = QueryInt(db, "SELECT count(*) FROM sqlite_master");
      if (!tables.ok()) return tables.status();
      if (tables->value_or(0) != 0) {
        return InvalidArgument(path +
                               ": not a Parley database (it has tables but no schema_version)");
      }
      if (Status s = exec("CREATE TABLE schema_version (version INTEGER NOT NULL);"
                          "INSERT INTO schema_version (version) VALUES (0)");
          !s.ok()) {
        return s;
      }
    }
    if (version > SqliteSchemaVersion()) {
      return InvalidArgument(path + ": database schema version " + std::to_string(version) +
                             " is newer than this Parley supports (" +
                             std::to_string(SqliteSchemaVersion()) +
                             "); run a newer Parley or restore a backup made by this version");
    }
    for (const auto& step : SqliteMigrations()) {
      if (step.version <= version) continue;
      if (Status s = exec(step.sql); !s.ok()) {
        return Internal(path + ": migration to schema version " + std::to_string(step.version) +
                        " (" + step.description + ") failed: " + s.message());
      }
      version = step.version;
    }
    if (Status s = exec("UPDATE schema_version SET version = " + std::to_string(version));
        !s.ok()) {
      return s;
    }
    return exec("PRAGMA application_id = " + std::to_string(kParleyApplicationId));
  });
}

// Copies `src` to a new file `dest` page by page; `lock`/`unlock` bracket each step so a live
// store keeps serving between steps (SQLite restarts or updates the copy when the source
// changes, so the result is consistent as of the last step).
template <typename Lock>
Status CopyDatabase(sqlite3* src, const std::string& dest, Lock&& locked_step_guard) {
  std::error_code ec;
  if (std::filesystem::exists(dest, ec)) return Conflict(dest + ": already exists");
  const std::string partial = dest + ".partial";
  std::filesystem::remove(partial, ec);
  sqlite3* out = nullptr;
  int rc =
      sqlite3_open_v2(partial.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(out, rc, "backup: cannot create " + partial);
    sqlite3_close(out);
    return s;
  }
  sqlite3_backup* backup = sqlite3_backup_init(out, "main", src, "main");
  if (backup == nullptr) {
    Status s = SqliteError(out, sqlite3_extended_errcode(out), "backup: cannot start");
    sqlite3_close(out);
    std::filesystem::remove(partial, ec);
    return s;
  }
  int busy_retries = 0;
  for (;;) {
    rc = locked_step_guard([&] { return sqlite3_backup_step(backup, 256); });
    if (rc == SQLITE_OK) {
      busy_retries = 0;
    } else if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && busy_retries++ < 1000) {
      sqlite3_sleep(5);  // another process holds a lock the copy needs
    } else {
      break;
    }
  }
  sqlite3_backup_finish(backup);
  Status s = rc == SQLITE_DONE ? Status::Ok() : SqliteError(out, rc, "backup to " + dest);
  if (s.ok()) s = ExecRaw(out, "PRAGMA journal_mode = WAL", "backup: set WAL");
  sqlite3_close(out);
  if (s.ok()) {
    std::filesystem::rename(partial, dest, ec);
    if (ec) s = Unavailable("backup: rename " + partial + " to " + dest + ": " + ec.message());
  }
  if (!s.ok()) std::filesystem::remove(partial, ec);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Opening and closing

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const Options& options) {
  std::error_code ec;
  if (!options.create_if_missing && !std::filesystem::exists(path, ec)) {
    return NotFound(path + ": no such database");
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create_if_missing) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  auto fail = [&](Status s) {
    sqlite3_close(db);
    return s;
  };
  if (rc != SQLITE_OK) return fail(SqliteError(db, rc, path + ": cannot open"));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count() / 1000));
  // The first read of the header tells a foreign file apart.
  if (auto probe = QueryInt(db, "PRAGMA application_id"); !probe.ok()) {
    if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_NOTADB) {
      return fail(InvalidArgument(path + ": not a Parley database (not an SQLite file)"));
    }
    return fail(probe.status());
  }
  if (Status s =
          ExecRaw(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", path + ": settings");
      !s.ok()) {
    return fail(s);
  }
  auto mode = [&]() -> Result<std::string> {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr) != SQLITE_OK) {
      return SqliteError(db, sqlite3_extended_errcode(db), "journal_mode");
    }
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }();
  if (!mode.ok()) return fail(mode.status());
  if (*mode != "wal") return fail(Unavailable(path + ": cannot switch to WAL (got " + *mode + ")"));
  if (Status s = Migrate(db, path); !s.ok()) return fail(s);
  auto last = QueryInt(db, "SELECT last_seq FROM journal_meta WHERE id = 1");
  if (!last.ok()) return fail(last.status());
  if (!last->has_value()) return fail(Internal(path + ": journal_meta row is missing"));

  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, options));
  store->last_seq_ = FromColumn(**last);
  return store;
}

SqliteStore::SqliteStore(sqlite3* db, std::string path, const Options& options)
    : path_(std::move(path)), options_(options), db_(db) {
  writer_ = std::thread([this] {
    NameThisThread("journal");
    ScheduleThisThreadAsBatch();
    WriterLoop();
  });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  writer_.join();
  std::lock_guard lock(mu_);
  statements_.clear();
  sqlite3_close(db_);
}

uint64_t SqliteStore::group_commits() const {
  std::lock_guard lock(mu_);
  return group_commits_;
}

Status SqliteStore::BackupFile(const std::string& source, const std::string& dest) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(source.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, source + ": cannot open");
    sqlite3_close(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  Status s = [&]() -> Status {
    auto app = QueryInt(db, "PRAGMA application_id");
    if (!app.ok()) return InvalidArgument(source + ": not a Parley database");
    if (app->value_or(0) != kParleyApplicationId) {
      return InvalidArgument(source + ": not a Parley database");
    }
    return CopyDatabase(db, dest, [](auto step) { return step(); });
  }();
  sqlite3_close(db);
  return s;
}

Status SqliteStore::Backup(const std::string& path) {
  return CopyDatabase(db_, path, [&](auto step) {
    std::lock_guard guard(mu_);
    return step();
  });
}

// ---------------------------------------------------------------------------------------------
// Journal writer

void SqliteStore::AppendAsync(JournalBatch batch, AppendCallback done) {
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(batch), std::move(done)});
      // The writer waits for a first batch, or for a window to pass, or for a full group: a
      // wake-up for every batch would cost the appending thread a futex call each time.
      if (queue_.size() == 1 || queue_.size() == options_.max_group_batches) {
        queue_cv_.notify_one();
      }
      return;
    }
  }
  done(Unavailable(path_ + ": store is closing"));
}

Result<SequenceRange> SqliteStore::Append(JournalBatch batch) {
  std::promise<Result<SequenceRange>> promise;
  auto future = promise.get_future();
  AppendAsync(std::move(batch),
              [&promise](Result<SequenceRange> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void SqliteStore::WriterLoop() {
  std::vector<Pending> group;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      if (options_.group_window > Duration::zero()) {
        queue_cv_.wait_until(lock, last_commit_ + options_.group_window, [this] {
          return stopping_ || queue_.size() >= options_.max_group_batches;
        });
      }
      if (queue_.size() <= options_.max_group_batches) {
        group.swap(queue_);
      } else {
        const auto end = queue_.begin() + static_cast<ptrdiff_t>(options_.max_group_batches);
        group.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
        queue_.erase(queue_.begin(), end);
      }
    }
    CommitGroup(group);
    last_commit_ = std::chrono::steady_clock::now();
    for (auto& p : group) p.done(std::move(p.result));
    group.clear();
  }
}

void SqliteStore::CommitGroup(std::vector<Pending>& group) {
  std::lock_guard lock(mu_);
  if (Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) {
    for (auto& p : group) p.result = s;
    return;
  }
  Sequence next = last_seq_;
  GroupRecords records;
  for (auto& p : group) {
    const Sequence first = next + 1;
    Status s = Exec("SAVEPOINT batch");
    if (s.ok()) s = WriteBatch(p.batch, first, records.customers);
    if (s.ok()) {
      s = Exec("RELEASE batch");
    } else {
      (void)Exec("ROLLBACK TO batch");
      (void)Exec("RELEASE batch");
    }
    if (!s.ok()) {
      p.result = s;
      continue;
    }
    for (const auto& c : p.batch.contacts) records.contacts[c.id.value()] = &c;
    for (const auto& a : p.batch.agents) records.agents[a.name] = &a;
    next += p.batch.events.size();
    p.result = SequenceRange{first, next};
  }
  Status s = WriteGroupRecords(records);
  if (s.ok() && next != last_seq_) {
    auto update = Prepare("UPDATE journal_meta SET last_seq = ?1 WHERE id = 1");
    s = update.ok() ? update->Bind(1, ToColumn(next)).Run() : update.status();
  }
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    for (auto& p : group) {
      if (p.result.ok()) p.result = Unavailable("journal commit failed: " + s.message());
    }
    return;
  }
  last_seq_ = next;
  ++group_commits_;
}

Status SqliteStore::WriteBatch(const JournalBatch& batch, Sequence first,
                               std::unordered_set<uint64_t>& known_customers) {
  for (const auto& c : batch.contacts) {
    if (!c.id.valid()) return InvalidArgument("contact record: id must not be 0");
    if (c.customer.valid() && !known_customers.contains(c.customer.value())) {
      auto exists = Prepare("SELECT 1 FROM customers WHERE id = ?1");
      if (!exists.ok()) return exists.status();
      auto row = exists->Bind(1, ToColumn(c.customer.value())).Step();
      if (!row.ok()) return row.status();
      if (!*row) {
        return InvalidArgument("contact " + std::to_string(c.id.value()) +
                               " refers to unknown customer " + std::to_string(c.customer.value()));
      }
      known_customers.insert(c.customer.value());
    }
  }
  for (const auto& a : batch.agents) {
    if (a.name.empty()) return InvalidArgument("agent record: name must not be empty");
  }
  Sequence seq = first;
  for (const auto& e : batch.events) {
    auto insert = Prepare(
        "INSERT INTO events (seq, time_us, type, contact_id, agent, queue, channel, value, text, "
        "config_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!insert.ok()) return insert.status();
    Status s = insert->Bind(1, ToColumn(seq++))
                   .Bind(2, ToMicros(e.time))
                   .Bind(3, static_cast<int64_t>(e.type))
                   .Bind(4, ToColumn(e.contact.value()))
                   .Bind(5, e.agent)
                   .Bind(6, e.queue)
                   .Bind(7, static_cast<int64_t>(e.channel))
                   .Bind(8, e.value)
                   .BindBlob(9, e.text)
                   .Bind(10, ToColumn(batch.config_version))
                   .Run();
    if (!s.ok()) return s;
  }
  return WriteRecordings(batch);
}

Status SqliteStore::WriteGroupRecords(const GroupRecords& group) {
  for (const auto& [id, record] : group.contacts) {
    const ContactRecord& c = *record;
    auto upsert = Prepare(
        "INSERT INTO contacts (id, channel, direction, state, queue, agent, priority, attributes, "
        "arrived_us, queued_us, offered_us, answered_us, wrap_up_us, closed_us, queue_order, "
        "customer_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
        "?16) ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, direction = "
        "excluded.direction, state = excluded.state, queue = excluded.queue, agent = "
        "excluded.agent, priority = excluded.priority, attributes = excluded.attributes, "
        "arrived_us = excluded.arrived_us, queued_us = excluded.queued_us, offered_us = "
        "excluded.offered_us, answered_us = excluded.answered_us, wrap_up_us = "
        "excluded.wrap_up_us, closed_us = excluded.closed_us, queue_order = excluded.queue_order, "
        "customer_id = excluded.customer_id");
    if (!upsert.ok()) return upsert.status();
    upsert->Bind(1, ToColumn(c.id.value()))
        .Bind(2, static_cast<int64_t>(c.channel))
        .Bind(3, static_cast<int64_t>(c.direction))
        .Bind(4, static_cast<int64_t>(c.state))
        .BindText(5, c.queue)
        .BindText(6, c.agent)
        .Bind(7, c.priority)
        .BindText(8, AttributesToJson(c.attributes))
        .Bind(9, ToMicros(c.times.arrived))
        .Bind(10, ToMicros(c.times.queued))
        .Bind(11, ToMicros(c.times.offered))
        .Bind(12, ToMicros(c.times.answered))
        .Bind(13, ToMicros(c.times.wrap_up))
        .Bind(14, ToMicros(c.times.closed))
        .Bind(15, ToColumn(c.queue_order));
    if (c.customer.valid()) {
      upsert->Bind(16, ToColumn(c.customer.value()));
    } else {
      upsert->BindNull(16);
    }
    if (Status s = upsert->Run(); !s.ok()) return s;
  }
  for (const auto& [name, record] : group.agents) {
    const AgentRecord& a = *record;
    auto upsert = Prepare(
        "INSERT INTO agents (name, presence, reason, since_us) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (name) DO UPDATE SET presence = excluded.presence, reason = "
        "excluded.reason, since_us = excluded.since_us");
    if (!upsert.ok()) return upsert.status();
    Status s = upsert->BindText(1, a.name)
                   .Bind(2, static_cast<int64_t>(a.presence))
                   .BindText(3, a.reason)
                   .Bind(4, ToMicros(a.since))
                   .Run();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Recordings and media leg quality (issue 6)

Status SqliteStore::WriteRecordings(const JournalBatch& batch) {
  for (const auto& r : batch.recordings) {
    if (Status s = CheckRecording(r); !s.ok()) return s;
    auto insert = Prepare(
        "INSERT INTO recordings (id, contact_id, kind, path, bytes, duration_us, sha256, "
        "started_us, completed_us, queue, agent, customer_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, ?11, ?12)");
    if (!insert.ok()) return insert.status();
    insert->Bind(1, ToColumn(r.id))
        .Bind(2, ToColumn(r.contact.value()))
        .BindText(3, r.kind)
        .BindText(4, r.path)
        .Bind(5, ToColumn(r.bytes))
        .Bind(6, r.duration.count())
        .BindText(7, r.sha256)
        .Bind(8, ToMicros(r.started))
        .Bind(9, ToMicros(r.completed))
        .BindText(10, r.queue)
        .BindText(11, r.agent);
    if (r.customer.valid()) {
      insert->Bind(12, ToColumn(r.customer.value()));
    } else {
      insert->BindNull(12);
    }
    if (Status s = insert->Run(); !s.ok()) {
      if (s.message().find("UNIQUE") != std::string::npos) {
        return Conflict("recording " + std::to_string(r.id) + " already exists");
      }
      return s;
    }
  }
  for (const auto& l : batch.legs) {
    auto insert = Prepare(
        "INSERT INTO media_legs (contact_id, leg, agent, packets_received, packets_sent, "
        "packets_lost, packets_dropped, jitter_us, closed_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9)");
    if (!insert.ok()) return insert.status();
    Status s = insert->Bind(1, ToColumn(l.contact.value()))
                   .BindText(2, l.leg)
                   .BindText(3, l.agent)
                   .Bind(4, ToColumn(l.packets_received))
                   .Bind(5, ToColumn(l.packets_sent))
                   .Bind(6, ToColumn(l.packets_lost))
                   .Bind(7, ToColumn(l.packets_dropped))
                   .Bind(8, static_cast<int64_t>(std::llround(l.jitter_ms * 1000)))
                   .Bind(9, ToMicros(l.closed))
                   .Run();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

#define PARLEY_RECORDING_SELECT                                                               \
  "SELECT id, contact_id, kind, path, bytes, duration_us, sha256, started_us, completed_us, " \
  "queue, agent, customer_id FROM recordings "

Result<std::vector<RecordingRecord>> SqliteStore::LoadRecordings(Statement& select) {
  std::vector<RecordingRecord> out;
  for (;;) {
    auto row = select.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    RecordingRecord r;
    r.id = FromColumn(select.Int(0));
    r.contact = ContactId(FromColumn(select.Int(1)));
    r.kind = select.Text(2);
    r.path = select.Text(3);
    r.bytes = FromColumn(select.Int(4));
    r.duration = Duration(select.Int(5));
    r.sha256 = select.Text(6);
    r.started = FromMicros(select.Int(7));
    r.completed = FromMicros(select.Int(8));
    r.queue = select.Text(9);
    r.agent = select.Text(10);
    if (!select.IsNull(11)) r.customer = CustomerId(FromColumn(select.Int(11)));
    if (Status s = CheckRecording(r); !s.ok()) {
      return Internal("recordings row " + std::to_string(r.id) + ": " + s.message());
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<RecordingRecord>> SqliteStore::ListRecordings(const RecordingFilter& filter) {
  nlohmann::json agents = filter.agents;
  std::lock_guard lock(mu_);
  auto select = Prepare(PARLEY_RECORDING_SELECT
                        "WHERE id > ?1 AND (?2 = 0 OR started_us >= ?2) AND (?3 = 0 OR "
                        "started_us < ?3) AND (?4 = '' OR queue = ?4) AND (?5 = 0 OR "
                        "customer_id = ?5) AND (?6 = '[]' OR agent IN (SELECT value FROM "
                        "json_each(?6))) ORDER BY id LIMIT ?7");
  if (!select.ok()) return select.status();
  select->Bind(1, ToColumn(filter.after_id))
      .Bind(2, ToMicros(filter.from))
      .Bind(3, ToMicros(filter.to))
      .BindText(4, filter.queue)
      .Bind(5, ToColumn(filter.customer.value()))
      .BindText(6, agents.dump())
      .Bind(7, static_cast<int64_t>(std::min<size_t>(filter.limit, 1000000)));
  return LoadRecordings(*select);
}

Result<RecordingRecord> SqliteStore::GetRecording(uint64_t id) {
  std::lock_guard lock(mu_);
  auto select = Prepare(PARLEY_RECORDING_SELECT "WHERE id = ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, ToColumn(id));
  auto rows = LoadRecordings(*select);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound("no recording " + std::to_string(id));
  return std::move(rows->front());
}

Result<std::vector<RecordingRecord>> SqliteStore::RecordingsOfContact(ContactId contact) {
  std::lock_guard lock(mu_);
  auto select = Prepare(PARLEY_RECORDING_SELECT "WHERE contact_id = ?1 ORDER BY id");
  if (!select.ok()) return select.status();
  select->Bind(1, ToColumn(contact.value()));
  return LoadRecordings(*select);
}

Status SqliteStore::ReplaceSipBindings(const std::vector<std::string>& logins,
                                       const std::vector<ports::SipBindingRecord>& bindings) {
  std::lock_guard lock(mu_);
  return InTransaction([this](const char* sql) { return Exec(sql); },
                       [&]() -> Status {
                         for (const std::string& login : logins) {
                           auto erase = Prepare("DELETE FROM sip_bindings WHERE login = ?1");
                           if (!erase.ok()) return erase.status();
                           if (Status s = erase->BindText(1, login).Run(); !s.ok()) return s;
                         }
                         for (const auto& b : bindings) {
                           auto insert = Prepare(
                               "INSERT OR REPLACE INTO sip_bindings (login, contact, call_id, "
                               "cseq, expires_us, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
                           if (!insert.ok()) return insert.status();
                           Status s = insert->BindText(1, b.login)
                                          .BindText(2, b.contact)
                                          .BindText(3, b.call_id)
                                          .Bind(4, static_cast<int64_t>(b.cseq))
                                          .Bind(5, ToMicros(b.expires))
                                          .BindText(6, b.source)
                                          .Run();
                           if (!s.ok()) return s;
                         }
                         return Status::Ok();
                       });
}

Result<std::vector<ports::SipBindingRecord>> SqliteStore::LoadSipBindings(TimePoint now) {
  std::lock_guard lock(mu_);
  auto expired = Prepare("DELETE FROM sip_bindings WHERE expires_us <= ?1");
  if (!expired.ok()) return expired.status();
  if (Status s = expired->Bind(1, ToMicros(now)).Run(); !s.ok()) return s;
  auto select = Prepare(
      "SELECT login, contact, call_id, cseq, expires_us, source FROM sip_bindings "
      "ORDER BY login, contact");
  if (!select.ok()) return select.status();
  std::vector<ports::SipBindingRecord> out;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ports::SipBindingRecord b;
    b.login = select->Text(0);
    b.contact = select->Text(1);
    b.call_id = select->Text(2);
    b.cseq = static_cast<uint32_t>(select->Int(3));
    b.expires = FromMicros(select->Int(4));
    b.source = select->Text(5);
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<LegQualityRecord>> SqliteStore::LegQualityOf(ContactId contact) {
  std::lock_guard lock(mu_);
  auto select = Prepare(
      "SELECT leg, agent, packets_received, packets_sent, packets_lost, packets_dropped, "
      "jitter_us, closed_us FROM media_legs WHERE contact_id = ?1 ORDER BY rowid");
  if (!select.ok()) return select.status();
  select->Bind(1, ToColumn(contact.value()));
  std::vector<LegQualityRecord> out;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    LegQualityRecord l;
    l.contact = contact;
    l.leg = select->Text(0);
    l.agent = select->Text(1);
    l.packets_received = FromColumn(select->Int(2));
    l.packets_sent = FromColumn(select->Int(3));
    l.packets_lost = FromColumn(select->Int(4));
    l.packets_dropped = FromColumn(select->Int(5));
    l.jitter_ms = static_cast<double>(select->Int(6)) / 1000.0;
    l.closed = FromMicros(select->Int(7));
    out.push_back(std::move(l));
  }
  return out;
}

Result<uint64_t> SqliteStore::LastRecordingId() {
  std::lock_guard lock(mu_);
  // The high-water mark PurgeRecordings leaves keeps purged ids from being given again.
  auto stmt = Prepare(
      "SELECT MAX((SELECT COALESCE(MAX(id), 0) FROM recordings), COALESCE((SELECT last_id FROM "
      "id_high_water WHERE name = 'recordings'), 0))");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  return FromColumn(stmt->Int(0));
}

Result<std::vector<JournalEntry>> SqliteStore::ReadAfter(Sequence after, size_t limit) {
  std::lock_guard lock(mu_);
  auto select = Prepare(
      "SELECT seq, time_us, type, contact_id, agent, queue, channel, value, text, config_version "
      "FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  if (!select.ok()) return select.status();
  select->Bind(1, ToColumn(after))
      .Bind(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<JournalEntry> out;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const int64_t type = select->Int(2);
    const int64_t channel = select->Int(6);
    if (type < 0 || type >= kEventTypeCount || channel < 0 || channel >= kChannelCount) {
      return Internal(path_ + ": event " + std::to_string(select->Int(0)) +
                      " has an unknown type or channel");
    }
    JournalEntry entry;
    entry.seq = FromColumn(select->Int(0));
    entry.event.time = FromMicros(select->Int(1));
    entry.event.type = static_cast<EventType>(type);
    entry.event.contact = ContactId(FromColumn(select->Int(3)));
    entry.event.agent = static_cast<AgentIndex>(select->Int(4));
    entry.event.queue = static_cast<QueueIndex>(select->Int(5));
    entry.event.channel = static_cast<Channel>(channel);
    entry.event.value = select->Int(7);
    entry.event.text = select->Text(8);
    entry.config_version = FromColumn(select->Int(9));
    out.push_back(std::move(entry));
  }
  return out;
}

Result<Sequence> SqliteStore::LastSequence() {
  std::lock_guard lock(mu_);
  return last_seq_;
}

// ---------------------------------------------------------------------------------------------
// Contact and agent records

// The schema's partial indices and the purge name kClosed as the literal 5 (a bound parameter
// would keep SQLite from using a partial index).
static_assert(static_cast<int>(ContactState::kClosed) == 5);

#define PARLEY_CONTACT_SELECT                                                                 \
  "SELECT id, channel, direction, state, queue, agent, priority, attributes, arrived_us, "    \
  "queued_us, offered_us, answered_us, wrap_up_us, closed_us, queue_order, customer_id FROM " \
  "contacts "

Result<std::vector<ContactRecord>> SqliteStore::LoadContacts(const char* sql, int64_t arg,
                                                             int64_t limit) {
  auto select = Prepare(sql);
  if (!select.ok()) return select.status();
  select->Bind(1, arg).Bind(2, limit);
  std::vector<ContactRecord> out;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ContactRecord c;
    c.id = ContactId(FromColumn(select->Int(0)));
    const int64_t channel = select->Int(1), direction = select->Int(2), state = select->Int(3);
    if (channel < 0 || channel >= kChannelCount || direction < 0 || direction > 1 || state < 0 ||
        state > static_cast<int64_t>(ContactState::kClosed)) {
      return Internal(path_ + ": contact " + std::to_string(c.id.value()) +
                      " has an unknown channel, direction or state");
    }
    c.channel = static_cast<Channel>(channel);
    c.direction = static_cast<Direction>(direction);
    c.state = static_cast<ContactState>(state);
    c.queue = select->Text(4);
    c.agent = select->Text(5);
    c.priority = static_cast<int32_t>(select->Int(6));
    auto attributes = AttributesFromJson(select->Text(7));
    if (!attributes.ok()) {
      return Internal(path_ + ": contact " + std::to_string(c.id.value()) + ": " +
                      attributes.status().message());
    }
    c.attributes = std::move(attributes).value();
    c.times.arrived = FromMicros(select->Int(8));
    c.times.queued = FromMicros(select->Int(9));
    c.times.offered = FromMicros(select->Int(10));
    c.times.answered = FromMicros(select->Int(11));
    c.times.wrap_up = FromMicros(select->Int(12));
    c.times.closed = FromMicros(select->Int(13));
    c.queue_order = FromColumn(select->Int(14));
    if (!select->IsNull(15)) c.customer = CustomerId(FromColumn(select->Int(15)));
    out.push_back(std::move(c));
  }
  return out;
}

Result<RecoveryState> SqliteStore::LoadRecoveryState() {
  std::lock_guard lock(mu_);
  RecoveryState state;
  state.last_seq = last_seq_;
  auto contacts = LoadContacts(PARLEY_CONTACT_SELECT
                               "WHERE state <> 5 ORDER BY queue, queued_us, queue_order, id "
                               "LIMIT ?2",
                               0, -1);
  if (!contacts.ok()) return contacts.status();
  state.open_contacts = std::move(contacts).value();
  auto select = Prepare("SELECT name, presence, reason, since_us FROM agents ORDER BY name");
  if (!select.ok()) return select.status();
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const int64_t presence = select->Int(1);
    if (presence < 0 || presence > static_cast<int64_t>(Presence::kNotReady)) {
      return Internal(path_ + ": agent " + select->Text(0) + " has an unknown presence");
    }
    state.agents.push_back({.name = select->Text(0),
                            .presence = static_cast<Presence>(presence),
                            .reason = select->Text(2),
                            .since = FromMicros(select->Int(3))});
  }
  return state;
}

Result<ContactRecord> SqliteStore::GetContact(ContactId id) {
  std::lock_guard lock(mu_);
  auto contacts =
      LoadContacts(PARLEY_CONTACT_SELECT "WHERE id = ?1 LIMIT ?2", ToColumn(id.value()), 1);
  if (!contacts.ok()) return contacts.status();
  if (contacts->empty()) return NotFound("contact " + std::to_string(id.value()));
  return std::move(contacts->front());
}

Result<std::vector<CustomerContact>> SqliteStore::CustomerContacts(TimePoint from, TimePoint to) {
  std::lock_guard lock(mu_);
  auto select = Prepare(
      "SELECT id, customer_id, channel, direction, arrived_us FROM contacts "
      "WHERE customer_id IS NOT NULL AND arrived_us >= ?1 AND arrived_us < ?2 "
      "ORDER BY arrived_us, id");
  if (!select.ok()) return select.status();
  select->Bind(1, ToMicros(from)).Bind(2, ToMicros(to));
  std::vector<CustomerContact> out;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    CustomerContact c;
    c.id = ContactId(FromColumn(select->Int(0)));
    c.customer = CustomerId(FromColumn(select->Int(1)));
    const int64_t channel = select->Int(2), direction = select->Int(3);
    if (channel < 0 || channel >= kChannelCount || direction < 0 || direction > 1) {
      return Internal(path_ + ": contact " + std::to_string(c.id.value()) +
                      " has an unknown channel or direction");
    }
    c.channel = static_cast<Channel>(channel);
    c.direction = static_cast<Direction>(direction);
    c.arrived = FromMicros(select->Int(4));
    out.push_back(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Configuration documents

namespace {

template <typename Stmt>
ConfigDocument ConfigFromRow(const Stmt& s) {
  return {.version = FromColumn(s.Int(0)),
          .yaml = s.Text(1),
          .applied_by = s.Text(2),
          .applied_at = FromMicros(s.Int(3)),
          .comment = s.Text(4)};
}

}  // namespace

Result<uint64_t> SqliteStore::PutConfig(const ConfigDocument& doc, uint64_t expected_version) {
  std::lock_guard lock(mu_);
  uint64_t version = 0;
  Status s = InTransaction(
      [this](const char* sql) { return Exec(sql); },
      [&]() -> Status {
        auto current = Prepare("SELECT coalesce(max(version), 0) FROM config_documents");
        if (!current.ok()) return current.status();
        auto row = current->Step();
        if (!row.ok()) return row.status();
        const uint64_t at = FromColumn(current->Int(0));
        if (at != expected_version) {
          return Conflict("configuration is at version " + std::to_string(at) + ", not " +
                          std::to_string(expected_version) + "; reload and apply again");
        }
        version = at + 1;
        auto insert = Prepare(
            "INSERT INTO config_documents (version, yaml, applied_by, applied_us, comment) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!insert.ok()) return insert.status();
        return insert->Bind(1, ToColumn(version))
            .BindText(2, doc.yaml)
            .BindText(3, doc.applied_by)
            .Bind(4, ToMicros(doc.applied_at))
            .BindText(5, doc.comment)
            .Run();
      });
  if (!s.ok()) return s;
  return version;
}

Result<ConfigDocument> SqliteStore::CurrentConfig() {
  std::lock_guard lock(mu_);
  auto select = Prepare(
      "SELECT version, yaml, applied_by, applied_us, comment FROM config_documents "
      "ORDER BY version DESC LIMIT 1");
  if (!select.ok()) return select.status();
  auto row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return NotFound("no configuration has been applied yet");
  return ConfigFromRow(*select);
}

Result<std::vector<ConfigDocument>> SqliteStore::ConfigHistory(size_t limit, bool with_text) {
  std::lock_guard lock(mu_);
  auto select = Prepare(
      "SELECT version, CASE WHEN ?1 THEN yaml ELSE '' END, applied_by, applied_us, comment "
      "FROM config_documents ORDER BY version DESC LIMIT ?2");
  if (!select.ok()) return select.status();
  select->Bind(1, with_text ? 1 : 0)
      .Bind(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<ConfigDocument> out;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(ConfigFromRow(*select));
  }
  return out;
}

Result<ConfigDocument> SqliteStore::GetConfig(uint64_t version) {
  std::lock_guard lock(mu_);
  auto select = Prepare(
      "SELECT version, yaml, applied_by, applied_us, comment FROM config_documents "
      "WHERE version = ?1");
  if (!select.ok()) return select.status();
  auto row = select->Bind(1, ToColumn(version)).Step();
  if (!row.ok()) return row.status();
  if (!*row) return NotFound("configuration version " + std::to_string(version));
  return ConfigFromRow(*select);
}

// ---------------------------------------------------------------------------------------------
// Customers

Result<Customer> SqliteStore::LoadCustomer(CustomerId id) {
  auto select = Prepare("SELECT name, fields, created_us, updated_us FROM customers WHERE id = ?1");
  if (!select.ok()) return select.status();
  auto row = select->Bind(1, ToColumn(id.value())).Step();
  if (!row.ok()) return row.status();
  if (!*row) return NotFound("customer " + std::to_string(id.value()));
  Customer c;
  c.id = id;
  c.name = select->Text(0);
  c.fields_json = select->Text(1);
  c.created = FromMicros(select->Int(2));
  c.updated = FromMicros(select->Int(3));
  auto identities = Prepare(
      "SELECT channel, address FROM customer_identities WHERE customer_id = ?1 "
      "ORDER BY channel, address");
  if (!identities.ok()) return identities.status();
  identities->Bind(1, ToColumn(id.value()));
  for (;;) {
    auto r = identities->Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
    const int64_t channel = identities->Int(0);
    if (channel < 0 || channel >= kChannelCount) {
      return Internal(path_ + ": customer " + std::to_string(id.value()) +
                      " has an identity on an unknown channel");
    }
    c.identities.push_back({static_cast<Channel>(channel), identities->Text(1)});
  }
  auto tags = Prepare("SELECT tag FROM customer_tags WHERE customer_id = ?1 ORDER BY tag");
  if (!tags.ok()) return tags.status();
  tags->Bind(1, ToColumn(id.value()));
  for (;;) {
    auto r = tags->Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
    c.tags.push_back(tags->Text(0));
  }
  return c;
}

Status SqliteStore::CheckIdentitiesFree(const Customer& customer, CustomerId self) {
  for (const auto& identity : customer.identities) {
    auto select =
        Prepare("SELECT customer_id FROM customer_identities WHERE channel = ?1 AND address = ?2");
    if (!select.ok()) return select.status();
    auto row = select->Bind(1, static_cast<int64_t>(identity.channel))
                   .BindText(2, identity.address)
                   .Step();
    if (!row.ok()) return row.status();
    if (*row && FromColumn(select->Int(0)) != self.value()) {
      return Conflict("identity " + std::string(ChannelName(identity.channel)) + ":" +
                      identity.address + " already belongs to customer " +
                      std::to_string(select->Int(0)));
    }
  }
  return Status::Ok();
}

Status SqliteStore::WriteIdentitiesAndTags(const Customer& customer) {
  const int64_t id = ToColumn(customer.id.value());
  for (const char* sql : {"DELETE FROM customer_identities WHERE customer_id = ?1",
                          "DELETE FROM customer_tags WHERE customer_id = ?1"}) {
    auto del = Prepare(sql);
    if (!del.ok()) return del.status();
    if (Status s = del->Bind(1, id).Run(); !s.ok()) return s;
  }
  for (const auto& identity : customer.identities) {
    auto insert = Prepare(
        "INSERT INTO customer_identities (channel, address, customer_id) VALUES (?1, ?2, ?3)");
    if (!insert.ok()) return insert.status();
    Status s = insert->Bind(1, static_cast<int64_t>(identity.channel))
                   .BindText(2, identity.address)
                   .Bind(3, id)
                   .Run();
    if (!s.ok()) return s;
  }
  for (const auto& tag : customer.tags) {
    auto insert = Prepare("INSERT INTO customer_tags (customer_id, tag) VALUES (?1, ?2)");
    if (!insert.ok()) return insert.status();
    if (Status s = insert->Bind(1, id).BindText(2, tag).Run(); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<CustomerId> SqliteStore::CreateCustomer(const Customer& customer) {
  auto checked = CheckCustomer(customer);
  if (!checked.ok()) return checked.status();
  std::lock_guard lock(mu_);
  Status s = InTransaction(
      [this](const char* sql) { return Exec(sql); },
      [&]() -> Status {
        if (Status free = CheckIdentitiesFree(*checked, CustomerId()); !free.ok()) return free;
        // Ids come from a high-water mark that erasures never lower (a plain rowid would
        // reuse the largest id once that customer is erased).
        if (Status bump =
                Exec("UPDATE id_high_water SET last_id = MAX(last_id, "
                     "(SELECT COALESCE(MAX(id), 0) FROM customers)) + 1 WHERE name = 'customers'");
            !bump.ok()) {
          return bump;
        }
        auto next = QueryInt(db_, "SELECT last_id FROM id_high_water WHERE name = 'customers'");
        if (!next.ok()) return next.status();
        if (!next->has_value()) return Internal("id_high_water has no row for customers");
        auto insert = Prepare(
            "INSERT INTO customers (id, name, name_lower, fields, created_us, updated_us) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (!insert.ok()) return insert.status();
        Status r = insert->Bind(1, **next)
                       .BindText(2, checked->name)
                       .BindText(3, LowerAscii(checked->name))
                       .BindText(4, checked->fields_json)
                       .Bind(5, ToMicros(checked->created))
                       .Bind(6, ToMicros(checked->updated))
                       .Run();
        if (!r.ok()) return r;
        checked->id = CustomerId(FromColumn(**next));
        return WriteIdentitiesAndTags(*checked);
      });
  if (!s.ok()) return s;
  return checked->id;
}

Status SqliteStore::UpdateCustomer(const Customer& customer) {
  auto checked = CheckCustomer(customer);
  if (!checked.ok()) return checked.status();
  std::lock_guard lock(mu_);
  return InTransaction(
      [this](const char* sql) { return Exec(sql); },
      [&]() -> Status {
        auto update = Prepare(
            "UPDATE customers SET name = ?2, name_lower = ?3, fields = ?4, updated_us = ?5 "
            "WHERE id = ?1");
        if (!update.ok()) return update.status();
        Status r = update->Bind(1, ToColumn(customer.id.value()))
                       .BindText(2, checked->name)
                       .BindText(3, LowerAscii(checked->name))
                       .BindText(4, checked->fields_json)
                       .Bind(5, ToMicros(checked->updated))
                       .Run();
        if (!r.ok()) return r;
        if (sqlite3_changes(db_) == 0)
          return NotFound("customer " + std::to_string(customer.id.value()));
        if (Status free = CheckIdentitiesFree(*checked, customer.id); !free.ok()) return free;
        return WriteIdentitiesAndTags(*checked);
      });
}

Result<Customer> SqliteStore::GetCustomer(CustomerId id) {
  std::lock_guard lock(mu_);
  return LoadCustomer(id);
}

Result<Customer> SqliteStore::FindCustomerByIdentity(const CustomerIdentity& identity) {
  std::lock_guard lock(mu_);
  auto select =
      Prepare("SELECT customer_id FROM customer_identities WHERE channel = ?1 AND address = ?2");
  if (!select.ok()) return select.status();
  auto row =
      select->Bind(1, static_cast<int64_t>(identity.channel)).BindText(2, identity.address).Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return NotFound("no customer with identity " + std::string(ChannelName(identity.channel)) +
                    ":" + identity.address);
  }
  const CustomerId id(FromColumn(select->Int(0)));
  return LoadCustomer(id);
}

Result<std::vector<Customer>> SqliteStore::SearchCustomers(const std::string& prefix,
                                                           size_t limit) {
  std::lock_guard lock(mu_);
  // Prefix ranges rather than LIKE: they use the indices, and '%' and '_' stay literal.
  auto select = Prepare(
      "SELECT id FROM customers WHERE id IN ("
      "SELECT id FROM customers WHERE name_lower >= ?1 AND name_lower < ?2 "
      "UNION SELECT customer_id FROM customer_identities WHERE address >= ?3 AND address < ?4) "
      "ORDER BY name, id LIMIT ?5");
  if (!select.ok()) return select.status();
  const std::string lower = LowerAscii(prefix);
  select->BindText(1, lower)
      .BindText(2, PrefixEnd(lower))
      .BindText(3, prefix)
      .BindText(4, PrefixEnd(prefix))
      .Bind(5, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<CustomerId> ids;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ids.emplace_back(FromColumn(select->Int(0)));
  }
  std::vector<Customer> out;
  for (CustomerId id : ids) {
    auto c = LoadCustomer(id);
    if (!c.ok()) return c.status();
    out.push_back(std::move(c).value());
  }
  return out;
}

Result<uint64_t> SqliteStore::AddNote(const CustomerNote& note) {
  std::lock_guard lock(mu_);
  auto exists = Prepare("SELECT 1 FROM customers WHERE id = ?1");
  if (!exists.ok()) return exists.status();
  auto row = exists->Bind(1, ToColumn(note.customer.value())).Step();
  if (!row.ok()) return row.status();
  if (!*row) return NotFound("customer " + std::to_string(note.customer.value()));
  auto insert = Prepare(
      "INSERT INTO customer_notes (customer_id, at_us, author, text) VALUES (?1, ?2, ?3, ?4)");
  if (!insert.ok()) return insert.status();
  Status s = insert->Bind(1, ToColumn(note.customer.value()))
                 .Bind(2, ToMicros(note.at))
                 .BindText(3, note.author)
                 .BindText(4, note.text)
                 .Run();
  if (!s.ok()) return s;
  return FromColumn(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<CustomerNote>> SqliteStore::LoadNotes(CustomerId id) {
  auto exists = Prepare("SELECT 1 FROM customers WHERE id = ?1");
  if (!exists.ok()) return exists.status();
  auto found = exists->Bind(1, ToColumn(id.value())).Step();
  if (!found.ok()) return found.status();
  if (!*found) return NotFound("customer " + std::to_string(id.value()));
  auto select = Prepare(
      "SELECT id, at_us, author, text FROM customer_notes WHERE customer_id = ?1 "
      "ORDER BY at_us, id");
  if (!select.ok()) return select.status();
  select->Bind(1, ToColumn(id.value()));
  std::vector<CustomerNote> out;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({.id = FromColumn(select->Int(0)),
                   .customer = id,
                   .at = FromMicros(select->Int(1)),
                   .author = select->Text(2),
                   .text = select->Text(3)});
  }
  return out;
}

Result<std::vector<CustomerNote>> SqliteStore::Notes(CustomerId id) {
  std::lock_guard lock(mu_);
  return LoadNotes(id);
}

Result<std::vector<ContactRecord>> SqliteStore::Timeline(CustomerId id, size_t limit) {
  std::lock_guard lock(mu_);
  if (auto c = LoadCustomer(id); !c.ok()) return c.status();
  return LoadContacts(
      PARLEY_CONTACT_SELECT "WHERE customer_id = ?1 ORDER BY arrived_us DESC, id DESC LIMIT ?2",
      ToColumn(id.value()), static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
}

Result<CustomerExport> SqliteStore::ExportCustomer(CustomerId id) {
  std::lock_guard lock(mu_);
  CustomerExport out;
  auto customer = LoadCustomer(id);
  if (!customer.ok()) return customer.status();
  out.customer = std::move(customer).value();
  auto notes = LoadNotes(id);
  if (!notes.ok()) return notes.status();
  out.notes = std::move(notes).value();
  auto contacts =
      LoadContacts(PARLEY_CONTACT_SELECT "WHERE customer_id = ?1 ORDER BY arrived_us, id LIMIT ?2",
                   ToColumn(id.value()), -1);
  if (!contacts.ok()) return contacts.status();
  out.contacts = std::move(contacts).value();
  return out;
}

Result<std::vector<std::pair<CustomerIdentity, CustomerId>>> SqliteStore::AllIdentities() {
  std::lock_guard lock(mu_);
  auto select = Prepare(
      "SELECT channel, address, customer_id FROM customer_identities ORDER BY channel, address");
  if (!select.ok()) return select.status();
  std::vector<std::pair<CustomerIdentity, CustomerId>> out;
  for (;;) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    CustomerIdentity identity;
    identity.channel = static_cast<Channel>(select->Int(0));
    identity.address = select->Text(1);
    out.emplace_back(std::move(identity), CustomerId(FromColumn(select->Int(2))));
  }
  return out;
}

Status SqliteStore::EraseCustomer(CustomerId id) {
  std::lock_guard lock(mu_);
  return InTransaction(
      [this](const char* sql) { return Exec(sql); },
      [&]() -> Status {
        auto unlink = Prepare(
            "UPDATE contacts SET customer_id = NULL, attributes = '[]' WHERE customer_id = ?1");
        if (!unlink.ok()) return unlink.status();
        if (Status s = unlink->Bind(1, ToColumn(id.value())).Run(); !s.ok()) return s;
        // Identities, tags and notes go with the row (ON DELETE CASCADE).
        auto erase = Prepare("DELETE FROM customers WHERE id = ?1");
        if (!erase.ok()) return erase.status();
        if (Status s = erase->Bind(1, ToColumn(id.value())).Run(); !s.ok()) return s;
        if (sqlite3_changes(db_) == 0) return NotFound("customer " + std::to_string(id.value()));
        return Status::Ok();
      });
}

// ---------------------------------------------------------------------------------------------
// Retention

Result<uint64_t> SqliteStore::Purge(DataClass data_class, TimePoint cutoff) {
  std::lock_guard lock(mu_);
  const char* sql = nullptr;
  switch (data_class) {
    case DataClass::kEvents:
      sql = "DELETE FROM events WHERE time_us < ?1";
      break;
    case DataClass::kContactHistory:
      sql = "DELETE FROM contacts WHERE state = 5 AND closed_us < ?1";
      break;
    case DataClass::kAudit:
      sql = "DELETE FROM audit_log WHERE at_us < ?1";
      break;
  }
  if (sql == nullptr) return InvalidArgument("unknown data class");
  auto del = Prepare(sql);
  if (!del.ok()) return del.status();
  if (Status s = del->Bind(1, ToMicros(cutoff)).Run(); !s.ok()) return s;
  return static_cast<uint64_t>(sqlite3_changes64(db_));
}

Result<std::vector<RecordingRecord>> SqliteStore::PurgeRecordings(TimePoint cutoff) {
  std::lock_guard lock(mu_);
  std::vector<RecordingRecord> out;
  Status s = InTransaction(
      [this](const char* sql) { return Exec(sql); },
      [&]() -> Status {
        auto select = Prepare(PARLEY_RECORDING_SELECT "WHERE completed_us < ?1 ORDER BY id");
        if (!select.ok()) return select.status();
        select->Bind(1, ToMicros(cutoff));
        auto rows = LoadRecordings(*select);
        if (!rows.ok()) return rows.status();
        out = std::move(*rows);
        if (out.empty()) return Status::Ok();
        auto mark = Prepare(
            "INSERT INTO id_high_water (name, last_id) VALUES ('recordings', ?1) "
            "ON CONFLICT (name) DO UPDATE SET last_id = MAX(last_id, excluded.last_id)");
        if (!mark.ok()) return mark.status();
        if (Status m = mark->Bind(1, ToColumn(out.back().id)).Run(); !m.ok()) return m;
        auto del = Prepare("DELETE FROM recordings WHERE completed_us < ?1");
        if (!del.ok()) return del.status();
        return del->Bind(1, ToMicros(cutoff)).Run();
      });
  if (!s.ok()) return s;
  return out;
}

// ---------------------------------------------------------------------------------------------
// AuthStore and AuditSink

namespace {

std::string RolesToText(const std::vector<Role>& roles) {
  std::string out;
  for (Role r : roles) {
    if (!out.empty()) out += ',';
    out += RoleName(r);
  }
  return out;
}

Result<std::vector<Role>> RolesFromText(const std::string& text) {
  std::vector<Role> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    auto role = ParseRole(std::string_view(text).substr(start, comma - start));
    if (!role) return Internal("users: unknown role in '" + text + "'");
    out.push_back(*role);
    start = comma + 1;
  }
  return out;
}

}  // namespace

Status SqliteStore::PutUser(const ports::UserRecord& u) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      // An upsert, not INSERT OR REPLACE: replacing would delete the row (and its sessions and
      // tokens by cascade) and would silently drop another user holding the same login.
      "INSERT INTO users (id, login, display_name, roles, team, agent, disabled, "
      "password_hash, sip_realm, sip_ha1_md5, sip_ha1_sha256, created_us, updated_us) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
      "ON CONFLICT (id) DO UPDATE SET login = excluded.login, "
      "display_name = excluded.display_name, roles = excluded.roles, team = excluded.team, "
      "agent = excluded.agent, disabled = excluded.disabled, "
      "password_hash = excluded.password_hash, sip_realm = excluded.sip_realm, "
      "sip_ha1_md5 = excluded.sip_ha1_md5, sip_ha1_sha256 = excluded.sip_ha1_sha256, "
      "created_us = excluded.created_us, updated_us = excluded.updated_us");
  if (!stmt.ok()) return stmt.status();
  return stmt->Bind(1, ToColumn(u.id))
      .BindText(2, u.login)
      .BindText(3, u.display_name)
      .BindText(4, RolesToText(u.roles))
      .BindText(5, u.team)
      .BindText(6, u.agent)
      .Bind(7, u.disabled ? 1 : 0)
      .BindText(8, u.password_hash)
      .BindText(9, u.sip_realm)
      .BindText(10, u.sip_ha1_md5)
      .BindText(11, u.sip_ha1_sha256)
      .Bind(12, ToMicros(u.created))
      .Bind(13, ToMicros(u.updated))
      .Run();
}

Status SqliteStore::DeleteUser(uint64_t id) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare("DELETE FROM users WHERE id = ?1");
  if (!stmt.ok()) return stmt.status();
  return stmt->Bind(1, ToColumn(id)).Run();
}

Status SqliteStore::PutSession(const ports::SessionRecord& s) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "INSERT OR REPLACE INTO sessions (id_hash, user_id, created_us, last_seen_us, "
      "client_address) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!stmt.ok()) return stmt.status();
  return stmt->BindText(1, s.id_hash)
      .Bind(2, ToColumn(s.user_id))
      .Bind(3, ToMicros(s.created))
      .Bind(4, ToMicros(s.last_seen))
      .BindText(5, s.client_address)
      .Run();
}

Status SqliteStore::DeleteSession(const std::string& id_hash) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare("DELETE FROM sessions WHERE id_hash = ?1");
  if (!stmt.ok()) return stmt.status();
  return stmt->BindText(1, id_hash).Run();
}

Status SqliteStore::PutToken(const ports::TokenRecord& t) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "INSERT OR REPLACE INTO api_tokens (prefix, secret_hash, user_id, scope, description, "
      "created_us, expires_us, last_used_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, t.prefix)
      .BindText(2, t.secret_hash)
      .Bind(3, ToColumn(t.user_id))
      .Bind(4, static_cast<int64_t>(t.scope))
      .BindText(5, t.description)
      .Bind(6, ToMicros(t.created));
  if (t.expires) {
    stmt->Bind(7, ToMicros(*t.expires));
  } else {
    stmt->BindNull(7);
  }
  if (t.last_used) {
    stmt->Bind(8, ToMicros(*t.last_used));
  } else {
    stmt->BindNull(8);
  }
  return stmt->Run();
}

Status SqliteStore::DeleteToken(const std::string& prefix) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare("DELETE FROM api_tokens WHERE prefix = ?1");
  if (!stmt.ok()) return stmt.status();
  return stmt->BindText(1, prefix).Run();
}

Result<std::vector<ports::UserRecord>> SqliteStore::LoadUsers() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "SELECT id, login, display_name, roles, team, agent, disabled, password_hash, sip_realm, "
      "sip_ha1_md5, sip_ha1_sha256, created_us, updated_us FROM users ORDER BY id");
  if (!stmt.ok()) return stmt.status();
  std::vector<ports::UserRecord> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ports::UserRecord u;
    u.id = FromColumn(stmt->Int(0));
    u.login = stmt->Text(1);
    u.display_name = stmt->Text(2);
    auto roles = RolesFromText(stmt->Text(3));
    if (!roles.ok()) return roles.status();
    u.roles = std::move(*roles);
    u.team = stmt->Text(4);
    u.agent = stmt->Text(5);
    u.disabled = stmt->Int(6) != 0;
    u.password_hash = stmt->Text(7);
    u.sip_realm = stmt->Text(8);
    u.sip_ha1_md5 = stmt->Text(9);
    u.sip_ha1_sha256 = stmt->Text(10);
    u.created = FromMicros(stmt->Int(11));
    u.updated = FromMicros(stmt->Int(12));
    out.push_back(std::move(u));
  }
  return out;
}

Result<std::vector<ports::SessionRecord>> SqliteStore::LoadSessions() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "SELECT id_hash, user_id, created_us, last_seen_us, client_address FROM sessions "
      "ORDER BY id_hash");
  if (!stmt.ok()) return stmt.status();
  std::vector<ports::SessionRecord> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({stmt->Text(0), FromColumn(stmt->Int(1)), FromMicros(stmt->Int(2)),
                   FromMicros(stmt->Int(3)), stmt->Text(4)});
  }
  return out;
}

Result<std::vector<ports::TokenRecord>> SqliteStore::LoadTokens() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "SELECT prefix, secret_hash, user_id, scope, description, created_us, expires_us, "
      "last_used_us FROM api_tokens ORDER BY prefix");
  if (!stmt.ok()) return stmt.status();
  std::vector<ports::TokenRecord> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ports::TokenRecord t;
    t.prefix = stmt->Text(0);
    t.secret_hash = stmt->Text(1);
    t.user_id = FromColumn(stmt->Int(2));
    const int64_t scope = stmt->Int(3);
    if (scope < 0 || scope >= static_cast<int64_t>(kRoleCount)) {
      return Internal("api_tokens: unknown scope " + std::to_string(scope));
    }
    t.scope = static_cast<Role>(scope);
    t.description = stmt->Text(4);
    t.created = FromMicros(stmt->Int(5));
    if (!stmt->IsNull(6)) t.expires = FromMicros(stmt->Int(6));
    if (!stmt->IsNull(7)) t.last_used = FromMicros(stmt->Int(7));
    out.push_back(std::move(t));
  }
  return out;
}

Status SqliteStore::AppendAudit(const ports::AuditRecord& a) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "INSERT INTO audit_log (sequence, at_us, actor, action, target, outcome, detail) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!stmt.ok()) return stmt.status();
  return stmt->Bind(1, ToColumn(a.sequence))
      .Bind(2, ToMicros(a.at))
      .BindText(3, a.actor)
      .BindText(4, a.action)
      .BindText(5, a.target)
      .Bind(6, static_cast<int64_t>(a.outcome))
      .BindText(7, a.detail)
      .Run();
}

Result<std::vector<ports::AuditRecord>> SqliteStore::ReadAudit(uint64_t after, size_t limit) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(
      "SELECT sequence, at_us, actor, action, target, outcome, detail FROM audit_log "
      "WHERE sequence > ?1 ORDER BY sequence LIMIT ?2");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, ToColumn(after)).Bind(2, static_cast<int64_t>(limit));
  std::vector<ports::AuditRecord> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const int64_t outcome = stmt->Int(5);
    if (outcome < 0 || outcome > static_cast<int64_t>(ports::AuditOutcome::kFailed)) {
      return Internal("audit_log: unknown outcome " + std::to_string(outcome));
    }
    out.push_back({FromColumn(stmt->Int(0)), FromMicros(stmt->Int(1)), stmt->Text(2), stmt->Text(3),
                   stmt->Text(4), static_cast<ports::AuditOutcome>(outcome), stmt->Text(6)});
  }
  return out;
}

Result<uint64_t> SqliteStore::LastAuditSequence() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare("SELECT COALESCE(MAX(sequence), 0) FROM audit_log");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  return FromColumn(stmt->Int(0));
}

// ---------------------------------------------------------------------------------------------
// Webhook outbox

#define PARLEY_DELIVERY_SELECT                                                                  \
  "SELECT id, webhook, url, event_seq, body, state, attempts, created_us, next_us, last_error " \
  "FROM webhook_deliveries "

Result<std::vector<WebhookDelivery>> SqliteStore::LoadDeliveries(Statement& select) {
  std::vector<WebhookDelivery> out;
  for (;;) {
    auto row = select.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const int64_t state = select.Int(5);
    if (state < 0 || state > static_cast<int64_t>(DeliveryState::kDead)) {
      return Internal("webhook_deliveries row " + std::to_string(select.Int(0)) + ": bad state " +
                      std::to_string(state));
    }
    out.push_back({.id = FromColumn(select.Int(0)),
                   .webhook = select.Text(1),
                   .url = select.Text(2),
                   .event_seq = FromColumn(select.Int(3)),
                   .body = select.Text(4),
                   .state = static_cast<DeliveryState>(state),
                   .attempts = static_cast<int32_t>(select.Int(6)),
                   .created = FromMicros(select.Int(7)),
                   .next_attempt = FromMicros(select.Int(8)),
                   .last_error = select.Text(9)});
  }
  return out;
}

Result<uint64_t> SqliteStore::EnqueueDelivery(const WebhookDelivery& delivery) {
  if (delivery.webhook.empty() || delivery.url.empty()) {
    return InvalidArgument("webhook delivery: webhook and url must not be empty");
  }
  std::lock_guard lock(mu_);
  auto insert = Prepare(
      "INSERT INTO webhook_deliveries (webhook, url, event_seq, body, state, attempts, "
      "created_us, next_us, last_error) VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, ?6, '')");
  if (!insert.ok()) return insert.status();
  Status s = insert->BindText(1, delivery.webhook)
                 .BindText(2, delivery.url)
                 .Bind(3, ToColumn(delivery.event_seq))
                 .BindBlob(4, delivery.body)
                 .Bind(5, ToMicros(delivery.created))
                 .Bind(6, ToMicros(delivery.next_attempt))
                 .Run();
  if (s.code() == StatusCode::kConflict) {
    return Conflict("webhook " + delivery.webhook + " already has a delivery of event " +
                    std::to_string(delivery.event_seq));
  }
  if (!s.ok()) return s;
  return FromColumn(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<WebhookDelivery>> SqliteStore::ClaimDueDeliveries(TimePoint now,
                                                                     TimePoint lease_until,
                                                                     size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<WebhookDelivery> out;
  Status s = InTransaction(
      [this](const char* sql) { return Exec(sql); },
      [&]() -> Status {
        auto select = Prepare(PARLEY_DELIVERY_SELECT
                              "WHERE state = 0 AND next_us <= ?1 ORDER BY next_us, id LIMIT ?2");
        if (!select.ok()) return select.status();
        select->Bind(1, ToMicros(now))
            .Bind(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
        auto due = LoadDeliveries(*select);
        if (!due.ok()) return due.status();
        for (WebhookDelivery& d : *due) {
          // A fresh Statement per row: the previous one reset the cached statement when it went.
          auto lease = Prepare("UPDATE webhook_deliveries SET next_us = ?2 WHERE id = ?1");
          if (!lease.ok()) return lease.status();
          if (Status u = lease->Bind(1, ToColumn(d.id)).Bind(2, ToMicros(lease_until)).Run();
              !u.ok()) {
            return u;
          }
          d.next_attempt = lease_until;
        }
        out = std::move(due).value();
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}

Status SqliteStore::UpdateDelivery(uint64_t id, DeliveryState from, DeliveryState to,
                                   int32_t attempts, TimePoint next, const std::string& error) {
  auto update = Prepare(
      "UPDATE webhook_deliveries SET state = ?3, attempts = ?4, next_us = ?5, last_error = ?6 "
      "WHERE id = ?1 AND state = ?2");
  if (!update.ok()) return update.status();
  Status s = update->Bind(1, ToColumn(id))
                 .Bind(2, static_cast<int64_t>(from))
                 .Bind(3, static_cast<int64_t>(to))
                 .Bind(4, attempts)
                 .Bind(5, ToMicros(next))
                 .BindText(6, error)
                 .Run();
  if (!s.ok()) return s;
  if (sqlite3_changes(db_) == 0) {
    return NotFound(std::string(from == DeliveryState::kDead ? "dead" : "pending") +
                    " webhook delivery " + std::to_string(id));
  }
  return Status::Ok();
}

Status SqliteStore::MarkDelivered(uint64_t id, int32_t attempts, TimePoint at) {
  std::lock_guard lock(mu_);
  return UpdateDelivery(id, DeliveryState::kPending, DeliveryState::kDelivered, attempts, at, "");
}

Status SqliteStore::RescheduleDelivery(uint64_t id, int32_t attempts, TimePoint next_attempt,
                                       const std::string& error) {
  std::lock_guard lock(mu_);
  return UpdateDelivery(id, DeliveryState::kPending, DeliveryState::kPending, attempts,
                        next_attempt, error);
}

Status SqliteStore::MarkDeliveryDead(uint64_t id, int32_t attempts, TimePoint at,
                                     const std::string& error) {
  std::lock_guard lock(mu_);
  return UpdateDelivery(id, DeliveryState::kPending, DeliveryState::kDead, attempts, at, error);
}

Result<std::vector<WebhookDelivery>> SqliteStore::DeadDeliveries(size_t limit) {
  std::lock_guard lock(mu_);
  auto select = Prepare(PARLEY_DELIVERY_SELECT "WHERE state = 2 ORDER BY next_us, id LIMIT ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  return LoadDeliveries(*select);
}

Status SqliteStore::RetryDeadDelivery(uint64_t id, TimePoint at) {
  std::lock_guard lock(mu_);
  auto current = Prepare("SELECT last_error FROM webhook_deliveries WHERE id = ?1 AND state = 2");
  if (!current.ok()) return current.status();
  auto row = current->Bind(1, ToColumn(id)).Step();
  if (!row.ok()) return row.status();
  if (!*row) return NotFound("dead webhook delivery " + std::to_string(id));
  const std::string error = current->Text(0);
  return UpdateDelivery(id, DeliveryState::kDead, DeliveryState::kPending, 0, at, error);
}

Result<WebhookDelivery> SqliteStore::GetDelivery(uint64_t id) {
  std::lock_guard lock(mu_);
  auto select = Prepare(PARLEY_DELIVERY_SELECT "WHERE id = ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, ToColumn(id));
  auto rows = LoadDeliveries(*select);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound("webhook delivery " + std::to_string(id));
  return std::move(rows->front());
}

Result<uint64_t> SqliteStore::PurgeDeliveries(TimePoint cutoff) {
  std::lock_guard lock(mu_);
  auto del = Prepare("DELETE FROM webhook_deliveries WHERE state <> 0 AND next_us < ?1");
  if (!del.ok()) return del.status();
  if (Status s = del->Bind(1, ToMicros(cutoff)).Run(); !s.ok()) return s;
  return static_cast<uint64_t>(sqlite3_changes64(db_));
}

}  // namespace parley::store
