# The control plane of one wwjail run: what `wwjail ctl` asks a running
# jail over its control socket (broker/control/control_server.h). The
# socket's bootstrap capability is a Jail; nothing else is reachable from
# it. Fields are only ever added, never renumbered: a newer ctl talks to
# an older jail and the reverse.
@0xab4e1d7a2ae9cf73;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("wwjail::control::schema");

interface Jail {
  # What the run is: its name, its processes, its counts so far.
  info @0 () -> (info :JailInfo);

  # Ends the run: SIGTERM to the main guest, then, if the tree is still
  # there after graceMs milliseconds, SIGKILL to all of it. Returns once
  # the request is taken, not when the tree is gone. A second stop while
  # one is under way shortens nothing but its own grace.
  stop @1 (graceMs :UInt32) -> ();

  # The broker's decisions from now on (denials and audits; allowed calls
  # when the run records them), pushed to `sink` until the subscription is
  # dropped or the run ends (then sink.done()). A sink that cannot keep up
  # loses events, counted in Event.droppedBefore, never the guest's time.
  events @2 (sink :EventSink) -> (subscription :Subscription);
}

struct JailInfo {
  name @0 :Text;             # --name, or PROGRAM-PID
  runId @1 :Text;            # the run_id of its log lines
  wwjailPid @2 :Int32;       # the broker (wwjail itself)
  mainPid @3 :Int32;         # the main guest, as the broker's PID namespace sees it
  program @4 :Text;
  args @5 :List(Text);
  startedUnixMs @6 :UInt64;
  uid @7 :UInt32;            # whose run it is
  mode @8 :Text;             # "enforce", "audit" or "learn"
  allowed @9 :UInt64;        # decisions so far (allowed: only where recorded)
  audited @10 :UInt64;
  denied @11 :UInt64;
  stopping @12 :Bool;        # a stop was asked for
}

struct Event {
  unixMs @0 :UInt64;
  tid @1 :Int32;
  syscall @2 :Text;
  target @3 :Text;           # a canonical path or a network SPEC
  need @4 :Text;             # "read", "create", "connect", ...
  kind @5 :Text;             # "allow", "audit" or "deny"
  missing @6 :Text;          # the grant that would allow it, as "KIND TARGET"
  reason @7 :Text;           # a refusal no grant could lift: why
  droppedBefore @8 :UInt64;  # events lost to this sink before this one
}

interface EventSink {
  push @0 (event :Event) -> stream;
  done @1 () -> ();
}

# Held by the subscriber; dropping it ends the subscription.
interface Subscription {}
