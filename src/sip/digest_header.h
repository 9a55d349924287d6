#pragma once
// The SIP side of digest authentication: reading an Authorization header's parameters into
// auth::DigestCredentials, and writing WWW-Authenticate challenges. Pure functions; a header we
// cannot read gives nullopt (the request is challenged, never trusted).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/sip_digest.h"

namespace parley::sip {

// `scheme` as sent ("Digest"); `params` as "name=value" items with values possibly quoted (what
// sofia-sip's msg_auth_t holds). nullopt when the scheme is not Digest, a required field
// (username, realm, nonce, uri, response) is missing, the algorithm is unknown, a quoted value
// is unterminated, or qop is set without cnonce and nc.
std::optional<auth::DigestCredentials> ParseDigestParams(std::string_view scheme,
                                                         const std::vector<std::string>& params);

// One WWW-Authenticate value (without the header name), qop="auth".
std::string DigestChallenge(auth::DigestAlgorithm algorithm, std::string_view realm,
                            std::string_view nonce, bool stale);

}  // namespace parley::sip
