// WASI preview 1 (wasi_snapshot_preview1) as the guest sees it: errno
// values, flags, and the byte layout of the structures host calls read and
// write in linear memory. The values are the ABI's, not Linux's; the
// layouts are wasm32's (little-endian, 4-byte pointers), written here as
// offsets because the host is x86_64 and must never take the guest's
// structs as its own.
#pragma once

#include <cstdint>

namespace wwjail::wasi {

// errno (u16).
enum Errno : uint16_t {
  kSuccess = 0, k2Big = 1, kAcces = 2, kAddrInUse = 3, kAddrNotAvail = 4, kAfNoSupport = 5, kAgain = 6,
  kAlready = 7, kBadf = 8, kBadMsg = 9, kBusy = 10, kCanceled = 11, kChild = 12, kConnAborted = 13,
  kConnRefused = 14, kConnReset = 15, kDeadlk = 16, kDestAddrReq = 17, kDom = 18, kDquot = 19, kExist = 20,
  kFault = 21, kFbig = 22, kHostUnreach = 23, kIdrm = 24, kIlseq = 25, kInProgress = 26, kIntr = 27, kInval = 28,
  kIo = 29, kIsConn = 30, kIsDir = 31, kLoop = 32, kMfile = 33, kMlink = 34, kMsgSize = 35, kMultihop = 36,
  kNameTooLong = 37, kNetDown = 38, kNetReset = 39, kNetUnreach = 40, kNfile = 41, kNoBufs = 42, kNoDev = 43,
  kNoent = 44, kNoExec = 45, kNoLck = 46, kNoLink = 47, kNoMem = 48, kNoMsg = 49, kNoProtoOpt = 50, kNoSpc = 51,
  kNoSys = 52, kNotConn = 53, kNotDir = 54, kNotEmpty = 55, kNotRecoverable = 56, kNotSock = 57, kNotSup = 58,
  kNotTy = 59, kNxio = 60, kOverflow = 61, kOwnerDead = 62, kPerm = 63, kPipe = 64, kProto = 65,
  kProtoNoSupport = 66, kProtoType = 67, kRange = 68, kRofs = 69, kSpipe = 70, kSrch = 71, kStale = 72,
  kTimedOut = 73, kTxtBsy = 74, kXdev = 75, kNotCapable = 76,
};

// Linux errno -> WASI errno (unknown ones become EIO).
Errno from_errno(int err);

enum Filetype : uint8_t {
  kUnknown = 0, kBlockDevice = 1, kCharDevice = 2, kDirectory = 3, kRegularFile = 4, kSocketDgram = 5,
  kSocketStream = 6, kSymlink = 7,
};

enum Clock : uint32_t { kRealtime = 0, kMonotonic = 1, kProcessCpu = 2, kThreadCpu = 3 };
enum Whence : uint8_t { kSet = 0, kCur = 1, kEnd = 2 };

// fdflags (u16)
constexpr uint16_t kFdAppend = 1, kFdDsync = 2, kFdNonblock = 4, kFdRsync = 8, kFdSync = 16;
// oflags (u16)
constexpr uint16_t kOCreat = 1, kODirectory = 2, kOExcl = 4, kOTrunc = 8;
// lookupflags (u32)
constexpr uint32_t kLookupFollow = 1;
// fstflags (u16)
constexpr uint16_t kAtim = 1, kAtimNow = 2, kMtim = 4, kMtimNow = 8;
// rights (u64): the ones that decide how path_open opens a file and what
// fd_fdstat_get reports of a descriptor.
constexpr uint64_t kRightFdRead = 1ull << 1, kRightFdSeek = 1ull << 2, kRightFdTell = 1ull << 5,
                   kRightFdWrite = 1ull << 6, kRightFdReaddir = 1ull << 14, kRightFdAllocate = 1ull << 8,
                   kRightPathFilestatSetSize = 1ull << 19, kRightFdFilestatSetSize = 1ull << 22;
constexpr uint64_t kAllRights = (1ull << 30) - 1;
// eventtype (u8), subclockflags (u16), eventrwflags (u16)
constexpr uint8_t kEventClock = 0, kEventFdRead = 1, kEventFdWrite = 2;
constexpr uint16_t kSubclockAbstime = 1;
constexpr uint16_t kEventHangup = 1;
// riflags, roflags, siflags, sdflags
constexpr uint16_t kRecvPeek = 1, kRecvWaitall = 2;
constexpr uint16_t kRecvDataTruncated = 1;
constexpr uint8_t kShutRd = 1, kShutWr = 2;
constexpr uint8_t kPreopenDir = 0;

// Layouts (offsets in bytes) of the structures in linear memory.
namespace layout {
constexpr uint32_t kIovec = 8;           // buf u32 @0, buf_len u32 @4
constexpr uint32_t kFdstat = 24;         // filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16
constexpr uint32_t kFilestat = 64;       // dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56
constexpr uint32_t kPrestat = 8;         // tag u8 @0, name_len u32 @4
constexpr uint32_t kDirent = 24;         // next u64 @0, ino u64 @8, namlen u32 @16, type u8 @20; name follows
constexpr uint32_t kSubscription = 48;   // userdata u64 @0, tag u8 @8; clock: id u32 @16, timeout u64 @24,
                                         // precision u64 @32, flags u16 @40; fd_readwrite: fd u32 @16
constexpr uint32_t kEvent = 32;          // userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24
}  // namespace layout

}  // namespace wwjail::wasi
