// wwjail-runc's rewrite of config.json: the prefix, the mounts, the
// policy's source; a retried create wraps once; a mount planted at
// /.wwjail cannot take the place of the host's wwjail.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "cli/runc/bundle_config.h"
#include "cli/runc/policy_check.h"

namespace wwjail::runc {
namespace {

using nlohmann::json;

json sample() {
  return json::parse(R"({"ociVersion":"1.0.2","process":{"args":["/bin/sh","-c","echo hi"],"cwd":"/"},
    "root":{"path":"rootfs"},"mounts":[{"destination":"/proc","type":"proc","source":"proc"}]})");
}

const HostFiles kHost{"/usr/bin/wwjail", "/usr/libexec/wwjail/wwjail-wasm-run", "/b/wwjail-policy.toml"};

TEST(RuncBundle, PrefixAndReadOnlyMounts) {
  json c = wrap_config(sample(), kHost);
  EXPECT_EQ(c["process"]["args"],
            json({"/.wwjail/wwjail", "--policy", "/.wwjail/policy.toml", "--", "/bin/sh", "-c", "echo hi"}));
  ASSERT_EQ(c["mounts"].size(), 4u);
  EXPECT_EQ(c["mounts"][0]["destination"], "/proc");
  EXPECT_EQ(c["mounts"][1]["source"], "/usr/bin/wwjail");
  EXPECT_EQ(c["mounts"][1]["destination"], "/.wwjail/wwjail");
  EXPECT_EQ(c["mounts"][2]["destination"], "/.wwjail/wwjail-wasm-run");
  EXPECT_EQ(c["mounts"][3]["source"], "/b/wwjail-policy.toml");
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(c["mounts"][i]["options"][1], "ro");
}

TEST(RuncBundle, RetriedCreateWrapsOnce) {
  json once = wrap_config(sample(), kHost);
  EXPECT_EQ(wrap_config(once, kHost), once);
}

TEST(RuncBundle, PlantedMountsUnderTheDirAreDropped) {
  json c = sample();
  c["mounts"].push_back({{"destination", "/.wwjail/wwjail"}, {"type", "bind"}, {"source", "/evil"}});
  c["mounts"].push_back({{"destination", "/.wwjail/"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  c["mounts"].push_back({{"destination", "/.wwjailx"}, {"type", "tmpfs"}, {"source", "tmpfs"}});  // not ours
  json w = wrap_config(c, kHost);
  int ours = 0;
  for (const auto& m : w["mounts"]) {
    EXPECT_NE(m["source"], "/evil");
    EXPECT_NE(m["destination"], "/.wwjail/");
    if (m["destination"].get<std::string>().starts_with("/.wwjail/")) ++ours;
  }
  EXPECT_EQ(ours, 3);
  EXPECT_EQ(w["mounts"].size(), 5u);
}

TEST(RuncBundle, NoProcessIsRefused) {
  json c = sample();
  c["process"]["args"] = json::array();
  EXPECT_THROW(wrap_config(c, kHost), BadBundle);
  c.erase("process");
  EXPECT_THROW(wrap_config(c, kHost), BadBundle);
  c = sample();
  c["process"]["args"] = json({"/bin/sh", 5});
  EXPECT_THROW(wrap_config(c, kHost), BadBundle);
}

TEST(RuncBundle, OnlyTheEnginesSandboxMarkIsPassedThrough) {
  json c = sample();
  EXPECT_FALSE(is_pod_sandbox(c));
  c["annotations"]["io.kubernetes.cri.container-type"] = "container";
  EXPECT_FALSE(is_pod_sandbox(c));
  c["annotations"]["io.kubernetes.cri.container-type"] = "sandbox";
  EXPECT_TRUE(is_pod_sandbox(c));
  json o = sample();
  o["annotations"]["io.kubernetes.cri-o.ContainerType"] = "sandbox";
  EXPECT_TRUE(is_pod_sandbox(o));
}

class RuncPolicyChoice : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wwjail-runc-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/policies").c_str(), 0755), 0);
    std::ofstream(dir_ + "/policies/app.toml") << "[storage]\nread = [\"/srv\"]\n";
    std::ofstream(dir_ + "/outside.toml") << "[storage]\n";
    ASSERT_EQ(symlink((dir_ + "/outside.toml").c_str(), (dir_ + "/policies/link.toml").c_str()), 0);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  json with(const char* key, const std::string& value) {
    json c = sample();
    c["annotations"][key] = value;
    return c;
  }
  std::string dir_;
};

TEST_F(RuncPolicyChoice, DefaultInlineAndFile) {
  PolicyChoice d = choose_policy(sample(), dir_ + "/policies");
  EXPECT_EQ(d.text, kDefaultContainerPolicy);
  EXPECT_EQ(d.name, "the default container policy");
  PolicyChoice i = choose_policy(with(kPolicyAnnotation, "[network]\n"), dir_ + "/policies");
  EXPECT_EQ(i.text, "[network]\n");
  EXPECT_EQ(i.name, "annotation org.wwjail.policy");
  PolicyChoice f = choose_policy(with(kPolicyFileAnnotation, dir_ + "/policies/app.toml"), dir_ + "/policies");
  EXPECT_EQ(f.text, "[storage]\nread = [\"/srv\"]\n");
  EXPECT_EQ(f.name, dir_ + "/policies/app.toml");
}

TEST_F(RuncPolicyChoice, HostFilesOutsideThePolicyDirAreRefused) {
  const std::string pd = dir_ + "/policies";
  EXPECT_THROW(choose_policy(with(kPolicyFileAnnotation, dir_ + "/outside.toml"), pd), BadBundle);
  EXPECT_THROW(choose_policy(with(kPolicyFileAnnotation, pd + "/../outside.toml"), pd), BadBundle);
  EXPECT_THROW(choose_policy(with(kPolicyFileAnnotation, pd + "/link.toml"), pd), BadBundle);  // a symlink out
  EXPECT_THROW(choose_policy(with(kPolicyFileAnnotation, "/etc/shadow"), pd), BadBundle);
  EXPECT_THROW(choose_policy(with(kPolicyFileAnnotation, "policies/app.toml"), pd), BadBundle);
  EXPECT_THROW(choose_policy(with(kPolicyFileAnnotation, pd), pd), BadBundle);  // the dir itself
  json both = with(kPolicyAnnotation, "");
  both["annotations"][kPolicyFileAnnotation] = pd + "/app.toml";
  EXPECT_THROW(choose_policy(both, pd), BadBundle);
}

}  // namespace
}  // namespace wwjail::runc

namespace wwjail::runc {
namespace {

TEST(RuncCheckView, RootBindsAndTheUserSeenFromTheHost) {
  json c = sample();
  c["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}, {"source", "/srv/data"}, {"options", {"rbind"}}});
  c["mounts"].push_back({{"destination", "/etc/hosts"}, {"type", "none"}, {"source", "/run/h"}, {"options", {"bind"}}});
  c["mounts"].push_back({{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  c["process"]["user"] = {{"uid", 1000}, {"gid", 100}};
  CheckView v = check_view(c, "/b");
  EXPECT_EQ(v.rootfs, "/b/rootfs");
  ASSERT_EQ(v.binds.size(), 2u);  // binds only: proc and tmpfs are not the image's files
  EXPECT_EQ(v.binds[0].destination, "/data");
  EXPECT_EQ(v.binds[1].source, "/run/h");
  EXPECT_EQ(v.uid, 1000u);
  EXPECT_EQ(v.gid, 100u);
  // Through a user namespace: container 1000 is host 101000.
  c["linux"]["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
  c["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
  v = check_view(c, "/b");
  EXPECT_EQ(v.uid, 101000u);
  EXPECT_EQ(v.gid, 100100u);
  c["process"]["user"]["uid"] = 70000;  // mapped by nothing
  EXPECT_THROW(check_view(c, "/b"), BadBundle);
  c.erase("root");
  EXPECT_THROW(check_view(c, "/b"), BadBundle);
}

}  // namespace
}  // namespace wwjail::runc

namespace wwjail::runc {
namespace {

TEST(RuncElfInterpreter, ReadsPtInterp) {
  std::string interp = elf_interpreter("/bin/sh");
  EXPECT_EQ(interp.rfind("/lib", 0), 0u) << interp;  // /lib64/ld-linux-x86-64.so.2 on x86-64
  EXPECT_NE(interp.find("ld-linux"), std::string::npos) << interp;
  EXPECT_THROW(elf_interpreter("/etc/hostname"), BadBundle);
  EXPECT_THROW(elf_interpreter("/nonexistent"), BadBundle);
}

}  // namespace
}  // namespace wwjail::runc
