package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// EnvDataFile names the JSON object file in which a command run by exec
// records its stage's data: exec reads it when the command has ended and
// adds its keys to the stage's data.
const EnvDataFile = "STAGE_TRACKER_DATA_FILE"

func newStageDataCommand(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "stage-data KEY=VALUE...",
		Short: "Add data to the stage of the stagetrack exec this runs under",
		Long: `stage-data adds KEY=VALUE pairs to the data of the current stage: the
stage of the "stagetrack exec" whose command (or a process it started) runs
stage-data. VALUE is recorded as JSON when it parses as JSON (3, 0.93, true,
"x", [1,2]) and as a string otherwise.

It writes to the JSON object file that exec names in STAGE_TRACKER_DATA_FILE,
holding a lock on it while it reads, merges and rewrites it, so that
concurrent stage-data calls of one stage all land. A key given again
replaces the earlier value. Outside an exec (no STAGE_TRACKER_DATA_FILE),
stage-data fails with exit code 1.`,
		Example: example(
			`stagetrack exec --stage train -- sh -c './train.sh && stagetrack stage-data accuracy=0.93 epochs=10'`,
			`stagetrack stage-data rows=$(wc -l < out.csv) table=orders`,
		),
		GroupID: groupRunning,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, argv []string) error {
			kv, err := parseData(argv)
			if err != nil {
				return usageError(err)
			}
			path := env.getenv(EnvDataFile)
			if path == "" {
				return fmt.Errorf("%s is not set: stage-data runs inside stagetrack exec", EnvDataFile)
			}
			return mergeDataFile(path, kv)
		}),
	}
}

// parseData parses KEY=VALUE pairs: VALUE as JSON where it is valid JSON,
// else as a string.
func parseData(pairs []string) (map[string]any, error) {
	out := make(map[string]any, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("data %q: want KEY=VALUE", p)
		}
		out[k] = dataValue(v)
	}
	return out, nil
}

// dataValue is v as the JSON value it spells, or v as a string.
func dataValue(v string) any {
	if !json.Valid([]byte(v)) {
		return v
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber() // 10000000000000001 stays what it says
	var x any
	if err := dec.Decode(&x); err != nil {
		return v
	}
	return x
}

// lockFile holds an flock on f (exclusive or shared) until the returned
// function is called.
func lockFile(f *os.File, exclusive bool) (unlock func(), err error) {
	if exclusive {
		err = fsutil.LockExclusiveWait(f)
	} else {
		err = fsutil.LockSharedWait(f)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { _ = fsutil.Unlock(f) }, nil
}

// regularFile refuses f unless it is a regular file: a FIFO or a device
// would block a read, or never end one.
func regularFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s)", f.Name(), fi.Mode().Type())
	}
	return nil
}

// mergeDataFile adds kv to the JSON object in the file at path (created
// when missing; empty counts as {}), under an exclusive flock so that
// concurrent merges do not lose each other's keys.
func mergeDataFile(path string, kv map[string]any) error {
	f, err := fsutil.OpenFile(path, os.O_RDWR|os.O_CREATE|fsutil.NonBlock, 0o600)
	if err != nil {
		return fmt.Errorf("data file: %w", err)
	}
	defer f.Close()
	if err := regularFile(f); err != nil {
		return fmt.Errorf("data file: %w", err)
	}
	unlock, err := lockFile(f, true)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := decodeDataObject(f)
	if err != nil {
		return fmt.Errorf("data file %s: %w", path, err)
	}
	if cur == nil {
		cur = map[string]any{}
	}
	maps.Copy(cur, kv)
	b, err := json.Marshal(cur)
	if err != nil {
		return fmt.Errorf("data file %s: %w", path, err)
	}
	b = append(b, '\n')
	// Rewritten in place, not renamed over: the lock is on this inode.
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("data file %s: %w", path, err)
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		return fmt.Errorf("data file %s: %w", path, err)
	}
	return nil
}

// readDataFile returns the JSON object in the file at path, read under a
// shared flock; nil, nil when the file is missing or empty. It never blocks
// on a FIFO or follows a symlink that the command put there.
func readDataFile(path string) (map[string]any, error) {
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := regularFile(f); err != nil {
		return nil, err
	}
	unlock, err := lockFile(f, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return decodeDataObject(f)
}

// maxDataFile bounds the data file exec reads.
const maxDataFile = 1 << 20

func decodeDataObject(r io.Reader) (map[string]any, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDataFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxDataFile {
		return nil, fmt.Errorf("larger than %d bytes", maxDataFile)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if m == nil {
		return nil, errors.New("not a JSON object: null")
	}
	return m, nil
}
