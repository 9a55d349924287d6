// Tests of src/store: the conformance suite against every backend, then backend-specific tests.

#include <gtest/gtest.h>

#include "store/memory_store.h"
#include "store/records.h"
#include "store/sqlite_store.h"
#include "store/store_conformance.h"

namespace parley::store {
namespace {

using testing::TempDir;

struct MemoryFactory {
  static ports::StorePtr Make(const std::filesystem::path& /*dir*/) {
    return MemoryStore::Create();
  }
};

struct SqliteFactory {
  static ports::StorePtr Make(const std::filesystem::path& dir) {
    auto store = SqliteStore::Open((dir / "parley.db").string());
    if (!store.ok()) {
      ADD_FAILURE() << store.status().ToString();
      return nullptr;
    }
    return std::move(store).value();
  }
};

}  // namespace
}  // namespace parley::store

namespace parley::store::testing {
using Backends = ::testing::Types<MemoryFactory, SqliteFactory>;
INSTANTIATE_TYPED_TEST_SUITE_P(Store, StoreConformance, Backends);
}  // namespace parley::store::testing

namespace parley::store {
namespace {

TEST(MemoryStore, BackupIsUnavailable) {
  MemoryStore store;
  EXPECT_EQ(store.Backup("/tmp/x").code(), StatusCode::kUnavailable);
}

TEST(Records, AttributesRoundTripThroughJson) {
  const Attributes attributes = {{"a", "1"}, {"a", "\"quoted\""}, {"", ""}};
  auto back = AttributesFromJson(AttributesToJson(attributes));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, attributes);
  EXPECT_EQ(AttributesFromJson("{").status().code(), StatusCode::kInternal);
  EXPECT_EQ(AttributesFromJson("[[1,2]]").status().code(), StatusCode::kInternal);
}

TEST(Records, CustomerExportIsJson) {
  ports::CustomerExport data;
  data.customer = testing::MakeCustomer("Ann", "+1");
  data.notes.push_back({.text = "hello"});
  const std::string json = CustomerExportToJson(data);
  EXPECT_NE(json.find("\"name\": \"Ann\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"tier\": \"gold\""), std::string::npos) << json;
}

}  // namespace
}  // namespace parley::store
