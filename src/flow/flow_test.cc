#include <date/date.h>
#include <gtest/gtest.h>

#include "base/virtual_clock.h"
#include "config/config.h"
#include "flow/runner.h"
#include "flow/session.h"

namespace parley::flow {
namespace {

constexpr char kRouting[] = R"(
skills: [sales, support]
agents: [{id: alice, skills: {sales: 3}}]
queues: [{name: sales}, {name: support}]
)";

// Parses `yaml` (appended to a small routing configuration) and compiles its flows.
std::shared_ptr<const FlowVersion> Compile(const std::string& yaml,
                                           std::vector<FlowError>* errors = nullptr,
                                           uint64_t version = 1) {
  std::vector<config::ConfigError> cerrors;
  auto config = config::ParseConfigText(std::string(kRouting) + yaml, "t.yaml", {}, &cerrors);
  for (const auto& e : cerrors) ADD_FAILURE() << e.ToString();
  if (!config.ok()) return nullptr;
  std::vector<FlowError> local;
  auto v =
      CompileFlows((*config)->flows, (*config)->routing, "UTC", version, errors ? errors : &local);
  if (!errors) {
    for (const auto& e : local) ADD_FAILURE() << e.ToString();
  }
  return v.ok() ? *v : nullptr;
}

std::string FirstError(const std::string& yaml) {
  std::vector<FlowError> errors;
  auto v = Compile(yaml, &errors);
  EXPECT_EQ(v, nullptr);
  return errors.empty() ? "" : errors[0].ToString();
}

FlowContact Contact(uint64_t id, Channel channel) {
  FlowContact c;
  c.id = ContactId(id);
  c.channel = channel;
  return c;
}

TimePoint At(int y, int mo, int d, int h, int mi) {
  return TimePoint(date::sys_days(date::year(y) / mo / d) + std::chrono::hours(h) +
                   std::chrono::minutes(mi));
}

// A fake channel: records what the flow asked for. The same fake serves voice and chat; the
// contact's channel decides what the engine asks.
struct FakePorts : ports::ContactMedia, ports::ContactRouting, ports::HttpLookup {
  std::vector<std::string> log;
  uint64_t last_play = 0;
  uint64_t last_request = 0;
  void Play(ContactId, const ports::PlayRequest& r) override {
    last_play = r.play_id;
    log.push_back("play " + (r.prompt.recording.empty() ? r.prompt.text : r.prompt.recording) +
                  (r.loop ? " (loop)" : ""));
  }
  void StopPlayback(ContactId) override { log.push_back("stop"); }
  void SendText(ContactId, const ports::TextMessage& m) override {
    std::string b;
    for (const auto& x : m.buttons) b += " [" + x + "]";
    log.push_back("send " + m.text + b);
  }
  void Hangup(ContactId) override { log.push_back("hangup"); }
  void Enqueue(ContactId, const ports::EnqueueRequest& r) override {
    std::string attrs;
    for (const auto& [k, v] : r.attributes) attrs += " " + k + "=" + v;
    log.push_back("enqueue " + r.queue + attrs);
  }
  void Dequeue(ContactId) override { log.push_back("dequeue"); }
  void Transfer(ContactId, const ports::TransferRequest& r) override {
    log.push_back("transfer " + r.target);
  }
  void StartVoicemail(ContactId, const ports::VoicemailRequest& r) override {
    log.push_back("voicemail " + r.mailbox + (r.prompt.empty() ? "" : " after " + r.prompt.text));
  }
  void ScheduleCallback(ContactId, const ports::CallbackRequest& r) override {
    log.push_back("callback " + r.queue + " " + r.number);
  }
  void RequestQueueStats(ContactId, const std::string& q) override { log.push_back("stats " + q); }
  void Send(ContactId, const ports::HttpRequest& r) override {
    last_request = r.request_id;
    std::string f;
    for (const auto& [k, v] : r.fields) f += " " + k + "=" + v;
    log.push_back("http " + r.method + " " + r.url + f);
  }
  void Cancel(ContactId, uint64_t) override { log.push_back("cancel http"); }
};

class FlowTest : public ::testing::Test {
 protected:
  FlowTest()
      : clock_(At(2025, 1, 6, 10, 0)),  // a Monday
        runner_(clock_, clock_, ports_, ports_, ports_,
                [this](const FlowEvent& e) { events_.push_back(e); }) {}

  void Start(const std::shared_ptr<const FlowVersion>& v, Channel channel,
             const std::string& flow = "f") {
    ASSERT_NE(v, nullptr);
    FlowContact c;
    c.id = ContactId(1);
    c.channel = channel;
    c.caller = "+331000";
    ASSERT_TRUE(runner_.Start(v, flow, c).ok());
  }
  void Input(const FlowInput& in) { ASSERT_TRUE(runner_.OnInput(ContactId(1), in).ok()); }
  void Finish() { Input(PromptFinished{ports_.last_play}); }
  const FlowSession* session() const { return runner_.Find(ContactId(1)); }
  std::string Last() const { return ports_.log.empty() ? "" : ports_.log.back(); }
  bool Logged(const std::string& s) const {
    return std::find(ports_.log.begin(), ports_.log.end(), s) != ports_.log.end();
  }
  FlowOutcome Outcome() const {
    for (const auto& e : events_) {
      if (e.kind == FlowEventKind::kFlowEnded) return e.outcome;
    }
    return FlowOutcome::kNone;
  }

  VirtualClock clock_;
  FakePorts ports_;
  std::vector<FlowEvent> events_;
  FlowRunner runner_;
};

constexpr char kMenuFlow[] = R"(
flows:
  - name: f
    steps:
      - {id: hello, type: play, prompt: Hello, next: menu}
      - id: menu
        type: menu
        prompt: "1 sales, 2 support"
        options: {"1": sales, "2": support, support: support}
        timeout: 5s
        retries: 1
        invalid_prompt: Invalid
        no_input_prompt: Nothing
        exits: {failure: bye}
      - {id: sales, type: queue, queue: sales}
      - {id: support, type: queue, queue: support}
      - {id: bye, type: hangup}
)";

TEST_F(FlowTest, MenuOnVoicePlaysWaitsAndEnqueues) {
  Start(Compile(kMenuFlow), Channel::kVoice);
  EXPECT_EQ(Last(), "play Hello");
  Finish();
  EXPECT_EQ(Last(), "play 1 sales, 2 support");
  Input(DigitsReceived{"2"});
  EXPECT_EQ(Last(), "enqueue support");
  ASSERT_NE(session(), nullptr);
  EXPECT_EQ(session()->current_step(), "support");
  Input(AgentConnected{});
  EXPECT_EQ(session(), nullptr);
  EXPECT_EQ(Outcome(), FlowOutcome::kConnected);
}

TEST_F(FlowTest, SameMenuOnChatSendsButtonsAndMatchesWords) {
  Start(Compile(kMenuFlow), Channel::kChat);
  EXPECT_EQ(ports_.log[0], "send Hello");
  EXPECT_EQ(ports_.log[1], "send 1 sales, 2 support [1] [2] [support]");
  Input(TextReceived{" Support "});
  EXPECT_EQ(Last(), "enqueue support");
}

TEST_F(FlowTest, MenuTimeoutRetriesThenTakesFailure) {
  Start(Compile(kMenuFlow), Channel::kVoice);
  Finish();
  Finish();  // menu prompt ended: the 5 s timer starts
  clock_.AdvanceBy(Seconds(5));
  EXPECT_EQ(Last(), "play Nothing");
  Finish();
  clock_.AdvanceBy(Seconds(4));
  EXPECT_EQ(Last(), "play Nothing");  // not yet
  clock_.AdvanceBy(Seconds(1));
  EXPECT_EQ(Last(), "hangup");
  EXPECT_EQ(Outcome(), FlowOutcome::kCompleted);
}

TEST_F(FlowTest, InvalidInputPlaysItsPromptAndBargeInStopsPrompt) {
  Start(Compile(kMenuFlow), Channel::kVoice);
  Finish();
  Input(DigitsReceived{"7"});  // during the prompt
  EXPECT_TRUE(Logged("stop"));
  EXPECT_EQ(Last(), "play Invalid");
  Input(DigitsReceived{"1"});
  EXPECT_EQ(Last(), "enqueue sales");
}

TEST_F(FlowTest, CallerHangingUpInMenuIsDropOffAtThatStep) {
  Start(Compile(kMenuFlow), Channel::kVoice);
  Finish();
  Input(CallerHungUp{});
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_.back().kind, FlowEventKind::kFlowEnded);
  EXPECT_EQ(events_.back().step, "menu");
  EXPECT_EQ(events_.back().outcome, FlowOutcome::kAbandoned);
  EXPECT_EQ(clock_.pending(), 0u);
}

TEST_F(FlowTest, StepEventsNameTheExitTaken) {
  Start(Compile(kMenuFlow), Channel::kVoice);
  Finish();
  Input(DigitsReceived{"1"});
  std::vector<std::string> trail;
  for (const auto& e : events_) {
    trail.push_back(std::string(FlowEventKindName(e.kind)) + " " + e.step + " " + e.exit);
  }
  EXPECT_EQ(trail, (std::vector<std::string>{"step_entered hello ", "step_exited hello next",
                                             "step_entered menu ", "step_exited menu 1",
                                             "step_entered sales "}));
}

constexpr char kCollectFlow[] = R"(
flows:
  - name: f
    steps:
      - id: ask
        type: collect
        prompt: Your order number
        into: order
        min_length: 4
        max_length: 6
        pattern: "[0-9]+"
        retries: 1
        exits: {next: thanks, failure: bye}
      - {id: thanks, type: say, text: "= ignored", next: bye}
      - {id: bye, type: hangup}
)";

TEST_F(FlowTest, CollectDigitsUntilTerminator) {
  Start(Compile(kCollectFlow), Channel::kVoice);
  Finish();
  Input(DigitsReceived{"12"});
  Input(DigitsReceived{"34#"});
  EXPECT_EQ(Last(), "play = ignored");
  EXPECT_EQ(session()->Attribute("order"), "1234");
}

TEST_F(FlowTest, CollectTooShortRetriesThenFails) {
  Start(Compile(kCollectFlow), Channel::kVoice);
  Finish();
  Input(DigitsReceived{"12#"});
  EXPECT_EQ(Last(), "play Your order number");
  Finish();
  Input(DigitsReceived{"1#"});
  EXPECT_EQ(Last(), "hangup");
}

TEST_F(FlowTest, CollectTextOnChatChecksPattern) {
  Start(Compile(kCollectFlow), Channel::kChat);
  Input(TextReceived{"abcd"});
  Input(TextReceived{"98765"});
  EXPECT_EQ(session(), nullptr);
  EXPECT_TRUE(Logged("send = ignored"));
}

TEST_F(FlowTest, CollectInterDigitTimeoutAcceptsWhatWasTyped) {
  Start(Compile(kCollectFlow), Channel::kVoice);
  Finish();
  Input(DigitsReceived{"12345"});
  clock_.AdvanceBy(Seconds(5));
  EXPECT_EQ(Last(), "play = ignored");
}

constexpr char kLookupFlow[] = R"(
flows:
  - name: f
    steps:
      - {id: setup, type: set, values: {order: "42", vip: "= attr.order == '42'"}, next: crm}
      - id: crm
        type: lookup
        url: https://crm.example/orders
        send: [order]
        timeout: 3s
        store: {tier: customer.tier, first: items.0.sku}
        exits: {next: route, failure: fallback}
      - id: route
        type: branch
        cases:
          - {when: "attr.tier == 'gold' and attr.vip", next: gold}
        exits: {default: fallback}
      - {id: gold, type: queue, queue: sales, priority: 10}
      - {id: fallback, type: queue, queue: support}
)";

TEST_F(FlowTest, LookupStoresJsonAndBranches) {
  Start(Compile(kLookupFlow), Channel::kChat);
  EXPECT_EQ(Last(), "http GET https://crm.example/orders order=42");
  Input(LookupAnswered{ports_.last_request, 200,
                       R"({"customer": {"tier": "gold"}, "items": [{"sku": "A1"}]})"});
  EXPECT_EQ(Last(), "enqueue sales order=42 vip=true tier=gold first=A1");
  EXPECT_EQ(session()->current_step(), "gold");
}

TEST_F(FlowTest, LookupFailureAndBadJsonTakeFailure) {
  auto v = Compile(kLookupFlow);
  Start(v, Channel::kChat);
  Input(LookupFailed{ports_.last_request, "connection refused"});
  EXPECT_EQ(session()->current_step(), "fallback");
  FlowSession s(v, Contact(2, Channel::kChat));
  FlowOutput out;
  s.Start(0, clock_.Now(), &out);
  const auto& req = std::get<ports::HttpRequest>(out.effects[0]);
  s.Handle(LookupAnswered{req.request_id, 200, "{\"tier\": "}, clock_.Now(), &out);
  EXPECT_EQ(s.current_step(), "fallback");
}

TEST_F(FlowTest, LookupTimeoutCancelsTheRequest) {
  Start(Compile(kLookupFlow), Channel::kChat);
  clock_.AdvanceBy(Seconds(3));
  EXPECT_TRUE(Logged("cancel http"));
  EXPECT_EQ(session()->current_step(), "fallback");
  Input(LookupAnswered{ports_.last_request, 200, "{}"});  // late: ignored
  EXPECT_EQ(session()->current_step(), "fallback");
}

TEST_F(FlowTest, SubFlowReturnsToTheCaller) {
  auto v = Compile(R"(
flows:
  - name: f
    steps:
      - {id: auth, type: call, flow: pin, next: done}
      - {id: done, type: say, text: "Hi", next: end}
      - {id: end, type: hangup}
  - name: pin
    steps:
      - {id: get, type: collect, into: pin, max_length: 4, exits: {next: back, failure: back}}
      - {id: back, type: return}
)");
  Start(v, Channel::kChat);
  EXPECT_EQ(session()->current_flow(), "pin");
  Input(TextReceived{"1234"});
  EXPECT_EQ(Last(), "hangup");
  EXPECT_TRUE(Logged("send Hi"));
}

constexpr char kHoursFlow[] = R"(
schedules:
  - name: paris
    time_zone: Europe/Paris
    weekly: {mon-sun: "08:00-18:00"}
    exceptions: [{date: 2025-12-25, name: Christmas}]
  - name: newyork
    time_zone: America/New_York
    weekly: {mon-fri: "09:00-17:00"}
flows:
  - name: f
    steps:
      - {id: h, type: hours, schedule: paris, exits: {open: o, closed: c, holiday: x}}
      - {id: o, type: say, text: open, next: e}
      - {id: c, type: say, text: closed, next: e}
      - {id: x, type: say, text: holiday, next: e}
      - {id: e, type: hangup}
  - name: ny
    steps:
      - {id: h, type: hours, schedule: newyork, exits: {open: o, closed: c}}
      - {id: o, type: say, text: open, next: e}
      - {id: c, type: say, text: closed, next: e}
      - {id: e, type: hangup}
)";

std::string HoursAt(const std::shared_ptr<const FlowVersion>& v, TimePoint t,
                    const std::string& flow = "f") {
  FlowSession s(v, Contact(1, Channel::kChat));
  FlowOutput out;
  s.Start(v->FlowIndex(flow), t, &out);
  return std::get<ports::TextMessage>(out.effects.at(0)).text;
}

TEST(FlowHoursTest, ParisAcrossTheMarchDaylightSavingChange) {
  auto v = Compile(kHoursFlow);
  ASSERT_NE(v, nullptr);
  // Saturday 29 March 2025: CET (UTC+1), 06:30 UTC is 07:30 local: closed.
  EXPECT_EQ(HoursAt(v, At(2025, 3, 29, 6, 30)), "closed");
  // Sunday 30 March 2025 after the change: CEST (UTC+2), 06:30 UTC is 08:30 local: open.
  EXPECT_EQ(HoursAt(v, At(2025, 3, 30, 6, 30)), "open");
  EXPECT_EQ(HoursAt(v, At(2025, 3, 30, 15, 59)), "open");   // 17:59
  EXPECT_EQ(HoursAt(v, At(2025, 3, 30, 16, 0)), "closed");  // 18:00
  EXPECT_EQ(HoursAt(v, At(2025, 3, 29, 16, 30)), "open");   // 17:30 CET
}

TEST(FlowHoursTest, HolidaysAndOtherZones) {
  auto v = Compile(kHoursFlow);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(HoursAt(v, At(2025, 12, 25, 10, 0)), "holiday");
  // 23:30 UTC on the 24th is 00:30 on the 25th in Paris.
  EXPECT_EQ(HoursAt(v, At(2025, 12, 24, 23, 30)), "holiday");
  // New York: 14:00 UTC on Monday 10 March 2025 is 10:00 EDT (changed on the 9th): open;
  // on Friday 7 March it was 09:00 EST: open; 13:30 UTC then was 08:30: closed.
  EXPECT_EQ(HoursAt(v, At(2025, 3, 10, 14, 0), "ny"), "open");
  EXPECT_EQ(HoursAt(v, At(2025, 3, 7, 14, 0), "ny"), "open");
  EXPECT_EQ(HoursAt(v, At(2025, 3, 7, 13, 30), "ny"), "closed");
  EXPECT_EQ(HoursAt(v, At(2025, 3, 8, 15, 0), "ny"), "closed");  // Saturday
}

TEST_F(FlowTest, QueueTreatmentAnnouncesAndOffersCallback) {
  auto v = Compile(R"(
flows:
  - name: f
    steps:
      - id: q
        type: queue
        queue: sales
        music: {recording: moh.wav}
        announce_every: 60s
        announce: [position, wait]
        offers: {"9": callback}
        max_wait: 10m
        exits: {timeout: vm, callback: cb}
      - {id: cb, type: callback, queue: sales, next: bye}
      - {id: vm, type: voicemail, mailbox: sales}
      - {id: bye, type: hangup}
)");
  Start(v, Channel::kVoice);
  EXPECT_EQ(Last(), "play moh.wav (loop)");
  clock_.AdvanceBy(Seconds(60));
  EXPECT_EQ(Last(), "stats sales");
  Input(QueueStatsAnswered{"sales", {3, Seconds(150), 0, 5}});
  EXPECT_EQ(Last(), "play You are number 3 in the queue. Your estimated wait is about 3 minutes.");
  Finish();
  EXPECT_EQ(Last(), "play moh.wav (loop)");
  Input(DigitsReceived{"9"});
  EXPECT_TRUE(Logged("dequeue"));
  EXPECT_TRUE(Logged("callback sales +331000"));
  EXPECT_EQ(Last(), "hangup");
  EXPECT_EQ(Outcome(), FlowOutcome::kCallback);
}

TEST_F(FlowTest, QueueMaxWaitLeadsToItsExit) {
  auto v = Compile(R"(
flows:
  - name: f
    steps:
      - {id: q, type: queue, queue: sales, max_wait: 2m, exits: {timeout: vm}}
      - {id: vm, type: voicemail, mailbox: sales}
)");
  Start(v, Channel::kVoice);
  clock_.AdvanceBy(Seconds(120));
  EXPECT_TRUE(Logged("dequeue"));
  EXPECT_EQ(Last(), "voicemail sales");
  EXPECT_EQ(Outcome(), FlowOutcome::kVoicemail);
}

constexpr const char* kVoicemailFlow = R"(
flows:
  - name: f
    steps:
      - {id: vm, type: voicemail, mailbox: sales, prompt: {text: Leave a message}, max_length: 30s}
)";

// A call hears the voicemail prompt from the adapter that records, right before the beep: the
// prompt rides in the request instead of a separate play the recording would race.
TEST_F(FlowTest, VoicemailPromptOfACallGoesWithTheRequest) {
  Start(Compile(kVoicemailFlow), Channel::kVoice);
  EXPECT_FALSE(Logged("play Leave a message"));
  EXPECT_EQ(Last(), "voicemail sales after Leave a message");
  EXPECT_EQ(Outcome(), FlowOutcome::kVoicemail);
}

TEST_F(FlowTest, VoicemailPromptOfAChatIsSentAsText) {
  Start(Compile(kVoicemailFlow), Channel::kChat);
  EXPECT_TRUE(Logged("send Leave a message"));
  EXPECT_EQ(Last(), "voicemail sales");
}

TEST_F(FlowTest, BranchOnQueueStatistics) {
  auto v = Compile(R"(
flows:
  - name: f
    steps:
      - id: b
        type: branch
        queue: sales
        cases: [{when: "queue.agents_available == 0 or queue.estimated_wait > 300", next: busy}]
        exits: {default: q}
      - {id: busy, type: transfer, to: {number: "+33999"}}
      - {id: q, type: queue, queue: sales}
)");
  Start(v, Channel::kVoice);
  EXPECT_EQ(Last(), "stats sales");
  Input(QueueStatsAnswered{"sales", {0, Seconds(400), 2, 9}});
  EXPECT_EQ(Last(), "transfer +33999");
  EXPECT_EQ(Outcome(), FlowOutcome::kTransferred);
}

TEST_F(FlowTest, SurveyRecordsCsatAndNps) {
  auto v = Compile(R"(
flows:
  - name: f
    steps:
      - id: s
        type: survey
        questions:
          - {id: sat, kind: csat, prompt: "Rate us 1 to 5"}
          - {id: rec, kind: nps, prompt: "0 to 10?"}
          - {id: why, kind: text, prompt: "Why?"}
        next: bye
      - {id: bye, type: hangup}
)");
  Start(v, Channel::kChat);
  Input(TextReceived{"7"});  // out of range: asked again
  Input(TextReceived{"4"});
  Input(TextReceived{"10"});
  Input(TextReceived{"quick"});
  std::vector<std::string> answers;
  for (const auto& e : events_) {
    if (e.kind == FlowEventKind::kSurveyAnswer) {
      answers.push_back(e.question + " " + e.survey_kind + " " + std::to_string(e.score) + " " +
                        e.text);
    }
  }
  EXPECT_EQ(answers, (std::vector<std::string>{"sat csat 4 ", "rec nps 10 ", "why text -1 quick"}));
  EXPECT_EQ(Last(), "hangup");
}

TEST_F(FlowTest, AskOnChatAndVoiceButtons) {
  auto v = Compile(R"(
flows:
  - name: f
    steps:
      - {id: a, type: ask, text: "Topic?", buttons: [Orders, Returns], into: topic,
         exits: {next: q, failure: q}}
      - {id: q, type: queue, queue: support}
)");
  Start(v, Channel::kChat);
  EXPECT_EQ(ports_.log[0], "send Topic? [Orders] [Returns]");
  Input(TextReceived{"Returns"});
  EXPECT_EQ(Last(), "enqueue support topic=Returns");
  FlowSession s(v, Contact(2, Channel::kVoice));
  FlowOutput out;
  s.Start(0, clock_.Now(), &out);
  s.Handle(DigitsReceived{"1"}, clock_.Now(), &out);
  EXPECT_EQ(s.Attribute("topic"), "Orders");
}

TEST_F(FlowTest, TransferToAnotherFlow) {
  auto v = Compile(R"(
flows:
  - name: f
    steps: [{id: t, type: transfer, to: {flow: g}}]
  - name: g
    steps: [{id: s, type: say, text: "in g", next: e}, {id: e, type: end}]
)");
  Start(v, Channel::kChat);
  EXPECT_EQ(ports_.log, (std::vector<std::string>{"send in g", "hangup"}));
}

TEST(FlowRegistryTest, SessionsKeepTheirVersionAndBadUpdatesKeepThePrevious) {
  auto parse = [](const std::string& text) {
    std::vector<config::ConfigError> errors;
    return config::ParseConfigText(std::string(kRouting) + text, "t.yaml", {}, &errors);
  };
  auto c1 = parse(
      "flows: [{name: f, steps: [{id: s, type: say, text: one, next: e}, "
      "{id: e, type: hangup}]}]");
  auto c2 = parse(
      "flows: [{name: f, steps: [{id: s, type: say, text: two, next: e}, "
      "{id: e, type: hangup}]}]");
  auto bad = parse("flows: [{name: f, steps: [{id: s, type: say, text: x, next: nowhere}]}]");
  ASSERT_TRUE(c1.ok() && c2.ok() && bad.ok());
  FlowRegistry registry;
  std::vector<FlowError> errors;
  ASSERT_TRUE(registry.Update((*c1)->flows, (*c1)->routing, "UTC", &errors).ok());
  FlowSession old(registry.current(), Contact(1, Channel::kVoice));
  FlowOutput out;
  old.Start(0, TimePoint{}, &out);
  ASSERT_TRUE(registry.Update((*c2)->flows, (*c2)->routing, "UTC", &errors).ok());
  EXPECT_EQ(registry.current()->version, 2u);
  EXPECT_EQ(old.version().version, 1u);
  EXPECT_EQ(std::get<ports::PlayRequest>(out.effects[0]).prompt.text, "one");
  EXPECT_FALSE(registry.Update((*bad)->flows, (*bad)->routing, "UTC", &errors).ok());
  EXPECT_EQ(registry.current()->version, 2u);
  ASSERT_EQ(errors.size(), 1u);
}

// ---- expressions ----

struct TestScope : ExprScope {
  Value Variable(std::string_view name) const override {
    if (name == "attr.n") return std::string("12");
    if (name == "contact.channel") return std::string("voice");
    return std::string();
  }
  bool ScheduleOpen(std::string_view) const override { return true; }
  bool ScheduleHoliday(std::string_view) const override { return false; }
};

std::string Eval(const std::string& text) {
  ExprError err;
  auto e = Expr::Parse(text, {{"office"}, false}, &err);
  if (!e) return "error@" + std::to_string(err.offset) + ": " + err.message;
  return ValueText(e->Evaluate(TestScope()));
}

TEST(ExprTest, Evaluates) {
  EXPECT_EQ(Eval("attr.n > 9"), "true");  // numeric, not string, comparison
  EXPECT_EQ(Eval("attr.n + 1"), "13");
  EXPECT_EQ(Eval("'a' + attr.n"), "a12");
  EXPECT_EQ(Eval("len(attr.n) == 2 and matches(attr.n, '[0-9]+')"), "true");
  EXPECT_EQ(Eval("not (contact.channel == 'chat') && open('office')"), "true");
  EXPECT_EQ(Eval("upper(contact.channel)"), "VOICE");
  EXPECT_EQ(Eval("attr.missing == ''"), "true");
  EXPECT_EQ(Eval("1 / 0"), "0");
  EXPECT_EQ(Eval("-2 * 3 < -5"), "true");
}

TEST(ExprTest, ReportsErrorsWithTheirOffset) {
  EXPECT_EQ(Eval("attr.n >"), "error@8: expected a value at the end of the expression");
  EXPECT_EQ(Eval("(1 + 2"), "error@6: expected ')'");
  EXPECT_EQ(Eval("len(1, 2)"), "error@0: len() takes 1 argument(s), got 2");
  EXPECT_EQ(Eval("matches(attr.n, '[0-')"),
            "error@16: bad pattern '[0-': not a valid ECMAScript regular expression");
  EXPECT_EQ(Eval("open('shop')"), "error@5: unknown schedule 'shop'");
  EXPECT_EQ(Eval("queue.waiting > 1").substr(0, 36), "error@0: unknown name 'queue.waiting");
  EXPECT_EQ(Eval("'open"), "error@0: string not closed");
}

// ---- load-time checks ----

// A lookup's URL is checked by the lookup client's own parser when the flows load, so a URL the
// client could not send fails with its line instead of failing every contact at run time.
TEST(FlowCompileTest, LookupUrlsAreCheckedWhereTheyAreWritten) {
  auto lookup = [](const std::string& url) {
    return FirstError("flows: [{name: f, steps: [{id: a, type: lookup, url: '" + url +
                      "', exits: {next: b, failure: b}}, {id: b, type: hangup}]}]");
  };
  EXPECT_EQ(lookup("ftp://crm.example/x"),
            "t.yaml:5:54: url of step 'a' of flow 'f' must start with http:// or https://");
  EXPECT_EQ(lookup("https://user:secret@crm.example/x"),
            "t.yaml:5:54: url of step 'a' of flow 'f' carries credentials (user info before "
            "'@'), which are not supported; send a key as a query parameter or with the request "
            "instead");
  EXPECT_EQ(lookup("http:///customers"), "t.yaml:5:54: url of step 'a' of flow 'f' has no host");
  EXPECT_EQ(lookup("http://crm.example:0/x"),
            "t.yaml:5:54: url of step 'a' of flow 'f' has a bad port '0' (expected 1-65535)");
  EXPECT_EQ(lookup("http://crm.example/a b"),
            "t.yaml:5:54: url of step 'a' of flow 'f' contains a space or control character "
            "(percent-encode it)");
  EXPECT_EQ(lookup(""),
            "t.yaml:5:54: url of step 'a' of flow 'f' must start with http:// or "
            "https://");
  EXPECT_NE(Compile("flows: [{name: f, steps: [{id: a, type: lookup, url: "
                    "'https://[::1]:8443/c?k=1', exits: {next: b, failure: b}}, "
                    "{id: b, type: hangup}]}]"),
            nullptr);
}

TEST(FlowCompileTest, LookupTimeoutDefaultsToTheConfiguredOne) {
  const std::string flows =
      "flows: [{name: f, steps: [{id: a, type: lookup, url: 'http://crm.example/', "
      "exits: {next: b, failure: b}}, {id: b, type: lookup, url: 'http://crm.example/', "
      "timeout: 3s, exits: {next: c, failure: c}}, {id: c, type: hangup}]}]\n";
  auto timeout_of = [](const std::shared_ptr<const FlowVersion>& v, size_t step) {
    return std::get<LookupParams>(v->flows.at(0).steps.at(step).params).timeout;
  };
  auto defaults = Compile(flows);
  ASSERT_NE(defaults, nullptr);
  EXPECT_EQ(timeout_of(defaults, 0), Seconds(5));
  EXPECT_EQ(timeout_of(defaults, 1), Seconds(3));
  auto configured = Compile(flows + "lookups: {timeout: 1500ms}\n");
  ASSERT_NE(configured, nullptr);
  EXPECT_EQ(timeout_of(configured, 0), Seconds(1.5));
  EXPECT_EQ(timeout_of(configured, 1), Seconds(3));  // a step's own timeout wins
}

TEST(FlowCompileTest, PositionedErrors) {
  EXPECT_EQ(FirstError("flows: [{name: f, steps: [{id: a, type: mneu}]}]"),
            "t.yaml:5:41: unknown step type 'mneu' in step 'a' of flow 'f'; did you mean "
            "'menu'? (accepted: play, menu, collect, say, ask, set, branch, hours, lookup, "
            "queue, transfer, voicemail, callback, survey, call, return, hangup, end)");
  EXPECT_EQ(FirstError("flows: [{name: f, steps: [{id: a, type: play, prompt: x, next: b}]}]"),
            "t.yaml:5:64: exit 'next' of step 'a' goes to 'b', which is not a step of flow 'f'; "
            "did you mean 'a'?");
  EXPECT_EQ(FirstError("flows: [{name: f, steps: [{id: a, type: hangup}, {id: b, type: hangup}]}]"),
            "t.yaml:5:55: step 'b' of flow 'f' is unreachable from its start 'a'");
  EXPECT_EQ(FirstError("flows: [{name: f, steps: [{id: a, type: set, values: {x: '1'}, next: b},"
                       " {id: b, type: play, prompt: p, next: a}]}]"),
            "t.yaml:5:32: loop without a step that waits for input in flow 'f': a -> b -> a");
  EXPECT_EQ(FirstError("flows: [{name: f, steps: [{id: a, type: queue, queue: sale}]}]"),
            "t.yaml:5:55: unknown queue 'sale' in step 'a' of flow 'f'; did you mean 'sales'?");
  EXPECT_EQ(FirstError("flows: [{name: f, steps: [{id: a, type: set, values: {x: '= 1 +'}, "
                       "next: a2}, {id: a2, type: hangup}]}]"),
            "t.yaml:5:64: bad expression in value of 'x' in step 'a' of flow 'f': expected a "
            "value at the end of the expression");
  EXPECT_EQ(FirstError("flows: [{name: f, steps: [{id: a, type: call, flow: f, next: b}, "
                       "{id: b, type: hangup}]}]"),
            "t.yaml:5:53: flow 'f' calls sub-flow 'f', which calls it back: sub-flows may not "
            "recurse");
}

}  // namespace
}  // namespace parley::flow
