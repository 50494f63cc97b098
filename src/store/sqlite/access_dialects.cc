// Access: environment updates and lookups by name, vaults and credentials.

#include "store/sqlite/access.h"
#include "store/sqlite/rows.h"

namespace pincer::store::sqlite {
namespace {

json::object ObjectOf(const std::string& text) {
  auto v = ParseJson(text, 64);
  return v && v->is_object() ? std::move(v->get_object()) : json::object{};
}

Result<domain::Vault> VaultFromRow(const Query& q) {
  domain::Vault v;
  v.id = q.Text(0);
  v.display_name = q.Text(1);
  v.metadata = ObjectOf(q.Text(2));
  v.created_at = q.Int(3);
  v.updated_at = q.Int(4);
  v.archived_at = q.OptInt(5);
  return v;
}

Result<domain::Credential> CredentialFromRow(const Query& q) {
  domain::Credential c;
  c.id = q.Text(0);
  c.vault_id = q.Text(1);
  if (!q.IsNull(2)) c.display_name = q.Text(2);
  c.metadata = ObjectOf(q.Text(3));
  c.auth = ObjectOf(q.Text(4));
  c.sealed = q.Text(5);
  c.created_at = q.Int(6);
  c.updated_at = q.Int(7);
  c.archived_at = q.OptInt(8);
  return c;
}

}  // namespace

Result<std::optional<domain::Environment>> Access::FindEnvironmentByName(std::string_view name) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("SELECT id FROM environments WHERE name = ? AND "
                                          "archived_at IS NULL ORDER BY seq LIMIT 1"));
  q.Bind(1, name);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<domain::Environment>();
  std::string id = q.Text(0);
  return GetEnvironment(id);
}

Result<void> Access::UpdateEnvironment(const domain::Environment& e) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("UPDATE environments SET name = ?, spec = ?, updated_at "
                                          "= ?, archived_at = ? WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, e.name)
                      .Bind(2, domain::EnvironmentSpecToStorage(e))
                      .Bind(3, e.updated_at)
                      .Bind(4, e.archived_at)
                      .Bind(5, e.id)
                      .Run());
  if (conn_->Changes() != 1) return NotFound("environment_not_found", "environment not found");
  return Ok();
}

Result<std::optional<domain::Vault>> Access::GetVault(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("SELECT id, display_name, metadata, created_at, "
                                          "updated_at, archived_at FROM vaults WHERE id = ?"));
  q.Bind(1, id);
  return ReadOne<domain::Vault>(q, VaultFromRow);
}

Result<Page<domain::Vault>> Access::ListVaults(const PageRequest& page) {
  int64_t after = 0;
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after, CursorSeq("SELECT seq FROM vaults WHERE id = ?", page.after));
  }
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare(
          "SELECT id, display_name, metadata, created_at, updated_at, archived_at FROM vaults"
          " WHERE seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, after).Bind(2, page.limit > 0 ? page.limit + 1 : int64_t{-1});
  return ReadPage<domain::Vault>(q, page.limit, VaultFromRow,
                                 [](const domain::Vault& v) { return v.id; });
}

Result<std::optional<domain::Credential>> Access::GetCredential(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("SELECT id, vault_id, display_name, metadata, auth, "
                                          "sealed, created_at, updated_at, archived_at"
                                          " FROM vault_credentials WHERE id = ?"));
  q.Bind(1, id);
  return ReadOne<domain::Credential>(q, CredentialFromRow);
}

Result<Page<domain::Credential>> Access::ListCredentials(std::string_view vault_id,
                                                         const PageRequest& page) {
  int64_t after = 0;
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after,
                     CursorSeq("SELECT seq FROM vault_credentials WHERE id = ?", page.after));
  }
  ASSIGN_OR_RETURN(
      auto q, conn_->Prepare(
                  "SELECT id, vault_id, display_name, metadata, auth, sealed, created_at, "
                  "updated_at, archived_at"
                  " FROM vault_credentials WHERE vault_id = ? AND seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, vault_id).Bind(2, after).Bind(3, page.limit > 0 ? page.limit + 1 : int64_t{-1});
  return ReadPage<domain::Credential>(q, page.limit, CredentialFromRow,
                                      [](const domain::Credential& c) { return c.id; });
}

Result<void> Access::PutVault(const domain::Vault& v) {
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare("INSERT INTO vaults(id, display_name, metadata, created_at, updated_at, "
                     "archived_at) VALUES (?, ?, ?, ?, ?, ?)"
                     " ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name, "
                     "metadata = excluded.metadata,"
                     " updated_at = excluded.updated_at, archived_at = excluded.archived_at"));
  return q.Bind(1, v.id)
      .Bind(2, v.display_name)
      .Bind(3, ToJson(v.metadata))
      .Bind(4, v.created_at)
      .Bind(5, v.updated_at)
      .Bind(6, v.archived_at)
      .Run();
}

Result<bool> Access::DeleteVault(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("DELETE FROM vaults WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, id).Run());
  return conn_->Changes() > 0;
}

Result<void> Access::PutCredential(const domain::Credential& c) {
  ASSIGN_OR_RETURN(
      auto q,
      conn_->Prepare(
          "INSERT INTO vault_credentials(id, vault_id, display_name, metadata, auth, sealed, "
          "created_at, updated_at, archived_at)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
          " ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name, metadata = "
          "excluded.metadata,"
          " auth = excluded.auth, sealed = excluded.sealed, updated_at = excluded.updated_at,"
          " archived_at = excluded.archived_at"));
  q.Bind(1, c.id)
      .Bind(2, c.vault_id)
      .Bind(3, c.display_name)
      .Bind(4, ToJson(c.metadata))
      .Bind(5, ToJson(c.auth));
  return q.Bind(6, c.sealed)
      .Bind(7, c.created_at)
      .Bind(8, c.updated_at)
      .Bind(9, c.archived_at)
      .Run();
}

Result<bool> Access::DeleteCredential(std::string_view id) {
  ASSIGN_OR_RETURN(auto q, conn_->Prepare("DELETE FROM vault_credentials WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, id).Run());
  return conn_->Changes() > 0;
}

}  // namespace pincer::store::sqlite
