#include "wire_format.h"

namespace pincer::mock {

std::string ContentText(const json::value* content) {
  if (content == nullptr) return {};
  if (content->is_string()) return std::string(content->as_string());
  std::string out;
  if (!content->is_array()) return out;
  for (const auto& part : content->as_array()) {
    if (!part.is_object()) continue;
    const auto& o = part.as_object();
    const json::value* type = FindField(o, "type");
    const json::value* text = FindField(o, "text");
    if (type == nullptr || !type->is_string() || type->as_string() != "text") continue;
    if (text == nullptr || !text->is_string()) continue;
    if (!out.empty()) out += '\n';
    out += text->as_string();
  }
  return out;
}

}  // namespace pincer::mock
