// Independent verifier for clearbox logs, built against Debian's golang.org/x/mod:
// checks a signed checkpoint with sumdb/note, and proofs with sumdb/tlog.
// Usage:
//
//	goverify VKEY PROOF ENTRY_FILE                    inclusion (c2sp.org/tlog-proof file)
//	goverify consistency VKEY OLD_CHECKPOINT PROOF    consistency (tlog.CheckTree)
//	goverify tiles VKEY LOGDIR OLD_SIZE...            tlog.ProveTree from the log's tiles
//	                                                  (read through tlog.TileHashReader, which
//	                                                  authenticates every tile against the
//	                                                  checkpoint), printed as base64 lines
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// openCheckpoint verifies a signed checkpoint and returns its origin, size and root.
func openCheckpoint(verifier note.Verifier, msg []byte) (string, int64, tlog.Hash) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("checkpoint: too short")
	}
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
	return lines[0], size, root
}

func consistency(verifier note.Verifier, oldPath, proofPath string) {
	oldBytes, err := os.ReadFile(oldPath)
	if err != nil {
		fail("%v", err)
	}
	proofBytes, err := os.ReadFile(proofPath)
	if err != nil {
		fail("%v", err)
	}
	oldOrigin, oldSize, oldRoot := openCheckpoint(verifier, oldBytes)
	parts := strings.SplitN(string(proofBytes), "\n\n", 2)
	if len(parts) != 2 {
		fail("proof: no blank line")
	}
	lines := strings.Split(parts[0], "\n")
	if len(lines) < 2 || lines[0] != "clearbox.dev/tlog-consistency@v1" {
		fail("proof: bad header")
	}
	from, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "old "), 10, 64)
	if err != nil || from != oldSize {
		fail("proof: old size %q does not match the old checkpoint's %d", lines[1], oldSize)
	}
	var proof tlog.TreeProof
	for _, l := range lines[2:] {
		b, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(b) != 32 {
			fail("proof: bad hash")
		}
		var h tlog.Hash
		copy(h[:], b)
		proof = append(proof, h)
	}
	origin, size, root := openCheckpoint(verifier, []byte(parts[1]))
	if origin != oldOrigin {
		fail("origins differ")
	}
	if err := tlog.CheckTree(proof, size, root, oldSize, oldRoot); err != nil {
		fail("consistency %d -> %d: %v", oldSize, size, err)
	}
	fmt.Printf("go verifier: %s tree %d is consistent with %d\n", origin, size, oldSize)
}

// dirTiles reads c2sp.org/tlog-tiles hash tiles (tile/<L>/<N>) for tlog's tile/8/<L>/<N>.
type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		rel := "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
		b, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (d dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func tiles(verifier note.Verifier, dir string, sizes []string) {
	cp, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	_, size, root := openCheckpoint(verifier, cp)
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, dirTiles{dir})
	for _, s := range sizes {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail("size %q", s)
		}
		p, err := tlog.ProveTree(size, n, hr)
		if err != nil {
			fail("ProveTree(%d, %d): %v", size, n, err)
		}
		fmt.Printf("old %d\n", n)
		for _, h := range p {
			fmt.Println(base64.StdEncoding.EncodeToString(h[:]))
		}
		fmt.Println()
	}
}

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "consistency" {
		if len(os.Args) != 5 {
			fail("usage: goverify consistency VKEY OLD_CHECKPOINT PROOF")
		}
		verifier, err := note.NewVerifier(strings.TrimSpace(os.Args[2]))
		if err != nil {
			fail("vkey: %v", err)
		}
		consistency(verifier, os.Args[3], os.Args[4])
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "tiles" {
		if len(os.Args) < 5 {
			fail("usage: goverify tiles VKEY LOGDIR OLD_SIZE...")
		}
		verifier, err := note.NewVerifier(strings.TrimSpace(os.Args[2]))
		if err != nil {
			fail("vkey: %v", err)
		}
		tiles(verifier, os.Args[3], os.Args[4:])
		return
	}
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
