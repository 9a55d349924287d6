#pragma once
// SDP helpers of call control (docs/voice.md, "Call control"): the direction of an
// answer to a phone's hold re-INVITE. Pure functions, no I/O.

#include <string>
#include <string_view>

namespace parley::sip {

// The direction our answer gives to an offered one (RFC 3264 section 6.1): sendonly ->
// recvonly, recvonly -> sendonly, inactive -> inactive, anything else -> sendrecv.
std::string_view AnswerDirection(std::string_view offered);

// Whether a phone's offer with this direction puts the call on hold (sendonly or inactive).
bool IsHoldDirection(std::string_view direction);

// `sdp` as BuildSdp writes it (with a=sendrecv) carrying `direction` instead.
std::string WithDirection(std::string sdp, std::string_view direction);

}  // namespace parley::sip
