#include "common/executor.h"

namespace pincer {
namespace {
thread_local Executor* current_executor = nullptr;
}  // namespace

Executor* Executor::Current() { return current_executor; }

Executor::ScopedCurrent::ScopedCurrent(Executor* e) : previous_(current_executor) {
  current_executor = e;
}
Executor::ScopedCurrent::~ScopedCurrent() { current_executor = previous_; }

void PostOrRun(Executor* e, UniqueFunction<void()> fn) {
  if (e != nullptr) {
    e->Post(std::move(fn));
  } else {
    fn();
  }
}

}  // namespace pincer
