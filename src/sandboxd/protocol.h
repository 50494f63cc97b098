#pragma once

// The pincer-sandboxd wire protocol (documented in docs/design/sandboxd-protocol.md).
//
// Newline-delimited JSON over a stream socket (unix, or TCP with a token). Requests carry a
// client-chosen integer `id`; several may be in flight on one connection. Each request gets
// exactly one final reply {"id", "ok": true, …} or {"id", "ok": false, "error": {"code",
// "message"}}; `exec` also sends {"id", "event": "stdout"|"stderr", "data"} chunks first.
//
// Ops: hello {token}; ping; exec {argv | command, cwd, env, stdin, timeout_ms,
// max_output_bytes}; read {path, offset, limit}; write {path, content}; edit {path, old, new,
// replace_all}; list {path}; stat {path}; glob {pattern, path}; grep {pattern, path, glob,
// max_matches}; remove {path, recursive}.

namespace pincer::sandboxd {

inline constexpr char kVersion[] = "1";
inline constexpr size_t kMaxLineBytes = 32 << 20;     // one request or reply
inline constexpr size_t kDefaultMaxOutput = 1 << 20;  // captured bytes per stream
inline constexpr long kDefaultTimeoutMs = 120'000;

}  // namespace pincer::sandboxd
