// libFuzzer target: JSON request bodies through the parser and the domain validators.
//
// The input is a request body. It goes through pincer::ParseJson (UTF-8 check, depth limit,
// Boost.JSON), then through every body validator the native API has: ParseAgentCreate,
// ParseAgentUpdate (against a default spec and against the spec the same body creates) and
// ParseEnvironmentCreate.
//
// Invariants (violations trap):
//  - a parsed value serializes and parses back to an equal value. (Boost.JSON 1.81 reads
//    "1e999" as inf and "0e999" as NaN and writes them as Infinity / NaN, which is not JSON:
//    ParseJson must reject such numbers, or echoed fields such as mcpServers.*.env store a
//    spec that can no longer be loaded.)
//  - a rejected body is kInvalidArgument with a message, and its details (if any) are JSON;
//  - an accepted agent spec survives the storage round trip: AgentSpecToStorage →
//    AgentSpecFromStorage succeeds and stores back an equal document (doubles within an ulp),
//    and the API form (AgentToJson) is valid JSON; the same (exactly) for environments;
//  - a body that creates a spec, sent back as an update with "version", is accepted and
//    changes nothing (SameSpec), which is what no-op update detection relies on.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json.h"
#include "domain/agent.h"
#include "domain/environment.h"

namespace {

namespace json = pincer::json;
using pincer::ErrorCode;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool IsNumber(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

// Structural equality, with numbers compared by value whatever their kind (a serializer may
// write 2.0 as "2", which parses back as an integer): integers exactly, doubles to within an
// ulp or so (Boost.JSON 1.81 does not parse every double correctly rounded).
bool SameValue(const json::value& a, const json::value& b) {
  if (IsNumber(a) && IsNumber(b)) {
    if (!a.is_double() && !b.is_double()) {
      if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
      if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
      return false;  // one is negative, the other > INT64_MAX
    }
    double x = a.to_number<double>(), y = b.to_number<double>();
    if (std::isinf(x) || std::isinf(y) || std::isnan(x) || std::isnan(y)) return false;
    return x == y || std::fabs(x - y) <= std::fabs(x) * 1e-15;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::null:
      return true;
    case json::kind::bool_:
      return a.get_bool() == b.get_bool();
    case json::kind::string:
      return a.get_string() == b.get_string();
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!SameValue(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        const json::value* other = y.if_contains(kv.key());
        if (other == nullptr || !SameValue(kv.value(), *other)) return false;
      }
      return true;
    }
    default:
      return false;  // numbers handled above
  }
}

template <typename T>
void CheckRejection(const pincer::Result<T>& r) {
  if (r) return;
  Check(r.error().code == ErrorCode::kInvalidArgument);
  Check(!r.error().message.empty());
  if (!r.error().details_json.empty()) {
    // The details tree nests one level per '.' in a field path; allow any depth here.
    auto details = pincer::ParseJson(r.error().details_json, SIZE_MAX);
    Check(details.has_value() && details->is_object());
  }
}

bool OneOf(const std::string& v, std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed) {
    if (v == a) return true;
  }
  return false;
}

void CheckSpec(const pincer::domain::AgentSpec& spec) {
  using pincer::domain::AgentSpec;
  Check(!spec.model.empty() && spec.model.size() <= 256);
  Check(OneOf(spec.thinking_level, {"off", "low", "medium", "high", "xhigh"}));
  Check(OneOf(spec.permission_policy.type, {"always_allow", "deny", "always_ask"}));
  if (spec.permission_policy.type == "deny") {
    Check(spec.permission_policy.tools.has_value() && !spec.permission_policy.tools->empty());
  }
  Check(spec.max_subagent_depth >= 0 && spec.max_subagent_depth <= 16);

  // Storage round trip: loads, and stores back the same document. Not byte-identical
  // (SameSpec) because Boost.JSON 1.81 does not parse every double correctly rounded: a
  // 17-digit number can come back one ulp off (e.g. 1.8446744073709552E72 → ...555E72).
  std::string stored = pincer::domain::AgentSpecToStorage(spec);
  auto loaded = pincer::domain::AgentSpecFromStorage(stored);
  Check(loaded.has_value());
  auto before = pincer::ParseJson(stored, SIZE_MAX);
  auto after = pincer::ParseJson(pincer::domain::AgentSpecToStorage(*loaded), SIZE_MAX);
  Check(before.has_value() && after.has_value());
  Check(SameValue(*before, *after));

  // API form.
  pincer::domain::Agent agent;
  agent.id = "agt_fuzz";
  agent.spec = spec;
  std::string api = pincer::ToJson(pincer::domain::AgentToJson(agent));
  Check(pincer::ParseJson(api, SIZE_MAX).has_value());
}

void CheckEnvironment(const pincer::domain::Environment& env) {
  Check(!env.name.empty() && env.name.size() <= 256);
  Check(env.description.size() <= 500);
  Check(OneOf(env.networking.type, {"unrestricted", "limited", "none"}));
  for (const auto& h : env.networking.allowed_hosts) {
    Check(pincer::domain::IsValidAllowedHost(h));
  }

  std::string stored = pincer::domain::EnvironmentSpecToStorage(env);
  pincer::domain::Environment loaded;
  loaded.name = env.name;
  auto ok = pincer::domain::EnvironmentSpecFromStorage(stored, loaded);
  Check(ok.has_value());
  Check(pincer::domain::EnvironmentSpecToStorage(loaded) == stored);

  std::string api = pincer::ToJson(pincer::domain::EnvironmentToJson(env));
  Check(pincer::ParseJson(api, SIZE_MAX).has_value());
}

const pincer::domain::AgentSpec& DefaultSpec() {
  static const auto* spec = [] {
    auto body = pincer::ParseJson(R"({"model":"claude-sonnet-4-5"})");
    Check(body.has_value());
    auto parsed = pincer::domain::ParseAgentCreate(*body);
    Check(parsed.has_value());
    return new pincer::domain::AgentSpec(std::move(*parsed));
  }();
  return *spec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = pincer::ParseJson(text);
  CheckRejection(parsed);
  if (!parsed) return 0;
  const json::value& body = *parsed;

  // Serialization round trip of the parsed value.
  auto again = pincer::ParseJson(pincer::ToJson(body));
  Check(again.has_value());
  Check(SameValue(body, *again));

  auto created = pincer::domain::ParseAgentCreate(body);
  CheckRejection(created);
  if (created) CheckSpec(*created);

  auto updated = pincer::domain::ParseAgentUpdate(body, DefaultSpec());
  CheckRejection(updated);
  if (updated) {
    Check(updated->expected_version >= 1);
    CheckSpec(updated->spec);
  }

  if (created && body.is_object()) {
    // Re-sending the create body as an update of the spec it created is a no-op.
    json::object patch = body.get_object();
    patch["version"] = 1;
    auto noop = pincer::domain::ParseAgentUpdate(json::value(std::move(patch)), *created);
    Check(noop.has_value());
    Check(pincer::domain::SameSpec(noop->spec, *created));
  }

  auto env = pincer::domain::ParseEnvironmentCreate(body);
  CheckRejection(env);
  if (env) CheckEnvironment(*env);
  return 0;
}
