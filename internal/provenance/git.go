package provenance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// GitState returns the state of the git repository that holds dir, through
// the git command: HEAD's commit and branch, whether tracked files differ
// from HEAD (dirty) and the SHA-256 of that difference (git diff HEAD
// --binary), and how many untracked, not ignored entries the work tree
// holds (a directory of untracked files counts once, as git status shows
// it). It returns nil when git is not on PATH or dir is in no repository.
//
// It runs git status and git diff side by side (the diff of a clean tree
// is empty, and what it costs is the status's time again, not added to
// it); neither takes the index lock (GIT_OPTIONAL_LOCKS=0), so a capture
// never gets in the way of a git command the user runs at the same time.
func GitState(ctx context.Context, dir string) *runfile.Code { return startGit(ctx, dir)() }

// startGit starts GitState's commands and returns the function that waits
// for them and reads what they printed.
func startGit(ctx context.Context, dir string) func() *runfile.Code {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return func() *runfile.Code { return nil }
	}
	h := sha256.New()
	diff := gitCommand(ctx, gitPath, dir, "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff", "--no-textconv", "--ignore-submodules=dirty")
	diff.Stdout = h // hashed as it streams: a large diff is never held
	diffErr := diff.Start()
	var out bytes.Buffer
	status := gitCommand(ctx, gitPath, dir, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal", "--ignore-submodules=dirty")
	status.Stdout = &out
	statusErr := status.Start()
	return func() *runfile.Code {
		if diffErr == nil {
			diffErr = diff.Wait()
		}
		if statusErr == nil {
			statusErr = status.Wait()
		}
		if statusErr != nil {
			return nil // not a repository, or git refused it (an unsafe owner, say)
		}
		c := parseStatus(out.Bytes())
		if c.Dirty && c.Commit != "" && diffErr == nil {
			c.DiffSHA256 = hex.EncodeToString(h.Sum(nil))
		}
		return c
	}
}

func gitCommand(ctx context.Context, gitPath, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, gitPath, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
	return cmd
}

// parseStatus reads git status --porcelain=v2 --branch -z.
func parseStatus(b []byte) *runfile.Code {
	c := &runfile.Code{VCS: "git"}
	fields := bytes.Split(b, []byte{0})
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case bytes.HasPrefix(f, []byte("# branch.oid ")):
			if oid := string(f[len("# branch.oid "):]); oid != "(initial)" {
				c.Commit = oid
			}
		case bytes.HasPrefix(f, []byte("# branch.head ")):
			if head := string(f[len("# branch.head "):]); head != "(detached)" {
				c.Branch = head
			}
		case bytes.HasPrefix(f, []byte("? ")):
			c.Untracked++
		case bytes.HasPrefix(f, []byte("2 ")):
			c.Dirty = true
			i++ // a rename or copy: its original path follows
		case bytes.HasPrefix(f, []byte("1 ")), bytes.HasPrefix(f, []byte("u ")):
			c.Dirty = true
		}
	}
	return c
}
