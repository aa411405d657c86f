// libFuzzer target: the ELF parser, the hardening analysis and the libc catalogue reader.
#include <cstddef>
#include <cstdint>

#include "elf/elf_file.hpp"
#include "elf/hardening.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const clearbox::ByteView bytes(data, size);
  auto file = clearbox::elf::ParseElf(bytes);
  if (!file) return 0;
  auto report = clearbox::elf::AnalyzeElfFile(*file, clearbox::elf::FortifyCatalog::Default());
  (void)clearbox::elf::ReportToJson(report).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
  auto catalog = clearbox::elf::FortifyCatalog::FromLibc(bytes);
  if (catalog) (void)catalog->Contains("memcpy");
  return 0;
}
