#include "elf/elf_test_support.hpp"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace clearbox::elf::testing {

using clearbox::testing::RunShell;

std::string SourceDir() {
  if (const char* env = std::getenv("CLEARBOX_SOURCE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return CLEARBOX_ELF_SOURCE_DIR;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::map<std::string, ChecksecFields> RunChecksec(const std::vector<std::string>& files,
                                                  const clearbox::testing::fs::path& scratch) {
  const auto list = scratch / "checksec-list.txt";
  {
    std::ofstream out(list);
    for (const auto& f : files) out << f << '\n';
  }
  std::string text;
  RunShell("checksec --output=json --listfile='" + list.string() + "' 2>/dev/null", &text);
  // checksec's list output is not valid JSON (set-id files end an entry with "} }" and
  // join lines), so entries are found by their shape: "FILE": { "k":"v",... }.
  std::map<std::string, ChecksecFields> out;
  std::size_t pos = 0;
  while ((pos = text.find("\": { \"", pos)) != std::string::npos) {
    const std::size_t name_start = text.rfind('"', pos - 1);
    const std::size_t end = text.find(" }", pos);
    if (name_start == std::string::npos || end == std::string::npos) break;
    const std::string name = text.substr(name_start + 1, pos - name_start - 1);
    const std::string body = text.substr(pos + 4, end - pos - 4);
    ChecksecFields fields;
    std::size_t p = 0;
    while ((p = body.find('"', p)) != std::string::npos) {
      const std::size_t k_end = body.find('"', p + 1);
      const std::size_t v_start = body.find('"', k_end + 1);
      const std::size_t v_end = body.find('"', v_start + 1);
      if (k_end == std::string::npos || v_start == std::string::npos ||
          v_end == std::string::npos) {
        break;
      }
      fields[body.substr(p + 1, k_end - p - 1)] = body.substr(v_start + 1, v_end - v_start - 1);
      p = v_end + 1;
    }
    out[name] = fields;
    pos = end;
  }
  return out;
}

ChecksecFields AsChecksec(const BinaryReport& r) {
  ChecksecFields f;
  f["relro"] = r.relro == "none" ? "no" : r.relro;
  f["canary"] = r.canary ? "yes" : "no";
  f["nx"] = r.nx ? "yes" : "no";
  f["pie"] = r.type == "pie"           ? "yes"
             : r.type == "shared"      ? "dso"
             : r.type == "relocatable" ? "rel"
                                       : "no";
  f["rpath"] = r.rpath.empty() ? "no" : "yes";
  f["runpath"] = r.runpath.empty() ? "no" : "yes";
  f["symbols"] = r.stripped ? "no" : "yes";
  f["fortify_source"] = r.fortify.fortified > 0 ? "yes" : "no";
  f["fortified"] = std::to_string(r.fortify.fortified);
  f["fortify-able"] = std::to_string(r.fortify.fortifiable);
  return f;
}

FortifyExplanation ExplainFortify(const std::string& file, const FortifyCatalog& libc,
                                  const ChecksecFields& checksec) {
  FortifyExplanation e;
  e.fortified = std::stoi(checksec.at("fortified"));
  e.fortifiable = std::stoi(checksec.at("fortify-able"));
  std::string text;
  RunShell("readelf -W --dyn-syms '" + file + "' 2>/dev/null", &text);
  std::istringstream lines(text);
  std::string line;
  std::set<std::string> imports_seen;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (w.size() < 8 || w[0].empty() || w[0].back() != ':' || w[0] == "Num:") continue;
    const std::string raw = w[7].substr(0, w[7].find('@'));
    const bool undefined = w[6] == "UND";
    // What checksec sees: leading underscores stripped.
    std::string stripped = raw.substr(std::min(raw.find_first_not_of('_'), raw.size()));
    const bool cs_chk = stripped.size() > 4 && stripped.ends_with("_chk") &&
                        libc.Contains(stripped.substr(0, stripped.size() - 4));
    const bool cs_plain = libc.Contains(stripped);
    // What we count: imports named exactly __X_chk, X, or a documented alias of X.
    const bool our_chk = undefined && raw.size() > 6 && raw.starts_with("__") &&
                         raw.ends_with("_chk") && libc.Contains(raw.substr(2, raw.size() - 6));
    const bool our_plain = undefined && !our_chk &&
                           (libc.Contains(raw) || ((raw == "_longjmp" || raw == "siglongjmp") &&
                                                   libc.Contains("longjmp")));
    if (undefined && !imports_seen.insert(raw).second) {
      if (cs_chk || cs_plain) e.classes.push_back("duplicate");
      if (cs_chk) --e.fortified;
      if (cs_chk || cs_plain) --e.fortifiable;
      continue;
    }
    if (cs_chk && !our_chk) {
      --e.fortified;
      --e.fortifiable;
      e.classes.push_back(undefined ? "underscore-alias" : "defined");
    } else if (cs_plain && !our_plain && !our_chk) {
      --e.fortifiable;
      e.classes.push_back(undefined ? "underscore-alias" : "defined");
    } else if (!cs_chk && !cs_plain && our_plain) {
      ++e.fortifiable;
      e.classes.push_back("siglongjmp");
    }
  }
  return e;
}

std::vector<std::vector<std::string>> ReadTsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(fields);
  }
  return rows;
}

}  // namespace clearbox::elf::testing
