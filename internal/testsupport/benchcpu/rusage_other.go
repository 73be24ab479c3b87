//go:build !unix

package benchcpu

import "time"

const supported = false

func processTime() time.Duration { return 0 }

func childrenTime() time.Duration { return 0 }
