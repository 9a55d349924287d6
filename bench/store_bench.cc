// store_bench: journal appends per second on SqliteStore, group commit against one transaction
// per event, in the same run and on the same disk. Prints one JSON document:
// {"events": N, "runs": [{mode, events, batches, transactions, seconds, events_per_second}, ...],
//  "group_commit_speedup": x}.
//
// - per_event_transaction: one synchronous Append of one event at a time (each waits for its own
//   commit and fsync), i.e. what the journal would cost without batching.
// - group_commit: the engine's path: AppendAsync of one event at a time with up to 1,024 in
//   flight; the writer commits whatever is queued in one transaction.
//
//   store_bench [--quick] [--dir DIR]   (DIR: where the database files go; default a temp dir)

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "store/sqlite_store.h"

namespace parley {
namespace {

using SteadyClock = std::chrono::steady_clock;

Event BenchEvent(uint64_t i) {
  Event e;
  e.type = EventType::kContactQueued;
  e.time = FromMicros(static_cast<int64_t>(i));
  e.contact = ContactId(i + 1);
  e.queue = 1;
  e.channel = Channel::kChat;
  return e;
}

nlohmann::json PerEventTransactions(const std::string& path, uint64_t events) {
  auto store = store::SqliteStore::Open(path);
  if (!store.ok()) return {{"error", store.status().ToString()}};
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < events; ++i) {
    ports::JournalBatch batch;
    batch.events.push_back(BenchEvent(i));
    if (auto r = (*store)->Append(std::move(batch)); !r.ok()) {
      return {{"error", r.status().ToString()}};
    }
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  return {{"mode", "per_event_transaction"},
          {"events", events},
          {"batches", events},
          {"transactions", (*store)->group_commits()},
          {"seconds", seconds},
          {"events_per_second", static_cast<double>(events) / seconds}};
}

nlohmann::json GroupCommit(const std::string& path, uint64_t events) {
  auto store = store::SqliteStore::Open(path);
  if (!store.ok()) return {{"error", store.status().ToString()}};
  std::mutex mu;
  std::condition_variable cv;
  uint64_t in_flight = 0;
  uint64_t done = 0;
  bool failed = false;
  const auto start = SteadyClock::now();
  for (uint64_t i = 0; i < events; ++i) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < 1024; });
      ++in_flight;
    }
    ports::JournalBatch batch;
    batch.events.push_back(BenchEvent(i));
    (*store)->AppendAsync(std::move(batch), [&](Result<ports::SequenceRange> r) {
      std::lock_guard lock(mu);
      failed = failed || !r.ok();
      --in_flight;
      ++done;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == events; });
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (failed) return {{"error", "an append failed"}};
  return {{"mode", "group_commit"}, {"events", events},
          {"batches", events},      {"transactions", (*store)->group_commits()},
          {"seconds", seconds},     {"events_per_second", static_cast<double>(events) / seconds}};
}

}  // namespace
}  // namespace parley

int main(int argc, char** argv) {
  bool quick = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: store_bench [--quick] [--dir DIR]\n");
      return 2;
    }
  }
  bool remove_dir = false;
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "store-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return 1;
    dir = pattern;
    remove_dir = true;
  }
  // One transaction per event is bounded by fsyncs per second: fewer events keep it short.
  const uint64_t per_event = quick ? 200 : 2000;
  const uint64_t grouped = quick ? 20000 : 200000;
  nlohmann::json runs = nlohmann::json::array();
  runs.push_back(parley::PerEventTransactions(dir + "/per_event.db", per_event));
  runs.push_back(parley::GroupCommit(dir + "/group.db", grouped));
  nlohmann::json doc = {{"store", "sqlite"}, {"synchronous", "FULL"}, {"runs", runs}};
  if (runs[0].contains("events_per_second") && runs[1].contains("events_per_second")) {
    doc["group_commit_speedup"] =
        runs[1]["events_per_second"].get<double>() / runs[0]["events_per_second"].get<double>();
  }
  std::printf("%s\n", doc.dump(2).c_str());
  if (remove_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return 0;
}
