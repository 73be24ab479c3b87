// Package gate decides whether a run regressed against a baseline of
// earlier runs: a stage that took longer than the baseline's 95th
// percentile by more than a relative and an absolute margin, a data value
// outside a fixed bound or worse than the baseline's median by more than a
// margin. It is what `stagetrack check` prints and exits by.
//
// Only the attempt of a stage that decides it counts (runtree.Row.Decides):
// the last attempt of a retried stage, not the failed ones before it. A
// baseline's stage counts only where it ended ok. Check is a pure
// function, safe for concurrent use.
package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Defaults of Check, as docs/cli.md states them.
const (
	DefaultRelative = 0.25        // +25 % over the baseline's p95
	DefaultAbsolute = time.Second // and at least +1 s
	DefaultMinRuns  = 5           // baseline runs needed to judge a stage
	Percentile      = 95.0        // the baseline's duration a stage is held to
	medianRank      = 50.0        // the baseline's value a relative metric bound is held to
)

// Option changes how Check judges.
type Option interface{ apply(*config) }

type config struct {
	relative float64
	absolute time.Duration
	minRuns  int
	bounds   []Bound
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSlower sets when a stage is slower than its baseline: by more than
// relative (0.25 is 25 %) of the baseline's p95 and by more than absolute,
// both. The defaults are DefaultRelative and DefaultAbsolute.
func WithSlower(relative float64, absolute time.Duration) Option {
	return optionFunc(func(c *config) { c.relative, c.absolute = relative, absolute })
}

// WithMinRuns sets how many baseline runs a stage, or a value held to the
// baseline's median, needs to be judged at all (default DefaultMinRuns).
func WithMinRuns(n int) Option { return optionFunc(func(c *config) { c.minRuns = n }) }

// WithBounds adds bounds on data values.
func WithBounds(b ...Bound) Option {
	return optionFunc(func(c *config) { c.bounds = append(c.bounds, b...) })
}

// Levels of a Finding.
const (
	Error   = "error"   // the run fails the check
	Warning = "warning" // something was not judged
)

// Kinds of a Finding.
const (
	KindDuration  = "duration"
	KindMetric    = "metric"
	KindNotJudged = "not_judged"
)

// Finding is one line of a check's result.
type Finding struct {
	Level   string `json:"level"` // Error or Warning
	Kind    string `json:"kind"`  // KindDuration, KindMetric or KindNotJudged
	Stage   string `json:"stage"` // key path
	Metric  string `json:"metric,omitempty"`
	Message string `json:"message"` // one line, what a person reads
	// Value is the run's duration in seconds or its data value; null when
	// the run has none.
	Value *float64 `json:"value"`
	// Baseline is the baseline's p95 duration or median value; Limit the
	// value the run must not pass. Null where no baseline is used.
	Baseline     *float64 `json:"baseline,omitempty"`
	Limit        *float64 `json:"limit,omitempty"`
	BaselineRuns int      `json:"baseline_runs,omitempty"`
}

// Result is a check's outcome.
type Result struct {
	BaselineRuns  int       `json:"baseline_runs"`
	StagesJudged  int       `json:"stages_judged"`
	MetricsJudged int       `json:"metrics_judged"`
	Findings      []Finding `json:"findings"` // errors first, then warnings, each in stage order
}

// Failed reports whether any finding is an error.
func (r Result) Failed() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Level == Error })
}

// Bound is a limit on a data value: Metric ("evaluate.accuracy", the
// stage's key path, a dot, the data key with nested objects as dotted
// keys) compared with a fixed Value by Op, or, when Op is "", with the
// baseline's median: Margin's sign is the direction that is worse
// (-0.01: a value below the median by more than 0.01 fails).
type Bound struct {
	Metric string
	Op     string // ">=", ">", "<=", "<", "==" or "" for relative to the baseline
	Value  float64
	Margin float64
}

func (b Bound) String() string {
	if b.Op == "" {
		return b.Metric + ":" + signed(b.Margin)
	}
	return b.Metric + b.Op + num(b.Value)
}

// ParseBound reads a bound as --metric gives it: "evaluate.accuracy>=0.9"
// (operators >=, >, <=, <, ==) or "evaluate.accuracy:-0.01".
func ParseBound(s string) (Bound, error) {
	for i := len(s) - 1; i > 0; i-- {
		switch s[i] {
		case '=', '<', '>':
		default:
			continue
		}
		op := s[i : i+1]
		if i > 0 && strings.Contains("<>=", s[i-1:i]) {
			op, i = s[i-1:i+1], i-1
		}
		if !slices.Contains([]string{">=", ">", "<=", "<", "=="}, op) {
			return Bound{}, fmt.Errorf("metric bound %q: unknown operator %q (use >=, >, <=, < or ==)", s, op)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s[i+len(op):]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return Bound{}, fmt.Errorf("metric bound %q: %q is not a number", s, strings.TrimSpace(s[i+len(op):]))
		}
		m := strings.TrimSpace(s[:i])
		if m == "" {
			return Bound{}, fmt.Errorf("metric bound %q names no value (stage.key)", s)
		}
		return Bound{Metric: m, Op: op, Value: v}, nil
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		m, margin := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
		if !strings.HasPrefix(margin, "-") && !strings.HasPrefix(margin, "+") {
			return Bound{}, fmt.Errorf("metric bound %q: give the direction that is worse as a sign: %s:-%s (lower is worse) or %s:+%s", s, m, margin, m, margin)
		}
		v, err := strconv.ParseFloat(margin, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return Bound{}, fmt.Errorf("metric bound %q: %q is not a number", s, margin)
		}
		return Bound{Metric: m, Margin: v}, nil
	}
	return Bound{}, fmt.Errorf("metric bound %q: want stage.key>=0.9 (>=, >, <=, <, ==) or stage.key:-0.01 (no worse than the baseline's median by 0.01)", s)
}

// Check judges run against baseline, the runs it is held to (a run with
// run's id is left out).
func Check(run *runfile.Run, baseline []*runfile.Run, opts ...Option) Result {
	th := config{relative: DefaultRelative, absolute: DefaultAbsolute, minRuns: DefaultMinRuns}
	for _, o := range opts {
		o.apply(&th)
	}
	var base []*runfile.Run
	for _, b := range baseline {
		if b.RunID == "" || b.RunID != run.RunID {
			base = append(base, b)
		}
	}
	res := Result{BaselineRuns: len(base)}
	// The baseline's deciding, ok attempts: durations and data by key path.
	durs := map[string][]float64{}
	data := map[string][]json.RawMessage{}
	for _, b := range base {
		for _, row := range runtree.Flatten(b) {
			if !row.Decides || row.Status != runfile.StageOK {
				continue
			}
			if !row.Stage.DurationUnknown {
				durs[row.KeyPath] = append(durs[row.KeyPath], row.Stage.DurationSec)
			}
			data[row.KeyPath] = append(data[row.KeyPath], row.Stage.Data)
		}
	}
	rows := runtree.Flatten(run)
	var errs, warns []Finding
	for _, row := range rows {
		if !row.Decides || row.Stage.DurationUnknown {
			continue
		}
		sec, base := row.Stage.DurationSec, durs[row.KeyPath]
		if len(base) < th.minRuns {
			warns = append(warns, Finding{Level: Warning, Kind: KindNotJudged, Stage: row.KeyPath, Value: &sec, BaselineRuns: len(base),
				Message: fmt.Sprintf("not judged: stage %s: %d baseline runs, need %d", row.KeyPath, len(base), th.minRuns)})
			continue
		}
		res.StagesJudged++
		p95 := percentile(base, Percentile)
		limit := roundMicro(max(p95*(1+th.relative), p95+th.absolute.Seconds()))
		if sec > limit {
			errs = append(errs, Finding{Level: Error, Kind: KindDuration, Stage: row.KeyPath, Value: &sec, Baseline: &p95, Limit: &limit, BaselineRuns: len(base),
				Message: fmt.Sprintf("slower: stage %s took %s; baseline p95 %s over %d runs; limit %s (+%s%% and at least +%s)",
					row.KeyPath, dur(sec), dur(p95), len(base), dur(limit), num(th.relative*100), dur(th.absolute.Seconds()))})
		}
	}
	for _, bd := range th.bounds {
		f, judged := checkBound(rows, data, bd, th.minRuns)
		if judged {
			res.MetricsJudged++
		}
		if f != nil {
			if f.Level == Error {
				errs = append(errs, *f)
			} else {
				warns = append(warns, *f)
			}
		}
	}
	res.Findings = append(errs, warns...)
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	return res
}

// checkBound checks one bound; judged is false when it could not be (too
// few baseline values).
func checkBound(rows []runtree.Row, base map[string][]json.RawMessage, bd Bound, minRuns int) (_ *Finding, judged bool) {
	stage, key, row := resolve(rows, bd.Metric)
	f := &Finding{Level: Error, Kind: KindMetric, Stage: stage, Metric: bd.Metric}
	if row == nil {
		f.Message = fmt.Sprintf("metric %s: the run has no stage %s", bd.Metric, strings.SplitN(bd.Metric, ".", 2)[0])
		return f, true
	}
	v, err := lookup(row.Stage.Data, key)
	if err != nil {
		f.Message = fmt.Sprintf("metric %s: %v", bd.Metric, err)
		return f, true
	}
	f.Value = &v
	if bd.Op != "" {
		if !compare(v, bd.Op, bd.Value) {
			f.Message = fmt.Sprintf("metric %s is %s; bound %s", bd.Metric, num(v), bd.Op+num(bd.Value))
			f.Limit = ptr(bd.Value)
			return f, true
		}
		return nil, true
	}
	var vals []float64
	for _, d := range base[stage] {
		if x, err := lookup(d, key); err == nil {
			vals = append(vals, x)
		}
	}
	f.BaselineRuns = len(vals)
	if len(vals) < minRuns {
		f.Level, f.Kind = Warning, KindNotJudged
		f.Message = fmt.Sprintf("not judged: metric %s: %d baseline runs, need %d", bd.Metric, len(vals), minRuns)
		return f, false
	}
	med := percentile(vals, medianRank)
	limit := med + bd.Margin
	f.Baseline, f.Limit = &med, &limit
	worse := bd.Margin < 0 && v < limit || bd.Margin >= 0 && v > limit
	if !worse {
		return nil, true
	}
	dir := "below"
	if bd.Margin >= 0 {
		dir = "above"
	}
	f.Message = fmt.Sprintf("metric %s is %s; baseline median %s over %d runs; more than %s %s it",
		bd.Metric, num(v), num(med), len(vals), num(math.Abs(bd.Margin)), dir)
	return f, true
}

// resolve splits a metric name into the stage's key path and the data key:
// at the dot after the longest key path of a deciding stage of the run.
func resolve(rows []runtree.Row, metric string) (stage, key string, row *runtree.Row) {
	for i := range rows {
		r := &rows[i]
		if !r.Decides || len(r.KeyPath) >= len(metric) || !strings.HasPrefix(metric, r.KeyPath) || metric[len(r.KeyPath)] != '.' {
			continue
		}
		if row == nil || len(r.KeyPath) > len(row.KeyPath) {
			row = r
		}
	}
	if row == nil {
		stage, key, _ = strings.Cut(metric, ".")
		return stage, key, nil
	}
	return row.KeyPath, metric[len(row.KeyPath)+1:], row
}

// lookup finds the number at a dotted key in a stage's data: a key with
// dots of its own matches whole first.
func lookup(data json.RawMessage, key string) (float64, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if len(data) == 0 || dec.Decode(&v) != nil {
		return 0, fmt.Errorf("no data key %s", key)
	}
	x, ok := find(v, key)
	if !ok {
		return 0, fmt.Errorf("no data key %s", key)
	}
	n, ok := x.(json.Number)
	if !ok {
		return 0, fmt.Errorf("data key %s is not a number", key)
	}
	return n.Float64()
}

func find(v any, key string) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	if x, ok := m[key]; ok {
		return x, true
	}
	for i := len(key) - 1; i > 0; i-- {
		if key[i] != '.' {
			continue
		}
		if sub, ok := m[key[:i]]; ok {
			if x, ok := find(sub, key[i+1:]); ok {
				return x, true
			}
		}
	}
	return nil, false
}

func compare(v float64, op string, bound float64) bool {
	switch op {
	case ">=":
		return v >= bound
	case ">":
		return v > bound
	case "<=":
		return v <= bound
	case "<":
		return v < bound
	default: // ==
		return v == bound
	}
}

// percentile is the nearest-rank p-th percentile of xs: a value that
// occurred, as stats computes it.
func percentile(xs []float64, p float64) float64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	rank := int(math.Ceil(p / 100 * float64(len(c))))
	return c[max(rank, 1)-1]
}

func ptr(f float64) *float64 { return &f }

// roundMicro rounds seconds to the run file's precision.
func roundMicro(sec float64) float64 { return math.Round(sec*1e6) / 1e6 }

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func signed(f float64) string {
	if f >= 0 {
		return "+" + num(f)
	}
	return num(f)
}

// dur prints seconds as a duration to the millisecond.
func dur(sec float64) string {
	return time.Duration(sec * float64(time.Second)).Round(time.Millisecond).String()
}
