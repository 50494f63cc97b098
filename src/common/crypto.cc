#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

namespace pincer {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::abort();
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
}

std::string RandomHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string bytes((n + 1) / 2, '\0');
  RandomBytes(bytes.data(), bytes.size());
  std::string out(n, '0');
  for (size_t i = 0; i < n; ++i) {
    unsigned char b = static_cast<unsigned char>(bytes[i / 2]);
    out[i] = kHex[(i % 2 == 0) ? (b >> 4) : (b & 0xf)];
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 0xf];
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return InvalidArgument("hex: odd length");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("hex: invalid character");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

namespace {

constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

std::string Seal(std::string_view key, std::string_view plaintext) {
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  RandomBytes(out.data(), kNonce);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || key.size() != 32 ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), U(out)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), U(out) + kNonce, &len, U(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), U(out) + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                          U(out) + kNonce + plaintext.size()) != 1) {
    std::abort();  // only on a wrong key length (a programming error) or OpenSSL failure
  }
  return ToHex(out);
}

Result<std::string> Open(std::string_view key, std::string_view sealed_hex) {
  auto invalid = [] {
    return Error(ErrorCode::kInternal, "sealed_data_invalid",
                 "sealed data is corrupt or was sealed with another key");
  };
  auto raw = FromHex(sealed_hex);
  if (!raw || raw->size() < kNonce + kTag || key.size() != 32) return invalid();
  size_t n = raw->size() - kNonce - kTag;
  std::string out(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  std::string_view r(*raw);
  std::string tag(r.substr(kNonce + n));
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), U(r)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), U(out), &len, U(r) + kNonce, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), U(out) + len, &len) != 1) {
    return invalid();
  }
  return out;
}

}  // namespace pincer
