#pragma once

// The HTTP exchange every streaming provider shares: POST a JSON body asking for
// Server-Sent Events, feed the response's events to the provider's decoder as they arrive, and
// turn transport failures and non-2xx answers into provider errors.

#include <string_view>

#include "common/cancel.h"
#include "common/result.h"
#include "common/task.h"
#include "engine/llm/sse_parser.h"
#include "http/client.h"

namespace pincer::llm {

// Sends `req` (content-type JSON and `accept: text/event-stream` are set here) and calls
// `on_event` for each event of a 2xx response. Errors: ProviderTransportError, or
// ProviderHttpError naming `key_env` for a non-2xx status.
Task<Result<void>> SendStreaming(http::HttpClient& client, http::ClientRequest req,
                                 SseParser::OnEvent on_event, CancelToken* cancel,
                                 std::string_view provider, std::string_view key_env);

}  // namespace pincer::llm
