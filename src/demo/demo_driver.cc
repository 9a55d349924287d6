#include "demo/demo_driver.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace parley::demo {

namespace {

using ports::ContactState;

// The working day (08:00 to 20:00, one entry an hour) as shares of the peak hour: a rise to
// mid-morning, a lunch dip, a second peak mid-afternoon, then the evening tail. A demo starts
// at the 10:00 peak (so a newcomer sees traffic at once) and wraps round to 08:00 and 09:00.
constexpr std::array<double, 12> kDayShape = {1.0,  0.85, 0.6, 0.65, 0.95, 0.9,
                                              0.75, 0.55, 0.4, 0.25, 0.55, 0.9};

std::string PickOne(const std::vector<std::string>& list, Random& random) {
  return list.empty() ? std::string() : list[random.Below(list.size())];
}

}  // namespace

std::string DemoCounters::ToString() const {
  return fmt::format(
      "contacts={} gave_up={} accepted={} wrapped_up={} breaks={} handovers={} refused_calls={}",
      contacts_created, contacts_cancelled, offers_accepted, wrap_ups_completed, breaks, handovers,
      failed_calls);
}

double TimeScaleForRate(double per_minute) {
  return per_minute > kNominalPerMinute ? kNominalPerMinute / per_minute : 1.0;
}

struct DemoDriver::Distributions {
  traffic::Distribution ring, voice_handle, chat_handle, email_handle, wrap_up, patience,
      between_breaks, break_length;
};

Result<std::unique_ptr<DemoDriver>> DemoDriver::Create(ports::ContactCenter& center,
                                                       const Clock& clock, TimerQueue& timers,
                                                       Executor executor, DemoOptions options,
                                                       AuditFn audit) {
  if (!std::isfinite(options.contacts_per_minute) || options.contacts_per_minute < 0) {
    return InvalidArgument("demo rate: contacts a minute must be a number > 0");
  }
  if (options.contacts_per_minute == 0 &&
      (!std::isfinite(options.peak_per_minute) || options.peak_per_minute <= 0 ||
       options.day_length <= Duration::zero())) {
    return InvalidArgument("demo day: the peak rate and the day's length must be > 0");
  }
  if (!std::isfinite(options.time_scale) || options.time_scale <= 0 || options.time_scale > 1) {
    return InvalidArgument("demo time scale must be > 0 and <= 1");
  }
  const double weights[] = {options.voice_weight, options.chat_weight, options.email_weight};
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0) {
      return InvalidArgument("demo channel weights must be numbers >= 0");
    }
  }
  if (weights[0] + weights[1] + weights[2] <= 0) {
    return InvalidArgument("demo channel weights: at least one must be > 0");
  }
  std::vector<traffic::Distribution> parsed;
  const std::pair<const char*, const std::string*> specs[] = {
      {"ring", &options.ring},
      {"voice_handle", &options.voice_handle},
      {"chat_handle", &options.chat_handle},
      {"email_handle", &options.email_handle},
      {"wrap_up", &options.wrap_up},
      {"patience", &options.patience},
      {"between_breaks", &options.between_breaks},
      {"break_length", &options.break_length}};
  for (const auto& [name, spec] : specs) {
    auto d = traffic::ParseDistribution(*spec);
    if (!d.ok()) return InvalidArgument(std::string("demo ") + name + ": " + d.status().message());
    parsed.push_back(*d);
  }
  auto dist = std::make_unique<Distributions>(Distributions{
      parsed[0], parsed[1], parsed[2], parsed[3], parsed[4], parsed[5], parsed[6], parsed[7]});
  return std::unique_ptr<DemoDriver>(new DemoDriver(center, clock, timers, std::move(executor),
                                                    std::move(options), std::move(audit),
                                                    std::move(dist)));
}

DemoDriver::DemoDriver(ports::ContactCenter& center, const Clock& clock, TimerQueue& timers,
                       Executor executor, DemoOptions options, AuditFn audit,
                       std::unique_ptr<Distributions> distributions)
    : center_(center),
      clock_(clock),
      timers_(timers),
      executor_(std::move(executor)),
      options_(std::move(options)),
      audit_(std::move(audit)),
      dist_(std::move(distributions)),
      random_(options_.seed) {
  // "missed" is the ACD's own reason (after missed offers), never a bot's choice.
  std::erase(options_.reason_codes, std::string(kMissedReason));
}

DemoDriver::~DemoDriver() { Stop(); }

bool DemoDriver::DrivesAgent(const std::string& agent) const {
  auto it = bots_.find(agent);
  return it != bots_.end() && !it->second.human;
}

// ---------------------------------------------------------------------------------------------
// Plumbing: replies and events come on the port's thread and are posted to ours; after Stop()
// they find `alive_` gone and do nothing.

template <class T, class F>
ports::Reply<T> DemoDriver::OnLoop(F f) {
  return [alive = std::weak_ptr<int>(alive_), exec = executor_,
          f = std::move(f)](Result<T> r) mutable {
    exec([alive, f, r = std::move(r)]() mutable {
      if (!alive.expired()) f(std::move(r));
    });
  };
}

uint64_t DemoDriver::At(TimePoint at, std::function<void()> action) {
  const uint64_t tag = next_tag_++;
  Pending& p = pending_[tag];
  p.action = std::move(action);
  p.id = timers_.Schedule(at, *this, tag);
  return tag;
}

uint64_t DemoDriver::After(Duration delay, std::function<void()> action) {
  return At(clock_.Now() + delay, std::move(action));
}

void DemoDriver::CancelTimer(uint64_t& key) {
  if (key == 0) return;
  auto it = pending_.find(key);
  if (it != pending_.end()) {
    timers_.Cancel(it->second.id);
    pending_.erase(it);
  }
  key = 0;
}

void DemoDriver::OnTimer(uint64_t tag) {
  auto it = pending_.find(tag);
  if (it == pending_.end()) return;
  std::function<void()> action = std::move(it->second.action);
  pending_.erase(it);
  action();
}

const traffic::Distribution& DemoDriver::HandleTime(Channel channel) const {
  return channel == Channel::kVoice  ? dist_->voice_handle
         : channel == Channel::kChat ? dist_->chat_handle
                                     : dist_->email_handle;
}

Duration DemoDriver::Draw(const traffic::Distribution& d) {
  return Seconds(d.Sample(random_) * options_.time_scale);
}

void DemoDriver::Audit(const std::string& action, const std::string& target, const Status& outcome,
                       const std::string& detail) {
  if (audit_) audit_(action, target, outcome, detail);
}

// ---------------------------------------------------------------------------------------------
// Start and stop

void DemoDriver::Start() {
  if (running_) return;
  running_ = true;
  alive_ = std::make_shared<int>(0);
  Audit(
      "demo.start", "contact-center", Status::Ok(),
      options_.contacts_per_minute > 0
          ? fmt::format("{:g} contacts a minute, times x{:g}", options_.contacts_per_minute,
                        options_.time_scale)
          : "a working day's traffic every " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::minutes>(options_.day_length).count()) +
                " minutes");
  // Subscribed first, so no offer made after the agents' snapshot is missed.
  subscription_ = center_.Subscribe(options_.caller, 0,
                                    [this, alive = std::weak_ptr<int>(alive_), exec = executor_](
                                        const std::vector<ports::PublishedEvent>& events) {
                                      exec([this, alive, events] {
                                        if (!alive.expired()) OnEvents(events);
                                      });
                                    });
  center_.ListAgents(options_.caller, OnLoop<std::vector<ports::AgentSnapshot>>([this](auto r) {
                       if (Refused(r.status(), "listing the agents")) return;
                       TakeOver(*r);
                     }));
  center_.ListQueues(options_.caller, OnLoop<std::vector<ports::QueueSnapshot>>([this](auto r) {
                       if (Refused(r.status(), "listing the queues")) return;
                       LearnQueues(*r);
                     }));
  CreateCustomers();
}

void DemoDriver::Stop() {
  if (!running_) return;
  running_ = false;
  alive_.reset();
  subscription_.reset();
  for (auto& [tag, p] : pending_) timers_.Cancel(p.id);
  pending_.clear();
  arrival_timer_ = 0;
  waiting_.clear();
  accepting_.clear();
  for (auto& [name, bot] : bots_) {
    bot.break_timer = 0;
    bot.ringing.clear();
    bot.working.clear();
    bot.expected.clear();
  }
  Audit("demo.stop", "contact-center", Status::Ok(),
        std::to_string(counters_.contacts_created) + " contacts created, " +
            std::to_string(counters_.wrap_ups_completed) + " wrapped up");
}

bool DemoDriver::Refused(const Status& status, const std::string& what) {
  if (status.ok()) return false;
  ++counters_.failed_calls;
  Audit("demo.start", "contact-center", status, what + " failed");
  return true;
}

void DemoDriver::TakeOver(const std::vector<ports::AgentSnapshot>& agents) {
  const Duration spread =
      std::chrono::duration_cast<Duration>(options_.start_spread * options_.time_scale);
  for (const ports::AgentSnapshot& a : agents) {
    Bot& bot = bots_[a.id];
    bot.presence = a.presence;
    bot.reason = a.reason;
    // What the agent held before a restart is finished by its bot.
    for (const ports::HeldContact& h : a.contacts) {
      if (h.state == ContactState::kOffered) {
        Ring(a.id, h.contact, h.channel, Draw(dist_->ring));
      } else if (h.state == ContactState::kHandling) {
        bot.working.insert(h.contact);
        Handle(a.id, h.contact, Draw(HandleTime(h.channel)));
      } else if (h.state == ContactState::kWrapUp) {
        bot.working.insert(h.contact);
        WrapUp(a.id, h.contact, Draw(dist_->wrap_up));
      }
    }
    const std::string agent = a.id;
    if (a.presence == Presence::kAvailable) {
      ScheduleBreak(agent);
    } else {
      const double share = random_.Uniform();
      After(std::chrono::duration_cast<Duration>(spread * share), [this, agent] {
        if (!DrivesAgent(agent)) return;
        RequestPresence(agent, Presence::kAvailable, "", [this, agent] { ScheduleBreak(agent); });
      });
    }
  }
  agents_known_ = true;
  Learned();
}

void DemoDriver::LearnQueues(const std::vector<ports::QueueSnapshot>& queues) {
  for (const ports::QueueSnapshot& q : queues) {
    std::vector<Channel> channels;
    for (Channel c : q.channels) {
      if (c == Channel::kVoice || c == Channel::kChat || c == Channel::kEmail) {
        channels.push_back(c);
      }
    }
    if (!channels.empty()) queues_[q.name] = std::move(channels);
  }
  queues_known_ = true;
  Learned();
}

void DemoDriver::Learned() {
  if (!agents_known_ || !queues_known_ || customers_pending_ > 0 || arrivals_started_) return;
  arrivals_started_ = true;
  cycle_start_ = clock_.Now();
  ScheduleArrival();
}

// ---------------------------------------------------------------------------------------------
// Customers and arrivals

void DemoDriver::CreateCustomers() {
  customers_ = MakeCustomers(options_.customers, random_);
  customers_pending_ = customers_.size();
  for (const SyntheticCustomer& c : customers_) {
    center_.CreateCustomer(options_.caller, c.ToCustomer(),
                           OnLoop<ports::CustomerView>([this](auto r) {
                             // kConflict: the customer is there from an earlier run, and contacts
                             // find it.
                             if (r.ok()) {
                               ++customers_created_;
                             } else if (r.status().code() != StatusCode::kConflict) {
                               ++counters_.failed_calls;
                             }
                             if (--customers_pending_ == 0) {
                               Audit("demo.customers", "customers", Status::Ok(),
                                     std::to_string(customers_created_) + " created of " +
                                         std::to_string(customers_.size()));
                               Learned();
                             }
                           }));
  }
}

void DemoDriver::ScheduleArrival() {
  const TimePoint now = clock_.Now();
  const bool steady = options_.contacts_per_minute > 0;
  const Duration interval = steady ? std::chrono::duration_cast<Duration>(std::chrono::minutes(1))
                                   : options_.day_length / static_cast<int64_t>(kDayShape.size());
  const size_t intervals = steady ? 60 : kDayShape.size();
  const Duration cycle = interval * static_cast<int64_t>(intervals);
  // A cycle may draw no arrival at all; a bounded number of empty cycles is skipped.
  for (int tries = 0; tries < 100; ++tries) {
    while (cycle_start_ + cycle <= now) {
      cycle_start_ += cycle;
      arrivals_.reset();
    }
    if (!arrivals_) {
      std::vector<double> expected;
      const double minutes = ToSeconds(interval) / 60.0;
      for (size_t i = 0; i < intervals; ++i) {
        expected.push_back(steady ? options_.contacts_per_minute * minutes
                                  : options_.peak_per_minute * kDayShape[i] * minutes);
      }
      auto created = traffic::PiecewisePoisson::Create(cycle_start_, interval, std::move(expected));
      if (!created.ok()) return;  // impossible: the rates were checked in Create()
      arrivals_ = std::move(*created);
    }
    if (auto next = arrivals_->NextArrival(std::max(now, cycle_start_), random_)) {
      arrival_timer_ = At(*next, [this] {
        arrival_timer_ = 0;
        Arrive();
        ScheduleArrival();
      });
      return;
    }
    cycle_start_ += cycle;
    arrivals_.reset();
  }
}

void DemoDriver::Arrive() {
  // The channel by weight among those some queue takes, then a queue that takes it.
  const std::pair<Channel, double> mix[] = {{Channel::kVoice, options_.voice_weight},
                                            {Channel::kChat, options_.chat_weight},
                                            {Channel::kEmail, options_.email_weight}};
  std::vector<std::pair<Channel, double>> offered;
  double total = 0;
  for (const auto& [channel, weight] : mix) {
    if (weight <= 0 || (channel == Channel::kVoice && options_.voice_by_phone)) continue;
    for (const auto& [queue, channels] : queues_) {
      if (std::find(channels.begin(), channels.end(), channel) != channels.end()) {
        offered.emplace_back(channel, weight);
        total += weight;
        break;
      }
    }
  }
  if (offered.empty()) return;
  double draw = random_.Uniform() * total;
  Channel channel = offered.back().first;
  for (const auto& [c, weight] : offered) {
    if (draw < weight) {
      channel = c;
      break;
    }
    draw -= weight;
  }
  std::vector<std::string> queues;
  for (const auto& [queue, channels] : queues_) {
    if (std::find(channels.begin(), channels.end(), channel) != channels.end()) {
      queues.push_back(queue);
    }
  }
  ports::NewContact nc;
  nc.channel = channel;
  nc.direction = Direction::kInbound;
  nc.queue = PickOne(queues, random_);
  nc.attributes = {{"subject", SubjectFor(nc.queue, random_)}};
  if (!customers_.empty()) {
    const SyntheticCustomer& c = customers_[random_.Below(customers_.size())];
    nc.from = c.IdentityFor(channel);
  }
  const Duration patience = Draw(dist_->patience);
  center_.CreateContact(
      options_.caller, std::move(nc), OnLoop<ports::ContactSnapshot>([this, patience](auto r) {
        if (!r.ok()) {
          ++counters_.failed_calls;
          return;
        }
        ++counters_.contacts_created;
        const ContactId id = r->record.id;
        // The create step's events came first: an offer already made is
        // known, an acceptance cannot have happened yet.
        if (r->record.state == ContactState::kQueued || r->record.state == ContactState::kOffered ||
            r->record.state == ContactState::kInFlow) {
          waiting_[id] = After(patience, [this, id] { GiveUp(id); });
        }
      }));
}

void DemoDriver::GiveUp(ContactId id) {
  waiting_.erase(id);
  center_.CancelContact(options_.caller, id, OnLoop<ports::ContactSnapshot>([this](auto r) {
                          if (r.ok()) {
                            ++counters_.contacts_cancelled;
                          } else {
                            ++counters_.failed_calls;  // answered in the meantime
                          }
                        }));
}

// ---------------------------------------------------------------------------------------------
// Agents

void DemoDriver::RequestPresence(const std::string& agent, Presence presence, std::string reason,
                                 std::function<void()> then) {
  bots_[agent].expected.emplace_back(presence, reason);
  center_.SetPresence(
      options_.caller, agent, presence, reason,
      OnLoop<ports::AgentSnapshot>([this, agent, presence, reason,
                                    then = std::move(then)](Result<ports::AgentSnapshot> r) {
        Bot& bot = bots_[agent];
        // Its event came before this reply, and took the expectation; when the presence did
        // not change there was no event, and the expectation goes now.
        auto it =
            std::find(bot.expected.begin(), bot.expected.end(), std::make_pair(presence, reason));
        if (it != bot.expected.end()) bot.expected.erase(it);
        if (!r.ok()) {
          ++counters_.failed_calls;
          return;
        }
        bot.presence = r->presence;
        bot.reason = r->reason;
        if (!bot.human && then) then();
      }));
}

void DemoDriver::ScheduleBreak(const std::string& agent) {
  if (options_.reason_codes.empty()) return;
  Bot& bot = bots_[agent];
  CancelTimer(bot.break_timer);
  bot.break_timer = After(Draw(dist_->between_breaks), [this, agent] {
    Bot& b = bots_[agent];
    b.break_timer = 0;
    if (b.human) return;
    if (!b.working.empty() || !b.ringing.empty()) return ScheduleBreak(agent);  // not mid-call
    RequestPresence(agent, Presence::kNotReady, PickOne(options_.reason_codes, random_),
                    [this, agent] {
                      ++counters_.breaks;
                      Bot& on_break = bots_[agent];
                      on_break.break_timer = After(Draw(dist_->break_length), [this, agent] {
                        Bot& back = bots_[agent];
                        back.break_timer = 0;
                        if (back.human) return;
                        RequestPresence(agent, Presence::kAvailable, "",
                                        [this, agent] { ScheduleBreak(agent); });
                      });
                    });
  });
}

void DemoDriver::Ring(const std::string& agent, ContactId id, Channel channel, Duration ring) {
  Bot& bot = bots_[agent];
  if (bot.human || bot.ringing.count(id) > 0) return;
  bot.ringing[id] = After(ring, [this, agent, id, channel] {
    bots_[agent].ringing.erase(id);
    Accept(agent, id, channel);
  });
}

void DemoDriver::Accept(const std::string& agent, ContactId id, Channel channel) {
  accepting_.insert(id);
  center_.AcceptOffer(
      options_.caller, id, agent,
      OnLoop<ports::ContactSnapshot>([this, agent, id, channel](auto r) {
        accepting_.erase(id);
        if (!r.ok()) {
          ++counters_.failed_calls;  // withdrawn, or taken by someone else meanwhile
          return;
        }
        ++counters_.offers_accepted;
        bots_[agent].working.insert(id);
        Handle(agent, id, Draw(HandleTime(channel)));
      }));
}

void DemoDriver::Handle(const std::string& agent, ContactId id, Duration handle) {
  After(handle, [this, agent, id] {
    center_.EndHandling(options_.caller, id,
                        OnLoop<ports::ContactSnapshot>([this, agent, id](auto r) {
                          if (!r.ok()) {
                            ++counters_.failed_calls;  // ended by someone else
                            return Finished(agent, id);
                          }
                          if (r->record.state != ContactState::kWrapUp) return Finished(agent, id);
                          WrapUp(agent, id, Draw(dist_->wrap_up));
                        }));
  });
}

void DemoDriver::WrapUp(const std::string& agent, ContactId id, Duration wrap) {
  After(wrap, [this, agent, id] {
    ports::WrapUp w;
    w.disposition = PickOne(options_.disposition_codes, random_);
    center_.CompleteWrapUp(options_.caller, id, std::move(w),
                           OnLoop<ports::ContactSnapshot>([this, agent, id](auto r) {
                             if (r.ok()) {
                               ++counters_.wrap_ups_completed;
                             } else {
                               ++counters_.failed_calls;  // the queue's wrap-up time ran out
                             }
                             Finished(agent, id);
                           }));
  });
}

void DemoDriver::Finished(const std::string& agent, ContactId id) {
  bots_[agent].working.erase(id);
}

void DemoDriver::HandOver(const std::string& agent, Bot& bot, const std::string& why) {
  if (bot.human) return;
  bot.human = true;
  ++counters_.handovers;
  CancelTimer(bot.break_timer);
  for (auto& [id, timer] : bot.ringing) CancelTimer(timer);
  bot.ringing.clear();
  Audit("demo.handover", "agent:" + agent, Status::Ok(), why);
}

// ---------------------------------------------------------------------------------------------
// Events

Channel DemoDriver::ChannelOf(const ports::PublishedEvent& e) {
  const auto j = nlohmann::json::parse(e.json, nullptr, false);
  const auto channel =
      ParseChannel(j.is_discarded() ? std::string() : j.value("channel", std::string()));
  return channel.value_or(Channel::kTask);
}

void DemoDriver::OnEvents(const std::vector<ports::PublishedEvent>& events) {
  for (const ports::PublishedEvent& e : events) OnEvent(e);
}

void DemoDriver::OnEvent(const ports::PublishedEvent& e) {
  const std::string& type = e.type;
  if (type == "offer.accepted" || type == "contact.removed" || type == "contact.abandoned" ||
      type == "contact.closed") {
    auto w = waiting_.find(e.contact);
    if (w != waiting_.end()) {
      CancelTimer(w->second);
      waiting_.erase(w);
    }
  }
  auto found = bots_.find(e.agent);
  if (e.agent.empty() || found == bots_.end()) return;
  Bot& bot = found->second;
  const std::string& agent = found->first;
  if (type == "agent.presence_changed") {
    const auto j = nlohmann::json::parse(e.json, nullptr, false);
    if (j.is_discarded()) return;
    const std::string name = j.value("presence", "");
    const std::string reason = j.value("reason", "");
    const Presence presence = name == "available"   ? Presence::kAvailable
                              : name == "not-ready" ? Presence::kNotReady
                                                    : Presence::kOffline;
    bot.presence = presence;
    bot.reason = reason;
    auto it = std::find(bot.expected.begin(), bot.expected.end(), std::make_pair(presence, reason));
    if (it != bot.expected.end()) {
      bot.expected.erase(it);
    } else if (presence == Presence::kNotReady && reason == kMissedReason) {
      // The ACD's own doing after missed offers: the bot comes back shortly.
      if (!bot.human) {
        CancelTimer(bot.break_timer);
        bot.break_timer = After(Seconds(5 * options_.time_scale), [this, agent] {
          bots_[agent].break_timer = 0;
          if (!DrivesAgent(agent)) return;
          RequestPresence(agent, Presence::kAvailable, "", [this, agent] { ScheduleBreak(agent); });
        });
      }
    } else {
      HandOver(agent, bot, "presence set to " + name + " by another caller");
    }
  } else if (type == "contact.offered") {
    const Channel channel = ChannelOf(e);
    if (bot.human || (channel == Channel::kVoice && options_.voice_by_phone)) return;
    Ring(agent, e.contact, channel, Draw(dist_->ring));
  } else if (type == "offer.accepted") {
    if (accepting_.count(e.contact) == 0) {
      HandOver(
          agent, bot,
          "offer of contact " + std::to_string(e.contact.value()) + " accepted by another caller");
    }
  } else if (type == "offer.rejected") {
    if (ChannelOf(e) == Channel::kVoice && options_.voice_by_phone) return;  // phone unanswered
    HandOver(
        agent, bot,
        "offer of contact " + std::to_string(e.contact.value()) + " rejected by another caller");
  } else if (type == "offer.timed_out" || type == "offer.withdrawn") {
    auto it = bot.ringing.find(e.contact);
    if (it != bot.ringing.end()) {
      CancelTimer(it->second);
      bot.ringing.erase(it);
    }
  }
}

}  // namespace parley::demo
