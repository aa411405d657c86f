#include "unpack/manifest.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <tuple>

#include "core/hex.hpp"

namespace clearbox::unpack {

using Json = nlohmann::ordered_json;

namespace {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // the sequence runs past the end
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// Writes `text` under `key`; a value that is not UTF-8 (JSON shows it with U+FFFD) also gets
// its exact bytes under `key`_hex so that nothing of a hostile name is lost.
void PutName(Json& j, const char* key, const std::string& text) {
  j[key] = text;
  if (!IsUtf8(text)) j[std::string(key) + "_hex"] = HexEncode(text);
}

// Reads what PutName wrote: the exact bytes when `key`_hex is present.
std::string GetName(const Json& j, const char* key) {
  const std::string hex_key = std::string(key) + "_hex";
  if (j.contains(hex_key)) {
    const auto hex = j.at(hex_key).get<std::string>();
    if (IsLowerHex(hex)) {
      if (auto raw = HexDecode(hex)) return *raw;
    }
    throw std::runtime_error(hex_key + " is not lower-case hex");
  }
  return j.at(key).get<std::string>();
}

}  // namespace

std::string_view EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kFile: return "file";
    case EntryType::kDirectory: return "directory";
    case EntryType::kSymlink: return "symlink";
    case EntryType::kHardlink: return "hardlink";
    case EntryType::kCharDevice: return "char-device";
    case EntryType::kBlockDevice: return "block-device";
    case EntryType::kFifo: return "fifo";
    case EntryType::kSocket: return "socket";
  }
  return "unknown";
}

static std::optional<EntryType> EntryTypeFromName(std::string_view name) {
  for (auto t :
       {EntryType::kFile, EntryType::kDirectory, EntryType::kSymlink, EntryType::kHardlink,
        EntryType::kCharDevice, EntryType::kBlockDevice, EntryType::kFifo, EntryType::kSocket}) {
    if (EntryTypeName(t) == name) return t;
  }
  return std::nullopt;
}

void Canonicalize(Manifest& m) {
  std::sort(m.chunks.begin(), m.chunks.end(), [](const ChunkRecord& a, const ChunkRecord& b) {
    return std::tie(a.container, a.offset, a.format) < std::tie(b.container, b.offset, b.format);
  });
  std::sort(m.files.begin(), m.files.end(),
            [](const ExtractedEntry& a, const ExtractedEntry& b) { return a.path < b.path; });
  std::sort(m.gaps.begin(), m.gaps.end(), [](const GapRecord& a, const GapRecord& b) {
    return std::tie(a.container, a.offset) < std::tie(b.container, b.offset);
  });
  std::sort(m.problems.begin(), m.problems.end(),
            [](const ProblemRecord& a, const ProblemRecord& b) {
              const auto ao = a.offset.value_or(0);
              const auto bo = b.offset.value_or(0);
              return std::tie(a.path, ao, a.kind, a.handler, a.message) <
                     std::tie(b.path, bo, b.kind, b.handler, b.message);
            });
}

static std::string ModeOctal(std::uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

std::string ManifestToJson(const Manifest& m) {
  Json root;
  root["schema_version"] = Manifest::kSchemaVersion;
  root["image"] = {{"path", m.image.path}, {"size", m.image.size}, {"sha256", m.image.sha256}};
  Json chunks = Json::array();
  for (const auto& c : m.chunks) {
    Json j;
    j["container"] = c.container;
    j["offset"] = c.offset;
    j["length"] = c.length ? Json(*c.length) : Json(nullptr);
    j["format"] = c.format;
    j["handler"] = c.handler;
    j["extracted_to"] = c.extracted_to;
    j["depth"] = c.depth;
    j["complete"] = c.complete;
    if (!c.metadata.empty()) j["metadata"] = c.metadata;
    chunks.push_back(std::move(j));
  }
  root["chunks"] = std::move(chunks);
  Json files = Json::array();
  for (const auto& f : m.files) {
    Json j;
    PutName(j, "path", f.path);
    j["type"] = EntryTypeName(f.type);
    if (f.type == EntryType::kFile || f.type == EntryType::kHardlink) {
      j["size"] = f.size;
      j["sha256"] = f.sha256;
    }
    j["mode"] = ModeOctal(f.mode);
    if (f.type == EntryType::kSymlink || f.type == EntryType::kHardlink) {
      PutName(j, "link_target", f.link_target);
    }
    if (f.type == EntryType::kCharDevice || f.type == EntryType::kBlockDevice) {
      j["device"] = {{"major", f.device_major}, {"minor", f.device_minor}};
    }
    j["created"] = f.created;
    j["chain"] = f.chain;
    files.push_back(std::move(j));
  }
  root["files"] = std::move(files);
  Json gaps = Json::array();
  for (const auto& g : m.gaps) {
    gaps.push_back({{"container", g.container},
                    {"offset", g.offset},
                    {"length", g.length},
                    {"entropy", std::round(g.entropy * 1000.0) / 1000.0}});
  }
  root["gaps"] = std::move(gaps);
  Json problems = Json::array();
  for (const auto& p : m.problems) {
    Json j;
    j["kind"] = p.kind;
    PutName(j, "path", p.path);
    j["offset"] = p.offset ? Json(*p.offset) : Json(nullptr);
    j["handler"] = p.handler;
    j["message"] = p.message;
    problems.push_back(std::move(j));
  }
  root["problems"] = std::move(problems);
  return root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<Manifest> ParseManifestJson(std::string_view text) {
  try {
    const Json root = Json::parse(text);
    Manifest m;
    m.image.path = root.at("image").at("path").get<std::string>();
    m.image.size = root.at("image").at("size").get<std::uint64_t>();
    m.image.sha256 = root.at("image").at("sha256").get<std::string>();
    for (const auto& j : root.at("chunks")) {
      ChunkRecord c;
      c.container = j.at("container").get<std::string>();
      c.offset = j.at("offset").get<std::uint64_t>();
      if (!j.at("length").is_null()) c.length = j.at("length").get<std::uint64_t>();
      c.format = j.at("format").get<std::string>();
      c.handler = j.at("handler").get<std::string>();
      c.extracted_to = j.at("extracted_to").get<std::string>();
      c.depth = j.at("depth").get<std::uint32_t>();
      c.complete = j.at("complete").get<bool>();
      if (j.contains("metadata")) {
        c.metadata = j.at("metadata").get<std::map<std::string, std::string>>();
      }
      m.chunks.push_back(std::move(c));
    }
    for (const auto& j : root.at("files")) {
      ExtractedEntry f;
      f.path = GetName(j, "path");
      auto type = EntryTypeFromName(j.at("type").get<std::string>());
      if (!type) return Fail(ErrorCode::kMalformed, "manifest: unknown entry type");
      f.type = *type;
      if (j.contains("size")) f.size = j.at("size").get<std::uint64_t>();
      if (j.contains("sha256")) f.sha256 = j.at("sha256").get<std::string>();
      f.mode = static_cast<std::uint32_t>(std::stoul(j.at("mode").get<std::string>(), nullptr, 8));
      if (j.contains("link_target")) f.link_target = GetName(j, "link_target");
      if (j.contains("device")) {
        f.device_major = j.at("device").at("major").get<std::uint32_t>();
        f.device_minor = j.at("device").at("minor").get<std::uint32_t>();
      }
      f.created = j.at("created").get<bool>();
      f.chain = j.at("chain").get<std::vector<std::string>>();
      m.files.push_back(std::move(f));
    }
    for (const auto& j : root.at("gaps")) {
      m.gaps.push_back({j.at("container").get<std::string>(), j.at("offset").get<std::uint64_t>(),
                        j.at("length").get<std::uint64_t>(), j.at("entropy").get<double>()});
    }
    for (const auto& j : root.at("problems")) {
      ProblemRecord p;
      p.kind = j.at("kind").get<std::string>();
      p.path = GetName(j, "path");
      if (!j.at("offset").is_null()) p.offset = j.at("offset").get<std::uint64_t>();
      p.handler = j.at("handler").get<std::string>();
      p.message = j.at("message").get<std::string>();
      m.problems.push_back(std::move(p));
    }
    return m;
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kMalformed, std::string("manifest: ") + e.what());
  }
}

}  // namespace clearbox::unpack
