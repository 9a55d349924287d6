#include "app/data.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <tuple>
#include <vector>

#include "analytics/contact_export.h"
#include "analytics/interval_report.h"
#include "analytics/queue_log.h"
#include "app/validate.h"
#include "auth/password.h"
#include "auth/users.h"
#include "base/log.h"
#include "base/text.h"
#include "config/document.h"
#include "runtime/system_clock.h"
#include "store/sqlite_store.h"

namespace parley::app {

std::string DatabasePath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / kDatabaseFile).string();
}

Result<ports::StorePtr> OpenDataStore(const std::string& data_dir, bool create,
                                      Duration group_window) {
  std::error_code ec;
  if (create) {
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return Unavailable("cannot create data directory " + data_dir + ": " + ec.message());
  } else if (!std::filesystem::exists(DatabasePath(data_dir), ec)) {
    return NotFound("no Parley data in " + data_dir + " (expected " + DatabasePath(data_dir) +
                    "; start `parley serve --data " + data_dir + "` first)");
  }
  store::SqliteStore::Options options;
  options.create_if_missing = create;
  options.group_window = group_window;
  auto opened = store::SqliteStore::Open(DatabasePath(data_dir), options);
  if (!opened.ok()) return opened.status();
  return ports::StorePtr(std::move(*opened));
}

namespace {

// The store of an existing data directory, or nullptr after saying why on `err`.
ports::StorePtr OpenExistingStore(const std::string& data_dir, std::FILE* err) {
  auto store = OpenDataStore(data_dir, /*create=*/false);
  if (!store.ok()) {
    std::fprintf(err, "%s\n", store.status().message().c_str());
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace

Result<std::shared_ptr<const config::Config>> ParseStoredConfig(const ports::ConfigDocument& doc) {
  std::vector<config::ConfigError> errors;
  auto parsed = config::ParseConfigText(
      doc.yaml, "stored configuration v" + std::to_string(doc.version), {}, &errors);
  if (!parsed.ok()) {
    return Internal("stored configuration v" + std::to_string(doc.version) +
                    " no longer validates: " +
                    (errors.empty() ? parsed.status().message() : errors[0].ToString()));
  }
  return *parsed;
}

Result<ports::ConfigApplyOutcome> ApplyConfigDocument(ports::ConfigDocuments& store,
                                                      const ports::ConfigApplyRequest& request,
                                                      const std::string& source) {
  ports::ConfigApplyOutcome outcome;
  outcome.yaml = request.yaml;
  std::vector<config::ConfigError> errors;
  if (auto checked = CheckConfigText(request.yaml, source, &errors); !checked.ok()) {
    for (auto& e : errors) outcome.problems.push_back({e.line, e.column, std::move(e.message), ""});
    if (outcome.problems.empty())
      outcome.problems.push_back({0, 0, checked.status().message(), ""});
    return outcome;
  }
  auto current = store.CurrentConfig();
  std::string before;
  uint64_t current_version = 0;
  if (current.ok()) {
    current_version = current->version;
    before = current->yaml;
  } else if (current.status().code() != StatusCode::kNotFound) {
    return current.status();
  }
  outcome.version = current_version;
  if (request.expected_version != current_version) {
    return Conflict("the configuration changed: version " + std::to_string(current_version) +
                    " is current, the edit was based on version " +
                    std::to_string(request.expected_version) + "; reload it and edit again");
  }
  auto changes = config::DiffConfigDocuments(before, request.yaml);
  if (!changes.ok()) return changes.status();
  for (auto& c : *changes) {
    outcome.changes.push_back({std::move(c.section), std::move(c.item), std::move(c.change)});
  }
  if (outcome.changes.empty() || request.dry_run) return outcome;
  ports::ConfigDocument doc;
  doc.yaml = request.yaml;
  doc.applied_by = request.applied_by;
  doc.comment = request.comment;
  doc.applied_at = runtime::SystemClock().Now();
  auto version = store.PutConfig(doc, current_version);
  if (!version.ok()) return version.status();
  outcome.version = *version;
  outcome.applied = true;
  return outcome;
}

int RunConfigApply(const ApplyOptions& options, std::FILE* out, std::FILE* err) {
  // Validate the files people edit first, so errors name them.
  auto checked = LoadCheckedConfig(options.file, err);
  if (!checked.ok()) {
    std::fprintf(err, "%s: not applied; the configuration is unchanged\n", options.file.c_str());
    return 1;
  }
  std::vector<config::ConfigError> errors;
  auto flat = config::FlattenConfigFile(options.file, &errors);
  if (!flat.ok()) {
    for (const auto& e : errors) std::fprintf(err, "%s\n", e.ToString().c_str());
    return 1;
  }
  auto store = OpenExistingStore(options.data_dir, err);
  if (!store) return 1;
  ports::ConfigApplyRequest request;
  request.yaml = *flat;
  request.applied_by = options.applied_by;
  request.comment =
      options.comment.empty() ? "parley config apply " + options.file : options.comment;
  request.dry_run = options.dry_run;
  if (auto current = store->CurrentConfig(); current.ok()) {
    request.expected_version = current->version;
  } else if (current.status().code() != StatusCode::kNotFound) {
    std::fprintf(err, "%s\n", current.status().message().c_str());
    return 1;
  }
  auto outcome = ApplyConfigDocument(*store, request, options.file);
  if (!outcome.ok()) {
    std::fprintf(err, "not applied: %s\n", outcome.status().message().c_str());
    return 1;
  }
  for (const auto& p : outcome->problems) {
    std::fprintf(err, "%s:%d:%d: %s\n", options.file.c_str(), p.line, p.column, p.message.c_str());
  }
  if (!outcome->problems.empty()) return 1;
  if (outcome->changes.empty()) {
    std::fprintf(out, "no changes: the configuration is already version %llu\n",
                 static_cast<unsigned long long>(outcome->version));
    return 0;
  }
  std::vector<config::ConfigChange> changes;
  for (const auto& c : outcome->changes) changes.push_back({c.section, c.item, c.change});
  std::fputs(config::FormatConfigChanges(changes).c_str(), out);
  if (options.dry_run) {
    std::fprintf(out, "dry run: %zu change(s) not applied\n", changes.size());
    return 0;
  }
  std::fprintf(out, "applied: configuration version %llu (%zu change(s))\n",
               static_cast<unsigned long long>(outcome->version), changes.size());
  return 0;
}

int RunConfigExport(const std::string& data_dir, std::FILE* out, std::FILE* err) {
  auto store = OpenExistingStore(data_dir, err);
  if (!store) return 1;
  auto current = store->CurrentConfig();
  if (!current.ok()) {
    std::fprintf(err, "%s\n",
                 current.status().code() == StatusCode::kNotFound
                     ? "no configuration has been applied yet"
                     : current.status().message().c_str());
    return 1;
  }
  std::fprintf(out, "# Parley configuration version %llu, applied by %s\n%s",
               static_cast<unsigned long long>(current->version), current->applied_by.c_str(),
               current->yaml.c_str());
  return 0;
}

int RunBackup(const std::string& data_dir, const std::string& dest_dir, std::FILE* out,
              std::FILE* err) {
  const std::string source = DatabasePath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(source, ec)) {
    std::fprintf(err, "no Parley data in %s (expected %s)\n", data_dir.c_str(), source.c_str());
    return 1;
  }
  std::filesystem::create_directories(dest_dir, ec);
  if (ec) {
    std::fprintf(err, "cannot create %s: %s\n", dest_dir.c_str(), ec.message().c_str());
    return 1;
  }
  const std::string dest = DatabasePath(dest_dir);
  if (std::filesystem::exists(dest, ec)) {
    std::fprintf(err, "%s already exists; choose an empty directory\n", dest.c_str());
    return 1;
  }
  if (Status s = store::SqliteStore::BackupFile(source, dest); !s.ok()) {
    std::fprintf(err, "backup failed: %s\n", s.message().c_str());
    return 1;
  }
  std::fprintf(out, "backed up %s to %s\n", source.c_str(), dest.c_str());
  return 0;
}

int RunExport(const ExportOptions& options, std::FILE* out, std::FILE* err) {
  if (options.what != "contacts" && options.what != "queue-log" && options.what != "intervals") {
    std::fprintf(err, "export: unknown kind '%s'; expected contacts, queue-log or intervals\n",
                 options.what.c_str());
    return 1;
  }
  std::optional<TimePoint> from, to;
  for (auto [text, slot, flag] :
       {std::tuple{&options.from, &from, "--from"}, std::tuple{&options.to, &to, "--to"}}) {
    if (text->empty()) continue;
    *slot = ParseIsoDateTime(*text);
    if (!*slot) {
      std::fprintf(err, "export: %s '%s' is not an ISO 8601 time such as 2026-12-01T00:00:00Z\n",
                   flag, text->c_str());
      return 1;
    }
  }
  auto store = OpenExistingStore(options.data_dir, err);
  if (!store) return 1;
  auto current = store->CurrentConfig();
  if (!current.ok()) {
    std::fprintf(err, "export: %s\n", current.status().message().c_str());
    return 1;
  }
  auto config = ParseStoredConfig(*current);
  if (!config.ok()) {
    std::fprintf(err, "export: %s\n", config.status().message().c_str());
    return 1;
  }
  // The journal in pages; events outside [from, to) are left out.
  std::vector<Event> events;
  ports::Sequence after = 0;
  TimePoint last{};
  while (true) {
    auto page = store->ReadAfter(after, 10000);
    if (!page.ok()) {
      std::fprintf(err, "export: reading the journal: %s\n", page.status().message().c_str());
      return 1;
    }
    if (page->empty()) break;
    for (auto& entry : *page) {
      after = entry.seq;
      if (from && entry.event.time < *from) continue;
      if (to && entry.event.time >= *to) continue;
      last = std::max(last, entry.event.time);
      events.push_back(std::move(entry.event));
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time < b.time; });
  const ExportNames names = ExportNamesFrom((*config)->routing);
  if (options.what == "contacts") {
    std::fputs(WriteContactCsv(ContactFacts(events), names).c_str(), out);
  } else if (options.what == "queue-log") {
    std::fputs(WriteQueueLog(QueueLogLines(events, names)).c_str(), out);
  } else {
    KpiOptions kpi;
    kpi.interval = std::chrono::minutes(options.interval_minutes);
    for (const auto& q : (*config)->routing.queues) {
      kpi.queue_service_level_targets.push_back(q.service_level_threshold);
    }
    auto rows = QueueIntervalReport(events, kpi, to ? *to - Duration(1) : last);
    if (!rows.ok()) {
      std::fprintf(err, "export: %s\n", rows.status().message().c_str());
      return 1;
    }
    std::fputs(WriteIntervalCsv(*rows, names).c_str(), out);
  }
  return 0;
}

int RunSipPassword(const std::string& data_dir, const std::string& login, std::FILE* in,
                   std::FILE* out, std::FILE* err) {
  auto store = OpenDataStore(data_dir, /*create=*/false);
  if (!store.ok()) {
    std::fprintf(err, "%s: %s\n", data_dir.c_str(), store.status().message().c_str());
    return 1;
  }
  std::string realm = config::VoiceDef{}.realm;
  if (auto current = (*store)->CurrentConfig(); current.ok()) {
    if (auto parsed = ParseStoredConfig(*current); parsed.ok()) realm = (*parsed)->voice.realm;
  }
  auth::PasswordHasher hasher;
  auth::UserDirectory users(hasher, store->get());
  if (Status s = users.Load(); !s.ok()) {
    std::fprintf(err, "loading users: %s\n", s.message().c_str());
    return 1;
  }
  auto user = users.FindByLogin(login);
  if (!user) {
    std::fprintf(err, "no user '%s' in %s\n", login.c_str(), data_dir.c_str());
    return 1;
  }
  char line[1024];
  if (std::fgets(line, sizeof line, in) == nullptr) {
    std::fprintf(err, "expected the SIP password on standard input\n");
    return 1;
  }
  std::string password = line;
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (Status s = users.SetSipPassword(user->id, realm, password, runtime::SystemClock().Now());
      !s.ok()) {
    std::fprintf(err, "%s\n", s.message().c_str());
    return 1;
  }
  std::fprintf(out, "SIP password of %s set for realm %s\n", login.c_str(), realm.c_str());
  return 0;
}

Result<uint64_t> PurgeRecordings(ports::Store& store, TimePoint cutoff) {
  auto purged = store.PurgeRecordings(cutoff);
  if (!purged.ok()) return purged.status();
  for (const auto& r : *purged) {
    std::error_code ec;
    std::filesystem::remove(r.path, ec);
    if (ec) {
      log::Warn("retention", "cannot delete a purged recording's file: " + ec.message(),
                {{"recording", r.id}, {"path", r.path}});
    }
  }
  return static_cast<uint64_t>(purged->size());
}

}  // namespace parley::app
