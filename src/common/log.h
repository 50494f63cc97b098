#pragma once

// Structured logging. One line per event, either JSON (production; one object per line with
// `level`, `time` (epoch ms), `module`, `msg` and the fields) or pretty (terminals).
//
//   log::Info("http", "listening").Field("port", 8080).Field("host", host);
//
// The line is emitted when the temporary is destroyed. Lines are handed to a background
// thread (spdlog async), so logging never blocks on the terminal or disk for long.
// Thread-safe. Before Init(), lines go to stderr in JSON at info level.

#include <cstdint>
#include <string>
#include <string_view>

namespace pincer::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kJson, kPretty };

// Configures the process-wide logger. Call once from main() before starting threads.
void Init(Format format, Level level);
// Flushes queued lines (call before exit).
void Flush();
bool Enabled(Level level);

class Line {
 public:
  Line(Level level, std::string_view module, std::string_view msg);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& Field(std::string_view key, std::string_view value);
  Line& Field(std::string_view key, const char* value) {
    return Field(key, std::string_view(value));
  }
  Line& Field(std::string_view key, const std::string& value) {
    return Field(key, std::string_view(value));
  }
  Line& Field(std::string_view key, int64_t value);
  Line& Field(std::string_view key, int value) { return Field(key, int64_t{value}); }
  Line& Field(std::string_view key, uint64_t value) {
    return Field(key, static_cast<int64_t>(value));
  }
  Line& Field(std::string_view key, double value);
  Line& Field(std::string_view key, bool value);

 private:
  void Raw(std::string_view key, std::string_view json_value, std::string_view pretty_value);
  bool enabled_;
  Level level_;
  std::string buf_;
};

inline Line Debug(std::string_view module, std::string_view msg) {
  return {Level::kDebug, module, msg};
}
inline Line Info(std::string_view module, std::string_view msg) {
  return {Level::kInfo, module, msg};
}
inline Line Warn(std::string_view module, std::string_view msg) {
  return {Level::kWarn, module, msg};
}
inline Line Error(std::string_view module, std::string_view msg) {
  return {Level::kError, module, msg};
}

// Appends `s` to `out` as a JSON string literal (with quotes).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace pincer::log
