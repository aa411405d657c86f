// Encrypted firmware: D-Link MH01 images made by scripts/fixtures/make-mh01.py around a
// payload made by real tools (tar | gzip), encrypted by the real `openssl enc`; OpenSSL enc
// data made by `openssl enc` directly.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/hex.hpp"
#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string Fixture(const std::string& script) {
  return FixtureScript(script);
}

std::string MakeMh01() {
  return Fixture("make-mh01.py");
}

void MakePayload(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() + "/tree && tar -cf - . | gzip -n > ../payload.tgz"), 0);
}

TEST(Mh01, DecryptedWithThePublicPassphraseAndUnpacked) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir tmp;
  MakePayload(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeMh01() + " payload.tgz fw.bin"), 0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "mh01");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 0u);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(chunk->metadata.at("model"), "R15 > v1.20");
  EXPECT_EQ(chunk->metadata.at("decrypted"), "yes");
  EXPECT_EQ(chunk->metadata.at("iv"), "00112233445566778899aabbccddeeff");
  const auto files = ManifestFilesUnder(m, chunk->extracted_to);
  const std::string plain = ReadFileBytes(tmp / "out" / chunk->extracted_to / "decrypted.bin");
  EXPECT_EQ(plain, "MH01" + std::string(28, '\0') + ReadFileBytes(tmp / "payload.tgz"));
  EXPECT_EQ(files.at("signature.bin").size, 256u);
  EXPECT_EQ(files.count("encrypted.bin"), 0u);
  // The payload inside the plaintext is unpacked in turn: the sample tree comes back.
  EXPECT_NE(FindChunk(m, "gzip"), nullptr);
  EXPECT_NE(FindChunk(m, "tar"), nullptr);
  EXPECT_TRUE(m.problems.empty());
}

TEST(Mh01, UnknownPassphraseCarvesTheCiphertextWhichIsRecognised) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir tmp;
  MakePayload(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeMh01() +
                     " payload.tgz fw.bin --passphrase 00000000000000000000000000000000"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "mh01");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->metadata.at("decrypted"), "no: no known passphrase fits");
  EXPECT_EQ(chunk->metadata.count("model"), 0u);
  const auto files = ManifestFilesUnder(m, chunk->extracted_to);
  ASSERT_EQ(files.count("encrypted.bin"), 1u);
  EXPECT_EQ(files.count("decrypted.bin"), 0u);
  // The carved ciphertext is OpenSSL enc data: recognised with its salt.
  const ChunkRecord* enc = FindChunk(m, "openssl-enc");
  ASSERT_NE(enc, nullptr);
  EXPECT_EQ(enc->metadata.at("salt"), "a1b2c3d4e5f60718");
  EXPECT_EQ(enc->extracted_to, "");
  EXPECT_EQ(FindChunk(m, "gzip"), nullptr);
}

TEST(Mh01, HostileHeadersAreReportedOrRejected) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir tmp;
  MakePayload(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeMh01() + " payload.tgz fw.bin"), 0);
  const std::string image = ReadFileBytes(tmp / "fw.bin");
  // Cut inside the ciphertext: recognised and reported truncated.
  WriteFileBytes(tmp / "cut.bin", image.substr(0, image.size() / 2));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  EXPECT_TRUE(HasProblem(cut, "truncated"));
  EXPECT_EQ(FindChunk(cut, "gzip"), nullptr);
  // IV that is not hex, and encrypted size that is not whole AES blocks: not decrypted.
  std::string bad_iv = image;
  bad_iv[40] = 'z';
  WriteFileBytes(tmp / "bad-iv.bin", bad_iv);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "bad-iv.bin", tmp / "out-iv"), "mh01"), nullptr);
  std::string bad_size = image;
  bad_size[24] = static_cast<char>(bad_size[24] + 1);
  WriteFileBytes(tmp / "bad-size.bin", bad_size);
  const auto odd = UnpackForTest(tmp / "bad-size.bin", tmp / "out-size");
  EXPECT_TRUE(HasProblem(odd, "malformed"));
  // Huge sizes: truncated, no allocation of the declared size.
  std::string huge = image;
  huge.replace(24, 4, std::string("\xf0\xff\xff\xff", 4));
  WriteFileBytes(tmp / "huge.bin", huge);
  EXPECT_TRUE(HasProblem(UnpackForTest(tmp / "huge.bin", tmp / "out-huge"), "truncated"));
  // A right passphrase whose ciphertext was altered at the end: bad padding is a problem. (The
  // last byte of the next-to-last block flips the padding length byte by 0x80: never valid.)
  std::string tail = image;
  const std::size_t at = image.size() - 256 - 17;
  tail[at] = static_cast<char>(tail[at] ^ 0x80);
  WriteFileBytes(tmp / "tail.bin", tail);
  const auto padded = UnpackForTest(tmp / "tail.bin", tmp / "out-tail");
  ASSERT_NE(FindChunk(padded, "mh01"), nullptr);
  EXPECT_TRUE(HasProblem(padded, "malformed"));
}

// DLK: scripts/fixtures/make-dlk.py encrypts with the real openssl enc, 4 KiB blocks.
TEST(Dlk, DecryptedBlockByBlockAndUnpacked) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir tmp;
  MakePayload(tmp);
  const std::string dir = tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir + " && " + Fixture("make-dlk.py") + " payload.tgz fw.bin"), 0);
  WriteFileBytes(tmp / "flash.bin", PseudoRandomBytes(8, 1000) + ReadFileBytes(tmp / "fw.bin"));
  const auto m = UnpackForTest(tmp / "flash.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "dlk");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 1000u);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(chunk->metadata.at("rom_id"), "DLK6E8202001");
  EXPECT_EQ(chunk->metadata.at("model"), "R18");
  EXPECT_EQ(chunk->metadata.at("decrypted"), "yes");
  EXPECT_EQ(chunk->metadata.at("block_size"), "4096");
  const auto files = ManifestFilesUnder(m, chunk->extracted_to);
  EXPECT_EQ(files.at("decrypted.bin").sha256, FileSha256(tmp / "payload.tgz"));
  EXPECT_EQ(files.at("signature.bin").size, 256u);
  EXPECT_NE(FindChunk(m, "tar"), nullptr);
  EXPECT_EQ(FindChunk(m, "jboot"), nullptr);  // the DLK chunk holds both headers
  EXPECT_TRUE(m.problems.empty());

  // An unknown passphrase: the ciphertext is carved, nothing decrypted.
  ASSERT_EQ(RunShell("cd " + dir + " && " + Fixture("make-dlk.py") +
                     " payload.tgz other.bin --passphrase 0123456789abcdef0123456789abcdef"),
            0);
  const auto other = UnpackForTest(tmp / "other.bin", tmp / "out-other");
  const ChunkRecord* enc = FindChunk(other, "dlk");
  ASSERT_NE(enc, nullptr);
  EXPECT_EQ(enc->metadata.at("decrypted"), "no: no known passphrase fits");
  EXPECT_EQ(ManifestFilesUnder(other, enc->extracted_to).count("encrypted.bin"), 1u);
  EXPECT_EQ(FindChunk(other, "tar"), nullptr);

  // Cut inside the ciphertext: not claimed as DLK; the first AUH header is still recognised
  // by the jboot handler, which carves the signature.
  const std::string image = ReadFileBytes(tmp / "fw.bin");
  WriteFileBytes(tmp / "cut.bin", image.substr(0, image.size() - 500));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  EXPECT_EQ(FindChunk(cut, "dlk"), nullptr);
  EXPECT_NE(FindChunk(cut, "jboot"), nullptr);
}

TEST(EncrptedImg, DecryptedToTheUbiImageWhoseTreeComesBack) {
  if (!HaveTool("openssl") || !HaveTool("ubinize") || !HaveTool("mkfs.ubifs")) {
    GTEST_SKIP() << "openssl or mtd-utils not installed";
  }
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  WriteFileBytes(tmp / "ubinize.cfg",
                 "[rootfs]\nmode=ubi\nimage=" + (tmp / "img.ubifs").string() +
                     "\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n");
  ASSERT_EQ(RunShell("mkfs.ubifs -r " + (tmp / "src").string() + " -m 2048 -e 129024 -c 200 -o " +
                     (tmp / "img.ubifs").string() + " && ubinize -o " + (tmp / "ubi.img").string() +
                     " -m 2048 -p 128KiB -s 512 -Q 7 " + (tmp / "ubinize.cfg").string()),
            0);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + Fixture("make-encrpted-img.py") +
                     " ubi.img fw.bin"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "encrpted-img");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->metadata.at("decrypted"), "yes");
  const std::string ubi = ReadFileBytes(tmp / "ubi.img");
  const std::string plain = ReadFileBytes(tmp / "out" / chunk->extracted_to / "decrypted.ubi");
  ASSERT_GE(plain.size(), ubi.size());
  EXPECT_TRUE(plain.compare(0, ubi.size(), ubi) == 0);
  // UBI -> UBIFS -> the sample tree.
  const std::string ubifs_dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(ubifs_dir.empty());
  const TreeFacts got = ManifestFilesUnder(m, ubifs_dir);
  EXPECT_EQ(got, src);

  // Another key's image (the first block does not decrypt to UBI): recognised, not written.
  std::string other = ReadFileBytes(tmp / "fw.bin");
  other[20] = static_cast<char>(other[20] ^ 0x01);
  WriteFileBytes(tmp / "other.bin", other);
  const auto o = UnpackForTest(tmp / "other.bin", tmp / "out-other");
  const ChunkRecord* recognised = FindChunk(o, "encrpted-img");
  ASSERT_NE(recognised, nullptr);
  EXPECT_EQ(recognised->metadata.at("decrypted"),
            "no: the published key does not give a UBI image");
  EXPECT_EQ(FindChunk(o, "ubi"), nullptr);
  // Cut in the middle of an AES block: the whole blocks are decrypted, the rest reported.
  WriteFileBytes(tmp / "cut.bin", ReadFileBytes(tmp / "fw.bin").substr(0, 16 + 70000 * 16 + 5));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  EXPECT_NE(FindChunk(cut, "encrpted-img"), nullptr);
  EXPECT_TRUE(HasProblem(cut, "truncated"));
}

TEST(DlinkTlv, DecryptedWithTheKeyFromModelAndBoardId) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir tmp;
  MakePayload(tmp);
  const std::string dir = tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir + " && " + Fixture("make-dlink-tlv.py") + " payload.tgz fw.bin"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "dlink-tlv");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(chunk->metadata.at("model"), "DIR-2150");
  EXPECT_EQ(chunk->metadata.at("board_id"), "DIR2150A1");
  EXPECT_EQ(chunk->metadata.at("decrypted"), "yes");
  EXPECT_EQ(ReadFileBytes(tmp / "out" / chunk->extracted_to / "decrypted.bin"),
            ReadFileBytes(tmp / "payload.tgz"));
  EXPECT_NE(FindChunk(m, "tar"), nullptr);
  EXPECT_TRUE(m.problems.empty());

  // A wrong MD5 is reported; the image is still decrypted.
  ASSERT_EQ(RunShell("cd " + dir + " && " + Fixture("make-dlink-tlv.py") +
                     " payload.tgz bad.bin --bad-md5"),
            0);
  const auto bad = UnpackForTest(tmp / "bad.bin", tmp / "out-bad");
  ASSERT_NE(FindChunk(bad, "dlink-tlv"), nullptr);
  EXPECT_TRUE(HasProblem(bad, "malformed"));
  EXPECT_NE(FindChunk(bad, "tar"), nullptr);
  // Cut: truncated. No model name: not this format.
  const std::string image = ReadFileBytes(tmp / "fw.bin");
  WriteFileBytes(tmp / "cut.bin", image.substr(0, image.size() - 100));
  EXPECT_TRUE(HasProblem(UnpackForTest(tmp / "cut.bin", tmp / "out-cut"), "truncated"));
  std::string nameless = image;
  nameless[4] = '\0';
  WriteFileBytes(tmp / "nameless.bin", nameless);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "nameless.bin", tmp / "out-nameless"), "dlink-tlv"),
            nullptr);
}

TEST(Shrs, DecryptedToTheUImageWhichIsUnpacked) {
  if (!HaveTool("openssl") || !HaveTool("mkimage")) GTEST_SKIP() << "openssl or mkimage missing";
  TempDir tmp;
  MakePayload(tmp);
  const std::string dir = tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir +
                     " && mkimage -A mips -O linux -T firmware -C none -n 'DIR-1960' -d "
                     "payload.tgz fw.uimage >/dev/null && " +
                     Fixture("make-shrs.py") + " fw.uimage fw.bin"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "shrs");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(chunk->metadata.at("decrypted"), "yes");
  EXPECT_EQ(chunk->metadata.at("iv"), "0f0e0d0c0b0a09080706050403020100");
  const std::string uimage = ReadFileBytes(tmp / "fw.uimage");
  const std::string plain = ReadFileBytes(tmp / "out" / chunk->extracted_to / "decrypted.bin");
  ASSERT_GE(plain.size(), uimage.size());
  EXPECT_EQ(plain.substr(0, uimage.size()), uimage);
  EXPECT_NE(FindChunk(m, "uimage"), nullptr);
  EXPECT_NE(FindChunk(m, "tar"), nullptr);

  // Another key (the IV changed: the first block is no uImage): ciphertext carved.
  std::string other = ReadFileBytes(tmp / "fw.bin");
  other[12] = static_cast<char>(other[12] ^ 0x01);
  WriteFileBytes(tmp / "other.bin", other);
  const auto o = UnpackForTest(tmp / "other.bin", tmp / "out-other");
  const ChunkRecord* recognised = FindChunk(o, "shrs");
  ASSERT_NE(recognised, nullptr);
  EXPECT_EQ(recognised->metadata.at("decrypted"), "no: the published key does not give a uImage");
  EXPECT_EQ(FindChunk(o, "uimage"), nullptr);
  // Cut: truncated; a size that is not whole blocks: not SHRS.
  WriteFileBytes(tmp / "cut.bin", other.substr(0, other.size() - 16));
  EXPECT_TRUE(HasProblem(UnpackForTest(tmp / "cut.bin", tmp / "out-cut"), "truncated"));
  std::string odd = ReadFileBytes(tmp / "fw.bin");
  odd[11] = static_cast<char>(odd[11] + 1);
  WriteFileBytes(tmp / "odd.bin", odd);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "odd.bin", tmp / "out-odd"), "shrs"), nullptr);
}

TEST(OpensslEnc, RecognisedByHeaderAndEntropyNotByTheWordAlone) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir tmp;
  WriteFileBytes(tmp / "plain.txt", std::string(20000, 'a'));
  ASSERT_EQ(RunShell("openssl enc -aes-256-cbc -pbkdf2 -pass pass:secret -in '" +
                     (tmp / "plain.txt").string() + "' -out '" + (tmp / "enc.bin").string() +
                     "' 2>/dev/null"),
            0);
  const std::string enc = ReadFileBytes(tmp / "enc.bin");
  ASSERT_EQ(enc.substr(0, 8), "Salted__");
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(3, 1000) + enc);
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "openssl-enc");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 1000u);
  EXPECT_EQ(chunk->length, enc.size());
  EXPECT_EQ(chunk->metadata.at("salt"), HexEncode(enc.substr(8, 8)));
  EXPECT_EQ(chunk->metadata.at("ciphertext_bytes"), std::to_string(enc.size() - 16));

  // libcrypto's own "Salted__" string (text after it), a salt followed by zeros, and a
  // header with too little after it are not encrypted data.
  const std::string decoys[] = {
      "xx Salted__%s bad magic number" + std::string(600, ' '),
      "Salted__" + std::string("\x01\x82\x03\x84\x05\x86\x07\x88", 8) + std::string(4096, '\0'),
      "Salted__" + std::string("\x01\x82\x03\x84\x05\x86\x07\x88", 8) + PseudoRandomBytes(4, 100),
  };
  int n = 0;
  for (const std::string& decoy : decoys) {
    const std::string name = "decoy" + std::to_string(n++);
    WriteFileBytes(tmp / name, PseudoRandomBytes(5, 64) + decoy);
    EXPECT_EQ(FindChunk(UnpackForTest(tmp / name, tmp / (name + "-out")), "openssl-enc"), nullptr)
        << name;
  }
}

}  // namespace
}  // namespace clearbox::unpack
