#pragma once

// The built-in tools, named and shaped like Claude's toolset so models know them: bash, read,
// write, edit, glob, grep, web_fetch. Each runs inside the session's sandbox (acquired from the
// pool on first use), so the environment's isolation and network policy apply. Failures come
// back to the model as error results.

#include <memory>
#include <vector>

#include "engine/tools/tool.h"
#include "sandbox/pool.h"

namespace pincer::engine::tools {

struct BuiltinOptions {
  int64_t bash_default_timeout_ms = 120'000;
  int64_t bash_max_timeout_ms = 600'000;
  int64_t max_output_bytes = 100'000;
};

std::vector<std::unique_ptr<Tool>> MakeBuiltinTools(sandbox::SandboxPool& pool,
                                                    BuiltinOptions options = {});

}  // namespace pincer::engine::tools
