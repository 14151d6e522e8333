//go:build tzdata || timetzdata

package main

// Embedding the zone database (about 450 kB) lets time.LoadLocation work on
// bases without /usr/share/zoneinfo; the system copy still wins when present.
// "timetzdata" is the standard library's own tag for the same thing.
import _ "time/tzdata"

const tzdataEmbedded = true
