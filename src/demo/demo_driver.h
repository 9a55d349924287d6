#pragma once
// DemoDriver: the synthetic customers and agents of `parley serve --demo` (docs/operations.md,
// "Demo mode"). Customers arrive by a traffic model (src/traffic) and bots work the configured
// agents, all through the inbound port (ports::ContactCenter) like any other caller, so the
// wallboard, the event stream and the reports show ordinary traffic.
//
// Ownership and threads: the driver holds references to the port, clock and timer queue (they
// outlive it) and runs on one thread, the executor's: Start, Stop, the destructor and every timer
// of `timers` run there, and the port's replies and published events are posted to it. The
// destructor stops it.
//
// Who drives an agent: the bots drive every configured agent until someone other than the demo
// acts for it: a presence change the demo did not ask for, or an offer accepted or rejected that
// the demo did not accept. From then on that agent belongs to the human (handover, audited as
// "demo.handover"): its offers wait for the human, and its breaks stop; contacts the bot had
// already accepted are still ended and wrapped up by the bot, so none is left half done.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "base/time.h"
#include "demo/synthetic_customers.h"
#include "domain/agent_state.h"
#include "domain/channel.h"
#include "ports/contact_center.h"
#include "traffic/arrivals.h"
#include "traffic/distribution.h"

namespace parley::demo {

using Executor = std::function<void(std::function<void()>)>;

// Records what the demo did in the audit trail: action, target, outcome and detail, with the
// demo's caller as the actor (the composition root appends it to auth::AuditLog).
using AuditFn = std::function<void(const std::string& action, const std::string& target,
                                   const Status& outcome, const std::string& detail)>;

// How the demo's traffic and bots behave. The defaults keep a wallboard busy but calm on the
// bundled configuration (config/demo.yaml). Times are distribution specs in seconds
// (traffic::ParseDistribution: "fixed:30", "exp:180", "lognormal:180,90", "uniform:2,6").
struct DemoOptions {
  // The identity the bots act as: an internal caller whose reach is every agent (what a
  // supervisor's role grants), named in the audit trail.
  ports::Caller caller{.user = "demo", .reach = ports::Caller::Reach::kAll};
  // > 0: a steady Poisson stream of this many contacts a minute. 0: a working day's shape
  // (08:00 to 20:00, busiest mid-morning and mid-afternoon) compressed into `day_length` and
  // repeated, peaking at `peak_per_minute`; it starts at the 10:00 peak.
  double contacts_per_minute = 0;
  double peak_per_minute = 4;
  Duration day_length = std::chrono::minutes(60);
  // Channel mix, as weights; a channel no queue takes is left out.
  double voice_weight = 0.55;
  double chat_weight = 0.30;
  double email_weight = 0.15;
  // Voice is real calls through SIP (`parley serve --sip`): the demo creates no voice contacts,
  // and its bots leave voice offers to the agents' phones (an unanswered phone's rejection is no
  // person acting; a phone that answers is).
  bool voice_by_phone = false;
  std::string ring = "uniform:2,6";  // an offer rings this long before the bot accepts
  std::string voice_handle = "lognormal:150,70";
  std::string chat_handle = "lognormal:200,90";
  std::string email_handle = "lognormal:240,120";
  std::string wrap_up = "uniform:5,20";
  std::string patience = "lognormal:150,90";  // waiting customers give up (cancel) after this
  std::string between_breaks = "exp:600";     // an agent's Available time before a break
  std::string break_length = "uniform:30,180";
  // Reason codes for breaks and disposition codes for wrap-ups (the configuration's); with
  // none, breaks are skipped and wrap-ups carry no disposition.
  std::vector<std::string> reason_codes;
  std::vector<std::string> disposition_codes;
  size_t customers = 40;  // size of the synthetic customer pool (contacts repeat customers)
  Duration start_spread = std::chrono::seconds(10);  // agents become Available over this time
  // Every time the bots and customers take (ring, handle, wrap-up, patience, breaks, the start
  // spread) is multiplied by this (> 0, <= 1): a faster demo keeps its agents as busy.
  double time_scale = 1;
  uint64_t seed = 1;
};

// The time scale that keeps the agents of the bundled configuration as busy at `per_minute`
// contacts a minute as at kNominalPerMinute: min(1, kNominalPerMinute / per_minute).
inline constexpr double kNominalPerMinute = 3;
double TimeScaleForRate(double per_minute);

struct DemoCounters {
  uint64_t contacts_created = 0;
  uint64_t contacts_cancelled = 0;  // customers who gave up waiting
  uint64_t offers_accepted = 0;
  uint64_t wrap_ups_completed = 0;
  uint64_t breaks = 0;
  uint64_t handovers = 0;
  uint64_t failed_calls = 0;  // port calls refused (e.g. a race with a human); none is retried
  // "contacts=12 gave_up=1 accepted=10 wrapped_up=9 breaks=2 handovers=0 refused_calls=1".
  std::string ToString() const;
};

class DemoDriver final : public TimerTarget {
 public:
  // kInvalidArgument naming the option when a distribution spec or a rate is wrong.
  static Result<std::unique_ptr<DemoDriver>> Create(ports::ContactCenter& center,
                                                    const Clock& clock, TimerQueue& timers,
                                                    Executor executor, DemoOptions options,
                                                    AuditFn audit = {});
  ~DemoDriver() override;
  DemoDriver(const DemoDriver&) = delete;
  DemoDriver& operator=(const DemoDriver&) = delete;

  // Learns the agents and queues, subscribes to the event stream, creates the customer pool,
  // takes over what the agents already hold (after a restart), makes the agents Available over
  // `start_spread` and starts the arrivals.
  void Start();
  // Cancels every timer and the subscription; replies that arrive later are dropped. Idempotent.
  void Stop();

  const DemoCounters& counters() const { return counters_; }
  // Whether the bots drive `agent` (false once a human took it over, or for an unknown agent).
  bool DrivesAgent(const std::string& agent) const;
  bool running() const { return running_; }

  void OnTimer(uint64_t tag) override;

 private:
  struct Distributions;
  struct Bot {
    Presence presence = Presence::kOffline;
    std::string reason;
    bool human = false;
    // Presence changes the demo asked for whose event has not arrived yet.
    std::vector<std::pair<Presence, std::string>> expected;
    uint64_t break_timer = 0;
    std::map<ContactId, uint64_t> ringing;  // offer → the timer that accepts it
    std::set<ContactId> working;            // accepted by the bot: it ends and wraps them up
  };

  DemoDriver(ports::ContactCenter& center, const Clock& clock, TimerQueue& timers,
             Executor executor, DemoOptions options, AuditFn audit,
             std::unique_ptr<Distributions> distributions);

  template <class T, class F>
  ports::Reply<T> OnLoop(F f);
  uint64_t After(Duration delay, std::function<void()> action);
  uint64_t At(TimePoint at, std::function<void()> action);
  void CancelTimer(uint64_t& key);
  Duration Draw(const traffic::Distribution& d);  // one sample, scaled by time_scale
  const traffic::Distribution& HandleTime(Channel channel) const;

  bool Refused(const Status& status, const std::string& what);  // counts and audits a refusal
  void TakeOver(const std::vector<ports::AgentSnapshot>& agents);
  void LearnQueues(const std::vector<ports::QueueSnapshot>& queues);
  void Learned();
  static Channel ChannelOf(const ports::PublishedEvent& e);  // from its JSON
  void OnEvents(const std::vector<ports::PublishedEvent>& events);
  void OnEvent(const ports::PublishedEvent& e);
  void HandOver(const std::string& agent, Bot& bot, const std::string& why);

  void CreateCustomers();
  void ScheduleArrival();
  void Arrive();
  void GiveUp(ContactId id);

  void RequestPresence(const std::string& agent, Presence presence, std::string reason,
                       std::function<void()> then = {});
  void ScheduleBreak(const std::string& agent);
  void Ring(const std::string& agent, ContactId id, Channel channel, Duration ring);
  void Accept(const std::string& agent, ContactId id, Channel channel);
  void Handle(const std::string& agent, ContactId id, Duration handle);
  void WrapUp(const std::string& agent, ContactId id, Duration wrap);
  void Finished(const std::string& agent, ContactId id);
  void Audit(const std::string& action, const std::string& target, const Status& outcome,
             const std::string& detail);

  ports::ContactCenter& center_;
  const Clock& clock_;
  TimerQueue& timers_;
  Executor executor_;
  DemoOptions options_;
  AuditFn audit_;
  std::unique_ptr<Distributions> dist_;
  Random random_;
  std::shared_ptr<int> alive_;  // replies posted after Stop() find it expired
  bool running_ = false;
  DemoCounters counters_;

  std::map<std::string, Bot> bots_;
  std::map<std::string, std::vector<Channel>> queues_;  // the queues contacts may go to
  std::vector<ports::AgentSnapshot> initial_agents_;
  bool agents_known_ = false;
  bool queues_known_ = false;
  std::unique_ptr<ports::Subscription> subscription_;

  std::vector<SyntheticCustomer> customers_;
  size_t customers_pending_ = 0;  // CreateCustomer replies still to come
  size_t customers_created_ = 0;
  bool arrivals_started_ = false;

  std::unique_ptr<traffic::ArrivalProcess> arrivals_;
  TimePoint cycle_start_{};
  uint64_t arrival_timer_ = 0;
  std::map<ContactId, uint64_t> waiting_;  // demo contacts not yet accepted → give-up timer
  std::set<ContactId> accepting_;          // AcceptOffer calls of the bots in flight

  struct Pending {
    TimerId id = 0;
    std::function<void()> action;
  };
  std::map<uint64_t, Pending> pending_;  // by tag
  uint64_t next_tag_ = 1;
};

}  // namespace parley::demo
