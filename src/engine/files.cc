#include "engine/files.h"

#include <unistd.h>

#include <filesystem>

#include "common/ids.h"
#include "domain/session.h"

namespace pincer::engine {

Error FileError(const fileops::OpError& e) {
  if (e.code == "not_found") return NotFound("file_not_found", e.message);
  if (e.code == "invalid_path") return InvalidArgument(e.message, "invalid_path");
  if (e.code == "is_a_directory" || e.code == "not_a_file" || e.code == "not_empty") {
    return InvalidArgument(e.message, e.code);
  }
  return Internal(e.message);
}

namespace {

// fileops lets tools use ".." inside the workspace ("src/../README.md"); the files API does
// not: "sub/.." names the workspace root, which DELETE must never get.
Result<void> CheckNoDotDot(const std::string& path) {
  for (size_t start = 0; start <= path.size();) {
    size_t slash = path.find('/', start);
    if (path.compare(start, slash == std::string::npos ? std::string::npos : slash - start, "..") ==
        0) {
      return InvalidArgument(path + ": \"..\" segments are not allowed", "invalid_path");
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Ok();
}

}  // namespace

Result<fileops::Root> Files::Root(const std::string& agent_id, const std::string& session_id,
                                  bool create) {
  if (session_id.empty()) {
    return InvalidArgument("session_id query param required", "missing_session_id");
  }
  // Validated before it goes anywhere near a path (the seed allowed session_id=../..).
  if (!IsValidId(session_id, domain::kSessionIdPrefix)) {
    return NotFound("session_not_found", "session " + session_id + " not found");
  }
  ASSIGN_OR_RETURN(auto s, store_.Read()->GetSession(session_id));
  if (!s || s->agent_id != agent_id)
    return NotFound("session_not_found", "session " + session_id + " not found for this agent");
  std::string dir = workspaces_dir_ + "/" + session_id;
  if (create) {
    std::error_code ec;
    if (std::filesystem::create_directories(dir, ec) && owner_) {
      (void)!chown(dir.c_str(), owner_->uid, owner_->gid);
    }
  }
  auto root = fileops::Root::Open(dir);
  if (!root.ok()) {
    if (root.error.code == "not_found")
      return NotFound("file_not_found", "the session has no files yet");
    return FileError(root.error);
  }
  if (owner_) root.value->SetOwner(owner_->uid, owner_->gid);
  return std::move(*root.value);
}

Result<std::vector<fileops::Entry>> Files::List(const std::string& agent_id,
                                                const std::string& session_id,
                                                const std::string& path) {
  auto root = Root(agent_id, session_id, false);
  if (!root) {
    if (root.error().wire_code == "file_not_found" && (path.empty() || path == "."))
      return std::vector<fileops::Entry>{};
    return std::move(root).error();
  }
  RETURN_IF_ERROR(CheckNoDotDot(path));
  auto r = root->List(path.empty() ? "." : path);
  if (!r.ok()) return FileError(r.error);
  return std::move(*r.value);
}

Result<Files::Content> Files::Read(const std::string& agent_id, const std::string& session_id,
                                   const std::string& path) {
  ASSIGN_OR_RETURN(auto root, Root(agent_id, session_id, false));
  RETURN_IF_ERROR(CheckNoDotDot(path));
  auto r = root.Read(path, 0, 0, kMaxFileBytes);
  if (!r.ok()) return FileError(r.error);
  return Content{std::move(r.value->content), r.value->truncated};
}

Task<Result<int64_t>> Files::Write(const CallContext& ctx, std::string agent_id,
                                   std::string session_id, std::string path, std::string bytes) {
  int64_t size = 0;
  auto r = co_await audit_.Mutate(
      ctx, "agent.file.write", agent_id, [&](store::Writer&, AuditLog::Entry& e) -> Result<void> {
        e.metadata["session_id"] = session_id;
        e.metadata["path"] = path;
        ASSIGN_OR_RETURN(auto root, Root(agent_id, session_id, true));
        RETURN_IF_ERROR(CheckNoDotDot(path));
        auto rel = root.Relative(path);
        if (!rel.ok()) return FileError(rel.error);
        if (*rel.value == ".")
          return InvalidArgument("cannot write the workspace root", "invalid_path");
        auto w = root.Write(path, bytes);
        if (!w.ok()) return FileError(w.error);
        size = *w.value;
        return Ok();
      });
  if (!r) co_return std::move(r).error();
  co_return size;
}

Task<Result<void>> Files::Delete(const CallContext& ctx, std::string agent_id,
                                 std::string session_id, std::string path) {
  co_return co_await audit_.Mutate(ctx, "agent.file.delete", agent_id,
                                   [&](store::Writer&, AuditLog::Entry& e) -> Result<void> {
                                     e.metadata["session_id"] = session_id;
                                     e.metadata["path"] = path;
                                     ASSIGN_OR_RETURN(auto root, Root(agent_id, session_id, false));
                                     RETURN_IF_ERROR(CheckNoDotDot(path));
                                     auto d = root.Remove(path, /*recursive=*/true);
                                     if (!d.ok()) return FileError(d.error);
                                     return Ok();
                                   });
}

}  // namespace pincer::engine
