#include "sip/replaces.h"

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include <memory>

#include "base/text.h"

namespace parley::sip {

namespace {

struct HomeUnref {
  void operator()(su_home_t* home) const { su_home_unref(home); }
};

}  // namespace

Result<std::optional<ReplacesTarget>> ReplacesOfReferTo(std::string_view uri_headers) {
  if (uri_headers.empty()) return std::optional<ReplacesTarget>();
  std::unique_ptr<su_home_t, HomeUnref> home(
      static_cast<su_home_t*>(su_home_new(sizeof(su_home_t))));
  if (!home) return Internal("out of memory reading Refer-To");
  // sofia-sip unescapes the URI's headers into "Name:value" lines.
  const std::string query(uri_headers);
  const char* lines = url_query_as_header_string(home.get(), query.c_str());
  if (lines == nullptr) {
    return InvalidArgument("Refer-To: the URI's headers are not name=value pairs");
  }
  std::string_view rest(lines);
  std::optional<std::string> value;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && EqualsIgnoringCase(line.substr(0, colon), "Replaces")) {
      if (value) return InvalidArgument("Refer-To: more than one Replaces");
      value = std::string(line.substr(colon + 1));
    }
  }
  if (!value) return std::optional<ReplacesTarget>();
  const sip_replaces_t* r = sip_replaces_make(home.get(), value->c_str());
  if (r == nullptr || r->rp_call_id == nullptr || *r->rp_call_id == '\0') {
    return InvalidArgument("Refer-To: Replaces '" + *value +
                           "' is not Call-ID;to-tag=...;from-tag=... (RFC 3891)");
  }
  if (r->rp_to_tag == nullptr || *r->rp_to_tag == '\0' || r->rp_from_tag == nullptr ||
      *r->rp_from_tag == '\0') {
    return InvalidArgument("Refer-To: Replaces '" + *value + "' lacks its to-tag or from-tag");
  }
  return std::optional<ReplacesTarget>(ReplacesTarget{.call_id = r->rp_call_id,
                                                      .to_tag = r->rp_to_tag,
                                                      .from_tag = r->rp_from_tag,
                                                      .early_only = r->rp_early_only != 0});
}

bool Names(const ReplacesTarget& replaces, const DialogId& dialog) {
  // Call-IDs compare case-sensitively (RFC 3261 section 8.1.1.4), tags as parameter values do,
  // case-insensitively (section 7.3.1).
  return !dialog.call_id.empty() && replaces.call_id == dialog.call_id &&
         EqualsIgnoringCase(replaces.to_tag, dialog.local_tag) &&
         EqualsIgnoringCase(replaces.from_tag, dialog.remote_tag);
}

ReplacesMatch MatchReplaces(const ReplacesTarget& replaces, const std::optional<DialogId>& expected,
                            const std::vector<DialogId>& others) {
  if (expected && Names(replaces, *expected)) return ReplacesMatch::kExpected;
  for (const DialogId& d : others) {
    if (Names(replaces, d)) return ReplacesMatch::kAnotherCall;
  }
  return ReplacesMatch::kNoDialog;
}

}  // namespace parley::sip
