#include "engine/llm/streaming_call.h"

#include "engine/llm/provider_errors.h"

namespace pincer::llm {

Task<Result<void>> SendStreaming(http::HttpClient& client, http::ClientRequest req,
                                 SseParser::OnEvent on_event, CancelToken* cancel,
                                 std::string_view provider, std::string_view key_env) {
  req.headers.Set("content-type", "application/json");
  req.headers.Set("accept", "text/event-stream");
  SseParser parser(std::move(on_event));
  http::BodySink sink = [&parser](std::string_view chunk) {
    parser.Feed(chunk);
    return true;
  };
  auto resp = co_await client.Send(std::move(req), sink, cancel);
  if (!resp) co_return ProviderTransportError(provider, resp.error());
  if (resp->status < 200 || resp->status >= 300) {
    co_return ProviderHttpError(provider, resp->status, resp->body, resp->headers, key_env);
  }
  parser.Finish();
  co_return Ok();
}

}  // namespace pincer::llm
