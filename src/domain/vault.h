#pragma once

// Vaults and their credentials (the Anthropic dialect's shapes). Secret values are sealed at
// rest and never leave the server; only the public part of a credential is returned.

#include <cstdint>
#include <optional>
#include <string>

#include "common/json.h"
#include "common/result.h"

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
  json::object auth;  // public fields only (type, mcp_server_url, expires_at, refresh.client_id, …)
  std::string sealed;  // AES-256-GCM sealed secret JSON (never serialized to clients)
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> archived_at;
};

inline constexpr char kVaultIdPrefix[] = "vlt";
inline constexpr char kCredentialIdPrefix[] = "vcrd";

// A credential's `auth` split into what may be shown and what must be sealed.
struct SplitAuth {
  json::object public_part;  // `auth` without secret values
  json::object secret;       // secret values by dotted path ("token", "refresh.refresh_token")
};

// Validates a credential `auth` object and splits it. Types: static_bearer {mcp_server_url,
// token}, mcp_oauth {mcp_server_url, access_token, expires_at?, refresh?{client_id,
// refresh_token, token_endpoint, token_endpoint_auth{type, client_secret?}, resource?, scope?}},
// environment_variable {secret_name, secret_value, networking?, injection_location?}. With
// `partial` (updates), secret values may be omitted (the stored ones are kept).
// Errors: kInvalidArgument naming each bad field under "auth.".
Result<SplitAuth> SplitCredentialAuth(const json::value& auth, bool partial);

}  // namespace pincer::domain
