#pragma once

// Small helpers shared by both wire formats: a streaming JSON writer, provider-style ids,
// UTF-8-safe chunking, script-key markers and mock thinking signatures.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pincer::mock {

// Appends compact JSON to a string without building a DOM. Commas are inserted automatically:
//   JsonWriter w;
//   w.BeginObject().Int("a", 1).BeginArray("b").String("x").EndArray().EndObject();
class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Appends already-serialized JSON as one value.
  JsonWriter& Raw(std::string_view json);

  // Keyed forms: String("id", id) is Key("id").String(id), and so on.
  JsonWriter& BeginObject(std::string_view key) { return Key(key).BeginObject(); }
  JsonWriter& BeginArray(std::string_view key) { return Key(key).BeginArray(); }
  JsonWriter& String(std::string_view key, std::string_view s) { return Key(key).String(s); }
  JsonWriter& Int(std::string_view key, int64_t v) { return Key(key).Int(v); }
  JsonWriter& Double(std::string_view key, double v) { return Key(key).Double(v); }
  JsonWriter& Bool(std::string_view key, bool v) { return Key(key).Bool(v); }
  JsonWriter& Null(std::string_view key) { return Key(key).Null(); }
  JsonWriter& Raw(std::string_view key, std::string_view json) { return Key(key).Raw(json); }

  std::string& str() { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void Sep() {
    if (need_comma_) out_ += ',';
  }
  std::string out_;
  bool need_comma_ = false;
};

// prefix + `n` random [A-Za-z0-9] from a fast thread-local generator (not for secrets).
std::string RandomId(std::string_view prefix, size_t n = 24);

// Splits `s` into pieces of at most `chars` code points, never inside a UTF-8 sequence.
// An empty `s` gives no pieces.
std::vector<std::string_view> SplitUtf8(std::string_view s, size_t chars);

// Number of code points in `s` (bytes that are not UTF-8 continuation bytes).
size_t CountCodePoints(std::string_view s);

// The first "[mock:<key>]" marker in `text` (key = [A-Za-z0-9_.-]+), or "".
std::string_view FindMarker(std::string_view text);

// Collects the first marker seen, preferring system-prompt text over message text.
class MarkerScan {
 public:
  void Feed(std::string_view text, bool system);
  // The script key: the marker found, or "default".
  std::string Key() const;

 private:
  std::string system_key_;
  std::string message_key_;
};

// The signature the mock attaches to a thinking block (and later verifies when the block is
// sent back): "mocksig_" + 16 hex digits of a hash of the thinking text.
std::string ThinkingSignature(std::string_view thinking);

int64_t NowMs();
// Wall clock (CLOCK_REALTIME) in microseconds, for the request log's timing fields.
int64_t NowUs();

}  // namespace pincer::mock
