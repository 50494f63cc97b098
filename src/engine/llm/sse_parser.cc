#include "engine/llm/sse_parser.h"

namespace pincer::llm {

void SseParser::Feed(std::string_view bytes) {
  partial_.append(bytes);
  size_t start = 0;
  for (;;) {
    size_t nl = partial_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(partial_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Line(line);
    start = nl + 1;
  }
  partial_.erase(0, start);
}

void SseParser::Finish() {
  if (!partial_.empty()) {
    std::string rest = std::move(partial_);
    partial_.clear();
    Line(rest);
  }
  Line("");
}

void SseParser::Line(std::string_view line) {
  if (line.empty()) {
    if (has_data_ || !event_.empty()) on_event_(event_, data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line[0] == ':') return;  // comment
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  if (field == "event") {
    event_ = value;
  } else if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  }
}

}  // namespace pincer::llm
