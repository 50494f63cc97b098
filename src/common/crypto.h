#pragma once

// Small cryptographic helpers over OpenSSL.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

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

// AES-256-GCM. `key` is 32 bytes. Seal returns nonce(12) || ciphertext || tag(16) as lowercase
// hex; Open reverses it and fails (kInternal "sealed_data_invalid": the server's key changed or its
// data is damaged, not the client's fault) when the data was altered or sealed with another key.
std::string Seal(std::string_view key, std::string_view plaintext);
Result<std::string> Open(std::string_view key, std::string_view sealed_hex);

// Hex encoding helpers; FromHex fails on odd length or non-hex characters.
std::string ToHex(std::string_view bytes);
Result<std::string> FromHex(std::string_view hex);

}  // namespace pincer
