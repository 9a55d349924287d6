#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "app/config_admin.h"
#include "app/data.h"
#include "app/simulation_service.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace parley::app {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "parley-app-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

ports::RecordingRecord Recording(uint64_t id, const fs::path& file, int64_t completed_s) {
  std::ofstream(file) << "RIFF";
  ports::RecordingRecord r;
  r.id = id;
  r.contact = ContactId(id);
  r.path = file.string();
  r.bytes = 4;
  r.duration = Seconds(1);
  r.sha256 = std::string(64, 'a');
  r.completed = TimePoint(Seconds(completed_s));
  r.started = r.completed - Seconds(1);
  return r;
}

std::string DemoConfig() {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/config/demo.yaml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The structured queue edit (PUT /api/v1/config/queues/{queue}) rewrites the queue's own lines
// only: the document's other comments and layout stay as the administrator wrote them.
TEST(ConfigAdministrationTest, QueueEditKeepsTheRestOfTheDocumentAsWritten) {
  store::MemoryStore store;
  std::string demo = DemoConfig();
  ASSERT_NE(demo.find("  - name: billing\n"), std::string::npos);
  demo.insert(demo.find("  - name: billing\n"), "  # Billing: invoices and refunds.\n\n");
  ASSERT_TRUE(store.PutConfig({.yaml = demo, .applied_by = "seed"}, 0).ok());
  StoreConfigAdministration admin(store, nullptr);
  auto outcome = admin.EditQueue(
      "support", {.fields = {{"priority", "7"}, {"wrap_up", "20s"}}, .expected_version = 1});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_TRUE(outcome->applied) << outcome->yaml;
  const std::string stored = store.CurrentConfig()->yaml;
  const std::string support = stored.substr(stored.find("  - name: support\n"));
  EXPECT_EQ(support.substr(0, support.find("  # Billing")),
            "  - name: support\n"
            "    channels: [voice, chat, email, callback]\n"
            "    strategy: best-skill\n"
            "    service_level: {target: 0.8, seconds: 60}\n"
            "    priority: 7\n"
            "    max_wait: 30m\n"
            "    wrap_up: 20s\n"
            "    aging_per_minute: 0.5\n"
            "    skills: {support: 2}\n"
            "    escalation:\n"
            "      - {after: 90s, skills: {support: 1}}\n"
            "      - {after: 300s, flow: callback-offer}\n");
  // Everything before and after the queue is byte for byte what was there.
  EXPECT_EQ(stored.substr(0, stored.find("  - name: support\n")),
            demo.substr(0, demo.find("  - name: support\n")));
  EXPECT_EQ(stored.substr(stored.find("  # Billing")), demo.substr(demo.find("  # Billing")));
  auto settings = admin.GetQueueSettings("support");
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->priority, 7);
  EXPECT_EQ(settings->wrap_up_seconds, 20);
}

// A queue list in flow style cannot be spliced: the edit stores the document re-emitted.
TEST(ConfigAdministrationTest, QueueEditOfAFlowStyleListStillApplies) {
  store::MemoryStore store;
  std::string demo = DemoConfig();
  const size_t from = demo.find("\nqueues:\n");
  const size_t to = demo.find("\n\n", from + 1);
  ASSERT_NE(to, std::string::npos);
  demo.replace(from, to - from,
               "\nqueues: [{name: sales, channels: [voice, chat]}, {name: support, channels: "
               "[voice, chat, email, callback]}, {name: billing, channels: [voice, email]}]");
  ASSERT_TRUE(store.PutConfig({.yaml = demo, .applied_by = "seed"}, 0).ok());
  StoreConfigAdministration admin(store, nullptr);
  auto outcome = admin.EditQueue("support", {.fields = {{"priority", "7"}}, .expected_version = 1});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_TRUE(outcome->applied) << outcome->yaml;
  EXPECT_EQ(admin.GetQueueSettings("support")->priority, 7);
}

// What-if scenarios: one quick, one that runs far longer than a test (until stopped).
std::string WhatIf(const std::string& duration) {
  return "scenario: {name: what-if, seed: 3, duration: " + duration +
         ", interval: 30m}\n"
         "skills: [s]\n"
         "queues:\n"
         "  - {name: q, channels: [voice], skills: {s: 1}}\n"
         "groups:\n"
         "  - {name: a, agents: 8, skills: {s: 1}, queues: [q]}\n"
         "traffic:\n"
         "  - {queue: q, arrivals: {per_hour: 100}, handle_time: \"exp:240\"}\n";
}

// Issue 7: the server runs one simulation at a time (a second one meanwhile gets a conflict, the
// API's 409) and its shutdown ends a running one at once instead of waiting for the limit.
TEST(SimulationServiceTest, OneAtATimeAndStoppingEndsTheRunningOne) {
  SimulationService service(SimulationLimits{.wall = std::chrono::minutes(2)});
  ports::SimulationQuery quick;
  quick.scenario = WhatIf("1h");
  ASSERT_TRUE(service.Run(quick).ok());
  ports::SimulationQuery endless = quick;
  endless.scenario = WhatIf("100000h");
  std::future<Result<std::string>> first;
  auto start_endless = [&] {
    first = std::async(std::launch::async, [&] { return service.Run(endless); });
  };
  start_endless();
  // Until the endless one holds the slot, a quick one simply runs (and an endless one that
  // came while a quick one ran was refused: it starts again).
  Result<std::string> second = service.Run(quick);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (second.ok() && std::chrono::steady_clock::now() < until) {
    if (first.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      const Result<std::string> refused = first.get();
      ASSERT_FALSE(refused.ok());
      EXPECT_EQ(refused.status().code(), StatusCode::kConflict);
      start_endless();
    }
    second = service.Run(quick);
  }
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kConflict) << second.status().message();
  EXPECT_EQ(first.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  service.Stop();
  const Result<std::string> ended = first.get();
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.status().code(), StatusCode::kConflict);
  EXPECT_NE(ended.status().message().find("stopping"), std::string::npos)
      << ended.status().message();
  const Result<std::string> after = service.Run(quick);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kConflict);
  EXPECT_NE(after.status().message().find("stopping"), std::string::npos);
}

TEST(RecordingRetentionTest, DeletesOldRecordingsRowsAndFilesAndKeepsTheRest) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto store = store::SqliteStore::Open((dir.path() / "parley.db").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ports::JournalBatch batch;
  batch.recordings = {Recording(1, dir.path() / "old.wav", 1000),
                      Recording(2, dir.path() / "gone.wav", 1500),
                      Recording(3, dir.path() / "new.wav", 5000)};
  ASSERT_TRUE((*store)->Append(batch).ok());
  fs::remove(dir.path() / "gone.wav");  // already deleted by hand: not an error

  auto removed = PurgeRecordings(**store, TimePoint(Seconds(2000)));
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2u);
  EXPECT_FALSE(fs::exists(dir.path() / "old.wav"));
  EXPECT_TRUE(fs::exists(dir.path() / "new.wav"));
  EXPECT_EQ((*store)->GetRecording(1).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE((*store)->GetRecording(3).ok());

  // Nothing older left: a second run removes nothing and the last id is kept.
  EXPECT_EQ(*PurgeRecordings(**store, TimePoint(Seconds(2000))), 0u);
  EXPECT_EQ(*(*store)->LastRecordingId(), 3u);
}

}  // namespace
}  // namespace parley::app
