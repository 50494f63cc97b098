#include "engine/llm/pricing.h"

#include "common/json.h"

namespace pincer::llm {

extern const char kPricesJson[];  // prices_generated.cc (from prices.json)

Result<PriceTable> PriceTable::Parse(std::string_view text) {
  auto v = ParseJson(text);
  if (!v) return InvalidArgument("price table is not JSON: " + v.error().message, "invalid_prices");
  if (!v->is_object()) return InvalidArgument("price table must be an object", "invalid_prices");
  const auto& o = v->get_object();
  PriceTable t;
  if (const auto* ver = o.if_contains("version"); ver && ver->is_string())
    t.version_ = ver->get_string();
  const auto* models = o.if_contains("models");
  if (!models || !models->is_object())
    return InvalidArgument("price table needs \"models\"", "invalid_prices");
  for (const auto& kv : models->get_object()) {
    if (!kv.value().is_object()) {
      return InvalidArgument("price of " + std::string(kv.key()) + " must be an object",
                             "invalid_prices");
    }
    const auto& p = kv.value().get_object();
    auto num = [&](std::string_view k, double fallback) {
      const auto* x = p.if_contains(k);
      return x && x->is_number() ? x->to_number<double>() : fallback;
    };
    Price price;
    price.input = num("input", 0);
    price.output = num("output", 0);
    price.cache_read = num("cache_read", price.input);
    price.cache_write = num("cache_write", price.input);
    t.models_.emplace(std::string(kv.key()), price);
  }
  return t;
}

const PriceTable& PriceTable::Default() {
  static const PriceTable table = [] {
    auto t = Parse(kPricesJson);
    return t ? std::move(*t) : PriceTable{};
  }();
  return table;
}

std::optional<Price> PriceTable::Find(std::string_view model) const {
  auto it = models_.find(model);
  if (it == models_.end()) return std::nullopt;
  return it->second;
}

double PriceTable::Cost(std::string_view model, const domain::Usage& u) const {
  auto p = Find(model);
  if (!p) return 0;
  return (static_cast<double>(u.input) * p->input + static_cast<double>(u.output) * p->output +
          static_cast<double>(u.cache_read) * p->cache_read +
          static_cast<double>(u.cache_write) * p->cache_write) /
         1e6;
}

}  // namespace pincer::llm
