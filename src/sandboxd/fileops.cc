#include "sandboxd/fileops.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <regex>
#include <utility>

namespace pincer::fileops {
namespace {

template <typename T>
OpResult<T> FromErrno(const std::string& what, int err) {
  std::string code = "io_error";
  if (err == ENOENT) code = "not_found";
  if (err == EXDEV || err == ELOOP) code = "invalid_path";  // escape attempt via .. or symlink
  if (err == EISDIR) code = "is_a_directory";
  if (err == ENOTDIR) code = "not_found";
  if (err == EEXIST) code = "exists";
  if (err == ENOTEMPTY) code = "not_empty";
  std::string msg = code == "invalid_path" ? what + ": path escapes the workspace"
                                           : what + ": " + std::strerror(err);
  return OpResult<T>::Fail(code, msg);
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::string TypeOf(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  return "other";
}

Entry MakeEntry(std::string name, std::string path, const struct stat& st) {
  Entry e;
  e.name = std::move(name);
  e.path = std::move(path);
  e.type = TypeOf(st.st_mode);
  e.size = st.st_size;
  e.mtime_ms = int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  return e;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "." ? name : dir + "/" + name;
}

bool ReadAll(int fd, std::string& out, int64_t max_bytes, bool& truncated) {
  char buf[65536];
  truncated = false;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    size_t room = static_cast<size_t>(max_bytes) - std::min<size_t>(out.size(), max_bytes);
    out.append(buf, std::min<size_t>(room, static_cast<size_t>(n)));
    if (static_cast<size_t>(n) > room) {
      truncated = true;
      return true;
    }
  }
}

}  // namespace

OpResult<Root> Root::Open(const std::string& dir, std::string sandbox_prefix) {
  int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FromErrno<Root>("open " + dir, errno);
  return OpResult<Root>::Ok(Root(fd, std::move(sandbox_prefix)));
}

Root::Root(Root&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), prefix_(std::move(o.prefix_)), owner_(o.owner_) {}
Root& Root::operator=(Root&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    prefix_ = std::move(o.prefix_);
    owner_ = o.owner_;
  }
  return *this;
}
Root::~Root() {
  if (fd_ >= 0) close(fd_);
}

OpResult<std::string> Root::Relative(const std::string& path) const {
  if (path.empty()) return OpResult<std::string>::Fail("invalid_path", "empty path");
  if (path.find('\0') != std::string::npos)
    return OpResult<std::string>::Fail("invalid_path", "NUL in path");
  if (path.size() > 4096) return OpResult<std::string>::Fail("invalid_path", "path too long");
  std::string p = path;
  if (p[0] == '/') {
    if (!prefix_.empty() && (p == prefix_ || p.rfind(prefix_ + "/", 0) == 0)) {
      p = p.substr(prefix_.size());
      while (!p.empty() && p[0] == '/') p.erase(0, 1);
      if (p.empty()) p = ".";
    } else {
      return OpResult<std::string>::Fail("invalid_path",
                                         path + ": absolute paths must be under " + prefix_);
    }
  }
  // Lexical check first, so "a/../../x" is an escape even when "a" does not exist.
  std::string out;
  int depth = 0;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    std::string_view seg(p.data() + start, (slash == std::string::npos ? p.size() : slash) - start);
    if (!seg.empty() && seg != ".") {
      depth += seg == ".." ? -1 : 1;
      if (depth < 0)
        return OpResult<std::string>::Fail("invalid_path", path + ": path escapes the workspace");
      if (!out.empty()) out += '/';
      out += seg;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return OpResult<std::string>::Ok(out.empty() ? "." : out);
}

int Root::OpenBeneath(const std::string& rel, int flags, int mode) const {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = static_cast<uint64_t>(mode);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, fd_, rel.c_str(), &how, sizeof(how)));
}

OpResult<ReadResult> Root::Read(const std::string& path, int64_t offset_line, int64_t limit_lines,
                                int64_t max_bytes) const {
  auto rel = Relative(path);
  if (!rel.ok()) return OpResult<ReadResult>::Fail(rel.error.code, rel.error.message);
  Fd f(OpenBeneath(*rel.value, O_RDONLY));
  if (f.fd < 0) return FromErrno<ReadResult>(path, errno);
  struct stat st;
  if (fstat(f.fd, &st) != 0) return FromErrno<ReadResult>(path, errno);
  if (S_ISDIR(st.st_mode))
    return OpResult<ReadResult>::Fail("is_a_directory", path + " is a directory");
  if (!S_ISREG(st.st_mode))
    return OpResult<ReadResult>::Fail("not_a_file", path + " is not a regular file");
  ReadResult r;
  r.size = st.st_size;
  bool line_mode = offset_line > 0 || limit_lines > 0;
  std::string all;
  bool truncated = false;
  if (!ReadAll(f.fd, all, line_mode ? (int64_t{1} << 30) : max_bytes, truncated)) {
    return FromErrno<ReadResult>(path, errno);
  }
  if (!line_mode) {
    r.content = std::move(all);
    r.truncated = truncated;
    r.total_lines = std::count(r.content.begin(), r.content.end(), '\n');
    return OpResult<ReadResult>::Ok(std::move(r));
  }
  int64_t first = std::max<int64_t>(offset_line, 1);
  int64_t line = 1;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    size_t end = nl == std::string::npos ? all.size() : nl + 1;
    // Lines are contiguous from `first`: after the first line that does not fit, none follows
    // (a later, shorter line would be taken for the one that was left out).
    if (line >= first && (limit_lines <= 0 || line < first + limit_lines) && !r.truncated) {
      if (static_cast<int64_t>(r.content.size() + (end - pos)) > max_bytes) {
        r.truncated = true;
      } else {
        r.content.append(all, pos, end - pos);
      }
    }
    pos = end;
    ++line;
  }
  r.total_lines = line - 1;
  if (limit_lines > 0 && first + limit_lines <= r.total_lines) r.truncated = true;
  return OpResult<ReadResult>::Ok(std::move(r));
}

OpResult<int64_t> Root::Write(const std::string& path, const std::string& content,
                              bool create_dirs) const {
  auto rel = Relative(path);
  if (!rel.ok()) return OpResult<int64_t>::Fail(rel.error.code, rel.error.message);
  if (*rel.value == ".")
    return OpResult<int64_t>::Fail("invalid_path", "cannot write the workspace root");
  if (create_dirs) {
    const std::string& p = *rel.value;
    for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      std::string dir = p.substr(0, slash);
      Fd d(OpenBeneath(dir, O_PATH | O_DIRECTORY));
      if (d.fd >= 0) continue;
      if (errno != ENOENT) return FromErrno<int64_t>(dir, errno);
      // mkdirat follows nothing in the last component; the parent was checked beneath the root.
      size_t parent_end = dir.rfind('/');
      std::string parent = parent_end == std::string::npos ? "." : dir.substr(0, parent_end);
      std::string leaf = parent_end == std::string::npos ? dir : dir.substr(parent_end + 1);
      Fd pd(OpenBeneath(parent, O_PATH | O_DIRECTORY));
      if (pd.fd < 0) return FromErrno<int64_t>(parent, errno);
      if (mkdirat(pd.fd, leaf.c_str(), 0755) != 0) {
        if (errno != EEXIST) return FromErrno<int64_t>(dir, errno);
      } else if (owner_) {
        (void)!fchownat(pd.fd, leaf.c_str(), owner_->first, owner_->second, AT_SYMLINK_NOFOLLOW);
      }
    }
  }
  // O_NOFOLLOW on top of RESOLVE_BENEATH: never write through a final symlink.
  Fd f(OpenBeneath(*rel.value, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644));
  if (f.fd < 0) return FromErrno<int64_t>(path, errno);
  if (owner_) (void)!fchown(f.fd, owner_->first, owner_->second);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = write(f.fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return FromErrno<int64_t>(path, errno);
    }
    off += static_cast<size_t>(n);
  }
  return OpResult<int64_t>::Ok(static_cast<int64_t>(content.size()));
}

OpResult<int64_t> Root::Edit(const std::string& path, const std::string& old_text,
                             const std::string& new_text, bool replace_all) const {
  if (old_text.empty())
    return OpResult<int64_t>::Fail("invalid_argument", "old text must not be empty");
  auto current = Read(path, 0, 0, int64_t{1} << 30);
  if (!current.ok()) return OpResult<int64_t>::Fail(current.error.code, current.error.message);
  std::string& text = current.value->content;
  std::vector<size_t> hits;
  for (size_t pos = text.find(old_text); pos != std::string::npos;
       pos = text.find(old_text, pos + old_text.size())) {
    hits.push_back(pos);
  }
  if (hits.empty())
    return OpResult<int64_t>::Fail("no_match", "the text to replace was not found in " + path);
  if (hits.size() > 1 && !replace_all) {
    return OpResult<int64_t>::Fail("ambiguous", "the text to replace occurs " +
                                                    std::to_string(hits.size()) + " times in " +
                                                    path + "; add context or set replace_all");
  }
  std::string out;
  out.reserve(text.size() + hits.size() * new_text.size());
  size_t prev = 0;
  for (size_t h : hits) {
    out.append(text, prev, h - prev);
    out += new_text;
    prev = h + old_text.size();
  }
  out.append(text, prev, std::string::npos);
  auto written = Write(path, out, false);
  if (!written.ok()) return OpResult<int64_t>::Fail(written.error.code, written.error.message);
  return OpResult<int64_t>::Ok(static_cast<int64_t>(hits.size()));
}

OpResult<std::vector<Entry>> Root::List(const std::string& path) const {
  auto rel = Relative(path);
  if (!rel.ok()) return OpResult<std::vector<Entry>>::Fail(rel.error.code, rel.error.message);
  int fd = OpenBeneath(*rel.value, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return FromErrno<std::vector<Entry>>(path, errno);
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    return FromErrno<std::vector<Entry>>(path, errno);
  }
  std::vector<Entry> out;
  while (dirent* de = readdir(d)) {
    std::string name = de->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (fstatat(dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    out.push_back(MakeEntry(name, Join(*rel.value, name), st));
  }
  closedir(d);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    if ((a.type == "dir") != (b.type == "dir")) return a.type == "dir";
    return a.name < b.name;
  });
  return OpResult<std::vector<Entry>>::Ok(std::move(out));
}

OpResult<Entry> Root::Stat(const std::string& path) const {
  auto rel = Relative(path);
  if (!rel.ok()) return OpResult<Entry>::Fail(rel.error.code, rel.error.message);
  Fd f(OpenBeneath(*rel.value, O_PATH | O_NOFOLLOW));
  if (f.fd < 0) return FromErrno<Entry>(path, errno);
  struct stat st;
  if (fstat(f.fd, &st) != 0) return FromErrno<Entry>(path, errno);
  std::string name =
      rel.value->substr(rel.value->rfind('/') == std::string::npos ? 0 : rel.value->rfind('/') + 1);
  return OpResult<Entry>::Ok(MakeEntry(name, *rel.value, st));
}

OpResult<bool> Root::Remove(const std::string& path, bool recursive) const {
  auto rel = Relative(path);
  if (!rel.ok()) return OpResult<bool>::Fail(rel.error.code, rel.error.message);
  if (*rel.value == ".")
    return OpResult<bool>::Fail("invalid_path", "cannot delete the workspace root");
  size_t slash = rel.value->rfind('/');
  std::string parent = slash == std::string::npos ? "." : rel.value->substr(0, slash);
  std::string leaf = slash == std::string::npos ? *rel.value : rel.value->substr(slash + 1);
  // "sub/.." would unlink entries of the directory above sub (even the root's).
  if (leaf == "..")
    return OpResult<bool>::Fail("invalid_path", path + ": a path ending in .. cannot be deleted");
  Fd pd(OpenBeneath(parent, O_PATH | O_DIRECTORY));
  if (pd.fd < 0) return FromErrno<bool>(path, errno);
  struct stat st;
  if (fstatat(pd.fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return FromErrno<bool>(path, errno);
  if (S_ISDIR(st.st_mode)) {
    if (recursive) {
      auto entries = List(*rel.value);
      if (!entries.ok()) return OpResult<bool>::Fail(entries.error.code, entries.error.message);
      for (const auto& e : *entries.value) {
        auto r = Remove(e.path, true);
        if (!r.ok()) return r;
      }
    }
    if (unlinkat(pd.fd, leaf.c_str(), AT_REMOVEDIR) != 0) return FromErrno<bool>(path, errno);
  } else if (unlinkat(pd.fd, leaf.c_str(), 0) != 0) {
    return FromErrno<bool>(path, errno);
  }
  return OpResult<bool>::Ok(true);
}

bool GlobMatch(const std::string& pattern, const std::string& path) {
  // Split on '/', let "**" swallow zero or more segments.
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
      size_t slash = s.find('/', start);
      parts.push_back(s.substr(start, slash - start));
      if (slash == std::string::npos) return parts;
      start = slash + 1;
    }
  };
  std::vector<std::string> pp = split(pattern), sp = split(path);
  std::function<bool(size_t, size_t)> match = [&](size_t i, size_t j) -> bool {
    if (i == pp.size()) return j == sp.size();
    if (pp[i] == "**") {
      for (size_t k = j; k <= sp.size(); ++k) {
        if (match(i + 1, k)) return true;
      }
      return false;
    }
    if (j == sp.size()) return false;
    if (fnmatch(pp[i].c_str(), sp[j].c_str(), FNM_PERIOD) != 0) return false;
    return match(i + 1, j + 1);
  };
  return match(0, 0);
}

OpResult<std::vector<std::string>> Root::Glob(const std::string& pattern, const std::string& path,
                                              size_t max_results) const {
  auto base = Relative(path);
  if (!base.ok())
    return OpResult<std::vector<std::string>>::Fail(base.error.code, base.error.message);
  std::vector<std::string> out;
  std::vector<std::string> stack{*base.value};
  size_t visited = 0;
  while (!stack.empty() && out.size() < max_results && visited < 100'000) {
    std::string dir = stack.back();
    stack.pop_back();
    auto entries = List(dir);
    if (!entries.ok()) continue;
    for (const auto& e : *entries.value) {
      ++visited;
      std::string rel_to_base = *base.value == "." ? e.path : e.path.substr(base.value->size() + 1);
      if (e.type == "dir") {
        if (e.name != ".git" && e.name != "node_modules") stack.push_back(e.path);
      } else if (GlobMatch(pattern, rel_to_base) && out.size() < max_results) {
        out.push_back(e.path);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return OpResult<std::vector<std::string>>::Ok(std::move(out));
}

OpResult<std::vector<GrepMatch>> Root::Grep(const std::string& pattern, const std::string& path,
                                            const std::string& file_glob,
                                            size_t max_matches) const {
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return OpResult<std::vector<GrepMatch>>::Fail("invalid_argument",
                                                  std::string("bad regex: ") + e.what());
  }
  std::vector<std::string> files;
  auto st = Stat(path);
  if (!st.ok()) return OpResult<std::vector<GrepMatch>>::Fail(st.error.code, st.error.message);
  if (st.value->type == "file") {
    files.push_back(st.value->path);
  } else {
    auto found =
        Glob(file_glob.empty()
                 ? "**/*"
                 : (file_glob.find('/') == std::string::npos ? "**/" + file_glob : file_glob),
             path, 20'000);
    if (!found.ok())
      return OpResult<std::vector<GrepMatch>>::Fail(found.error.code, found.error.message);
    files = std::move(*found.value);
  }
  std::vector<GrepMatch> out;
  for (const auto& f : files) {
    auto content = Read(f, 0, 0, 8 << 20);
    if (!content.ok()) continue;
    const std::string& text = content.value->content;
    if (text.find('\0') != std::string::npos) continue;  // binary
    int64_t line = 0;
    size_t pos = 0;
    while (pos <= text.size() && out.size() < max_matches) {
      size_t nl = text.find('\n', pos);
      std::string l = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      ++line;
      if (std::regex_search(l, re))
        out.push_back({f, line, l.size() > 2000 ? l.substr(0, 2000) : l});
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    if (out.size() >= max_matches) break;
  }
  return OpResult<std::vector<GrepMatch>>::Ok(std::move(out));
}

}  // namespace pincer::fileops
