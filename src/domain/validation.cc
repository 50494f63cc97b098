#include "domain/validation.h"

#include <cmath>

namespace pincer::domain {

void FieldErrors::Add(std::string path, std::string message) {
  errors_.emplace_back(std::move(path), std::move(message));
}

Error FieldErrors::ToError() const {
  std::string message;
  json::object details;
  details["_errors"] = json::array();
  for (const auto& [path, msg] : errors_) {
    if (!message.empty()) message += "; ";
    message += (path.empty() ? "body" : path) + ": " + msg;
    json::object* node = &details;
    size_t start = 0;
    int depth = 0;
    while (start <= path.size() && !path.empty()) {
      // Paths can carry user-chosen keys with dots in them: bound the tree's depth and keep
      // the rest of the path as one key.
      size_t dot = ++depth < 16 ? path.find('.', start) : std::string::npos;
      std::string seg =
          path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      json::value& child = (*node)[seg];
      if (!child.is_object()) child = json::object{{"_errors", json::array()}};
      node = &child.as_object();
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    (*node)["_errors"].as_array().emplace_back(json::string(msg));
  }
  return Error(ErrorCode::kInvalidArgument, "invalid_request", message, ToJson(details));
}

const char* JsonKindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "value";
}

bool Checker::Has(std::string_view key) const { return obj_.contains(key); }

bool Checker::IsNull(std::string_view key) const {
  const json::value* v = obj_.if_contains(key);
  return v != nullptr && v->is_null();
}

const json::value* Checker::Get(std::string_view key, bool required) {
  const json::value* v = obj_.if_contains(key);
  if (v == nullptr) {
    if (required) Fail(key, "required");
    return nullptr;
  }
  return v;
}

std::optional<std::string> Checker::String(std::string_view key, size_t min_len, size_t max_len,
                                           bool required) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail(key, std::string("expected string, got ") + JsonKindName(*v));
    return std::nullopt;
  }
  const json::string& s = v->get_string();
  if (s.size() < min_len) {
    Fail(key, min_len == 1 ? "must not be empty"
                           : "must be at least " + std::to_string(min_len) + " characters");
    return std::nullopt;
  }
  if (s.size() > max_len) {
    Fail(key, "must be at most " + std::to_string(max_len) + " bytes");
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<std::string> Checker::Enum(std::string_view key,
                                         const std::vector<std::string>& allowed, bool required) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) {
    for (const auto& a : allowed) {
      if (v->get_string() == a) return a;
    }
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Fail(key, "must be one of " + list);
  return std::nullopt;
}

std::optional<int64_t> Checker::Int(std::string_view key, int64_t min, int64_t max, bool required) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return std::nullopt;
  int64_t out;
  if (v->is_int64()) {
    out = v->get_int64();
  } else if (v->is_uint64()) {
    Fail(key, "must be at most " + std::to_string(max));
    return std::nullopt;
  } else if (v->is_double() && std::isfinite(v->get_double()) &&
             v->get_double() == std::floor(v->get_double()) && std::fabs(v->get_double()) < 9e15) {
    out = static_cast<int64_t>(v->get_double());
  } else {
    Fail(key, v->is_double() ? "expected integer, got fraction"
                             : std::string("expected integer, got ") + JsonKindName(*v));
    return std::nullopt;
  }
  if (out < min) {
    Fail(key, "must be at least " + std::to_string(min));
    return std::nullopt;
  }
  if (out > max) {
    Fail(key, "must be at most " + std::to_string(max));
    return std::nullopt;
  }
  return out;
}

std::optional<double> Checker::Number(std::string_view key, bool positive) {
  const json::value* v = Get(key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    Fail(key, std::string("expected number, got ") + JsonKindName(*v));
    return std::nullopt;
  }
  double d = v->to_number<double>();
  if (!std::isfinite(d) || (positive ? d <= 0 : d < 0)) {
    Fail(key, positive ? "must be greater than 0" : "must be at least 0");
    return std::nullopt;
  }
  return d;
}

std::optional<bool> Checker::Bool(std::string_view key) {
  const json::value* v = Get(key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) {
    Fail(key, std::string("expected boolean, got ") + JsonKindName(*v));
    return std::nullopt;
  }
  return v->get_bool();
}

std::optional<std::vector<std::string>> Checker::StringArray(std::string_view key, size_t max_items,
                                                             size_t min_item_len,
                                                             size_t max_item_len) {
  const json::value* v = Get(key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    Fail(key, std::string("expected array of strings, got ") + JsonKindName(*v));
    return std::nullopt;
  }
  const json::array& a = v->get_array();
  if (a.size() > max_items) {
    Fail(key, "must have at most " + std::to_string(max_items) + " items");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < a.size(); ++i) {
    std::string path = std::string(key) + "." + std::to_string(i);
    if (!a[i].is_string()) {
      Fail(path, std::string("expected string, got ") + JsonKindName(a[i]));
      ok = false;
    } else if (a[i].get_string().size() < min_item_len) {
      Fail(path, "must not be empty");
      ok = false;
    } else if (a[i].get_string().size() > max_item_len) {
      Fail(path, "must be at most " + std::to_string(max_item_len) + " bytes");
      ok = false;
    } else {
      out.emplace_back(a[i].get_string());
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

const json::object* Checker::Object(std::string_view key, bool required) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Fail(key, std::string("expected object, got ") + JsonKindName(*v));
    return nullptr;
  }
  return &v->get_object();
}

void Checker::Strict(const std::vector<std::string>& allowed) {
  for (const auto& kv : obj_) {
    bool known = false;
    for (const auto& a : allowed) known = known || kv.key() == a;
    if (!known) errors_.Add(prefix_ + std::string(kv.key()), "unrecognized key");
  }
}

namespace {
constexpr size_t kMaxMetadataPairs = 16;
constexpr size_t kMaxMetadataKey = 64;
constexpr size_t kMaxMetadataValue = 512;

void CheckMetadataPair(std::string_view key, const json::value& value, const std::string& path,
                       bool allow_null, FieldErrors& errors) {
  std::string at = path + "." + std::string(key);
  if (key.empty() || key.size() > kMaxMetadataKey) {
    errors.Add(at, "metadata keys must be 1.." + std::to_string(kMaxMetadataKey) + " bytes");
  }
  if (value.is_null() && allow_null) return;
  if (!value.is_string()) {
    errors.Add(at, std::string("expected string, got ") + JsonKindName(value));
  } else if (value.get_string().size() > kMaxMetadataValue) {
    errors.Add(at,
               "metadata values must be at most " + std::to_string(kMaxMetadataValue) + " bytes");
  }
}
}  // namespace

std::optional<json::object> CheckMetadata(const json::value& v, const std::string& path,
                                          FieldErrors& errors) {
  if (!v.is_object()) {
    errors.Add(path, std::string("expected object, got ") + JsonKindName(v));
    return std::nullopt;
  }
  const json::object& o = v.get_object();
  if (o.size() > kMaxMetadataPairs) {
    errors.Add(path, "at most " + std::to_string(kMaxMetadataPairs) + " pairs");
    return std::nullopt;
  }
  FieldErrors local;
  for (const auto& kv : o) CheckMetadataPair(kv.key(), kv.value(), path, false, local);
  if (!local.empty()) {
    for (const auto& kv : o) CheckMetadataPair(kv.key(), kv.value(), path, false, errors);
    return std::nullopt;
  }
  return o;
}

void PatchMetadata(json::object& current, const json::value& patch, const std::string& path,
                   FieldErrors& errors) {
  if (patch.is_null()) return;
  if (!patch.is_object()) {
    errors.Add(path, std::string("expected object, got ") + JsonKindName(patch));
    return;
  }
  bool ok = true;
  for (const auto& kv : patch.get_object()) {
    FieldErrors local;
    CheckMetadataPair(kv.key(), kv.value(), path, true, local);
    if (!local.empty()) {
      CheckMetadataPair(kv.key(), kv.value(), path, true, errors);
      ok = false;
    }
  }
  if (!ok) return;
  for (const auto& kv : patch.get_object()) {
    if (kv.value().is_null()) {
      current.erase(kv.key());
    } else {
      current[kv.key()] = kv.value();
    }
  }
  if (current.size() > kMaxMetadataPairs) {
    errors.Add(path, "at most " + std::to_string(kMaxMetadataPairs) + " pairs after the update");
  }
}

}  // namespace pincer::domain
