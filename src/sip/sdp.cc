#include "sip/sdp.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace parley::sip {

namespace {

constexpr size_t kMaxSdp = 16 * 1024;
constexpr size_t kMaxPayloads = 64;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const size_t at = s.find(sep);
    std::string_view part = s.substr(0, at);
    if (!part.empty()) out.push_back(part);
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

bool ParseInt(std::string_view s, int min, int max, int* out) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

// "IN IP4 192.0.2.1" or "IN IP6 ::1" (a multicast "/ttl" suffix is refused).
bool ParseConnection(std::string_view value, std::string* address) {
  auto parts = Split(value, ' ');
  if (parts.size() != 3 || parts[0] != "IN" || (parts[1] != "IP4" && parts[1] != "IP6")) {
    return false;
  }
  const std::string_view a = parts[2];
  if (a.empty() || a.size() > 64) return false;
  for (char c : a) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != ':') return false;
  }
  *address = std::string(a);
  return true;
}

Status Bad(int line, const std::string& what) {
  return InvalidArgument("SDP line " + std::to_string(line) + ": " + what);
}

}  // namespace

Result<SdpAudio> ParseSdp(std::string_view text) {
  if (text.size() > kMaxSdp) return InvalidArgument("SDP larger than 16 KiB");
  SdpAudio audio;
  std::string session_address;
  std::string media_address;
  bool saw_version = false;
  bool in_audio = false;    // inside the first audio m= section
  bool audio_done = false;  // the first audio section has ended
  bool seen_media = false;  // any m= line: c= lines after it are not session-level
  int line_no = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=' || !std::islower(static_cast<unsigned char>(line[0]))) {
      return Bad(line_no, "expected TYPE=VALUE");
    }
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!saw_version) {
      if (type != 'v' || value != "0") return Bad(line_no, "a description starts with v=0");
      saw_version = true;
      continue;
    }
    if (type == 'm') {
      seen_media = true;
      if (in_audio) {
        in_audio = false;
        audio_done = true;
      }
      if (audio_done) continue;
      auto parts = Split(value, ' ');
      if (parts.size() < 4) return Bad(line_no, "m= needs media, port, protocol and formats");
      if (parts[0] != "audio") continue;
      if (parts[2] != "RTP/AVP" && parts[2] != "RTP/AVPF") {
        return Bad(line_no, "unsupported transport " + std::string(parts[2]));
      }
      int port = 0;
      if (!ParseInt(parts[1], 0, 65535, &port)) return Bad(line_no, "bad port");
      audio.port = static_cast<uint16_t>(port);
      if (parts.size() - 3 > kMaxPayloads) return Bad(line_no, "too many payload types");
      for (size_t i = 3; i < parts.size(); ++i) {
        int pt = 0;
        if (!ParseInt(parts[i], 0, 127, &pt)) return Bad(line_no, "bad payload type");
        SdpPayload p;
        p.payload_type = pt;
        // Static payload types (RFC 3551) need no rtpmap.
        if (pt == 0) p.encoding = "pcmu";
        if (pt == 8) p.encoding = "pcma";
        if (pt == 9) p.encoding = "g722";
        audio.payloads.push_back(p);
      }
      in_audio = true;
      continue;
    }
    if (type == 'c') {
      std::string address;
      if (!ParseConnection(value, &address)) return Bad(line_no, "bad c= line");
      if (in_audio) {
        media_address = address;
      } else if (!seen_media) {
        session_address = address;
      }
      continue;
    }
    if (type != 'a' || !in_audio) continue;
    const size_t colon = value.find(':');
    const std::string_view name = value.substr(0, colon);
    const std::string_view arg = colon == std::string_view::npos ? "" : value.substr(colon + 1);
    if (name == "sendrecv" || name == "sendonly" || name == "recvonly" || name == "inactive") {
      audio.direction = std::string(name);
    } else if (name == "ptime") {
      int ptime = 0;
      if (!ParseInt(arg, 10, 200, &ptime)) return Bad(line_no, "bad ptime");
      audio.ptime_ms = ptime;
    } else if (name == "rtpmap") {
      const size_t space = arg.find(' ');
      if (space == std::string_view::npos) return Bad(line_no, "bad rtpmap");
      int pt = 0;
      if (!ParseInt(arg.substr(0, space), 0, 127, &pt)) return Bad(line_no, "bad rtpmap type");
      auto enc = Split(arg.substr(space + 1), '/');
      if (enc.size() < 2) return Bad(line_no, "rtpmap needs encoding/clock");
      int clock = 0;
      if (!ParseInt(enc[1], 1, 192000, &clock)) return Bad(line_no, "bad rtpmap clock rate");
      for (auto& p : audio.payloads) {
        if (p.payload_type == pt) {
          p.encoding = Lower(enc[0]);
          p.clock_rate = clock;
        }
      }
    }
  }
  if (!saw_version) return InvalidArgument("SDP is empty");
  if (audio.payloads.empty()) return InvalidArgument("SDP has no audio stream");
  audio.address = media_address.empty() ? session_address : media_address;
  if (audio.address.empty()) return InvalidArgument("SDP has no connection address (c=)");
  return audio;
}

Result<Negotiated> Negotiate(const SdpAudio& offer) {
  if (offer.port == 0) return InvalidArgument("the audio stream is refused (port 0)");
  Negotiated n;
  n.remote = {offer.address, offer.port};
  n.format.ptime_ms = offer.ptime_ms;
  bool have_codec = false;
  for (const auto& p : offer.payloads) {
    if (!have_codec) {
      // G.722's RTP clock rate is 8000 by an error in RFC 1890 kept for compatibility.
      if (p.encoding == "pcmu" && p.clock_rate == 8000) {
        n.format.codec = ports::AudioCodec::kPcmu;
      } else if (p.encoding == "pcma" && p.clock_rate == 8000) {
        n.format.codec = ports::AudioCodec::kPcma;
      } else if (p.encoding == "g722" && p.clock_rate == 8000) {
        n.format.codec = ports::AudioCodec::kG722;
      } else {
        continue;
      }
      n.format.payload_type = static_cast<uint8_t>(p.payload_type);
      have_codec = true;
    }
  }
  if (!have_codec) return InvalidArgument("no offered codec is PCMU, PCMA or G.722");
  for (const auto& p : offer.payloads) {
    if (p.encoding == "telephone-event" && p.clock_rate == 8000) {
      n.format.dtmf_payload_type = p.payload_type;
      break;
    }
  }
  return n;
}

ports::MediaFormat DefaultOfferFormat() {
  ports::MediaFormat f;
  f.codec = ports::AudioCodec::kPcmu;
  f.payload_type = 0;
  f.dtmf_payload_type = 101;
  return f;
}

std::string BuildSdp(const ports::RtpEndpoint& local, const ports::MediaFormat& format,
                     uint64_t session_id, uint64_t version, bool offer_all) {
  const char* ip = local.address.find(':') == std::string::npos ? "IP4" : "IP6";
  struct Known {
    ports::AudioCodec codec;
    int pt;
    const char* name;
  };
  static constexpr Known kKnown[] = {{ports::AudioCodec::kPcmu, 0, "PCMU/8000"},
                                     {ports::AudioCodec::kPcma, 8, "PCMA/8000"},
                                     {ports::AudioCodec::kG722, 9, "G722/8000"}};
  std::vector<std::pair<int, std::string>> formats;
  for (const auto& k : kKnown) {
    if (k.codec == format.codec) formats.emplace_back(format.payload_type, k.name);
  }
  if (offer_all) {
    for (const auto& k : kKnown) {
      if (k.codec != format.codec) formats.emplace_back(k.pt, k.name);
    }
  }
  std::string s = "v=0\r\no=parley " + std::to_string(session_id) + " " + std::to_string(version) +
                  " IN " + ip + " " + local.address + "\r\ns=parley\r\nc=IN " + ip + " " +
                  local.address + "\r\nt=0 0\r\nm=audio " + std::to_string(local.port) + " RTP/AVP";
  for (const auto& [pt, name] : formats) s += " " + std::to_string(pt);
  if (format.dtmf_payload_type >= 0) s += " " + std::to_string(format.dtmf_payload_type);
  s += "\r\n";
  for (const auto& [pt, name] : formats)
    s += "a=rtpmap:" + std::to_string(pt) + " " + name + "\r\n";
  if (format.dtmf_payload_type >= 0) {
    const std::string pt = std::to_string(format.dtmf_payload_type);
    s += "a=rtpmap:" + pt + " telephone-event/8000\r\na=fmtp:" + pt + " 0-16\r\n";
  }
  s += "a=ptime:" + std::to_string(format.ptime_ms) + "\r\na=sendrecv\r\n";
  return s;
}

}  // namespace parley::sip
