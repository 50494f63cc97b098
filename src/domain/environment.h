#pragma once

// Environment: the sandbox template sessions run in (packages, networking, later image and
// limits). Environments are immutable once created.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace pincer::domain {

inline constexpr char kEnvironmentIdPrefix[] = "env";

struct Packages {
  // Each list is absent when the request did not name it.
  std::optional<std::vector<std::string>> apt, pip, npm, cargo, gem, go;
};

struct Networking {
  std::string type = "unrestricted";       // unrestricted | limited | none
  std::vector<std::string> allowed_hosts;  // limited only
  bool allow_mcp_servers = false;          // limited only
  bool allow_package_managers = false;     // limited only
};

struct Environment {
  std::string id;
  std::string name;
  std::string description;
  std::optional<Packages> packages;
  Networking networking;
  json::object metadata;
  int64_t created_at = 0;
  std::optional<int64_t> updated_at;
  std::optional<int64_t> archived_at;
};

// Validates a create body. `allowedHosts` entries must be host names or "*." wildcards
// (letters, digits, '.', '-', '*'; at most 253 bytes); IP addresses, schemes, ports, paths and
// CIDRs are rejected. Errors: kInvalidArgument naming each bad field.
Result<Environment> ParseEnvironmentCreate(const json::value& body);

// True when `host` is an acceptable allowedHosts entry (see above).
bool IsValidAllowedHost(std::string_view host);

// Storage form of everything but id/name/created_at, and back.
std::string EnvironmentSpecToStorage(const Environment& env);
Result<void> EnvironmentSpecFromStorage(std::string_view text, Environment& env);

// {environment_id, name, description, packages|null, networking, created_at}
json::object EnvironmentToJson(const Environment& env);

}  // namespace pincer::domain
