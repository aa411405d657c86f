// Accessors of every handler instance; one line per handler, grouped by family.
#pragma once

#include "unpack/handler.hpp"

namespace clearbox::unpack {

// compression
const Handler& GetBzip2Handler();
const Handler& GetCompressHandler();
const Handler& GetGzipHandler();
const Handler& GetLz4Handler();
const Handler& GetLzipHandler();
const Handler& GetLzmaHandler();
const Handler& GetLzopHandler();
const Handler& GetXzHandler();
const Handler& GetZstdHandler();
const Handler& GetZlibHandler();

// archive
const Handler& GetArHandler();
const Handler& GetArjHandler();
const Handler& GetCabHandler();
const Handler& GetCpioHandler();
const Handler& GetDeafbeadHandler();
const Handler& GetIso9660Handler();
const Handler& GetLhaHandler();
const Handler& GetRarHandler();
const Handler& GetSevenZipHandler();
const Handler& GetTarHandler();
const Handler& GetZipHandler();

// filesystem
const Handler& GetCramfsHandler();
const Handler& GetExfatHandler();
const Handler& GetExtfsHandler();
const Handler& GetFatHandler();
const Handler& GetJffs2Handler();
const Handler& GetRomfsHandler();
const Handler& GetSquashfsHandler();
const Handler& GetSquashfsLegacyHandler();
const Handler& GetUbiHandler();
const Handler& GetUbifsHandler();
const Handler& GetYaffsHandler();

// firmware
const Handler& GetDahuaHandler();
const Handler& GetAndroidSparseHandler();
const Handler& GetArcadyanHandler();
const Handler& GetAutelHandler();
const Handler& GetFitHandler();
const Handler& GetGptHandler();
const Handler& GetMatterOtaHandler();
const Handler& GetMbrHandler();
const Handler& GetQcow2Handler();
const Handler& GetTrxHandler();
const Handler& GetUImageHandler();
const Handler& GetXiaomiHdrHandler();
const Handler& GetAndroidBootHandler();
const Handler& GetDtbHandler();
const Handler& GetIntelHexHandler();
const Handler& GetSrecHandler();

// vendor containers and recognition (fmt-b)
const Handler& GetTplinkHandler();
const Handler& GetSeamaHandler();
const Handler& GetNetgearChkHandler();
const Handler& GetUefiVolumeHandler();
const Handler& GetUefiCapsuleHandler();
const Handler& GetIntelFlashHandler();
const Handler& GetLuksHandler();
const Handler& GetOpensslEncHandler();
const Handler& GetEncrptedImgHandler();
const Handler& GetEcosHandler();
const Handler& GetDlinkTlvHandler();
const Handler& GetTplinkRtosHandler();
const Handler& GetShrsHandler();
const Handler& GetMh01Handler();
const Handler& GetVxWorksHandler();
const Handler& GetJbootHandler();
const Handler& GetPackImgHandler();
const Handler& GetCfeHandler();
const Handler& GetDlkHandler();

// disk images, super images and OS recognition (fmt-c)
const Handler& GetAndroidSuperHandler();
const Handler& GetVdiHandler();
const Handler& GetVhdHandler();
const Handler& GetVmdkHandler();
const Handler& GetQnxIfsHandler();
const Handler& GetWinCeHandler();
const Handler& GetDkbsHandler();
const Handler& GetDlobHandler();
const Handler& GetRtkHandler();

}  // namespace clearbox::unpack
