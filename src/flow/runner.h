#pragma once
// FlowRunner: drives the FlowSessions of many contacts against real or fake ports. It takes
// each session's effects and calls the ports (ContactMedia, ContactRouting, HttpLookup),
// schedules its timers on a TimerQueue, and hands every flow event to a sink. Adapters, the
// simulator and tests feed it inputs (OnInput) as they happen. Single-threaded: all calls on
// the loop that owns the clock and the timer queue. The runner does not own the ports.

#include <functional>
#include <map>
#include <memory>

#include "base/clock.h"
#include "flow/session.h"

namespace parley::flow {

class FlowRunner final : public TimerTarget {
 public:
  using EventSink = std::function<void(const FlowEvent&)>;
  FlowRunner(const Clock& clock, TimerQueue& timers, ports::ContactMedia& media,
             ports::ContactRouting& routing, ports::HttpLookup& http, EventSink sink);
  ~FlowRunner() override;

  // Starts `flow` of `version` for a new contact. NotFound for an unknown flow, Conflict when
  // the contact is already in a flow.
  Status Start(std::shared_ptr<const FlowVersion> version, std::string_view flow,
               FlowContact contact);
  // Starts the flow of the entry point (channel, contact.called).
  Status StartAtEntry(std::shared_ptr<const FlowVersion> version, FlowContact contact);
  // Delivers an input; NotFound when the contact is in no flow (it may have finished).
  Status OnInput(ContactId contact, const FlowInput& input);
  // nullptr when the contact is in no flow. Finished sessions are dropped at once.
  const FlowSession* Find(ContactId contact) const;
  size_t active() const { return sessions_.size(); }

  void OnTimer(uint64_t tag) override;

 private:
  void Apply(ContactId contact, FlowOutput& out);

  const Clock& clock_;
  TimerQueue& timers_;
  ports::ContactMedia& media_;
  ports::ContactRouting& routing_;
  ports::HttpLookup& http_;
  EventSink sink_;
  std::map<ContactId, std::unique_ptr<FlowSession>> sessions_;
  // Runner timer tag -> (contact, session tag) and the queue's id to cancel it.
  struct PendingTimer {
    ContactId contact;
    uint64_t session_tag;
    TimerId id;
  };
  std::map<uint64_t, PendingTimer> timers_by_tag_;
  uint64_t next_tag_ = 1;
};

}  // namespace parley::flow
