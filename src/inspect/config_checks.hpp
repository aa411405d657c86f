// Configuration checks: insecure services started at boot (inittab, init scripts, inetd,
// xinetd, systemd, OpenWrt), SSH server settings (sshd_config, dropbear) and the account
// files, all selected by path.
#pragma once

#include <string_view>
#include <vector>

#include "inspect/finding.hpp"
#include "inspect/rules.hpp"

namespace clearbox::inspect {

// Largest configuration file parsed line by line.
inline constexpr std::size_t kMaxConfigFileBytes = 8 * 1024 * 1024;
// Longest line examined; longer lines are cut.
inline constexpr std::size_t kMaxConfigLineBytes = 64 * 1024;

// Which parser a path selects.
enum class ConfigKind : std::uint8_t {
  kNone,
  kShadow,            // .../shadow, shadow-, gshadow excluded
  kPasswd,            // .../passwd, passwd-, .htpasswd
  kSshdConfig,        // .../sshd_config, sshd_config.d/*.conf
  kDropbearDefaults,  // etc/default/dropbear, etc/sysconfig/dropbear
  kOpenWrtConfig,     // etc/config/*
  kInittab,           // etc/inittab
  kInetd,             // etc/inetd.conf, etc/inetd.d/*
  kXinetd,            // etc/xinetd.conf, etc/xinetd.d/*
  kSystemdUnit,       // .../systemd/...*.service
  kInitScript,        // etc/init.d/*, etc/rc*, etc/init/*
};

// The parser for a path (relative, '/'-separated; any prefix such as an unpack chunk dir).
ConfigKind ClassifyConfigPath(std::string_view path);

// Checks one configuration file of the given kind (not the account kinds) and appends
// findings. `text` is the file's content.
void CheckConfigFile(ConfigKind kind, std::string_view path, std::string_view text,
                     const std::vector<ServiceRule>& services, std::vector<Finding>& out);

// A link or file named like an enabled init script (etc/rc.d/S50telnet, etc/rc3.d/S20telnetd)
// that starts an insecure service.
void CheckRcLinkName(std::string_view path, const std::vector<ServiceRule>& services,
                     std::vector<Finding>& out);

}  // namespace clearbox::inspect
