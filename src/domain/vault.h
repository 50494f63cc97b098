#pragma once

// Vaults and their credentials (the Anthropic dialect's shapes). Secret values are sealed at
// rest and never leave the server; only the public part of a credential is returned.

#include <cstdint>
#include <optional>
#include <string>

#include "common/json.h"

namespace pincer::domain {

struct Vault {
  std::string id;  // "vlt_…"
  std::string display_name;
  json::object metadata;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> archived_at;
};

struct Credential {
  std::string id;  // "vcrd_…"
  std::string vault_id;
  std::optional<std::string> display_name;
  json::object metadata;
  json::object auth;    // public fields only (type, mcp_server_url, expires_at, refresh.client_id, …)
  std::string sealed;   // AES-256-GCM sealed secret JSON (never serialized to clients)
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> archived_at;
};

}  // namespace pincer::domain
