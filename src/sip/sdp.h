#pragma once
// SDP offer/answer for one audio stream (RFC 3264 as G.711/G.722 phones and trunks use it),
// hand-written so that src/sip decides exactly what is accepted: the remote offer is parsed into
// SdpAudio, Negotiate picks the first offered codec we support and RFC 4733 telephone-event, and
// BuildSdp writes our offer or answer. Pure functions, no I/O; malformed input gives an error
// value (the adapter answers 400 or 488), never a crash (tests/fuzz/sdp.cc).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ports/media_plane.h"

namespace parley::sip {

struct SdpPayload {
  int payload_type = -1;  // 0..127
  std::string encoding;   // lower case, e.g. "pcmu", "telephone-event"
  int clock_rate = 8000;
};

// The first audio stream of a session description.
struct SdpAudio {
  std::string address;               // connection address (media-level c= over session-level)
  uint16_t port = 0;                 // 0 = the stream is refused
  std::vector<SdpPayload> payloads;  // in the offer's order of preference
  int ptime_ms = 20;
  std::string direction = "sendrecv";  // sendrecv, sendonly, recvonly, inactive
};

// kInvalidArgument naming the line when the text is not a session description with an audio
// stream over RTP/AVP (or RTP/AVPF), or exceeds 16 KiB / 64 payload types.
Result<SdpAudio> ParseSdp(std::string_view text);

struct Negotiated {
  ports::RtpEndpoint remote;
  ports::MediaFormat format;
  int dtmf_clock_rate = 8000;
};
// kInvalidArgument (the adapter answers 488) when no offered codec is one we handle (PCMU,
// PCMA, G.722) or the stream was refused (port 0).
Result<Negotiated> Negotiate(const SdpAudio& offer);

// Our side: the formats we offer to agents' phones, by preference.
ports::MediaFormat DefaultOfferFormat();

// A session description for one audio stream at `local`: `format` (and telephone-event when its
// dtmf_payload_type is set). `session_id`/`version` go into the o= line (bump the version when
// the description changes). With `offer_all`, also lists the other codecs (an offer to a phone).
std::string BuildSdp(const ports::RtpEndpoint& local, const ports::MediaFormat& format,
                     uint64_t session_id, uint64_t version, bool offer_all = false);

}  // namespace parley::sip
