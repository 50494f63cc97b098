#pragma once

// CallContext: who is making an API call, for the audit log.

#include <string>

namespace pincer::engine {

struct CallContext {
  std::string request_id;
  std::string actor;  // "token:<8 hex>", "ip:<addr>" or "anonymous"
};

}  // namespace pincer::engine
