#pragma once

// Prices per million tokens (USD) for known models, from the versioned table in prices.json
// (embedded at build time; PINCER_PRICES_FILE replaces it). Used when the provider does not
// report the cost itself.

#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "domain/session.h"

namespace pincer::llm {

struct Price {
  double input = 0, output = 0, cache_read = 0, cache_write = 0;  // $ per 1M tokens
};

class PriceTable {
 public:
  // Parses a table: {"version": "...", "models": {"provider/model": {input, output, cache_read?,
  // cache_write?}}}. Missing cache prices default to the input price.
  static Result<PriceTable> Parse(std::string_view json_text);
  // The built-in table.
  static const PriceTable& Default();

  std::optional<Price> Find(std::string_view model) const;
  // Cost of `usage` for `model`; 0 when the model is not in the table.
  double Cost(std::string_view model, const domain::Usage& usage) const;
  const std::string& version() const { return version_; }
  const std::map<std::string, Price, std::less<>>& models() const { return models_; }

 private:
  std::string version_;
  std::map<std::string, Price, std::less<>> models_;
};

}  // namespace pincer::llm
