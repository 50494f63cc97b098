#pragma once

// Server configuration: one typed struct, every field with a default. Each setting is read
// from an environment variable and can be overridden by the matching `pincer serve` flag.
// Invalid values fail start-up with one line naming the setting (see LoadConfig).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace pincer {

struct Config {
  std::string host = "127.0.0.1";       // PINCER_HOST: address to bind
  int port = 8080;                      // PINCER_PORT: TCP port (0 = pick a free one)
  std::string data_dir = "./data";      // PINCER_DATA_DIR: database and workspaces
  std::string api_token;                // PINCER_API_TOKEN: empty = auth off
  int rate_limit_rpm = 120;             // PINCER_RATE_LIMIT_RPM: per caller; 0 = off
  bool trust_forwarded_for = true;      // PINCER_TRUST_FORWARDED_FOR: key limits by X-Forwarded-For
  std::string log_format = "json";      // PINCER_LOG_FORMAT: json | pretty
  std::string log_level = "info";       // PINCER_LOG_LEVEL: debug | info | warn | error
  int threads = 0;                      // PINCER_THREADS: I/O threads; 0 = one per core
  int64_t max_body_bytes = 1 << 20;     // PINCER_MAX_BODY_BYTES: larger bodies get 413
  int64_t max_header_bytes = 16 << 10;  // PINCER_MAX_HEADER_BYTES: larger headers get 431
  int64_t read_timeout_ms = 30'000;     // PINCER_READ_TIMEOUT_MS: to receive one request
  int64_t keepalive_timeout_ms = 60'000;  // PINCER_KEEPALIVE_TIMEOUT_MS: idle connection
  int64_t shutdown_grace_ms = 10'000;     // PINCER_SHUTDOWN_GRACE_MS: drain time on SIGTERM
  int audit_retention_days = 30;          // PINCER_AUDIT_RETENTION_DAYS: 0 = keep forever
  std::string db_sync = "normal";         // PINCER_DB_SYNC: normal | full (SQLite synchronous)
  int max_warm = 0;                       // PINCER_MAX_WARM: warm sandboxes per environment
  int max_active = 32;                    // PINCER_MAX_ACTIVE: live sandboxes in all
  int64_t llm_timeout_ms = 600'000;       // PINCER_LLM_TIMEOUT_MS: one provider call, in all
  int64_t llm_idle_timeout_ms = 120'000;  // PINCER_LLM_IDLE_TIMEOUT_MS: silence mid-stream
  int llm_max_retries = 3;                // PINCER_LLM_MAX_RETRIES: on 429/5xx/connection errors
  int64_t llm_retry_base_ms = 500;        // PINCER_LLM_RETRY_BASE_MS: first backoff step
  int64_t llm_max_tokens = 8192;          // PINCER_LLM_MAX_TOKENS: output cap per response
  int max_steps = 50;                     // PINCER_MAX_STEPS: model responses per turn
  std::string prices_file;                // PINCER_PRICES_FILE: replaces the built-in table
  bool enable_test_tools = false;         // PINCER_ENABLE_TEST_TOOLS: test_echo/sleep/fail
  int64_t sse_heartbeat_ms = 15'000;      // PINCER_SSE_HEARTBEAT_MS
  int64_t sse_idle_close_ms = 30'000;     // PINCER_SSE_IDLE_CLOSE_MS: close idle streams
  std::string sandbox = "local";          // PINCER_SANDBOX: local | docker
  std::string sandboxd_bin;               // PINCER_SANDBOXD_BIN: default next to pincer
  int64_t idle_timeout_ms = 600'000;      // PINCER_IDLE_TIMEOUT_MS: stop unused sandboxes
  int64_t sandbox_memory_mb = 2048;       // PINCER_SANDBOX_MEMORY_MB
  int64_t sandbox_pids = 512;             // PINCER_SANDBOX_PIDS
  int64_t sandbox_cpu_millis = 1000;      // PINCER_SANDBOX_CPU_MILLIS: 1000 = one core
  std::string sandbox_image = "pincer-sandbox:bookworm";  // PINCER_SANDBOX_IMAGE (docker)
  std::string docker_socket = "/var/run/docker.sock";     // PINCER_DOCKER_SOCKET
  int64_t approval_timeout_ms = 0;  // PINCER_APPROVAL_TIMEOUT_MS: deny unanswered asks; 0 = wait
  // PINCER_VAULT_KEY: 64 hex characters (AES-256 key sealing vault secrets); empty = a key file
  // <data_dir>/vault.key created on first start.
  std::string vault_key;
};

// One row per setting: the environment variable, the flag (without "--"), and help text.
struct SettingInfo {
  const char* env;
  const char* flag;
  const char* help;
};
const std::vector<SettingInfo>& Settings();

// Builds a Config from raw values. `lookup(env_name)` returns the value of a setting, with
// flags already taking precedence over the environment, or nullopt when unset.
// Error (kInvalidArgument): "PINCER_PORT (--port) must be an integer in 0..65535, got \"x\"".
Result<Config> LoadConfig(
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

}  // namespace pincer
