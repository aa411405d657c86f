#include "inspect/config_checks.hpp"

#include "inspect/rule_ids.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace clearbox::inspect {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view Basename(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string Evidence(std::string_view line) {
  std::string s(Trim(line));
  if (s.size() > 200) {
    s.resize(200);
    s += "...";
  }
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
  }
  return s;
}

// Calls fn(line, offset) for every line (cut at kMaxConfigLineBytes).
template <class Fn>
void ForEachLine(std::string_view text, Fn&& fn) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, std::min(end - pos, kMaxConfigLineBytes));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line, static_cast<std::uint64_t>(pos));
    pos = end + 1;
  }
}

bool IsComment(std::string_view line) {
  line = Trim(line);
  return line.empty() || line.front() == '#' || line.front() == ';';
}

// Shell-ish words of a command line: split on blanks and shell punctuation.
std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  static constexpr std::string_view kSeparators = " \t;&|()`\"'<>=,{}";
  std::size_t pos = 0;
  while (pos < line.size()) {
    const std::size_t start = line.find_first_not_of(kSeparators, pos);
    if (start == std::string_view::npos) break;
    std::size_t end = line.find_first_of(kSeparators, start);
    if (end == std::string_view::npos) end = line.size();
    words.push_back(line.substr(start, end - start));
    pos = end;
  }
  return words;
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Words before a program name that mean the line does not start it.
bool IsNonStartingVerb(std::string_view word) {
  static constexpr std::string_view kVerbs[] = {"kill",  "killall", "pkill",  "pidof", "echo",
                                                "which", "stop",    "printf", "rm",    "type"};
  const std::string_view base = Basename(word);
  return std::find(std::begin(kVerbs), std::end(kVerbs), base) != std::end(kVerbs);
}

void AddServiceFinding(const ServiceRule& service, std::string_view path, std::string_view how,
                       std::string_view line, std::uint64_t offset, std::vector<Finding>& out) {
  out.push_back({service.rule,
                 kRatedByCatalogue,
                 std::string(path),
                 service.description + " is started at boot by " + std::string(how) + ".",
                 Evidence(line),
                 offset,
                 {}});
}

void AddSsh(std::string_view rule, std::string_view path, std::string message,
            std::string_view line, std::uint64_t offset, std::vector<Finding>& out) {
  out.push_back({std::string(rule),
                 kRatedByCatalogue,
                 std::string(path),
                 std::move(message),
                 Evidence(line),
                 offset,
                 {}});
}

// Checks the words of one command line for insecure programs and dropbear flags.
void CheckCommandWords(const std::vector<std::string_view>& words, std::string_view how,
                       std::string_view path, std::string_view line, std::uint64_t offset,
                       const std::vector<ServiceRule>& services, std::vector<Finding>& out) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string_view base = Basename(words[i]);
    if (i > 0 && IsNonStartingVerb(words[i - 1])) continue;
    for (const ServiceRule& service : services) {
      if (Contains(service.programs, base)) {
        AddServiceFinding(service, path, how, line, offset, out);
      }
    }
    if (base == "dropbear") {
      for (std::size_t j = i + 1; j < words.size(); ++j) {
        const std::string_view w = words[j];
        if (w.size() >= 2 && w[0] == '-' && w[1] != '-' && w.find('B') != std::string_view::npos) {
          AddSsh(kRuleSshPermitEmptyPasswords, path,
                 "Dropbear is started with -B: accounts with empty passwords may log in.", line,
                 offset, out);
          break;
        }
      }
    }
  }
}

void CheckScriptText(std::string_view path, std::string_view text, std::string_view how,
                     const std::vector<ServiceRule>& services, std::vector<Finding>& out) {
  ForEachLine(text, [&](std::string_view line, std::uint64_t offset) {
    if (IsComment(line)) return;
    CheckCommandWords(Words(line), how, path, line, offset, services, out);
  });
}

void CheckInittab(std::string_view path, std::string_view text,
                  const std::vector<ServiceRule>& services, std::vector<Finding>& out) {
  ForEachLine(text, [&](std::string_view line, std::uint64_t offset) {
    if (IsComment(line)) return;
    // id:runlevels:action:process
    std::size_t pos = 0;
    std::string_view fields[3];
    for (auto& field : fields) {
      const std::size_t colon = line.find(':', pos);
      if (colon == std::string_view::npos) return;
      field = line.substr(pos, colon - pos);
      pos = colon + 1;
    }
    if (Trim(fields[2]) == "off") return;
    CheckCommandWords(Words(line.substr(pos)), "inittab", path, line, offset, services, out);
  });
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < line.size()) {
    const std::size_t start = line.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    std::size_t end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    out.push_back(line.substr(start, end - start));
    pos = end;
  }
  return out;
}

void CheckInetd(std::string_view path, std::string_view text,
                const std::vector<ServiceRule>& services, std::vector<Finding>& out) {
  ForEachLine(text, [&](std::string_view line, std::uint64_t offset) {
    if (IsComment(line)) return;
    const auto fields = Fields(line);
    if (fields.size() < 6) return;
    std::string_view name = fields[0];
    if (const std::size_t colon = name.rfind(':'); colon != std::string_view::npos) {
      name.remove_prefix(colon + 1);
    }
    bool matched = false;
    for (const ServiceRule& service : services) {
      bool hit = Contains(service.inetd, name);
      for (std::size_t i = 5; i < fields.size() && !hit; ++i) {
        hit = Contains(service.programs, Basename(fields[i]));
      }
      if (hit) {
        AddServiceFinding(service, path, "inetd", line, offset, out);
        matched = true;
      }
    }
    (void)matched;
  });
}

void CheckXinetd(std::string_view path, std::string_view text,
                 const std::vector<ServiceRule>& services, std::vector<Finding>& out) {
  std::string name, server, service_line;
  std::uint64_t service_offset = 0;
  bool in_block = false, disabled = false;
  auto finish = [&]() {
    if (name.empty() || disabled) return;
    for (const ServiceRule& service : services) {
      if (Contains(service.inetd, name) || Contains(service.programs, Basename(server))) {
        AddServiceFinding(service, path, "xinetd", service_line, service_offset, out);
      }
    }
  };
  ForEachLine(text, [&](std::string_view line, std::uint64_t offset) {
    if (IsComment(line)) return;
    const std::string_view t = Trim(line);
    const auto fields = Fields(t);
    if (!in_block && fields.size() >= 2 && fields[0] == "service") {
      name = std::string(fields[1]);
      server.clear();
      disabled = false;
      service_line = std::string(t);
      service_offset = offset;
    }
    if (t.find('{') != std::string_view::npos) in_block = true;
    if (in_block && fields.size() >= 3 && fields[1] == "=") {
      const std::string key = Lower(fields[0]);
      if (key == "disable") disabled = Lower(fields[2]) == "yes";
      if (key == "server") server = std::string(fields[2]);
    }
    if (t.find('}') != std::string_view::npos) {
      finish();
      in_block = false;
      name.clear();
    }
  });
}

void CheckSystemdUnit(std::string_view path, std::string_view text,
                      const std::vector<ServiceRule>& services, std::vector<Finding>& out) {
  ForEachLine(text, [&](std::string_view line, std::uint64_t offset) {
    if (IsComment(line)) return;
    const std::string_view t = Trim(line);
    const std::size_t eq = t.find('=');
    if (eq == std::string_view::npos) return;
    const std::string_view key = Trim(t.substr(0, eq));
    if (key != "ExecStart" && key != "ExecStartPre" && key != "ExecStartPost") return;
    std::string_view value = Trim(t.substr(eq + 1));
    while (!value.empty() &&
           std::string_view("-@+!:").find(value.front()) != std::string_view::npos) {
      value.remove_prefix(1);
    }
    CheckCommandWords(Words(value), "a systemd unit", path, line, offset, services, out);
  });
}

bool TrueValue(std::string_view v) {
  const std::string s = Lower(v);
  return s == "1" || s == "on" || s == "yes" || s == "true" || s == "enabled";
}
bool FalseValue(std::string_view v) {
  const std::string s = Lower(v);
  return s == "0" || s == "off" || s == "no" || s == "false" || s == "disabled";
}

std::string_view Unquote(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  return v;
}

void CheckOpenWrtConfig(std::string_view path, std::string_view text,
                        const std::vector<ServiceRule>& services, std::vector<Finding>& out) {
  const bool dropbear = Basename(path) == "dropbear";
  struct Section {
    std::string type, line;
    std::uint64_t offset = 0;
    bool disabled = false;
  } section;
  auto finish = [&]() {
    if (section.type.empty() || section.disabled) return;
    for (const ServiceRule& service : services) {
      if (Contains(service.rc_names, section.type) || Contains(service.programs, section.type)) {
        AddServiceFinding(service, path, "OpenWrt configuration", section.line, section.offset,
                          out);
      }
    }
  };
  ForEachLine(text, [&](std::string_view line, std::uint64_t offset) {
    if (IsComment(line)) return;
    const auto fields = Fields(Trim(line));
    if (fields.size() >= 2 && fields[0] == "config") {
      finish();
      section = {std::string(Unquote(fields[1])), std::string(Trim(line)), offset, false};
      return;
    }
    if (fields.size() < 3 || fields[0] != "option") return;
    const std::string_view key = Unquote(fields[1]);
    const std::string_view value = Unquote(fields[2]);
    if ((key == "enable" || key == "enabled") && FalseValue(value)) section.disabled = true;
    if (key == "disabled" && TrueValue(value)) section.disabled = true;
    for (const ServiceRule& service : services) {
      if (Contains(service.uci_options, key) && TrueValue(value)) {
        AddServiceFinding(service, path, "OpenWrt configuration", line, offset, out);
      }
    }
    if (dropbear && TrueValue(value)) {
      if (key == "RootPasswordAuth") {
        AddSsh(kRuleSshPermitRootLogin, path,
               "Dropbear lets root log in with a password (RootPasswordAuth on).", line, offset,
               out);
      } else if (key == "PasswordAuth") {
        AddSsh(kRuleSshPasswordAuthentication, path,
               "Dropbear accepts password logins (PasswordAuth on).", line, offset, out);
      }
    }
  });
  finish();
}

void CheckSshdConfig(std::string_view path, std::string_view text, std::vector<Finding>& out) {
  // The keywords whose value "yes" is a finding, with what the finding says.
  struct Keyword {
    const char* key;  // lower-case
    std::string_view rule;
    const char* message;  // completed by " yes" + where + ")."
    bool seen = false;    // outside Match blocks the first value wins
  };
  Keyword keywords[] = {
      {"permitrootlogin", kRuleSshPermitRootLogin,
       "sshd lets root log in with a password (PermitRootLogin"},
      {"passwordauthentication", kRuleSshPasswordAuthentication,
       "sshd accepts password logins (PasswordAuthentication"},
      {"permitemptypasswords", kRuleSshPermitEmptyPasswords,
       "sshd lets accounts with empty passwords log in (PermitEmptyPasswords"},
  };
  bool in_match = false;
  ForEachLine(text, [&](std::string_view line, std::uint64_t offset) {
    if (IsComment(line)) return;
    std::string_view t = Trim(line);
    std::size_t split = t.find_first_of(" \t=");
    if (split == std::string_view::npos) return;
    const std::string key = Lower(t.substr(0, split));
    std::string_view rest = t.substr(split);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t' || rest.front() == '=')) {
      rest.remove_prefix(1);
    }
    const auto value_fields = Fields(rest);
    const std::string value = value_fields.empty() ? "" : Lower(Unquote(value_fields[0]));
    if (key == "match") {
      in_match = true;
      return;
    }
    // Outside Match blocks the first value of a keyword wins; inside, every "yes" counts.
    for (Keyword& k : keywords) {
      if (key != k.key) continue;
      if (!in_match && k.seen) return;
      if (!in_match) k.seen = true;
      if (value == "yes") {
        const std::string where = in_match ? " in a Match block" : "";
        AddSsh(k.rule, path, std::string(k.message) + " yes" + where + ").", line, offset, out);
      }
      return;
    }
  });
}

void CheckDropbearDefaults(std::string_view path, std::string_view text,
                           std::vector<Finding>& out) {
  ForEachLine(text, [&](std::string_view line, std::uint64_t offset) {
    if (IsComment(line)) return;
    const std::string_view t = Trim(line);
    const std::size_t eq = t.find('=');
    if (eq == std::string_view::npos) return;
    const std::string_view key = Trim(t.substr(0, eq));
    if (key.find("ARGS") == std::string_view::npos && key.find("OPTS") == std::string_view::npos) {
      return;
    }
    for (const std::string_view w : Words(t.substr(eq + 1))) {
      if (w.size() >= 2 && w[0] == '-' && w[1] != '-' && w.find('B') != std::string_view::npos) {
        AddSsh(kRuleSshPermitEmptyPasswords, path,
               "Dropbear is configured with -B: accounts with empty passwords may log in.", line,
               offset, out);
        break;
      }
    }
  });
}

bool HasPathPart(const std::string& p, std::string_view part) {
  return p.find(part) != std::string::npos;
}

}  // namespace

ConfigKind ClassifyConfigPath(std::string_view path) {
  const std::string p = "/" + std::string(path);
  const std::string_view base = Basename(p);
  if (base == "shadow" || base == "shadow-" || base == "shadow.bak") return ConfigKind::kShadow;
  if (base == "passwd" || base == "passwd-" || base == "passwd.bak" || base == ".htpasswd" ||
      base == "master.passwd") {
    return ConfigKind::kPasswd;
  }
  if (base == "sshd_config" || (HasPathPart(p, "/sshd_config.d/") && base.ends_with(".conf"))) {
    return ConfigKind::kSshdConfig;
  }
  if (base == "dropbear" &&
      (HasPathPart(p, "/etc/default/") || HasPathPart(p, "/etc/sysconfig/"))) {
    return ConfigKind::kDropbearDefaults;
  }
  if (HasPathPart(p, "/etc/config/")) return ConfigKind::kOpenWrtConfig;
  if (base == "inittab") return ConfigKind::kInittab;
  if (base == "inetd.conf" || HasPathPart(p, "/etc/inetd.d/")) return ConfigKind::kInetd;
  if (base == "xinetd.conf" || HasPathPart(p, "/etc/xinetd.d/")) return ConfigKind::kXinetd;
  if (HasPathPart(p, "/systemd/") && base.ends_with(".service")) return ConfigKind::kSystemdUnit;
  if (HasPathPart(p, "/etc/init.d/") || HasPathPart(p, "/etc/rc") || HasPathPart(p, "/etc/init/")) {
    return ConfigKind::kInitScript;
  }
  return ConfigKind::kNone;
}

void CheckConfigFile(ConfigKind kind, std::string_view path, std::string_view text,
                     const std::vector<ServiceRule>& services, std::vector<Finding>& out) {
  if (text.size() > kMaxConfigFileBytes) text = text.substr(0, kMaxConfigFileBytes);
  switch (kind) {
    case ConfigKind::kSshdConfig: CheckSshdConfig(path, text, out); break;
    case ConfigKind::kDropbearDefaults: CheckDropbearDefaults(path, text, out); break;
    case ConfigKind::kOpenWrtConfig: CheckOpenWrtConfig(path, text, services, out); break;
    case ConfigKind::kInittab: CheckInittab(path, text, services, out); break;
    case ConfigKind::kInetd: CheckInetd(path, text, services, out); break;
    case ConfigKind::kXinetd: CheckXinetd(path, text, services, out); break;
    case ConfigKind::kSystemdUnit: CheckSystemdUnit(path, text, services, out); break;
    case ConfigKind::kInitScript:
      CheckScriptText(path, text, "an init script", services, out);
      break;
    case ConfigKind::kNone:
    case ConfigKind::kShadow:
    case ConfigKind::kPasswd: break;
  }
}

void CheckRcLinkName(std::string_view path, const std::vector<ServiceRule>& services,
                     std::vector<Finding>& out) {
  const std::string p = "/" + std::string(path);
  const std::size_t slash = p.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  const std::size_t dir_start = p.rfind('/', slash - 1);
  const std::string_view dir = std::string_view(p).substr(dir_start + 1, slash - dir_start - 1);
  // rc.d, rcS.d, rc0.d .. rc6.d directly under etc/ (also etc/rc.d/rc3.d).
  const bool rc_dir =
      dir == "rc.d" || (dir.size() == 5 && dir.starts_with("rc") && dir.ends_with(".d"));
  if (!rc_dir || p.find("/etc/") == std::string::npos) return;
  std::string_view name = std::string_view(p).substr(slash + 1);
  if (name.size() < 2 || name[0] != 'S') return;
  name.remove_prefix(1);
  while (!name.empty() && std::isdigit(static_cast<unsigned char>(name.front()))) {
    name.remove_prefix(1);
  }
  for (const ServiceRule& service : services) {
    if (Contains(service.rc_names, name) || Contains(service.programs, name)) {
      out.push_back({service.rule,
                     kRatedByCatalogue,
                     std::string(path),
                     service.description + " is enabled at boot by the init link " +
                         std::string(Basename(p)) + ".",
                     std::string(Basename(p)),
                     0,
                     {}});
    }
  }
}

}  // namespace clearbox::inspect
