#pragma once

// Files: the session workspace seen from the API (GET/PUT/DELETE /v1/agents/:id/files…).
// Works whether or not a sandbox is running: it reads the workspace on the host through the
// same path-safe operations sandboxd uses (no symlink escapes), and checks that the session
// exists and belongs to the agent. A path with a ".." segment is invalid_path, even one that
// stays inside the workspace (seed §2.5). What it writes belongs to the sandbox's user
// (`owner`, when the runtime runs sandboxes as another host user), so the agent's tools can
// change uploaded files. Writes and deletes are audited.

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/task.h"
#include "engine/audit_log.h"
#include "sandbox/runtime.h"
#include "sandboxd/fileops.h"
#include "store/store.h"

namespace pincer::engine {

inline constexpr int64_t kMaxFileBytes = 10 << 20;

class Files {
 public:
  Files(store::Store& store, AuditLog& audit, std::string workspaces_dir,
        std::optional<sandbox::FileOwner> owner = std::nullopt)
      : store_(store), audit_(audit), workspaces_dir_(std::move(workspaces_dir)), owner_(owner) {}

  Result<std::vector<fileops::Entry>> List(const std::string& agent_id,
                                           const std::string& session_id, const std::string& path);
  struct Content {
    std::string bytes;
    bool truncated = false;
  };
  Result<Content> Read(const std::string& agent_id, const std::string& session_id,
                       const std::string& path);
  Task<Result<int64_t>> Write(const CallContext& ctx, std::string agent_id, std::string session_id,
                              std::string path, std::string bytes);
  Task<Result<void>> Delete(const CallContext& ctx, std::string agent_id, std::string session_id,
                            std::string path);

 private:
  // The session's workspace root, after checking the ids. `create` makes the directory.
  Result<fileops::Root> Root(const std::string& agent_id, const std::string& session_id,
                             bool create);

  store::Store& store_;
  AuditLog& audit_;
  std::string workspaces_dir_;
  std::optional<sandbox::FileOwner> owner_;
};

// Maps a fileops error to an API error (invalid_path 400, file_not_found 404, …).
Error FileError(const fileops::OpError& e);

}  // namespace pincer::engine
