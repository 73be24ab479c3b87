package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

func newRecoverCommand(env *Env) *cobra.Command {
	var (
		journals []string
		store    string
	)
	cmd := &cobra.Command{
		Use:   "recover [DIR] [--journal FILE]... [--store STORE]",
		Short: "Turn the journals of runs whose process died into run files",
		Long: `recover turns orphaned journals into run files. A program recording a run
keeps a journal of it (DIR/<run_id>.journal, JSON Lines) until its run file
is written; when the process is killed or crashes, the journal stays. recover
writes the run file of each such journal in DIR, status "crashed", with the
stages that ended, the stages that were running marked "running", and the run
ending at the last event; then it removes the journal.

DIR defaults to runs, the directory the other commands and setup use.
Without --journal, recover looks at every *.journal in DIR and leaves alone
those a live process still holds (every process writing a journal holds a
lock on it), and removes the temporary files that interrupted writes left.
With --journal, it recovers the files named (not one a live process holds);
their run files go to DIR, which defaults to the directory of the first
journal.

A Collector's jsonrun exporter keeps its open runs in a store of open runs,
DIR/.openruns (or the store.directory of its configuration: --store, or
give the store's directory as DIR when it is DIR/.openruns). Without
--journal, recover first writes every run open in that store as a run file
in DIR, as the Collector would at its next start or at open_run_timeout: a
run whose run span is in the store as finished, one without as
"incomplete" with a warning that says why, merged (by span id) into a run
file of the same id already in DIR; the store then drops them. The store
must not be held: stop the Collector first (recover says so and changes
nothing while one runs). After a ring change, run recover on each old
backend's directory, then stagetrack merge the files of each run id found
in more than one directory.

Programs using setup.Tracker recover their directory when they start; this
command does it by hand. It prints the path of each run file it writes and
exits 0, or 1 when some journal or run of the store could not be recovered
(the others still are; a run of the store that could not be written stays
in it).`,
		Example: example(
			"stagetrack recover runs/",
			"stagetrack recover --journal runs/3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f.journal",
			"stagetrack recover /var/lib/stagetrack/runs   # a stopped Collector's directory and store",
		),
		GroupID: groupRunning,
		Args:    args(cobra.MaximumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, a []string) error {
			var dir string
			switch {
			case len(a) == 1:
				dir = a[0]
			case len(journals) > 0:
				dir = filepath.Dir(journals[0])
			default:
				dir = "runs" // as the other commands and setup default to
			}
			if len(journals) == 0 && store == "" && filepath.Base(filepath.Clean(dir)) == ".openruns" {
				// The store's directory itself: its run files go beside it.
				store, dir = dir, filepath.Dir(filepath.Clean(dir))
			}
			if len(journals) == 0 {
				if fi, err := os.Stat(dir); err != nil {
					return fileErr(dir, err)
				} else if !fi.IsDir() {
					return fmt.Errorf("%s is not a directory; give the run directory, or a journal with --journal %s", dir, dir)
				}
			}
			exp, err := jsonrun.New(jsonrun.WithDir(dir))
			if err != nil {
				return err
			}
			var (
				paths []string
				errs  []error
			)
			if len(journals) == 0 {
				// The store first: its runs become run files, which the
				// journals' recovery then sees.
				stored, err := jsonrun.RecoverStore(cmd.Context(), dir, jsonrun.WithRunFilesInDirOnly(), jsonrun.WithStoreDir(store))
				if errors.Is(err, jsonrun.ErrStoreInUse) {
					return err
				}
				paths = append(paths, stored...)
				errs = append(errs, err)
				recovered, err := exp.Recover(cmd.Context())
				paths = append(paths, recovered...)
				errs = append(errs, err)
			} else {
				for _, j := range journals {
					p, err := exp.RecoverJournal(cmd.Context(), j)
					if p != "" {
						paths = append(paths, p)
					}
					errs = append(errs, err)
				}
			}
			var out strings.Builder
			for _, p := range paths {
				out.WriteString(p + "\n")
			}
			if werr := write(env.Stdout, out.String()); werr != nil {
				errs = append(errs, werr)
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
			if len(paths) == 0 && len(journals) == 0 {
				fmt.Fprintf(env.Stderr, "stagetrack: no orphaned journals in %s\n", dir)
			}
			return nil
		}),
	}
	cmd.Flags().StringArrayVar(&journals, "journal", nil, "recover this journal file (repeatable)")
	cmd.Flags().StringVar(&store, "store", "", "the store of open runs to recover (default DIR/.openruns)")
	return cmd
}
