#include "common/config.h"

#include <charconv>

namespace pincer {
namespace {

const SettingInfo* Find(const char* env) {
  for (const auto& s : Settings()) {
    if (std::string_view(s.env) == env) return &s;
  }
  return nullptr;
}

Error Invalid(const char* env, const std::string& what, const std::string& got) {
  const SettingInfo* s = Find(env);
  std::string name = std::string(env) + (s ? std::string(" (--") + s->flag + ")" : "");
  return InvalidArgument(name + " " + what + ", got \"" + got + "\"", "invalid_config");
}

class Reader {
 public:
  explicit Reader(const std::function<std::optional<std::string>(const std::string&)>& lookup)
      : lookup_(lookup) {}

  Result<void> Int(const char* env, int64_t lo, int64_t hi, int64_t& out) {
    auto v = lookup_(env);
    if (!v) return Ok();
    int64_t parsed = 0;
    const char* end = v->data() + v->size();
    auto [p, ec] = std::from_chars(v->data(), end, parsed);
    if (ec != std::errc() || p != end || parsed < lo || parsed > hi) {
      return Invalid(env, "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi),
                     *v);
    }
    out = parsed;
    return Ok();
  }
  Result<void> Int(const char* env, int64_t lo, int64_t hi, int& out) {
    int64_t wide = out;
    RETURN_IF_ERROR(Int(env, lo, hi, wide));
    out = static_cast<int>(wide);
    return Ok();
  }
  Result<void> Enum(const char* env, const std::vector<std::string>& allowed, std::string& out) {
    auto v = lookup_(env);
    if (!v) return Ok();
    for (const auto& a : allowed) {
      if (*v == a) {
        out = *v;
        return Ok();
      }
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : " | ") + a;
    return Invalid(env, "must be one of " + list, *v);
  }
  Result<void> Bool(const char* env, bool& out) {
    auto v = lookup_(env);
    if (!v) return Ok();
    if (*v == "1" || *v == "true" || *v == "yes" || *v == "on") {
      out = true;
    } else if (*v == "0" || *v == "false" || *v == "no" || *v == "off") {
      out = false;
    } else {
      return Invalid(env, "must be true or false", *v);
    }
    return Ok();
  }
  Result<void> String(const char* env, bool allow_empty, std::string& out) {
    auto v = lookup_(env);
    if (!v) return Ok();
    if (!allow_empty && v->empty()) return Invalid(env, "must not be empty", *v);
    out = *v;
    return Ok();
  }

 private:
  const std::function<std::optional<std::string>(const std::string&)>& lookup_;
};

}  // namespace

const std::vector<SettingInfo>& Settings() {
  static const std::vector<SettingInfo> kSettings = {
      {"PINCER_HOST", "host", "Address to bind (default 127.0.0.1; 0.0.0.0 for all)"},
      {"PINCER_PORT", "port", "TCP port (default 8080; 0 picks a free port)"},
      {"PINCER_DATA_DIR", "data-dir", "Directory for the database and workspaces (./data)"},
      {"PINCER_API_TOKEN", "api-token", "Bearer token required on API calls (unset: auth off)"},
      {"PINCER_RATE_LIMIT_RPM", "rate-limit-rpm", "Requests per minute per caller (120; 0 = off)"},
      {"PINCER_TRUST_FORWARDED_FOR", "trust-forwarded-for",
       "Key rate limits on the first X-Forwarded-For entry (true)"},
      {"PINCER_LOG_FORMAT", "log-format", "json | pretty (json)"},
      {"PINCER_LOG_LEVEL", "log-level", "debug | info | warn | error (info)"},
      {"PINCER_THREADS", "threads", "I/O threads (0 = one per core)"},
      {"PINCER_MAX_BODY_BYTES", "max-body-bytes", "Largest request body (1048576)"},
      {"PINCER_MAX_HEADER_BYTES", "max-header-bytes", "Largest request header block (16384)"},
      {"PINCER_READ_TIMEOUT_MS", "read-timeout-ms", "Time allowed to receive a request (30000)"},
      {"PINCER_KEEPALIVE_TIMEOUT_MS", "keepalive-timeout-ms", "Idle keep-alive timeout (60000)"},
      {"PINCER_SHUTDOWN_GRACE_MS", "shutdown-grace-ms", "Drain time on SIGTERM/SIGINT (10000)"},
      {"PINCER_AUDIT_RETENTION_DAYS", "audit-retention-days", "Audit retention (30; 0 = forever)"},
      {"PINCER_DB_SYNC", "db-sync", "SQLite durability: normal | full (normal)"},
      {"PINCER_MAX_WARM", "max-warm", "Warm sandboxes kept per environment (0)"},
      {"PINCER_MAX_ACTIVE", "max-active", "Live sandboxes in all (32)"},
      {"PINCER_LLM_TIMEOUT_MS", "llm-timeout-ms", "Longest provider call (600000)"},
      {"PINCER_LLM_IDLE_TIMEOUT_MS", "llm-idle-timeout-ms",
       "Longest silence in a provider stream (120000)"},
      {"PINCER_LLM_MAX_RETRIES", "llm-max-retries", "Retries on 429/5xx/connection errors (3)"},
      {"PINCER_LLM_RETRY_BASE_MS", "llm-retry-base-ms", "First retry backoff (500)"},
      {"PINCER_LLM_MAX_TOKENS", "llm-max-tokens", "Output token cap per model response (8192)"},
      {"PINCER_MAX_STEPS", "max-steps", "Model responses per turn before it is stopped (50)"},
      {"PINCER_PRICES_FILE", "prices-file", "JSON price table replacing the built-in one"},
      {"PINCER_ENABLE_TEST_TOOLS", "enable-test-tools",
       "Offer test_echo/test_sleep/test_fail (false)"},
      {"PINCER_SSE_HEARTBEAT_MS", "sse-heartbeat-ms", "SSE heartbeat interval (15000)"},
      {"PINCER_SSE_IDLE_CLOSE_MS", "sse-idle-close-ms",
       "Close a stream after the session idles this long (30000)"},
      {"PINCER_SANDBOX", "sandbox", "Sandbox runtime: local | docker (local)"},
      {"PINCER_SANDBOXD_BIN", "sandboxd-bin",
       "The pincer-sandboxd binary (default: next to pincer)"},
      {"PINCER_IDLE_TIMEOUT_MS", "idle-timeout-ms", "Stop sandboxes unused this long (600000)"},
      {"PINCER_SANDBOX_MEMORY_MB", "sandbox-memory-mb", "Memory limit per sandbox (2048)"},
      {"PINCER_SANDBOX_PIDS", "sandbox-pids", "Process limit per sandbox (512)"},
      {"PINCER_SANDBOX_CPU_MILLIS", "sandbox-cpu-millis",
       "CPU limit per sandbox, 1000 = one core (1000)"},
      {"PINCER_SANDBOX_IMAGE", "sandbox-image",
       "Docker image for sandboxes (pincer-sandbox:bookworm)"},
      {"PINCER_DOCKER_SOCKET", "docker-socket", "Docker Engine API socket (/var/run/docker.sock)"},
      {"PINCER_APPROVAL_TIMEOUT_MS", "approval-timeout-ms",
       "Deny tool approvals unanswered this long (0 = wait)"},
      {"PINCER_VAULT_KEY", "vault-key",
       "64 hex chars sealing vault secrets (default: <data dir>/vault.key)"},
  };
  return kSettings;
}

Result<Config> LoadConfig(
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  Config c;
  Reader r(lookup);
  RETURN_IF_ERROR(r.String("PINCER_HOST", false, c.host));
  RETURN_IF_ERROR(r.Int("PINCER_PORT", 0, 65535, c.port));
  RETURN_IF_ERROR(r.String("PINCER_DATA_DIR", false, c.data_dir));
  RETURN_IF_ERROR(r.String("PINCER_API_TOKEN", true, c.api_token));
  // A token of only whitespace would silently disable auth; the seed trims, so do we.
  while (!c.api_token.empty() && std::isspace(static_cast<unsigned char>(c.api_token.back()))) {
    c.api_token.pop_back();
  }
  while (!c.api_token.empty() && std::isspace(static_cast<unsigned char>(c.api_token.front()))) {
    c.api_token.erase(0, 1);
  }
  RETURN_IF_ERROR(r.Int("PINCER_RATE_LIMIT_RPM", 0, 1'000'000'000, c.rate_limit_rpm));
  RETURN_IF_ERROR(r.Bool("PINCER_TRUST_FORWARDED_FOR", c.trust_forwarded_for));
  RETURN_IF_ERROR(r.Enum("PINCER_LOG_FORMAT", {"json", "pretty"}, c.log_format));
  RETURN_IF_ERROR(r.Enum("PINCER_LOG_LEVEL", {"debug", "info", "warn", "error"}, c.log_level));
  RETURN_IF_ERROR(r.Int("PINCER_THREADS", 0, 256, c.threads));
  RETURN_IF_ERROR(r.Int("PINCER_MAX_BODY_BYTES", 1024, int64_t{1} << 30, c.max_body_bytes));
  RETURN_IF_ERROR(r.Int("PINCER_MAX_HEADER_BYTES", 1024, 1 << 20, c.max_header_bytes));
  RETURN_IF_ERROR(r.Int("PINCER_READ_TIMEOUT_MS", 100, 3'600'000, c.read_timeout_ms));
  RETURN_IF_ERROR(r.Int("PINCER_KEEPALIVE_TIMEOUT_MS", 100, 3'600'000, c.keepalive_timeout_ms));
  RETURN_IF_ERROR(r.Int("PINCER_SHUTDOWN_GRACE_MS", 0, 3'600'000, c.shutdown_grace_ms));
  RETURN_IF_ERROR(r.Int("PINCER_AUDIT_RETENTION_DAYS", 0, 36'500, c.audit_retention_days));
  RETURN_IF_ERROR(r.Enum("PINCER_DB_SYNC", {"normal", "full"}, c.db_sync));
  RETURN_IF_ERROR(r.Int("PINCER_MAX_WARM", 0, 10'000, c.max_warm));
  RETURN_IF_ERROR(r.Int("PINCER_MAX_ACTIVE", 1, 100'000, c.max_active));
  RETURN_IF_ERROR(r.Int("PINCER_LLM_TIMEOUT_MS", 100, 3'600'000, c.llm_timeout_ms));
  RETURN_IF_ERROR(r.Int("PINCER_LLM_IDLE_TIMEOUT_MS", 100, 3'600'000, c.llm_idle_timeout_ms));
  RETURN_IF_ERROR(r.Int("PINCER_LLM_MAX_RETRIES", 0, 20, c.llm_max_retries));
  RETURN_IF_ERROR(r.Int("PINCER_LLM_RETRY_BASE_MS", 1, 60'000, c.llm_retry_base_ms));
  RETURN_IF_ERROR(r.Int("PINCER_LLM_MAX_TOKENS", 1, 1'000'000, c.llm_max_tokens));
  RETURN_IF_ERROR(r.Int("PINCER_MAX_STEPS", 1, 10'000, c.max_steps));
  RETURN_IF_ERROR(r.String("PINCER_PRICES_FILE", true, c.prices_file));
  RETURN_IF_ERROR(r.Bool("PINCER_ENABLE_TEST_TOOLS", c.enable_test_tools));
  RETURN_IF_ERROR(r.Int("PINCER_SSE_HEARTBEAT_MS", 50, 3'600'000, c.sse_heartbeat_ms));
  RETURN_IF_ERROR(r.Int("PINCER_SSE_IDLE_CLOSE_MS", 50, 86'400'000, c.sse_idle_close_ms));
  RETURN_IF_ERROR(r.Enum("PINCER_SANDBOX", {"local", "docker"}, c.sandbox));
  RETURN_IF_ERROR(r.String("PINCER_SANDBOXD_BIN", true, c.sandboxd_bin));
  RETURN_IF_ERROR(r.Int("PINCER_IDLE_TIMEOUT_MS", 1000, 86'400'000, c.idle_timeout_ms));
  RETURN_IF_ERROR(r.Int("PINCER_SANDBOX_MEMORY_MB", 16, 1'048'576, c.sandbox_memory_mb));
  RETURN_IF_ERROR(r.Int("PINCER_SANDBOX_PIDS", 8, 1'000'000, c.sandbox_pids));
  RETURN_IF_ERROR(r.Int("PINCER_SANDBOX_CPU_MILLIS", 10, 1'000'000, c.sandbox_cpu_millis));
  RETURN_IF_ERROR(r.String("PINCER_SANDBOX_IMAGE", false, c.sandbox_image));
  RETURN_IF_ERROR(r.String("PINCER_DOCKER_SOCKET", false, c.docker_socket));
  RETURN_IF_ERROR(r.Int("PINCER_APPROVAL_TIMEOUT_MS", 0, 86'400'000, c.approval_timeout_ms));
  RETURN_IF_ERROR(r.String("PINCER_VAULT_KEY", true, c.vault_key));
  if (!c.vault_key.empty() &&
      (c.vault_key.size() != 64 ||
       c.vault_key.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)) {
    return InvalidArgument(
        "PINCER_VAULT_KEY (--vault-key) must be 64 hexadecimal characters (32 bytes)");
  }
  return c;
}

}  // namespace pincer
