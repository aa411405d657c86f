#include "diff/rootfs_path.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace clearbox::diff {
namespace {

constexpr std::string_view kExtractSuffix = ".extract";

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    parts.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

// `x.extract` or `x.extract~N`: the directory the unpacker creates beside a container.
bool IsExtractionDirectoryName(std::string_view component) {
  const auto at = component.rfind(kExtractSuffix);
  if (at == std::string_view::npos || at == 0) return false;
  const std::string_view rest = component.substr(at + kExtractSuffix.size());
  if (rest.empty()) return true;
  return rest.size() > 1 && rest[0] == '~' &&
         rest.find_first_not_of("0123456789", 1) == std::string_view::npos;
}

// Whether parts[i] is where the unpacker puts chunk directories.
bool AtChunkPosition(const std::vector<std::string_view>& parts, std::size_t i) {
  return IsChunkDirectoryName(parts[i]) && (i == 0 || IsExtractionDirectoryName(parts[i - 1]));
}

std::string_view FormatOf(std::string_view chunk_dir) {
  return chunk_dir.substr(chunk_dir.find('.') + 1);
}

// Offset order without overflow: hex digits without leading zeros, shorter first.
std::tuple<std::size_t, std::string_view> OffsetKey(std::string_view chunk_dir) {
  std::string_view hex = chunk_dir.substr(2, chunk_dir.find('.') - 2);
  while (hex.size() > 1 && hex.front() == '0') hex.remove_prefix(1);
  return {hex.size(), hex};
}

}  // namespace

bool IsChunkDirectoryName(std::string_view component) {
  if (component.size() < 4 || component.substr(0, 2) != "0x") return false;
  const auto dot = component.find('.');
  if (dot == std::string_view::npos || dot == 2 || dot + 1 == component.size()) return false;
  const std::string_view hex = component.substr(2, dot - 2);
  return hex.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

RootfsPathNormaliser::RootfsPathNormaliser(const std::vector<std::string>& raw_paths) {
  // parent prefix -> format -> the chunk directories of that format under it
  std::map<std::string, std::map<std::string, std::set<std::string>>> siblings;
  for (const auto& raw : raw_paths) {
    const auto parts = SplitPath(raw);
    std::string prefix;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (AtChunkPosition(parts, i)) {
        siblings[prefix][std::string(FormatOf(parts[i]))].emplace(parts[i]);
      }
      if (i > 0) prefix += '/';
      prefix += parts[i];
    }
  }
  for (auto& [parent, formats] : siblings) {
    for (const auto& [format, name_set] : formats) {
      std::vector<std::string> names(name_set.begin(), name_set.end());
      std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
        return std::tuple(OffsetKey(a), a) < std::tuple(OffsetKey(b), b);
      });
      for (std::size_t k = 0; k < names.size(); ++k) {
        const std::string full = parent.empty() ? names[k] : parent + "/" + names[k];
        chunk_names_[full] = k == 0 ? format : format + "~" + std::to_string(k + 1);
      }
    }
  }
}

std::string RootfsPathNormaliser::Normalise(std::string_view raw) const {
  const auto parts = SplitPath(raw);
  std::string raw_prefix;
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      raw_prefix += '/';
      out += '/';
    }
    raw_prefix += parts[i];
    if (AtChunkPosition(parts, i)) {
      const auto found = chunk_names_.find(raw_prefix);
      out += found != chunk_names_.end() ? std::string_view(found->second) : FormatOf(parts[i]);
    } else {
      out += parts[i];
    }
  }
  return out;
}

std::string RootfsPathNormaliser::NormaliseText(std::string_view text) const {
  constexpr std::string_view kPathEnd = " \t\n\"'),;";
  constexpr std::string_view kPathStart = " \t\n\"'(";
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool at_start = i == 0 || kPathStart.find(text[i - 1]) != std::string_view::npos;
    if (at_start && text.substr(i, 2) == "0x") {
      const std::size_t end = std::min(text.find_first_of(kPathEnd, i), text.size());
      const std::string_view token = text.substr(i, end - i);
      if (IsChunkDirectoryName(token.substr(0, token.find('/')))) {
        out += Normalise(token);
        i = end;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace clearbox::diff
