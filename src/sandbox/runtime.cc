#include "sandbox/runtime.h"

#include <filesystem>

#include "common/clock.h"
#include "common/ids.h"

namespace pincer::sandbox {

Result<std::string> PrepareSandbox(const SandboxSpec& spec, const std::string& runtime,
                                   const std::string& state_dir, SandboxInfo& info) {
  info.id = NewId("sbx");
  info.runtime = runtime;
  info.session_id = spec.session_id;
  info.environment_id = spec.environment_id;
  info.workspace_dir = spec.workspace_dir;
  info.created_at = SystemClock().NowMs();
  std::string dir = state_dir + "/" + info.id;
  std::error_code ec;
  std::filesystem::create_directories(dir + "/run", ec);
  if (!ec) std::filesystem::create_directories(spec.workspace_dir, ec);
  if (ec) {
    return Error(ErrorCode::kUnavailable, "sandbox_failed",
                 runtime + " sandbox: create sandbox directories: " + ec.message());
  }
  info.endpoint = "unix:" + dir + "/run/sandboxd.sock";
  return dir;
}

}  // namespace pincer::sandbox
