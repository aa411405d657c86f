#include "portal/verdict_ledger.hpp"

#include <sys/stat.h>

#include "core/read_file.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/dsse.hpp"
#include "ledger/file_io.hpp"
#include "ledger/log_store.hpp"

namespace clearbox::portal {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxKeyFileBytes = 4096;

}  // namespace

Result<ledger::SignerKey> LoadOrCreateSignerKey(const fs::path& path, std::string_view name) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    auto key = ledger::GenerateSignerKey(name);
    if (!key) return Forward(key);
    CLEARBOX_TRY(
        ledger::WriteFileAtomically(path, ledger::FormatSignerKey(*key) + "\n", 0600, true));
  }
  auto text = ReadFileCapped(path, kMaxKeyFileBytes);
  if (!text) return Forward(text);
  std::string line = *text;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return ledger::ParseSignerKey(line);
}

Result<std::unique_ptr<VerdictLedger>> VerdictLedger::Open(const fs::path& dir) {
  const fs::path keys = dir / "keys";
  if (::mkdir(keys.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(ErrorCode::kIo, "cannot create " + keys.string());
  }
  auto attester = LoadOrCreateSignerKey(keys / "attester.skey", kAttesterKeyName);
  if (!attester) return Forward(attester);
  auto log_key = LoadOrCreateSignerKey(keys / "verdict-log.skey", kVerdictLogOrigin);
  if (!log_key) return Forward(log_key);
  const fs::path log_dir = dir / "verdict-log";
  std::error_code ec;
  if (!fs::exists(log_dir / "checkpoint", ec)) {
    CLEARBOX_TRY(ledger::LogStore::Init(log_dir, kVerdictLogOrigin, *log_key));
  }
  auto readable = ledger::LogStore::OpenForReading(log_dir);
  if (!readable) return Forward(readable);
  return std::unique_ptr<VerdictLedger>(
      new VerdictLedger(log_dir, std::move(*attester), ledger::PublicKeyOf(*log_key)));
}

Result<std::pair<std::string, std::uint64_t>> VerdictLedger::Publish(
    const std::string& statement_json) {
  auto envelope = ledger::SignEnvelope(ledger::kInTotoPayloadType, statement_json, attester_);
  if (!envelope) return Forward(envelope);
  std::string text = ledger::FormatEnvelope(*envelope);
  if (text.size() > ledger::kMaxEntryBytes) {
    return Fail(ErrorCode::kLimitExceeded, "the verdict's envelope is larger than a log entry");
  }
  auto index = writer_->Append(text);
  if (!index) return Forward(index);
  return std::pair{std::move(text), *index};
}

Result<std::string> VerdictLedger::InclusionProof(std::uint64_t index) {
  auto log = ledger::LogStore::OpenForReading(log_dir_);
  if (!log) return Forward(log);
  auto path = (*log)->Inclusion(index);
  if (!path) return Forward(path);
  return ledger::FormatInclusionProofFile(
      ledger::InclusionProofFile{std::nullopt, index, *path, (*log)->signed_checkpoint()});
}

std::string VerdictLedger::AttesterVerifierKey() const {
  return ledger::FormatVerifierKey(ledger::PublicKeyOf(attester_)) + "\n";
}

std::string VerdictLedger::LogVerifierKey() const {
  return ledger::FormatVerifierKey(log_key_) + "\n";
}

}  // namespace clearbox::portal
