// The command-line contract, black box: exit statuses, messages, signals.
#include <gtest/gtest.h>
#include <signal.h>

#include "jail_runner.h"

namespace wwjail::testing {
namespace {

TEST(Cli, PassesTheGuestsExitStatus) {
  EXPECT_EQ(jail({}, {guest("probe"), "exit", "0"}).exit_code, 0);
  EXPECT_EQ(jail({}, {guest("probe"), "exit", "42"}).exit_code, 42);
}

TEST(Cli, SignalDeathIs128PlusN) {
  auto r = jail({}, {guest("probe"), "signal", std::to_string(SIGTERM)});
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  r = jail({}, {guest("probe"), "signal", std::to_string(SIGSEGV)});
  EXPECT_EQ(r.exit_code, 128 + SIGSEGV);
}

TEST(Cli, ProgramNotFoundIs127) {
  auto r = jail({}, {"/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  r = jail({}, {"no-such-program-in-path"});
  EXPECT_EQ(r.exit_code, 127);
}

TEST(Cli, ProgramNotExecutableIs126) {
  ScratchDir d;
  auto file = d.file("plain.txt", "not a program");
  auto r = jail({}, {file});
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_NE(r.err.find("cannot execute"), std::string::npos) << r.err;
  r = jail({}, {d.path()});
  EXPECT_EQ(r.exit_code, 126);
}

TEST(Cli, BadFlagsAre125WithOneLine) {
  auto r = run({wwjail_bin(), "--no-such-flag", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run({wwjail_bin()});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("no program given"), std::string::npos) << r.err;
}

// --log-fd -5 was silently ignored, and --log-fd 0|1|2 took the guest's
// stdio for the log (and closed it): all are refused before the guest runs.
TEST(Cli, LogFdMustBeADescriptorAboveStdio) {
  for (const char* fd : {"-5", "0", "1", "2"}) {
    auto r = jail({"--log-fd", fd}, {"/bin/echo", "ran"});
    EXPECT_EQ(r.exit_code, 125) << fd;
    EXPECT_EQ(r.out, "") << fd;
    EXPECT_EQ(r.err, std::string("wwjail: --log-fd: descriptor ") + fd +
                         " cannot take the log: give 3 or more (0, 1 and 2 are the guest's stdio) (see wwjail "
                         "--help)\n");
  }
  auto word = jail({"--log-fd", "x"}, {"/bin/echo", "ran"});
  EXPECT_EQ(word.exit_code, 125);
  EXPECT_EQ(word.err, "wwjail: --log-fd: 'x' is not a descriptor number (see wwjail --help)\n");
  // Positive control: a descriptor the caller opened takes the log, and the
  // guest keeps its stdout.
  auto ok = run({"/bin/sh", "-c", "exec \"$0\" --log-fd 3 -- /bin/echo ran 3>/dev/null", wwjail_bin()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "ran\n");
}

TEST(Cli, MissingGrantPathIs125AndNamesIt) {
  auto r = jail({"--read", "/no/such/path"}, {"/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("/no/such/path"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, GuestKeepsTheUsersUmask) {
  // The probe reports nothing about umask directly: a shell does.
  auto r = run({"/bin/sh", "-c", "umask 027; exec " + wwjail_bin() + " -- /bin/sh -c umask"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0027\n");
}

// What the broker creates for the guest (here a mediated mkdir) gets the
// guest's umask, applied once: the thread that performs it has a umask of 0
// whatever the caller's (it is started before the broker clears its own).
TEST(Cli, WhatTheBrokerCreatesGetsTheGuestsUmaskOnce) {
  ScratchDir d;
  auto made = [&](const std::string& guest_umask, const std::string& name) {
    return run({"/bin/sh", "-c",
                "umask 077; exec \"$0\" --mediate files --exec /usr/bin/mkdir --exec /usr/bin/stat --write \"$1\" -- /bin/sh -c "
                "\"umask $2; /usr/bin/mkdir \\\"$1/$3\\\" && /usr/bin/stat -c %a \\\"$1/$3\\\"\"",
                wwjail_bin(), d.path(), guest_umask, name});
  };
  auto open_to_all = made("000", "a");
  EXPECT_EQ(open_to_all.exit_code, 0) << open_to_all.err;
  EXPECT_EQ(open_to_all.out, "777\n");
  // Control: the guest's own umask does apply.
  auto group_only = made("027", "b");
  EXPECT_EQ(group_only.exit_code, 0) << group_only.err;
  EXPECT_EQ(group_only.out, "750\n");
}

TEST(Cli, StdioPassesThrough) {
  auto r = run({wwjail_bin(), "--", "/bin/cat"}, "hello through the jail\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello through the jail\n");
}

TEST(Cli, RealProgramsRun) {
  auto r = jail({"--read", "/usr", "--read", "/etc"}, {"/usr/bin/python3", "-c", "print(sum(range(10)))"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "45\n");
  // The same program cannot read what it was not granted.
  r = jail({"--read", "/usr"}, {"/usr/bin/python3", "-S", "-c", "open('/etc/hostname').read()"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("PermissionError"), std::string::npos) << r.err;
}

TEST(Cli, ShellPipelinesWithExecGrants) {
  auto r = jail({"--exec", "/usr/bin", "--read", "/usr/lib", "--read", "/etc"},
                {"/bin/sh", "-c", "echo abc | tr a-z A-Z"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ABC\n");
  // Without the exec grant, the shell cannot start tr.
  r = jail({"--read", "/usr/lib"}, {"/bin/sh", "-c", "echo abc | tr a-z A-Z"});
  EXPECT_NE(r.exit_code, 0);
}

// wwjail(1) says: an option takes exactly one value (the next word or
// after "="), the first other word is PROGRAM, and every word after it goes
// to the guest, dashes included; "--" is optional.
TEST(Cli, OptionsTakeOneValueAndTheRestIsTheGuests) {
  auto attached = run({wwjail_bin(), "--read=/usr", "/usr/bin/python3", "-S", "-c", "print('ran')"});
  EXPECT_EQ(attached.exit_code, 0) << attached.err;
  EXPECT_EQ(attached.out, "ran\n");
  auto spaced = run({wwjail_bin(), "--read", "/usr", "/usr/bin/python3", "-S", "-c", "print('ran')"});
  EXPECT_EQ(spaced.exit_code, 0) << spaced.err;
  EXPECT_EQ(spaced.out, "ran\n");
  // --read after PROGRAM is the guest's argument, not a grant.
  auto after = run({wwjail_bin(), "/bin/echo", "--read", "/etc"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, "--read /etc\n");
  // A second word after a path option is PROGRAM, not another path.
  auto second = run({wwjail_bin(), "--read", "/usr", "/etc", "x"});
  EXPECT_EQ(second.exit_code, 126) << second.err;
  EXPECT_NE(second.err.find("cannot execute /etc"), std::string::npos) << second.err;
}

TEST(Cli, ExecGrantsBringTheProgramsLibraries) {
  // ls needs libselinux and libpcre2, which the shell does not: the exec
  // grant alone must bring them, as PROGRAM's own headers do.
  auto r = jail({"--exec", "/usr/bin/ls"}, {"/bin/sh", "-c", "/usr/bin/ls -d / && printf 'b\\na\\n' | /usr/bin/ls -d /"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "/\n/\n");
  // A directory exec grant: the programs directly in it.
  r = jail({"--exec", "/usr/bin"}, {"/bin/sh", "-c", "printf 'b\\na\\n' | sort && ls -d /"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a\nb\n/\n");
  // The libraries are granted one by one: their directory stays closed.
  r = jail({"--exec", "/usr/bin/ls"}, {"/usr/bin/ls", "/usr/lib"});
  EXPECT_NE(r.exit_code, 0) << "a library's directory is not listable\n" << r.out;
}

TEST(Cli, ForwardsSigtermToTheGuest) {
  // The guest sleeps; wwjail gets SIGTERM; the guest dies of it.
  pid_t pid = fork();
  if (pid == 0) {
    execl(wwjail_bin().c_str(), wwjail_bin().c_str(), "--", guest("probe").c_str(), "sleep", "30", nullptr);
    _exit(99);
  }
  usleep(500 * 1000);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
}

}  // namespace
}  // namespace wwjail::testing
