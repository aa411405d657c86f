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
//	goverify http VKEY URL INDEX...                   a tlog-tiles HTTP client: fetches the
//	                                                  checkpoint, tiles (authenticated by
//	                                                  tlog.TileHashReader) and entry bundles,
//	                                                  proves and checks each entry's inclusion
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
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

func fetch(url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		fail("GET %s: HTTP %d %v", url, resp.StatusCode, err)
	}
	return body
}

// httpTiles fetches c2sp.org/tlog-tiles hash tiles for tlog's tile/8/<L>/<N> paths.
type httpTiles struct{ base string }

func (h httpTiles) Height() int { return 8 }

func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		out[i] = fetch(h.base + "/tile/" + strings.TrimPrefix(t.Path(), "tile/8/"))
	}
	return out, nil
}

func (h httpTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func overHTTP(verifier note.Verifier, base string, indices []string) {
	_, size, root := openCheckpoint(verifier, fetch(base+"/checkpoint"))
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, httpTiles{base})
	for _, s := range indices {
		index, err := strconv.ParseInt(s, 10, 64)
		if err != nil || index >= size {
			fail("index %q", s)
		}
		// The entry bundle holding the index: full, or partial at the tree's edge.
		bundle := index / 256
		path := "/tile/entries/" + strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: bundle, W: 256}.Path(), "tile/8/0/")
		if w := size - bundle*256; w < 256 {
			path = "/tile/entries/" + strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: bundle, W: int(w)}.Path(), "tile/8/0/")
		}
		data := fetch(base + path)
		var entry []byte
		for i := int64(0); i <= index%256; i++ {
			if len(data) < 2 {
				fail("entry bundle truncated")
			}
			n := int(data[0])<<8 | int(data[1])
			if len(data) < 2+n {
				fail("entry bundle truncated")
			}
			entry, data = data[2:2+n], data[2+n:]
		}
		proof, err := tlog.ProveRecord(size, index, hr)
		if err != nil {
			fail("ProveRecord(%d, %d): %v", size, index, err)
		}
		if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
			fail("entry %d: %v", index, err)
		}
		fmt.Printf("entry %d of %d included: %q\n", index, size, entry)
	}
}

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "http" {
		if len(os.Args) < 5 {
			fail("usage: goverify http VKEY URL INDEX...")
		}
		verifier, err := note.NewVerifier(strings.TrimSpace(os.Args[2]))
		if err != nil {
			fail("vkey: %v", err)
		}
		overHTTP(verifier, strings.TrimSuffix(os.Args[3], "/"), os.Args[4:])
		return
	}
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
