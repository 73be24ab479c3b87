//go:build !unix

package benchcpu

import "time"

const supported = false

func processTime() time.Duration { return 0 }
