#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/hashing.hpp"
#include "core/mapped_file.hpp"
#include "unpack/engine.hpp"

namespace clearbox::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/clearbox-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("CLEARBOX_KEEP_TMP")) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

int RunShell(const std::string& command, std::string* output) {
  const std::string full = "(" + command + ") 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf{};
  std::string out;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  if (output) *output = out;
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

bool HaveTool(const std::string& tool) {
  return RunShell("command -v " + tool + " >/dev/null") == 0;
}

std::string PseudoRandomBytes(std::uint64_t seed, std::size_t size) {
  std::string out(size, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x & 0xff);
  }
  return out;
}

void WriteFileBytes(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!f.good()) throw std::runtime_error("cannot write " + path.string());
}

std::string ReadFileBytes(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string FileSha256(const fs::path& path) {
  auto mapped = MappedFile::Open(path.string());
  if (!mapped) return "";
  return Sha256Hex(mapped->bytes());
}

TreeFacts MakeSampleTree(const fs::path& dir, int scale) {
  const auto s = static_cast<std::size_t>(scale);
  WriteFileBytes(dir / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  WriteFileBytes(dir / "etc/config/network", "config interface 'lan'\n\toption proto 'static'\n");
  WriteFileBytes(dir / "bin/busybox", PseudoRandomBytes(1, 70000 * s));
  WriteFileBytes(dir / "lib/libc.so.6", PseudoRandomBytes(2, 130000 * s));
  std::string text;
  for (int i = 0; i < 2000 * scale; ++i) text += "line " + std::to_string(i) + " of a log\n";
  WriteFileBytes(dir / "var/log/messages", text);
  WriteFileBytes(dir / "empty.txt", "");
  WriteFileBytes(dir / "deep/a/b/c/d/e/file.bin", PseudoRandomBytes(3, 5000));
  WriteFileBytes(dir / "www/index.html", "<html><body>router</body></html>\n");
  return HashTree(dir);
}

TreeFacts HashTree(const fs::path& dir) {
  TreeFacts facts;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_regular_file(/*no follow*/) || it->is_symlink()) continue;
    const auto rel = fs::relative(it->path(), dir).generic_string();
    facts[rel] = FileFacts{static_cast<std::uint64_t>(it->file_size()), FileSha256(it->path())};
  }
  return facts;
}

TreeFacts ManifestFilesUnder(const unpack::Manifest& manifest, const std::string& prefix) {
  TreeFacts facts;
  const std::string p = prefix + "/";
  for (const auto& f : manifest.files) {
    if (f.type != unpack::EntryType::kFile && f.type != unpack::EntryType::kHardlink) continue;
    if (!f.path.starts_with(p)) continue;
    const std::string rel = f.path.substr(p.size());
    if (rel.find(".extract/") != std::string::npos) continue;  // nested extractions
    facts[rel] = FileFacts{f.size, f.sha256};
  }
  return facts;
}

unpack::Manifest UnpackForTest(const fs::path& image, const fs::path& out, Limits limits) {
  unpack::UnpackOptions options;
  options.image_path = image.string();
  options.output_dir = out.string();
  options.limits = limits;
  auto manifest = unpack::Unpack(options);
  EXPECT_TRUE(manifest.has_value()) << (manifest ? "" : manifest.error().message);
  if (!manifest) return {};
  return *manifest;
}

std::string FindChunkDir(const unpack::Manifest& manifest, const std::string& format) {
  for (const auto& c : manifest.chunks) {
    if (c.format == format) return c.extracted_to;
  }
  return "";
}

const unpack::ChunkRecord* FindChunk(const unpack::Manifest& manifest, const std::string& format) {
  for (const auto& c : manifest.chunks) {
    if (c.format == format) return &c;
  }
  return nullptr;
}

fs::path SourceRoot() {
  const char* root = std::getenv("CLEARBOX_SOURCE_DIR");
  return root && *root ? fs::path(root) : fs::path(__FILE__).parent_path() / "../..";
}

std::string FixtureScript(const std::string& script) {
  return "python3 " + (SourceRoot() / "scripts/fixtures" / script).string();
}

bool HasProblem(const unpack::Manifest& manifest, const std::string& kind) {
  for (const auto& p : manifest.problems) {
    if (p.kind == kind) return true;
  }
  return false;
}

void ExpectCutChunkTruncated(const std::string& image, const std::string& format) {
  TempDir tmp;
  WriteFileBytes(tmp / "cut.bin", image);
  const auto m = UnpackForTest(tmp / "cut.bin", tmp / "out");
  const unpack::ChunkRecord* chunk = FindChunk(m, format);
  ASSERT_NE(chunk, nullptr) << "no " << format << " chunk";
  EXPECT_FALSE(chunk->complete);
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

std::string ClearboxBinary() {
  const char* bin = std::getenv("CLEARBOX_BIN");
  return bin ? bin : "clearbox";
}

}  // namespace clearbox::testing
