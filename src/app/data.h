#pragma once
// A server's data directory and the commands that work on it without the server:
// `parley config apply`, `parley config export` and `parley backup`. The data directory holds one
// SQLite database (`parley.db`): the journal, the current and past configurations, customers,
// users and the audit log (docs/storage.md). Each command works while a server is running on the
// same directory (SQLite WAL); a running server picks up an applied configuration within seconds.

#include <cstdio>
#include <memory>
#include <string>

#include "base/status.h"
#include "base/time.h"
#include "config/config.h"
#include "ports/administration.h"
#include "ports/store.h"

namespace parley::app {

inline constexpr const char* kDatabaseFile = "parley.db";

std::string DatabasePath(const std::string& data_dir);

// Opens the store of `data_dir`, creating the directory and the database when `create`;
// `group_window` is SqliteStore::Options::group_window.
Result<ports::StorePtr> OpenDataStore(const std::string& data_dir, bool create,
                                      Duration group_window = Duration::zero());

// The journal's group window of `parley serve` (docs/storage.md, "Group commit"): a step's
// effects wait at most this long for their commit under load, and one commit serves every step
// of the window.
inline constexpr Duration kServeGroupWindow = Seconds(0.010);

// Parses a stored configuration document (validated when it was applied).
Result<std::shared_ptr<const config::Config>> ParseStoredConfig(const ports::ConfigDocument& doc);

// Applies one configuration document, the path shared by `parley config apply` and the API
// (ports::ConfigAdministration): validates it as `parley validate` does (problems listed in the
// outcome, nothing changed), compares it with the current version, and unless it changes nothing
// or is a dry run stores it as the next version if `expected_version` is still current
// (kConflict otherwise, naming both versions). `source` names the document in problems.
Result<ports::ConfigApplyOutcome> ApplyConfigDocument(ports::ConfigDocuments& store,
                                                      const ports::ConfigApplyRequest& request,
                                                      const std::string& source);

// `parley config apply FILE`: validates FILE (errors as file:line:column: message, exit 1,
// nothing changed), prints what changes against the current configuration, and stores it as the
// new version unless `dry_run`. All or nothing: a concurrent apply makes this one fail.
struct ApplyOptions {
  std::string data_dir = "data";
  std::string file;
  bool dry_run = false;
  std::string applied_by = "cli";
  std::string comment;
};
int RunConfigApply(const ApplyOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

// `parley config export`: the current configuration as one YAML document on `out`.
int RunConfigExport(const std::string& data_dir, std::FILE* out = stdout, std::FILE* err = stderr);

// Retention of recordings (`retention.recordings`): deletes the recordings completed before
// `cutoff` from the store, then their audio files (a file already gone is not an error). Returns
// how many recordings were removed; files that could not be deleted are logged (a warning).
Result<uint64_t> PurgeRecordings(ports::Store& store, TimePoint cutoff);

// `parley backup DEST`: a consistent copy of the data directory's database in DEST (created if
// missing), taken with SQLite's online backup so a running server need not stop. Restore by
// starting a server with `--data DEST`.
int RunBackup(const std::string& data_dir, const std::string& dest_dir, std::FILE* out = stdout,
              std::FILE* err = stderr);

// `parley export contacts|queue-log|intervals`: the journal of a data directory as a contact
// record CSV (one row per contact and queue segment, every duration), an Asterisk-compatible
// queue_log, or an interval report CSV (docs/metrics.md, "Exports"). Names come from the current
// configuration. `from`/`to` (ISO 8601, "" = unbounded) select events by time.
struct ExportOptions {
  std::string data_dir = "data";
  std::string what;  // contacts, queue-log, intervals
  std::string from;
  std::string to;
  int interval_minutes = 30;  // intervals: 15, 30 or 60
};
int RunExport(const ExportOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

// `parley user sip-password LOGIN`: sets the user's SIP digest password (separate from the web
// password; stored only as HA1 for MD5 and SHA-256 in the current configuration's voice realm),
// read as the first line of `in`. A running server reads users at start: restart it (or set the
// password before starting it) for the new credentials to be used.
int RunSipPassword(const std::string& data_dir, const std::string& login, std::FILE* in = stdin,
                   std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace parley::app
