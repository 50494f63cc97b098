#pragma once

// Tool: something the model can call. Built-in sandbox tools (bash, read, write, …) and MCP
// tools implement it; the agent loop dispatches through ToolRegistry. A tool reports failure
// as an error *result* for the model, never as a failed session.

#include <memory>
#include <string>
#include <vector>

#include "common/cancel.h"
#include "common/json.h"
#include "common/task.h"
#include "engine/llm/types.h"

namespace pincer::engine::tools {

struct ToolContext {
  std::string session_id;
  std::string agent_id;
  CancelToken* cancel = nullptr;  // fires when the turn is cancelled
  // The session's environment (sandbox image and network policy).
  std::string environment_id;
  std::string network = "unrestricted";
  std::string image;
};

struct ToolResult {
  std::string content;
  bool is_error = false;
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual const llm::ToolSpec& spec() const = 0;
  virtual Task<ToolResult> Run(const json::object& arguments, ToolContext& context) = 0;
};

// Owns the tools known to this server. Lookups are thread-safe once tools are added.
class ToolRegistry {
 public:
  void Add(std::unique_ptr<Tool> tool);
  Tool* Find(std::string_view name) const;
  // The tools an agent may use: those named in `enabled`, or every tool when it is empty.
  // Unknown names are skipped.
  std::vector<Tool*> ForAgent(const std::vector<std::string>& enabled) const;

 private:
  std::vector<std::unique_ptr<Tool>> tools_;
};

// Deterministic tools for tests and demos (enabled by PINCER_ENABLE_TEST_TOOLS=1):
//   test_echo {text}      → returns text
//   test_sleep {ms}       → waits ms (honours cancel), returns "slept <ms> ms"
//   test_fail {message}   → returns an error result
std::vector<std::unique_ptr<Tool>> MakeTestTools();

}  // namespace pincer::engine::tools
