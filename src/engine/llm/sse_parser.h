#pragma once

// Incremental Server-Sent Events decoder for provider streams: feed bytes as they arrive,
// receive (event, data) pairs at each blank line. Handles \n and \r\n line endings, multi-line
// data, comments and split chunks.

#include <functional>
#include <string>
#include <string_view>

namespace pincer::llm {

class SseParser {
 public:
  using OnEvent = std::function<void(std::string_view event, std::string_view data)>;
  explicit SseParser(OnEvent on_event) : on_event_(std::move(on_event)) {}

  void Feed(std::string_view bytes);
  // Dispatches a final event not followed by a blank line.
  void Finish();

 private:
  void Line(std::string_view line);
  OnEvent on_event_;
  std::string partial_;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace pincer::llm
