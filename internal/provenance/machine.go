package provenance

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// ThisMachine describes the machine: OS and architecture, and where the
// system says them (Linux's /proc), the kernel release, CPU model and
// memory; the GPUs when nvidia-smi is on PATH; the container image's id
// when a Podman container says it (/run/.containerenv). Docker and
// Kubernetes do not tell a container its image digest.
func ThisMachine(ctx context.Context) *runfile.Machine { return startMachine(ctx)() }

// startMachine starts ThisMachine's one command (nvidia-smi) and returns
// the function that waits for it and reads the rest.
func startMachine(ctx context.Context) func() *runfile.Machine {
	gpus := startGPUs(ctx)
	return func() *runfile.Machine { return machine(gpus()) }
}

func machine(gpus []string) *runfile.Machine {
	m := &runfile.Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if m.CPUModel == "" {
		m.CPUModel = procField("/proc/cpuinfo", "Model") // arm
	}
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		if n, err := strconv.ParseInt(strings.TrimSuffix(kb, " kB"), 10, 64); err == nil {
			m.MemoryBytes = n * 1024
		}
	}
	m.GPUs = gpus
	m.ContainerImage = containerImage()
	return m
}

// procField returns the value of the first "key : value" line of a /proc
// file whose key is key.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// startGPUs starts nvidia-smi and returns the function that lists the
// NVIDIA GPUs by name from what it printed, nil without nvidia-smi.
func startGPUs(ctx context.Context) func() []string {
	smi, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return func() []string { return nil }
	}
	out := startCommand(ctx, false, smi, "--query-gpu=name", "--format=csv,noheader")
	return func() []string {
		var names []string
		for line := range bytes.Lines(out()) {
			if s := strings.TrimSpace(string(line)); s != "" {
				names = append(names, s)
			}
		}
		return names
	}
}

// containerImage is the image id a Podman container's /run/.containerenv
// names (imageid="…"), as sha256:<hex>.
func containerImage() string {
	b, err := os.ReadFile("/run/.containerenv")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "imageid="); ok {
			if id := strings.Trim(v, `"`); id != "" {
				if !strings.Contains(id, ":") {
					id = "sha256:" + id
				}
				return id
			}
		}
	}
	return ""
}

// toolTimeout bounds each command that capture runs to ask a version.
const toolTimeout = 5 * time.Second
