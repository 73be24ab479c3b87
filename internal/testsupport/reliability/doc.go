// Package reliability holds the child programs and checks behind the crash,
// signal and multi-process tests of docs/reliability.md: a test binary (or
// the crashstress program) re-executes itself in a child mode, and the
// parent kills, signals or waits for it, then checks what is on disk.
package reliability
