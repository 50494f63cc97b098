#include "engine/vaults.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/crypto.h"
#include "common/ids.h"

namespace pincer::engine {
namespace {

// An update's auth carries only what changes: merge it into the stored public settings (nested
// objects too; null removes a key).
void MergeAuth(json::object& into, const json::object& patch) {
  for (const auto& kv : patch) {
    json::value* cur = into.if_contains(kv.key());
    if (kv.value().is_null()) {
      into.erase(kv.key());
    } else if (kv.value().is_object() && cur && cur->is_object()) {
      MergeAuth(cur->get_object(), kv.value().get_object());
    } else {
      into[kv.key()] = kv.value();
    }
  }
}

Error VaultNotFound() { return NotFound("vault_not_found", "vault not found"); }
Error CredentialNotFound() { return NotFound("credential_not_found", "credential not found"); }

Result<std::string> ReadOrCreateKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[65] = {};
    ssize_t n = ::read(fd, buf, 64);
    ::close(fd);
    if (n != 64) return Internal("vault key file " + path + " must hold 64 hex characters");
    auto key = FromHex(std::string_view(buf, 64));
    if (!key) return Internal("vault key file " + path + " must hold 64 hex characters");
    return *key;
  }
  if (errno != ENOENT) return Internal("cannot read " + path + ": " + std::strerror(errno));
  std::string key(32, '\0');
  RandomBytes(key.data(), key.size());
  std::string hex = ToHex(key);
  std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok =
      ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Internal("cannot write " + path + ": " + std::strerror(errno));
  }
  return key;
}

Result<domain::Credential> RequireCredential(store::Reader& r, std::string_view vault_id,
                                             std::string_view id) {
  ASSIGN_OR_RETURN(auto c, r.GetCredential(id));
  if (!c || c->vault_id != vault_id) return CredentialNotFound();
  return std::move(*c);
}

}  // namespace

Result<std::string> Vaults::LoadKey(const Config& config) {
  if (!config.vault_key.empty()) return FromHex(config.vault_key);
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  return ReadOrCreateKeyFile((std::filesystem::path(config.data_dir) / "vault.key").string());
}

Task<Result<domain::Vault>> Vaults::Create(const CallContext& ctx, domain::Vault vault) {
  vault.id = NewId(domain::kVaultIdPrefix);
  vault.created_at = vault.updated_at = clock_.NowMs();
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "vault.create", vault.id,
      [&](store::Writer& w, AuditLog::Entry&) { return w.PutVault(vault); }));
  co_return vault;
}

Result<domain::Vault> Vaults::Get(std::string_view id) {
  ASSIGN_OR_RETURN(auto v, store_.Read()->GetVault(id));
  if (!v) return VaultNotFound();
  return std::move(*v);
}

Result<store::Page<domain::Vault>> Vaults::List(const store::PageRequest& page) {
  return store_.Read()->ListVaults(page);
}

Task<Result<domain::Vault>> Vaults::Modify(const CallContext& ctx, std::string id,
                                           std::function<Result<void>(domain::Vault&)> apply) {
  domain::Vault result;
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "vault.update", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(auto got, w.GetVault(id));
        if (!got) return VaultNotFound();
        if (got->archived_at)
          return Conflict("vault_archived", "archived vaults cannot be updated");
        result = std::move(*got);
        RETURN_IF_ERROR(apply(result));
        result.updated_at = clock_.NowMs();
        return w.PutVault(result);
      }));
  co_return result;
}

Task<Result<domain::Vault>> Vaults::Archive(const CallContext& ctx, std::string id) {
  domain::Vault result;
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "vault.archive", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(auto got, w.GetVault(id));
        if (!got) return VaultNotFound();
        result = std::move(*got);
        if (result.archived_at) return Ok();
        result.archived_at = result.updated_at = clock_.NowMs();
        return w.PutVault(result);
      }));
  co_return result;
}

Task<Result<void>> Vaults::Delete(const CallContext& ctx, std::string id) {
  co_return co_await audit_.Mutate(ctx, "vault.delete", id,
                                   [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
                                     ASSIGN_OR_RETURN(bool deleted, w.DeleteVault(id));
                                     if (!deleted) return VaultNotFound();
                                     return Ok();
                                   });
}

Task<Result<domain::Credential>> Vaults::AddCredential(const CallContext& ctx, std::string vault_id,
                                                       domain::Credential credential,
                                                       const json::value& auth) {
  auto split = domain::SplitCredentialAuth(auth, /*partial=*/false);
  if (!split)
    co_return co_await audit_.Reject(ctx, "vault.credential.create", vault_id, split.error());
  credential.id = NewId(domain::kCredentialIdPrefix);
  credential.vault_id = vault_id;
  credential.auth = std::move(split->public_part);
  credential.sealed = Seal(key_, ToJson(split->secret));
  credential.created_at = credential.updated_at = clock_.NowMs();
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "vault.credential.create", credential.id,
      [&](store::Writer& w, AuditLog::Entry& entry) -> Result<void> {
        ASSIGN_OR_RETURN(auto vault, w.GetVault(vault_id));
        if (!vault) return VaultNotFound();
        if (vault->archived_at)
          return Conflict("vault_archived", "archived vaults cannot take new credentials");
        entry.metadata["vault_id"] = vault_id;
        entry.metadata["type"] = credential.auth.at("type");
        return w.PutCredential(credential);
      }));
  co_return credential;
}

Result<domain::Credential> Vaults::GetCredential(std::string_view vault_id, std::string_view id) {
  return RequireCredential(*store_.Read(), vault_id, id);
}

Result<store::Page<domain::Credential>> Vaults::ListCredentials(std::string_view vault_id,
                                                                const store::PageRequest& page) {
  ASSIGN_OR_RETURN(auto vault, store_.Read()->GetVault(vault_id));
  if (!vault) return VaultNotFound();
  return store_.Read()->ListCredentials(vault_id, page);
}

Task<Result<domain::Credential>> Vaults::ModifyCredential(
    const CallContext& ctx, std::string vault_id, std::string id,
    std::function<Result<void>(domain::Credential&)> apply, json::value auth) {
  std::optional<domain::SplitAuth> split;
  if (!auth.is_null()) {
    auto s = domain::SplitCredentialAuth(auth, /*partial=*/true);
    if (!s) co_return co_await audit_.Reject(ctx, "vault.credential.update", id, s.error());
    split = std::move(*s);
  }
  domain::Credential result;
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "vault.credential.update", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(result, RequireCredential(w, vault_id, id));
        if (result.archived_at)
          return Conflict("credential_archived", "archived credentials cannot be updated");
        RETURN_IF_ERROR(apply(result));
        if (split) {
          if (split->public_part.at("type") != result.auth.at("type")) {
            return InvalidArgument(
                "auth.type: cannot change a credential's type (create a new credential)");
          }
          ASSIGN_OR_RETURN(json::object secrets, Secrets(result));
          for (const auto& kv : split->secret) secrets[kv.key()] = kv.value();
          MergeAuth(result.auth, split->public_part);
          result.sealed = Seal(key_, ToJson(secrets));
        }
        result.updated_at = clock_.NowMs();
        return w.PutCredential(result);
      }));
  co_return result;
}

Task<Result<domain::Credential>> Vaults::ArchiveCredential(const CallContext& ctx,
                                                           std::string vault_id, std::string id) {
  domain::Credential result;
  CO_RETURN_IF_ERROR(co_await audit_.Mutate(
      ctx, "vault.credential.archive", id, [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
        ASSIGN_OR_RETURN(result, RequireCredential(w, vault_id, id));
        if (result.archived_at) return Ok();
        result.archived_at = result.updated_at = clock_.NowMs();
        return w.PutCredential(result);
      }));
  co_return result;
}

Task<Result<void>> Vaults::DeleteCredential(const CallContext& ctx, std::string vault_id,
                                            std::string id) {
  co_return co_await audit_.Mutate(ctx, "vault.credential.delete", id,
                                   [&](store::Writer& w, AuditLog::Entry&) -> Result<void> {
                                     RETURN_IF_ERROR(RequireCredential(w, vault_id, id));
                                     ASSIGN_OR_RETURN(bool deleted, w.DeleteCredential(id));
                                     if (!deleted) return CredentialNotFound();
                                     return Ok();
                                   });
}

Result<json::object> Vaults::Secrets(const domain::Credential& credential) const {
  if (credential.sealed.empty()) return json::object{};
  ASSIGN_OR_RETURN(std::string plain, Open(key_, credential.sealed));
  ASSIGN_OR_RETURN(json::value v, ParseJson(plain));
  if (!v.is_object()) return Internal("sealed credential is not a JSON object");
  return std::move(v.get_object());
}

}  // namespace pincer::engine
