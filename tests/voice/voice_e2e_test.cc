// End-to-end tests of voice: the real `parley serve --sip` on free loopback ports, driven by real
// SIP peers (sipp from Debian's sip-tester) and by raw UDP for malformed messages. Every wait is
// on a process exit or a reply with a bounded deadline.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

TEST(VoiceE2eTest, OptionsIsAnswered200) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  EXPECT_THAT(server.process().output(), ::testing::HasSubstr("SIP on udp and tcp 127.0.0.1:"));
  auto r = server.Sipp("options.xml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto tcp = server.Sipp("options.xml", {"-t", "t1"});
  EXPECT_EQ(tcp.exit_code, 0) << tcp.err;
}

TEST(VoiceE2eTest, RegisterWithTheRightSipPasswordSucceeds) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto r = server.Sipp("register_ok.xml", {"-s", "alice", "-au", "alice", "-ap", kSipPassword});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// An administrator sets alice's SIP password over the API on the running server (she had none):
// her phone registers with it at once, no restart; set again, the old one is refused.
TEST(VoiceE2eTest, SipPasswordSetOverTheApiIsTakenWithoutARestart) {
  VoiceServer server(kData + "/voice.yaml", /*sip_users=*/{});
  ASSERT_TRUE(server.started());
  const int http = server.process().port();
  const std::string cookie = Login(http, "admin");
  auto none = server.Sipp("register_refused.xml", {"-s", "alice", "-au", "alice", "-ap", "x"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  const nlohmann::json users =
      nlohmann::json::parse(Http(http, "GET", "/api/v1/users", "", cookie).body);
  std::string id;
  for (const auto& u : users["users"]) {
    if (u["login"] == "alice") id = std::to_string(u["id"].get<uint64_t>());
  }
  ASSERT_FALSE(id.empty()) << users.dump();
  const std::string route = "/api/v1/users/" + id + "/sip-password";
  auto set = Http(http, "POST", route, R"({"password":"first sip secret"})", cookie);
  ASSERT_EQ(set.status, 200) << set.body;
  auto first =
      server.Sipp("register_ok.xml", {"-s", "alice", "-au", "alice", "-ap", "first sip secret"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  set = Http(http, "POST", route, R"({"password":"second sip secret"})", cookie);
  ASSERT_EQ(set.status, 200) << set.body;
  auto old = server.Sipp("register_refused.xml",
                         {"-s", "alice", "-au", "alice", "-ap", "first sip secret"});
  EXPECT_EQ(old.exit_code, 0) << old.err;
  auto second =
      server.Sipp("register_ok.xml", {"-s", "alice", "-au", "alice", "-ap", "second sip secret"});
  EXPECT_EQ(second.exit_code, 0) << second.err;
}

TEST(VoiceE2eTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto wrong = server.Sipp("register_refused.xml",
                           {"-s", "alice", "-au", "alice", "-ap", "not-the-password"});
  EXPECT_EQ(wrong.exit_code, 0) << wrong.err;
  auto unknown =
      server.Sipp("register_refused.xml", {"-s", "mallory", "-au", "mallory", "-ap", "x"});
  EXPECT_EQ(unknown.exit_code, 0) << unknown.err;
  // The web password is not a SIP password.
  auto web =
      server.Sipp("register_refused.xml", {"-s", "alice", "-au", "alice", "-ap", kTestPassword});
  EXPECT_EQ(web.exit_code, 0) << web.err;
}

TEST(VoiceE2eTest, RepeatedFailuresBanTheAddress) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto failures =
      server.Sipp("register_refused.xml", {"-s", "alice", "-au", "alice", "-ap", "guess"}, 10);
  EXPECT_EQ(failures.exit_code, 0) << failures.err;
  // Banned now: even the right password is refused, without a challenge.
  UdpPeer peer;
  peer.Send(server.sip_port(),
            "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
                std::to_string(peer.port()) +
                ";branch=z9hG4bK-ban\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\nTo: "
                "<sip:alice@127.0.0.1>\r\nCall-ID: ban-1\r\nCSeq: 1 REGISTER\r\nContact: "
                "<sip:alice@127.0.0.1:9>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(peer.FinalResponse(), "SIP/2.0 403 Forbidden");
  auto right = server.Sipp("register_ok.xml", {"-s", "alice", "-au", "alice", "-ap", kSipPassword});
  EXPECT_NE(right.exit_code, 0);
  // Counted: ten failures, one ban, the requests refused while banned.
  ASSERT_EQ(server.process().Terminate(), 0);
  EXPECT_THAT(server.process().output(), ::testing::HasSubstr("auth_failures=10 bans=1 "));
  EXPECT_THAT(server.process().output(),
              ::testing::Not(::testing::HasSubstr("banned_requests=0 ")));
}

TEST(VoiceE2eTest, MalformedMessagesGet400OrAreDroppedAndTheServerStaysUp) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kData + "/sip")) {
    if (entry.path().extension() != ".sip") continue;
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    UdpPeer peer;
    std::string text = ReadText(entry.path().string());
    ReplaceAll(&text, "\n", "\r\n");
    ReplaceAll(&text, "$LOCAL", "127.0.0.1:" + std::to_string(peer.port()));
    ReplaceAll(&text, "$PORT", std::to_string(server.sip_port()));
    ReplaceAll(&text, "$N", std::to_string(++n));
    const size_t body = text.find("\r\n\r\n");
    if (body != std::string::npos) {
      ReplaceAll(&text, "$LEN", std::to_string(text.size() - body - 4));
    }
    peer.Send(server.sip_port(), text);
    const std::string response = peer.FinalResponse(std::chrono::seconds(2));
    if (std::isdigit(static_cast<unsigned char>(name[0]))) {
      EXPECT_THAT(response, ::testing::StartsWith("SIP/2.0 " + name.substr(0, 3))) << text;
    } else {
      EXPECT_THAT(response, ::testing::AnyOf("", ::testing::StartsWith("SIP/2.0 4")));
    }
    // Still alive and answering.
    auto ping = server.Sipp("options.xml");
    ASSERT_EQ(ping.exit_code, 0) << ping.err;
  }
  EXPECT_GE(n, 8);
  // A datagram over the size limit.
  UdpPeer peer;
  std::string big =
      "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(peer.port()) +
      ";branch=z9hG4bK-big\r\nX-Filler: " + std::string(30000, 'x') +
      "\r\nCall-ID: big\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  peer.Send(server.sip_port(), big);
  const std::string response = peer.FinalResponse(std::chrono::seconds(2));
  EXPECT_THAT(response, ::testing::AnyOf("", ::testing::StartsWith("SIP/2.0 4")));
  auto ping = server.Sipp("options.xml");
  EXPECT_EQ(ping.exit_code, 0) << ping.err;
  EXPECT_EQ(server.process().Terminate(), 0);
  // The SDP that src/sip itself refused is counted (the stack's own 400s are not).
  EXPECT_THAT(server.process().output(), ::testing::HasSubstr(" bad_requests="));
  EXPECT_THAT(server.process().output(), ::testing::Not(::testing::HasSubstr(" bad_requests=0 ")));
}

TEST(VoiceE2eTest, TrunkCallToTheEntryNumberIsAnsweredAndBecomesAContact) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  const std::string cookie = Login(server.process().port(), "admin");
  ASSERT_FALSE(cookie.empty());
  EventsClient events(server.process().port(), "/api/v1/events", cookie);
  ASSERT_TRUE(events.connected());
  auto r = server.Sipp("invite_trunk.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The call became a voice contact that ran its flow into the support queue, and the caller's
  // BYE abandoned it.
  bool queued = false, abandoned = false;
  while (auto message = events.Next(std::chrono::seconds(10))) {
    const bool voice = message->find("\"channel\":\"voice\"") != std::string::npos;
    if (voice && message->find("\"type\":\"contact.queued\"") != std::string::npos) {
      queued = true;
    }
    if (voice && message->find("\"type\":\"contact.abandoned\"") != std::string::npos) {
      abandoned = true;
    }
    if (queued && abandoned) break;
  }
  EXPECT_TRUE(queued);
  EXPECT_TRUE(abandoned);
}

TEST(VoiceE2eTest, UnknownNumberIs404) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto r = server.Sipp("invite_refused.xml",
                       {"-s", "9999", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(VoiceE2eTest, CallRingsTheAgentsRegisteredPhoneWhichAnswersAndHangsUpIntoWrapUp) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  AliceRung call(server);
  ASSERT_EQ(call.ready(), "");
  call.Ring("agent_phone.xml", {"-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  // The phone answered (the offer was accepted) and its BYE released the caller (the caller's
  // scenario ends only on Parley's BYE); the agent went into wrap-up.
  const ProcessResult phone_result = call.Phone();
  EXPECT_EQ(phone_result.exit_code, 0) << phone_result.err;
  const ProcessResult caller_result = call.Caller();
  EXPECT_EQ(caller_result.exit_code, 0) << caller_result.err;
  EXPECT_TRUE(WaitForEvent(call.events(), "offer.accepted", "\"agent\":\"alice\""));
  EXPECT_TRUE(WaitForEvent(call.events(), "wrap_up.started", "\"agent\":\"alice\""));
}

TEST(VoiceE2eTest, BusyPhoneRejectsTheOfferAndTheCallKeepsWaiting) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  AliceRung call(server);
  ASSERT_EQ(call.ready(), "");
  call.Ring("agent_busy.xml");
  EXPECT_EQ(call.Phone().exit_code, 0);
  EXPECT_TRUE(WaitForEvent(call.events(), "offer.rejected", "\"agent\":\"alice\""));
  // The phone's 486 was counted (on the SIP thread, before the decline reached the engine).
  const std::string metrics =
      Http(server.process().port(), "GET", "/metrics", "", Login(server.process().port(), "admin"))
          .body;
  EXPECT_THAT(metrics, ::testing::HasSubstr(
                           "parley_sip_responses_total{direction=\"received\",class=\"4xx\"} 1\n"));
  // Stopping the server hangs the waiting caller up with a BYE.
  EXPECT_EQ(server.process().Terminate(), 0);
  const ProcessResult caller_result = call.Caller();
  EXPECT_EQ(caller_result.exit_code, 0) << caller_result.err << server.process().output();
}

// The phone rang and was cancelled (its scenario passed), `event` ended alice's offer, and the
// call still waits; the caller is released by the server's shutdown. The servers of these tests
// log at debug level (each SIP event, and where a call ended): a failure prints the whole log,
// which is read to its end once the server has stopped.
void ExpectRingEndedAndTheCallStillWaits(VoiceServer& server, AliceRung& call,
                                         const std::string& event) {
  const ProcessResult phone_result = call.Phone();
  const bool ended = WaitForEvent(call.events(), event, "\"agent\":\"alice\"");
  const std::string contacts = call.Contacts().body;
  EXPECT_EQ(server.process().Terminate(), 0);
  EXPECT_EQ(phone_result.exit_code, 0) << phone_result.err << server.process().output();
  EXPECT_TRUE(ended) << server.process().output();
  EXPECT_THAT(contacts, ::testing::HasSubstr("\"voice\"")) << server.process().output();
  const ProcessResult caller_result = call.Caller();
  EXPECT_EQ(caller_result.exit_code, 0) << caller_result.err << server.process().output();
}

TEST(VoiceE2eTest, RingNoAnswerCancelsThePhoneAndTheCallKeepsItsPlace) {
  VoiceServer server(kData + "/voice_rona.yaml", {"alice"},
                     {"--log-level", "debug"});  // offer_timeout: 3s
  ASSERT_TRUE(server.started());
  AliceRung call(server);
  ASSERT_EQ(call.ready(), "");
  call.Ring("agent_no_answer.xml");
  // The phone rang until the offer timed out, then was cancelled; the call still waits.
  ExpectRingEndedAndTheCallStillWaits(server, call, "offer.timed_out");
}

TEST(VoiceE2eTest, PhoneRingsForTheVoiceRingTimeoutWhenTheOfferLastsLonger) {
  VoiceServer server(kData + "/voice_ring.yaml", {"alice"},
                     {"--log-level", "debug"});  // ring_timeout: 2s, offer_timeout: 60s
  ASSERT_TRUE(server.started());
  AliceRung call(server);
  ASSERT_EQ(call.ready(), "");
  // The phone gives up (and fails its call) when no CANCEL came within 10 s of the INVITE: the
  // built-in 20 s ring would be too late.
  call.Ring("agent_no_answer.xml", {"-recv_timeout", "10000"});
  // The phone is cancelled when voice.ring_timeout ends its ring, long before the offer would
  // time out: the ring ends as a declined offer and the call keeps waiting.
  ExpectRingEndedAndTheCallStillWaits(server, call, "offer.rejected");
}

TEST(VoiceE2eTest, RegisterWithSha256Digest) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  EXPECT_EQ(RegisterAlice(server.sip_port(), "sip:alice@127.0.0.1:5999", /*sha256=*/true),
            "SIP/2.0 200 OK");
  EXPECT_EQ(RegisterAlice(server.sip_port(), "sip:alice@127.0.0.1:5999", /*sha256=*/true, "nope"),
            "SIP/2.0 403 Forbidden");
}

TEST(VoiceE2eTest, InviteFromAnUntrustedAddressIsChallenged) {
  VoiceServer server(kData + "/voice_no_trunk.yaml");
  ASSERT_TRUE(server.started());
  auto r = server.Sipp("invite_challenged.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(VoiceE2eTest, CallerHangingUpWhileThePhoneRingsCancelsThePhone) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  UdpPeer phone;  // alice's phone, on raw UDP so the test knows when it rings
  const int http = server.process().port();
  const std::string cookie = Login(http, "admin");
  EventsClient events(http, "/api/v1/events", cookie);
  ASSERT_TRUE(events.connected());
  ASSERT_EQ(AliceAvailableOnPhone(server, phone.port(), cookie), "");
  RawCaller caller(server.sip_port());
  ASSERT_EQ(caller.Call("5000"), "SIP/2.0 200 OK");
  const std::string invite = phone.ReceiveRequest("INVITE");
  ASSERT_FALSE(invite.empty());
  phone.Respond(server.sip_port(), invite, "180 Ringing");
  // The caller hangs up while the phone rings: Parley CANCELs it.
  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
  const std::string cancel = phone.ReceiveRequest("CANCEL");
  ASSERT_FALSE(cancel.empty());
  phone.Respond(server.sip_port(), cancel, "200 OK");
  phone.Respond(server.sip_port(), invite, "487 Request Terminated");
  EXPECT_FALSE(phone.ReceiveRequest("ACK").empty());
  EXPECT_TRUE(WaitForEvent(events, "contact.abandoned", "\"channel\":\"voice\""));
}

TEST(VoiceE2eTest, ReinviteIsAnsweredWithTheCurrentMedia) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  RawCaller caller(server.sip_port());
  ASSERT_EQ(caller.Call("5000"), "SIP/2.0 200 OK");
  const std::string first = caller.first_answer();
  ASSERT_THAT(first, ::testing::HasSubstr("m=audio "));
  std::string second;
  EXPECT_EQ(caller.Reinvite(&second), "SIP/2.0 200 OK") << second;
  // Same anchored endpoint (Parley's media port does not move).
  const auto media_line = [](const std::string& sdp) {
    const size_t at = sdp.find("m=audio ");
    return at == std::string::npos ? std::string() : sdp.substr(at, sdp.find("\r\n", at) - at);
  };
  EXPECT_EQ(media_line(second), media_line(first));
  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
}

// A caller whose BYE is lost (here: who never sends one, nor any RTP) is hung up by Parley when
// the media plane reports the leg inactive (voice.media_timeout: 3s), so nothing stays stuck.
TEST(VoiceE2eTest, MediaInactivityEndsACallWhoseByeWasLost) {
  VoiceServer server(kData + "/voice_media_timeout.yaml");
  ASSERT_TRUE(server.started());
  auto r = server.Sipp("caller_until_bye.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())}, 1, 0,
                       std::chrono::seconds(40));
  EXPECT_EQ(r.exit_code, 0) << r.err;  // Parley's BYE ended the scenario
  // The contact left with the call: none is open (checked until a bounded deadline, since the
  // engine hears of the hang-up on its own loop).
  const std::string cookie = Login(server.process().port(), "admin");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string body;
  do {
    body = Http(server.process().port(), "GET", "/api/v1/contacts", "", cookie).body;
  } while (body != R"({"contacts":[]})" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(body, R"({"contacts":[]})");
}

// Regression: a burst of calls the callers abandon in every way a dialog can end early (BYE
// in the early dialog, CANCEL) used to free a call the SIP thread then wrote to ("free(): corrupted
// unsorted chunks" under load). The server must stay up and keep answering.
TEST(VoiceE2eTest, BurstOfCallsHungUpEarlyLeavesTheServerUp) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  const int sip = server.sip_port();
  constexpr int kCalls = 60;
  std::vector<std::unique_ptr<UdpPeer>> peers;
  const auto invite = [&](UdpPeer& p, int i, const std::string& branch) {
    const std::string via = "127.0.0.1:" + std::to_string(p.port());
    const std::string sdp =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 "
        "0\r\nm=audio " +
        std::to_string(20000 + 2 * i) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    p.Send(sip, "INVITE sip:5000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                    ";branch=" + branch + "\r\nFrom: <sip:+4477009@127.0.0.1>;tag=b" +
                    std::to_string(i) + "\r\nTo: <sip:5000@127.0.0.1>\r\nCall-ID: burst-" +
                    std::to_string(i) + "\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@" + via +
                    ">\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: " +
                    std::to_string(sdp.size()) + "\r\n\r\n" + sdp);
  };
  const auto in_dialog = [&](UdpPeer& p, int i, const std::string& method, int cseq,
                             const std::string& to, const std::string& branch) {
    const std::string via = "127.0.0.1:" + std::to_string(p.port());
    p.Send(sip, method + " sip:5000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                    ";branch=" + branch + "\r\nFrom: <sip:+4477009@127.0.0.1>;tag=b" +
                    std::to_string(i) + "\r\nTo: " + to + "\r\nCall-ID: burst-" +
                    std::to_string(i) + "\r\nCSeq: " + std::to_string(cseq) + " " + method +
                    "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  };
  for (int i = 0; i < kCalls; ++i) {
    peers.push_back(std::make_unique<UdpPeer>());
    invite(*peers.back(), i, "z9hG4bK-inv" + std::to_string(i));
  }
  for (int i = 0; i < kCalls; ++i) {
    UdpPeer& p = *peers[static_cast<size_t>(i)];
    if (i % 2 == 1) {
      // CANCEL at once, racing the engine's answer (the stack's 100 Trying is all the caller
      // may have had).
      in_dialog(p, i, "CANCEL", 1, "<sip:5000@127.0.0.1>", "z9hG4bK-inv" + std::to_string(i));
      continue;
    }
    // BYE as soon as the dialog is known (the first response with a To tag: the 200), before
    // any ACK.
    std::string response;
    while (HeaderOf(response, "To").find(";tag=") == std::string::npos) {
      response = p.Receive(std::chrono::seconds(10));
      if (response.empty()) break;
    }
    in_dialog(p, i, "BYE", 2, HeaderOf(response, "To"), "z9hG4bK-bye" + std::to_string(i));
  }
  // The cancelled INVITEs' final responses (487, or 200 when the answer won the race).
  for (int i = 1; i < kCalls; i += 2) {
    (void)peers[static_cast<size_t>(i)]->FinalResponse(std::chrono::seconds(2));
  }
  // Still up: OPTIONS answered and the process has not exited.
  auto r = server.Sipp("options.xml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // A clean exit, which may take the stack's 32 s: the BYEs it sends at shutdown to callers
  // that never answer are waited for (issue 6 notes this slow shutdown after an overload).
  EXPECT_EQ(server.process().Terminate(std::chrono::seconds(60)), 0) << server.process().output();
}

// The SIP adapter's counters are on /metrics and move with a call (docs/operations.md).
TEST(VoiceE2eTest, RegisteredPhoneRingsAfterARestartWithoutRegisteringAgain) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  UdpPeer phone;
  ASSERT_EQ(AliceAvailableOnPhone(server, phone.port(), Login(server.process().port(), "admin")),
            "");
  // A restart (here graceful; the binding is written as the REGISTER is answered) on the same
  // data directory: alice's phone does not register again.
  ASSERT_EQ(server.process().Terminate(), 0);
  const int sip = FreePort();
  ServerProcess again(server.data_dir(), {"--sip", "127.0.0.1:" + std::to_string(sip)});
  ASSERT_TRUE(again.started());
  const std::string admin = Login(again.port(), "admin");
  EXPECT_THAT(Http(again.port(), "GET", "/metrics", "", admin).body,
              ::testing::HasSubstr("\nparley_sip_registrations_active 1\n"));
  // alice came back Available; a call for her queue rings the phone registered before.
  RawCaller caller(sip);
  EXPECT_EQ(caller.Call("5000"), "SIP/2.0 200 OK");
  const std::string invite = phone.ReceiveRequest("INVITE");
  ASSERT_FALSE(invite.empty()) << again.output();
  EXPECT_THAT(invite.substr(0, invite.find("\r\n")),
              ::testing::HasSubstr("@127.0.0.1:" + std::to_string(phone.port())));
  phone.Respond(sip, invite, "486 Busy Here");
  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
}

TEST(VoiceE2eTest, MetricsCountTheSipRequestsAndTheCall) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  const std::string cookie = Login(server.process().port(), "admin");
  ASSERT_FALSE(cookie.empty());
  const std::string before = Http(server.process().port(), "GET", "/metrics", "", cookie).body;
  EXPECT_THAT(before, ::testing::HasSubstr("\nparley_sip_calls_total 0\n"));
  auto r = server.Sipp("invite_trunk.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The caller's BYE is counted on the SIP thread; read until it shows, with a deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string after;
  do {
    after = Http(server.process().port(), "GET", "/metrics", "", cookie).body;
  } while (after.find("parley_sip_requests_total{method=\"BYE\"} 1\n") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_THAT(after, ::testing::HasSubstr("# TYPE parley_sip_requests_total counter\n"));
  EXPECT_THAT(after, ::testing::HasSubstr("parley_sip_requests_total{method=\"INVITE\"} 1\n"));
  EXPECT_THAT(after, ::testing::HasSubstr("parley_sip_requests_total{method=\"BYE\"} 1\n"));
  EXPECT_THAT(after, ::testing::HasSubstr("\nparley_sip_calls_total 1\n"));
  EXPECT_THAT(after, ::testing::HasSubstr("# TYPE parley_sip_calls_active gauge\n"));
  EXPECT_THAT(after, ::testing::HasSubstr("parley_sip_rejected_total{reason=\"malformed\"} 0\n"));
  // Parley answered the INVITE with 200 and nothing before it but the stack's own 100 Trying
  // (the 200 to the BYE is the stack's own too); it sent no request of its own, so it received
  // no response.
  EXPECT_THAT(after, ::testing::HasSubstr(
                         "parley_sip_responses_total{direction=\"sent\",class=\"1xx\"} 0\n"));
  EXPECT_THAT(after, ::testing::HasSubstr(
                         "parley_sip_responses_total{direction=\"sent\",class=\"2xx\"} 1\n"));
  EXPECT_THAT(after, ::testing::HasSubstr(
                         "parley_sip_responses_total{direction=\"received\",class=\"2xx\"} 0\n"));
}

}  // namespace
}  // namespace parley::testing
