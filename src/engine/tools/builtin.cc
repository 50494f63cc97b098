#include "engine/tools/builtin.h"

#include <iomanip>
#include <sstream>

namespace pincer::engine::tools {
namespace {

json::object Props(std::initializer_list<std::tuple<const char*, const char*, const char*>> props,
                   std::initializer_list<const char*> required) {
  json::object p;
  for (auto [name, type, desc] : props)
    p[name] = json::object{{"type", type}, {"description", desc}};
  json::array req;
  for (const char* r : required) req.emplace_back(r);
  return json::object{
      {"type", "object"}, {"properties", std::move(p)}, {"required", std::move(req)}};
}

std::string Str(const json::object& o, const char* k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t Int(const json::object& o, const char* k, int64_t def) {
  const auto* v = o.if_contains(k);
  if (v && v->is_int64()) return v->get_int64();
  if (v && v->is_double()) return static_cast<int64_t>(v->get_double());
  return def;
}

bool Bool(const json::object& o, const char* k) {
  const auto* v = o.if_contains(k);
  return v && v->is_bool() && v->get_bool();
}

// Shared plumbing: acquire the session's sandbox, make one sandboxd call, map failures.
class SandboxTool : public Tool {
 public:
  SandboxTool(sandbox::SandboxPool& pool, llm::ToolSpec spec)
      : pool_(pool), spec_(std::move(spec)) {}
  const llm::ToolSpec& spec() const override { return spec_; }

 protected:
  Task<Result<json::object>> Call(ToolContext& ctx, json::object request,
                                  std::function<void(const json::object&)> on_event = {}) {
    sandbox::EnvironmentSpec env{ctx.environment_id, ctx.network, ctx.image};
    auto lease = co_await pool_.Acquire(ctx.session_id, env);
    if (!lease) co_return std::move(lease).error();
    auto r = co_await lease->client->Call(std::move(request), std::move(on_event), ctx.cancel);
    pool_.EndUse(ctx.session_id);
    if (!r && r.error().wire_code == "sandbox_lost") {
      // The sandbox died mid-call: drop it so the next call gets a fresh one.
      co_await pool_.Evict(ctx.session_id, "lost");
      Error e = std::move(r).error();
      e.message += "; the next tool call will use a fresh sandbox (files in /workspace are kept)";
      co_return e;
    }
    co_return r;
  }
  static ToolResult Failure(const Error& e) { return ToolResult{e.ToString(), true}; }

  sandbox::SandboxPool& pool_;
  llm::ToolSpec spec_;
};

class BashTool final : public SandboxTool {
 public:
  BashTool(sandbox::SandboxPool& pool, BuiltinOptions o)
      : SandboxTool(pool,
                    {"bash",
                     "Runs a shell command in the session's sandbox (working directory "
                     "/workspace, which persists across calls). Returns stdout, stderr and "
                     "the exit code. Long-running commands are killed after `timeout` ms.",
                     Props({{"command", "string", "The shell command to run."},
                            {"timeout", "integer", "Milliseconds before the command is killed."},
                            {"description", "string", "What the command does, in a few words."}},
                           {"command"})}),
        options_(o) {}

  Task<ToolResult> Run(const json::object& args, ToolContext& ctx) override {
    std::string command = Str(args, "command");
    if (command.empty()) co_return ToolResult{"`command` is required", true};
    int64_t timeout = std::clamp<int64_t>(Int(args, "timeout", options_.bash_default_timeout_ms),
                                          1000, options_.bash_max_timeout_ms);
    json::object request{{"op", "exec"},
                         {"command", command},
                         {"timeout_ms", timeout},
                         {"max_output_bytes", options_.max_output_bytes}};
    auto r = co_await Call(ctx, std::move(request));
    if (!r) co_return Failure(r.error());
    std::string out(r->at("stdout").as_string());
    std::string err(r->at("stderr").as_string());
    std::ostringstream text;
    text << out;
    if (!err.empty())
      text << (out.empty() || out.back() == '\n' ? "" : "\n") << "[stderr]\n" << err;
    bool failed = false;
    if (r->at("timed_out").as_bool()) {
      text << "\n[killed: the command ran longer than " << timeout << " ms]";
      failed = true;
    } else if (r->at("exit_code").is_int64()) {
      int64_t code = r->at("exit_code").as_int64();
      if (code != 0) {
        text << "\n[exit code " << code << "]";
        if (code == 137) text << " (killed by SIGKILL: possibly out of memory)";
        failed = true;
      }
    } else {
      text << "\n[killed by " << r->at("signal").as_string() << "]";
      failed = true;
    }
    std::string s = text.str();
    co_return ToolResult{s.empty() ? "(no output)" : s, failed};
  }

 private:
  BuiltinOptions options_;
};

class ReadTool final : public SandboxTool {
 public:
  explicit ReadTool(sandbox::SandboxPool& pool)
      : SandboxTool(pool,
                    {"read",
                     "Reads a file from the workspace. Returns numbered lines. Use offset "
                     "(1-based line) and limit for large files.",
                     Props({{"file_path", "string",
                             "Path of the file (relative to /workspace or absolute under it)."},
                            {"offset", "integer", "First line to read (1-based)."},
                            {"limit", "integer", "Number of lines to read."}},
                           {"file_path"})}) {}

  Task<ToolResult> Run(const json::object& args, ToolContext& ctx) override {
    int64_t offset = Int(args, "offset", 0), limit = Int(args, "limit", 2000);
    json::object request{{"op", "read"},
                         {"path", Str(args, "file_path")},
                         {"offset", std::max<int64_t>(offset, 1)},
                         {"limit", limit},
                         {"max_bytes", 256 << 10}};
    auto r = co_await Call(ctx, std::move(request));
    if (!r) co_return Failure(r.error());
    std::string content(r->at("content").as_string());
    std::ostringstream out;
    int64_t line = std::max<int64_t>(offset, 1);
    size_t pos = 0;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      out << std::setw(6) << line++ << "\t"
          << content.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos) << "\n";
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    if (r->at("truncated").as_bool()) {
      out << "[file continues: " << r->at("total_lines").as_int64()
          << " lines in all; read more with offset]";
    }
    std::string s = out.str();
    co_return ToolResult{s.empty() ? "(empty file)" : s, false};
  }
};

class WriteTool final : public SandboxTool {
 public:
  explicit WriteTool(sandbox::SandboxPool& pool)
      : SandboxTool(
            pool,
            {"write",
             "Creates or overwrites a file in the workspace (parent directories are created).",
             Props({{"file_path", "string", "Path of the file."},
                    {"content", "string", "The full new content."}},
                   {"file_path", "content"})}) {}
  Task<ToolResult> Run(const json::object& args, ToolContext& ctx) override {
    json::object request{
        {"op", "write"}, {"path", Str(args, "file_path")}, {"content", Str(args, "content")}};
    auto r = co_await Call(ctx, std::move(request));
    if (!r) co_return Failure(r.error());
    co_return ToolResult{"wrote " + std::to_string(r->at("bytes").as_int64()) + " bytes to " +
                             Str(args, "file_path"),
                         false};
  }
};

class EditTool final : public SandboxTool {
 public:
  explicit EditTool(sandbox::SandboxPool& pool)
      : SandboxTool(pool, {"edit",
                           "Replaces an exact string in a file. Fails if the string is missing, or "
                           "appears more than once unless replace_all is true.",
                           Props({{"file_path", "string", "Path of the file."},
                                  {"old_string", "string", "The exact text to replace."},
                                  {"new_string", "string", "The replacement text."},
                                  {"replace_all", "boolean", "Replace every occurrence."}},
                                 {"file_path", "old_string", "new_string"})}) {}
  Task<ToolResult> Run(const json::object& args, ToolContext& ctx) override {
    json::object request{{"op", "edit"},
                         {"path", Str(args, "file_path")},
                         {"old", Str(args, "old_string")},
                         {"new", Str(args, "new_string")},
                         {"replace_all", Bool(args, "replace_all")}};
    auto r = co_await Call(ctx, std::move(request));
    if (!r) co_return Failure(r.error());
    co_return ToolResult{"replaced " + std::to_string(r->at("replacements").as_int64()) +
                             " occurrence(s) in " + Str(args, "file_path"),
                         false};
  }
};

class GlobTool final : public SandboxTool {
 public:
  explicit GlobTool(sandbox::SandboxPool& pool)
      : SandboxTool(
            pool, {"glob",
                   "Finds files by glob pattern (e.g. **/*.py) under a directory of the workspace.",
                   Props({{"pattern", "string", "The glob pattern."},
                          {"path", "string", "Directory to search (default: the workspace)."}},
                         {"pattern"})}) {}
  Task<ToolResult> Run(const json::object& args, ToolContext& ctx) override {
    std::string path = Str(args, "path");
    json::object request{
        {"op", "glob"}, {"pattern", Str(args, "pattern")}, {"path", path.empty() ? "." : path}};
    auto r = co_await Call(ctx, std::move(request));
    if (!r) co_return Failure(r.error());
    std::string out;
    for (const auto& m : r->at("matches").as_array()) out += std::string(m.as_string()) + "\n";
    co_return ToolResult{out.empty() ? "no files match" : out, false};
  }
};

class GrepTool final : public SandboxTool {
 public:
  explicit GrepTool(sandbox::SandboxPool& pool)
      : SandboxTool(
            pool,
            {"grep", "Searches file contents with a regular expression. Returns path:line:text.",
             Props({{"pattern", "string", "ECMAScript regular expression."},
                    {"path", "string", "File or directory to search (default: the workspace)."},
                    {"glob", "string", "Only search files matching this glob (e.g. *.ts)."}},
                   {"pattern"})}) {}
  Task<ToolResult> Run(const json::object& args, ToolContext& ctx) override {
    std::string path = Str(args, "path");
    json::object request{{"op", "grep"},
                         {"pattern", Str(args, "pattern")},
                         {"path", path.empty() ? "." : path},
                         {"glob", Str(args, "glob")}};
    auto r = co_await Call(ctx, std::move(request));
    if (!r) co_return Failure(r.error());
    std::string out;
    for (const auto& m : r->at("matches").as_array()) {
      const auto& o = m.as_object();
      out += std::string(o.at("path").as_string()) + ":" + std::to_string(o.at("line").as_int64()) +
             ":" + std::string(o.at("text").as_string()) + "\n";
    }
    co_return ToolResult{out.empty() ? "no matches" : out, false};
  }
};

class WebFetchTool final : public SandboxTool {
 public:
  explicit WebFetchTool(sandbox::SandboxPool& pool)
      : SandboxTool(pool, {"web_fetch",
                           "Fetches a URL from inside the sandbox (so the environment's network "
                           "policy applies) and returns the response body as text.",
                           Props({{"url", "string", "http:// or https:// URL."}}, {"url"})}) {}
  Task<ToolResult> Run(const json::object& args, ToolContext& ctx) override {
    std::string url = Str(args, "url");
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      co_return ToolResult{"url must start with http:// or https://", true};
    }
    json::object request{
        {"op", "exec"},
        {"argv", json::array{"curl", "-sS", "-L", "--max-time", "30", "--max-filesize", "5000000",
                             "-w", "\n[HTTP %{http_code}]", url}},
        {"timeout_ms", 40'000},
        {"max_output_bytes", 100'000}};
    auto r = co_await Call(ctx, std::move(request));
    if (!r) co_return Failure(r.error());
    std::string out(r->at("stdout").as_string());
    bool ok = r->at("exit_code").is_int64() && r->at("exit_code").as_int64() == 0;
    if (!ok) {
      co_return ToolResult{
          "fetch failed: " + std::string(r->at("stderr").as_string()) +
              (ctx.network == "none" ? " (this environment has no network access)" : ""),
          true};
    }
    co_return ToolResult{out, false};
  }
};

}  // namespace

std::vector<std::unique_ptr<Tool>> MakeBuiltinTools(sandbox::SandboxPool& pool,
                                                    BuiltinOptions options) {
  std::vector<std::unique_ptr<Tool>> out;
  out.push_back(std::make_unique<BashTool>(pool, options));
  out.push_back(std::make_unique<ReadTool>(pool));
  out.push_back(std::make_unique<WriteTool>(pool));
  out.push_back(std::make_unique<EditTool>(pool));
  out.push_back(std::make_unique<GlobTool>(pool));
  out.push_back(std::make_unique<GrepTool>(pool));
  out.push_back(std::make_unique<WebFetchTool>(pool));
  return out;
}

}  // namespace pincer::engine::tools
