// Supervisor monitoring of live calls (docs/voice.md, "Supervisor monitoring"): the engine
// checks scope and state, asks the channel adapter to ring the supervisor's phone or change the
// mix, and journals the session (monitor.started, monitor.mode_changed, monitor.ended) once the
// adapter has taken the command.

#include <string>

#include "engine/engine.h"

namespace parley::engine {

using ports::Caller;
using ports::Reply;

namespace {

std::string ModeName(ports::MonitorMode m) {
  switch (m) {
    case ports::MonitorMode::kListen:
      return "listen";
    case ports::MonitorMode::kWhisper:
      return "whisper";
    case ports::MonitorMode::kBarge:
      return "barge";
  }
  return "listen";
}

std::string EndName(ports::MonitorEnd why) {
  switch (why) {
    case ports::MonitorEnd::kSupervisorHungUp:
      return "supervisor_hung_up";
    case ports::MonitorEnd::kNoAnswer:
      return "no_answer";
    case ports::MonitorEnd::kCallEnded:
      return "call_ended";
  }
  return "call_ended";
}

}  // namespace

void Engine::MonitorContact(const Caller& who, ContactId id, std::optional<ports::MonitorMode> mode,
                            Reply<ports::ContactSnapshot> reply) {
  Post([this, who, id, mode, reply = std::move(reply)]() mutable {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    auto c = FindVisibleContact(who, id);
    if (!c.ok()) return reply(c.status());
    ContactInfo& info = **c;
    const std::string name = "contact " + std::to_string(id.value());
    if (!mode) {
      // Stop: whoever may monitor the call may end its monitoring.
      ContactStep(
          who, id,
          [this, who, id, name](ContactInfo& c) -> Status {
            if (c.monitor_user.empty()) return Conflict(name + " is not being monitored");
            const std::string user = std::move(c.monitor_user);
            c.monitor_user.clear();
            c.monitor_mode.clear();
            OnEvent(
                RecordingEvent(EventType::kMonitorEnded, c,
                               {{"supervisor", user}, {"reason", "stopped"}, {"by", who.user}}));
            if (ports::ChannelAdapter* adapter = AdapterOf(id)) {
              adapter->ControlCall(id, ports::MonitorCall{user, std::nullopt}, nullptr);
            }
            return Status::Ok();
          },
          std::move(reply));
      return;
    }
    auto adapter = LiveCall(info, "be monitored");
    if (!adapter.ok()) return reply(adapter.status());
    if (!info.consult_target.empty() || info.consult_waiting) {
      return reply(
          Conflict(name + " is in a consultation with " +
                   (info.consult_waiting ? "queue " + info.consult_queue : info.consult_target)));
    }
    if (!info.monitor_user.empty() && info.monitor_user != who.user) {
      return reply(Conflict(name + " is already monitored by " + info.monitor_user));
    }
    if (info.monitor_user == who.user && info.monitor_mode == ModeName(*mode)) {
      return reply(Conflict(name + " is already monitored in " + info.monitor_mode + " mode"));
    }
    // The adapter answers on its own thread (kInvalidArgument: no registered phone); the state
    // changes and the journal follow in a step of their own on the loop.
    (*adapter)->ControlCall(
        id, ports::MonitorCall{who.user, mode},
        [this, exec = executor_, alive = std::weak_ptr<int>(alive_), who, id, mode,
         reply = std::move(reply)](Status s) mutable {
          exec([this, alive, who, id, mode, s = std::move(s), reply = std::move(reply)]() mutable {
            if (alive.expired()) return;
            if (!s.ok()) return reply(s);
            ContactStep(
                who, id,
                [this, who, mode](ContactInfo& c) -> Status {
                  const bool started = c.monitor_user.empty();
                  c.monitor_user = who.user;
                  c.monitor_mode = ModeName(*mode);
                  OnEvent(RecordingEvent(
                      started ? EventType::kMonitorStarted : EventType::kMonitorModeChanged, c,
                      {{"supervisor", who.user}, {"mode", c.monitor_mode}}));
                  return Status::Ok();
                },
                std::move(reply));
          });
        });
  });
}

void Engine::MonitorEnded(ContactId contact, std::string supervisor, ports::MonitorEnd why) {
  Post([this, contact, supervisor = std::move(supervisor), why] {
    if (!started_) return;
    auto it = contacts_.find(contact);
    if (it == contacts_.end()) return;
    ContactInfo& c = it->second;
    if (c.monitor_user != supervisor) return;  // already ended by a stop command
    FlushStray();
    c.monitor_user.clear();
    c.monitor_mode.clear();
    OnEvent(RecordingEvent(EventType::kMonitorEnded, c,
                           {{"supervisor", supervisor}, {"reason", EndName(why)}}));
    step_contacts_.insert(contact);
    Commit(nullptr);
  });
}

}  // namespace parley::engine
