#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "app/data.h"
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
