#pragma once

// ChatCompletions: the OpenAI Chat Completions adapter over agent sessions
// (POST /v1/chat/completions).
//
// The agent comes from the request headers; the session is sticky when a session key (header
// or `user`) is given — created with exactly that id when new — and otherwise ephemeral: the
// whole `messages` array (system prompt, earlier turns) is replayed into a throw-away session
// that is deleted afterwards. One turn runs per request: a busy session answers 409
// session_busy. The reply carries the text of every model response of the turn and its exact token
// usage summed over every model call of the turn.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/result.h"
#include "common/task.h"
#include "engine/agents.h"
#include "engine/event_bus.h"
#include "engine/sessions.h"

namespace pincer::engine {

struct ChatRequest {
  std::string agent_id;
  std::optional<std::string> session_key;
  json::value body;  // the OpenAI request body
};

// A turn started for a chat request, ready to be awaited or streamed.
struct ChatTurn {
  std::string session_id;
  std::string model;      // reported back as `model`
  int64_t after_seq = 0;  // the turn's events have seq > after_seq
  bool ephemeral = false;
  std::unique_ptr<Subscription> subscription;  // taken before the turn started
};

// Between the texts of two model responses of one turn, in the reply and in the stream.
inline constexpr std::string_view kStepSeparator = "\n\n";

// The outcome of a finished turn.
struct ChatResult {
  std::string content;   // every agent.message of the turn, joined by kStepSeparator
  std::string event_id;  // of the final agent.message ("" when none)
  int64_t created_ms = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::optional<std::string> error;  // set when the turn failed
  std::string error_code;            // its wire code (the failed status's error_code)
};

class ChatCompletions {
 public:
  ChatCompletions(store::Store& store, Agents& agents, Sessions& sessions, EventBus& bus,
                  Clock& clock)
      : store_(store), agents_(agents), sessions_(sessions), bus_(bus), clock_(clock) {}

  // Validates the request, prepares the session and starts the turn. Errors carry the wire
  // codes the OpenAI envelope reports (invalid_request_error, not_found, agent_archived,
  // session_busy, …).
  Task<Result<ChatTurn>> Start(const CallContext& ctx, ChatRequest request, bool deltas);
  // Waits for the turn to end (idle or failed) and collects its result.
  Task<Result<ChatResult>> Finish(ChatTurn& turn, std::chrono::milliseconds timeout);
  // Reads the turn's result from the log (after it ended).
  Result<ChatResult> Collect(const ChatTurn& turn);
  // Deletes an ephemeral session (no-op for sticky ones).
  Task<void> Cleanup(const CallContext& ctx, const ChatTurn& turn);
  // Stops the turn (a streaming client went away).
  Task<void> Abort(const CallContext& ctx, const ChatTurn& turn);

 private:
  store::Store& store_;
  Agents& agents_;
  Sessions& sessions_;
  EventBus& bus_;
  Clock& clock_;
};

// Turns a turn's live frames into the text a streaming chat client is sent: the token deltas,
// kStepSeparator between the texts of two model responses, and no repeats when a provider call
// is retried (its deltas restart; what was already sent is skipped). Together with Rest() the
// client gets exactly ChatResult::content.
class ChatTextStream {
 public:
  // The text to send for this frame ("" for none).
  std::string Feed(const Frame& frame);
  // What `content` (the turn's result) has beyond what was sent: deltas the stream missed.
  std::string Rest(const std::string& content) const;

 private:
  std::string Emit(std::string text);

  std::string sent_;       // everything sent
  std::string step_sent_;  // sent for the current model response
  std::string attempt_;    // the current provider attempt's text
};

// The text of a message's content (a string, or an array of {type:"text", text} parts).
std::string MessageText(const json::value& content);

}  // namespace pincer::engine
