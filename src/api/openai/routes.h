#pragma once

// The OpenAI-compatible dialect: POST /v1/chat/completions and GET /v1/models. Errors use the
// OpenAI envelope {"error":{"message","type","code"}}.

#include "api/api.h"
#include "http/router.h"

namespace pincer::api::openai {

void AddChatRoutes(http::Router& router, const ApiDeps& deps);

// The OpenAI error envelope for `error`.
http::Response OpenAiError(const Error& error);

}  // namespace pincer::api::openai
