#pragma once

// Resource ids: a prefix plus 12 characters of [a-z0-9] from the kernel CSPRNG
// (e.g. "agt_3k9x0q1mz7ab"), wire-compatible with the seed's nanoid ids.

#include <string>
#include <string_view>

namespace pincer {

inline constexpr size_t kIdSuffixLength = 12;

// prefix + "_" + 12 random [a-z0-9]. `prefix` is e.g. "agt".
std::string NewId(std::string_view prefix);

// True when `id` is prefix + "_" + exactly 12 [a-z0-9].
bool IsValidId(std::string_view id, std::string_view prefix);

// "req_" + 16 lowercase hex characters.
std::string NewRequestId();

}  // namespace pincer
