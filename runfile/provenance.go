package runfile

import (
	"encoding/json"
	"slices"
	"time"
)

// Provenance is what a run was made of: the code, the command, the
// machine, the tools and the environment it ran with. It is the run file's
// "provenance" object, written only when the run has one. Every field is
// optional: a part that was not captured (switched off, or not knowable,
// such as the code outside a repository) is absent from the file.
//
// A Provenance is a plain value: it is not safe for concurrent mutation.
type Provenance struct {
	Code       *Code             `json:"code"`        // code: the version control state; nil outside a repository
	Command    []string          `json:"command"`     // command: the command line, program first
	WorkingDir string            `json:"working_dir"` // working_dir: the working directory
	Machine    *Machine          `json:"machine"`     // machine: what the run ran on
	Tools      map[string]string `json:"tools"`       // tools: tool name → version ("go" → "go1.25.1")
	Env        map[string]string `json:"env"`         // env: the allow-listed environment variables, values redacted as data is
}

// Code is the state of the source tree a run ran from.
type Code struct {
	VCS        string `json:"vcs"`                   // vcs: "git"
	Commit     string `json:"commit"`                // commit: the full hash of HEAD; "" in a repository without commits
	Branch     string `json:"branch,omitempty"`      // branch: HEAD's branch; absent when HEAD is detached
	Dirty      bool   `json:"dirty"`                 // dirty: tracked files differ from HEAD (staged or not); untracked files do not count
	DiffSHA256 string `json:"diff_sha256,omitempty"` // diff_sha256: SHA-256 of the uncommitted diff of tracked files against HEAD, hex; absent when there is none
	Untracked  int    `json:"untracked"`             // untracked: how many files are untracked and not ignored
}

// Machine is the machine a run ran on.
type Machine struct {
	OS             string   `json:"os"`                        // os: GOOS
	Arch           string   `json:"arch"`                      // arch: GOARCH
	Kernel         string   `json:"kernel,omitempty"`          // kernel: the kernel release
	CPUModel       string   `json:"cpu_model,omitempty"`       // cpu_model
	CPUs           int      `json:"cpus,omitempty"`            // cpus: logical CPUs
	MemoryBytes    int64    `json:"memory_bytes,omitempty"`    // memory_bytes: physical memory
	GPUs           []string `json:"gpus,omitempty"`            // gpus: one name a GPU, as nvidia-smi reports them
	ContainerImage string   `json:"container_image,omitempty"` // container_image: the image digest, when the container says it
}

// File is a stage's input or output file, as the stage saw it.
type File struct {
	Path    string    // path: as given, or found by a glob or a directory walk
	Size    int64     // size in bytes
	ModTime time.Time // mtime: the modification time; null when the file was missing
	SHA256  string    // sha256: the content's SHA-256, hex; absent when the file could not be read
}

// MarshalJSON encodes p as the run file writes it (compact).
func (p Provenance) MarshalJSON() ([]byte, error) {
	e := encoder{}
	e.provenance(&p)
	return e.b, nil
}

// MarshalJSON encodes f as the run file writes it (compact).
func (f File) MarshalJSON() ([]byte, error) {
	e := encoder{}
	e.file(&f)
	return e.b, nil
}

// fileJSON mirrors a file object for decoding.
type fileJSON struct {
	Path    string  `json:"path"`
	Size    int64   `json:"size"`
	ModTime isoTime `json:"mtime"`
	SHA256  string  `json:"sha256"`
}

// UnmarshalJSON decodes a file object of a stage's inputs or outputs.
func (f *File) UnmarshalJSON(b []byte) error {
	var j fileJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if err := checkTime("mtime", j.ModTime.t); err != nil {
		return err
	}
	*f = File{Path: j.Path, Size: j.Size, ModTime: j.ModTime.t, SHA256: j.SHA256}
	return nil
}

// provenance writes p's object, keys in the documented order, maps sorted
// by key.
func (e *encoder) provenance(p *Provenance) {
	e.open()
	if c := p.Code; c != nil {
		e.key("code")
		e.open()
		e.key("vcs")
		e.string(c.VCS)
		e.key("commit")
		e.string(c.Commit)
		if c.Branch != "" {
			e.key("branch")
			e.string(c.Branch)
		}
		e.key("dirty")
		e.bool(c.Dirty)
		if c.DiffSHA256 != "" {
			e.key("diff_sha256")
			e.string(c.DiffSHA256)
		}
		e.key("untracked")
		e.int(c.Untracked)
		e.close()
	}
	if len(p.Command) > 0 {
		e.key("command")
		e.stringList(p.Command)
	}
	if p.WorkingDir != "" {
		e.key("working_dir")
		e.string(p.WorkingDir)
	}
	if m := p.Machine; m != nil {
		e.key("machine")
		e.open()
		e.key("os")
		e.string(m.OS)
		e.key("arch")
		e.string(m.Arch)
		if m.Kernel != "" {
			e.key("kernel")
			e.string(m.Kernel)
		}
		if m.CPUModel != "" {
			e.key("cpu_model")
			e.string(m.CPUModel)
		}
		if m.CPUs != 0 {
			e.key("cpus")
			e.int(m.CPUs)
		}
		if m.MemoryBytes != 0 {
			e.key("memory_bytes")
			e.b = appendInt64(e.b, m.MemoryBytes)
		}
		if len(m.GPUs) > 0 {
			e.key("gpus")
			e.stringList(m.GPUs)
		}
		if m.ContainerImage != "" {
			e.key("container_image")
			e.string(m.ContainerImage)
		}
		e.close()
	}
	if len(p.Tools) > 0 {
		e.key("tools")
		e.stringMap(p.Tools)
	}
	if len(p.Env) > 0 {
		e.key("env")
		e.stringMap(p.Env)
	}
	if e.first { // nothing was written
		e.depth--
		e.b = append(e.b, '}')
		e.first = false
		return
	}
	e.close()
}

// fileList writes a stage's inputs or outputs: an array of file objects.
func (e *encoder) fileList(fs []File) {
	e.b = append(e.b, '[')
	e.depth++
	for i := range fs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.newline()
		e.file(&fs[i])
	}
	e.depth--
	e.newline()
	e.b = append(e.b, ']')
	e.first = false
}

// file writes one file object on one line, however the file is indented:
// a stage may list thousands.
func (e *encoder) file(f *File) {
	sep, colon := ",", ":"
	if e.indent {
		sep, colon = ", ", ": "
	}
	e.b = append(e.b, `{"path"`...)
	e.b = append(e.b, colon...)
	e.string(f.Path)
	e.b = append(e.b, sep+`"size"`+colon...)
	e.b = appendInt64(e.b, f.Size)
	e.b = append(e.b, sep+`"mtime"`+colon...)
	e.time(f.ModTime)
	if f.SHA256 != "" {
		e.b = append(e.b, sep+`"sha256"`+colon...)
		e.string(f.SHA256)
	}
	e.b = append(e.b, '}')
}

// stringMap writes a JSON object of strings, sorted by key.
func (e *encoder) stringMap(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.open()
	for _, k := range keys {
		e.key(k)
		e.string(m[k])
	}
	e.close()
}

// stringList writes a JSON array of strings on one line.
func (e *encoder) stringList(s []string) {
	e.b = append(e.b, '[')
	for i, v := range s {
		if i > 0 {
			e.b = append(e.b, ',')
			if e.indent {
				e.b = append(e.b, ' ')
			}
		}
		e.string(v)
	}
	e.b = append(e.b, ']')
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, "true"...)
	} else {
		e.b = append(e.b, "false"...)
	}
}

// provenanceSize estimates the bytes p takes in a file.
func provenanceSize(p *Provenance) int {
	if p == nil {
		return 0
	}
	n := 512 + len(p.WorkingDir)
	for _, s := range p.Command {
		n += len(s) + 4
	}
	for k, v := range p.Tools {
		n += len(k) + len(v) + 8
	}
	for k, v := range p.Env {
		n += len(k) + len(v) + 8
	}
	return n
}
