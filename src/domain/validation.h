#pragma once

// Field-level validation of JSON request bodies.
//
// FieldErrors collects problems by path ("permissionPolicy.tools.0") and turns them into one
// Error: kInvalidArgument, wire code "invalid_request", a message naming every bad field
// ("model: required; thinkingLevel: must be one of off, low, medium, high, xhigh"), and a
// details tree shaped like the seed's zod .format() output:
//   {"_errors":[],"model":{"_errors":["required"]}}
//
// Checker reads typed fields out of a json::object and records what is wrong.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace pincer::domain {

class FieldErrors {
 public:
  void Add(std::string path, std::string message);
  bool empty() const { return errors_.empty(); }
  // The combined error; call only when !empty().
  Error ToError() const;

 private:
  std::vector<std::pair<std::string, std::string>> errors_;
};

// Reads fields of one JSON object at `prefix` (e.g. "quota.") into typed values.
// Every getter returns nullopt when the field is absent (or null, if `null_is_absent`) and
// records an error when it is present but invalid.
class Checker {
 public:
  Checker(const json::object& obj, FieldErrors& errors, std::string prefix = "")
      : obj_(obj), errors_(errors), prefix_(std::move(prefix)) {}

  bool Has(std::string_view key) const;
  bool IsNull(std::string_view key) const;

  std::optional<std::string> String(std::string_view key, size_t min_len, size_t max_len,
                                    bool required = false);
  std::optional<std::string> Enum(std::string_view key, const std::vector<std::string>& allowed,
                                  bool required = false);
  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max, bool required = false);
  // A number > 0 when `positive`, else >= 0.
  std::optional<double> Number(std::string_view key, bool positive);
  std::optional<bool> Bool(std::string_view key);
  std::optional<std::vector<std::string>> StringArray(std::string_view key, size_t max_items,
                                                      size_t min_item_len, size_t max_item_len);
  const json::object* Object(std::string_view key, bool required = false);
  // Records an error for each key not in `allowed` (for strict objects).
  void Strict(const std::vector<std::string>& allowed);

  std::string Path(std::string_view key) const { return prefix_ + std::string(key); }
  void Fail(std::string_view key, std::string message) {
    errors_.Add(Path(key), std::move(message));
  }

 private:
  const json::value* Get(std::string_view key, bool required);
  const json::object& obj_;
  FieldErrors& errors_;
  std::string prefix_;
};

// Anthropic-style metadata: at most 16 string pairs, keys 1..64 bytes, values up to 512 bytes.
// Records errors under `path` and returns the valid object.
std::optional<json::object> CheckMetadata(const json::value& v, const std::string& path,
                                          FieldErrors& errors);
// Patch semantics: each key of `patch` set to a string replaces, set to null deletes. The
// result must still satisfy CheckMetadata.
void PatchMetadata(json::object& current, const json::value& patch, const std::string& path,
                   FieldErrors& errors);

// "string", "number", "object", … for messages.
const char* JsonKindName(const json::value& v);

}  // namespace pincer::domain
