#include "flow/runner.h"

namespace parley::flow {

FlowRunner::FlowRunner(const Clock& clock, TimerQueue& timers, ports::ContactMedia& media,
                       ports::ContactRouting& routing, ports::HttpLookup& http, EventSink sink)
    : clock_(clock),
      timers_(timers),
      media_(media),
      routing_(routing),
      http_(http),
      sink_(std::move(sink)) {}

FlowRunner::~FlowRunner() {
  for (const auto& [tag, t] : timers_by_tag_) timers_.Cancel(t.id);
}

Status FlowRunner::Start(std::shared_ptr<const FlowVersion> version, std::string_view flow,
                         FlowContact contact) {
  if (!version) return NotFound("no flows are loaded");
  const int index = version->FlowIndex(flow);
  if (index < 0) return NotFound("unknown flow '" + std::string(flow) + "'");
  const ContactId id = contact.id;
  if (sessions_.count(id)) return Conflict("contact is already in a flow");
  auto session = std::make_unique<FlowSession>(std::move(version), std::move(contact));
  FlowSession* s = session.get();
  sessions_.emplace(id, std::move(session));
  FlowOutput out;
  s->Start(index, clock_.Now(), &out);
  Apply(id, out);
  return Status::Ok();
}

Status FlowRunner::StartAtEntry(std::shared_ptr<const FlowVersion> version, FlowContact contact) {
  if (!version) return NotFound("no flows are loaded");
  const EntryPoint* e = version->FindEntry(contact.channel, contact.called);
  if (!e) {
    return NotFound("no entry point for " + std::string(ChannelName(contact.channel)) + " '" +
                    contact.called + "'");
  }
  const std::string name = version->flows[static_cast<size_t>(e->flow)].name;
  return Start(std::move(version), name, std::move(contact));
}

Status FlowRunner::OnInput(ContactId contact, const FlowInput& input) {
  auto it = sessions_.find(contact);
  if (it == sessions_.end()) return NotFound("contact is in no flow");
  FlowOutput out;
  it->second->Handle(input, clock_.Now(), &out);
  Apply(contact, out);
  return Status::Ok();
}

const FlowSession* FlowRunner::Find(ContactId contact) const {
  auto it = sessions_.find(contact);
  return it == sessions_.end() ? nullptr : it->second.get();
}

void FlowRunner::OnTimer(uint64_t tag) {
  auto it = timers_by_tag_.find(tag);
  if (it == timers_by_tag_.end()) return;
  const PendingTimer t = it->second;
  timers_by_tag_.erase(it);
  (void)OnInput(t.contact, TimerFired{t.session_tag});
}

void FlowRunner::Apply(ContactId contact, FlowOutput& out) {
  // Events first: a report sees the step before the effects it caused are acknowledged.
  for (const auto& e : out.events) {
    if (sink_) sink_(e);
  }
  for (auto& effect : out.effects) {
    std::visit(
        [&](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, ports::PlayRequest>) {
            media_.Play(contact, e);
          } else if constexpr (std::is_same_v<T, StopPlayback>) {
            media_.StopPlayback(contact);
          } else if constexpr (std::is_same_v<T, ports::TextMessage>) {
            media_.SendText(contact, e);
          } else if constexpr (std::is_same_v<T, HangupContact>) {
            media_.Hangup(contact);
          } else if constexpr (std::is_same_v<T, StartTimer>) {
            const uint64_t tag = next_tag_++;
            timers_by_tag_[tag] = {contact, e.tag, timers_.Schedule(e.at, *this, tag)};
          } else if constexpr (std::is_same_v<T, CancelTimer>) {
            for (auto it = timers_by_tag_.begin(); it != timers_by_tag_.end(); ++it) {
              if (it->second.contact == contact && it->second.session_tag == e.tag) {
                timers_.Cancel(it->second.id);
                timers_by_tag_.erase(it);
                break;
              }
            }
          } else if constexpr (std::is_same_v<T, ports::EnqueueRequest>) {
            routing_.Enqueue(contact, e);
          } else if constexpr (std::is_same_v<T, Dequeue>) {
            routing_.Dequeue(contact);
          } else if constexpr (std::is_same_v<T, ports::TransferRequest>) {
            routing_.Transfer(contact, e);
          } else if constexpr (std::is_same_v<T, ports::VoicemailRequest>) {
            routing_.StartVoicemail(contact, e);
          } else if constexpr (std::is_same_v<T, ports::CallbackRequest>) {
            routing_.ScheduleCallback(contact, e);
          } else if constexpr (std::is_same_v<T, RequestQueueStats>) {
            routing_.RequestQueueStats(contact, e.queue);
          } else if constexpr (std::is_same_v<T, ports::HttpRequest>) {
            http_.Send(contact, e);
          } else if constexpr (std::is_same_v<T, CancelLookup>) {
            http_.Cancel(contact, e.request_id);
          }
        },
        effect);
  }
  auto it = sessions_.find(contact);
  if (it != sessions_.end() && it->second->finished()) {
    for (auto t = timers_by_tag_.begin(); t != timers_by_tag_.end();) {
      if (t->second.contact == contact) {
        timers_.Cancel(t->second.id);
        t = timers_by_tag_.erase(t);
      } else {
        ++t;
      }
    }
    sessions_.erase(it);
  }
}

}  // namespace parley::flow
