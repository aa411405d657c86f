#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "core/budget.hpp"
#include "core/byte_reader.hpp"
#include "core/child_process.hpp"
#include "core/entropy.hpp"
#include "core/hashing.hpp"
#include "core/hex.hpp"
#include "core/read_file.hpp"
#include "core/severity.hpp"
#include "core/thread_pool.hpp"

namespace clearbox {
namespace {

TEST(ByteReader, ReadsBothEndiansAndStopsAtEnd) {
  const std::uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05};
  ByteReader le(bytes);
  EXPECT_EQ(*le.U16(), 0x0201);
  ByteReader be(bytes, Endian::kBig);
  EXPECT_EQ(*be.U32(), 0x01020304u);
  auto past = be.U16();
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, ErrorCode::kTruncated);
  EXPECT_EQ(be.Position(), 4u);  // a failed read does not move
  EXPECT_FALSE(ReadU32At(bytes, 2, Endian::kLittle));
  EXPECT_FALSE(ReadU32At(bytes, ~std::size_t{0}, Endian::kLittle));
}

TEST(Severity, NamesOrderAndParsing) {
  EXPECT_LT(Severity::kInfo, Severity::kLow);
  EXPECT_LT(Severity::kHigh, Severity::kCritical);
  for (const Severity s : kSeveritiesWorstFirst) EXPECT_EQ(*ParseSeverity(ToString(s)), s);
  EXPECT_EQ(ToString(Severity::kCritical), "critical");
  EXPECT_EQ(kSeveritiesWorstFirst.front(), Severity::kCritical);
  auto bad = ParseSeverity("CRITICAL");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(FindSeverity("bogus"));
}

TEST(Hex, PathUriReferencePercentEncodesAllButUnreservedAndSlash) {
  EXPECT_EQ(PathUriReference("0.squashfs/etc/shadow"), "0.squashfs/etc/shadow");
  EXPECT_EQ(PathUriReference("a b/%c#\xff~_-"), "a%20b/%25c%23%FF~_-");
  EXPECT_EQ(PathUriReference(""), "");
}

TEST(Hex, EncodesLowerCaseAndDecodesEitherCase) {
  const std::string bytes("\x00\x7f\xab\xff", 4);
  EXPECT_EQ(HexEncode(bytes), "007fabff");
  EXPECT_EQ(*HexDecode("007fabff"), bytes);
  EXPECT_EQ(*HexDecode("007FABFF"), bytes);
  EXPECT_EQ(*HexDecode(""), "");
  EXPECT_FALSE(HexDecode("abc"));
  EXPECT_EQ(HexDecode("zz").error().code, ErrorCode::kMalformed);
  EXPECT_TRUE(IsLowerHex("0123456789abcdef"));
  EXPECT_FALSE(IsLowerHex("ABCDEF"));
  std::string escaped;
  AppendHexByte(escaped, 0x2f, /*upper=*/true);
  EXPECT_EQ(escaped, "2F");
}

TEST(ReadFileCapped, ReadsSmallFilesAndRefusesLargerOnes) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("clearbox-read-file-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "f", std::ios::binary) << "hello";
  EXPECT_EQ(*ReadFileCapped(dir / "f", 5), "hello");
  EXPECT_EQ(ReadFileCapped(dir / "f", 4).error().code, ErrorCode::kLimitExceeded);
  EXPECT_EQ(ReadFileCapped(dir / "missing", 4).error().code, ErrorCode::kIo);
  EXPECT_EQ(ReadFileCapped(dir, 4).error().code, ErrorCode::kIo);  // a directory
  ASSERT_TRUE(WriteWholeFile(dir / "w", std::string_view("a\0b", 3)));
  EXPECT_EQ(*ReadFileCapped(dir / "w", 3), std::string("a\0b", 3));
  ASSERT_TRUE(WriteWholeFile(dir / "w", "c"));  // truncates
  EXPECT_EQ(*ReadFileCapped(dir / "w", 3), "c");
  EXPECT_EQ(WriteWholeFile(dir / "missing" / "w", "x").error().code, ErrorCode::kIo);
  std::filesystem::remove_all(dir);
}

TEST(Confidence, ClampsIntoUnitInterval) {
  EXPECT_EQ(Confidence(1.5).value(), 1.0);
  EXPECT_EQ(Confidence(-1).value(), 0.0);
  EXPECT_EQ(Confidence(0.95).value(), 0.95);
  EXPECT_LT(Confidence(0.5), Confidence(0.9));
}

TEST(Hashing, Sha256KnownVector) {
  const std::string abc = "abc";
  EXPECT_EQ(Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(abc.data()), abc.size())),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOffset(0x40), "0x00000040");
}

TEST(Entropy, ZeroForConstantEightForUniform) {
  std::vector<std::uint8_t> zeros(1000, 0);
  EXPECT_DOUBLE_EQ(ShannonEntropy(zeros), 0.0);
  std::vector<std::uint8_t> all(256 * 4);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  EXPECT_NEAR(ShannonEntropy(all), 8.0, 1e-9);
}

TEST(Budget, StopsAtTotalBytesAndRatio) {
  Limits limits;
  limits.max_total_bytes = 100;
  Budget run(limits);
  EXPECT_TRUE(run.ChargeBytes(60));
  auto over = run.ChargeBytes(60);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kLimitExceeded);

  Limits ratio_limits;
  ratio_limits.max_ratio = 10;
  Budget run2(ratio_limits);
  ChunkBudget chunk(run2, 1024 * 1024);  // 1 MiB in: ratio check starts past 16 MiB out
  EXPECT_TRUE(chunk.ChargeOutput(Limits::kRatioFloorBytes));
  auto bomb = chunk.ChargeOutput(Limits::kRatioFloorBytes);  // 32 MiB out of 1 MiB in: 32:1
  ASSERT_FALSE(bomb);
  EXPECT_EQ(bomb.error().code, ErrorCode::kLimitExceeded);
  Limits tight;
  tight.max_ratio = 2;
  Budget run3(tight);
  ChunkBudget chunk3(run3, 1024);
  auto r = chunk3.ChargeOutput(Limits::kRatioFloorBytes + 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLimitExceeded);
}

TEST(Budget, RefusedChargesAreNotCounted) {
  Limits limits;
  limits.max_total_bytes = 1000;
  Budget run(limits);
  // A hostile size claim (a 17 GiB sparse member) is refused and leaves the budget as it was.
  EXPECT_FALSE(run.ChargeBytes(17ULL << 30));
  EXPECT_EQ(run.bytes_written(), 0u);
  EXPECT_TRUE(run.ChargeBytes(1000));
  EXPECT_FALSE(run.ChargeBytes(1));
  EXPECT_EQ(run.bytes_written(), 1000u);
}

TEST(Budget, ChargesNearTwoToTheSixtyFourDoNotWrap) {
  Limits limits;
  Budget run(limits);
  EXPECT_TRUE(run.ChargeBytes(100));
  // 100 + (2^64 - 50) would wrap to 50 with plain addition.
  EXPECT_FALSE(run.ChargeBytes(UINT64_MAX - 49));
  EXPECT_FALSE(run.ChargeBytes(UINT64_MAX));
  EXPECT_EQ(run.bytes_written(), 100u);
  ChunkBudget chunk(run, 10);
  EXPECT_FALSE(chunk.ChargeOutput(UINT64_MAX));
  EXPECT_EQ(chunk.output_bytes(), 0u);
  EXPECT_EQ(run.bytes_written(), 100u);
  EXPECT_TRUE(chunk.ChargeOutput(1000));
}

TEST(Budget, ExpansionAllowanceCoversEverythingUnpackedBelow) {
  // A 1 KiB container: it and all that comes out of it, at any depth, get 16 MiB (the floor).
  Limits limits;
  Budget run(limits);
  auto image = std::make_shared<ExpansionAccount>(nullptr, 1ULL << 30, 250.0, "image");
  auto bomb_file = std::make_shared<ExpansionAccount>(image, 1024, 250.0, "bomb.zip");
  std::uint64_t written = 0;
  // Nested chunks: each inner zip is small, so its own allowance would let it write 16 MiB;
  // together they stop at the outer file's allowance.
  for (int i = 0; i < 64; ++i) {
    ChunkBudget chunk(run, 512, bomb_file, "inner");
    auto inner_file = std::make_shared<ExpansionAccount>(chunk.account(), 4096, 250.0, "z");
    ChunkBudget inner(run, 4096, inner_file, "zeros");
    while (inner.ChargeOutput(1 << 20)) written += 1 << 20;
  }
  EXPECT_EQ(written, Limits::kRatioFloorBytes);
  EXPECT_EQ(run.bytes_written(), Limits::kRatioFloorBytes);
  // A sibling of the bomb still gets its own allowance.
  auto sibling = std::make_shared<ExpansionAccount>(image, 1024, 250.0, "ok.tar");
  ChunkBudget ok(run, 1024, sibling, "ok");
  EXPECT_TRUE(ok.ChargeOutput(1 << 20));
  // A refusal deep down leaves every ancestor as it was.
  const std::uint64_t before = image->used();
  EXPECT_FALSE(ok.ChargeOutput(Limits::kRatioFloorBytes));
  EXPECT_EQ(image->used(), before);
  EXPECT_EQ(ok.RemainingOutput(), Limits::kRatioFloorBytes - (1 << 20));
}

TEST(Budget, FileCountLimit) {
  Limits limits;
  limits.max_files = 2;
  Budget run(limits);
  EXPECT_TRUE(run.ChargeFile());
  EXPECT_TRUE(run.ChargeFile());
  EXPECT_FALSE(run.ChargeFile());
}

TEST(ThreadPool, RunsTasksThatSubmitTasks) {
  std::atomic<int> count{0};
  ThreadPool pool(2);
  for (int i = 0; i < 10; ++i) {
    pool.Submit([&] {
      ++count;
      pool.Submit([&] { ++count; });
    });
  }
  pool.WaitIdle();
  EXPECT_EQ(count.load(), 20);
}

// Child processes: exit status and log, the time limit, the stop hook, death by a signal and a
// program that does not exist; every stopped child is reaped.
TEST(ChildProcess, StatusLogTimeLimitHookAndSignal) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("clearbox-child-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ChildOptions options;
  options.log = dir / "log";
  options.poll = std::chrono::milliseconds(10);
  auto status = RunChildProcess({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}, options);
  ASSERT_TRUE(status.has_value()) << status.error().message;
  EXPECT_EQ(*status, 7);
  EXPECT_EQ(LogTail(options.log), "out\nerr");
  EXPECT_EQ(LogTail(options.log, 4), "err");

  options.timeout = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  auto slow = RunChildProcess({"/bin/sleep", "30"}, options);
  ASSERT_FALSE(slow.has_value());
  EXPECT_EQ(slow.error().code, ErrorCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  options.timeout = std::chrono::milliseconds(0);
  int polls = 0;
  options.keep_going = [&polls] { return ++polls >= 3 ? std::string("stopped") : std::string(); };
  auto stopped = RunChildProcess({"/bin/sleep", "30"}, options);
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().message, "stopped");

  options.keep_going = nullptr;
  auto killed = RunChildProcess({"/bin/sh", "-c", "kill -SEGV $$"}, options);
  ASSERT_FALSE(killed.has_value());
  EXPECT_EQ(killed.error().code, ErrorCode::kInternal);
  EXPECT_NE(killed.error().message.find("signal 11"), std::string::npos) << killed.error().message;

  auto missing = RunChildProcess({"/nonexistent/program"}, options);
  EXPECT_FALSE(missing.has_value());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace clearbox
