// Independent verifier for clearbox logs, built against Debian's golang.org/x/mod:
// checks a signed checkpoint with sumdb/note, and an inclusion proof from a tlog-proof file
// with sumdb/tlog. Usage: goverify VKEY PROOF ENTRY_FILE
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: goverify VKEY PROOF ENTRY_FILE")
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(os.Args[1]))
	if err != nil {
		fail("vkey: %v", err)
	}
	proofBytes, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	entry, err := os.ReadFile(os.Args[3])
	if err != nil {
		fail("%v", err)
	}
	parts := strings.SplitN(string(proofBytes), "\n\n", 2)
	if len(parts) != 2 {
		fail("proof: no blank line")
	}
	sc := bufio.NewScanner(strings.NewReader(parts[0]))
	sc.Scan()
	if sc.Text() != "c2sp.org/tlog-proof@v1" {
		fail("proof: bad header")
	}
	sc.Scan()
	index, err := strconv.ParseInt(strings.TrimPrefix(sc.Text(), "index "), 10, 64)
	if err != nil {
		fail("proof: index: %v", err)
	}
	var proof tlog.RecordProof
	for sc.Scan() {
		b, err := base64.StdEncoding.DecodeString(sc.Text())
		if err != nil || len(b) != 32 {
			fail("proof: bad hash")
		}
		var h tlog.Hash
		copy(h[:], b)
		proof = append(proof, h)
	}
	n, err := note.Open([]byte(parts[1]), note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	rb, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rb) != 32 {
		fail("checkpoint root")
	}
	var root tlog.Hash
	copy(root[:], rb)
	if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
		fail("inclusion: %v", err)
	}
	fmt.Printf("go verifier: checkpoint %s size %d signed by %s; entry %d included\n", lines[0], size, verifier.Name(), index)
}
