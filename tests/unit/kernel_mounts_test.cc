#include "policy/kernel_mounts.h"

#include <gtest/gtest.h>

namespace wwjail {
namespace {

// A host's mount table: the usual kernel interfaces, plus a chroot's /proc
// and a sysfs inside a project directory.
constexpr const char* kMountinfo =
    "22 1 252:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
    "23 22 0:21 / /proc rw,nosuid - proc proc rw\n"
    "24 22 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
    "25 24 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
    "26 22 0:5 / /dev rw - devtmpfs udev rw\n"
    "27 22 0:30 / /srv/build/chroot/proc rw - proc proc rw\n"
    "28 22 0:31 / /srv/other\\040dir/sys rw - sysfs sysfs rw\n"
    "29 22 0:32 / /srv/build/cache rw - tmpfs tmpfs rw\n";

StorageCaps with(Grant g) {
  StorageCaps caps;
  caps.add(std::move(g));
  return caps;
}

TEST(KernelMounts, AWriteGrantOverAChrootsProcIsRefused) {
  auto why = kernel_mount_under_grants(with({"/srv/build", kRead | kWrite, true, "--write /srv/build"}), kMountinfo);
  EXPECT_NE(why.find("the write grant on /srv/build"), std::string::npos) << why;
  EXPECT_NE(why.find("proc file system at /srv/build/chroot/proc"), std::string::npos) << why;
}

TEST(KernelMounts, AReadGrantOverOneIsRefusedToo) {
  auto why = kernel_mount_under_grants(with({"/srv", kRead, true, "--read /srv"}), kMountinfo);
  EXPECT_NE(why.find("/srv/build/chroot/proc"), std::string::npos) << why;
  why = kernel_mount_under_grants(with({"/srv/other dir", kRead, true, "--read"}), kMountinfo);
  EXPECT_NE(why.find("sysfs file system at /srv/other dir/sys"), std::string::npos) << why;
}

// Positive controls: ordinary submounts, the host's own interfaces below a
// broad read grant, and a grant on the kernel file system itself.
TEST(KernelMounts, OrdinaryTreesAndTheHostsOwnInterfacesPass) {
  EXPECT_EQ(kernel_mount_under_grants(with({"/srv/build/cache", kRead | kWrite, true, "--write"}), kMountinfo), "");
  EXPECT_EQ(kernel_mount_under_grants(with({"/", kRead, true, "--read /"}), kMountinfo).find("/proc "),
            std::string::npos);
  EXPECT_NE(kernel_mount_under_grants(with({"/", kRead, true, "--read /"}), kMountinfo), "")
      << "the chroot's /proc is still below /";
  EXPECT_EQ(kernel_mount_under_grants(with({"/sys", kRead, true, "--read /sys"}), kMountinfo), "");
  EXPECT_EQ(kernel_mount_under_grants(with({"/srv/build/chroot/proc", kRead, true, "--read"}), kMountinfo), "");
}

TEST(KernelMounts, TheHostsInterfacesAreNeverBelowAWriteGrant) {
  auto why = kernel_mount_under_grants(with({"/sys/fs", kRead | kWrite, true, "--write /sys/fs"}), kMountinfo);
  EXPECT_NE(why.find("cgroup2 file system at /sys/fs/cgroup"), std::string::npos) << why;
}

}  // namespace
}  // namespace wwjail
