// Exit codes: every process exit status clearbox uses, with its meaning. README.md lists them
// per command; keep the two in agreement.
#pragma once

namespace clearbox {

// The command did all it was asked: complete (scan, unpack, checksec, db, log), verified
// (verify), cosigned (witness cosign).
inline constexpr int kExitOk = 0;
// The input was checked and is not valid: a bad signature or proof (verify), a damaged log
// (log), an invalid checkpoint (witness cosign).
inline constexpr int kExitInvalid = 1;
// db update: a fetch or import failed; the database is unchanged.
inline constexpr int kExitFailed = 1;
// equiv: some path is DIFFERENT, on one side only or UNCOMPARABLE (the builds are not shown
// to be equivalent).
inline constexpr int kExitNotEquivalent = 1;
// Bad command line: unknown option, missing argument (CLI11 parse errors too).
inline constexpr int kExitUsage = 2;
// Completed with problems: unpack problems (scan, unpack, see manifest.json), a file that
// could not be analysed (checksec).
inline constexpr int kExitWithProblems = 3;
// witness cosign: a fork (same size with another root, or a failing consistency proof).
inline constexpr int kExitFork = 3;
// Unusable input: unreadable image or key, output directory not empty or not creatable,
// unreadable data files or database.
inline constexpr int kExitUnusableInput = 4;
// scan: a finding reached the --fail-on severity.
inline constexpr int kExitFindings = 5;
// witness cosign: a stale checkpoint, or a proof from another size than the witness's.
inline constexpr int kExitConflict = 5;
// diff --fail-on regression: the new release regresses (docs/diff-schema.md says what counts).
inline constexpr int kExitRegression = 6;
// Internal error: a bug or an unexpected library failure (EX_SOFTWARE of sysexits.h).
inline constexpr int kExitInternal = 70;

}  // namespace clearbox
