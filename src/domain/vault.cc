#include "domain/vault.h"

#include "domain/validation.h"

namespace pincer::domain {
namespace {

constexpr size_t kMaxUrl = 2048;
constexpr size_t kMaxSecret = 16384;

bool IsHttpUrl(const std::string& s) {
  return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0;
}

// Moves the secret string at `key` of `o` (prefix `path`) into `out.secret`.
void TakeSecret(json::object& o, const std::string& key, const std::string& path, bool required,
                FieldErrors& errors, SplitAuth& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) errors.Add("auth." + path + key, "required");
    o.erase(key);
    return;
  }
  if (!v->is_string() || v->get_string().empty() || v->get_string().size() > kMaxSecret) {
    errors.Add("auth." + path + key,
               "expected a non-empty string of at most " + std::to_string(kMaxSecret) + " bytes");
  } else {
    out.secret[path + key] = *v;
  }
  o.erase(key);
}

void CheckUrl(Checker& c, const char* key, bool required) {
  if (auto url = c.String(key, 1, kMaxUrl, required); url && !IsHttpUrl(*url)) {
    c.Fail(key, "must be an http(s) URL");
  }
}

}  // namespace

Result<SplitAuth> SplitCredentialAuth(const json::value& auth, bool partial) {
  FieldErrors errors;
  if (!auth.is_object()) {
    errors.Add("auth", std::string("expected object, got ") + JsonKindName(auth));
    return errors.ToError();
  }
  SplitAuth out;
  out.public_part = auth.get_object();
  json::object& p = out.public_part;
  Checker c(auth.get_object(), errors, "auth.");
  auto type =
      c.Enum("type", {"static_bearer", "mcp_oauth", "environment_variable"}, /*required=*/true);
  if (!type) return errors.ToError();
  bool need = !partial;
  if (*type == "static_bearer") {
    c.Strict({"type", "mcp_server_url", "token"});
    CheckUrl(c, "mcp_server_url", need);
    TakeSecret(p, "token", "", need, errors, out);
  } else if (*type == "mcp_oauth") {
    c.Strict({"type", "mcp_server_url", "access_token", "expires_at", "refresh"});
    CheckUrl(c, "mcp_server_url", need);
    c.String("expires_at", 1, 64);
    TakeSecret(p, "access_token", "", need, errors, out);
    if (auto* r = p.if_contains("refresh"); r && !r->is_null()) {
      if (!r->is_object()) {
        errors.Add("auth.refresh", "expected object");
      } else {
        json::object& ro = r->get_object();
        Checker rc(ro, errors, "auth.refresh.");
        rc.Strict({"client_id", "refresh_token", "token_endpoint", "token_endpoint_auth",
                   "resource", "scope"});
        rc.String("client_id", 1, 1024, need);
        CheckUrl(rc, "token_endpoint", need);
        rc.String("resource", 1, kMaxUrl);
        rc.String("scope", 0, 4096);
        TakeSecret(ro, "refresh_token", "refresh.", need, errors, out);
        if (auto* ta = ro.if_contains("token_endpoint_auth"); ta && ta->is_object()) {
          json::object& tao = ta->get_object();
          Checker tc(tao, errors, "auth.refresh.token_endpoint_auth.");
          auto t = tc.Enum("type", {"none", "client_secret_basic", "client_secret_post"}, true);
          TakeSecret(tao, "client_secret", "refresh.token_endpoint_auth.",
                     need && t && *t != "none", errors, out);
        } else if (ta != nullptr) {
          errors.Add("auth.refresh.token_endpoint_auth", "expected object");
        }
      }
    }
  } else {
    c.Strict({"type", "secret_name", "secret_value", "networking", "injection_location"});
    if (auto name = c.String("secret_name", 1, 256, need)) {
      if (name->find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
          std::string::npos) {
        c.Fail("secret_name", "letters, digits and '_' only");
      }
    }
    c.Object("networking");
    c.Object("injection_location");
    TakeSecret(p, "secret_value", "", need, errors, out);
  }
  if (!errors.empty()) return errors.ToError();
  return out;
}

}  // namespace pincer::domain
