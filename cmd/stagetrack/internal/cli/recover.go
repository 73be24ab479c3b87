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
	var journals []string
	cmd := &cobra.Command{
		Use:   "recover [DIR] [--journal FILE]...",
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

Programs using setup.Tracker recover their directory when they start; this
command does it by hand. It prints the path of each run file it writes and
exits 0, or 1 when some journal could not be recovered (the others still are).`,
		Example: example(
			"stagetrack recover runs/",
			"stagetrack recover --journal runs/3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f.journal",
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
				paths, err = exp.Recover(cmd.Context())
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
	return cmd
}
