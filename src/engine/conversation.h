#pragma once

// Rebuilds the model-facing conversation and the current turn's state from a session's event
// log — the log is the truth, so a restarted server resumes a turn from here.
//
// Agent events of one model response share the internal payload field "_step"; a
// session.compaction event replaces everything before it with its summary. Tool calls left
// without a result by an earlier turn get a synthetic error result so the conversation stays
// well-formed for providers.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/session.h"
#include "engine/llm/types.h"

namespace pincer::engine {

// A tool call of the current turn that waits (or waited) for the user's approval.
struct PendingApproval {
  std::string approval_id;
  std::string tool_call_id;
  int64_t request_seq = 0;
  std::optional<bool> allow;  // set once the user (or the timeout) answered
  std::string deny_message;
};

struct TurnState {
  std::vector<llm::Message> messages;
  // agent.tool_use events of the current turn that have no result yet (a crash cut them).
  std::vector<domain::Event> dangling_tool_uses;
  bool turn_open = false;      // a user.message started a turn that has not finished
  bool turn_complete = false;  // the turn's last model response called no tool
  int64_t steps = 0;           // model responses in the current turn
  int64_t last_step = 0;       // highest _step seen in the log
  std::string model;           // per-turn override from the user.message ("" = agent default)
  std::string thinking_level;  // per-turn override ("" = agent default)
  std::map<std::string, PendingApproval> approvals;  // by tool_call_id, current turn only
  std::set<std::string> client_asked;  // tool_call_ids of custom tool calls put to the client
  std::string extra_system;            // from session.context events: appended to the instructions
};

TurnState ReplayLog(const std::vector<domain::Event>& events);

}  // namespace pincer::engine
