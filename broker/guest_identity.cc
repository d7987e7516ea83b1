#include "broker/guest_identity.h"

#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <exception>
#include <string>

#include "sys/sys_error.h"

namespace wwjail {

CapabilitySets thread_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) throw_sys("capget");
  auto join = [](uint32_t lo, uint32_t hi) { return lo | (uint64_t{hi} << 32); };
  return {join(data[0].effective, data[1].effective), join(data[0].permitted, data[1].permitted),
          join(data[0].inheritable, data[1].inheritable)};
}

namespace {

void set_caps(const CapabilitySets& c) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};  // pid 0: this thread
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(c.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(c.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(c.inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) throw_sys("capset (acting as the guest)");
}

ThreadCredentials current_creds() {
  ThreadCredentials c;
  // setfs[ug]id(-1) changes nothing and returns the current value.
  c.fsuid = static_cast<uid_t>(::setfsuid(static_cast<uid_t>(-1)));
  c.fsgid = static_cast<gid_t>(::setfsgid(static_cast<gid_t>(-1)));
  int n = ::getgroups(0, nullptr);
  if (n < 0) throw_sys("getgroups");
  c.groups.resize(static_cast<size_t>(n));
  if (n > 0 && ::getgroups(n, c.groups.data()) < 0) throw_sys("getgroups");
  c.effective = thread_capabilities().effective;
  return c;
}

// What this thread holds now, tracked so that a switch makes only the
// syscalls that change something (the hot path: one capset each way).
struct ThreadState {
  bool known = false;
  ThreadCredentials now;
  CapabilitySets caps;  // permitted and inheritable never change here
};
thread_local ThreadState t_state;

ThreadState& state() {
  if (!t_state.known) {
    t_state.now = current_creds();
    t_state.caps = thread_capabilities();
    t_state.known = true;
  }
  return t_state;
}

void apply(const ThreadCredentials& to) {
  ThreadState& st = state();
  bool ids = st.now.groups != to.groups || st.now.fsgid != to.fsgid || st.now.fsuid != to.fsuid;
  CapabilitySets caps = st.caps;
  if (ids) {
    // With every permitted capability effective the ids can be set.
    if (st.now.effective != caps.permitted) {
      caps.effective = caps.permitted;
      set_caps(caps);
      st.now.effective = caps.permitted;
    }
    if (st.now.groups != to.groups &&
        ::syscall(SYS_setgroups, to.groups.size(), to.groups.empty() ? nullptr : to.groups.data()) != 0)
      throw_sys("setgroups (acting as the guest)");
    st.now.groups = to.groups;
    if (st.now.fsgid != to.fsgid) ::setfsgid(to.fsgid);
    if (st.now.fsuid != to.fsuid) ::setfsuid(to.fsuid);
    if (static_cast<uid_t>(::setfsuid(static_cast<uid_t>(-1))) != to.fsuid ||
        static_cast<gid_t>(::setfsgid(static_cast<gid_t>(-1))) != to.fsgid)
      throw SysError("setfsuid/setfsgid (acting as the guest)", EPERM);
    st.now.fsuid = to.fsuid;
    st.now.fsgid = to.fsgid;
  }
  // The effective set last: a changed fs uid may have cleared part of it.
  uint64_t effective = to.effective & caps.permitted;
  if (ids || st.now.effective != effective) {
    caps.effective = effective;
    set_caps(caps);
    st.now.effective = effective;
  }
}

ThreadCredentials creds_of(const GuestIdentity& who) { return {who.fsuid, who.fsgid, who.groups, who.cap_effective}; }

// The innermost ActingAs of this thread: credentials are per-thread kernel
// state, so whom a thread acts for is per-thread too.
thread_local ActingAs* t_acting = nullptr;

uint64_t parse_hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

}  // namespace

std::optional<GuestIdentity> GuestIdentity::of_thread(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", tid);
  FILE* f = std::fopen(path, "re");
  if (!f) return std::nullopt;
  GuestIdentity id;
  int found = 0;
  char line[4096];
  while (std::fgets(line, sizeof line, f)) {
    std::string l(line);
    std::istringstream in(l.substr(l.find(':') + 1));
    unsigned long r, e, s, fs;
    if (l.starts_with("Uid:") && (in >> r >> e >> s >> fs)) {
      id.ruid = static_cast<uid_t>(r);
      id.euid = static_cast<uid_t>(e);
      id.fsuid = static_cast<uid_t>(fs);
      ++found;
    } else if (l.starts_with("Gid:") && (in >> r >> e >> s >> fs)) {
      id.rgid = static_cast<gid_t>(r);
      id.egid = static_cast<gid_t>(e);
      id.fsgid = static_cast<gid_t>(fs);
      ++found;
    } else if (l.starts_with("Groups:")) {
      for (unsigned long g; in >> g;) id.groups.push_back(static_cast<gid_t>(g));
      ++found;
    } else if (l.starts_with("CapPrm:")) {
      std::string hex;
      if (in >> hex) id.cap_permitted = parse_hex(hex), ++found;
    } else if (l.starts_with("CapEff:")) {
      std::string hex;
      if (in >> hex) id.cap_effective = parse_hex(hex), ++found;
    }
  }
  std::fclose(f);
  if (found != 5) return std::nullopt;
  return id;
}

GuestIdentity GuestIdentity::for_access() const {
  GuestIdentity a = *this;
  a.fsuid = ruid;
  a.fsgid = rgid;
  a.cap_effective = ruid == 0 ? cap_permitted : 0;
  return a;
}

GuestIdentities GuestIdentities::for_this_broker(uint64_t kept_capabilities) {
  CapabilitySets caps = thread_capabilities();
  GuestIdentity launch;
  launch.ruid = ::getuid();
  launch.rgid = ::getgid();
  launch.fsuid = launch.euid = ::geteuid();
  launch.fsgid = launch.egid = ::getegid();
  launch.groups = state().now.groups;
  launch.cap_effective = launch.cap_permitted = kept_capabilities & caps.permitted;
  launch.at_launch = true;
  bool privileged = ::geteuid() == 0 || caps.permitted != 0 || caps.effective != 0;
  return GuestIdentities(privileged, std::move(launch));
}

std::optional<GuestIdentity> GuestIdentities::of(pid_t tid) const {
  if (!changed_.load(std::memory_order_acquire)) return launch_;
  return GuestIdentity::of_thread(tid);
}

ActingAs::ActingAs(const GuestIdentity& who)
    : who_(who), guest_(creds_of(who)), broker_(t_acting ? t_acting->broker_ : state().now), outer_(t_acting) {
  try {
    apply(guest_);
  } catch (...) {
    try {
      apply(broker_);
    } catch (...) {
      std::terminate();  // a thread stuck half-way between identities must not go on
    }
    throw;
  }
  t_acting = this;
}

ActingAs::~ActingAs() {
  try {
    apply(outer_ ? outer_->guest_ : broker_);
  } catch (...) {
    std::terminate();
  }
  t_acting = outer_;
}

std::optional<GuestIdentity> ActingAs::current() {
  if (!t_acting) return std::nullopt;
  return t_acting->who_;
}

PeerIdsAsGuest::PeerIdsAsGuest() {
  if (!t_acting || ::getuid() != 0 || ::geteuid() != 0) return;
  const GuestIdentity& who = t_acting->who_;
  rgid_ = ::getgid();
  egid_ = ::getegid();
  if (who.ruid == 0 && who.euid == 0 && who.rgid == rgid_ && who.egid == egid_) return;
  // Per thread (raw syscalls; glibc's would change every thread). The saved
  // ids stay root's, so the way back is open, and so does the permitted
  // capability set. Changing the effective uid also sets the fs uid and
  // clears effective capabilities: the tracked state is re-read afterwards.
  // The real ids matter too: the kernel attaches them to unix messages as
  // SCM_CREDENTIALS for receivers that ask (SO_PASSCRED).
  // Changing ids needs CAP_SETUID and CAP_SETGID effective: the permitted
  // set first (acting as the guest, the effective set is the guest's).
  CapabilitySets caps = thread_capabilities();
  caps.effective = caps.permitted;
  set_caps(caps);
  t_state.known = false;
  if (::syscall(SYS_setresgid, who.rgid, who.egid, static_cast<gid_t>(-1)) != 0) throw_sys("setresgid (peer ids)");
  if (::syscall(SYS_setresuid, who.ruid, who.euid, static_cast<uid_t>(-1)) != 0) {
    if (::syscall(SYS_setresgid, rgid_, egid_, static_cast<gid_t>(-1)) != 0) std::terminate();
    try {
      apply(t_acting->guest_);
    } catch (...) {
      std::terminate();
    }
    throw_sys("setresuid (peer ids)");
  }
  switched_ = true;
}

PeerIdsAsGuest::~PeerIdsAsGuest() {
  if (!switched_) return;
  // Back to root's ids (the permitted capabilities become effective again
  // with them), then to the guest's fs ids and effective capabilities.
  if (::syscall(SYS_setresuid, 0, 0, static_cast<uid_t>(-1)) != 0 ||
      ::syscall(SYS_setresgid, rgid_, egid_, static_cast<gid_t>(-1)) != 0)
    std::terminate();
  t_state.known = false;
  try {
    apply(t_acting->guest_);
  } catch (...) {
    std::terminate();
  }
}

AsBroker::AsBroker() {
  if (!t_acting || t_acting->who_.at_launch) return;
  apply(t_acting->broker_);
  lifted_ = t_acting;
  t_acting = nullptr;
}

AsBroker::~AsBroker() {
  if (!lifted_) return;
  try {
    apply(lifted_->guest_);
  } catch (...) {
    std::terminate();
  }
  t_acting = lifted_;
}

}  // namespace wwjail
