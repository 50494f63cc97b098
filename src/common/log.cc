#include "common/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <memory>

#include "common/clock.h"

namespace pincer::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_pretty{false};
std::shared_ptr<spdlog::logger> g_logger;

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void Emit(std::string_view line) {
  if (g_logger) {
    g_logger->info(spdlog::string_view_t(line.data(), line.size()));
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fputc('\n', stderr);
  }
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void Init(Format format, Level level) {
  g_level = static_cast<int>(level);
  g_pretty = format == Format::kPretty;
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  g_logger = std::make_shared<spdlog::async_logger>("pincer", sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
  g_logger->set_pattern("%v");
  g_logger->set_level(spdlog::level::trace);
  g_logger->flush_on(spdlog::level::trace);
}

void Flush() {
  if (g_logger) g_logger->flush();
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

Line::Line(Level level, std::string_view module, std::string_view msg)
    : enabled_(Enabled(level)), level_(level) {
  if (!enabled_) return;
  int64_t now = SystemClock().NowMs();
  buf_.reserve(160);
  if (g_pretty) {
    time_t secs = now / 1000;
    struct tm tm;
    localtime_r(&secs, &tm);
    char ts[32];
    std::snprintf(ts, sizeof(ts), "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(now % 1000));
    buf_ += ts;
    buf_ += ' ';
    std::string lv = LevelName(level);
    for (auto& c : lv) c = static_cast<char>(std::toupper(c));
    lv.resize(5, ' ');
    buf_ += lv;
    buf_ += ' ';
    buf_ += module;
    buf_ += ": ";
    buf_ += msg;
  } else {
    buf_ += "{\"level\":\"";
    buf_ += LevelName(level);
    buf_ += "\",\"time\":";
    buf_ += std::to_string(now);
    buf_ += ",\"module\":";
    AppendJsonString(buf_, module);
    buf_ += ",\"msg\":";
    AppendJsonString(buf_, msg);
  }
}

Line::~Line() {
  if (!enabled_) return;
  if (!g_pretty) buf_ += '}';
  Emit(buf_);
}

void Line::Raw(std::string_view key, std::string_view json_value, std::string_view pretty_value) {
  if (!enabled_) return;
  if (g_pretty) {
    buf_ += ' ';
    buf_ += key;
    buf_ += '=';
    buf_ += pretty_value;
  } else {
    buf_ += ',';
    AppendJsonString(buf_, key);
    buf_ += ':';
    buf_ += json_value;
  }
}

Line& Line::Field(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  std::string quoted;
  AppendJsonString(quoted, value);
  bool plain = !value.empty() && value.find_first_of(" \t\n\"=") == std::string_view::npos;
  Raw(key, quoted, plain ? value : std::string_view(quoted));
  return *this;
}

Line& Line::Field(std::string_view key, int64_t value) {
  std::string s = std::to_string(value);
  Raw(key, s, s);
  return *this;
}

Line& Line::Field(std::string_view key, double value) {
  char s[32];
  std::snprintf(s, sizeof(s), "%.6g", value);
  Raw(key, s, s);
  return *this;
}

Line& Line::Field(std::string_view key, bool value) {
  Raw(key, value ? "true" : "false", value ? "true" : "false");
  return *this;
}

}  // namespace pincer::log
