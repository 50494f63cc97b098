#pragma once

// Path-safe file operations confined to one root directory (a session workspace).
//
// Every path is resolved beneath the root with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS):
// "..", absolute symlinks and symlinks pointing outside the root all fail, at every component,
// so a symlink planted by a sandboxed process cannot redirect the server or sandboxd. Paths are
// relative to the root; an absolute path is accepted only when it starts with the root's name
// inside the sandbox (`/workspace/...`).
//
// Used by pincer-sandboxd inside the sandbox and by the server's files API on the host.
// No dependencies beyond libc and the C++ library.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pincer::fileops {

struct OpError {
  std::string code;  // invalid_path | not_found | not_a_file | is_a_directory | too_large |
                     // no_match | ambiguous | exists | io_error
  std::string message;
};

template <typename T>
struct OpResult {
  std::optional<T> value;
  OpError error;
  bool ok() const { return value.has_value(); }
  static OpResult Ok(T v) { return OpResult{std::move(v), {}}; }
  static OpResult Fail(std::string code, std::string message) {
    return OpResult{std::nullopt, {std::move(code), std::move(message)}};
  }
};

struct Entry {
  std::string name;
  std::string path;  // relative to the root
  std::string type;  // file | dir | symlink | other
  int64_t size = 0;
  int64_t mtime_ms = 0;
};

struct ReadResult {
  std::string content;
  int64_t total_lines = 0;
  int64_t size = 0;
  bool truncated = false;
};

struct GrepMatch {
  std::string path;
  int64_t line = 0;
  std::string text;
};

class Root {
 public:
  // Opens `dir` as the root. `sandbox_prefix` is how the root is named inside the sandbox
  // (absolute paths under it are accepted), e.g. "/workspace".
  static OpResult<Root> Open(const std::string& dir, std::string sandbox_prefix = "/workspace");
  Root(Root&& o) noexcept;
  Root& operator=(Root&& o) noexcept;
  Root(const Root&) = delete;
  ~Root();

  // Normalises a client path to a relative one, or fails with invalid_path (NUL, empty,
  // absolute outside the prefix, a ".." that climbs above the root). Empty and "." segments
  // are dropped ("a//./b/." is "a/b"); ".." segments are kept for the kernel to resolve
  // beneath the root. "." is the root itself.
  OpResult<std::string> Relative(const std::string& path) const;

  // Files and directories created (or rewritten) by Write from now on are given this owner,
  // best effort: for a server writing into a workspace whose sandbox runs as another user.
  void SetOwner(uid_t uid, gid_t gid) { owner_ = {uid, gid}; }

  // The whole file (up to max_bytes), or lines [offset, offset+limit) (1-based offset).
  OpResult<ReadResult> Read(const std::string& path, int64_t offset_line = 0,
                            int64_t limit_lines = 0, int64_t max_bytes = 10 << 20) const;
  // Creates or replaces a file (and, with create_dirs, its parent directories).
  OpResult<int64_t> Write(const std::string& path, const std::string& content,
                          bool create_dirs = true) const;
  // Replaces `old_text` with `new_text`: fails with no_match when absent, ambiguous when found
  // more than once unless replace_all. Returns the number of replacements.
  OpResult<int64_t> Edit(const std::string& path, const std::string& old_text,
                         const std::string& new_text, bool replace_all) const;
  // Directory entries, directories first then by name.
  OpResult<std::vector<Entry>> List(const std::string& path) const;
  OpResult<Entry> Stat(const std::string& path) const;
  // Deletes a file or an empty directory (recursive for directories when `recursive`). A path
  // whose last segment is ".." is invalid_path: it would name a directory it does not spell.
  OpResult<bool> Remove(const std::string& path, bool recursive = false) const;
  // Files under `path` matching a glob (`*`, `?`, `[...]`, and `**` across directories).
  OpResult<std::vector<std::string>> Glob(const std::string& pattern, const std::string& path = ".",
                                          size_t max_results = 1000) const;
  // Lines matching an ECMAScript regex in files under `path` (optionally filtered by a glob).
  OpResult<std::vector<GrepMatch>> Grep(const std::string& regex, const std::string& path = ".",
                                        const std::string& file_glob = "",
                                        size_t max_matches = 500) const;

  int fd() const { return fd_; }

 private:
  Root(int fd, std::string prefix) : fd_(fd), prefix_(std::move(prefix)) {}
  // Opens `rel` beneath the root; -1 with errno on failure.
  int OpenBeneath(const std::string& rel, int flags, int mode = 0) const;
  int fd_ = -1;
  std::string prefix_;
  std::optional<std::pair<uid_t, gid_t>> owner_;
};

// Shell-style glob matching of a relative path ("**" matches any number of directories).
bool GlobMatch(const std::string& pattern, const std::string& path);

}  // namespace pincer::fileops
