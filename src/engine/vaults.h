#pragma once

// Vaults: named sets of credentials that sessions reference (vault_ids). Secret values are
// sealed with AES-256-GCM before they reach the store and are never returned by any read; the
// key comes from PINCER_VAULT_KEY or a key file in the data directory.
//
// Errors (wire codes): vault_not_found, credential_not_found (404); vault_archived,
// credential_archived (409); invalid_request (400).

#include <functional>
#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "common/result.h"
#include "common/task.h"
#include "domain/vault.h"
#include "engine/audit_log.h"
#include "store/store.h"

namespace pincer::engine {

class Vaults {
 public:
  // `key` is 32 raw bytes.
  Vaults(store::Store& store, AuditLog& audit, Clock& clock, std::string key)
      : store_(store), audit_(audit), clock_(clock), key_(std::move(key)) {}

  // The sealing key: PINCER_VAULT_KEY, else <data_dir>/vault.key (created with mode 0600 on
  // first use). Errors: kInternal when the key file cannot be read or written.
  static Result<std::string> LoadKey(const Config& config);

  Task<Result<domain::Vault>> Create(const CallContext& ctx, domain::Vault vault);
  Result<domain::Vault> Get(std::string_view id);
  Result<store::Page<domain::Vault>> List(const store::PageRequest& page);
  Task<Result<domain::Vault>> Modify(const CallContext& ctx, std::string id,
                                     std::function<Result<void>(domain::Vault&)> apply);
  Task<Result<domain::Vault>> Archive(const CallContext& ctx, std::string id);
  // Deletes the vault and its credentials.
  Task<Result<void>> Delete(const CallContext& ctx, std::string id);

  // `auth` is validated and split; the secret part is sealed.
  Task<Result<domain::Credential>> AddCredential(const CallContext& ctx, std::string vault_id,
                                                 domain::Credential credential,
                                                 const json::value& auth);
  Result<domain::Credential> GetCredential(std::string_view vault_id, std::string_view id);
  Result<store::Page<domain::Credential>> ListCredentials(std::string_view vault_id,
                                                          const store::PageRequest& page);
  // `apply` edits display_name/metadata; a non-null `auth` (same type) replaces the public
  // part and the secrets it names (omitted secrets are kept).
  Task<Result<domain::Credential>> ModifyCredential(
      const CallContext& ctx, std::string vault_id, std::string id,
      std::function<Result<void>(domain::Credential&)> apply, json::value auth);
  Task<Result<domain::Credential>> ArchiveCredential(const CallContext& ctx, std::string vault_id,
                                                     std::string id);
  Task<Result<void>> DeleteCredential(const CallContext& ctx, std::string vault_id, std::string id);

  // The unsealed secret values of a credential, by dotted path (for the MCP/egress layers).
  Result<json::object> Secrets(const domain::Credential& credential) const;

 private:
  store::Store& store_;
  AuditLog& audit_;
  Clock& clock_;
  std::string key_;
};

}  // namespace pincer::engine
