#pragma once

// Normalisation of provider failures into clear errors (see the codes in types.h).

#include <string_view>

#include "common/result.h"
#include "http/message.h"

namespace pincer::llm {

// An error for a non-2xx provider response. `body` is the provider's error body; `key_env`
// names the API-key variable so auth failures say what to check.
Error ProviderHttpError(std::string_view provider, int status, std::string_view body,
                        const http::Headers& headers, std::string_view key_env);

// An error for a transport failure of the HTTP client (connection, timeout, cancel).
Error ProviderTransportError(std::string_view provider, const Error& e);

// An error carried inside a successful stream (e.g. Anthropic's `event: error`).
Error ProviderStreamError(std::string_view provider, std::string_view type,
                          std::string_view message);

}  // namespace pincer::llm
