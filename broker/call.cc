#include "broker/call.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>

#include "capabilities/path_text.h"
#include "shim/precompiled_filter.h"

namespace wwjail {
namespace {

// What the log can add to a storage denial, looked up as the guest (handle
// acts as it): the path is absent, or a stat found an executable file.
// Never for /proc, whose names the broker would read as its own.
DecisionHint storage_hint(const std::string& path, Need need) {
  if (need == Need::kCreate || need == Need::kRemove || path_text::is_within(path, "/proc"))
    return DecisionHint::kNone;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? DecisionHint::kAbsent : DecisionHint::kNone;
  if (need == Need::kStat && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
    return DecisionHint::kExecutable;
  return DecisionHint::kNone;
}

}  // namespace

StorageAdvice storage_advice(const std::string& path, Need need) {
  StorageAdvice a{missing_storage_grant(path, need), storage_hint(path, need)};
  if (a.hint == DecisionHint::kExecutable) a.grant.kind = "exec";
  return a;
}

const char* syscall_name(int nr) {
  const char* name = native_syscall_name(nr);
  return name ? name : "unknown syscall";
}

void deliver(NotifyChannel& channel, uint64_t id, Verdict verdict) {
  seccomp_notif_resp resp{};
  resp.id = id;
  switch (verdict.kind) {
    case Verdict::Kind::kDeferred:
      return;
    case Verdict::Kind::kError:
      resp.error = -(verdict.err ? verdict.err : EPERM);
      break;
    case Verdict::Kind::kValue:
      resp.val = verdict.value;
      break;
    case Verdict::Kind::kContinue:
      resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      break;
    case Verdict::Kind::kInjectFd: {
      seccomp_notif_addfd addfd{};
      addfd.id = id;
      addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
      addfd.srcfd = static_cast<uint32_t>(verdict.fd.get());
      addfd.newfd_flags = verdict.cloexec ? O_CLOEXEC : 0;
      int rc = channel.add_fd(addfd);
      // ENOENT: the guest is gone. EINPROGRESS: the notification was already
      // answered (an interrupted ADDFD+SEND; see ring_loop.cc for why that
      // must not happen) and nothing more can be sent. Anything else (EMFILE
      // in the guest, say) is answered as an error; never with CONTINUE.
      if (rc >= 0 || rc == -ENOENT || rc == -EINPROGRESS) return;
      resp.error = rc;
      break;
    }
  }
  channel.respond(resp);
}

Expected<std::string, Verdict> Call::read_path(uint64_t addr) const {
  std::string out;
  if (int err = links_.memory->read_string(tid(), addr, PATH_MAX, out)) return Unexpected(Verdict::error(err));
  return out;
}

Expected<void, Verdict> Call::read(uint64_t addr, void* out, size_t len) const {
  if (int err = links_.memory->read(tid(), addr, out, len)) return Unexpected(Verdict::error(err));
  return {};
}

Expected<void, Verdict> Call::write(uint64_t addr, const void* data, size_t len) const {
  if (int err = links_.memory->write(tid(), addr, data, len)) return Unexpected(Verdict::error(err));
  return {};
}

void Call::note(NotedDecision d) {
  if (d.storage) {
    for (const auto& e : noted_) {
      if (e.storage && e.need == d.need && e.target == d.target) return;
    }
  }
  noted_.push_back(std::move(d));
}

void Call::record(DecisionEvent& ev) const {
  ev.tid = tid();  // the thread; the log finds its process
  ev.syscall = syscall_name(nr());
  links_.decisions->record(ev);
}

Verdict Call::refuse(DecisionEvent ev) const {
  ev.kind = DecisionKind::kDeny;
  record(ev);
  return Verdict::error(ev.err);
}

Verdict Call::answer(Verdict v) {
  int err = v.kind == Verdict::Kind::kError ? v.err : 0;
  for (const auto& e : noted_) {
    std::string_view net_need = e.bind ? "bind" : "connect";
    DecisionEvent ev{.target = e.target,
                     .need = e.storage ? need_name(e.need) : net_need,
                     .kind = e.kind,
                     .err = err,
                     .hint = e.hint,
                     .grant = e.grant,
                     .net_grant = e.net_grant,
                     .storage = e.storage,
                     .storage_need = e.need};
    if (e.kind == DecisionKind::kAudit) {
      // Hints cost a stat: only for audit lines someone reads (not learn's).
      StorageAdvice a{e.storage ? missing_storage_grant(e.target, e.need) : MissingGrant{net_need, e.target}, e.hint};
      if (e.storage && links_.decisions->writes_audit_lines()) a = storage_advice(e.target, e.need);
      ev.missing_kind = a.grant.kind;
      ev.missing_target = a.grant.target;
      ev.hint = a.hint;
    }
    record(ev);
  }
  noted_.clear();
  return v;
}

void Call::finish(Verdict v) { deliver(*links_.channel, id(), answer(std::move(v))); }

Call Call::defer() {
  answer(Verdict::deferred());
  return std::move(*this);
}

}  // namespace wwjail
