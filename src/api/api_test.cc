// <utility> first: Boost 1.74 Asio under C++20 with g++ 12 needs std::exchange declared.
#include <date/date.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

#include "api/http_server.h"
#include "api/recordings.h"
#include "api/request.h"
#include "api/staffing.h"
#include "api/views.h"
#include "auth/audit.h"
#include "auth/authenticator.h"
#include "auth/password.h"
#include "auth/sessions.h"
#include "auth/sip_digest.h"
#include "auth/throttle.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "base/text.h"
#include "config/config.h"
#include "engine/engine.h"
#include "runtime/event_loop.h"
#include "store/memory_store.h"

namespace parley::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr TimePoint kT0 = FromMicros(1'800'000'000'000'000);

class FixedClock : public Clock {
 public:
  TimePoint Now() const override { return kT0; }
};

// A ContactCenter that answers from the calling thread, records what it was asked, and lets the
// test publish events to subscribers.
class FakeCenter : public ports::ContactCenter {
 public:
  struct Call {
    std::string what;
    ports::Caller caller;
    std::string arg;
  };

  void ListAgents(const ports::Caller& who,
                  ports::Reply<std::vector<ports::AgentSnapshot>> r) override {
    Record("ListAgents", who, "");
    r(std::vector<ports::AgentSnapshot>{Agent("a1", "north"), Agent("a2", "south")});
  }
  void GetAgent(const ports::Caller& who, std::string agent,
                ports::Reply<ports::AgentSnapshot> r) override {
    Record("GetAgent", who, agent);
    if (agent == "ghost") return r(NotFound("no agent 'ghost'"));
    r(Agent(agent, "north"));
  }
  void SetPresence(const ports::Caller& who, std::string agent, Presence presence,
                   std::string reason, ports::Reply<ports::AgentSnapshot> r) override {
    Record("SetPresence", who, agent + ":" + std::string(PresenceName(presence)) + ":" + reason);
    if (presence == Presence::kNotReady && reason.empty()) {
      return r(InvalidArgument("Not Ready needs a reason code: lunch, training"));
    }
    auto a = Agent(agent, "north");
    a.presence = presence;
    a.reason = reason;
    r(a);
  }
  void ListQueues(const ports::Caller& who,
                  ports::Reply<std::vector<ports::QueueSnapshot>> r) override {
    Record("ListQueues", who, "");
    r(std::vector<ports::QueueSnapshot>{Queue("sales"), Queue("support")});
  }
  void GetQueue(const ports::Caller& who, std::string queue,
                ports::Reply<ports::QueueSnapshot> r) override {
    Record("GetQueue", who, queue);
    r(Queue(queue));
  }
  void CreateContact(const ports::Caller& who, ports::NewContact c,
                     ports::Reply<ports::ContactSnapshot> r) override {
    std::string skills;
    for (const auto& [s, p] : c.skills) skills += s + "=" + std::to_string(p) + ",";
    Record("CreateContact", who,
           c.queue + ":" + std::string(ChannelName(c.channel)) + ":" + std::to_string(c.priority) +
               ":" + skills + (c.from ? ":" + c.from->address : ""));
    if (c.queue == "nope") return r(InvalidArgument("no queue 'nope'"));
    auto s = Contact(77);
    s.record.queue = c.queue;
    s.record.attributes = c.attributes;
    r(s);
  }
  void GetContact(const ports::Caller& who, ContactId id,
                  ports::Reply<ports::ContactSnapshot> r) override {
    Record("GetContact", who, std::to_string(id.value()));
    if (id.value() == 404) return r(NotFound("no contact 404"));
    r(Contact(id.value()));
  }
  void ListContacts(const ports::Caller& who, ports::ContactFilter f,
                    ports::Reply<std::vector<ports::ContactSnapshot>> r) override {
    Record("ListContacts", who,
           f.queue + ":" + f.agent + ":" + std::to_string(f.limit) + ":" +
               (f.state ? std::string(ContactStateName(*f.state)) : ""));
    r(std::vector<ports::ContactSnapshot>{Contact(42)});
  }
  void AcceptOffer(const ports::Caller& who, ContactId id, std::string agent,
                   ports::Reply<ports::ContactSnapshot> r) override {
    Record("AcceptOffer", who, std::to_string(id.value()) + ":" + agent);
    if (id.value() == 409) return r(Conflict("contact 409 is not offered to " + agent));
    r(Contact(id.value()));
  }
  void RejectOffer(const ports::Caller& who, ContactId id, std::string agent,
                   ports::Reply<ports::ContactSnapshot> r) override {
    Record("RejectOffer", who, std::to_string(id.value()) + ":" + agent);
    r(Contact(id.value()));
  }
  void EndHandling(const ports::Caller& who, ContactId id,
                   ports::Reply<ports::ContactSnapshot> r) override {
    Record("EndHandling", who, std::to_string(id.value()));
    r(Contact(id.value()));
  }
  void CompleteWrapUp(const ports::Caller& who, ContactId id, ports::WrapUp w,
                      ports::Reply<ports::ContactSnapshot> r) override {
    Record("CompleteWrapUp", who, std::to_string(id.value()) + ":" + w.disposition + ":" + w.notes);
    r(Contact(id.value()));
  }
  void HoldContact(const ports::Caller& who, ContactId id, bool on_hold,
                   ports::Reply<ports::ContactSnapshot> r) override {
    Record("HoldContact", who, std::to_string(id.value()) + ":" + (on_hold ? "hold" : "resume"));
    if (id.value() == 409) return r(Conflict("contact 409 is already on hold"));
    r(Contact(id.value()));
  }
  void MuteContact(const ports::Caller& who, ContactId id, bool muted,
                   ports::Reply<ports::ContactSnapshot> r) override {
    Record("MuteContact", who, std::to_string(id.value()) + ":" + (muted ? "true" : "false"));
    r(Contact(id.value()));
  }
  void SendDigits(const ports::Caller& who, ContactId id, std::string digits,
                  ports::Reply<ports::ContactSnapshot> r) override {
    Record("SendDigits", who, std::to_string(id.value()) + ":" + digits);
    r(Contact(id.value()));
  }
  void HangupContact(const ports::Caller& who, ContactId id,
                     ports::Reply<ports::ContactSnapshot> r) override {
    Record("HangupContact", who, std::to_string(id.value()));
    r(Contact(id.value()));
  }
  void MonitorContact(const ports::Caller& who, ContactId id,
                      std::optional<ports::MonitorMode> mode,
                      ports::Reply<ports::ContactSnapshot> r) override {
    Record("MonitorContact", who,
           std::to_string(id.value()) + ":" +
               (mode ? std::to_string(static_cast<int>(*mode)) : std::string("stop")));
    if (id.value() == 422) return r(InvalidArgument("user sup has no registered phone"));
    if (id.value() == 409) return r(Conflict("contact 409 is not a call being handled"));
    r(Contact(id.value()));
  }
  void ConsultContact(const ports::Caller& who, ContactId id, ConsultStep step, std::string target,
                      ports::Reply<ports::ContactSnapshot> r) override {
    Record(
        "ConsultContact", who,
        std::to_string(id.value()) + ":" + std::to_string(static_cast<int>(step)) + ":" + target);
    if (id.value() == 409) return r(Conflict("contact 409 has no consultation to complete"));
    ports::ContactSnapshot c = Contact(id.value());
    if (step == ConsultStep::kStartQueue) {  // nobody of the queue is free: it waits
      c.consult_queue = target;
      c.consult_state = "waiting";
    }
    r(std::move(c));
  }
  void PlaceCall(const ports::Caller& who, ports::OutboundCall call,
                 ports::Reply<ports::ContactSnapshot> r) override {
    Record("PlaceCall", who, call.agent + ":" + call.number + ":" + call.queue);
    if (call.number == "+33123") {
      return r(InvalidArgument("number '+33123' is not an allowed destination"));
    }
    r(Contact(7));
  }
  void TransferContact(const ports::Caller& who, ContactId id, ports::TransferTarget target,
                       ports::Reply<ports::ContactSnapshot> r) override {
    const char* kind = target.kind == ports::TransferTarget::Kind::kAgent    ? "agent:"
                       : target.kind == ports::TransferTarget::Kind::kNumber ? "number:"
                                                                             : "";
    Record("TransferContact", who, std::to_string(id.value()) + ":" + kind + target.name);
    r(Contact(id.value()));
  }
  void CancelContact(const ports::Caller& who, ContactId id,
                     ports::Reply<ports::ContactSnapshot> r) override {
    Record("CancelContact", who, std::to_string(id.value()));
    r(Contact(id.value()));
  }
  void ExplainContact(const ports::Caller& who, ContactId id,
                      ports::Reply<std::string> r) override {
    Record("ExplainContact", who, std::to_string(id.value()));
    r(std::string("contact " + std::to_string(id.value()) + " waits: no agent free"));
  }
  // Customers: 7 exists (identity voice:+15550007, one note); 404 does not.
  static ports::Customer Customer7() {
    ports::Customer c;
    c.id = ports::CustomerId(7);
    c.name = "Ann Lee";
    c.identities = {{Channel::kVoice, "+15550007"}};
    c.fields_json = R"({"tier":"gold"})";
    c.tags = {"vip"};
    c.created = c.updated = kT0;
    return c;
  }
  void SearchCustomers(const ports::Caller& who, std::string prefix, size_t limit,
                       ports::Reply<std::vector<ports::Customer>> r) override {
    Record("SearchCustomers", who, prefix + ":" + std::to_string(limit));
    r(std::vector<ports::Customer>{Customer7()});
  }
  void GetCustomer(const ports::Caller& who, ports::CustomerId id,
                   ports::Reply<ports::CustomerView> r) override {
    Record("GetCustomer", who, std::to_string(id.value()));
    if (id.value() != 7) return r(NotFound("no customer " + std::to_string(id.value())));
    r(ports::CustomerView{Customer7(), {ports::CustomerNote{1, id, kT0, "sup", "called twice"}}});
  }
  void CreateCustomer(const ports::Caller& who, ports::Customer c,
                      ports::Reply<ports::CustomerView> r) override {
    Record("CreateCustomer", who, c.name + ":" + std::to_string(c.identities.size()));
    if (c.name.empty()) return r(InvalidArgument("a customer needs a name"));
    c.id = ports::CustomerId(8);
    r(ports::CustomerView{c, {}});
  }
  void UpdateCustomer(const ports::Caller& who, ports::Customer c,
                      ports::Reply<ports::CustomerView> r) override {
    Record("UpdateCustomer", who, std::to_string(c.id.value()) + ":" + c.name);
    if (c.id.value() != 7) return r(NotFound("no customer"));
    r(ports::CustomerView{c, {}});
  }
  void AddCustomerNote(const ports::Caller& who, ports::CustomerId id, std::string text,
                       ports::Reply<ports::CustomerNote> r) override {
    Record("AddCustomerNote", who, std::to_string(id.value()) + ":" + text);
    if (id.value() != 7) return r(NotFound("no customer"));
    r(ports::CustomerNote{2, id, kT0, who.user, text});
  }
  void CustomerTimeline(const ports::Caller& who, ports::CustomerId id, size_t limit,
                        ports::Reply<std::vector<ports::ContactRecord>> r) override {
    Record("CustomerTimeline", who, std::to_string(id.value()) + ":" + std::to_string(limit));
    if (id.value() != 7) return r(NotFound("no customer"));
    r(std::vector<ports::ContactRecord>{Contact(42).record});
  }
  void ExportCustomer(const ports::Caller& who, ports::CustomerId id,
                      ports::Reply<ports::CustomerExport> r) override {
    Record("ExportCustomer", who, std::to_string(id.value()));
    if (id.value() != 7) return r(NotFound("no customer"));
    r(ports::CustomerExport{Customer7(), {}, {Contact(42).record}});
  }
  void EraseCustomer(const ports::Caller& who, ports::CustomerId id,
                     ports::Reply<ports::CustomerId> r) override {
    Record("EraseCustomer", who, std::to_string(id.value()));
    if (id.value() != 7) return r(NotFound("no customer"));
    r(id);
  }
  void ControlRecording(const ports::Caller& who, ContactId id, ports::RecordingCommand command,
                        ports::Reply<ports::ContactSnapshot> r) override {
    Record("ControlRecording", who,
           std::to_string(id.value()) + ":" + std::to_string(static_cast<int>(command)));
    if (id.value() == 409) return r(Conflict("queue 'sales' never records calls"));
    r(Contact(id.value()));
  }
  void ListRecordings(const ports::Caller& who, ports::RecordingFilter f,
                      ports::Reply<std::vector<ports::RecordingRecord>> r) override {
    Record("ListRecordings", who,
           f.queue + ":" + (f.agents.empty() ? "" : f.agents[0]) + ":" +
               std::to_string(f.after_id) + ":" + std::to_string(f.limit));
    r(std::vector<ports::RecordingRecord>{Recording(5)});
  }
  void GetRecording(const ports::Caller& who, uint64_t id,
                    ports::Reply<ports::RecordingRecord> r) override {
    Record("GetRecording", who, std::to_string(id));
    if (id == 404) return r(NotFound("no recording 404"));
    r(Recording(id));
  }
  inline static std::string recording_file;  // recording 6's audio
  static ports::RecordingRecord Recording(uint64_t id) {
    ports::RecordingRecord rec;
    rec.id = id;
    rec.contact = ContactId(42);
    rec.path = id == 6 ? recording_file : "/nonexistent/recordings/42.wav";
    rec.bytes = 44;
    rec.sha256 = std::string(64, 'b');
    rec.queue = "sales";
    rec.agent = "a1";
    return rec;
  }
  void GetMetrics(ports::Reply<ports::MetricsSnapshot> r) override {
    ports::MetricsSnapshot m;
    ports::MetricsSnapshot::Queue q;
    q.name = "sales";
    q.waiting = 3;
    q.longest_wait = Seconds(12.5);
    q.offered_total = 10;
    q.answered_total = 5;
    q.abandoned_total = 1;
    q.answer_wait_buckets = {{Seconds(5), 2}, {Seconds(20), 4}};
    q.answer_wait_sum = Seconds(40);
    m.queues.push_back(q);
    m.agents_by_presence = {
        {Presence::kOffline, 1}, {Presence::kAvailable, 2}, {Presence::kNotReady, 0}};
    m.last_seq = 99;
    r(m);
  }

  class FakeSubscription : public ports::Subscription {
   public:
    FakeSubscription(FakeCenter& c, uint64_t id) : center_(c), id_(id) {}
    ~FakeSubscription() override {
      std::lock_guard lock(center_.mu_);
      center_.sinks_.erase(id_);
    }

   private:
    FakeCenter& center_;
    uint64_t id_;
  };

  std::unique_ptr<ports::Subscription> Subscribe(const ports::Caller& who, ports::Sequence after,
                                                 ports::EventSink sink) override {
    Record("Subscribe", who, std::to_string(after));
    std::lock_guard lock(mu_);
    const uint64_t id = next_sink_++;
    sinks_[id] = std::move(sink);
    subscribed_.notify_all();
    return std::make_unique<FakeSubscription>(*this, id);
  }

  // Waits (bounded) until `n` subscribers are live.
  bool WaitForSubscribers(size_t n) {
    std::unique_lock lock(mu_);
    return subscribed_.wait_for(lock, std::chrono::seconds(5), [&] { return sinks_.size() >= n; });
  }
  void Publish(const std::vector<ports::PublishedEvent>& events) {
    std::lock_guard lock(mu_);
    for (auto& [id, sink] : sinks_) sink(events);
  }
  size_t subscribers() {
    std::lock_guard lock(mu_);
    return sinks_.size();
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::optional<Call> Last(std::string_view what) {
    std::lock_guard lock(mu_);
    for (auto it = calls_.rbegin(); it != calls_.rend(); ++it) {
      if (it->what == what) return *it;
    }
    return std::nullopt;
  }

 private:
  void Record(std::string what, const ports::Caller& who, std::string arg) {
    std::lock_guard lock(mu_);
    calls_.push_back({std::move(what), who, std::move(arg)});
  }
  static ports::AgentSnapshot Agent(std::string id, std::string team) {
    ports::AgentSnapshot a;
    a.id = id;
    a.name = "Agent " + id;
    a.team = std::move(team);
    a.presence = Presence::kAvailable;
    a.skills = {{"english", 4}};
    a.capacity = {{Channel::kVoice, 1}};
    a.queues = {"sales"};
    return a;
  }
  static ports::QueueSnapshot Queue(std::string name) {
    ports::QueueSnapshot q;
    q.name = std::move(name);
    q.channels = {Channel::kVoice};
    q.waiting = 2;
    q.longest_wait = Seconds(30);
    q.recording = q.name == "sales" ? RecordingPolicy::kOnDemand : RecordingPolicy::kNever;
    return q;
  }
  static ports::ContactSnapshot Contact(uint64_t id) {
    ports::ContactSnapshot c;
    c.record.id = ContactId(id);
    c.record.channel = Channel::kTask;
    c.record.state = ports::ContactState::kQueued;
    c.record.queue = "sales";
    c.record.times.arrived = kT0;
    return c;
  }

  std::mutex mu_;
  std::condition_variable subscribed_;
  std::vector<Call> calls_;
  std::map<uint64_t, ports::EventSink> sinks_;
  uint64_t next_sink_ = 1;
};

// A Staffing port that records the query and answers a canned plan, or refuses calls of 13 as
// the real one refuses bad inputs (kInvalidArgument naming the field).
class FakeSimulation : public ports::Simulation {
 public:
  Result<std::string> Run(const ports::SimulationQuery& query) const override {
    std::lock_guard lock(mu_);
    last_ = query;
    if (query.scenario == "bad") return InvalidArgument("scenario.yaml:1:1: expected a map");
    if (query.scenario == "busy") return Conflict("another simulation is running");
    if (query.scenario == "huge") return Unavailable("the simulation took longer than 20 s");
    return std::string(R"({"scenario":"fake","overall":{"service_level":0.8}})");
  }
  ports::SimulationQuery last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  mutable ports::SimulationQuery last_;
};

class FakeStaffing : public ports::Staffing {
 public:
  Result<std::string> Plan(const ports::StaffingQuery& query) const override {
    std::lock_guard lock(mu_);
    last_ = query;
    if (query.calls == 13) return InvalidArgument("calls must not be 13, got 13");
    return std::string(R"({"model":"erlang_c","agents":54})");
  }
  ports::StaffingQuery last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  mutable ports::StaffingQuery last_;
};

// A Reports port that answers from the calling thread with two canned rows, and records the
// query; an interval of "2h" is refused as the engine would.
class FakeReports : public ports::Reports {
 public:
  void ListWorkCodes(ports::Reply<ports::WorkCodes> reply) override {
    reply(ports::WorkCodes{
        {{"lunch", "Lunch break"}}, {{"sale", "Sale made"}, {"no-sale", ""}}, "Europe/Paris"});
  }
  void RunReport(const ports::Caller& who, ports::ReportQuery query,
                 ports::Reply<ports::Report> reply) override {
    {
      std::lock_guard lock(mu_);
      last_caller_ = who;
      last_query_ = query;
    }
    if (query.interval == "2h") return reply(InvalidArgument("interval: must be one of ..."));
    ports::Report r;
    r.subject = query.subject;
    r.interval = query.interval;
    r.time_zone = "Europe/Paris";
    r.from = query.from;
    r.to = query.to;
    r.as_of = query.to;
    ports::ReportRow row;
    row.name = "sales, east";  // a comma: quoted in CSV
    row.start = query.from;
    row.end = query.to;
    row.offered = 3;
    row.answered = 2;
    row.service_level = 0.5;
    row.asa = Seconds(12.5);
    row.handled = 2;
    row.aht = Seconds(100);
    row.fcr_contacts = 4;
    row.fcr = 0.75;
    row.fcr_open = 1;
    r.rows.push_back(row);
    row.offered = 0;
    row.service_level.reset();
    row.asa.reset();
    r.rows.push_back(row);
    reply(std::move(r));
  }
  std::pair<ports::Caller, ports::ReportQuery> last() {
    std::lock_guard lock(mu_);
    return {last_caller_, last_query_};
  }

 private:
  std::mutex mu_;
  ports::Caller last_caller_;
  ports::ReportQuery last_query_;
};

struct Answer {
  int status = 0;
  std::string body;
  http::response<http::string_body> raw;
  Json json() const { return Json::parse(body, nullptr, false); }
  std::string error_code() const {
    auto j = json();
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
  std::string error_message() const {
    auto j = json();
    return j.is_object() && j.contains("error") ? j["error"].value("message", "") : "";
  }
  std::string header(http::field f) const { return std::string(raw[f]); }
};

const std::vector<Role> kRoles(kAllRoles.begin(), kAllRoles.end());

std::string LoginOf(Role r) {
  switch (r) {
    case Role::kAdministrator:
      return "admin";
    case Role::kSupervisor:
      return "sup";
    case Role::kTeamLead:
      return "lead";
    case Role::kQaAnalyst:
      return "qa";
    case Role::kAgent:
      return "agent1";
    case Role::kWallboard:
      return "wall";
  }
  return "";
}

std::string PasswordOf(const std::string& login) { return "password of " + login; }

// The configuration routes' port: version 1 is current; a document containing "bad" is invalid.
class FakeAdministration : public ports::ConfigAdministration {
 public:
  Result<ports::ConfigDocument> CurrentConfig() override {
    return ports::ConfigDocument{1, "queues: []\n", "serve", kT0, "seeded"};
  }
  Result<std::vector<ports::ConfigDocument>> ConfigHistory(size_t) override {
    return std::vector<ports::ConfigDocument>{{1, "", "serve", kT0, "seeded"}};
  }
  Result<ports::ConfigApplyOutcome> ApplyConfig(const ports::ConfigApplyRequest& r) override {
    ports::ConfigApplyOutcome o;
    if (r.yaml.find("bad") != std::string::npos) {
      o.problems.push_back({3, 14, "unknown key 'bad' in queue 'sales'", ""});
      return o;
    }
    if (r.expected_version != 1) return Conflict("the configuration changed: version 1 is current");
    o.version = r.dry_run ? 1 : 2;
    o.applied = !r.dry_run;
    o.changes.push_back({"queues", "sales", "changed"});
    last_applied_by = r.applied_by;
    return o;
  }
  Result<ports::QueueSettings> GetQueueSettings(const std::string& queue) override {
    if (queue != "sales") return NotFound("no queue '" + queue + "'");
    ports::QueueSettings q;
    q.name = "sales";
    q.strategy = "longest-idle";
    q.version = 1;
    return q;
  }
  Result<ports::ConfigApplyOutcome> EditQueue(const std::string& queue,
                                              const ports::QueueEdit& edit) override {
    if (queue != "sales") return NotFound("no queue '" + queue + "'");
    last_edit = edit;
    ports::ConfigApplyOutcome o;
    o.version = 2;
    o.applied = true;
    o.changes.push_back({"queues", "sales", "changed"});
    return o;
  }
  Result<ports::ConfigNames> Names() override {
    return ports::ConfigNames{{"sup"}, {"a1", "a2"}, {"north"}};
  }
  std::string last_applied_by;
  ports::QueueEdit last_edit;
};

class ApiTest : public ::testing::Test {
 protected:
  ApiTest()
      : hasher_(auth::PasswordLimits::ForTests()),
        users_(hasher_),
        sessions_(auth::SessionPolicy{}, auth::CookieOptions{false, "/"}),
        authenticator_(users_, sessions_, tokens_, hasher_, throttle_, audit_) {
    for (Role r : kRoles) {
      const std::string login = LoginOf(r);
      auth::UserProfile p{login, "", {r}, "", ""};
      if (r == Role::kTeamLead) p.team = "north";
      if (r == Role::kAgent) {
        p.team = "north";
        p.agent = "a1";
      }
      auto id = users_.Create(p, kT0);
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      EXPECT_TRUE(users_.SetPassword(*id, PasswordOf(login), kT0).ok());
    }
  }

  ~ApiTest() override { server_.reset(); }

  void StartServer(HttpServerOptions options = {}) {
    options.port = 0;
    options.io_threads = 2;
    server_ = std::make_unique<HttpServer>(
        options, *port_, AuthParts{authenticator_, sessions_, tokens_, users_, &audit_}, clock_);
    server_->AttachReports(&reports_);
    server_->AttachStaffing(&staffing_);
    server_->AttachSimulation(&simulation_);
    server_->SetConfigAdministration(&admin_);
    if (live_) server_->AttachLiveView(live_);
    const Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  tcp::endpoint Endpoint() const { return {net::ip::make_address("127.0.0.1"), server_->port()}; }

  Answer Send(http::verb method, std::string target, std::string body = "",
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    return SendTo(Endpoint(), method, std::move(target), std::move(body), std::move(headers));
  }
  Answer SendTo(const tcp::endpoint& endpoint, http::verb method, std::string target,
                std::string body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(endpoint);
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (auto& [k, v] : headers) req.set(k, v);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buffer;
    Answer a;
    http::read(socket, buffer, a.raw);
    a.status = static_cast<int>(a.raw.result_int());
    a.body = a.raw.body();
    return a;
  }

  // Writes raw bytes and reads one response.
  Answer SendRaw(const std::string& bytes) {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(Endpoint());
    net::write(socket, net::buffer(bytes));
    beast::flat_buffer buffer;
    Answer a;
    beast::error_code ec;
    http::read(socket, buffer, a.raw, ec);
    EXPECT_FALSE(ec) << ec.message();
    a.status = static_cast<int>(a.raw.result_int());
    a.body = a.raw.body();
    return a;
  }

  std::string Login(const std::string& login) {
    Answer a = Send(http::verb::post, "/api/v1/auth/login",
                    Json{{"login", login}, {"password", PasswordOf(login)}}.dump());
    EXPECT_EQ(a.status, 200) << a.body;
    const std::string cookie = a.header(http::field::set_cookie);
    const auto end = cookie.find(';');
    return cookie.substr(0, end);  // "parley_session=..."
  }

  Answer As(const std::string& cookie, http::verb method, std::string target,
            std::string body = "") {
    return Send(method, std::move(target), std::move(body), {{"Cookie", cookie}});
  }

  std::string MetricsText() {
    Answer a = Send(http::verb::get, "/metrics", "", {{"Cookie", Login("admin")}});
    EXPECT_EQ(a.status, 200);
    return a.body;
  }

  FixedClock clock_;
  FakeCenter center_;
  FakeReports reports_;
  FakeStaffing staffing_;
  FakeSimulation simulation_;
  FakeAdministration admin_;
  const ports::LiveView* live_ = nullptr;  // attached by StartServer when set
  ports::ContactCenter* port_ = &center_;  // the port StartServer's server calls
  auth::PasswordHasher hasher_;
  auth::UserDirectory users_;
  auth::SessionStore sessions_;
  auth::TokenStore tokens_;
  auth::LoginThrottle throttle_;
  auth::AuditLog audit_;
  auth::Authenticator authenticator_;
  std::unique_ptr<HttpServer> server_;
};

// ---------------------------------------------------------------------------------------------
// Authentication

TEST_F(ApiTest, LoginSetsSessionCookieThenMeThenLogoutEndsIt) {
  StartServer();
  Answer login = Send(http::verb::post, "/api/v1/auth/login",
                      R"({"login":"agent1","password":"password of agent1"})");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string set_cookie = login.header(http::field::set_cookie);
  EXPECT_THAT(set_cookie, HasSubstr("parley_session="));
  EXPECT_THAT(set_cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(set_cookie, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(set_cookie, ::testing::Not(HasSubstr("Secure")));  // plain HTTP
  EXPECT_EQ(login.json()["user"]["login"], "agent1");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));

  Answer me = As(cookie, http::verb::get, "/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["login"], "agent1");
  EXPECT_EQ(me.json()["agent"], "a1");
  EXPECT_EQ(me.json()["permissions"]["agent.state"], "self");
  EXPECT_EQ(me.json()["via"], "session");

  Answer logout = As(cookie, http::verb::post, "/api/v1/auth/logout");
  EXPECT_EQ(logout.status, 204);
  EXPECT_THAT(logout.header(http::field::set_cookie), HasSubstr("Max-Age=0"));

  Answer after = As(cookie, http::verb::get, "/api/v1/me");
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.error_code(), "unauthenticated");
}

// A connection keeps its last session cookie's hash between requests; the session itself is
// checked on every request, so a logout or a disabled user ends the session at once even on a
// keep-alive connection that used it a moment before.
TEST_F(ApiTest, KeepAliveConnectionSeesLogoutAndDisabledUserAtOnce) {
  StartServer();
  const std::string agent = Login("agent1");
  const std::string sup = Login("sup");
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(Endpoint());
  beast::flat_buffer buffer;
  auto me = [&](const std::string& cookie) {
    http::request<http::string_body> req{http::verb::get, "/api/v1/me", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::cookie, cookie);
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    EXPECT_TRUE(res.keep_alive());
    return res.result_int();
  };
  EXPECT_EQ(me(agent), 200u);
  EXPECT_EQ(me(sup), 200u);
  EXPECT_EQ(me(agent), 200u);
  EXPECT_EQ(me("parley_session=not-a-session"), 401u);
  EXPECT_EQ(me(agent), 200u);
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/auth/logout").status, 204);
  EXPECT_EQ(me(agent), 401u);
  EXPECT_EQ(me(sup), 200u);
  ASSERT_TRUE(users_.SetDisabled(users_.FindByLogin("sup")->id, true, kT0).ok());
  EXPECT_EQ(me(sup), 401u);
}

TEST_F(ApiTest, MeListsTheConfiguredReasonAndDispositionCodes) {
  StartServer();
  Answer me = As(Login("agent1"), http::verb::get, "/api/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["reason_codes"], Json::parse(R"([{"code":"lunch","label":"Lunch break"}])"));
  EXPECT_EQ(me.json()["disposition_codes"],
            Json::parse(R"([{"code":"sale","label":"Sale made"},{"code":"no-sale","label":""}])"));
  // The site's time zone, in which the web UI's report presets count days.
  EXPECT_EQ(me.json()["time_zone"], "Europe/Paris");
}

TEST_F(ApiTest, LoginAnswersUnknownUserAndWrongPasswordAlike) {
  StartServer();
  Answer unknown = Send(http::verb::post, "/api/v1/auth/login",
                        R"({"login":"nobody","password":"whatever it is"})");
  Answer wrong = Send(http::verb::post, "/api/v1/auth/login",
                      R"({"login":"agent1","password":"not the password"})");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.body, wrong.body);
  EXPECT_EQ(wrong.error_message(), auth::kLoginFailed);
  EXPECT_TRUE(unknown.header(http::field::set_cookie).empty());
}

TEST_F(ApiTest, LoginThrottledAnswers429WithRetryAfter) {
  StartServer();
  Answer a;
  for (int i = 0; i < 6; ++i) {
    a = Send(http::verb::post, "/api/v1/auth/login",
             R"({"login":"agent1","password":"not the password"})");
  }
  EXPECT_EQ(a.status, 429) << a.body;
  EXPECT_EQ(a.error_code(), "throttled");
  EXPECT_THAT(a.error_message(), HasSubstr("too many login attempts"));
  EXPECT_FALSE(a.header(http::field::retry_after).empty());
}

TEST_F(ApiTest, BearerTokenIssuedUsedAndRevoked) {
  StartServer();
  const std::string admin = Login("admin");
  const uint64_t wall_id = users_.FindByLogin("wall")->id;
  Answer issued =
      As(admin, http::verb::post, "/api/v1/tokens",
         Json{{"user_id", wall_id}, {"scope", "wallboard"}, {"description", "lobby TV"}}.dump());
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string token = issued.json()["token"];
  const std::string prefix = issued.json()["prefix"];

  Answer queues =
      Send(http::verb::get, "/api/v1/queues", "", {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(queues.status, 200) << queues.body;
  EXPECT_EQ(queues.json()["queues"].size(), 2u);
  // Each queue shows its recording policy (the agent desktop hides Start on "never").
  EXPECT_EQ(queues.json()["queues"][0]["recording"], "on_demand");
  EXPECT_EQ(queues.json()["queues"][1]["recording"], "never");
  // A wallboard token may not change an agent's state.
  Answer denied = Send(http::verb::put, "/api/v1/agents/a1/presence", R"({"presence":"available"})",
                       {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(denied.status, 403);

  Answer list = As(admin, http::verb::get, "/api/v1/tokens");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json()["tokens"][0]["prefix"], prefix);
  EXPECT_FALSE(list.body.find(token) != std::string::npos) << "a token's secret is shown once";

  EXPECT_EQ(As(admin, http::verb::delete_, "/api/v1/tokens/" + prefix).status, 204);
  Answer after =
      Send(http::verb::get, "/api/v1/queues", "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(Send(http::verb::get, "/api/v1/queues", "", {{"Authorization", "Basic abc"}}).status,
            401);
}

// Fills a route pattern's "{name}" segments with values the fake knows.
std::string Concrete(const std::string& pattern) {
  std::string out = pattern;
  auto replace = [&](const std::string& from, const std::string& to) {
    if (auto p = out.find(from); p != std::string::npos) out.replace(p, from.size(), to);
  };
  replace("{id}", "42");
  replace("{agent}", "a1");
  replace("{queue}", "sales");
  replace("{prefix}", "pt_0000000000000000");
  return out;
}

// A body each route accepts, for `role`.
std::string BodyFor(const auth::RouteSpec& r, Role role) {
  if (r.method != "POST" && r.method != "PUT") return "";
  if (r.path.ends_with("/presence")) return R"({"presence":"available"})";
  if (r.path.ends_with("/tokens")) return Json{{"scope", RoleName(role)}}.dump();
  if (r.path.ends_with("/contacts")) return R"({"queue":"sales"})";
  if (r.path.ends_with("/transfer")) return R"({"queue":"support"})";
  if (r.path.ends_with("/mute")) return R"({"muted":true})";
  if (r.path.ends_with("/dtmf")) return R"({"digits":"1"})";
  if (r.path.ends_with("/customers") || r.path.ends_with("/customers/{id}")) {
    return R"({"name":"Zed"})";
  }
  if (r.path.ends_with("/notes")) return R"({"text":"hello"})";
  if (r.path.ends_with("/wrap-up")) return R"({"disposition":"done"})";
  if (r.path.ends_with("/accept") || r.path.ends_with("/reject")) return R"({"agent":"a1"})";
  if (r.path.ends_with("/recording")) return R"({"action":"pause"})";
  if (r.path.ends_with("/staffing")) return R"({"calls":10,"interval_seconds":1800,"aht":240})";
  if (r.path.ends_with("/simulations")) return R"({"scenario":"duration: 1h"})";
  return "";
}

http::verb Verb(const std::string& m) { return http::string_to_verb(m); }

TEST_F(ApiTest, EveryNonPublicRouteAnswers401WithoutLogin) {
  StartServer();
  size_t checked = 0;
  for (const auth::RouteSpec& r : server_->routes().routes()) {
    if (r.is_public) continue;
    Answer a = Send(Verb(r.method), Concrete(r.path), BodyFor(r, Role::kAdministrator));
    EXPECT_EQ(a.status, 401) << r.method << " " << r.path << ": " << a.body;
    EXPECT_EQ(a.error_code(), "unauthenticated") << r.method << " " << r.path;
    ++checked;
  }
  EXPECT_GE(checked, 20u);
  // Only /healthz, login and the static files are public.
  std::set<std::string> open;
  for (const auth::RouteSpec& r : server_->routes().routes()) {
    if (r.is_public) open.insert(r.method + " " + r.path);
  }
  EXPECT_EQ(open, (std::set<std::string>{"GET /healthz", "POST /api/v1/auth/login", "GET /*"}));
}

TEST_F(ApiTest, RoleMatrixWalkMatchesRouteRegistry) {
  StartServer();
  std::map<Role, std::string> cookies;
  for (Role r : kRoles) cookies[r] = Login(LoginOf(r));
  const auto matrix = auth::BuildAccessMatrix(server_->routes());
  size_t checked = 0;
  for (const auth::AccessRow& row : matrix) {
    if (row.is_public) continue;
    const auth::RouteSpec* spec = server_->routes().Find(row.method, Concrete(row.path));
    ASSERT_NE(spec, nullptr);
    for (size_t i = 0; i < kRoleCount; ++i) {
      const Role role = kAllRoles[i];
      Answer a = As(cookies[role], Verb(row.method), Concrete(row.path), BodyFor(*spec, role));
      const std::string what = row.method + " " + row.path + " as " + std::string(RoleName(role)) +
                               ": " + std::to_string(a.status) + " " + a.body;
      EXPECT_NE(a.status, 401) << what;
      if (row.reach[i] == auth::Reach::kNone) {
        EXPECT_EQ(a.status, 403) << what;
        EXPECT_EQ(a.error_code(), "forbidden") << what;
      } else {
        EXPECT_NE(a.status, 403) << what;
        EXPECT_LT(a.status, 500) << what;
      }
      if (row.path.ends_with("/logout")) cookies[role] = Login(LoginOf(role));
      ++checked;
    }
  }
  EXPECT_GE(checked, 20 * kRoleCount);
}

TEST_F(ApiTest, CallerReachFollowsThePrincipalsRoles) {
  StartServer();
  ASSERT_EQ(As(Login("lead"), http::verb::get, "/api/v1/agents").status, 200);
  auto lead = center_.Last("ListAgents");
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->caller.reach, ports::Caller::Reach::kTeam);
  EXPECT_EQ(lead->caller.team, "north");
  EXPECT_EQ(lead->caller.user, "lead");

  ASSERT_EQ(As(Login("agent1"), http::verb::get, "/api/v1/contacts?state=queued&limit=5").status,
            200);
  auto agent = center_.Last("ListContacts");
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->caller.reach, ports::Caller::Reach::kSelf);
  EXPECT_EQ(agent->caller.agent, "a1");
  EXPECT_EQ(agent->arg, "::5:queued");

  ASSERT_EQ(As(Login("sup"), http::verb::get, "/api/v1/queues/sales").status, 200);
  EXPECT_EQ(center_.Last("GetQueue")->caller.reach, ports::Caller::Reach::kAll);
}

// Issue 7: a plain agent consulting a colleague needs the colleagues' names and availability,
// which GET /agents (reach self) does not give; the directory does, and nothing more.
TEST_F(ApiTest, TheDirectoryGivesAnAgentEveryColleaguesNameAndAvailabilityOnly) {
  StartServer();
  Answer dir = As(Login("agent1"), http::verb::get, "/api/v1/directory");
  ASSERT_EQ(dir.status, 200) << dir.body;
  auto call = center_.Last("ListAgents");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->caller.reach, ports::Caller::Reach::kAll);
  EXPECT_EQ(call->caller.user, "agent1");
  const auto agents = dir.json()["agents"];
  ASSERT_TRUE(agents.is_array()) << dir.body;
  ASSERT_FALSE(agents.empty()) << dir.body;
  for (const auto& a : agents) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    EXPECT_EQ(keys,
              (std::set<std::string>{"id", "name", "team", "presence", "available_for_voice"}))
        << a.dump();
  }
  EXPECT_EQ(As(Login("agent1"), http::verb::get, "/api/v1/directory?x=1").status, 400);
}

// ---------------------------------------------------------------------------------------------
// REST

TEST_F(ApiTest, ContactLifecycleRoutesReachThePort) {
  StartServer();
  const std::string agent = Login("agent1");
  Answer created = As(agent, http::verb::post, "/api/v1/contacts",
                      R"({"channel":"task","queue":"sales","priority":5,
                          "skills":[{"skill":"french","proficiency":3}],
                          "attributes":{"order":"A-17"},
                          "from":{"channel":"sms","address":"+15550100"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["id"], "77");
  EXPECT_EQ(created.json()["attributes"]["order"], "A-17");
  EXPECT_EQ(center_.Last("CreateContact")->arg, "sales:task:5:french=3,:+15550100");

  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/accept").status, 200);
  EXPECT_EQ(center_.Last("AcceptOffer")->arg, "42:a1");  // the caller's own agent by default
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/end").status, 200);
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/wrap-up",
               R"({"disposition":"sold","notes":"happy"})")
                .status,
            200);
  EXPECT_EQ(center_.Last("CompleteWrapUp")->arg, "42:sold:happy");
  EXPECT_EQ(
      As(agent, http::verb::post, "/api/v1/contacts/42/transfer", R"({"queue":"support"})").status,
      200);
  EXPECT_EQ(center_.Last("TransferContact")->arg, "42:support");
  // Issue 8: one agent or an external number instead of a queue; the three keys are exclusive.
  EXPECT_EQ(
      As(agent, http::verb::post, "/api/v1/contacts/42/transfer", R"({"agent":"bob"})").status,
      200);
  EXPECT_EQ(center_.Last("TransferContact")->arg, "42:agent:bob");
  EXPECT_EQ(
      As(agent, http::verb::post, "/api/v1/contacts/42/transfer", R"({"number":"+15551234567"})")
          .status,
      200);
  EXPECT_EQ(center_.Last("TransferContact")->arg, "42:number:+15551234567");
  Answer both = As(agent, http::verb::post, "/api/v1/contacts/42/transfer",
                   R"({"queue":"support","agent":"bob"})");
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(both.json()["error"]["message"],
            "body.queue and body.agent are exclusive: give one of queue, agent, number");
  Answer none = As(agent, http::verb::post, "/api/v1/contacts/42/transfer", "{}");
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(none.json()["error"]["message"], "body: give one of queue, agent, number");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/transfer", R"({"agent":""})").status,
            400);
  EXPECT_EQ(center_.Last("TransferContact")->arg, "42:number:+15551234567");
  Answer explained = As(agent, http::verb::get, "/api/v1/contacts/42/explanation");
  EXPECT_EQ(explained.status, 200);
  EXPECT_EQ(explained.json()["explanation"], "contact 42 waits: no agent free");
  Answer presence = As(agent, http::verb::put, "/api/v1/agents/a1/presence",
                       R"({"presence":"not-ready","reason":"lunch"})");
  EXPECT_EQ(presence.status, 200);
  EXPECT_EQ(presence.json()["presence"], "not-ready");
  EXPECT_EQ(center_.Last("SetPresence")->arg, "a1:not-ready:lunch");
}

TEST_F(ApiTest, CallControlRoutesReachThePortAndCheckTheirBodies) {
  StartServer();
  const std::string agent = Login("agent1");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/hold").status, 200);
  EXPECT_EQ(center_.Last("HoldContact")->arg, "42:hold");
  Answer twice = As(agent, http::verb::post, "/api/v1/contacts/409/hold");
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(twice.error_message(), "contact 409 is already on hold");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/resume").status, 200);
  EXPECT_EQ(center_.Last("HoldContact")->arg, "42:resume");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/mute", R"({"muted":true})").status,
            200);
  EXPECT_EQ(center_.Last("MuteContact")->arg, "42:true");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/dtmf", R"({"digits":"12#ab"})").status,
            200);
  EXPECT_EQ(center_.Last("SendDigits")->arg, "42:12#AB");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/hangup").status, 200);
  EXPECT_EQ(center_.Last("HangupContact")->arg, "42");

  struct Case {
    std::string path;
    std::string body;
    std::string message;
  };
  const std::vector<Case> bad = {
      {"mute", "", "missing required field body.muted"},
      {"mute", R"({"muted":"yes"})", "body.muted must be a boolean, got string"},
      {"dtmf", R"({"digits":"12x"})",
       "body.digits: 'x' is not a DTMF digit (allowed: 0-9 * # A-D)"},
      {"dtmf", R"({"digits":""})", "body.digits must not be empty"},
      {"dtmf", R"({"digits":"1","tone":"long"})", "unknown field body.tone"},
      {"hold", R"({"music":"jazz"})", "unknown field body.music"},
  };
  for (const Case& c : bad) {
    Answer a = As(agent, http::verb::post, "/api/v1/contacts/42/" + c.path, c.body);
    EXPECT_EQ(a.status, 400) << c.path << " " << c.body << " → " << a.body;
    EXPECT_THAT(a.error_message(), HasSubstr(c.message)) << c.body;
  }
}

TEST_F(ApiTest, MonitorRoutesNeedCallsMonitorCheckTheModeAndAreAudited) {
  StartServer();
  const std::string sup = Login("sup");
  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/contacts/42/monitor", R"({"mode":"listen"})").status,
            200);
  EXPECT_EQ(center_.Last("MonitorContact")->arg, "42:0");
  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/contacts/42/monitor", R"({"mode":"barge"})").status,
            200);
  EXPECT_EQ(center_.Last("MonitorContact")->arg, "42:2");
  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/contacts/42/monitor", R"({"mode":"stop"})").status,
            200);
  EXPECT_EQ(center_.Last("MonitorContact")->arg, "42:stop");
  EXPECT_EQ(As(sup, http::verb::delete_, "/api/v1/contacts/42/monitor").status, 200);
  EXPECT_EQ(center_.Last("MonitorContact")->arg, "42:stop");
  EXPECT_EQ(
      As(sup, http::verb::post, "/api/v1/contacts/422/monitor", R"({"mode":"whisper"})").status,
      422);
  EXPECT_EQ(
      As(sup, http::verb::post, "/api/v1/contacts/409/monitor", R"({"mode":"whisper"})").status,
      409);
  Answer bad = As(sup, http::verb::post, "/api/v1/contacts/42/monitor", R"({"mode":"spy"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.error_message(),
            "body.mode is 'spy'; expected one of listen, whisper, barge, stop");
  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/contacts/42/monitor", "{}").status, 400);
  // Agents have no calls.monitor.
  EXPECT_EQ(
      As(Login("agent1"), http::verb::post, "/api/v1/contacts/42/monitor", R"({"mode":"listen"})")
          .status,
      403);
  std::vector<std::string> trail;
  for (const auto& e : audit_.Query({})) {
    if (e.action.starts_with("monitor.")) {
      trail.push_back(e.actor + " " + e.action + " " + e.target + " " +
                      std::string(auth::AuditOutcomeName(e.outcome)));
    }
  }
  EXPECT_EQ(trail, (std::vector<std::string>{
                       "sup monitor.listen contact:42 ok", "sup monitor.barge contact:42 ok",
                       "sup monitor.stop contact:42 ok", "sup monitor.stop contact:42 ok",
                       "sup monitor.whisper contact:422 failed",
                       "sup monitor.whisper contact:409 failed"}));
}

TEST_F(ApiTest, ConsultRoutesReachThePortWithTheirStepAndCheckTheBody) {
  StartServer();
  const std::string agent = Login("agent1");
  Answer started = As(agent, http::verb::post, "/api/v1/contacts/42/consult", R"({"agent":"bob"})");
  EXPECT_EQ(started.status, 200) << started.body;
  EXPECT_EQ(center_.Last("ConsultContact")->arg, "42:0:bob");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/consult/complete").status, 200);
  EXPECT_EQ(center_.Last("ConsultContact")->arg, "42:1:");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/consult/cancel").status, 200);
  EXPECT_EQ(center_.Last("ConsultContact")->arg, "42:2:");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/consult/conference").status, 200);
  EXPECT_EQ(center_.Last("ConsultContact")->arg, "42:3:");
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/409/consult/complete").status, 409);
  Answer missing = As(agent, http::verb::post, "/api/v1/contacts/42/consult", "{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.error_message(), HasSubstr("give the agent or the queue to consult"));
  // Issue 8: a queue's free member is consulted (step kStartQueue).
  Answer queue = As(agent, http::verb::post, "/api/v1/contacts/42/consult", R"({"queue":"sales"})");
  EXPECT_EQ(queue.status, 200) << queue.body;
  EXPECT_EQ(center_.Last("ConsultContact")->arg, "42:4:sales");
  // ... or waits for one: the contact's consult names the queue and the state, no target yet.
  EXPECT_EQ(queue.json()["consult"],
            Json({{"target", ""}, {"queue", "sales"}, {"state", "waiting"}, {"conference", false}}))
      << queue.body;
  EXPECT_TRUE(started.json()["consult"].is_null()) << started.body;  // no consultation shown
  Answer both = As(agent, http::verb::post, "/api/v1/contacts/42/consult",
                   R"({"queue":"sales","agent":"bob"})");
  EXPECT_EQ(both.status, 400);
  EXPECT_THAT(both.error_message(), HasSubstr("exclusive"));
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/consult/cancel", R"({"x":1})").status,
            400);
  // Without a session: 401; a wallboard has no contacts.handle: 403.
  EXPECT_EQ(Send(http::verb::post, "/api/v1/contacts/42/consult/cancel", "", {}).status, 401);
  EXPECT_EQ(As(Login("wall"), http::verb::post, "/api/v1/contacts/42/consult/cancel").status, 403);
}

TEST_F(ApiTest, CustomerRoutesReachThePortAndAuditReadsExportsAndErasure) {
  StartServer();
  const std::string sup = Login("sup");
  Answer found = As(sup, http::verb::get, "/api/v1/customers?q=Ann&limit=5");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.json()["customers"][0]["id"], "7");
  EXPECT_EQ(found.json()["customers"][0]["identities"][0]["address"], "+15550007");
  EXPECT_EQ(center_.Last("SearchCustomers")->arg, "Ann:5");

  Answer got = As(sup, http::verb::get, "/api/v1/customers/7");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json()["name"], "Ann Lee");
  EXPECT_EQ(got.json()["fields"]["tier"], "gold");
  EXPECT_EQ(got.json()["tags"][0], "vip");
  EXPECT_EQ(got.json()["notes"][0]["text"], "called twice");
  EXPECT_EQ(As(sup, http::verb::get, "/api/v1/customers/404").status, 404);
  EXPECT_EQ(As(sup, http::verb::get, "/api/v1/customers/x7").status, 400);

  Answer created = As(sup, http::verb::post, "/api/v1/customers",
                      R"({"name":"Bo","identities":[{"channel":"email","address":"bo@x.org"}],
                          "fields":{"vip":true},"tags":["new"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["id"], "8");
  EXPECT_EQ(center_.Last("CreateCustomer")->arg, "Bo:1");
  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/customers", R"({"fields":[]})").status, 400);
  Answer updated = As(sup, http::verb::put, "/api/v1/customers/7", R"({"name":"Ann B. Lee"})");
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(center_.Last("UpdateCustomer")->arg, "7:Ann B. Lee");
  Answer note = As(sup, http::verb::post, "/api/v1/customers/7/notes", R"({"text":"prefers sms"})");
  EXPECT_EQ(note.status, 201) << note.body;
  EXPECT_EQ(note.json()["author"], "sup");
  Answer timeline = As(sup, http::verb::get, "/api/v1/customers/7/timeline");
  ASSERT_EQ(timeline.status, 200) << timeline.body;
  EXPECT_EQ(timeline.json()["contacts"][0]["id"], "42");

  const std::string admin = Login("admin");
  Answer exported = As(admin, http::verb::get, "/api/v1/customers/7/export");
  ASSERT_EQ(exported.status, 200) << exported.body;
  EXPECT_EQ(exported.json()["customer"]["name"], "Ann Lee");
  EXPECT_EQ(exported.json()["contacts"][0]["id"], "42");
  EXPECT_EQ(As(admin, http::verb::delete_, "/api/v1/customers/7").status, 204);
  EXPECT_EQ(As(admin, http::verb::delete_, "/api/v1/customers/404").status, 404);

  // Who read, exported or erased customer data, in order.
  std::vector<std::string> trail;
  for (const auto& e : audit_.Query({})) {
    if (e.action.starts_with("customer.")) {
      trail.push_back(e.actor + " " + e.action + " " + e.target + " " +
                      std::string(auth::AuditOutcomeName(e.outcome)));
    }
  }
  EXPECT_EQ(trail,
            (std::vector<std::string>{
                "sup customer.search q=Ann ok", "sup customer.read customer:7 ok",
                "sup customer.read customer:404 denied", "sup customer.read customer:7/timeline ok",
                "admin customer.export customer:7 ok", "admin customer.erase customer:7 ok",
                "admin customer.erase customer:404 denied"}));
}

// Issue 6: the recordings routes, their permission, streaming with ranges, and the audit of every
// playback.
TEST_F(ApiTest, RecordingRoutesStreamWithRangesToListenersOnlyAndAuditEveryPlayback) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("parley_api_recordings_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  FakeCenter::recording_file = (dir / "6.wav").string();
  std::string audio = "RIFF....WAVE";
  for (int i = 0; i < 100000; ++i) audio.push_back(static_cast<char>(i * 7));
  {
    std::ofstream out(FakeCenter::recording_file, std::ios::binary);
    out << audio;
  }
  StartServer();
  const std::string qa = Login("qa");
  Answer list =
      As(qa, http::verb::get,
         "/api/v1/recordings?queue=sales&agent=a1&after=3&limit=2&from=2026-01-01T00:00:00Z");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(center_.Last("ListRecordings")->arg, "sales:a1:3:2");
  EXPECT_EQ(list.json()["recordings"][0]["id"], "5");
  EXPECT_FALSE(list.json()["recordings"][0].contains("path"));
  EXPECT_TRUE(list.json()["next_after"].is_null());  // a page of 1 < limit 2
  EXPECT_EQ(As(qa, http::verb::get, "/api/v1/recordings?limit=0").status, 400);
  EXPECT_EQ(As(qa, http::verb::get, "/api/v1/recordings?from=noon").status, 400);
  EXPECT_EQ(As(qa, http::verb::get, "/api/v1/recordings?sort=id").status, 400);
  EXPECT_EQ(As(qa, http::verb::get, "/api/v1/recordings/5").json()["sha256"], std::string(64, 'b'));
  EXPECT_EQ(As(qa, http::verb::get, "/api/v1/recordings/05").status, 400);
  EXPECT_EQ(As(qa, http::verb::get, "/api/v1/recordings/404").status, 404);

  Answer whole = As(qa, http::verb::get, "/api/v1/recordings/6/audio");
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(whole.body, audio);
  EXPECT_EQ(whole.header(http::field::content_type), "audio/wav");
  EXPECT_EQ(whole.header(http::field::accept_ranges), "bytes");
  const std::string admin = Login("admin");
  Answer part = Send(http::verb::get, "/api/v1/recordings/6/audio", "",
                     {{"Cookie", admin}, {"Range", "bytes=70000-"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, audio.substr(70000));
  EXPECT_EQ(part.header(http::field::content_range),
            "bytes 70000-" + std::to_string(audio.size() - 1) + "/" + std::to_string(audio.size()));
  Answer tail = Send(http::verb::get, "/api/v1/recordings/6/audio", "",
                     {{"Cookie", admin}, {"Range", "bytes=-10"}});
  EXPECT_EQ(tail.body, audio.substr(audio.size() - 10));
  Answer beyond = Send(http::verb::get, "/api/v1/recordings/6/audio", "",
                       {{"Cookie", admin}, {"Range", "bytes=200000-200010"}});
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.header(http::field::content_range), "bytes */" + std::to_string(audio.size()));
  EXPECT_EQ(As(admin, http::verb::get, "/api/v1/recordings/5/audio").status, 404);  // no file
  EXPECT_EQ(As(admin, http::verb::get, "/api/v1/recordings/404/audio").status, 404);
  const std::string agent = Login("agent1");
  EXPECT_EQ(As(agent, http::verb::get, "/api/v1/recordings/6/audio").status, 403);
  EXPECT_EQ(As(Login("wall"), http::verb::get, "/api/v1/recordings").status, 403);

  // Commands on a call: the agent may; a bad action names the allowed ones.
  Answer paused =
      As(agent, http::verb::post, "/api/v1/contacts/42/recording", R"({"action":"mask"})");
  EXPECT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(center_.Last("ControlRecording")->arg, "42:2");
  EXPECT_EQ(paused.json()["recording_state"], "off");
  EXPECT_EQ(
      As(agent, http::verb::post, "/api/v1/contacts/409/recording", R"({"action":"start"})").status,
      409);
  Answer bad = As(agent, http::verb::post, "/api/v1/contacts/42/recording", R"({"action":1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(As(agent, http::verb::post, "/api/v1/contacts/42/recording",
               R"({"action":"pause","why":"card"})")
                .status,
            400);

  // Each response with audio, and each refusal; a 416 serves nothing and is not a playback.
  std::vector<std::string> trail;
  for (const auto& e : audit_.Query({})) {
    if (e.action == "recording.play") {
      trail.push_back(e.actor + " " + e.target + " " +
                      std::string(auth::AuditOutcomeName(e.outcome)));
    }
  }
  EXPECT_EQ(trail, (std::vector<std::string>{"qa recording:6 ok", "admin recording:6 ok",
                                             "admin recording:6 ok", "admin recording:5 failed",
                                             "admin recording:404 denied"}));
  fs::remove_all(dir);
}

// AgentJsonText must write exactly what AgentJson's tree dumps, for any snapshot: strings that
// need escapes or are not UTF-8, repeated channels, contacts with and without offer times.
TEST(ViewsTest, AgentJsonTextIsTheDumpOfAgentJson) {
  auto dump = [](const ports::AgentSnapshot& a) {
    return AgentJson(a).dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  ports::AgentSnapshot empty;
  EXPECT_EQ(AgentJsonText(empty), dump(empty));
  ports::AgentSnapshot a;
  a.id = "erin";
  a.name = "Erin \"E\" Laurent\\ Zo\xc3\xab \x01\t\n";
  a.team = "north\xff\xfe";  // not UTF-8: replaced
  a.presence = Presence::kNotReady;
  a.reason = "break";
  a.presence_since = TimePoint{std::chrono::microseconds(1'764'000'000'123'456)};
  a.skills = {{"english", 5}, {"support", -1}, {"\x7f", 2}};
  a.capacity = {{Channel::kVoice, 1}, {Channel::kChat, 3}, {Channel::kVoice, 2}};
  ports::HeldContact offered;
  offered.contact = ContactId(42);
  offered.channel = Channel::kChat;
  offered.state = ports::ContactState::kOffered;
  offered.queue = "support";
  offered.since = a.presence_since;
  offered.offer_expires = a.presence_since + Seconds(30);
  ports::HeldContact handling = offered;
  handling.contact = ContactId(18'446'744'073'709'551'615u);
  handling.state = ports::ContactState::kHandling;
  handling.offer_expires = TimePoint{};
  handling.since = TimePoint{};
  a.contacts = {offered, handling};
  a.queues = {"support", "billing", ""};
  a.handled_today = 4'294'967'295u;
  EXPECT_EQ(AgentJsonText(a), dump(a));
}

// TimeText writes the text itself instead of through date::format (a stream per call); the two
// must agree everywhere, including before 1970, on leap days and at the edges of a millisecond.
TEST(ViewsTest, TimeTextMatchesDateFormat) {
  auto expected = [](TimePoint t) {
    return date::format("%FT%TZ", std::chrono::floor<std::chrono::milliseconds>(t));
  };
  const int64_t us_per_day = 86'400'000'000;
  std::vector<int64_t> micros = {0,
                                 1,
                                 999,
                                 1000,
                                 -1,
                                 -1000,
                                 -1001,
                                 1'764'000'000'123'456,       // 2025
                                 19'782 * us_per_day + 1,     // 2024-02-29
                                 -719'468 * us_per_day,       // 0000-03-01
                                 2'932'897 * us_per_day - 1,  // 9999-12-31T23:59:59.999999
                                 2'932'897 * us_per_day,      // 10000-01-01: the fallback
                                 -719'529 * us_per_day};      // year -1: the fallback
  uint64_t x = 0x9e3779b97f4a7c15;                            // splitmix-style walk over 1900..2200
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    micros.push_back(static_cast<int64_t>(x % (300 * 366 * us_per_day)) - 70 * 365 * us_per_day);
  }
  for (int64_t m : micros) {
    const TimePoint t{std::chrono::microseconds(m)};
    EXPECT_EQ(TimeText(t), expected(t)) << m;
  }
  EXPECT_EQ(TimeText(TimePoint{std::chrono::microseconds(1'764'000'000'123'456)}),
            "2025-11-24T16:00:00.123Z");
  EXPECT_TRUE(TimeJson(TimePoint{}).is_null());
}

TEST(RecordingsRequestTest, RangesFiltersAndCommands) {
  std::optional<ByteRange> r;
  EXPECT_FALSE(ParseByteRange("", 100, r).has_value());
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(ParseByteRange("bytes=0-0,5-6", 100, r).has_value());  // several: whole file
  EXPECT_FALSE(r.has_value());
  ASSERT_FALSE(ParseByteRange("bytes=10-19", 100, r).has_value());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 10u);
  EXPECT_EQ(r->last, 19u);
  ASSERT_FALSE(ParseByteRange("bytes=90-500", 100, r).has_value());
  EXPECT_EQ(r->last, 99u);
  ASSERT_FALSE(ParseByteRange("bytes=-500", 100, r).has_value());
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(ParseByteRange("bytes=100-", 100, r)->http_status, 416);
  EXPECT_EQ(ParseByteRange("bytes=9-3", 100, r)->http_status, 416);
  EXPECT_EQ(ParseByteRange("bytes=x-3", 100, r)->http_status, 416);
  EXPECT_EQ(ParseByteRange("bytes=-0", 100, r)->http_status, 416);

  ports::RecordingFilter f;
  EXPECT_FALSE(ReadRecordingFilter({{"customer", "7"}, {"to", "2026-01-02T00:00:00Z"}}, f));
  EXPECT_EQ(f.customer.value(), 7u);
  auto e =
      ReadRecordingFilter({{"from", "2026-01-02T00:00:00Z"}, {"to", "2026-01-01T00:00:00Z"}}, f);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->message.find("later than 'from'"), std::string::npos);
  EXPECT_TRUE(ReadRecordingFilter({{"customer", "0"}}, f).has_value());

  ports::RecordingCommand c{};
  EXPECT_FALSE(ReadRecordingCommand(Json{{"action", "resume"}}, c));
  EXPECT_EQ(c, ports::RecordingCommand::kResume);
  EXPECT_FALSE(ReadRecordingCommand(Json{{"action", "unmask"}}, c));
  EXPECT_EQ(c, ports::RecordingCommand::kResume);
  EXPECT_TRUE(ReadRecordingCommand(Json::array(), c).has_value());
  EXPECT_TRUE(ReadRecordingCommand(Json::object(), c).has_value());
  uint64_t id = 0;
  EXPECT_FALSE(ParseRecordingId("12", id));
  EXPECT_EQ(id, 12u);
  EXPECT_TRUE(ParseRecordingId("..%2F", id).has_value());
  EXPECT_TRUE(ParseRecordingId("0", id).has_value());
}

TEST_F(ApiTest, PortStatusesMapToHttp) {
  StartServer();
  const std::string sup = Login("sup");
  Answer missing = As(sup, http::verb::get, "/api/v1/contacts/404");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.error_code(), "not_found");
  EXPECT_EQ(missing.error_message(), "no contact 404");

  Answer invalid = As(sup, http::verb::post, "/api/v1/contacts", R"({"queue":"nope"})");
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(invalid.error_message(), "no queue 'nope'");

  Answer reason =
      As(sup, http::verb::post, "/api/v1/agents/a1/presence", R"({"presence":"not-ready"})");
  EXPECT_EQ(reason.status, 422);
  EXPECT_THAT(reason.error_message(), HasSubstr("reason code"));

  Answer conflict = As(sup, http::verb::post, "/api/v1/contacts/409/accept", R"({"agent":"a2"})");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.error_code(), "conflict");

  Answer no_agent = As(sup, http::verb::post, "/api/v1/contacts/42/accept");
  EXPECT_EQ(no_agent.status, 422);
  EXPECT_THAT(no_agent.error_message(), HasSubstr("body.agent is required"));
}

// ---------------------------------------------------------------------------------------------
// Bad input

TEST_F(ApiTest, BadBodiesNameTheProblem) {
  HttpServerOptions options;
  options.max_json_depth = 4;
  StartServer(options);
  const std::string sup = Login("sup");
  struct Case {
    std::string body;
    std::string code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"queue": "sales",)", "malformed_json", "not valid JSON (at byte"},
      {R"({"queue":"sales","priority":"high"})", "wrong_type",
       "body.priority must be an integer, got string"},
      {R"({"queue":"sales","colour":"red"})", "unknown_field", "unknown field body.colour"},
      {R"({"priority":1})", "missing_field", "missing required field body.queue"},
      {R"({"queue":"sales","entry":"web"})", "bad_value",
       "body.queue and body.entry exclude each other"},
      {R"({"entry":""})", "bad_value", "body.entry must not be empty"},
      {R"({"entry":7})", "wrong_type", "body.entry must be a string, got integer"},
      {R"({"queue":"sales","channel":"pigeon"})", "bad_value", "body.channel is 'pigeon'"},
      {R"({"queue":"sales","skills":[{"skill":"fr","proficiency":9}]})", "bad_value",
       "body.skills[0].proficiency must be between 1 and 5"},
      {R"({"queue":"sales","attributes":{"a":{"b":{"c":{"d":1}}}}})", "too_deep",
       "more than 4 deep"},
      {"{\"queue\":\"sa\xff\"}", "bad_utf8", "not valid UTF-8"},
      {R"([1,2])", "wrong_type", "body must be a JSON object, got array"},
      {R"({"queue":"sales","from":{"address":7}})", "wrong_type",
       "body.from.address must be a string, got integer"},
  };
  for (const Case& c : cases) {
    Answer a = As(sup, http::verb::post, "/api/v1/contacts", c.body);
    EXPECT_EQ(a.status, 400) << c.body << " → " << a.body;
    EXPECT_EQ(a.error_code(), c.code) << c.body;
    EXPECT_THAT(a.error_message(), HasSubstr(c.message)) << c.body;
  }
  const std::string metrics = MetricsText();
  EXPECT_THAT(metrics, HasSubstr("parley_http_bad_requests_total{reason=\"malformed_json\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("parley_http_bad_requests_total{reason=\"wrong_type\"} 4\n"));
  EXPECT_THAT(metrics, HasSubstr("parley_http_bad_requests_total{reason=\"too_deep\"} 1\n"));
  // Still serving.
  EXPECT_EQ(Send(http::verb::get, "/healthz").status, 200);
}

TEST_F(ApiTest, BadPathsAndQueriesNameTheProblem) {
  StartServer();
  const std::string sup = Login("sup");
  Answer id = As(sup, http::verb::get, "/api/v1/contacts/12abc");
  EXPECT_EQ(id.status, 400);
  EXPECT_EQ(id.error_code(), "bad_id");
  EXPECT_THAT(id.error_message(), HasSubstr("contact id '12abc' is not a contact id"));
  EXPECT_EQ(As(sup, http::verb::get, "/api/v1/contacts/0").error_code(), "bad_id");
  EXPECT_EQ(As(sup, http::verb::get, "/api/v1/contacts/99999999999999999999").error_code(),
            "bad_id");

  Answer utf8 = As(sup, http::verb::get, "/api/v1/agents/%FF%FE");
  EXPECT_EQ(utf8.status, 400);
  EXPECT_EQ(utf8.error_code(), "bad_utf8");

  Answer query = As(sup, http::verb::get, "/api/v1/contacts?colour=red");
  EXPECT_EQ(query.status, 400);
  EXPECT_THAT(query.error_message(), HasSubstr("unknown query parameter 'colour'"));
  Answer limit = As(sup, http::verb::get, "/api/v1/contacts?limit=0");
  EXPECT_THAT(limit.error_message(), HasSubstr("'limit' must be a whole number from 1 to 1000"));

  Answer unknown = As(sup, http::verb::get, "/api/v1/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.error_code(), "not_found");
  Answer method = As(sup, http::verb::delete_, "/api/v1/agents");
  EXPECT_EQ(method.status, 405);
  EXPECT_THAT(method.error_message(), HasSubstr("allowed: GET"));
}

TEST_F(ApiTest, OversizedBodyAnswers413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  // The length alone is refused: the body is never sent.
  Answer a = SendRaw(
      "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 5000000\r\n\r\n");
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(a.error_code(), "body_too_large");
  EXPECT_THAT(a.error_message(), HasSubstr("larger than 1024 bytes"));
  EXPECT_EQ(Send(http::verb::get, "/healthz").status, 200);
}

TEST_F(ApiTest, HeaderFloodAnswers431) {
  HttpServerOptions options;
  options.max_header_bytes = 4096;
  StartServer(options);
  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200; ++i)
    request += "X-Flood-" + std::to_string(i) + ": " + std::string(40, 'a') + "\r\n";
  request += "\r\n";
  Answer a = SendRaw(request);
  EXPECT_EQ(a.status, 431);
  EXPECT_EQ(a.error_code(), "headers_too_large");
  EXPECT_THAT(MetricsText(), HasSubstr("reason=\"headers_too_large\"} 1\n"));
}

TEST_F(ApiTest, SlowClientAnswers408) {
  HttpServerOptions options;
  options.read_timeout = std::chrono::milliseconds(300);
  StartServer(options);
  // Half a request, then wait for the server's answer (it comes when the deadline passes).
  Answer a = SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  EXPECT_EQ(a.status, 408);
  EXPECT_EQ(a.error_code(), "timeout");
  EXPECT_EQ(Send(http::verb::get, "/healthz").status, 200);
}

TEST_F(ApiTest, GarbageIsNotHttp) {
  StartServer();
  Answer a = SendRaw("HELLO\x01 WORLD\r\n\r\n");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.error_code(), "bad_http");
}

// ---------------------------------------------------------------------------------------------
// /healthz and /metrics

TEST_F(ApiTest, HealthzIsPublic) {
  StartServer();
  Answer a = Send(http::verb::get, "/healthz");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.json(), (Json{{"status", "ok"}}));
}

TEST_F(ApiTest, MetricsInPrometheusFormat) {
  StartServer();
  EXPECT_EQ(Send(http::verb::get, "/api/v1/nothing").status, 404);
  const std::string text = MetricsText();
  for (const char* line : {
           "# TYPE parley_contacts_waiting gauge\n",
           "parley_contacts_waiting{queue=\"sales\"} 3\n",
           "parley_longest_wait_seconds{queue=\"sales\"} 12.5\n",
           "parley_agents{presence=\"available\"} 2\n",
           "parley_agents{presence=\"not-ready\"} 0\n",
           "parley_contacts_offered_total{queue=\"sales\"} 10\n",
           "parley_contacts_answered_total{queue=\"sales\"} 5\n",
           "parley_contacts_abandoned_total{queue=\"sales\"} 1\n",
           "# TYPE parley_answer_wait_seconds histogram\n",
           "parley_answer_wait_seconds_bucket{queue=\"sales\",le=\"5\"} 2\n",
           "parley_answer_wait_seconds_bucket{queue=\"sales\",le=\"20\"} 4\n",
           "parley_answer_wait_seconds_bucket{queue=\"sales\",le=\"+Inf\"} 5\n",
           "parley_answer_wait_seconds_sum{queue=\"sales\"} 40\n",
           "parley_answer_wait_seconds_count{queue=\"sales\"} 5\n",
           "parley_http_requests_total{route=\"POST /api/v1/auth/login\",code=\"2xx\"} 1\n",
           "parley_http_requests_total{route=\"GET /metrics\",code=\"2xx\"} 1\n",
           "parley_login_attempts_total{outcome=\"success\"} 1\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  // Every non-comment line is "name{labels} value".
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l.empty() || l[0] == '#') continue;
    EXPECT_THAT(l, ::testing::MatchesRegex("parley_[a-z_]+(\\{.*\\})? [-+0-9.eInf]+")) << l;
  }
}

TEST_F(ApiTest, MetricsNeedATokenUnlessOpenOnLoopback) {
  StartServer();
  EXPECT_EQ(Send(http::verb::get, "/metrics").status, 401);
  EXPECT_EQ(As(Login("agent1"), http::verb::get, "/metrics").status, 403);
  server_.reset();
  HttpServerOptions options;
  options.metrics_open_on_loopback = true;
  StartServer(options);
  Answer a = Send(http::verb::get, "/metrics");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.header(http::field::content_type), "text/plain; version=0.0.4; charset=utf-8");
}

// ---------------------------------------------------------------------------------------------
// WebSocket event stream

class WsClient {
 public:
  WsClient(const tcp::endpoint& endpoint, const std::string& target, const std::string& cookie)
      : ws_(ioc_) {
    ws_.next_layer().connect(endpoint);
    ws_.set_option(websocket::stream_base::decorator([cookie](websocket::request_type& req) {
      if (!cookie.empty()) req.set(http::field::cookie, cookie);
    }));
    ws_.handshake(response_, "127.0.0.1", target, ec_);
  }

  const beast::error_code& handshake_error() const { return ec_; }
  int handshake_status() const { return static_cast<int>(response_.result_int()); }

  // The next text message; nullopt after 5 s or when the stream ends.
  std::optional<std::string> Read() {
    beast::flat_buffer buffer;
    std::optional<beast::error_code> result;
    ws_.async_read(buffer, [&](beast::error_code ec, size_t) { result = ec; });
    ioc_.restart();
    ioc_.run_for(std::chrono::seconds(5));
    if (!result) {
      ws_.next_layer().cancel();
      ioc_.restart();
      ioc_.run_for(std::chrono::seconds(1));
      return std::nullopt;
    }
    if (*result) {
      last_error_ = *result;
      return std::nullopt;
    }
    return beast::buffers_to_string(buffer.data());
  }

  websocket::close_reason close_reason() const { return ws_.reason(); }
  const beast::error_code& last_error() const { return last_error_; }

 private:
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  websocket::response_type response_;
  beast::error_code ec_;
  beast::error_code last_error_;
};

ports::PublishedEvent PubEvent(ports::Sequence seq, std::string type, std::string padding = "") {
  ports::PublishedEvent e;
  e.seq = seq;
  e.type = type;
  e.json = Json{{"seq", seq}, {"type", type}, {"schema", 1}, {"pad", padding}}.dump();
  return e;
}

TEST_F(ApiTest, WebSocketSupervisorGetsSnapshotThenEvents) {
  StartServer();
  WsClient ws(Endpoint(), "/api/v1/events?after=7", Login("sup"));
  ASSERT_FALSE(ws.handshake_error()) << ws.handshake_error().message();
  auto first = ws.Read();
  ASSERT_TRUE(first);
  const Json snapshot = Json::parse(*first);
  EXPECT_EQ(snapshot["type"], "snapshot");
  EXPECT_EQ(snapshot["schema"], 1);
  EXPECT_EQ(snapshot["queues"].size(), 2u);
  EXPECT_EQ(snapshot["agents"].size(), 2u);
  EXPECT_EQ(snapshot["agents"][0]["id"], "a1");

  auto subscribed = center_.Last("Subscribe");
  ASSERT_TRUE(subscribed);
  EXPECT_EQ(subscribed->arg, "7");  // the resume point passed through
  EXPECT_EQ(subscribed->caller.reach, ports::Caller::Reach::kAll);

  center_.Publish({PubEvent(8, "contact_queued"), PubEvent(9, "contact_offered")});
  auto e1 = ws.Read();
  auto e2 = ws.Read();
  ASSERT_TRUE(e1 && e2);
  EXPECT_EQ(Json::parse(*e1)["seq"], 8);
  EXPECT_EQ(Json::parse(*e2)["type"], "contact_offered");
}

TEST_F(ApiTest, WebSocketAgentGetsOwnEventsWithoutSnapshot) {
  StartServer();
  WsClient ws(Endpoint(), "/api/v1/events", Login("agent1"));
  ASSERT_FALSE(ws.handshake_error()) << ws.handshake_error().message();
  ASSERT_TRUE(center_.WaitForSubscribers(1));
  auto subscribed = center_.Last("Subscribe");
  EXPECT_EQ(subscribed->arg, "0");
  EXPECT_EQ(subscribed->caller.reach, ports::Caller::Reach::kSelf);
  EXPECT_EQ(subscribed->caller.agent, "a1");
  center_.Publish({PubEvent(3, "agent_presence")});
  auto e = ws.Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(Json::parse(*e)["type"], "agent_presence");
}

TEST_F(ApiTest, WebSocketRefusesWithoutLoginAndBadAfter) {
  StartServer();
  const std::vector<std::pair<std::string, std::string>> upgrade = {
      {"Connection", "Upgrade"},
      {"Upgrade", "websocket"},
      {"Sec-WebSocket-Version", "13"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  Answer anonymous = Send(http::verb::get, "/api/v1/events", "", upgrade);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.error_code(), "unauthenticated");
  const std::string sup = Login("sup");
  auto with_cookie = upgrade;
  with_cookie.emplace_back("Cookie", sup);
  Answer bad = Send(http::verb::get, "/api/v1/events?after=x", "", with_cookie);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.error_message(), HasSubstr("'after' must be an event sequence number"));
  EXPECT_EQ(As(sup, http::verb::get, "/api/v1/events").status, 426);
  EXPECT_EQ(center_.subscribers(), 0u);
}

TEST_F(ApiTest, WebSocketSlowConsumerIsClosedWithAReason) {
  HttpServerOptions options;
  options.ws_max_queued_messages = 4;
  StartServer(options);
  WsClient ws(Endpoint(), "/api/v1/events", Login("agent1"));
  ASSERT_FALSE(ws.handshake_error());
  ASSERT_TRUE(center_.WaitForSubscribers(1));
  std::vector<ports::PublishedEvent> burst;
  for (int i = 1; i <= 50; ++i)
    burst.push_back(PubEvent(i, "contact_queued", std::string(1000, 'x')));
  center_.Publish(burst);
  // Whatever arrived before the close, the stream ends with a policy close naming the reason.
  std::optional<std::string> m;
  int received = 0;
  while ((m = ws.Read())) ++received;
  EXPECT_LT(received, 50);
  EXPECT_EQ(ws.last_error(), websocket::error::closed);
  EXPECT_EQ(ws.close_reason().code, websocket::close_code::policy_error);
  const auto& reason = ws.close_reason().reason;
  EXPECT_THAT(std::string(reason.data(), reason.size()), HasSubstr("slow consumer"));
  EXPECT_THAT(MetricsText(), HasSubstr("parley_websocket_slow_consumer_closes_total 1\n"));
}

// ---------------------------------------------------------------------------------------------
// Static files, shutdown, OpenAPI

TEST_F(ApiTest, StaticFilesWithIndexFallbackAndNoTraversal) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("parley_api_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "www" / "assets");
  std::ofstream(dir / "www" / "index.html") << "<html>app</html>";
  std::ofstream(dir / "www" / "assets" / "app.js") << "console.log(1)";
  std::ofstream(dir / "secret.txt") << "secret";
  fs::create_symlink(dir / "secret.txt", dir / "www" / "link.txt");
  HttpServerOptions options;
  options.static_dir = (dir / "www").string();
  StartServer(options);

  Answer js = Send(http::verb::get, "/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_THAT(js.header(http::field::content_type), HasSubstr("text/javascript"));
  EXPECT_EQ(Send(http::verb::get, "/").body, "<html>app</html>");
  EXPECT_EQ(Send(http::verb::get, "/wallboard/today").body, "<html>app</html>");
  EXPECT_EQ(Send(http::verb::get, "/missing.css").status, 404);
  EXPECT_EQ(Send(http::verb::get, "/../secret.txt").status, 400);
  EXPECT_EQ(Send(http::verb::get, "/assets/%2e%2e/%2e%2e/secret.txt").status, 400);
  EXPECT_EQ(Send(http::verb::get, "/link.txt").status, 404);  // a symlink out of the root
  server_.reset();
  fs::remove_all(dir);
}

TEST_F(ApiTest, StopFinishesAndRefusesNewConnections) {
  StartServer();
  const tcp::endpoint endpoint = Endpoint();
  // An idle keep-alive connection does not hold Stop up.
  net::io_context ioc;
  tcp::socket idle(ioc);
  idle.connect(endpoint);
  server_->Stop();
  char byte;
  beast::error_code ec;
  idle.read_some(net::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec);  // closed by the server
  tcp::socket late(ioc);
  late.connect(endpoint, ec);
  EXPECT_TRUE(ec);
}

TEST_F(ApiTest, OpenApiDescribesExactlyTheServedRoutes) {
  StartServer();
  const YAML::Node doc = YAML::LoadFile(std::string(PARLEY_SOURCE_DIR) + "/docs/openapi.yaml");
  EXPECT_EQ(doc["openapi"].as<std::string>().substr(0, 3), "3.1");
  std::set<std::string> documented;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      documented.insert(method + " " + path.first.as<std::string>());
    }
  }
  std::set<std::string> served;
  for (const auth::RouteSpec& r : server_->routes().routes()) {
    if (r.path == "/*") continue;  // the web UI's files, not API
    served.insert(r.method + " " + r.path);
  }
  EXPECT_EQ(documented, served);
}

TEST_F(ApiTest, TlsServesHttpsWithSecureCookies) {
  HttpServerOptions options;
  const std::string dir = std::string(PARLEY_SOURCE_DIR) + "/tests/data/tls/";
  options.tls_cert_file = dir + "test_cert.pem";
  options.tls_key_file = dir + "test_key.pem";
  StartServer(options);
  net::io_context ioc;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.set_verify_mode(net::ssl::verify_none);  // the test certificate is self-signed
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  beast::get_lowest_layer(stream).connect(Endpoint());
  stream.handshake(net::ssl::stream_base::client);
  http::request<http::string_body> req{http::verb::post, "/api/v1/auth/login", 11};
  req.set(http::field::host, "127.0.0.1");
  req.body() = R"({"login":"sup","password":"password of sup"})";
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_THAT(std::string(res[http::field::set_cookie]), HasSubstr("; Secure"));

  HttpServerOptions half;
  half.tls_cert_file = options.tls_cert_file;
  HttpServer bad(half, center_, AuthParts{authenticator_, sessions_, tokens_, users_, &audit_},
                 clock_);
  EXPECT_EQ(bad.Start().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Administration: users and the configuration routes (the real configuration path is tested
// against `parley serve` in tests/server/admin_e2e_test.cc)

uint64_t UserId(auth::UserDirectory& users, const std::string& login) {
  auto u = users.FindByLogin(login);
  return u ? u->id : 0;
}

TEST_F(ApiTest, AdminCreatesUserWithPasswordShownOnceAndNoSecretsListed) {
  StartServer();
  const std::string admin = Login("admin");
  Answer created = As(admin, http::verb::post, "/api/v1/users",
                      R"({"login":"zoe","display_name":"Zoe","role":"agent","agent":"a2"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string password = created.json().value("password", "");
  EXPECT_EQ(password.size(), 16u);
  EXPECT_EQ(created.json()["user"]["agent"], "a2");
  Answer login = Send(http::verb::post, "/api/v1/auth/login",
                      Json{{"login", "zoe"}, {"password", password}}.dump());
  EXPECT_EQ(login.status, 200) << login.body;
  Answer list = As(admin, http::verb::get, "/api/v1/users");
  ASSERT_EQ(list.status, 200);
  EXPECT_THAT(list.body, HasSubstr("\"zoe\""));
  EXPECT_THAT(list.body, Not(HasSubstr(password)));
  EXPECT_THAT(list.body, Not(HasSubstr("argon2")));
  // A given password is not echoed.
  Answer given = As(admin, http::verb::post, "/api/v1/users",
                    R"({"login":"yan","roles":["supervisor"],"password":"a long enough one"})");
  ASSERT_EQ(given.status, 201) << given.body;
  EXPECT_FALSE(given.json().contains("password"));
  EXPECT_EQ(audit_.Query({.action = "user.create"}).size(), 2u);
}

TEST_F(ApiTest, CreateUserRefusesBadInputAndChangesNothing) {
  StartServer();
  const std::string admin = Login("admin");
  const size_t before = users_.List().size();
  EXPECT_EQ(As(admin, http::verb::post, "/api/v1/users", R"({"login":"x1"})").status, 400);
  Answer role = As(admin, http::verb::post, "/api/v1/users", R"({"login":"x1","role":"god"})");
  EXPECT_EQ(role.status, 400);
  EXPECT_THAT(role.error_message(), HasSubstr("administrator, supervisor"));
  Answer agent =
      As(admin, http::verb::post, "/api/v1/users", R"({"login":"x1","role":"agent","agent":"zz"})");
  EXPECT_EQ(agent.status, 422);
  EXPECT_THAT(agent.error_message(), HasSubstr("no agent 'zz'"));
  EXPECT_EQ(
      As(admin, http::verb::post, "/api/v1/users", R"({"login":"sup","role":"agent"})").status,
      409);
  Answer weak = As(admin, http::verb::post, "/api/v1/users",
                   R"({"login":"x1","role":"agent","password":"short"})");
  EXPECT_EQ(weak.status, 422) << weak.body;
  EXPECT_EQ(users_.List().size(), before);
}

TEST_F(ApiTest, DisablingAUserEndsItsSessionsAtOnceAndEnablingLetsItBack) {
  StartServer();
  const std::string admin = Login("admin");
  const std::string agent = Login("agent1");
  ASSERT_EQ(As(agent, http::verb::get, "/api/v1/me").status, 200);
  const std::string id = std::to_string(UserId(users_, "agent1"));
  Answer disabled = As(admin, http::verb::post, "/api/v1/users/" + id + "/disable");
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(disabled.json()["disabled"], true);
  EXPECT_EQ(As(agent, http::verb::get, "/api/v1/me").status, 401);
  // Refused like any bad credential: no telling a disabled account from a wrong password.
  Answer refused = Send(http::verb::post, "/api/v1/auth/login",
                        Json{{"login", "agent1"}, {"password", PasswordOf("agent1")}}.dump());
  Answer wrong = Send(http::verb::post, "/api/v1/auth/login",
                      Json{{"login", "nobody"}, {"password", "whatever it is"}}.dump());
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body, wrong.body);
  ASSERT_EQ(As(admin, http::verb::post, "/api/v1/users/" + id + "/enable").status, 200);
  Login("agent1");
  // An administrator cannot lock themself out.
  const std::string self = std::to_string(UserId(users_, "admin"));
  EXPECT_EQ(As(admin, http::verb::post, "/api/v1/users/" + self + "/disable").status, 409);
}

TEST_F(ApiTest, ResetPasswordEndsSessionsAndTheOldPasswordStopsWorking) {
  StartServer();
  const std::string admin = Login("admin");
  const std::string qa = Login("qa");
  const std::string id = std::to_string(UserId(users_, "qa"));
  Answer reset = As(admin, http::verb::post, "/api/v1/users/" + id + "/password");
  ASSERT_EQ(reset.status, 200) << reset.body;
  const std::string password = reset.json().value("password", "");
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(As(qa, http::verb::get, "/api/v1/me").status, 401);
  EXPECT_EQ(Send(http::verb::post, "/api/v1/auth/login",
                 Json{{"login", "qa"}, {"password", PasswordOf("qa")}}.dump())
                .status,
            401);
  EXPECT_EQ(Send(http::verb::post, "/api/v1/auth/login",
                 Json{{"login", "qa"}, {"password", password}}.dump())
                .status,
            200);
  EXPECT_EQ(audit_.Query({.action = "user.password"}).size(), 1u);
}

// An administrator sets an agent's SIP password for the server's realm: only its HA1s are
// stored (what the registrar checks on the phone's next REGISTER, no restart), a generated one is
// returned once, a short one is refused, and the change is audited.
TEST_F(ApiTest, SipPasswordIsStoredAsDigestHashesForTheRealmAndAudited) {
  StartServer();
  const std::string admin = Login("admin");
  const std::string id = std::to_string(UserId(users_, "agent1"));
  const std::string route = "/api/v1/users/" + id + "/sip-password";
  Answer set = As(admin, http::verb::post, route, R"({"password":"a long sip secret"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json()["realm"], "parley");
  EXPECT_EQ(set.json()["user"]["has_sip_credentials"], true);
  EXPECT_FALSE(set.json().contains("password"));
  EXPECT_EQ(set.body.find("a long sip secret"), std::string::npos);
  auto user = users_.FindByLogin("agent1");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->sip_realm, "parley");
  EXPECT_EQ(user->sip_ha1_md5,
            auth::ComputeHa1(auth::DigestAlgorithm::kMd5, "agent1", "parley", "a long sip secret"));
  EXPECT_EQ(user->sip_ha1_sha256, auth::ComputeHa1(auth::DigestAlgorithm::kSha256, "agent1",
                                                   "parley", "a long sip secret"));
  Answer generated = As(admin, http::verb::post, route);
  ASSERT_EQ(generated.status, 200) << generated.body;
  const std::string password = generated.json().value("password", "");
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(users_.FindByLogin("agent1")->sip_ha1_md5,
            auth::ComputeHa1(auth::DigestAlgorithm::kMd5, "agent1", "parley", password));
  Answer weak = As(admin, http::verb::post, route, R"({"password":"short"})");
  EXPECT_EQ(weak.status, 422) << weak.body;
  EXPECT_THAT(weak.error_message(), HasSubstr("too short"));
  EXPECT_EQ(As(admin, http::verb::post, "/api/v1/users/999/sip-password").status, 404);
  EXPECT_EQ(As(Login("sup"), http::verb::post, route).status, 403);
  EXPECT_EQ(audit_.Query({.action = "user.sip_password"}).size(), 3u);
}

TEST_F(ApiTest, ChangingRoleAndAgentLink) {
  StartServer();
  const std::string admin = Login("admin");
  const std::string id = std::to_string(UserId(users_, "wall"));
  Answer changed =
      As(admin, http::verb::put, "/api/v1/users/" + id, R"({"roles":["agent"],"agent":"a2"})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json()["roles"], Json::array({"agent"}));
  EXPECT_EQ(changed.json()["agent"], "a2");
  EXPECT_EQ(As(admin, http::verb::put, "/api/v1/users/" + id, R"({"agent":"nobody"})").status, 422);
  // A user the configuration declares is changed there, or the next version would undo it.
  const std::string sup = std::to_string(UserId(users_, "sup"));
  Answer declared = As(admin, http::verb::put, "/api/v1/users/" + sup, R"({"role":"agent"})");
  EXPECT_EQ(declared.status, 409);
  EXPECT_THAT(declared.error_message(), HasSubstr("configuration's users section"));
  const std::string self = std::to_string(UserId(users_, "admin"));
  EXPECT_EQ(As(admin, http::verb::put, "/api/v1/users/" + self, R"({"role":"agent"})").status, 409);
  EXPECT_EQ(As(admin, http::verb::put, "/api/v1/users/999", R"({"role":"agent"})").status, 404);
  EXPECT_EQ(As(admin, http::verb::put, "/api/v1/users/x", R"({"role":"agent"})").status, 400);
}

TEST_F(ApiTest, UserRoutesAnswerNonAdministratorsAloneWhetherOrNotTheUserExists) {
  StartServer();
  const std::string sup = Login("sup");
  const std::string exists = std::to_string(UserId(users_, "agent1"));
  Answer a = As(sup, http::verb::post, "/api/v1/users/" + exists + "/password");
  Answer b = As(sup, http::verb::post, "/api/v1/users/999/password");
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.body, b.body);
}

TEST_F(ApiTest, ConfigRoutesNeedABaseVersionAndAnswerProblemsAndConflicts) {
  StartServer();
  const std::string admin = Login("admin");
  Answer current = As(admin, http::verb::get, "/api/v1/config");
  ASSERT_EQ(current.status, 200);
  EXPECT_EQ(current.json()["version"], 1);
  EXPECT_EQ(current.header(http::field::etag), "\"1\"");
  EXPECT_EQ(As(admin, http::verb::put, "/api/v1/config", R"({"yaml":"queues: []"})").status, 428);
  Answer stale = As(admin, http::verb::put, "/api/v1/config", R"({"yaml":"x: 1","version":7})");
  EXPECT_EQ(stale.status, 409);
  Answer bad = As(admin, http::verb::put, "/api/v1/config", R"({"yaml":"bad: 1","version":1})");
  ASSERT_EQ(bad.status, 422);
  EXPECT_EQ(bad.json()["error"]["problems"][0]["line"], 3);
  Answer ok = Send(http::verb::put, "/api/v1/config", R"({"yaml":"x: 1"})",
                   {{"Cookie", admin}, {"If-Match", "\"1\""}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json()["version"], 2);
  EXPECT_EQ(admin_.last_applied_by, "admin");
  // The structured queue edit turns JSON fields into the document's values.
  Answer edit = As(admin, http::verb::put, "/api/v1/config/queues/sales",
                   R"({"version":1,"wrap_up":"15s","service_level":{"target":0.9},)"
                   R"("escalation":[{"after":30,"skills":{"sales":1}}]})");
  ASSERT_EQ(edit.status, 200) << edit.body;
  EXPECT_EQ(admin_.last_edit.fields["wrap_up"], "\"15s\"");
  EXPECT_EQ(admin_.last_edit.fields["service_level"], R"({"seconds":20.0,"target":0.9})");
  EXPECT_EQ(admin_.last_edit.fields["escalation"], R"([{"after":30,"skills":{"sales":1}}])");
  Answer wrong = As(admin, http::verb::put, "/api/v1/config/queues/sales",
                    R"({"version":1,"escalation":[{"skills":{}}]})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_THAT(wrong.error_message(), HasSubstr("body.escalation[0].after"));
  // The conflict, the refusal and the apply.
  EXPECT_EQ(audit_.Query({.action = "config.apply"}).size(), 3u);
}

TEST_F(ApiTest, ConfigReadsCarryAnETagAndAStaleIfMatchIs412) {
  StartServer();
  const std::string admin = Login("admin");
  Answer queue = As(admin, http::verb::get, "/api/v1/config/queues/sales");
  ASSERT_EQ(queue.status, 200);
  EXPECT_EQ(queue.header(http::field::etag), "\"1\"");
  for (const auto& [target, body] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/config", R"({"yaml":"x: 1"})"},
           {"/api/v1/config/queues/sales", R"({"strategy":"random"})"}}) {
    Answer stale = Send(http::verb::put, target, body, {{"Cookie", admin}, {"If-Match", "\"7\""}});
    EXPECT_EQ(stale.status, 412) << target << ": " << stale.body;
    EXPECT_EQ(stale.error_code(), "precondition_failed");
    EXPECT_THAT(stale.error_message(), HasSubstr("at version 1, not 7"));
  }
  EXPECT_EQ(audit_.Query({.action = "config.apply"}).size(), 0u);  // nothing was tried
  // Supervisors read the configuration (config.read) but do not change it (config.write).
  const std::string sup = Login("sup");
  EXPECT_EQ(As(sup, http::verb::get, "/api/v1/config").status, 200);
  EXPECT_EQ(As(sup, http::verb::get, "/api/v1/config/history").status, 200);
  EXPECT_EQ(As(sup, http::verb::get, "/api/v1/config/queues/sales").status, 200);
  EXPECT_EQ(Send(http::verb::put, "/api/v1/config", R"({"yaml":"x: 1"})",
                 {{"Cookie", sup}, {"If-Match", "\"1\""}})
                .status,
            403);
  EXPECT_EQ(As(Login("lead"), http::verb::get, "/api/v1/config").status, 403);
}

TEST(RequestTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

TEST(RequestTest, TokenIssueBodyNamesAllowedScopes) {
  TokenBody body;
  auto e = ReadTokenIssue(Json{{"scope", "god"}}, body);
  ASSERT_TRUE(e);
  EXPECT_THAT(e->message, HasSubstr("body.scope is 'god'; expected one of administrator"));
}

// ---------------------------------------------------------------------------------------------
// Reports

TEST_F(ApiTest, ReportRoutesPassTheQueryAndAnswerJsonOrCsv) {
  StartServer();
  const std::string sup = Login("sup");
  const std::string range = "from=2026-12-03T00:00:00Z&to=2026-12-03T02:00:00%2B01:00";
  Answer json = As(sup, http::verb::get,
                   "/api/v1/reports/queues?" + range + "&interval=15m&queue=sales,support");
  ASSERT_EQ(json.status, 200) << json.body;
  auto [caller, query] = reports_.last();
  EXPECT_EQ(caller.reach, ports::Caller::Reach::kAll);
  EXPECT_EQ(query.subject, ports::ReportSubject::kQueues);
  EXPECT_EQ(query.interval, "15m");
  EXPECT_EQ(query.names, (std::vector<std::string>{"sales", "support"}));
  EXPECT_EQ(query.from, *ParseIsoDateTime("2026-12-03T00:00:00Z"));
  EXPECT_EQ(query.to, query.from + std::chrono::hours(1));  // 02:00+01:00
  const Json j = json.json();
  EXPECT_EQ(j["subject"], "queues");
  EXPECT_EQ(j["time_zone"], "Europe/Paris");
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["columns"][0], "queue");
  EXPECT_EQ(j["rows"][0]["queue"], "sales, east");
  EXPECT_EQ(j["rows"][0]["offered"], 3);
  EXPECT_EQ(j["rows"][0]["service_level"], 0.5);
  EXPECT_EQ(j["rows"][0]["asa"], 12.5);
  EXPECT_EQ(j["rows"][0]["aht"], 100.0);
  EXPECT_TRUE(j["rows"][1]["service_level"].is_null());
  EXPECT_TRUE(j["rows"][1]["asa"].is_null());
  EXPECT_EQ(j["rows"][0]["fcr_contacts"], 4);
  EXPECT_EQ(j["rows"][0]["fcr"], 0.75);
  EXPECT_EQ(j["rows"][0]["fcr_open"], 1);

  Answer csv = As(sup, http::verb::get, "/api/v1/reports/queues?" + range + "&format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.header(http::field::content_type), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.header(http::field::content_disposition),
            "attachment; filename=\"parley-queues-2026-12-03-1h.csv\"");
  const std::string header = csv.body.substr(0, csv.body.find("\r\n"));
  EXPECT_THAT(header, ::testing::StartsWith("queue,interval_start,interval_end,offered,answered,"));
  EXPECT_THAT(csv.body, HasSubstr("\r\n\"sales, east\",2026-12-03T00:00:00.000Z,"));
  EXPECT_THAT(csv.body, HasSubstr(",3,2,"));
  EXPECT_THAT(csv.body, HasSubstr(",0.5,"));
  EXPECT_THAT(header, HasSubstr(",wrap_up,fcr_contacts,fcr,fcr_open,csat_answers,"));
  EXPECT_THAT(csv.body, HasSubstr(",4,0.75,1,"));

  // Accept: text/csv asks for CSV too.
  Answer accepted = Send(http::verb::get, "/api/v1/reports/agents?" + range, "",
                         {{"Cookie", sup}, {"Accept", "text/csv"}});
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_THAT(accepted.body, ::testing::StartsWith("agent,interval_start,interval_end,offers,"));
  // A CSV is an export (reports.export): an agent reads its own report as JSON only, with reach
  // self; so does a team lead its team's.
  const std::string agent = Login("agent1");
  Answer own = As(agent, http::verb::get, "/api/v1/reports/agents?" + range);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(reports_.last().first.reach, ports::Caller::Reach::kSelf);
  EXPECT_EQ(reports_.last().first.agent, "a1");
  for (const std::string& who : {agent, Login("lead")}) {
    Answer refused = Send(http::verb::get, "/api/v1/reports/agents?" + range, "",
                          {{"Cookie", who}, {"Accept", "text/csv"}});
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_THAT(refused.error_message(), HasSubstr("reports.export"));
  }
  EXPECT_EQ(As(Login("wall"), http::verb::get, "/api/v1/reports/queues?" + range).status, 403);
}

TEST_F(ApiTest, ReportRoutesNameTheBadParameter) {
  StartServer();
  const std::string sup = Login("sup");
  auto message = [&](const std::string& target) {
    Answer a = As(sup, http::verb::get, target);
    EXPECT_EQ(a.status, 400) << target << ": " << a.body;
    return a.error_message();
  };
  const std::string q = "/api/v1/reports/queues?";
  EXPECT_THAT(message(q + "to=2026-12-03T00:00:00Z"), ::testing::StartsWith("from: required"));
  EXPECT_THAT(message(q + "from=yesterday&to=2026-12-03T00:00:00Z"),
              ::testing::StartsWith("from: 'yesterday' is not an ISO 8601 time"));
  EXPECT_THAT(message(q + "from=2026-12-03T00:00:00Z&to=2026-12-02T00:00:00Z"),
              ::testing::StartsWith("from: must be before to"));
  const std::string range = "from=2026-12-02T00:00:00Z&to=2026-12-03T00:00:00Z";
  EXPECT_THAT(message(q + range + "&format=xml"), ::testing::StartsWith("format: must be json"));
  EXPECT_THAT(message(q + range + "&queue=a,,b"), ::testing::StartsWith("queue: "));
  EXPECT_THAT(message(q + range + "&agent=a1"), HasSubstr("unknown query parameter"));
  // The port's kInvalidArgument is the query's fault: 400, not 422.
  EXPECT_THAT(message(q + range + "&interval=2h"), ::testing::StartsWith("interval: "));
}

// ---------------------------------------------------------------------------------------------
// Staffing

TEST_F(ApiTest, StaffingPassesEveryInputToThePortAndAnswersItsJson) {
  StartServer();
  const std::string sup = Login("sup");
  Answer a = As(sup, http::verb::post, "/api/v1/staffing",
                R"({"calls":360,"interval_seconds":1800,"aht":240,"target_sl":0.8,)"
                R"("target_seconds":15,"target_asa":30,"max_occupancy":0.9,"shrinkage":0.25,)"
                R"("patience":120,"agents":50,"erlang_b":false,"lines":3,)"
                R"("target_blocking":0.02,"forecast":"08:00,1,2"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header(http::field::content_type), "application/json");
  EXPECT_EQ(a.json()["agents"], 54);
  const ports::StaffingQuery q = staffing_.last();
  EXPECT_EQ(q.calls, 360);
  EXPECT_EQ(q.interval_seconds, 1800);
  EXPECT_EQ(q.aht, 240);
  EXPECT_EQ(q.target_sl, 0.8);
  EXPECT_EQ(q.target_seconds, 15);
  EXPECT_EQ(q.target_asa, 30);
  EXPECT_EQ(q.max_occupancy, 0.9);
  EXPECT_EQ(q.shrinkage, 0.25);
  EXPECT_EQ(q.patience, 120);
  EXPECT_EQ(q.agents, 50);
  EXPECT_FALSE(q.erlang_b);
  EXPECT_EQ(q.lines, 3);
  EXPECT_EQ(q.target_blocking, 0.02);
  EXPECT_EQ(q.forecast, "08:00,1,2");
  EXPECT_EQ(q.table_neighbours, kStaffingTableNeighbours);

  // Unset fields stay unset: the port decides what is missing.
  ASSERT_EQ(As(sup, http::verb::post, "/api/v1/staffing", R"({"calls":1})").status, 200);
  EXPECT_FALSE(staffing_.last().aht);
  EXPECT_EQ(staffing_.last().target_seconds, 20);
  EXPECT_FALSE(staffing_.last().forecast);
}

// ---------------------------------------------------------------------------------------------
// Simulations

TEST_F(ApiTest, SimulationPassesTheQueryToThePortAndMapsItsErrors) {
  StartServer();
  const std::string sup = Login("sup");
  Answer a = As(sup, http::verb::post, "/api/v1/simulations",
                R"({"scenario":"duration: 1h","replications":3,"seed":7,)"
                R"("set":["queues.support.agents=12"],"sweep":"x=1:3:1"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header(http::field::content_type), "application/json");
  EXPECT_EQ(a.json()["overall"]["service_level"], 0.8);
  const ports::SimulationQuery q = simulation_.last();
  EXPECT_EQ(q.scenario, "duration: 1h");
  EXPECT_EQ(q.replications, 3);
  EXPECT_EQ(q.seed, 7u);
  EXPECT_EQ(q.sets, std::vector<std::string>{"queues.support.agents=12"});
  EXPECT_EQ(q.sweep, "x=1:3:1");

  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/simulations", R"({"scenario":"bad"})").status, 400);
  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/simulations", R"({"scenario":"busy"})").status, 409);
  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/simulations", R"({"scenario":"huge"})").status, 422);
  // The body's own faults name the field.
  Answer missing = As(sup, http::verb::post, "/api/v1/simulations", R"({"replications":2})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body, ::testing::HasSubstr("body.scenario"));
  Answer sets = As(sup, http::verb::post, "/api/v1/simulations", R"({"scenario":"x","set":[1]})");
  EXPECT_EQ(sets.status, 400);
  EXPECT_THAT(sets.body, ::testing::HasSubstr("body.set"));
  EXPECT_EQ(As(sup, http::verb::post, "/api/v1/simulations", R"({"scenario":"x","what":1})").status,
            400);
  // Agents may not run simulations (staffing.plan).
  EXPECT_EQ(
      As(Login("agent1"), http::verb::post, "/api/v1/simulations", R"({"scenario":"x"})").status,
      403);
}

TEST_F(ApiTest, StaffingRefusesBadInputsWith400NamingTheField) {
  StartServer();
  const std::string sup = Login("sup");
  auto refused = [&](const std::string& body) {
    Answer a = As(sup, http::verb::post, "/api/v1/staffing", body);
    EXPECT_EQ(a.status, 400) << body << ": " << a.body;
    return a.error_message();
  };
  EXPECT_EQ(refused(R"({"calls":"360"})"), "body.calls must be a number, got string");
  EXPECT_EQ(refused(R"({"aht":null})"), "body.aht must be a number, got null");
  EXPECT_THAT(refused(R"({"agents":1.5})"), HasSubstr("body.agents must be an integer"));
  EXPECT_THAT(refused(R"({"agents":-1})"), HasSubstr("body.agents must be between 0 and"));
  EXPECT_THAT(refused(R"({"erlang_b":"yes"})"), HasSubstr("body.erlang_b must be a boolean"));
  EXPECT_THAT(refused(R"({"forecast":[1]})"), HasSubstr("body.forecast must be a string"));
  EXPECT_THAT(refused(R"({"call":360})"), HasSubstr("call"));
  EXPECT_THAT(refused("[1]"), HasSubstr("body must be a JSON object"));
  // The port's kInvalidArgument is the body's fault: 400 with its message, not 422.
  EXPECT_EQ(refused(R"({"calls":13})"), "calls must not be 13, got 13");
}

TEST_F(ApiTest, StaffingIsForPlannersOnly) {
  StartServer();
  const std::string body = R"({"calls":1})";
  EXPECT_EQ(As(Login("admin"), http::verb::post, "/api/v1/staffing", body).status, 200);
  EXPECT_EQ(As(Login("sup"), http::verb::post, "/api/v1/staffing", body).status, 200);
  for (const char* login : {"lead", "qa", "agent1", "wall"}) {
    Answer a = As(Login(login), http::verb::post, "/api/v1/staffing", body);
    EXPECT_EQ(a.status, 403) << login;
    EXPECT_THAT(a.error_message(), HasSubstr("staffing.plan")) << login;
  }
}

TEST_F(ApiTest, StaffingWithoutThePortIs503) {
  HttpServerOptions options;
  options.port = 0;
  server_ = std::make_unique<HttpServer>(
      options, center_, AuthParts{authenticator_, sessions_, tokens_, users_, &audit_}, clock_);
  ASSERT_TRUE(server_->Start().ok());
  Answer a = As(Login("sup"), http::verb::post, "/api/v1/staffing", R"({"calls":1})");
  EXPECT_EQ(a.status, 503) << a.body;
}

TEST_F(ApiTest, PlaceCallReachesThePortAndAnswersCreatedOrTheRefusal) {
  StartServer();
  const std::string agent = Login("agent1");
  Answer placed =
      As(agent, http::verb::post, "/api/v1/calls", R"({"number":"+442071234567","queue":"sales"})");
  EXPECT_EQ(placed.status, 201) << placed.body;
  EXPECT_EQ(center_.Last("PlaceCall")->arg, ":+442071234567:sales");
  Answer refused =
      As(agent, http::verb::post, "/api/v1/calls", R"({"number":"+33123","queue":"sales"})");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_THAT(refused.error_message(), HasSubstr("not an allowed destination"));
  Answer missing = As(agent, http::verb::post, "/api/v1/calls", R"({"queue":"sales"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.error_message(), HasSubstr("missing required field body.number"));
  EXPECT_EQ(
      As(agent, http::verb::post, "/api/v1/calls", R"({"number":"1","queue":"s","x":1})").status,
      400);
  EXPECT_EQ(Send(http::verb::post, "/api/v1/calls", "{}", {}).status, 401);
  EXPECT_EQ(As(Login("wall"), http::verb::post, "/api/v1/calls",
               R"({"number":"+442071234567","queue":"sales"})")
                .status,
            403);
}

}  // namespace
}  // namespace parley::api

// ---------------------------------------------------------------------------------------------
// Cheap reads from the live view (ports/live_view.h)

namespace parley::api {
namespace {

// A live view with one agent (a1 of north) and one queue (sales); the caller of the last read,
// and whether it answers at all yet.
class FakeLiveView : public ports::LiveView {
 public:
  Result<std::shared_ptr<const ports::LiveAgent>> Agent(const ports::Caller& who,
                                                        const std::string& agent,
                                                        TimePoint) const override {
    std::lock_guard lock(mu_);
    if (!published_) return Unavailable("nothing yet");
    last_ = who;
    if (agent != "a1" || (who.reach == ports::Caller::Reach::kSelf && who.agent != "a1")) {
      return NotFound("no agent '" + agent + "'");
    }
    auto a = std::make_shared<ports::LiveAgent>();
    a->view.id = "a1";
    a->view.team = "north";
    a->json = R"({"id":"a1","from":"the live view"})";
    return std::shared_ptr<const ports::LiveAgent>(a);
  }
  Result<ports::QueueSnapshot> Queue(const ports::Caller& who, const std::string& queue,
                                     TimePoint now) const override {
    std::lock_guard lock(mu_);
    if (!published_) return Unavailable("nothing yet");
    last_ = who;
    if (queue != "sales") return NotFound("no queue '" + queue + "'");
    ports::QueueSnapshot q;
    q.name = "sales";
    q.waiting = 1;
    q.longest_wait = now - kT0 + Seconds(3);
    return q;
  }
  Result<std::vector<ports::QueueSnapshot>> Queues(const ports::Caller& who,
                                                   TimePoint now) const override {
    auto q = Queue(who, "sales", now);
    if (!q.ok()) return q.status();
    return std::vector<ports::QueueSnapshot>{*q};
  }
  void Publish() {
    std::lock_guard lock(mu_);
    published_ = true;
  }
  ports::Caller last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  bool published_ = false;
  mutable ports::Caller last_;
};

TEST_F(ApiTest, CheapReadsComeFromTheLiveViewWithTheCallersReachAndThePortsRefusals) {
  FakeLiveView live;
  live_ = &live;
  StartServer();
  const std::string agent = Login("agent1");
  const std::string lead = Login("lead");
  // Nothing published yet: the port answers.
  EXPECT_EQ(As(agent, http::verb::get, "/api/v1/agents/a1").json()["name"], "Agent a1");
  EXPECT_TRUE(center_.Last("GetAgent").has_value());
  live.Publish();
  const size_t port_calls = center_.calls().size();

  Answer own = As(agent, http::verb::get, "/api/v1/agents/a1");
  EXPECT_EQ(own.status, 200);
  EXPECT_EQ(own.body, R"({"id":"a1","from":"the live view"})");
  EXPECT_EQ(own.header(http::field::content_type), "application/json");
  EXPECT_EQ(live.last().reach, ports::Caller::Reach::kSelf);
  EXPECT_EQ(live.last().agent, "a1");
  Answer other = As(agent, http::verb::get, "/api/v1/agents/a2");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.error_message(), "no agent 'a2'");
  EXPECT_EQ(As(lead, http::verb::get, "/api/v1/agents/a1").status, 200);
  EXPECT_EQ(live.last().reach, ports::Caller::Reach::kTeam);
  EXPECT_EQ(live.last().team, "north");
  EXPECT_EQ(As(Login("wall"), http::verb::get, "/api/v1/agents/a1").status, 200);
  EXPECT_EQ(live.last().reach, ports::Caller::Reach::kAll);

  Answer queues = As(agent, http::verb::get, "/api/v1/queues");
  ASSERT_EQ(queues.status, 200) << queues.body;
  EXPECT_EQ(queues.json()["queues"][0]["longest_wait_seconds"], 3.0);
  EXPECT_EQ(As(agent, http::verb::get, "/api/v1/queues/sales").json()["waiting"], 1);
  EXPECT_EQ(As(agent, http::verb::get, "/api/v1/queues/nowhere").error_message(),
            "no queue 'nowhere'");
  EXPECT_EQ(As(agent, http::verb::get, "/api/v1/queues?x=1").status, 400);
  // None of these reached the port.
  EXPECT_EQ(center_.calls().size(), port_calls);
}

// The real engine behind the API on its own loop, publishing its live view; two servers over it,
// one answering cheap reads from the live view and one through the port, for comparison.
class LiveViewApiTest : public ApiTest {
 protected:
  LiveViewApiTest()
      : loop_(clock_),
        engine_(
            clock_, loop_, [this](std::function<void()> w) { loop_.Post(std::move(w)); }, store_,
            EngineConfig(), Options()) {
    std::promise<Status> started;
    loop_.Post([&] { started.set_value(engine_.Start()); });
    const Status s = started.get_future().get();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~LiveViewApiTest() override {
    server_.reset();
    port_only_.reset();
    std::promise<void> stopped;
    loop_.Post([&] { engine_.Shutdown([&] { stopped.set_value(); }); });
    stopped.get_future().wait();
    loop_.Stop();
  }

  // Agents a1, a2 (team north) and a3 (south); queue support (tasks).
  static std::shared_ptr<const config::Config> EngineConfig() {
    auto c = std::make_shared<config::Config>();
    RoutingConfig& r = c->routing;
    r.skills = {"general"};
    r.teams = {TeamDef{"north", ""}, TeamDef{"south", ""}};
    QueueDef q;
    q.name = "support";
    q.channels = {Channel::kTask};
    q.offer_timeout = Seconds(20);
    r.queues.push_back(q);
    for (const auto& [name, team] : {std::pair{"a1", 0}, {"a2", 0}, {"a3", 1}}) {
      AgentDef a;
      a.name = name;
      a.full_name = std::string("Agent ") + name;
      a.team = static_cast<TeamIndex>(team);
      a.skills = {SkillLevel{0, 3}};
      a.capacity[Index(Channel::kTask)] = 1;
      a.queues = {QueueAssignment{0, 0, Duration{0}}};
      r.agents.push_back(a);
    }
    r.settings.time_zone = "UTC";
    return c;
  }
  static engine::EngineOptions Options() {
    engine::EngineOptions o;
    o.render_agent = [](const ports::AgentSnapshot& a) { return AgentJsonText(a); };
    return o;
  }

  void StartBoth() {
    port_ = &engine_;
    live_ = &engine_.live_view();
    StartServer({});
    HttpServerOptions options;
    options.port = 0;
    port_only_ = std::make_unique<HttpServer>(
        options, engine_, AuthParts{authenticator_, sessions_, tokens_, users_, &audit_}, clock_);
    ASSERT_TRUE(port_only_->Start().ok());
  }

  // The same request to the server without the live view.
  Answer ThroughThePort(const std::string& cookie, const std::string& target) {
    return SendTo({net::ip::make_address("127.0.0.1"), port_only_->port()}, http::verb::get, target,
                  "", {{"Cookie", cookie}});
  }

  store::MemoryStore store_;
  runtime::EventLoop loop_;
  engine::Engine engine_;
  std::unique_ptr<HttpServer> port_only_;
};

TEST_F(LiveViewApiTest, CheapReadsAnswerByteForByteAsThePortForEveryRole) {
  StartBoth();
  const std::string admin = Login("admin");
  ASSERT_EQ(As(admin, http::verb::put, "/api/v1/agents/a1/presence", R"({"presence":"available"})")
                .status,
            200);
  ASSERT_EQ(As(admin, http::verb::post, "/api/v1/contacts", R"({"queue":"support"})").status, 201);
  ASSERT_EQ(As(admin, http::verb::post, "/api/v1/contacts", R"({"queue":"support"})").status, 201);
  const std::vector<std::string> targets = {
      "/api/v1/agents/a1", "/api/v1/agents/a2",     "/api/v1/agents/a3",
      "/api/v1/agents/zz", "/api/v1/queues",        "/api/v1/queues/support",
      "/api/v1/queues/zz", "/api/v1/agents/a%201x", "/api/v1/queues?limit=1"};
  std::map<std::string, int> statuses;
  for (Role role : kRoles) {
    const std::string cookie = Login(LoginOf(role));
    for (const std::string& target : targets) {
      SCOPED_TRACE(LoginOf(role) + " GET " + target);
      const Answer live = As(cookie, http::verb::get, target);
      const Answer port = ThroughThePort(cookie, target);
      EXPECT_EQ(live.status, port.status);
      EXPECT_EQ(live.body, port.body);
      EXPECT_EQ(live.header(http::field::content_type), port.header(http::field::content_type));
      statuses[LoginOf(role) + " " + target] = live.status;
    }
  }
  // The scope the port keeps: an agent reads itself, a lead its team, nobody enumerates.
  EXPECT_EQ(statuses["agent1 /api/v1/agents/a1"], 200);
  EXPECT_EQ(statuses["agent1 /api/v1/agents/a2"], 404);
  EXPECT_EQ(statuses["agent1 /api/v1/agents/zz"], 404);
  EXPECT_EQ(statuses["lead /api/v1/agents/a2"], 200);
  EXPECT_EQ(statuses["lead /api/v1/agents/a3"], 404);
  EXPECT_EQ(statuses["sup /api/v1/agents/a3"], 200);
  EXPECT_EQ(statuses["wall /api/v1/agents/a3"], 200);
  EXPECT_EQ(statuses["agent1 /api/v1/queues?limit=1"], 400);
  EXPECT_EQ(statuses["admin /api/v1/queues/support"], 200);
  EXPECT_EQ(statuses["admin /api/v1/queues/zz"], 404);
  const Answer a1 = As(admin, http::verb::get, "/api/v1/agents/a1");
  EXPECT_EQ(a1.json()["contacts"].size(), 1u);
  EXPECT_EQ(As(admin, http::verb::get, "/api/v1/queues/support").json()["waiting"], 1);
}

TEST_F(LiveViewApiTest, AReplyedWriteIsReadOnTheSameConnectionAndOnAnother) {
  StartBoth();
  const std::string agent = Login("agent1");
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(Endpoint());
  beast::flat_buffer buffer;
  auto exchange = [&](http::verb method, const std::string& target, const std::string& body) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::cookie, agent);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    EXPECT_TRUE(res.keep_alive());
    return Json::parse(res.body(), nullptr, false);
  };
  for (int i = 0; i < 20; ++i) {
    const std::string presence = i % 2 == 0 ? "available" : "offline";
    const Json written = exchange(http::verb::put, "/api/v1/agents/a1/presence",
                                  Json{{"presence", presence}}.dump());
    ASSERT_EQ(written["presence"], presence) << written.dump();
    EXPECT_EQ(exchange(http::verb::get, "/api/v1/agents/a1", "")["presence"], presence);
    EXPECT_EQ(As(agent, http::verb::get, "/api/v1/agents/a1").json()["presence"], presence);
    EXPECT_EQ(As(agent, http::verb::get, "/api/v1/queues/support").json()["agents_staffed"],
              i % 2 == 0 ? 1 : 0);
  }
}

}  // namespace
}  // namespace parley::api
