#include "broker/event_loop.h"

#include <cstring>
#include <string>

#include "broker/epoll_loop.h"
#include "broker/ring_loop.h"
#include "sys/sys_error.h"

namespace wwjail {

LoopChoice parse_loop_choice(const char* value) {
  if (!value || !*value || std::strcmp(value, "auto") == 0) return LoopChoice::kAuto;
  if (std::strcmp(value, "io_uring") == 0) return LoopChoice::kIoUring;
  if (std::strcmp(value, "epoll") == 0) return LoopChoice::kEpoll;
  throw SetupError("WWJAIL_EVENT_LOOP=" + std::string(value) + ": write io_uring, epoll or auto");
}

std::unique_ptr<EventLoop> make_event_loop(spdlog::logger& log, LoopChoice choice) {
  if (choice == LoopChoice::kEpoll) {
    log.debug("event loop: epoll with worker threads (WWJAIL_EVENT_LOOP=epoll)");
    return std::make_unique<EpollLoop>();
  }
  try {
    auto ring = std::make_unique<RingLoop>();
    log.debug("event loop: io_uring, set up with flags {:#x}", ring->setup_flags());
    return ring;
  } catch (const RingUnavailable& e) {
    if (choice == LoopChoice::kIoUring) throw SetupError(std::string(e.what()) + " (WWJAIL_EVENT_LOOP=io_uring)");
    log.debug("event loop: epoll with worker threads, as io_uring is unavailable: {}", e.what());
    return std::make_unique<EpollLoop>();
  }
}

}  // namespace wwjail
