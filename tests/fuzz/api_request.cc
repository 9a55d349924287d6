// Fuzz harness: the API's request validation (src/api/request.h). The first byte picks what the
// rest is fed to: a JSON body through each route's reader, a path segment, or a query string.
// Every refusal must carry a message; nothing may crash or throw.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "api/reports.h"
#include "api/request.h"

namespace {

void Require(const std::optional<parley::api::ApiError>& e) {
  if (e && (e->message.empty() || e->code.empty() || e->http_status < 400)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley::api;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (selector % 4) {
      case 0:
      case 1: {
        Json body;
        JsonLimits limits;
        limits.max_depth = 8;
        auto e = ParseJsonBody(text, limits, body);
        Require(e);
        if (e) break;
        LoginBody login;
        Require(ReadLogin(body, login));
        PresenceBody presence;
        Require(ReadPresence(body, presence));
        parley::ports::NewContact contact;
        Require(ReadNewContact(body, contact));
        parley::ports::WrapUp wrap_up;
        Require(ReadWrapUp(body, wrap_up));
        parley::ports::TransferTarget target;
        Require(ReadTransfer(body, target));
        std::string s;
        Require(ReadOfferAnswer(body, s));
        Require(ReadEmpty(body));
        TokenBody token;
        Require(ReadTokenIssue(body, token));
        // Whatever was accepted renders back without throwing.
        (void)ErrorBody({400, "x", std::string(text.substr(0, 64)), std::nullopt});
        break;
      }
      case 2: {
        parley::ContactId id;
        Require(ParseContactId(text, id));
        std::string name;
        Require(ParseName(text, "agent", name));
        break;
      }
      default: {
        // The report routes' query (src/api/reports.h), both subjects, on the same text.
        ReportRequest report;
        Require(ReadReportRequest(text, "text/csv", parley::ports::ReportSubject::kQueues, report));
        Require(ReadReportRequest(text, "", parley::ports::ReportSubject::kAgents, report));
        std::map<std::string, std::string> query;
        auto e = ParseQuery(text, {"state", "queue", "agent", "limit", "after"}, query);
        Require(e);
        if (e) break;
        parley::ports::ContactFilter filter;
        Require(ReadContactFilter(query, filter));
        uint64_t after = 0;
        Require(ReadAfter(query, after));
        break;
      }
    }
  } catch (...) {
    __builtin_trap();  // the validation layer must not throw
  }
  return 0;
}
