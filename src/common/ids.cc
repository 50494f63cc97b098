#include "common/ids.h"

#include "common/crypto.h"

namespace pincer {

std::string NewId(std::string_view prefix) {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out(prefix);
  out += '_';
  // Rejection sampling keeps the 36 symbols uniform: accept bytes < 252 (= 7 * 36).
  unsigned char buf[32];
  size_t produced = 0;
  while (produced < kIdSuffixLength) {
    RandomBytes(buf, sizeof(buf));
    for (unsigned char b : buf) {
      if (b >= 252) continue;
      out += kAlphabet[b % 36];
      if (++produced == kIdSuffixLength) break;
    }
  }
  return out;
}

bool IsValidId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 1 + kIdSuffixLength) return false;
  if (id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_') return false;
  for (char c : id.substr(prefix.size() + 1)) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string NewRequestId() { return "req_" + RandomHex(16); }

}  // namespace pincer
