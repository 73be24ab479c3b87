//go:build unix

package fsutil

import (
	"os"
	"syscall"
)

// SameDevice reports whether a and b, which exist, are on one file
// system, so that a file renamed from one to the other stays whole.
func SameDevice(a, b string) bool {
	fa, erra := os.Stat(a)
	fb, errb := os.Stat(b)
	if erra != nil || errb != nil {
		return false
	}
	sa, oka := fa.Sys().(*syscall.Stat_t)
	sb, okb := fb.Sys().(*syscall.Stat_t)
	return oka && okb && sa.Dev == sb.Dev
}
