#include "sip/call_control.h"

namespace parley::sip {

std::string_view AnswerDirection(std::string_view offered) {
  if (offered == "sendonly") return "recvonly";
  if (offered == "recvonly") return "sendonly";
  if (offered == "inactive") return "inactive";
  return "sendrecv";
}

bool IsHoldDirection(std::string_view direction) {
  return direction == "sendonly" || direction == "inactive";
}

std::string WithDirection(std::string sdp, std::string_view direction) {
  const std::string from = "a=sendrecv\r\n";
  const size_t at = sdp.find(from);
  if (at == std::string::npos || direction == "sendrecv") return sdp;
  sdp.replace(at, from.size(), "a=" + std::string(direction) + "\r\n");
  return sdp;
}

}  // namespace parley::sip
