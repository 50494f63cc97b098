#pragma once

// Small cryptographic helpers over OpenSSL.

#include <cstddef>
#include <string>
#include <string_view>

namespace pincer {

// Lowercase hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

// Compares in time that depends only on the lengths, not the contents.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Fills `out` with `n` bytes from the kernel CSPRNG. Aborts if the kernel refuses (never
// happens on Linux >= 3.17 after early boot).
void RandomBytes(void* out, size_t n);

// n random lowercase hex characters.
std::string RandomHex(size_t n);

}  // namespace pincer
