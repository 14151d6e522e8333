//go:build !tzdata && !timetzdata

package main

// Without -tags tzdata, time.LoadLocation needs zoneinfo from the base image.
const tzdataEmbedded = false
