#pragma once
// Signing of outgoing webhooks: HMAC-SHA256 of the exact body bytes with the subscription's
// secret, sent as `X-Parley-Signature: sha256=<lower-case hex>`, with `X-Parley-Timestamp` (Unix
// seconds of the attempt) and `X-Parley-Delivery` (the outbox id, the same on every retry, for
// deduplication). Receivers verify with VerifySignature. Pure functions; thread-safe.

#include <string>
#include <string_view>

namespace parley::webhook {

inline constexpr std::string_view kSignatureHeader = "X-Parley-Signature";
inline constexpr std::string_view kTimestampHeader = "X-Parley-Timestamp";
inline constexpr std::string_view kDeliveryHeader = "X-Parley-Delivery";

// Lower-case hex HMAC-SHA256(key = secret, message = body).
std::string HmacSha256Hex(std::string_view secret, std::string_view body);

// "sha256=" + HmacSha256Hex(secret, body): the value of X-Parley-Signature.
std::string SignatureHeaderValue(std::string_view secret, std::string_view body);

// True if `header_value` is "sha256=<hex>" (hex in either case) and matches the body; the
// comparison takes the same time wherever the first difference is.
bool VerifySignature(std::string_view secret, std::string_view body, std::string_view header_value);

}  // namespace parley::webhook
