// libFuzzer target for src/inspect: feeds arbitrary bytes to Inspector::AddFile under paths
// that select each parser (accounts, sshd, init files, OpenWrt, PEM/DER, secrets), and to the
// OpenSSH key header parser directly.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/data_dir.hpp"
#include "inspect/crypto_material.hpp"
#include "inspect/inspector.hpp"

namespace {

constexpr const char* kPaths[] = {
    "etc/shadow",
    "etc/passwd",
    "etc/ssh/sshd_config",
    "x.pem",
    "etc/inittab",
    "etc/inetd.conf",
    "etc/xinetd.d/telnet",
    "etc/config/dropbear",
    "etc/config/dhcp",
    "etc/init.d/rcS",
    "lib/systemd/system/x.service",
    "etc/default/dropbear",
    "usr/bin/tool",
    "etc/app.conf",
    "etc/rc.d/S50telnet",
    "www/.htpasswd",
    "etc/ssl/certs/ca.pem",
    "usr/lib/libx.so",
};

clearbox::inspect::Inspector& SharedInspector() {
  static clearbox::inspect::Inspector inspector = [] {
    clearbox::inspect::InspectOptions options;
    options.now_unix = 1767225600;
    options.crack_seconds_per_file = 0.05;
    options.crack_seconds_per_scan = 1e9;
    options.max_slow_attempts = 1;
    auto created = clearbox::inspect::Inspector::Create(clearbox::DataDir() / "inspect", options);
    if (!created) __builtin_trap();
    return std::move(*created);
  }();
  return inspector;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string path = kPaths[data[0] % (sizeof kPaths / sizeof kPaths[0])];
  clearbox::FileView view;
  view.path = path;
  view.kind = (data[1] & 0x80) ? clearbox::FileKind::kSymlink : clearbox::FileKind::kRegular;
  view.mode = static_cast<std::uint32_t>(data[1] & 0x7f) << 5;
  view.bytes = clearbox::ByteView(data + 2, size - 2);
  auto& inspector = SharedInspector();
  inspector.AddFile(view);
  (void)inspector.Finish();
  (void)clearbox::inspect::ParseOpenSshKey(view.bytes);
  return 0;
}
