#include "wire_util.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "common/log.h"

namespace pincer::mock {

JsonWriter& JsonWriter::Open(char c) {
  Sep();
  out_ += c;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::Close(char c) {
  out_ += c;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  Sep();
  log::AppendJsonString(out_, key);
  out_ += ':';
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  Sep();
  log::AppendJsonString(out_, s);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t v) {
  Sep();
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, p);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Double(double v) {
  if (!std::isfinite(v)) return Null();
  Sep();
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, p);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Bool(bool v) { return Raw(v ? "true" : "false"); }

JsonWriter& JsonWriter::Null() { return Raw("null"); }

JsonWriter& JsonWriter::Raw(std::string_view json) {
  Sep();
  out_ += json;
  need_comma_ = true;
  return *this;
}

namespace {

uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t& RngState() {
  thread_local uint64_t state = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
           std::hash<std::thread::id>()(std::this_thread::get_id());
  }();
  return state;
}

}  // namespace

std::string RandomId(std::string_view prefix, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(prefix);
  id.reserve(prefix.size() + n);
  uint64_t& state = RngState();
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i < n; ++i) {
    if (left == 0) {
      bits = SplitMix(state);
      left = 10;  // 10 draws of 6 bits from 64
    }
    id += kAlphabet[(bits & 63) % 62];
    bits >>= 6;
    --left;
  }
  return id;
}

std::vector<std::string_view> SplitUtf8(std::string_view s, size_t chars) {
  std::vector<std::string_view> out;
  if (chars == 0) chars = 1;
  size_t start = 0;
  while (start < s.size()) {
    size_t i = start;
    size_t n = 0;
    while (i < s.size() && n < chars) {
      ++i;
      while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
      ++n;
    }
    out.push_back(s.substr(start, i - start));
    start = i;
  }
  return out;
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string_view FindMarker(std::string_view text) {
  static constexpr std::string_view kOpen = "[mock:";
  size_t pos = 0;
  while ((pos = text.find(kOpen, pos)) != std::string_view::npos) {
    size_t start = pos + kOpen.size();
    size_t i = start;
    while (i < text.size()) {
      char c = text[i];
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-';
      if (!ok) break;
      ++i;
    }
    if (i > start && i < text.size() && text[i] == ']') return text.substr(start, i - start);
    pos = start;
  }
  return {};
}

void MarkerScan::Feed(std::string_view text, bool system) {
  std::string& slot = system ? system_key_ : message_key_;
  if (!slot.empty()) return;
  std::string_view key = FindMarker(text);
  if (!key.empty()) slot.assign(key);
}

std::string MarkerScan::Key() const {
  if (!system_key_.empty()) return system_key_;
  if (!message_key_.empty()) return message_key_;
  return "default";
}

std::string ThinkingSignature(std::string_view thinking) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : thinking) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string sig = "mocksig_";
  for (int shift = 60; shift >= 0; shift -= 4) sig += kHex[(h >> shift) & 0xF];
  return sig;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace pincer::mock
