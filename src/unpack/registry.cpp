#include "unpack/registry.hpp"

#include <algorithm>
#include <array>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

std::vector<const Handler*> BuildList() {
  // One line per handler (keep sorted by name); AllHandlers() sorts again to be safe.
  // clang-format off
  std::vector<const Handler*> list = {
      &GetAndroidBootHandler(),
      &GetAndroidSparseHandler(),
      &GetAndroidSuperHandler(),
      &GetArHandler(),
      &GetArcadyanHandler(),
      &GetArjHandler(),
      &GetAutelHandler(),
      &GetBzip2Handler(),
      &GetCabHandler(),
      &GetCfeHandler(),
      &GetCompressHandler(),
      &GetCpioHandler(),
      &GetCramfsHandler(),
      &GetDahuaHandler(),
      &GetDeafbeadHandler(),
      &GetDkbsHandler(),
      &GetDlinkTlvHandler(),
      &GetDlkHandler(),
      &GetDlobHandler(),
      &GetDtbHandler(),
      &GetEcosHandler(),
      &GetEncrptedImgHandler(),
      &GetExfatHandler(),
      &GetExtfsHandler(),
      &GetFatHandler(),
      &GetFitHandler(),
      &GetGptHandler(),
      &GetGzipHandler(),
      &GetIntelFlashHandler(),
      &GetIntelHexHandler(),
      &GetIso9660Handler(),
      &GetJbootHandler(),
      &GetJffs2Handler(),
      &GetLhaHandler(),
      &GetLuksHandler(),
      &GetLz4Handler(),
      &GetLzipHandler(),
      &GetLzmaHandler(),
      &GetLzopHandler(),
      &GetMatterOtaHandler(),
      &GetMbrHandler(),
      &GetMh01Handler(),
      &GetNetgearChkHandler(),
      &GetOpensslEncHandler(),
      &GetPackImgHandler(),
      &GetQcow2Handler(),
      &GetQnxIfsHandler(),
      &GetRarHandler(),
      &GetRomfsHandler(),
      &GetRtkHandler(),
      &GetSeamaHandler(),
      &GetShrsHandler(),
      &GetSevenZipHandler(),
      &GetSquashfsHandler(),
      &GetSquashfsLegacyHandler(),
      &GetSrecHandler(),
      &GetTarHandler(),
      &GetTplinkHandler(),
      &GetTplinkRtosHandler(),
      &GetTrxHandler(),
      &GetUImageHandler(),
      &GetUbiHandler(),
      &GetUbifsHandler(),
      &GetUefiCapsuleHandler(),
      &GetUefiVolumeHandler(),
      &GetVdiHandler(),
      &GetVhdHandler(),
      &GetVmdkHandler(),
      &GetVxWorksHandler(),
      &GetWinCeHandler(),
      &GetXiaomiHdrHandler(),
      &GetXzHandler(),
      &GetYaffsHandler(),
      &GetZipHandler(),
      &GetZlibHandler(),
      &GetZstdHandler(),
  };
  // clang-format on
  std::sort(list.begin(), list.end(),
            [](const Handler* a, const Handler* b) { return a->Name() < b->Name(); });
  return list;
}

}  // namespace

std::span<const Handler* const> AllHandlers() {
  static const std::vector<const Handler*> kHandlers = BuildList();
  return kHandlers;
}

void ExtractContext::ReportProblem(const Error& error, std::string_view where) {
  ProblemRecord p;
  p.kind = std::string(ErrorCodeName(error.code));
  p.path = where.empty() ? out_.display_prefix() : out_.display_prefix() + "/" + std::string(where);
  p.offset = chunk_offset_;
  p.handler = handler_name_;
  p.message = error.message;
  std::lock_guard lock(mutex_);
  problems_.push_back(std::move(p));
}

void ExtractContext::SetMetadata(std::string_view key, std::string_view value) {
  const auto printable = [](std::string_view text) {
    std::string out(text.substr(0, kMaxMetadataChars));
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    return out;
  };
  std::string name = printable(key);
  std::lock_guard lock(mutex_);
  if (metadata_.size() >= kMaxMetadataEntries && !metadata_.contains(name)) return;
  metadata_[std::move(name)] = printable(value);
}

bool ExtractContext::ContinueAfter(const Result<void>& result, std::string_view where) {
  if (result) return true;
  switch (result.error().code) {
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kTimeout:
    case ErrorCode::kIo:
    case ErrorCode::kInternal: return false;
    default: ReportProblem(result.error(), where); return true;
  }
}

}  // namespace clearbox::unpack
