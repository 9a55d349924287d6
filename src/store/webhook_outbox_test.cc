// The webhook outbox conformance suite against both backends, and the SQLite outbox surviving a
// reopen.

#include <gtest/gtest.h>

#include "store/memory_store.h"
#include "store/sqlite_store.h"
#include "store/webhook_outbox_conformance.h"

namespace parley::store {
namespace {

struct MemoryOutboxFactory {
  static std::unique_ptr<ports::WebhookOutbox> Make(const std::filesystem::path& /*dir*/) {
    return std::make_unique<MemoryStore>();
  }
};

struct SqliteOutboxFactory {
  static std::unique_ptr<ports::WebhookOutbox> Make(const std::filesystem::path& dir) {
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
using OutboxBackends = ::testing::Types<MemoryOutboxFactory, SqliteOutboxFactory>;
INSTANTIATE_TYPED_TEST_SUITE_P(Outbox, WebhookOutboxConformance, OutboxBackends);
}  // namespace parley::store::testing

namespace parley::store {
namespace {

TEST(SqliteWebhookOutbox, DeliveriesSurviveReopen) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "parley.db").string();
  uint64_t id = 0;
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto enqueued = (*store)->EnqueueDelivery(testing::MakeDelivery("crm", 9, 100));
    ASSERT_TRUE(enqueued.ok());
    id = *enqueued;
    ASSERT_TRUE((*store)->RescheduleDelivery(id, 2, FromMicros(700), "timeout").ok());
  }
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto back = (*store)->GetDelivery(id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->attempts, 2);
  EXPECT_EQ(back->next_attempt, FromMicros(700));
  EXPECT_EQ(back->last_error, "timeout");
}

}  // namespace
}  // namespace parley::store
