#pragma once
// Attended transfer from a phone (docs/voice.md, "Consultation transfer"): the Replaces that a
// REFER's Refer-To URI carries (RFC 3515, RFC 3891, RFC 5589 section 7), read with sofia-sip's
// own parsers, and which of Parley's dialogs it names. Pure functions, no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace parley::sip {

// One dialog between Parley and a phone, as Parley sees it: its Call-ID, Parley's tag and the
// phone's.
struct DialogId {
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;
};

// What a Replaces header names (RFC 3891 section 6.1).
struct ReplacesTarget {
  std::string call_id;
  std::string to_tag;
  std::string from_tag;
  bool early_only = false;
};

// The Replaces in the headers part of a Refer-To URI (the escaped text after '?', as in
// "Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2&Require=replaces"; the header name in any
// case): nullopt when there is none (a blind transfer); kInvalidArgument, saying what is wrong,
// when the value does not parse or lacks a tag.
Result<std::optional<ReplacesTarget>> ReplacesOfReferTo(std::string_view uri_headers);

// Whether `replaces`, sent to Parley, names `dialog`: the same Call-ID, its to-tag Parley's tag
// and its from-tag the phone's (RFC 3891 section 3: the recipient matches to-tag against its
// local tag).
bool Names(const ReplacesTarget& replaces, const DialogId& dialog);

// What a phone's REFER with Replaces asks for, given `expected` (the other dialog of the REFER's
// own call: the consultation's when the REFER came in the call's, and the reverse) and `others`
// (every other dialog Parley holds with a phone, of any call).
enum class ReplacesMatch : uint8_t {
  kExpected,     // complete the consultation
  kAnotherCall,  // a dialog of someone else's call: 403
  kNoDialog,     // no such dialog (ended, never existed, or not yet answered): 481
};
ReplacesMatch MatchReplaces(const ReplacesTarget& replaces, const std::optional<DialogId>& expected,
                            const std::vector<DialogId>& others);

}  // namespace parley::sip
