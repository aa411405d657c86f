// Digests of equivalence sides: a file's SHA-256, a directory's tree digest.
#include "equiv/side_digest.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/hashing.hpp"
#include "core/mapped_file.hpp"

namespace clearbox::equiv {
namespace fs = std::filesystem;

Result<std::string> FileSha256(const fs::path& path) {
  auto mapped = MappedFile::Open(path.string());
  if (!mapped)
    return Fail(ErrorCode::kIo, "cannot digest " + path.string() + ": " + mapped.error().message);
  return Sha256Hex(mapped->bytes());
}

Result<std::string> TreeSha256(const fs::path& root) {
  std::vector<std::pair<std::string, fs::file_type>> entries;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot list " + root.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Fail(ErrorCode::kIo, "cannot list " + root.string() + ": " + ec.message());
    if (entries.size() >= kMaxDigestEntries) {
      return Fail(ErrorCode::kLimitExceeded, root.string() + " holds more than " +
                                                 std::to_string(kMaxDigestEntries) + " entries");
    }
    std::error_code type_ec;
    entries.emplace_back(it->path().lexically_relative(root).generic_string(),
                         it->symlink_status(type_ec).type());
  }
  std::sort(entries.begin(), entries.end());
  Sha256 tree;
  const auto add = [&tree](const std::string& text) {
    tree.Update(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  };
  for (const auto& [relative, type] : entries) {
    const fs::path full = root / relative;
    switch (type) {
      case fs::file_type::directory: add("d " + relative + "\n"); break;
      case fs::file_type::regular: {
        auto digest = FileSha256(full);
        if (!digest) return Unexpected(digest.error());
        add("f " + relative + "\n" + *digest + "\n");
        break;
      }
      case fs::file_type::symlink: {
        const fs::path target = fs::read_symlink(full, ec);
        if (ec) return Fail(ErrorCode::kIo, "cannot read link " + full.string());
        add("l " + relative + "\n" + target.string() + "\n");
        break;
      }
      default: add("o " + relative + "\n"); break;
    }
  }
  return tree.FinishHex();
}

}  // namespace clearbox::equiv
