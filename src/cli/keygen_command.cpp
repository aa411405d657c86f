// `clearbox keygen NAME [-o PREFIX]`: a new Ed25519 key pair in the C2SP signed-note formats.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "ledger/file_io.hpp"
#include "ledger/note.hpp"

namespace clearbox::cli {
namespace {

struct KeygenArgs {
  std::string name;
  std::string prefix;
  bool cosigner = false;
};

int RunKeygen(const KeygenArgs& args) {
  auto key = ledger::GenerateSignerKey(args.name);
  if (!key) {
    std::fprintf(stderr, "clearbox keygen: %s (names must be non-empty, without spaces or '+')\n",
                 key.error().message.c_str());
    return kExitUsage;
  }
  if (args.cosigner) *key = ledger::AsCosignerKey(*key);
  std::string prefix = args.prefix;
  if (prefix.empty()) {
    prefix = args.name;
    for (char& c : prefix) c = c == '/' ? '_' : c;
  }
  const std::string vkey = ledger::FormatVerifierKey(ledger::PublicKeyOf(*key));
  auto wrote = ledger::WriteFileAtomically(prefix + ".skey", ledger::FormatSignerKey(*key) + "\n",
                                           0600, true);
  if (wrote) wrote = ledger::WriteFileAtomically(prefix + ".vkey", vkey + "\n", 0644, true);
  if (!wrote) {
    std::fprintf(stderr, "clearbox keygen: %s\n", wrote.error().message.c_str());
    return kExitUnusableInput;
  }
  std::printf("%s\nwrote %s.vkey (public) and %s.skey (private, mode 0600)\n", vkey.c_str(),
              prefix.c_str(), prefix.c_str());
  return kExitOk;
}

}  // namespace

void RegisterKeygenCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<KeygenArgs>();
  auto* cmd =
      app.add_subcommand("keygen", "Create an Ed25519 signing key (C2SP signed-note vkey/skey)");
  cmd->footer(
      "Writes PREFIX.vkey (\"name+keyid+base64(0x01||pubkey)\") and PREFIX.skey\n"
      "(\"PRIVATE+KEY+name+keyid+base64(0x01||seed)\", mode 0600); existing files are never\n"
      "overwritten. PREFIX defaults to NAME with '/' replaced by '_'. With --cosigner the type\n"
      "byte is 0x04 (c2sp.org/tlog-cosignature: a witness key; key ID over 0x04).\n\n"
      "Exit codes: 0 written; 2 invalid name or usage; 4 files exist or cannot be written.");
  cmd->add_option("name", args->name, "Key name, e.g. lab.example.com/attester")->required();
  cmd->add_option("-o,--output", args->prefix, "Path prefix of the two key files");
  cmd->add_flag("--cosigner", args->cosigner, "Write a witness (cosignature/v1, type 0x04) key");
  cmd->callback([run, args] { *run = [args] { return RunKeygen(*args); }; });
}

}  // namespace clearbox::cli
