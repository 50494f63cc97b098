#include "engine/tools/tool.h"

#include "common/async.h"

namespace pincer::engine::tools {

void ToolRegistry::Add(std::unique_ptr<Tool> tool) { tools_.push_back(std::move(tool)); }

Tool* ToolRegistry::Find(std::string_view name) const {
  for (const auto& t : tools_) {
    if (t->spec().name == name) return t.get();
  }
  return nullptr;
}

std::vector<Tool*> ToolRegistry::ForAgent(const std::vector<std::string>& enabled) const {
  std::vector<Tool*> out;
  if (enabled.empty()) {
    for (const auto& t : tools_) out.push_back(t.get());
    return out;
  }
  for (const auto& name : enabled) {
    if (Tool* t = Find(name)) out.push_back(t);
  }
  return out;
}

namespace {

json::object Schema(std::initializer_list<std::pair<const char*, const char*>> props) {
  json::object properties;
  json::array required;
  for (auto [name, type] : props) {
    properties[name] = json::object{{"type", type}};
    required.emplace_back(name);
  }
  return json::object{
      {"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
}

class EchoTool final : public Tool {
 public:
  EchoTool()
      : spec_{"test_echo", "Returns its `text` argument unchanged (test tool).",
              Schema({{"text", "string"}})} {}
  const llm::ToolSpec& spec() const override { return spec_; }
  Task<ToolResult> Run(const json::object& args, ToolContext&) override {
    const auto* t = args.if_contains("text");
    if (t == nullptr) co_return ToolResult{ToJson(args), false};
    co_return ToolResult{t->is_string() ? std::string(t->get_string()) : ToJson(*t), false};
  }

 private:
  llm::ToolSpec spec_;
};

class SleepTool final : public Tool {
 public:
  SleepTool()
      : spec_{"test_sleep", "Waits `ms` milliseconds (test tool).", Schema({{"ms", "integer"}})} {}
  const llm::ToolSpec& spec() const override { return spec_; }
  Task<ToolResult> Run(const json::object& args, ToolContext& ctx) override {
    int64_t ms = 0;
    if (const auto* v = args.if_contains("ms"); v && v->is_int64())
      ms = std::clamp<int64_t>(v->get_int64(), 0, 600'000);
    AsyncSignal wake;
    CancelToken::Registration reg;
    if (ctx.cancel) reg = ctx.cancel->OnCancel([&wake] { wake.Notify(); });
    bool woken = co_await wake.Wait(std::chrono::milliseconds(ms));
    if (woken) co_return ToolResult{"cancelled", true};
    co_return ToolResult{"slept " + std::to_string(ms) + " ms", false};
  }

 private:
  llm::ToolSpec spec_;
};

class FailTool final : public Tool {
 public:
  FailTool()
      : spec_{"test_fail", "Always fails with `message` (test tool).",
              Schema({{"message", "string"}})} {}
  const llm::ToolSpec& spec() const override { return spec_; }
  Task<ToolResult> Run(const json::object& args, ToolContext&) override {
    const auto* m = args.if_contains("message");
    co_return ToolResult{m && m->is_string() ? std::string(m->get_string()) : "test_fail failed",
                         true};
  }

 private:
  llm::ToolSpec spec_;
};

}  // namespace

std::vector<std::unique_ptr<Tool>> MakeTestTools() {
  std::vector<std::unique_ptr<Tool>> out;
  out.push_back(std::make_unique<EchoTool>());
  out.push_back(std::make_unique<SleepTool>());
  out.push_back(std::make_unique<FailTool>());
  return out;
}

}  // namespace pincer::engine::tools
