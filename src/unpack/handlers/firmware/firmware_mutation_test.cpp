// Robustness: every firmware handler is run directly on many mutated copies (flipped bytes,
// random cuts) of a real fixture; under ASan/UBSan this must never crash, hang or leak.
#include <gtest/gtest.h>

#include <chrono>

#include "support/test_support.hpp"
#include "unpack/handler.hpp"
#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/registry.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

const Handler& HandlerNamed(std::string_view name) {
  for (const Handler* h : AllHandlers()) {
    if (h->Name() == name) return *h;
  }
  throw std::runtime_error("no handler " + std::string(name));
}

// Probes and extracts one input under small limits, into a fresh directory.
void RunOnce(const Handler& handler, const std::string& input, const fs::path& dir) {
  const ByteView bytes(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  auto probe = handler.Probe(bytes);
  if (!probe) return;
  ASSERT_LE(*probe, bytes.size());
  Limits limits;
  limits.max_total_bytes = 32 << 20;
  limits.max_files = 500;
  limits.handler_seconds = 5;
  Budget run(limits);
  ChunkBudget chunk(run, bytes.size());
  auto out = SafeDir::Create(dir.string(), "out", &chunk);
  ASSERT_TRUE(out.has_value());
  std::vector<ProblemRecord> problems;
  ExtractContext ctx(**out, chunk, "fuzz.bin", problems, std::string(handler.Name()), 0);
  auto consumed = handler.Extract(*probe ? bytes.subspan(0, *probe) : bytes, ctx);
  if (consumed) {
    EXPECT_LE(*consumed, bytes.size());
  }
  (void)(*out)->TakeEntries();
}

// Mutates `seed_image` `rounds` times and runs the handler on each copy.
void Mutate(std::string_view handler_name, const std::string& seed_image, int rounds,
            void (*fixup)(std::string&) = nullptr) {
  const Handler& handler = HandlerNamed(handler_name);
  TempDir tmp;
  std::uint64_t x = 0x9E3779B97F4A7C15ULL ^ seed_image.size();
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    std::string image = seed_image;
    const int flips = 1 + static_cast<int>(next() % 8);
    for (int f = 0; f < flips; ++f) {
      // Half the flips hit the first 256 bytes, where the headers are.
      const std::size_t span =
          (next() & 1) ? std::min<std::size_t>(256, image.size()) : image.size();
      image[next() % span] = static_cast<char>(next());
    }
    if (next() % 3 == 0) image.resize(next() % (image.size() + 1));
    if (fixup) fixup(image);
    RunOnce(handler, image, tmp / ("o" + std::to_string(i)));
    std::error_code ec;
    fs::remove_all(tmp / ("o" + std::to_string(i)), ec);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::seconds(30));  // a hang guard, not a benchmark
}

TEST(FirmwareMutation, UImage) {
  TempDir tmp;
  WriteFileBytes(tmp / "a", PseudoRandomBytes(51, 3000));
  WriteFileBytes(tmp / "b", "second\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkimage -A arm -O linux -T multi -C none -n m -d a:b m.img"),
            0);
  Mutate("uimage", ReadFileBytes(tmp / "m.img"), 400);
  // Again with the header CRC made valid, so that mutated header fields get through.
  Mutate("uimage", ReadFileBytes(tmp / "m.img"), 400, [](std::string& image) {
    if (image.size() < 64) return;
    image.replace(0, 4, "\x27\x05\x19\x56");
    image.replace(4, 4, std::string(4, '\0'));
    const auto crc = Crc32(ByteView(reinterpret_cast<const std::uint8_t*>(image.data()), 64));
    for (int i = 0; i < 4; ++i) image[4 + i] = static_cast<char>(crc >> (24 - 8 * i));
  });
}

TEST(FirmwareMutation, Fit) {
  TempDir tmp;
  WriteFileBytes(tmp / "k", PseudoRandomBytes(52, 2000));
  WriteFileBytes(tmp / "f.its", R"(/dts-v1/;
/ { description = "m"; #address-cells = <1>;
  images { kernel { data = /incbin/("./k"); type = "kernel"; arch = "arm"; os = "linux";
                    compression = "none"; load = <0>; entry = <0>; };
           blob { data = /incbin/("./k"); type = "firmware"; arch = "arm";
                  compression = "none"; }; };
  configurations { default = "c"; c { kernel = "kernel"; }; }; };
)");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkimage -f f.its in.itb >/dev/null && mkimage -E -f f.its ext.itb"),
            0);
  Mutate("fit", ReadFileBytes(tmp / "in.itb"), 300);
  Mutate("fit", ReadFileBytes(tmp / "ext.itb"), 300);
}

TEST(FirmwareMutation, Trx) {
  std::string body = PseudoRandomBytes(53, 2000);
  // v1 header: parts at 28 and 1028; the CRC is wrong, which only adds a problem.
  auto le32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
  };
  const std::string image =
      "HDR0" + le32(28 + 2000) + le32(0) + le32(1u << 16) + le32(28) + le32(1028) + le32(0) + body;
  Mutate("trx", image, 400);
}

TEST(FirmwareMutation, AndroidSparse) {
  TempDir tmp;
  std::string raw = PseudoRandomBytes(54, 8192);
  for (int i = 0; i < 2048; ++i) raw += "\x11\x22\x33\x44";
  raw += std::string(8192, '\0') + PseudoRandomBytes(55, 4096);
  WriteFileBytes(tmp / "raw.img", raw);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && img2simg raw.img s.img"), 0);
  Mutate("android-sparse", ReadFileBytes(tmp / "s.img"), 400);
}

}  // namespace
}  // namespace clearbox::unpack
