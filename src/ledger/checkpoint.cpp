// Checkpoint and proof-file codecs (c2sp.org/tlog-checkpoint, c2sp.org/tlog-proof).
#include "ledger/checkpoint.hpp"

#include <cstring>

#include "ledger/encoding.hpp"
#include "ledger/note.hpp"

namespace clearbox::ledger {
namespace {

constexpr std::size_t kMaxProofHashes = 63;

Unexpected Malformed(const std::string& why) {
  return Fail(ErrorCode::kMalformed, why);
}

bool HasControlBytes(std::string_view line) {
  for (char c : line) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) return true;
  }
  return false;
}

// Splits off one '\n'-terminated line; false if there is no '\n'.
bool TakeLine(std::string_view* text, std::string_view* line) {
  const auto nl = text->find('\n');
  if (nl == std::string_view::npos) return false;
  *line = text->substr(0, nl);
  text->remove_prefix(nl + 1);
  return true;
}

// Reads "<keyword> <decimal>" and hash lines up to the blank line; leaves the rest in `text`.
Result<std::vector<Hash>> TakeHashLines(std::string_view* text) {
  std::vector<Hash> out;
  std::string_view line;
  while (true) {
    if (!TakeLine(text, &line)) return Malformed("proof file ends before the blank line");
    if (line.empty()) break;
    if (out.size() == kMaxProofHashes) return Malformed("proof has too many hashes");
    auto h = ParseHashBase64(line);
    if (!h) return Forward(h);
    out.push_back(*h);
  }
  return out;
}

Result<void> CheckEmbeddedCheckpoint(std::string_view note_text) {
  auto note = ParseNote(note_text);
  if (!note) return Malformed("proof file's checkpoint is not a signed note");
  auto cp = ParseCheckpoint(note->text);
  if (!cp) return Forward(cp);
  return {};
}

}  // namespace

Result<Hash> ParseHashBase64(std::string_view text) {
  auto raw = Base64Decode(text);
  if (!raw) return Forward(raw);
  if (raw->size() != 32) return Malformed("hash is not 32 bytes");
  Hash h{};
  std::memcpy(h.data(), raw->data(), 32);
  return h;
}

std::string HashBase64(const Hash& hash) {
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  std::string out = checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
                    HashBase64(checkpoint.root) + "\n";
  for (const auto& e : checkpoint.extensions) out += e + "\n";
  return out;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  Checkpoint cp;
  std::string_view line;
  if (!TakeLine(&text, &line) || line.empty() || HasControlBytes(line)) {
    return Malformed("checkpoint origin line missing or invalid");
  }
  cp.origin = std::string(line);
  if (!TakeLine(&text, &line)) return Malformed("checkpoint size line missing");
  auto size = ParseDecimal(line);
  if (!size) return Malformed("checkpoint size is not a canonical decimal");
  cp.size = *size;
  if (!TakeLine(&text, &line)) return Malformed("checkpoint root line missing");
  auto root = ParseHashBase64(line);
  if (!root) return Malformed("checkpoint root is not a canonical base64 32-byte hash");
  cp.root = *root;
  while (!text.empty()) {
    if (!TakeLine(&text, &line)) return Malformed("checkpoint extension line not terminated");
    if (line.empty() || HasControlBytes(line)) return Malformed("empty or invalid extension line");
    cp.extensions.emplace_back(line);
  }
  return cp;
}

std::string FormatInclusionProofFile(const InclusionProofFile& proof) {
  std::string out(kTlogProofHeader);
  out += "\n";
  if (proof.extra) out += "extra " + Base64Encode(*proof.extra) + "\n";
  out += "index " + std::to_string(proof.index) + "\n";
  for (const auto& h : proof.path) out += HashBase64(h) + "\n";
  out += "\n";
  out += proof.signed_checkpoint;
  return out;
}

std::string FormatConsistencyProofFile(const ConsistencyProofFile& proof) {
  std::string out(kConsistencyProofHeader);
  out += "\nold " + std::to_string(proof.old_size) + "\n";
  for (const auto& h : proof.path) out += HashBase64(h) + "\n";
  out += "\n";
  out += proof.signed_checkpoint;
  return out;
}

Result<InclusionProofFile> ParseInclusionProofFile(std::string_view text) {
  InclusionProofFile out;
  std::string_view line;
  if (!TakeLine(&text, &line) || line != kTlogProofHeader)
    return Malformed("not a tlog-proof file");
  if (!TakeLine(&text, &line)) return Malformed("tlog-proof index line missing");
  if (line.starts_with("extra ")) {
    auto extra = Base64Decode(line.substr(6));
    if (!extra) return Malformed("tlog-proof extra is not canonical base64");
    out.extra = *extra;
    if (!TakeLine(&text, &line)) return Malformed("tlog-proof index line missing");
  }
  if (!line.starts_with("index ")) return Malformed("tlog-proof index line missing");
  auto index = ParseDecimal(line.substr(6));
  if (!index) return Malformed("tlog-proof index is not a canonical decimal");
  out.index = *index;
  auto path = TakeHashLines(&text);
  if (!path) return Forward(path);
  out.path = std::move(*path);
  CLEARBOX_TRY(CheckEmbeddedCheckpoint(text));
  out.signed_checkpoint = std::string(text);
  return out;
}

Result<ConsistencyProofFile> ParseConsistencyProofFile(std::string_view text) {
  ConsistencyProofFile out;
  std::string_view line;
  if (!TakeLine(&text, &line) || line != kConsistencyProofHeader) {
    return Malformed("not a consistency proof file");
  }
  if (!TakeLine(&text, &line) || !line.starts_with("old ")) return Malformed("old line missing");
  auto old_size = ParseDecimal(line.substr(4));
  if (!old_size) return Malformed("old size is not a canonical decimal");
  out.old_size = *old_size;
  auto path = TakeHashLines(&text);
  if (!path) return Forward(path);
  out.path = std::move(*path);
  CLEARBOX_TRY(CheckEmbeddedCheckpoint(text));
  out.signed_checkpoint = std::string(text);
  return out;
}

}  // namespace clearbox::ledger
