#include "common/clock.h"

#include <time.h>

#include <chrono>
#include <cstdio>

namespace pincer {
namespace {
class RealClock final : public Clock {
 public:
  int64_t NowMs() const override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
  }
  int64_t MonotonicNs() const override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
};
}  // namespace

std::string FormatRfc3339(int64_t unix_ms) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(unix_ms)));
  year_month_day ymd(day);
  int64_t in_day = unix_ms - duration_cast<milliseconds>(day.time_since_epoch()).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(in_day / 3'600'000),
                static_cast<int>(in_day / 60'000 % 60), static_cast<int>(in_day / 1000 % 60),
                static_cast<int>(in_day % 1000));
  return buf;
}

std::optional<int64_t> ParseRfc3339(std::string_view t) {
  using namespace std::chrono;
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > t.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
       s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || t[4] != '-' || t[7] != '-' ||
      (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' || t[16] != ':' || *h > 23 ||
      *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  year_month_day ymd{year(*y), month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int64_t scale = 100;
    size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      ms += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || pos + 6 > t.size() || t[pos + 3] != ':') return std::nullopt;
    offset_min = (*oh * 60 + *om) * (t[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  int64_t days_ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  return days_ms + ((*h * 60 + *mi) * 60 + *s) * 1000 + ms - offset_min * 60'000;
}

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

}  // namespace pincer
