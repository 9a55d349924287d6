#pragma once
// The conformance suite of the WebhookOutbox port (src/ports/webhook_outbox.h): every
// implementation must pass it. A backend's test instantiates it with a factory type that has
//   static std::unique_ptr<ports::WebhookOutbox> Make(const std::filesystem::path& dir);
// e.g.
//   INSTANTIATE_TYPED_TEST_SUITE_P(Outbox, WebhookOutboxConformance, Backends);

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "ports/webhook_outbox.h"
#include "store/store_conformance.h"

namespace parley::store::testing {

inline ports::WebhookDelivery MakeDelivery(std::string webhook, uint64_t seq, int64_t due_us) {
  ports::WebhookDelivery d;
  d.webhook = std::move(webhook);
  d.url = "http://127.0.0.1:8080/hook";
  d.event_seq = seq;
  d.body = std::string("{\"seq\":") + std::to_string(seq) + std::string("}\0\xff", 2);
  d.created = FromMicros(due_us - 5);
  d.next_attempt = FromMicros(due_us);
  return d;
}

template <typename Factory>
class WebhookOutboxConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    outbox_ = Factory::Make(dir_.path());
    ASSERT_NE(outbox_, nullptr);
  }
  ports::WebhookOutbox& outbox() { return *outbox_; }

 private:
  TempDir dir_;
  std::unique_ptr<ports::WebhookOutbox> outbox_;
};
TYPED_TEST_SUITE_P(WebhookOutboxConformance);

TYPED_TEST_P(WebhookOutboxConformance, EnqueueRoundTripsAndRefusesDuplicates) {
  auto& o = this->outbox();
  auto id = o.EnqueueDelivery(MakeDelivery("crm", 7, 1000));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_GT(*id, 0u);
  auto back = o.GetDelivery(*id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto expected = MakeDelivery("crm", 7, 1000);
  expected.id = *id;
  EXPECT_EQ(*back, expected);  // the body's NUL and 0xff bytes survive

  EXPECT_EQ(o.EnqueueDelivery(MakeDelivery("crm", 7, 2000)).status().code(), StatusCode::kConflict);
  EXPECT_TRUE(o.EnqueueDelivery(MakeDelivery("billing", 7, 2000)).ok());
  auto no_url = MakeDelivery("crm", 8, 1);
  no_url.url.clear();
  EXPECT_EQ(o.EnqueueDelivery(no_url).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(o.GetDelivery(999).status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(WebhookOutboxConformance, ClaimTakesDueOnesInOrderUnderALease) {
  auto& o = this->outbox();
  const uint64_t late = *o.EnqueueDelivery(MakeDelivery("crm", 1, 300));
  const uint64_t early = *o.EnqueueDelivery(MakeDelivery("crm", 2, 100));
  const uint64_t tie = *o.EnqueueDelivery(MakeDelivery("crm", 3, 100));
  (void)*o.EnqueueDelivery(MakeDelivery("crm", 4, 900));  // not due

  auto claimed = o.ClaimDueDeliveries(FromMicros(300), FromMicros(5000), 2);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ(claimed->at(0).id, early);
  EXPECT_EQ(claimed->at(1).id, tie);
  EXPECT_EQ(claimed->at(0).next_attempt, FromMicros(5000));
  // Leased ones are not claimed again; the rest are.
  auto rest = o.ClaimDueDeliveries(FromMicros(300), FromMicros(5000), 10);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->at(0).id, late);
  EXPECT_TRUE(o.ClaimDueDeliveries(FromMicros(300), FromMicros(5000), 10)->empty());
  // After the lease (the sender died), they are due again.
  EXPECT_EQ(o.ClaimDueDeliveries(FromMicros(5000), FromMicros(9000), 10)->size(), 4u);
}

TYPED_TEST_P(WebhookOutboxConformance, DeliveredRescheduledAndDead) {
  auto& o = this->outbox();
  const uint64_t a = *o.EnqueueDelivery(MakeDelivery("crm", 1, 100));
  const uint64_t b = *o.EnqueueDelivery(MakeDelivery("crm", 2, 100));
  const uint64_t c = *o.EnqueueDelivery(MakeDelivery("crm", 3, 100));
  ASSERT_EQ(o.ClaimDueDeliveries(FromMicros(100), FromMicros(1000), 10)->size(), 3u);

  ASSERT_TRUE(o.MarkDelivered(a, 1, FromMicros(150)).ok());
  EXPECT_EQ(o.GetDelivery(a)->state, ports::DeliveryState::kDelivered);
  EXPECT_EQ(o.GetDelivery(a)->attempts, 1);
  EXPECT_EQ(o.MarkDelivered(a, 2, FromMicros(160)).code(), StatusCode::kNotFound);

  ASSERT_TRUE(o.RescheduleDelivery(b, 1, FromMicros(400), "HTTP 503").ok());
  auto rb = o.GetDelivery(b);
  EXPECT_EQ(rb->state, ports::DeliveryState::kPending);
  EXPECT_EQ(rb->attempts, 1);
  EXPECT_EQ(rb->next_attempt, FromMicros(400));
  EXPECT_EQ(rb->last_error, "HTTP 503");
  EXPECT_TRUE(o.ClaimDueDeliveries(FromMicros(399), FromMicros(2000), 10)->empty());
  EXPECT_EQ(o.ClaimDueDeliveries(FromMicros(400), FromMicros(2000), 10)->size(), 1u);

  ASSERT_TRUE(o.MarkDeliveryDead(c, 5, FromMicros(200), "connection refused").ok());
  ASSERT_TRUE(o.MarkDeliveryDead(b, 6, FromMicros(180), "HTTP 500").ok());
  auto dead = o.DeadDeliveries(10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_EQ(dead->at(0).id, b);  // oldest first
  EXPECT_EQ(dead->at(0).attempts, 6);
  EXPECT_EQ(dead->at(0).last_error, "HTTP 500");
  EXPECT_EQ(dead->at(1).id, c);
  EXPECT_EQ(o.DeadDeliveries(1)->size(), 1u);
  EXPECT_EQ(o.RescheduleDelivery(c, 6, FromMicros(300), "x").code(), StatusCode::kNotFound);

  // An operator retries a dead letter: pending again, attempts from 0.
  EXPECT_EQ(o.RetryDeadDelivery(a, FromMicros(500)).code(), StatusCode::kNotFound);
  ASSERT_TRUE(o.RetryDeadDelivery(c, FromMicros(500)).ok());
  auto rc = o.GetDelivery(c);
  EXPECT_EQ(rc->state, ports::DeliveryState::kPending);
  EXPECT_EQ(rc->attempts, 0);
  auto due = o.ClaimDueDeliveries(FromMicros(500), FromMicros(600), 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->at(0).id, c);
}

TYPED_TEST_P(WebhookOutboxConformance, PurgeKeepsPendingOnes) {
  auto& o = this->outbox();
  const uint64_t a = *o.EnqueueDelivery(MakeDelivery("crm", 1, 100));
  const uint64_t b = *o.EnqueueDelivery(MakeDelivery("crm", 2, 100));
  const uint64_t c = *o.EnqueueDelivery(MakeDelivery("crm", 3, 100));
  (void)*o.EnqueueDelivery(MakeDelivery("crm", 4, 100));  // pending, old
  ASSERT_TRUE(o.MarkDelivered(a, 1, FromMicros(200)).ok());
  ASSERT_TRUE(o.MarkDeliveryDead(b, 3, FromMicros(300), "e").ok());
  ASSERT_TRUE(o.MarkDelivered(c, 1, FromMicros(900)).ok());
  auto n = o.PurgeDeliveries(FromMicros(500));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(o.GetDelivery(a).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(o.GetDelivery(b).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(o.GetDelivery(c).ok());
  EXPECT_EQ(o.ClaimDueDeliveries(FromMicros(1000), FromMicros(2000), 10)->size(), 1u);
  // A purged (webhook, event) may be enqueued again.
  EXPECT_TRUE(o.EnqueueDelivery(MakeDelivery("crm", 1, 100)).ok());
}

REGISTER_TYPED_TEST_SUITE_P(WebhookOutboxConformance, EnqueueRoundTripsAndRefusesDuplicates,
                            ClaimTakesDueOnesInOrderUnderALease, DeliveredRescheduledAndDead,
                            PurgeKeepsPendingOnes);

}  // namespace parley::store::testing
