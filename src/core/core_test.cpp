#include <gtest/gtest.h>

#include <atomic>

#include "core/budget.hpp"
#include "core/byte_reader.hpp"
#include "core/entropy.hpp"
#include "core/hashing.hpp"
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

}  // namespace
}  // namespace clearbox
