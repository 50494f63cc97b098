#pragma once

// Builders for the events a session's log holds, and EmitEvent, which appends an event and
// publishes it to live subscribers once the write commits.

#include <string>
#include <string_view>
#include <vector>

#include "domain/session.h"
#include "engine/event_bus.h"
#include "engine/llm/types.h"
#include "store/store.h"

namespace pincer::engine {

// Appends `event` to `session`'s log (assigning its id when empty, its session and seq) and
// schedules its live fan-out for after the commit; returns the event as stored. The caller
// still writes the session row (UpdateSession).
Result<domain::Event> EmitEvent(store::Writer& w, EventBus& bus, domain::Session& session,
                                domain::Event event);

// session.status_<status> with optional stop_reason / error.
domain::Event StatusEvent(const std::string& status, int64_t now, std::string stop_reason = "",
                          std::string error = "");
// user.message from a queue/post payload {"content", "content_blocks"?, "model"?,
// "thinking_level"?, "_event_id"? (the event's id, assigned when it was posted)}.
domain::Event UserMessageEvent(const json::object& payload, int64_t now);
domain::Event ToolResultEvent(const std::string& tool_name, const std::string& tool_call_id,
                              const std::string& content, bool is_error, int64_t now);
// agent.thinking / agent.message / agent.tool_use events of one model response (one `step`).
// Tokens, cost and model ride on the agent.message (or on the first tool_use without text).
std::vector<domain::Event> StepEvents(const llm::Response& response, const domain::Usage& usage,
                                      const std::string& model, int64_t step, int64_t now);

// Inside a write: the session row if it still belongs to run `run_id` (in flight, same
// run_id); kCancelled "superseded" after a cancel, a newer run, or a delete.
Result<domain::Session> CurrentRun(store::Writer& w, const std::string& session_id, int64_t run_id);

// Caps a tool's output for the log and the model (100,000 bytes plus a marker).
std::string TruncateToolOutput(std::string s);

// A transient (not persisted) frame.
// `event_id`, when given, is the id the event the delta belongs to will have once persisted.
FramePtr DeltaFrame(const std::string& session_id, const char* type, std::string_view text,
                    std::string_view event_id = {});
FramePtr TransientStatusFrame(const std::string& session_id, const std::string& status,
                              int64_t now);

}  // namespace pincer::engine
