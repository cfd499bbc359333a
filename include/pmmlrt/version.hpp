#pragma once
/// \file version.hpp
/// Compile-time and run-time version of pmmlrt.

#define PMMLRT_VERSION_MAJOR 0
#define PMMLRT_VERSION_MINOR 1
#define PMMLRT_VERSION_PATCH 0
#define PMMLRT_VERSION_STRING "0.1.0"

namespace pmmlrt {
inline namespace v0 {

/// The version of the library that is linked in, as "MAJOR.MINOR.PATCH".
/// Compare with PMMLRT_VERSION_STRING to detect a header/library mismatch.
const char* version() noexcept;

}  // namespace v0
}  // namespace pmmlrt
