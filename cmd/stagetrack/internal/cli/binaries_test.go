package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binaries are the programs buildBinaries built.
type binaries struct{ stagetrack, joinchild, otlpchild string }

var (
	buildOnce sync.Once
	built     binaries
	buildErr  error
	buildDir  string // removed by TestMain
)

// buildBinaries builds cmd/stagetrack, testdata/joinchild and
// testdata/otlpchild once per test binary, in one go build, for every test
// that runs them: a link of stagetrack is seconds, and the tests that use
// it are many.
func buildBinaries(t *testing.T) binaries {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "stagetrack-clitest-*"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", buildDir+string(filepath.Separator),
			"github.com/stage-tracker/stage-tracker/cmd/stagetrack", "./testdata/joinchild", "./testdata/otlpchild")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built = binaries{
			stagetrack: filepath.Join(buildDir, "stagetrack"),
			joinchild:  filepath.Join(buildDir, "joinchild"),
			otlpchild:  filepath.Join(buildDir, "otlpchild"),
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}
