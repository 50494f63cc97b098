#include "sandboxd/file_requests.h"

namespace pincer::sandboxd {

namespace json = boost::json;

namespace {

json::object EntryJson(const fileops::Entry& e) {
  return json::object{{"name", e.name},
                      {"path", e.path},
                      {"type", e.type},
                      {"size", e.size},
                      {"mtime", e.mtime_ms}};
}

template <typename T>
FileReply Failed(const fileops::OpResult<T>& r) {
  return FileReply{{}, r.error};
}

}  // namespace

std::optional<FileReply> HandleFileRequest(const fileops::Root& root, std::string_view op,
                                           const json::object& o) {
  std::string path = Str(o, "path", ".");
  if (op == "read") {
    auto r = root.Read(path, Int(o, "offset"), Int(o, "limit"), Int(o, "max_bytes", 10 << 20));
    if (!r.ok()) return Failed(r);
    return FileReply{{{"content", Utf8(r.value->content)},
                      {"total_lines", r.value->total_lines},
                      {"size", r.value->size},
                      {"truncated", r.value->truncated}},
                     {}};
  }
  if (op == "write") {
    auto r = root.Write(path, Str(o, "content"));
    if (!r.ok()) return Failed(r);
    return FileReply{{{"bytes", *r.value}}, {}};
  }
  if (op == "edit") {
    auto r = root.Edit(path, Str(o, "old"), Str(o, "new"), Bool(o, "replace_all"));
    if (!r.ok()) return Failed(r);
    return FileReply{{{"replacements", *r.value}}, {}};
  }
  if (op == "stat") {
    auto r = root.Stat(path);
    if (!r.ok()) return Failed(r);
    return FileReply{{{"entry", EntryJson(*r.value)}}, {}};
  }
  if (op == "list") {
    auto r = root.List(path);
    if (!r.ok()) return Failed(r);
    json::array a;
    for (const auto& e : *r.value) a.emplace_back(EntryJson(e));
    return FileReply{{{"entries", std::move(a)}}, {}};
  }
  if (op == "glob") {
    auto r =
        root.Glob(Str(o, "pattern", "*"), path, static_cast<size_t>(Int(o, "max_results", 1000)));
    if (!r.ok()) return Failed(r);
    json::array a;
    for (const auto& m : *r.value) a.emplace_back(json::string(m));
    return FileReply{{{"matches", std::move(a)}}, {}};
  }
  if (op == "grep") {
    auto r = root.Grep(Str(o, "pattern"), path, Str(o, "glob"),
                       static_cast<size_t>(Int(o, "max_matches", 500)));
    if (!r.ok()) return Failed(r);
    json::array a;
    for (const auto& m : *r.value) {
      a.emplace_back(json::object{{"path", m.path}, {"line", m.line}, {"text", Utf8(m.text)}});
    }
    return FileReply{{{"matches", std::move(a)}}, {}};
  }
  if (op == "remove") {
    auto r = root.Remove(path, Bool(o, "recursive"));
    if (!r.ok()) return Failed(r);
    return FileReply{{{"removed", true}}, {}};
  }
  return std::nullopt;
}

std::string Utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xC0) == 0x80;
    if (ok && len == 2 && c < 0xC2) ok = false;
    if (ok && len == 3) {
      uint32_t cp = ((c & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
      ok = cp >= 0x800 && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok && len == 4) {
      uint32_t cp = ((c & 0x07) << 18) | ((p[i + 1] & 0x3F) << 12) | ((p[i + 2] & 0x3F) << 6) |
                    (p[i + 3] & 0x3F);
      ok = cp >= 0x10000 && cp <= 0x10FFFF;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string Str(const json::object& o, const char* key, std::string def) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : def;
}

int64_t Int(const json::object& o, const char* key, int64_t def) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : def;
}

bool Bool(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

}  // namespace pincer::sandboxd
