package setup

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The environment variables Tracker reads itself. The OTLP exporters also
// read the rest of the OTEL_EXPORTER_OTLP_* family (headers, timeout,
// compression, certificates, insecure) on their own; see docs/backends.md.
const (
	envTracesExporter      = "OTEL_TRACES_EXPORTER"
	envEndpoint            = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envTracesEndpoint      = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envProtocol            = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envTracesProtocol      = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	envInsecure            = "OTEL_EXPORTER_OTLP_INSECURE"
	envTracesInsecure      = "OTEL_EXPORTER_OTLP_TRACES_INSECURE"
	envServiceName         = "OTEL_SERVICE_NAME"
	envResourceAttributes  = "OTEL_RESOURCE_ATTRIBUTES"
	optionDefaultExporters = "WithDefaultExporters"
)

// Exporter names accepted in OTEL_TRACES_EXPORTER and WithDefaultExporters.
const (
	// ExporterOTLP sends spans over OTLP (otlptracehttp or otlptracegrpc,
	// as OTEL_EXPORTER_OTLP_PROTOCOL says) through a batch span processor.
	ExporterOTLP = "otlp"
	// ExporterConsole writes spans as indented JSON to standard output (or
	// the writer given with WithConsoleWriter) through a simple span
	// processor, so they appear as each span ends.
	ExporterConsole = "console"
	// ExporterJSONRun is the run-file exporter. It is always on: naming it
	// is accepted and changes nothing.
	ExporterJSONRun = "jsonrun"
	// ExporterNone, alone, selects no exporter beyond the run files.
	ExporterNone = "none"
)

// Protocols accepted in OTEL_EXPORTER_OTLP_PROTOCOL and
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL.
const (
	protoHTTPProtobuf = "http/protobuf"
	protoHTTPJSON     = "http/json"
	protoGRPC         = "grpc"
)

var exporterNames = []string{ExporterOTLP, ExporterConsole, ExporterJSONRun, ExporterNone}

// EnvError reports an environment variable (or the option standing in for
// one) whose value Tracker cannot use. Its message is one line that names
// the variable:
//
//	setup: OTEL_TRACES_EXPORTER: unknown exporter "otlpp" (want otlp, console, jsonrun, none)
//
// An EnvError is a plain value, safe for concurrent use.
type EnvError struct {
	Var    string // the variable, such as "OTEL_TRACES_EXPORTER"
	Value  string // its value as read
	Reason string // what is wrong with it
}

func (e *EnvError) Error() string { return "setup: " + e.Var + ": " + e.Reason }

// envConfig is what the environment selects, validated.
type envConfig struct {
	otlp     bool
	console  bool
	protocol string // one of the proto* constants; set when otlp is
	// plaintext: no endpoint and no INSECURE variable is set, so the OTLP
	// exporter must be told to use the specification's default endpoint,
	// http://localhost:4318 (4317 for gRPC), without TLS: left alone, the
	// Go exporters would speak TLS to localhost.
	plaintext bool
}

// readEnv reads and validates the exporter selection. defaults is the list
// used when OTEL_TRACES_EXPORTER is unset or empty (nil: the run file
// alone). Endpoints and protocol are checked only when OTLP is selected:
// they concern no one else.
func readEnv(getenv func(string) string, defaults []string) (envConfig, error) {
	var c envConfig
	list, source := getenv(envTracesExporter), envTracesExporter
	if strings.TrimSpace(list) == "" {
		list, source = strings.Join(defaults, ","), optionDefaultExporters
	}
	names, err := parseExporters(list)
	if err != nil {
		return c, &EnvError{Var: source, Value: list, Reason: err.Error()}
	}
	c.otlp = slices.Contains(names, ExporterOTLP)
	c.console = slices.Contains(names, ExporterConsole)
	if !c.otlp {
		return c, nil
	}

	c.protocol = protoHTTPProtobuf
	for _, name := range []string{envProtocol, envTracesProtocol} { // the signal's own wins
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		switch p := strings.ToLower(v); p {
		case protoHTTPProtobuf, protoHTTPJSON, protoGRPC:
			c.protocol = p
		default:
			return c, &EnvError{Var: name, Value: v, Reason: fmt.Sprintf(
				"unknown protocol %q (want %s, %s or %s)", v, protoHTTPProtobuf, protoGRPC, protoHTTPJSON)}
		}
	}
	c.plaintext = true
	for _, name := range []string{envEndpoint, envTracesEndpoint} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		c.plaintext = false
		if reason := checkEndpoint(v); reason != "" {
			return c, &EnvError{Var: name, Value: v, Reason: reason}
		}
	}
	for _, name := range []string{envInsecure, envTracesInsecure} {
		if strings.TrimSpace(getenv(name)) != "" {
			c.plaintext = false
		}
	}
	return c, nil
}

// parseExporters splits a comma-separated exporter list, ignoring case,
// spaces, empty items and repeats, and rejects unknown names and "none"
// next to another exporter.
func parseExporters(list string) ([]string, error) {
	var names []string
	for item := range strings.SplitSeq(list, ",") {
		name := strings.ToLower(strings.TrimSpace(item))
		if name == "" || slices.Contains(names, name) {
			continue
		}
		if !slices.Contains(exporterNames, name) {
			return nil, fmt.Errorf("unknown exporter %q (want %s)", strings.TrimSpace(item), strings.Join(exporterNames, ", "))
		}
		names = append(names, name)
	}
	if slices.Contains(names, ExporterNone) && len(names) > 1 {
		return nil, errors.New(`"none" cannot be combined with other exporters`)
	}
	return names, nil
}

// checkEndpoint returns why v is not an OTLP endpoint URL, or "". The
// OpenTelemetry specification wants a URL with an http or https scheme; the
// OTLP exporters skip, with no more than a log line, a value they cannot
// parse, which would send spans to the default endpoint without a word.
func checkEndpoint(v string) string {
	const example = " (for example http://localhost:4318)"
	if !strings.Contains(v, "://") {
		return fmt.Sprintf("%q has no scheme: want http:// or https://%s", v, example)
	}
	u, err := url.Parse(v)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Sprintf("%q is not a URL: %v", v, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Sprintf("%q has scheme %q: want http:// or https://%s", v, u.Scheme, example)
	}
	if u.Hostname() == "" {
		return fmt.Sprintf("%q has no host%s", v, example)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%q has port %s, outside 1-65535", v, p)
		}
	}
	return ""
}
