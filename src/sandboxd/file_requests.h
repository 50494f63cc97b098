#pragma once

// The protocol's file operations (read, write, edit, list, stat, glob, grep, remove) from a
// request object to a reply, over a fileops::Root; and the small JSON helpers sandboxd's
// request handling shares. See docs/design/sandboxd-protocol.md for the fields.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sandboxd/fileops.h"

namespace pincer::sandboxd {

// A reply's fields, or the operation's error.
struct FileReply {
  boost::json::object fields;
  std::optional<fileops::OpError> error;
};

// Runs file operation `op` of `request` on `root`; nullopt when `op` is not a file operation.
std::optional<FileReply> HandleFileRequest(const fileops::Root& root, std::string_view op,
                                           const boost::json::object& request);

// Replaces bytes that are not valid UTF-8 with U+FFFD so output always fits in JSON.
std::string Utf8(std::string_view s);

// Request fields with defaults for absent or mistyped values.
std::string Str(const boost::json::object& o, const char* key, std::string def = "");
int64_t Int(const boost::json::object& o, const char* key, int64_t def = 0);
bool Bool(const boost::json::object& o, const char* key);

}  // namespace pincer::sandboxd
