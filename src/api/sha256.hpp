#pragma once
// SHA-256 (FIPS 180-4), for LoadOptions::expected_sha256: a deployment can refuse a tampered or truncated model.
#include <string>
#include <string_view>

namespace pmmlrt::detail {
/// Lower-case hex digest of `bytes`.
std::string sha256_hex(std::string_view bytes);
}  // namespace pmmlrt::detail
